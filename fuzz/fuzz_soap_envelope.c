/*
 * Fuzz target for soap_parse and its accessors (SECURITY.md S10). The
 * input is a whole request body. After a successful parse every element
 * under the operation is read with every typed getter, and the promises
 * of soap_parse.h are checked: limits hold in the tree, slices are
 * NUL-terminated and bounded, typed values round-trip through the writer
 * (soap_emit.h) and parse back equal, arrays count what they iterate.
 * A broken promise traps, which libFuzzer and the corpus replay report
 * as a crash.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/sbuf.h"
#include "soap/soap_emit.h"
#include "soap/soap_fault.h"
#include "soap/soap_parse.h"

#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			__builtin_trap();                                      \
	} while (0)

/* Round trips cost a parse each; a few hundred keep runs fast. */
#define MAX_ROUNDTRIPS 256

static unsigned roundtrips;

/* A getter's answer must be one of the documented codes. */
static void
check_rc(int rc, const struct wsd_err *e)
{
	CHECK(rc == 0 || rc == WSD_EINVAL || rc == WSD_ETOOBIG ||
	    rc == WSD_ENOTFOUND);
	CHECK(rc == 0 || e->what != NULL);
}

/*
 * Writes <R xmlns="urn:r"><v>TEXT</v></R> with the writer, parses it
 * back and checks the text survived exactly: the writer's escaping and
 * the parser agree on every string the parser can produce.
 */
static void
roundtrip_text(struct sv text)
{
	struct soap_writer w;
	struct soap_doc d;
	struct wsd_err e;
	struct sbuf sb;
	struct sv back;
	int rc;

	if (roundtrips++ >= MAX_ROUNDTRIPS)
		return;
	sbuf_init(&sb, 8 * WSD_MAX_XML_TEXT);
	rc = soap_emit_begin(&w, &sb, SOAP_STYLE_WCF);
	if (rc == 0)
		rc = soap_emit_open_ns(&w, "R", "urn:r");
	if (rc == 0)
		rc = soap_emit_strn(&w, "v", text.p, text.n);
	if (rc == 0)
		rc = soap_emit_close(&w, "R");
	if (rc == 0)
		rc = soap_emit_end(&w);
	/* Parsed text is always writable. */
	CHECK(rc == 0);
	rc = soap_parse(sb.sb_buf, sb.sb_len, &d, &e);
	/* A value near the text limit may not fit again once escaped. */
	if (rc == WSD_ETOOBIG) {
		sbuf_release(&sb);
		return;
	}
	CHECK(rc == 0);
	CHECK(strcmp(d.sd_op_name, "R") == 0);
	CHECK(soap_get_str(soap_child(&d, soap_op(&d), "v"), SIZE_MAX, &back,
		  &e) == 0);
	CHECK(back.n == text.n && memcmp(back.p, text.p, text.n) == 0);
	soap_doc_release(&d);
	sbuf_release(&sb);
}

static void
check_values(const struct soap_elem *el)
{
	struct soap_datetime dt, dt2;
	unsigned char b64[512];
	char guid[37], buf[SOAP_DATETIME_MAX], num[32];
	struct wsd_err e = { WSD_OK, NULL };
	struct sv s;
	int32_t i32, i32b;
	int64_t i64, i64b;
	size_t n;
	bool b;
	int rc;

	rc = soap_get_str(el, SIZE_MAX, &s, &e);
	CHECK(rc != WSD_EINTERNAL);
	check_rc(rc, &e);
	if (rc != 0)
		return;
	CHECK(s.p != NULL && s.p[s.n] == '\0' && strlen(s.p) == s.n);
	CHECK(s.n <= WSD_MAX_XML_TEXT);
	if (s.n > 0 && soap_get_str(el, s.n - 1, &s, &e) != WSD_ETOOBIG)
		__builtin_trap();
	roundtrip_text(s);

	if ((rc = soap_get_i32(el, &i32, &e)) == 0) {
		snprintf(num, sizeof(num), "%" PRId32, i32);
		CHECK(soap_xs_i32(sv_from_cstr(num), &i32b, &e) == 0 &&
		    i32b == i32);
		CHECK(soap_get_i64(el, &i64, &e) == 0 && i64 == i32);
	}
	check_rc(rc, &e);
	if ((rc = soap_get_i64(el, &i64, &e)) == 0) {
		snprintf(num, sizeof(num), "%" PRId64, i64);
		CHECK(soap_xs_i64(sv_from_cstr(num), &i64b, &e) == 0 &&
		    i64b == i64);
	}
	check_rc(rc, &e);
	check_rc(soap_get_bool(el, &b, &e), &e);
	if ((rc = soap_get_datetime(el, &dt, &e)) == 0) {
		int len = soap_datetime_format(&dt, buf);

		CHECK(dt.dt_frac <= 9999999);
		CHECK(len > 0 && (size_t)len < sizeof(buf));
		CHECK(soap_datetime_parse(sv_from_cstr(buf), &dt2, &e) == 0);
		CHECK(dt2.dt_sec == dt.dt_sec && dt2.dt_frac == dt.dt_frac);
	}
	check_rc(rc, &e);
	if ((rc = soap_get_guid(el, guid, &e)) == 0) {
		CHECK(strlen(guid) == 36);
		for (int i = 0; i < 36; i++)
			CHECK((i == 8 || i == 13 || i == 18 || i == 23)
				? guid[i] == '-'
				: ((guid[i] >= '0' && guid[i] <= '9') ||
				      (guid[i] >= 'a' && guid[i] <= 'f')));
	}
	check_rc(rc, &e);
	if ((rc = soap_get_b64(el, b64, sizeof(b64), &n, &e)) == 0)
		CHECK(n <= sizeof(b64));
	check_rc(rc, &e);
}

/* Depth of EL's subtree, EL counting 1; visits every element below. */
static unsigned
walk(const struct soap_doc *d, const struct soap_elem *el, unsigned level)
{
	const struct soap_elem *c, *first = soap_elem_first(el);
	unsigned deepest = 1;

	CHECK(level <= WSD_MAX_XML_DEPTH);
	CHECK(soap_elem_name(el) != NULL && soap_elem_name(el)[0] != '\0');
	CHECK(soap_elem_ns(el) != NULL);
	(void)soap_is_nil(el); /* must not crash; any answer is valid */
	check_values(el);

	if (first != NULL) {
		const char *item = soap_elem_name(first);
		struct soap_iter it;
		struct soap_seq q;
		struct wsd_err e = { WSD_OK, NULL };
		size_t count = 0, seen = 0;
		int rc;

		/* soap_child finds an element of that name in the op's ns. */
		c = soap_child(d, el, item);
		if (c != NULL) {
			CHECK(strcmp(soap_elem_name(c), item) == 0);
			CHECK(strcmp(soap_elem_ns(c), d->sd_op_ns) == 0);
			soap_seq_init(&q, d, el);
			CHECK(soap_seq_take(&q, item) == c);
		}
		rc = soap_array_begin(d, el, item, 8, &it, &count, &e);
		CHECK(rc == 0 || rc == WSD_ETOOBIG);
		if (rc == 0) {
			CHECK(count <= 8);
			while ((c = soap_iter_next(&it)) != NULL) {
				CHECK(strcmp(soap_elem_name(c), item) == 0);
				seen++;
			}
			CHECK(seen == count);
		}
	}
	for (c = first; c != NULL; c = soap_elem_next(c)) {
		unsigned sub = walk(d, c, level + 1);

		if (sub + 1 > deepest)
			deepest = sub + 1;
	}
	return deepest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wsd_err e = { WSD_OK, NULL };
	char action[1024];
	struct soap_doc d;
	struct sbuf sb;
	int rc;

	roundtrips = 0;
	memset(&d, 0xa5, sizeof(d)); /* garbage: soap_parse must set all */
	rc = soap_parse((const char *)data, size, &d, &e);
	CHECK(rc == 0 || rc == WSD_EINVAL || rc == WSD_ETOOBIG ||
	    rc == WSD_ENOMEM);
	if (rc != 0) {
		CHECK(e.code == rc && e.what != NULL);
		CHECK(d.sd_xml == NULL && d.sd_op == NULL);
		CHECK(d.sd_fault == SOAP_ERRC_CLIENT_MALFORMED ||
		    d.sd_fault == SOAP_ERRC_VERSION_MISMATCH ||
		    d.sd_fault == SOAP_ERRC_MUST_UNDERSTAND ||
		    (rc == WSD_ENOMEM &&
			d.sd_fault == SOAP_ERRC_INTERNAL_SERVER_ERROR));
		soap_doc_release(&d);
		soap_doc_release(&d);
		return 0;
	}
	CHECK(d.sd_fault == SOAP_ERRC_NONE && d.sd_op == soap_op(&d));
	CHECK(d.sd_op_name != NULL && d.sd_op_ns != NULL);
	CHECK(strcmp(d.sd_op_name, soap_elem_name(d.sd_op)) == 0);
	CHECK(d.sd_nodes <= WSD_MAX_XML_NODES);
	/* Envelope and Body sit above the operation. */
	CHECK(walk(&d, d.sd_op, 3) + 2 <= WSD_MAX_XML_DEPTH);

	/* The action the client should have sent matches; others do not. */
	if (snprintf(action, sizeof(action), "\"%s/%s\"", d.sd_op_ns,
		d.sd_op_name) < (int)sizeof(action)) {
		CHECK(soap_action_matches(action, strlen(action), d.sd_op_ns,
		    d.sd_op_name));
		CHECK(!soap_action_matches(action, strlen(action) - 2,
		    d.sd_op_ns, d.sd_op_name));
	}

	/* A fault naming the operation parses back as a SOAP 1.1 Fault. */
	sbuf_init(&sb, 64 * 1024);
	if (soap_fault_build_id(&sb, SOAP_STYLE_ASMX,
		SOAP_ERRC_INVALID_PARAMETERS, d.sd_op_name, d.sd_op_name,
		"http://127.0.0.1/x",
		"00000000-0000-0000-0000-000000000000") == 0) {
		struct soap_doc f;

		CHECK(soap_parse(sb.sb_buf, sb.sb_len, &f, &e) == 0);
		CHECK(strcmp(f.sd_op_name, "Fault") == 0);
		CHECK(strcmp(f.sd_op_ns, SOAP_NS_ENVELOPE) == 0);
		soap_doc_release(&f);
	}
	sbuf_release(&sb);
	soap_doc_release(&d);
	return 0;
}
