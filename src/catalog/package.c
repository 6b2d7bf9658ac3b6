/*
 * package: writer and bounded two-pass reader of the export/import format
 * (package.h; docs/PACKAGE.md).
 */
#include "catalog/package.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/xmlreader.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "catalog/fragment.h"
#include "common/encode.h"
#include "common/sbuf.h"
#include "common/xmlesc.h"
#include "store/store.h"

#define ROOT_PREFIX  "<WsusdPackage version=\""
#define MANIFEST_TAG "<Manifest "
#define END_TAG      "</WsusdPackage>\n"
#define IO_BUF       (64 * 1024)
#define ARENA_BLOCK  (64 * 1024)
/* base64 of one Chunk (PKG_CHUNK_BYTES), exactly 1 MiB. */
#define CHUNK_TEXT_MAX (PKG_CHUNK_BYTES / 3 * 4)

enum section {
	S_HEAD = 0,
	S_GROUPS,
	S_UPDATES,
	S_APPROVALS,
	S_CONTENTS,
	S_MANIFEST,
	S_SIGNATURE,
	S_END,
};

void
pkg_limits_default(struct pkg_limits *lim)
{
	*lim = (struct pkg_limits){
		.max_metadata = PKG_MAX_METADATA_BYTES,
		.max_content = PKG_MAX_CONTENT_BYTES,
		.max_content_file = PKG_MAX_CONTENT_FILE,
		.max_ratio = PKG_MAX_RATIO,
		.ratio_grace = PKG_RATIO_GRACE,
		.max_updates = PKG_MAX_UPDATES,
		.max_revisions = PKG_MAX_REVISIONS,
		.max_groups = PKG_MAX_GROUPS,
		.max_approvals = PKG_MAX_APPROVALS,
		.max_contents = PKG_MAX_CONTENTS,
		.max_files = PKG_MAX_FILES,
		.max_revision_bytes = PKG_MAX_REVISION_BYTES,
		.max_fragment = WSD_MAX_FRAGMENT_BYTES,
		.max_string = PKG_MAX_STRING,
		.max_localized = PKG_MAX_LOCALIZED,
		.max_categories = PKG_MAX_CATEGORIES,
		.max_relations = WSD_MAX_FRAGMENT_RELATIONSHIPS,
		.max_rev_files = WSD_MAX_FRAGMENT_FILES,
	};
}

void
pkg_manifest_release(struct pkg_manifest *m)
{
	if (m == NULL)
		return;
	free(m->cert);
	free(m->sig);
	m->cert = m->sig = NULL;
	m->cert_len = m->sig_len = 0;
}

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */

/* clang-format off */
static const signed char b64_val[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
/* clang-format on */

/*
 * Strict padded base64 (RFC 4648 section 4): LEN a multiple of 4, only
 * the alphabet, "=" only as the last one or two characters, unused bits
 * zero (one encoding per byte string). OUT needs LEN / 4 * 3 bytes.
 */
static int
b64_decode_strict(const char *in, size_t len, unsigned char *out,
    size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int a = b64_val[s[i]], b = b64_val[s[i + 1]];
		int c = b64_val[s[i + 2]], d = b64_val[s[i + 3]];

		if ((a | b | c | d) >= 0) {
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
			out[o++] = (unsigned char)((c & 3) << 6 | d);
			continue;
		}
		if (i + 4 != len || a < 0 || b < 0 || s[i + 3] != '=')
			return -1;
		if (s[i + 2] == '=') {
			if (b & 15)
				return -1;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
		} else {
			if (c < 0 || (c & 3))
				return -1;
			out[o++] = (unsigned char)(a << 2 | b >> 4);
			out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
		}
	}
	*outlen = o;
	return 0;
}

/* A GUID in either case: its lower-case form and its 16 bytes. */
static int
guid_parse(const char *s, char norm[37], unsigned char bin[16])
{
	if (s == NULL || guid_normalize(s, norm) < 0)
		return -1;
	for (int i = 0, o = 0; i < 36; i++) {
		if (norm[i] == '-')
			continue;
		if (hex_decode(norm + i, 2, bin + o, 1) < 0)
			return -1;
		o++;
		i++;
	}
	return 0;
}

static const char *const update_types[] = { "Software", "Driver", "Category",
	"Detectoid", NULL };
static const char *const category_types[] = { "Company", "ProductFamily",
	"Product", "UpdateClassification", NULL };
static const char *const actions[] = { "Install", "Uninstall", "NotApproved",
	NULL };

static bool
in_set(const char *v, const char *const *set)
{
	for (; v != NULL && *set != NULL; set++)
		if (strcmp(v, *set) == 0)
			return true;
	return false;
}

/* Deadlines exactly as the store writes them: YYYY-MM-DDTHH:MM:SSZ, so
 * that a second import compares equal and changes nothing. */
static bool
deadline_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	int mo, d, h, mi, sec;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9')
				    : s[i] != shape[i])
			return false;
	mo = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	h = (s[11] - '0') * 10 + (s[12] - '0');
	mi = (s[14] - '0') * 10 + (s[15] - '0');
	sec = (s[17] - '0') * 10 + (s[18] - '0');
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 &&
	    mi <= 59 && sec <= 59;
}

/* bsearch that takes an empty (possibly NULL) array. */
static void *
bfind(const void *key, const void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	return n == 0 ? NULL : bsearch(key, base, n, size, cmp);
}

static int
grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t nc;
	void *p;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap : 16;
	while (nc < need)
		nc *= 2;
	if ((p = realloc(*arr, nc * elem)) == NULL)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */

struct pkg_writer {
	int fd;
	z_stream z;
	bool z_ok;
	int level;
	EVP_MD_CTX *md;
	unsigned char stage[IO_BUF]; /* hashed, not yet deflated */
	size_t stage_len;
	unsigned char out[IO_BUF]; /* deflated, not yet written */
	uint64_t bytes;            /* document bytes before the manifest */
	uint64_t n_updates, n_revisions, n_groups, n_approvals, n_contents;
	uint64_t compressed;
	enum section sec;
	bool approvals, content;
	char cur[37];     /* update being written; "" before the first */
	int64_t last_rev; /* its last revision number */
	uint32_t cur_revs;
	char *b64; /* scratch for base64 */
	size_t b64_cap;
	struct pkg_limits lim;
	int rc; /* sticky: once failed, every call fails */
};

static int
w_fail(struct pkg_writer *w, struct wsd_err *err, int code, const char *what)
{
	if (w->rc == 0)
		w->rc = code;
	return wsd_fail(err, code, what);
}

static int
w_write_out(struct pkg_writer *w, struct wsd_err *err)
{
	size_t n = sizeof(w->out) - w->z.avail_out, off = 0;

	while (off < n) {
		ssize_t r = write(w->fd, w->out + off, n - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return w_fail(w, err, WSD_EIO,
			    "cannot write the package");
		off += (size_t)r;
	}
	w->compressed += n;
	w->z.next_out = w->out;
	w->z.avail_out = sizeof(w->out);
	return 0;
}

/* Deflates P (N bytes) with FLUSH, writing full buffers out. */
static int
w_deflate(struct pkg_writer *w, const void *p, size_t n, int flush,
    struct wsd_err *err)
{
	int zr;

	w->z.next_in = (Bytef *)(uintptr_t)p;
	w->z.avail_in = (uInt)n;
	for (;;) {
		zr = deflate(&w->z, flush);
		if (zr == Z_STREAM_ERROR)
			return w_fail(w, err, WSD_EINTERNAL, "deflate failed");
		if (w->z.avail_out == 0 && w_write_out(w, err) < 0)
			return w->rc;
		if (flush == Z_FINISH) {
			if (zr == Z_STREAM_END)
				break;
			continue;
		}
		if (w->z.avail_in == 0 && w->z.avail_out != 0)
			break;
	}
	return 0;
}

static int
w_flush_stage(struct pkg_writer *w, struct wsd_err *err)
{
	int rc;

	if (w->stage_len == 0)
		return 0;
	if (EVP_DigestUpdate(w->md, w->stage, w->stage_len) != 1)
		return w_fail(w, err, WSD_EINTERNAL, "SHA-256 failed");
	rc = w_deflate(w, w->stage, w->stage_len, Z_NO_FLUSH, err);
	w->stage_len = 0;
	return rc;
}

/* Document bytes (hashed: everything before the manifest). */
static int
w_put(struct pkg_writer *w, const void *p, size_t n, struct wsd_err *err)
{
	if (w->rc < 0)
		return wsd_fail(err, w->rc, "package writer failed before");
	w->bytes += n;
	if (n > sizeof(w->stage) - w->stage_len) {
		if (w_flush_stage(w, err) < 0)
			return w->rc;
		if (n >= sizeof(w->stage) / 2) {
			if (EVP_DigestUpdate(w->md, p, n) != 1)
				return w_fail(w, err, WSD_EINTERNAL,
				    "SHA-256 failed");
			return w_deflate(w, p, n, Z_NO_FLUSH, err);
		}
	}
	memcpy(w->stage + w->stage_len, p, n);
	w->stage_len += n;
	return 0;
}

static int
w_puts(struct pkg_writer *w, const char *s, struct wsd_err *err)
{
	return w_put(w, s, strlen(s), err);
}

struct w_esc {
	struct pkg_writer *w;
	struct wsd_err *err;
};

static int
w_put_esc(void *ctx, const char *s, size_t n)
{
	struct w_esc *e = ctx;

	return w_put(e->w, s, n, e->err);
}

/* ' NAME="VALUE"' with VALUE escaped (tab, LF, CR as references, so
 * attribute normalisation cannot change them). VALUE is checked whole
 * first: valid UTF-8, no C0 control but tab, LF and CR, no U+FFFE or
 * U+FFFF, so a refused string writes nothing. */
static int
w_attr(struct pkg_writer *w, const char *name, const char *value,
    struct wsd_err *err)
{
	struct w_esc e = { w, err };
	size_t n = strlen(value);
	int rc;

	if (n > w->lim.max_string)
		return w_fail(w, err, WSD_ETOOBIG,
		    "string longer than 64 KiB (PKG_MAX_STRING)");
	if (xmlesc_check(value, n, 0) != XMLESC_OK)
		return w_fail(w, err, WSD_EINVAL,
		    "string is not valid UTF-8 or has control characters");
	if ((rc = w_puts(w, " ", err)) < 0 || (rc = w_puts(w, name, err)) < 0 ||
	    (rc = w_puts(w, "=\"", err)) < 0 ||
	    (rc = xmlesc_put(value, n, XMLESC_QUOT | XMLESC_WS, w_put_esc, &e,
		 NULL)) < 0)
		return rc;
	return w_puts(w, "\"", err);
}

static int
w_attr_u64(struct pkg_writer *w, const char *name, uint64_t v,
    struct wsd_err *err)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return w_attr(w, name, buf, err);
}

static int
w_attr_bool(struct pkg_writer *w, const char *name, bool v, struct wsd_err *err)
{
	return w_attr(w, name, v ? "true" : "false", err);
}

static int
w_attr_hex(struct pkg_writer *w, const char *name, const unsigned char *p,
    size_t n, struct wsd_err *err)
{
	char buf[65];

	hex_encode_upper(p, n, buf);
	return w_attr(w, name, buf, err);
}

/* <NAME>base64 of P</NAME>\n */
static int
w_b64_elem(struct pkg_writer *w, const char *open, const char *close,
    const void *p, size_t n, struct wsd_err *err)
{
	size_t need = 4 * ((n + 2) / 3) + 1;
	int rc;

	if (need > w->b64_cap) {
		char *nb = realloc(w->b64, need);

		if (nb == NULL)
			return w_fail(w, err, WSD_ENOMEM, "out of memory");
		w->b64 = nb;
		w->b64_cap = need;
	}
	b64_encode(p, n, w->b64);
	if ((rc = w_puts(w, open, err)) < 0 ||
	    (rc = w_put(w, w->b64, need - 1, err)) < 0)
		return rc;
	return w_puts(w, close, err);
}

int
pkg_writer_open(struct pkg_writer **out, int fd, const struct pkg_header *hdr,
    struct wsd_err *err)
{
	struct pkg_writer *w;
	int rc;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	w->fd = fd;
	w->approvals = hdr->approvals;
	w->content = hdr->content;
	w->last_rev = -1;
	pkg_limits_default(&w->lim);
	/* Level 3: most of level 6's size at about twice its speed on
	 * base64 metadata (the 100,000-update bench catalog). */
	w->level = 3;
	if (deflateInit2(&w->z, w->level, Z_DEFLATED, 16 + MAX_WBITS, 8,
		Z_DEFAULT_STRATEGY) != Z_OK) {
		free(w);
		return wsd_fail(err, WSD_ENOMEM, "cannot start deflate");
	}
	w->z_ok = true;
	w->z.next_out = w->out;
	w->z.avail_out = sizeof(w->out);
	if ((w->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1) {
		pkg_writer_free(w);
		return wsd_fail(err, WSD_ENOMEM, "cannot start SHA-256");
	}
	/* The version comes first, where pass 1 reads it (docs/PACKAGE.md). */
	if ((rc = w_puts(w, ROOT_PREFIX, err)) < 0 ||
	    (rc = w_puts(w, "1\"", err)) < 0 ||
	    (rc = w_attr(w, "created", hdr->created ? hdr->created : "", err)) <
		0 ||
	    (rc = w_attr(w, "exporter", hdr->exporter ? hdr->exporter : "",
		 err)) < 0 ||
	    (rc = w_attr_bool(w, "approvals", hdr->approvals, err)) < 0 ||
	    (rc = w_attr_bool(w, "content", hdr->content, err)) < 0 ||
	    (rc = w_puts(w, ">\n", err)) < 0) {
		pkg_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void
pkg_writer_free(struct pkg_writer *w)
{
	if (w == NULL)
		return;
	if (w->z_ok)
		deflateEnd(&w->z);
	EVP_MD_CTX_free(w->md);
	free(w->b64);
	free(w);
}

/* Moves to section S, closing an open <Update> when leaving updates. */
static int
w_section(struct pkg_writer *w, enum section s, struct wsd_err *err)
{
	int rc;

	if (w->rc < 0)
		return wsd_fail(err, w->rc, "package writer failed before");
	if (s < w->sec)
		return w_fail(w, err, WSD_EINVAL,
		    "package records out of order");
	if (w->sec == S_UPDATES && s > S_UPDATES && w->cur[0] != '\0') {
		if ((rc = w_puts(w, "</Update>\n", err)) < 0)
			return rc;
		w->cur[0] = '\0';
	}
	w->sec = s;
	return 0;
}

int
pkg_write_group(struct pkg_writer *w, const struct pkg_group *g,
    struct wsd_err *err)
{
	char id[37], parent[37];
	unsigned char b[16];
	int rc;

	if (!w->approvals)
		return w_fail(w, err, WSD_EINVAL,
		    "groups in a package without approvals");
	if (guid_parse(g->id, id, b) < 0 ||
	    (g->parent != NULL && guid_parse(g->parent, parent, b) < 0))
		return w_fail(w, err, WSD_EINVAL, "malformed group id");
	if (g->name == NULL || g->name[0] == '\0' ||
	    strlen(g->name) > STORE_MAX_NAME)
		return w_fail(w, err, WSD_EINVAL, "bad group name");
	if (w->n_groups >= w->lim.max_groups)
		return w_fail(w, err, WSD_ETOOBIG,
		    "more groups than a package holds (PKG_MAX_GROUPS)");
	if ((rc = w_section(w, S_GROUPS, err)) < 0 ||
	    (rc = w_puts(w, "<Group", err)) < 0 ||
	    (rc = w_attr(w, "id", id, err)) < 0 ||
	    (rc = w_attr(w, "name", g->name, err)) < 0 ||
	    (g->parent != NULL &&
		(rc = w_attr(w, "parent", parent, err)) < 0) ||
	    (rc = w_puts(w, "/>\n", err)) < 0)
		return rc;
	w->n_groups++;
	return 0;
}

static int
w_update_open(struct pkg_writer *w, const struct store_revision_in *rv,
    const char *id, bool declined, struct wsd_err *err)
{
	int rc;

	if (w->cur[0] != '\0' && (rc = w_puts(w, "</Update>\n", err)) < 0)
		return rc;
	if (w->n_updates >= w->lim.max_updates)
		return w_fail(w, err, WSD_ETOOBIG,
		    "more updates than a package holds (PKG_MAX_UPDATES)");
	if ((rc = w_puts(w, "<Update", err)) < 0 ||
	    (rc = w_attr(w, "id", id, err)) < 0 ||
	    (rc = w_attr(w, "type", rv->update_type, err)) < 0 ||
	    (rv->category_type != NULL &&
		(rc = w_attr(w, "categoryType", rv->category_type, err)) < 0) ||
	    (rc = w_attr_bool(w, "declined", declined, err)) < 0 ||
	    (rc = w_attr(w, "origin", rv->origin ? rv->origin : "import",
		 err)) < 0 ||
	    (rc = w_puts(w, ">\n", err)) < 0)
		return rc;
	memcpy(w->cur, id, 37);
	w->last_rev = -1;
	w->cur_revs = 0;
	w->n_updates++;
	return 0;
}

static int
w_guid_elem(struct pkg_writer *w, const char *open, const char *guid,
    struct wsd_err *err)
{
	char id[37];
	unsigned char b[16];
	int rc;

	if (guid_parse(guid, id, b) < 0)
		return w_fail(w, err, WSD_EINVAL,
		    "malformed GUID in relationships");
	if ((rc = w_puts(w, open, err)) < 0 ||
	    (rc = w_attr(w, "id", id, err)) < 0)
		return rc;
	return w_puts(w, "/>\n", err);
}

int
pkg_write_revision(struct pkg_writer *w, const struct store_revision_in *rv,
    bool declined, struct wsd_err *err)
{
	char id[37], num[16];
	unsigned char b[16];
	int rc;

	if (guid_parse(rv->update_id, id, b) < 0)
		return w_fail(w, err, WSD_EINVAL, "malformed UpdateID");
	if (!in_set(rv->update_type, update_types) ||
	    (strcmp(rv->update_type, "Category") == 0) !=
		(rv->category_type != NULL) ||
	    (rv->category_type != NULL &&
		!in_set(rv->category_type, category_types)))
		return w_fail(w, err, WSD_EINVAL,
		    "bad update or category type");
	if (rv->revision_number < 0 || rv->xml_core == NULL ||
	    rv->xml_core_len == 0)
		return w_fail(w, err, WSD_EINVAL,
		    "revision without core metadata");
	if (rv->xml_core_len > w->lim.max_fragment ||
	    (rv->xml_extended && rv->xml_extended_len > w->lim.max_fragment))
		return w_fail(w, err, WSD_ETOOBIG,
		    "fragment larger than 1 MiB (WSD_MAX_FRAGMENT_BYTES)");
	if (rv->n_localized > w->lim.max_localized ||
	    rv->n_files > w->lim.max_rev_files ||
	    rv->n_categories > w->lim.max_categories ||
	    (uint64_t)rv->n_prereqs + rv->n_bundle + rv->n_supersedes >
		w->lim.max_relations)
		return w_fail(w, err, WSD_ETOOBIG,
		    "revision has more entries than a package holds");
	if ((rc = w_section(w, S_UPDATES, err)) < 0)
		return rc;
	if (strcmp(w->cur, id) != 0) {
		if ((rc = w_update_open(w, rv, id, declined, err)) < 0)
			return rc;
	} else if (rv->revision_number <= w->last_rev) {
		return w_fail(w, err, WSD_EINVAL, "revisions out of order");
	}
	if (w->cur_revs >= w->lim.max_revisions)
		return w_fail(w, err, WSD_ETOOBIG,
		    "more revisions than a package holds (PKG_MAX_REVISIONS)");
	snprintf(num, sizeof(num), "%d", rv->revision_number);
	if ((rc = w_puts(w, "<Revision", err)) < 0 ||
	    (rc = w_attr(w, "number", num, err)) < 0 ||
	    (rc = w_attr_bool(w, "explicitlyDeployable",
		 rv->explicitly_deployable, err)) < 0 ||
	    (rc = w_attr_bool(w, "leaf", rv->is_leaf, err)) < 0 ||
	    (rc = w_attr_bool(w, "bundle", rv->is_bundle, err)) < 0 ||
	    (rv->kb_article &&
		(rc = w_attr(w, "kb", rv->kb_article, err)) < 0) ||
	    (rv->msrc_severity &&
		(rc = w_attr(w, "severity", rv->msrc_severity, err)) < 0) ||
	    (rv->eula_id && (rc = w_attr(w, "eula", rv->eula_id, err)) < 0) ||
	    (rc = w_attr(w, "title", rv->title ? rv->title : "", err)) < 0 ||
	    (rc = w_puts(w, ">\n", err)) < 0 ||
	    (rc = w_b64_elem(w, "<Core>", "</Core>\n", rv->xml_core,
		 rv->xml_core_len, err)) < 0 ||
	    (rv->xml_extended &&
		(rc = w_b64_elem(w, "<Extended>", "</Extended>\n",
		     rv->xml_extended, rv->xml_extended_len, err)) < 0))
		return rc;
	for (unsigned i = 0; i < rv->n_localized; i++) {
		const struct store_localized *l = &rv->localized[i];

		if (l->language == NULL || l->xml == NULL || l->xml_len == 0)
			return w_fail(w, err, WSD_EINVAL,
			    "localized properties without language");
		if (l->xml_len > w->lim.max_fragment)
			return w_fail(w, err, WSD_ETOOBIG,
			    "fragment larger than 1 MiB "
			    "(WSD_MAX_FRAGMENT_BYTES)");
		if ((rc = w_puts(w, "<Localized", err)) < 0 ||
		    (rc = w_attr(w, "lang", l->language, err)) < 0 ||
		    (rc = w_attr(w, "title", l->title ? l->title : "", err)) <
			0 ||
		    (rc = w_b64_elem(w, ">", "</Localized>\n", l->xml,
			 l->xml_len, err)) < 0)
			return rc;
	}
	for (unsigned i = 0; i < rv->n_files; i++) {
		const struct store_file *f = &rv->files[i];

		if ((rc = w_puts(w, "<File", err)) < 0 ||
		    (rc = w_attr_hex(w, "sha1", f->sha1, 20, err)) < 0 ||
		    (f->has_sha256 &&
			(rc = w_attr_hex(w, "sha256", f->sha256, 32, err)) <
			    0) ||
		    (rc = w_attr_u64(w, "size", f->size, err)) < 0 ||
		    (rc = w_attr(w, "name", f->file_name ? f->file_name : "",
			 err)) < 0 ||
		    (rc = w_attr(w, "modified", f->modified ? f->modified : "",
			 err)) < 0 ||
		    (f->patching_type &&
			(rc = w_attr(w, "patching", f->patching_type, err)) <
			    0) ||
		    (rc = w_puts(w, "/>\n", err)) < 0)
			return rc;
	}
	for (unsigned i = 0; i < rv->n_categories; i++)
		if ((rc = w_guid_elem(w, "<Category", rv->categories[i], err)) <
		    0)
			return rc;
	for (unsigned i = 0; i < rv->n_prereqs; i++) {
		const struct store_prereq *p = &rv->prereqs[i];
		char pid[37];

		if (guid_parse(p->update_id, pid, b) < 0)
			return w_fail(w, err, WSD_EINVAL,
			    "malformed UpdateID in prerequisites");
		if ((rc = w_puts(w, "<Prereq", err)) < 0 ||
		    (rc = w_attr_u64(w, "clause", p->clause, err)) < 0 ||
		    (rc = w_attr(w, "id", pid, err)) < 0 ||
		    (rc = w_attr_bool(w, "category", p->is_category, err)) <
			0 ||
		    (rc = w_puts(w, "/>\n", err)) < 0)
			return rc;
	}
	for (unsigned i = 0; i < rv->n_bundle; i++) {
		const struct store_bundle_member *m = &rv->bundle[i];
		char mid[37];

		if (guid_parse(m->update_id, mid, b) < 0 ||
		    m->revision_number < 0)
			return w_fail(w, err, WSD_EINVAL,
			    "malformed bundle member");
		if ((rc = w_puts(w, "<Bundle", err)) < 0 ||
		    (rc = w_attr_u64(w, "clause", m->clause, err)) < 0 ||
		    (rc = w_attr(w, "id", mid, err)) < 0 ||
		    (rc = w_attr_u64(w, "revision",
			 (uint64_t)m->revision_number, err)) < 0 ||
		    (rc = w_puts(w, "/>\n", err)) < 0)
			return rc;
	}
	for (unsigned i = 0; i < rv->n_supersedes; i++)
		if ((rc = w_guid_elem(w, "<Supersedes", rv->supersedes[i],
			 err)) < 0)
			return rc;
	if ((rc = w_puts(w, "</Revision>\n", err)) < 0)
		return rc;
	w->last_rev = rv->revision_number;
	w->cur_revs++;
	w->n_revisions++;
	return 0;
}

int
pkg_write_approval(struct pkg_writer *w, const struct pkg_approval *a,
    struct wsd_err *err)
{
	char uid[37], gid[37];
	unsigned char b[16];
	int rc;

	if (!w->approvals)
		return w_fail(w, err, WSD_EINVAL,
		    "approvals in a package without approvals");
	if (guid_parse(a->update_id, uid, b) < 0 ||
	    guid_parse(a->group_id, gid, b) < 0)
		return w_fail(w, err, WSD_EINVAL, "malformed approval ids");
	if (!in_set(a->action, actions))
		return w_fail(w, err, WSD_EINVAL, "unknown approval action");
	if (a->deadline != NULL && !deadline_ok(a->deadline))
		return w_fail(w, err, WSD_EINVAL, "malformed deadline");
	if (w->n_approvals >= w->lim.max_approvals)
		return w_fail(w, err, WSD_ETOOBIG,
		    "more approvals than a package holds (PKG_MAX_APPROVALS)");
	if ((rc = w_section(w, S_APPROVALS, err)) < 0 ||
	    (rc = w_puts(w, "<Approval", err)) < 0 ||
	    (rc = w_attr(w, "update", uid, err)) < 0 ||
	    (rc = w_attr(w, "group", gid, err)) < 0 ||
	    (rc = w_attr(w, "action", a->action, err)) < 0 ||
	    (a->deadline != NULL &&
		(rc = w_attr(w, "deadline", a->deadline, err)) < 0) ||
	    (rc = w_puts(w, "/>\n", err)) < 0)
		return rc;
	w->n_approvals++;
	return 0;
}

/* Reads up to N bytes, retrying short reads; 0 only at end of file. */
static ssize_t
read_full(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
pkg_write_content(struct pkg_writer *w, const struct pkg_content *c, int fd,
    struct wsd_err *err)
{
	unsigned char *buf = NULL, d1[20], d2[32];
	EVP_MD_CTX *h1 = NULL, *h2 = NULL;
	uint64_t left = c->size;
	int rc;

	if (!w->content)
		return w_fail(w, err, WSD_EINVAL,
		    "content in a package without content");
	if (c->size > w->lim.max_content_file)
		return w_fail(w, err, WSD_ETOOBIG,
		    "content file larger than 64 GiB (PKG_MAX_CONTENT_FILE)");
	if (w->n_contents >= w->lim.max_contents)
		return w_fail(w, err, WSD_ETOOBIG,
		    "more content files than a package holds");
	if ((rc = w_section(w, S_CONTENTS, err)) < 0)
		return rc;
	/* Content is mostly compressed already: level 1 keeps what base64
	 * wastes and costs a fraction of level 3's time. */
	if (w->level != 1) {
		if ((rc = w_flush_stage(w, err)) < 0)
			return rc;
		for (int tries = 0;; tries++) {
			int zr = deflateParams(&w->z, 1, Z_DEFAULT_STRATEGY);

			if (zr == Z_OK)
				break;
			if (tries == 64)
				return w_fail(w, err, WSD_EINTERNAL,
				    "deflate failed");
			if (zr != Z_BUF_ERROR || w_write_out(w, err) < 0)
				return w_fail(w, err, WSD_EINTERNAL,
				    "deflate failed");
		}
		w->level = 1;
	}
	if ((rc = w_puts(w, "<Content", err)) < 0 ||
	    (rc = w_attr_hex(w, "sha1", c->sha1, 20, err)) < 0 ||
	    (c->has_sha256 &&
		(rc = w_attr_hex(w, "sha256", c->sha256, 32, err)) < 0) ||
	    (rc = w_attr_u64(w, "size", c->size, err)) < 0 ||
	    (rc = w_attr(w, "name", c->name ? c->name : "", err)) < 0 ||
	    (rc = w_puts(w, c->size == 0 ? "/>\n" : ">\n", err)) < 0)
		return rc;
	if ((buf = malloc(PKG_CHUNK_BYTES)) == NULL ||
	    (h1 = EVP_MD_CTX_new()) == NULL ||
	    (h2 = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(h2, EVP_sha256(), NULL) != 1) {
		rc = w_fail(w, err, WSD_ENOMEM, "out of memory");
		goto out;
	}
	while (left > 0) {
		size_t want =
		    left < PKG_CHUNK_BYTES ? (size_t)left : PKG_CHUNK_BYTES;
		ssize_t r = read_full(fd, buf, want);

		if (r < 0) {
			rc =
			    w_fail(w, err, WSD_EIO, "cannot read content file");
			goto out;
		}
		if ((size_t)r != want) {
			rc = w_fail(w, err, WSD_EINVAL,
			    "content file shorter than its metadata size");
			goto out;
		}
		if (EVP_DigestUpdate(h1, buf, want) != 1 ||
		    EVP_DigestUpdate(h2, buf, want) != 1) {
			rc = w_fail(w, err, WSD_EINTERNAL, "digest failed");
			goto out;
		}
		if ((rc = w_b64_elem(w, "<Chunk>", "</Chunk>\n", buf, want,
			 err)) < 0)
			goto out;
		left -= want;
	}
	{
		ssize_t r = read_full(fd, buf, 1);

		if (r != 0) {
			rc = w_fail(w, err, r < 0 ? WSD_EIO : WSD_EINVAL,
			    r < 0 ? "cannot read content file"
				  : "content file longer than its metadata "
				    "size");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(h1, d1, NULL) != 1 ||
	    EVP_DigestFinal_ex(h2, d2, NULL) != 1) {
		rc = w_fail(w, err, WSD_EINTERNAL, "digest failed");
		goto out;
	}
	if (CRYPTO_memcmp(d1, c->sha1, 20) != 0) {
		rc = w_fail(w, err, WSD_EINVAL, "SHA-1 digest mismatch");
		goto out;
	}
	if (c->has_sha256 && CRYPTO_memcmp(d2, c->sha256, 32) != 0) {
		rc = w_fail(w, err, WSD_EINVAL, "SHA-256 digest mismatch");
		goto out;
	}
	if (c->size > 0 && (rc = w_puts(w, "</Content>\n", err)) < 0)
		goto out;
	w->n_contents++;
	rc = 0;
out:
	EVP_MD_CTX_free(h1);
	EVP_MD_CTX_free(h2);
	free(buf);
	return rc;
}

static int
sign_manifest(const struct pkg_signer *s, const char *text, size_t len,
    unsigned char **sig, size_t *siglen, struct wsd_err *err)
{
	EVP_PKEY *key = s->key;
	const EVP_MD *md = EVP_sha256();
	EVP_MD_CTX *ctx;
	int rc = 0;

	*sig = NULL;
	/* EdDSA hashes internally and takes no digest. */
	if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_id(key) == EVP_PKEY_ED448)
		md = NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, siglen, (const unsigned char *)text,
		len) != 1 ||
	    (*sig = malloc(*siglen)) == NULL ||
	    EVP_DigestSign(ctx, *sig, siglen, (const unsigned char *)text,
		len) != 1) {
		free(*sig);
		*sig = NULL;
		rc = wsd_fail(err, WSD_ETLS, "cannot sign the manifest");
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
pkg_writer_finish(struct pkg_writer *w, const struct pkg_signer *signer,
    struct pkg_manifest *out, struct wsd_err *err)
{
	struct pkg_manifest m;
	char hex[65];
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc, n;

	memset(&m, 0, sizeof(m));
	if ((rc = w_section(w, S_MANIFEST, err)) < 0 ||
	    (rc = w_flush_stage(w, err)) < 0)
		return rc;
	if (EVP_DigestFinal_ex(w->md, m.sha256, NULL) != 1)
		return w_fail(w, err, WSD_EINTERNAL, "SHA-256 failed");
	hex_encode_upper(m.sha256, 32, hex);
	for (char *p = hex; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p + 32);
	n = snprintf(m.text, sizeof(m.text),
	    "<Manifest updates=\"%llu\" revisions=\"%llu\" groups=\"%llu\" "
	    "approvals=\"%llu\" contents=\"%llu\" bytes=\"%llu\" "
	    "sha256=\"%s\"/>",
	    (unsigned long long)w->n_updates,
	    (unsigned long long)w->n_revisions, (unsigned long long)w->n_groups,
	    (unsigned long long)w->n_approvals,
	    (unsigned long long)w->n_contents, (unsigned long long)w->bytes,
	    hex);
	if (n < 0 || (size_t)n >= sizeof(m.text))
		return w_fail(w, err, WSD_EINTERNAL, "manifest too long");
	m.text_len = (size_t)n;
	m.version = PKG_FORMAT_VERSION;
	m.updates = w->n_updates;
	m.revisions = w->n_revisions;
	m.groups = w->n_groups;
	m.approvals = w->n_approvals;
	m.contents = w->n_contents;
	m.bytes = w->bytes;
	m.decompressed = w->bytes + m.text_len + 1 + strlen(END_TAG);
	/* The manifest and what follows are not part of the digest: they
	 * go to deflate directly. */
	if ((rc = w_deflate(w, m.text, m.text_len, Z_NO_FLUSH, err)) < 0 ||
	    (rc = w_deflate(w, "\n", 1, Z_NO_FLUSH, err)) < 0)
		return rc;
	if (signer != NULL) {
		size_t cl = 4 * ((signer->cert_len + 2) / 3) + 1;
		char *cb = NULL, *sb = NULL;

		if ((rc = sign_manifest(signer, m.text, m.text_len, &sig,
			 &siglen, err)) < 0)
			return w_fail(w, err, rc, err->what);
		if (cl + 4 * ((siglen + 2) / 3) + 64 >
		    PKG_MAX_SIGNATURE_ELEMENT) {
			free(sig);
			return w_fail(w, err, WSD_ETOOBIG,
			    "signing certificate too large for a package");
		}
		if ((cb = malloc(cl)) == NULL ||
		    (sb = malloc(4 * ((siglen + 2) / 3) + 1)) == NULL) {
			free(cb);
			free(sig);
			return w_fail(w, err, WSD_ENOMEM, "out of memory");
		}
		b64_encode(signer->cert, signer->cert_len, cb);
		b64_encode(sig, siglen, sb);
		rc = 0;
		if (w_deflate(w, "<Signature certificate=\"", 24, Z_NO_FLUSH,
			err) < 0 ||
		    w_deflate(w, cb, strlen(cb), Z_NO_FLUSH, err) < 0 ||
		    w_deflate(w, "\">", 2, Z_NO_FLUSH, err) < 0 ||
		    w_deflate(w, sb, strlen(sb), Z_NO_FLUSH, err) < 0 ||
		    w_deflate(w, "</Signature>\n", 13, Z_NO_FLUSH, err) < 0)
			rc = w->rc;
		m.decompressed += 24 + strlen(cb) + 2 + strlen(sb) + 13;
		free(cb);
		free(sb);
		if (rc < 0) {
			free(sig);
			return rc;
		}
		if ((m.cert = malloc(signer->cert_len)) == NULL) {
			free(sig);
			return w_fail(w, err, WSD_ENOMEM, "out of memory");
		}
		memcpy(m.cert, signer->cert, signer->cert_len);
		m.cert_len = signer->cert_len;
		m.sig = sig;
		m.sig_len = siglen;
	}
	if ((rc = w_deflate(w, END_TAG, strlen(END_TAG), Z_FINISH, err)) < 0 ||
	    (rc = w_write_out(w, err)) < 0) {
		pkg_manifest_release(&m);
		return rc;
	}
	m.compressed = w->compressed;
	w->sec = S_END;
	w->rc = WSD_EINVAL; /* finished: nothing more may be written */
	if (out != NULL)
		*out = m;
	else
		pkg_manifest_release(&m);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Decompressing stream with caps and the manifest digest (both passes) */

struct pkg_stream {
	int fd;
	const struct pkg_limits *lim;
	struct pkg_report *rep;
	struct wsd_err *err;
	z_stream z;
	bool z_init, z_end, file_eof, done;
	int rc;
	uint64_t out_bytes, meta_bytes, chunk_bytes, chunk_cap, file_bytes;
	bool in_chunk;
	unsigned match; /* characters of "<Chunk>" matched so far */
	EVP_MD_CTX *md;
	unsigned char *hold; /* the last bytes, not yet hashed */
	size_t hold_len;
	char head[64];
	size_t head_len;
	bool head_ok;
	struct pkg_manifest man;
	unsigned char in[IO_BUF];
};

static void report(struct pkg_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
report(struct pkg_report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(rep->detail, sizeof(rep->detail), fmt, ap);
	va_end(ap);
}

static int st_fail(struct pkg_stream *s, int code, const char *what,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
st_fail(struct pkg_stream *s, int code, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (s->rc < 0)
		return s->rc; /* the first error is the one reported */
	s->rc = code;
	wsd_fail(s->err, code, what);
	if (s->rep != NULL) {
		va_start(ap, fmt);
		vsnprintf(s->rep->detail, sizeof(s->rep->detail), fmt, ap);
		va_end(ap);
	}
	return code;
}

static int
st_init(struct pkg_stream *s, int fd, const struct pkg_limits *lim,
    struct pkg_report *rep, struct wsd_err *err)
{
	memset(s, 0, offsetof(struct pkg_stream, in));
	s->fd = fd;
	s->lim = lim;
	s->rep = rep;
	s->err = err;
	if (rep != NULL)
		rep->detail[0] = '\0';
	/* Decoded content is 3/4 of its base64, padding aside. */
	s->chunk_cap = lim->max_content / 3 * 4 + 4;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return st_fail(s, WSD_EIO, "cannot read the package",
		    "cannot seek to its start: %s", strerror(errno));
	if ((s->hold = malloc(PKG_TAIL_MAX)) == NULL ||
	    (s->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		return st_fail(s, WSD_ENOMEM, "out of memory", "stream");
	/* gzip only (16 + MAX_WBITS): no zlib or raw deflate. */
	if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
		return st_fail(s, WSD_ENOMEM, "out of memory", "inflate");
	s->z_init = true;
	return 0;
}

static void
st_release(struct pkg_stream *s)
{
	if (s->z_init)
		inflateEnd(&s->z);
	s->z_init = false;
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
	free(s->hold);
	s->hold = NULL;
	pkg_manifest_release(&s->man);
}

/* The document must start with ROOT_PREFIX, then the version. */
static int
st_head(struct pkg_stream *s, const unsigned char *p, size_t n)
{
	size_t plen = strlen(ROOT_PREFIX), take;
	uint64_t v = 0;
	size_t i;

	take = sizeof(s->head) - s->head_len;
	if (take > n)
		take = n;
	memcpy(s->head + s->head_len, p, take);
	s->head_len += take;
	if (memcmp(s->head, ROOT_PREFIX,
		s->head_len < plen ? s->head_len : plen) != 0)
		return st_fail(s, WSD_EINVAL, "not a wsusd package",
		    "the document does not start with %s...", ROOT_PREFIX);
	if (s->head_len <= plen)
		return 0;
	for (i = plen; i < s->head_len && s->head[i] >= '0' &&
	     s->head[i] <= '9' && i < plen + 9;
	     i++)
		v = v * 10 + (uint64_t)(s->head[i] - '0');
	if (i == s->head_len && s->head_len < sizeof(s->head))
		return 0; /* the number may go on */
	if (i == plen || s->head[i] != '"' || (s->head[plen] == '0'))
		return st_fail(s, WSD_EINVAL, "malformed package version",
		    "the version attribute is not a decimal number");
	if (v != PKG_FORMAT_VERSION)
		return st_fail(s, WSD_EINVAL, "unknown package version",
		    "version %llu; this wsusutil reads version %d",
		    (unsigned long long)v, PKG_FORMAT_VERSION);
	s->man.version = (uint32_t)v;
	s->head_ok = true;
	return 0;
}

/* Counts bytes in and out of <Chunk> payloads (see struct pkg_stream). */
static void
st_scan(struct pkg_stream *s, const unsigned char *p, size_t n)
{
	static const char pat[] = "<Chunk>";
	const unsigned char *end = p + n;

	while (p < end) {
		const unsigned char *q;

		if (s->in_chunk) {
			q = memchr(p, '<', (size_t)(end - p));
			s->chunk_bytes += (uint64_t)((q ? q : end) - p);
			if (q == NULL)
				return;
			s->in_chunk = false;
			p = q;
			continue;
		}
		if (s->match > 0) {
			if (*p == (unsigned char)pat[s->match]) {
				s->meta_bytes++;
				p++;
				if (++s->match == sizeof(pat) - 1) {
					s->in_chunk = true;
					s->match = 0;
				}
			} else {
				s->match = 0; /* look at *p again */
			}
			continue;
		}
		q = memchr(p, '<', (size_t)(end - p));
		if (q == NULL) {
			s->meta_bytes += (uint64_t)(end - p);
			return;
		}
		s->meta_bytes += (uint64_t)(q - p) + 1;
		p = q + 1;
		s->match = 1;
	}
}

/* Hashes all but the last PKG_TAIL_MAX bytes seen. */
static int
st_hold(struct pkg_stream *s, const unsigned char *p, size_t n)
{
	size_t excess, from_hold, rest;

	if (s->hold_len + n > PKG_TAIL_MAX) {
		excess = s->hold_len + n - PKG_TAIL_MAX;
		from_hold = excess < s->hold_len ? excess : s->hold_len;
		if (from_hold > 0) {
			if (EVP_DigestUpdate(s->md, s->hold, from_hold) != 1)
				return st_fail(s, WSD_EINTERNAL,
				    "SHA-256 failed", "digest");
			memmove(s->hold, s->hold + from_hold,
			    s->hold_len - from_hold);
			s->hold_len -= from_hold;
		}
		rest = excess - from_hold;
		if (rest > 0) {
			if (EVP_DigestUpdate(s->md, p, rest) != 1)
				return st_fail(s, WSD_EINTERNAL,
				    "SHA-256 failed", "digest");
			p += rest;
			n -= rest;
		}
	}
	memcpy(s->hold + s->hold_len, p, n);
	s->hold_len += n;
	return 0;
}

static int
st_account(struct pkg_stream *s, const unsigned char *p, size_t n)
{
	s->out_bytes += n;
	if (!s->head_ok && st_head(s, p, n) < 0)
		return s->rc;
	st_scan(s, p, n);
	if (s->meta_bytes > s->lim->max_metadata)
		return st_fail(s, WSD_ETOOBIG,
		    "decompressed metadata exceeds the cap",
		    "more than %llu bytes outside content chunks "
		    "(PKG_MAX_METADATA_BYTES) after %llu compressed bytes",
		    (unsigned long long)s->lim->max_metadata,
		    (unsigned long long)s->z.total_in);
	if (s->chunk_bytes > s->chunk_cap)
		return st_fail(s, WSD_ETOOBIG, "content exceeds the cap",
		    "more than %llu bytes of content (PKG_MAX_CONTENT_BYTES)",
		    (unsigned long long)s->lim->max_content);
	if (s->out_bytes > s->lim->ratio_grace &&
	    s->out_bytes / s->lim->max_ratio > s->z.total_in)
		return st_fail(s, WSD_ETOOBIG,
		    "compression ratio exceeds the cap",
		    "%llu bytes from %llu compressed: above %llu:1 "
		    "(PKG_MAX_RATIO), a compression bomb",
		    (unsigned long long)s->out_bytes,
		    (unsigned long long)s->z.total_in,
		    (unsigned long long)s->lim->max_ratio);
	return st_hold(s, p, n);
}

/* Parses "NAME=\"DIGITS\"" at *P, advancing it. */
static int
tail_u64(const char **p, const char *end, const char *name, uint64_t *v)
{
	size_t nl = strlen(name);
	const char *q = *p;
	int digits = 0;

	if ((size_t)(end - q) < nl + 2 || memcmp(q, name, nl) != 0 ||
	    q[nl] != '=' || q[nl + 1] != '"')
		return -1;
	q += nl + 2;
	*v = 0;
	while (q < end && *q >= '0' && *q <= '9' && digits < 19) {
		*v = *v * 10 + (uint64_t)(*q - '0');
		q++;
		digits++;
	}
	if (digits == 0 || q >= end || *q != '"' ||
	    (digits > 1 && (*p)[nl + 2] == '0'))
		return -1;
	*p = q + 1;
	return 0;
}

static int
tail_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* Base64 up to the next '"' or '<' into a new buffer. */
static int
tail_b64(const char **p, const char *end, char stop, unsigned char **out,
    size_t *outlen)
{
	const char *q = memchr(*p, stop, (size_t)(end - *p));
	size_t n;

	if (q == NULL || q == *p)
		return -1;
	n = (size_t)(q - *p);
	if ((*out = malloc(n / 4 * 3 + 1)) == NULL)
		return -1;
	if (b64_decode_strict(*p, n, *out, outlen) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*p = q;
	return 0;
}

/* At the end of the document: the manifest, checked against the bytes. */
static int
st_finish(struct pkg_stream *s)
{
	const char *h = (const char *)s->hold, *end = h + s->hold_len, *p;
	const char *m = NULL;
	unsigned char sha[32];
	char hexbuf[65];
	uint64_t before;

	if (!s->head_ok)
		return st_fail(s, WSD_EINVAL, "not a wsusd package",
		    "the document is too short to be a package");
	for (p = h; (p = memmem(p, (size_t)(end - p), MANIFEST_TAG,
			 strlen(MANIFEST_TAG))) != NULL;
	     p++)
		m = p;
	if (m == NULL)
		return st_fail(s, WSD_EINVAL,
		    "package has no manifest at its end",
		    "the document's last %zu bytes hold no <Manifest>: it is "
		    "truncated or was not written by wsusutil export",
		    s->hold_len);
	if (EVP_DigestUpdate(s->md, h, (size_t)(m - h)) != 1 ||
	    EVP_DigestFinal_ex(s->md, sha, NULL) != 1)
		return st_fail(s, WSD_EINTERNAL, "SHA-256 failed", "digest");
	before = s->out_bytes - (uint64_t)(end - m);
	p = m;
	if (tail_lit(&p, end, MANIFEST_TAG) < 0 ||
	    tail_u64(&p, end, "updates", &s->man.updates) < 0 ||
	    tail_lit(&p, end, " ") < 0 ||
	    tail_u64(&p, end, "revisions", &s->man.revisions) < 0 ||
	    tail_lit(&p, end, " ") < 0 ||
	    tail_u64(&p, end, "groups", &s->man.groups) < 0 ||
	    tail_lit(&p, end, " ") < 0 ||
	    tail_u64(&p, end, "approvals", &s->man.approvals) < 0 ||
	    tail_lit(&p, end, " ") < 0 ||
	    tail_u64(&p, end, "contents", &s->man.contents) < 0 ||
	    tail_lit(&p, end, " ") < 0 ||
	    tail_u64(&p, end, "bytes", &s->man.bytes) < 0 ||
	    tail_lit(&p, end, " sha256=\"") < 0 || end - p < 64 + 3 ||
	    hex_decode(p, 64, s->man.sha256, 32) < 0)
		return st_fail(s, WSD_EINVAL, "malformed manifest",
		    "the <Manifest> element is not as wsusutil export "
		    "writes it");
	for (int i = 0; i < 64; i++)
		if (p[i] >= 'A' && p[i] <= 'F')
			return st_fail(s, WSD_EINVAL, "malformed manifest",
			    "the manifest digest is not lower-case hex");
	p += 64;
	if (tail_lit(&p, end, "\"/>") < 0)
		return st_fail(s, WSD_EINVAL, "malformed manifest",
		    "the <Manifest> element is not closed as expected");
	s->man.text_len = (size_t)(p - m);
	if (s->man.text_len >= sizeof(s->man.text))
		return st_fail(s, WSD_EINVAL, "malformed manifest",
		    "the <Manifest> element is too long");
	memcpy(s->man.text, m, s->man.text_len);
	s->man.text[s->man.text_len] = '\0';
	if (p == end || (p + 1 == end && *p == '\n'))
		return st_fail(s, WSD_EINVAL, "package is truncated",
		    "the document ends after <Manifest/>, without "
		    "</WsusdPackage>");
	if (tail_lit(&p, end, "\n") < 0)
		return st_fail(s, WSD_EINVAL,
		    "unexpected data after the manifest",
		    "no newline after <Manifest/>");
	if (end - p > (ptrdiff_t)strlen(END_TAG)) {
		if ((size_t)(end - p) >
		    PKG_MAX_SIGNATURE_ELEMENT + strlen(END_TAG))
			return st_fail(s, WSD_EINVAL,
			    "unexpected data after the manifest",
			    "%zu bytes after <Manifest/>", (size_t)(end - p));
		if (tail_lit(&p, end, "<Signature certificate=\"") < 0 ||
		    tail_b64(&p, end, '"', &s->man.cert, &s->man.cert_len) <
			0 ||
		    tail_lit(&p, end, "\">") < 0 ||
		    tail_b64(&p, end, '<', &s->man.sig, &s->man.sig_len) < 0 ||
		    tail_lit(&p, end, "</Signature>\n") < 0)
			return st_fail(s, WSD_EINVAL, "malformed signature",
			    "the element after <Manifest/> is not a "
			    "<Signature> as wsusutil export writes it");
	}
	if (tail_lit(&p, end, END_TAG) < 0 || p != end)
		return st_fail(s, WSD_EINVAL,
		    "unexpected data after the manifest",
		    "the document does not end with </WsusdPackage> right "
		    "after the manifest");
	if (s->man.bytes != before)
		return st_fail(s, WSD_EINVAL,
		    "package length does not match its manifest",
		    "the manifest covers %llu bytes, the document has %llu "
		    "before it: records were added or removed",
		    (unsigned long long)s->man.bytes,
		    (unsigned long long)before);
	if (CRYPTO_memcmp(sha, s->man.sha256, 32) != 0) {
		hex_encode_upper(sha, 32, hexbuf);
		return st_fail(s, WSD_EINVAL,
		    "package digest does not match its manifest",
		    "the document's SHA-256 is %.16s..., not the manifest's: "
		    "the package was altered after export",
		    hexbuf);
	}
	s->man.compressed = s->file_bytes;
	s->man.decompressed = s->out_bytes;
	s->done = true;
	return 0;
}

/*
 * Up to N decompressed bytes into BUF: > 0 bytes, 0 at the end of the
 * document (after st_finish verified it), -1 on any error (s->rc).
 */
static ssize_t
st_read(struct pkg_stream *s, unsigned char *buf, size_t n)
{
	if (s->rc < 0)
		return -1;
	if (s->done)
		return 0;
	for (;;) {
		size_t produced;
		int zr;

		if (s->z.avail_in == 0 && !s->file_eof) {
			ssize_t r = read(s->fd, s->in, sizeof(s->in));

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				st_fail(s, WSD_EIO, "cannot read the package",
				    "read: %s", strerror(errno));
				return -1;
			}
			if (r == 0)
				s->file_eof = true;
			s->file_bytes += (uint64_t)r;
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)r;
		}
		if (s->z_end) {
			/* One gzip member and nothing after it. */
			if (s->z.avail_in > 0) {
				st_fail(s, WSD_EINVAL,
				    "trailing data after the compressed stream",
				    "the file goes on after the end of its "
				    "gzip "
				    "member (concatenated or appended data)");
				return -1;
			}
			if (!s->file_eof)
				continue;
			return st_finish(s) < 0 ? -1 : 0;
		}
		s->z.next_out = buf;
		s->z.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
		zr = inflate(&s->z, Z_NO_FLUSH);
		produced = n - s->z.avail_out;
		if (zr == Z_STREAM_END) {
			s->z_end = true;
		} else if (zr == Z_BUF_ERROR || zr == Z_OK) {
			if (produced == 0 && s->file_eof &&
			    s->z.avail_in == 0) {
				st_fail(s, WSD_EINVAL, "package is truncated",
				    "the gzip stream ends after %llu "
				    "compressed bytes, before its end marker",
				    (unsigned long long)s->file_bytes);
				return -1;
			}
		} else if (zr == Z_MEM_ERROR) {
			st_fail(s, WSD_ENOMEM, "out of memory", "inflate");
			return -1;
		} else {
			st_fail(s, WSD_EINVAL, "corrupt compressed data",
			    "gzip: %s at compressed byte %llu",
			    s->z.msg ? s->z.msg : "bad data",
			    (unsigned long long)s->z.total_in);
			return -1;
		}
		if (produced > 0) {
			if (st_account(s, buf, produced) < 0)
				return -1;
			return (ssize_t)produced;
		}
	}
}

int
pkg_verify(int fd, const struct pkg_limits *lim, struct pkg_manifest *out,
    struct pkg_report *rep, struct wsd_err *err)
{
	struct pkg_stream *s;
	unsigned char *buf;
	ssize_t r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((s = malloc(sizeof(*s))) == NULL ||
	    (buf = malloc(4 * IO_BUF)) == NULL) {
		free(s);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	if ((rc = st_init(s, fd, lim, rep, err)) == 0) {
		while ((r = st_read(s, buf, 4 * IO_BUF)) > 0)
			;
		rc = r < 0 ? s->rc : 0;
	}
	if (rc == 0) {
		*out = s->man;
		memset(&s->man, 0, sizeof(s->man));
	}
	st_release(s);
	free(s);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Reader (pass 2)                                                     */

struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	unsigned char data[];
};

struct arena {
	struct arena_blk *head;
	size_t total;
};

static void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_blk *b = a->head;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += n;
	a->total += n;
	return p;
}

static char *
arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s);
	char *p = arena_alloc(a, n + 1);

	if (p != NULL)
		memcpy(p, s, n + 1);
	return p;
}

/* Frees all but one standard block, which is kept for reuse. */
static void
arena_reset(struct arena *a)
{
	struct arena_blk *keep = NULL, *b = a->head, *next;

	for (; b != NULL; b = next) {
		next = b->next;
		if (keep == NULL && b->cap == ARENA_BLOCK) {
			keep = b;
			keep->used = 0;
			keep->next = NULL;
		} else {
			free(b);
		}
	}
	a->head = keep;
	a->total = 0;
}

static void
arena_release(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
}

enum elem {
	E_NONE = 0,
	E_ROOT,
	E_GROUP,
	E_UPDATE,
	E_REVISION,
	E_CORE,
	E_EXT,
	E_LOC,
	E_FILE,
	E_CAT,
	E_PREREQ,
	E_BUNDLE,
	E_SUP,
	E_APPROVAL,
	E_CONTENT,
	E_CHUNK,
	E_MANIFEST,
	E_SIGNATURE,
};

static const struct elem_def {
	const char *name;
	enum elem parent;
	bool text;  /* carries base64 text */
	bool empty; /* must be an empty element */
} elem_defs[] = {
	[E_ROOT] = { "WsusdPackage", E_NONE, false, false },
	[E_GROUP] = { "Group", E_ROOT, false, true },
	[E_UPDATE] = { "Update", E_ROOT, false, false },
	[E_REVISION] = { "Revision", E_UPDATE, false, false },
	[E_CORE] = { "Core", E_REVISION, true, false },
	[E_EXT] = { "Extended", E_REVISION, true, false },
	[E_LOC] = { "Localized", E_REVISION, true, false },
	[E_FILE] = { "File", E_REVISION, false, true },
	[E_CAT] = { "Category", E_REVISION, false, true },
	[E_PREREQ] = { "Prereq", E_REVISION, false, true },
	[E_BUNDLE] = { "Bundle", E_REVISION, false, true },
	[E_SUP] = { "Supersedes", E_REVISION, false, true },
	[E_APPROVAL] = { "Approval", E_ROOT, false, true },
	[E_CONTENT] = { "Content", E_ROOT, false, false },
	[E_CHUNK] = { "Chunk", E_CONTENT, true, false },
	[E_MANIFEST] = { "Manifest", E_ROOT, false, true },
	[E_SIGNATURE] = { "Signature", E_ROOT, true, false },
};
#define N_ELEMS (sizeof(elem_defs) / sizeof(elem_defs[0]))

struct upd_ref {
	unsigned char id[16];
	bool category, declined;
};

struct file_ref {
	unsigned char sha1[20];
	unsigned char sha256[32];
	bool has_sha256;
	uint64_t size;
};

struct grp_ref {
	unsigned char id[16];
	char *name;
};

struct appr_ref {
	unsigned char key[32]; /* update, group */
};

struct rd {
	struct pkg_stream s;
	xmlTextReaderPtr xr;
	const struct pkg_limits *lim;
	const struct pkg_sink *sink;
	struct pkg_report *rep;
	struct wsd_err *err;
	int rc;
	char xmlerr[256];

	enum section sec;
	enum elem stack[8];
	int open; /* depth of the innermost open element; -1 before */
	bool root_seen, manifest_seen;
	struct pkg_header hdr;
	uint64_t n_updates, n_revisions, n_groups, n_approvals, n_contents;

	/* the update being read */
	bool in_update;
	char u_id[37];
	char u_type[16];
	char u_cattype[24];
	char u_origin[16];
	bool u_declined;
	int64_t u_last_rev;
	uint32_t u_revs;

	/* the revision being read */
	bool in_rev;
	int rev_order; /* last child kind, for the element order */
	struct arena ar;
	struct store_revision_in rv;
	struct store_localized *loc;
	size_t loc_cap;
	struct store_file *files;
	size_t files_cap;
	const char **cats;
	size_t cats_cap;
	struct store_prereq *pre;
	size_t pre_cap;
	struct store_bundle_member *bun;
	size_t bun_cap;
	const char **sup;
	size_t sup_cap;

	/* text of the current text element */
	char *text;
	size_t text_len, text_cap, text_max;
	char loc_lang[64];
	const char *loc_title; /* arena */

	/* indexes for references and duplicates */
	struct upd_ref *upds;
	size_t n_upds, upds_cap;
	struct file_ref *frefs;
	size_t n_frefs, frefs_cap;
	size_t fref_fold;     /* fold the index when it grows past this */
	struct grp_ref *grps; /* kept sorted by id */
	size_t n_grps, grps_cap;
	struct appr_ref *apprs;
	size_t n_apprs, apprs_cap;
	unsigned char (*conts)[20];
	size_t n_conts, conts_cap;

	/* the content being read */
	struct pkg_content c;
	char c_name[PKG_MAX_STRING + 1];
	uint64_t c_got, content_total;
	EVP_MD_CTX *c_sha1, *c_sha256;
	unsigned char *chunk;
};

static int rd_fail(struct rd *r, int code, const char *what, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* The first error wins; the detail names the line and the record. */
static int
rd_fail(struct rd *r, int code, const char *what, const char *fmt, ...)
{
	char msg[320], where[160] = "";
	va_list ap;
	int line = r->xr ? xmlTextReaderGetParserLineNumber(r->xr) : 0;

	if (r->rc < 0)
		return r->rc;
	r->rc = code;
	wsd_fail(r->err, code, what);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->in_update)
		snprintf(where, sizeof(where), "update %s%s", r->u_id,
		    r->in_rev ? " revision " : "");
	if (r->in_rev)
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
		    "%d", r->rv.revision_number);
	report(r->rep, "line %d%s%s: %s", line, where[0] ? ": " : "", where,
	    msg);
	return code;
}

/* A sink's failure: its static text, with the record named. */
static int
rd_sink_fail(struct rd *r, const char *record)
{
	const char *what = r->err->what ? r->err->what : "refused";
	int code = r->err->code < 0 ? (int)r->err->code : WSD_EINVAL;

	return rd_fail(r, code, what, "%s", record);
}

static void
xml_error(void *arg, xmlErrorPtr e)
{
	struct rd *r = arg;

	if (r->xmlerr[0] != '\0' || e == NULL)
		return;
	snprintf(r->xmlerr, sizeof(r->xmlerr), "line %d: %s", e->line,
	    e->message ? e->message : "error");
	/* libxml2 messages end with a newline. */
	r->xmlerr[strcspn(r->xmlerr, "\n")] = '\0';
}

static int
io_read(void *ctx, char *buf, int len)
{
	struct rd *r = ctx;
	ssize_t n = st_read(&r->s, (unsigned char *)buf, (size_t)len);

	return n < 0 ? -1 : (int)n;
}

static int
io_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/*
 * Reads the current element's attributes: VALS[i] gets the value of
 * NAMES[i] (NULL when absent), copied into ARENA. Any other attribute,
 * a namespace declaration or a value over max_string is refused.
 */
static int
rd_attrs(struct rd *r, const char *elem, const char *const *names,
    const char **vals, struct arena *arena)
{
	size_t n = 0;
	int mv;

	while (names[n] != NULL)
		vals[n++] = NULL;
	while ((mv = xmlTextReaderMoveToNextAttribute(r->xr)) == 1) {
		const char *an = (const char *)xmlTextReaderConstName(r->xr);
		const char *av = (const char *)xmlTextReaderConstValue(r->xr);
		size_t i;

		if (an == NULL || av == NULL)
			return rd_fail(r, WSD_ENOMEM, "out of memory",
			    "attribute of <%s>", elem);
		for (i = 0; i < n && strcmp(names[i], an) != 0; i++)
			;
		if (i == n)
			return rd_fail(r, WSD_EINVAL, "unknown attribute",
			    "<%s> has an attribute %.40s this format does not "
			    "define",
			    elem, an);
		if (strlen(av) > r->lim->max_string)
			return rd_fail(r, WSD_ETOOBIG,
			    "string longer than 64 KiB (PKG_MAX_STRING)",
			    "attribute %s of <%s>", an, elem);
		if ((vals[i] = arena_strdup(arena, av)) == NULL)
			return rd_fail(r, WSD_ENOMEM, "out of memory",
			    "attribute of <%s>", elem);
	}
	if (mv < 0)
		return rd_fail(r, WSD_EINVAL, "package is not well-formed XML",
		    "%s", r->xmlerr[0] ? r->xmlerr : "attributes");
	xmlTextReaderMoveToElement(r->xr);
	return 0;
}

static int
rd_need(struct rd *r, const char *elem, const char *name, const char *v)
{
	if (v == NULL)
		return rd_fail(r, WSD_EINVAL, "missing attribute",
		    "<%s> without %s", elem, name);
	return 0;
}

static int
rd_bool(struct rd *r, const char *elem, const char *name, const char *v,
    bool *out)
{
	if (rd_need(r, elem, name, v) < 0)
		return r->rc;
	if (strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0)
		*out = false;
	else
		return rd_fail(r, WSD_EINVAL, "malformed boolean",
		    "%s of <%s> is neither true nor false", name, elem);
	return 0;
}

static int
rd_u64(struct rd *r, const char *elem, const char *name, const char *v,
    uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (rd_need(r, elem, name, v) < 0)
		return r->rc;
	for (i = 0; v[i] >= '0' && v[i] <= '9' && i < 20; i++) {
		if (x > (UINT64_MAX - 9) / 10)
			break;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (i == 0 || v[i] != '\0' || (i > 1 && v[0] == '0') || x > max)
		return rd_fail(r, WSD_EINVAL, "malformed number",
		    "%s of <%s> is not a decimal number up to %llu", name, elem,
		    (unsigned long long)max);
	*out = x;
	return 0;
}

static int
rd_guid(struct rd *r, const char *elem, const char *name, const char *v,
    char norm[37], unsigned char bin[16])
{
	if (rd_need(r, elem, name, v) < 0)
		return r->rc;
	if (guid_parse(v, norm, bin) < 0)
		return rd_fail(r, WSD_EINVAL, "malformed GUID",
		    "%s of <%s> is not a GUID: %.40s", name, elem, v);
	return 0;
}

static int
rd_hex(struct rd *r, const char *elem, const char *name, const char *v,
    unsigned char *out, size_t n)
{
	if (rd_need(r, elem, name, v) < 0)
		return r->rc;
	if (strlen(v) != 2 * n || hex_decode(v, 2 * n, out, n) < 0)
		return rd_fail(r, WSD_EINVAL, "malformed digest",
		    "%s of <%s> is not %zu hex digits", name, elem, 2 * n);
	return 0;
}

static int rd_section(struct rd *r, enum section s, const char *elem);

static int
cmp_upd(const void *a, const void *b)
{
	return memcmp(((const struct upd_ref *)a)->id,
	    ((const struct upd_ref *)b)->id, 16);
}

static int
cmp_fref(const void *a, const void *b)
{
	return memcmp(((const struct file_ref *)a)->sha1,
	    ((const struct file_ref *)b)->sha1, 20);
}

static int
cmp_appr(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int
cmp_sha1(const void *a, const void *b)
{
	return memcmp(a, b, 20);
}

static int
cmp_grp(const void *a, const void *b)
{
	return memcmp(((const struct grp_ref *)a)->id,
	    ((const struct grp_ref *)b)->id, 16);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the file index and folds repeats: one size and SHA-256 per SHA-1. */
static int
frefs_compact(struct rd *r)
{
	size_t o = 0;

	if (r->n_frefs > 1)
		qsort(r->frefs, r->n_frefs, sizeof(*r->frefs), cmp_fref);
	for (size_t i = 0; i < r->n_frefs; i++) {
		struct file_ref *f = &r->frefs[i];

		if (o > 0 && memcmp(r->frefs[o - 1].sha1, f->sha1, 20) == 0) {
			struct file_ref *g = &r->frefs[o - 1];

			if (g->size != f->size ||
			    (g->has_sha256 && f->has_sha256 &&
				memcmp(g->sha256, f->sha256, 32) != 0)) {
				char hex[41];

				hex_encode_upper(f->sha1, 20, hex);
				return rd_fail(r, WSD_EINVAL,
				    "conflicting metadata for one file",
				    "file %s has two sizes or SHA-256 "
				    "digests",
				    hex);
			}
			if (!g->has_sha256 && f->has_sha256) {
				memcpy(g->sha256, f->sha256, 32);
				g->has_sha256 = true;
			}
			continue;
		}
		r->frefs[o++] = *f;
	}
	r->n_frefs = o;
	return 0;
}

static int
rd_fold_files(struct rd *r)
{
	if (frefs_compact(r) < 0)
		return r->rc;
	if (r->n_frefs > r->lim->max_files)
		return rd_fail(r, WSD_ETOOBIG,
		    "more files than a package holds (PKG_MAX_FILES)",
		    "more than %u distinct files", r->lim->max_files);
	r->fref_fold = r->n_frefs + r->lim->max_files / 4 + 1;
	return 0;
}

/* Leaving the updates: duplicates, and one meaning per file SHA-1. */
static int
rd_close_updates(struct rd *r)
{
	if (r->n_upds > 1)
		qsort(r->upds, r->n_upds, sizeof(*r->upds), cmp_upd);
	for (size_t i = 1; i < r->n_upds; i++)
		if (memcmp(r->upds[i].id, r->upds[i - 1].id, 16) == 0) {
			char hex[33];

			hex_encode_upper(r->upds[i].id, 16, hex);
			return rd_fail(r, WSD_EINVAL, "update appears twice",
			    "two <Update> elements for %s", hex);
		}
	return rd_fold_files(r);
}

static int
rd_close_approvals(struct rd *r)
{
	if (r->n_apprs > 1)
		qsort(r->apprs, r->n_apprs, sizeof(*r->apprs), cmp_appr);
	for (size_t i = 1; i < r->n_apprs; i++)
		if (memcmp(&r->apprs[i], &r->apprs[i - 1], 32) == 0)
			return rd_fail(r, WSD_EINVAL, "approval appears twice",
			    "two <Approval> elements for one update and group");
	return 0;
}

static int
rd_close_contents(struct rd *r)
{
	if (r->n_conts > 1)
		qsort(r->conts, r->n_conts, 20, cmp_sha1);
	for (size_t i = 1; i < r->n_conts; i++)
		if (memcmp(r->conts[i], r->conts[i - 1], 20) == 0) {
			char hex[41];

			hex_encode_upper(r->conts[i], 20, hex);
			return rd_fail(r, WSD_EINVAL, "content appears twice",
			    "two <Content> elements for %s", hex);
		}
	return 0;
}

static const char *const section_names[] = { "the header", "<Group>",
	"<Update>", "<Approval>", "<Content>", "<Manifest>", "<Signature>",
	"the end" };

/* Sections come in order; leaving one runs its whole-section checks. */
static int
rd_section(struct rd *r, enum section s, const char *elem)
{
	if (s < r->sec)
		return rd_fail(r, WSD_EINVAL, "elements out of order",
		    "<%s> after %s", elem, section_names[r->sec]);
	if (s > S_UPDATES && r->sec <= S_UPDATES && rd_close_updates(r) < 0)
		return r->rc;
	if (s > S_APPROVALS && r->sec <= S_APPROVALS &&
	    rd_close_approvals(r) < 0)
		return r->rc;
	if (s > S_CONTENTS && r->sec <= S_CONTENTS && rd_close_contents(r) < 0)
		return r->rc;
	r->sec = s;
	return 0;
}

static int
rd_root(struct rd *r)
{
	static const char *const names[] = { "version", "created", "exporter",
		"approvals", "content", NULL };
	const char *v[5];
	uint64_t ver;

	if (rd_attrs(r, "WsusdPackage", names, v, &r->ar) < 0 ||
	    rd_u64(r, "WsusdPackage", "version", v[0], UINT32_MAX, &ver) < 0 ||
	    rd_need(r, "WsusdPackage", "created", v[1]) < 0 ||
	    rd_need(r, "WsusdPackage", "exporter", v[2]) < 0 ||
	    rd_bool(r, "WsusdPackage", "approvals", v[3], &r->hdr.approvals) <
		0 ||
	    rd_bool(r, "WsusdPackage", "content", v[4], &r->hdr.content) < 0)
		return r->rc;
	if (ver != PKG_FORMAT_VERSION)
		return rd_fail(r, WSD_EINVAL, "unknown package version",
		    "version %llu; this wsusutil reads version %d",
		    (unsigned long long)ver, PKG_FORMAT_VERSION);
	r->hdr.version = (uint32_t)ver;
	r->hdr.created = v[1];
	r->hdr.exporter = v[2];
	if (r->sink->header &&
	    r->sink->header(r->sink->arg, &r->hdr, r->err) < 0)
		return rd_sink_fail(r, "package header");
	return 0;
}

static bool
group_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > STORE_MAX_NAME || n[0] == ' ' ||
	    n[len - 1] == ' ')
		return false;
	for (const unsigned char *p = (const unsigned char *)n; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

#define ALL_COMPUTERS "a0a08746-4dbe-4a37-9adf-9e7652c0b421"
#define UNASSIGNED    "b73ca6ed-5727-47f3-84de-015e03f6a88a"

static int
rd_group(struct rd *r, struct arena *tmp)
{
	static const char *const names[] = { "id", "name", "parent", NULL };
	const char *v[3];
	struct grp_ref g;
	char id[37], pid[37];
	unsigned char pb[16];
	size_t lo = 0, hi;
	bool builtin;

	if (!r->hdr.approvals)
		return rd_fail(r, WSD_EINVAL, "unexpected element",
		    "<Group> in a package without approvals");
	if (r->n_grps >= r->lim->max_groups)
		return rd_fail(r, WSD_ETOOBIG,
		    "more groups than a package holds (PKG_MAX_GROUPS)",
		    "group %zu", r->n_grps + 1);
	if (rd_attrs(r, "Group", names, v, tmp) < 0 ||
	    rd_guid(r, "Group", "id", v[0], id, g.id) < 0 ||
	    rd_need(r, "Group", "name", v[1]) < 0)
		return r->rc;
	if (!group_name_ok(v[1]))
		return rd_fail(r, WSD_EINVAL, "bad group name",
		    "group %s: names are 1-256 printable characters", id);
	builtin = strcmp(id, ALL_COMPUTERS) == 0 || strcmp(id, UNASSIGNED) == 0;
	if ((v[2] == NULL) != (strcmp(id, ALL_COMPUTERS) == 0))
		return rd_fail(r, WSD_EINVAL, "bad group parent",
		    "group %s: every group but All Computers has a parent", id);
	if (v[2] != NULL) {
		struct grp_ref key;

		if (rd_guid(r, "Group", "parent", v[2], pid, pb) < 0)
			return r->rc;
		memcpy(key.id, pb, 16);
		if (bfind(&key, r->grps, r->n_grps, sizeof(*r->grps),
			cmp_grp) == NULL)
			return rd_fail(r, WSD_EINVAL, "bad group parent",
			    "group %s: its parent %s is not an earlier <Group>",
			    id, pid);
	}
	for (size_t i = 0; i < r->n_grps; i++)
		if (strcasecmp(r->grps[i].name, v[1]) == 0)
			return rd_fail(r, WSD_EINVAL,
			    "group name appears twice",
			    "two groups named %.80s", v[1]);
	if (!builtin &&
	    (strcasecmp(v[1], "All Computers") == 0 ||
		strcasecmp(v[1], "Unassigned Computers") == 0))
		return rd_fail(r, WSD_EINVAL, "bad group name",
		    "group %s takes a built-in group's name", id);
	/* Insert sorted by id (few groups: a memmove is fine). */
	hi = r->n_grps;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(r->grps[mid].id, g.id, 16);

		if (c == 0)
			return rd_fail(r, WSD_EINVAL, "group appears twice",
			    "two <Group> elements for %s", id);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (grow((void **)&r->grps, &r->grps_cap, r->n_grps + 1,
		sizeof(*r->grps)) < 0 ||
	    (g.name = strdup(v[1])) == NULL)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "group");
	memmove(&r->grps[lo + 1], &r->grps[lo],
	    (r->n_grps - lo) * sizeof(*r->grps));
	r->grps[lo] = g;
	r->n_grps++;
	r->n_groups++;
	if (r->sink->group) {
		struct pkg_group pg = { id, v[1], v[2] ? pid : NULL };

		if (r->sink->group(r->sink->arg, &pg, r->err) < 0)
			return rd_sink_fail(r, "group");
	}
	return 0;
}

static int
rd_update_start(struct rd *r, struct arena *tmp)
{
	static const char *const names[] = { "id", "type", "categoryType",
		"declined", "origin", NULL };
	const char *v[5];
	unsigned char b[16];

	if (r->n_updates >= r->lim->max_updates)
		return rd_fail(r, WSD_ETOOBIG,
		    "more updates than a package holds (PKG_MAX_UPDATES)",
		    "update %llu", (unsigned long long)r->n_updates + 1);
	if (rd_attrs(r, "Update", names, v, tmp) < 0 ||
	    rd_guid(r, "Update", "id", v[0], r->u_id, b) < 0 ||
	    rd_need(r, "Update", "type", v[1]) < 0 ||
	    rd_bool(r, "Update", "declined", v[3], &r->u_declined) < 0 ||
	    rd_need(r, "Update", "origin", v[4]) < 0)
		return r->rc;
	r->in_update = true;
	if (!in_set(v[1], update_types))
		return rd_fail(r, WSD_EINVAL, "unknown update type",
		    "type %.40s", v[1]);
	if (strcmp(v[1], "Category") == 0 && r->u_declined)
		return rd_fail(r, WSD_EINVAL, "a category cannot be declined",
		    "declined=\"true\" on a category");
	if ((strcmp(v[1], "Category") == 0) != (v[2] != NULL) ||
	    (v[2] != NULL && !in_set(v[2], category_types)))
		return rd_fail(r, WSD_EINVAL, "bad category type",
		    "categoryType must be given for categories only, as "
		    "Company, ProductFamily, Product or UpdateClassification");
	if (strlen(v[4]) >= sizeof(r->u_origin) ||
	    !in_set(v[4],
		(const char *const[]){ "seed", "local", "import", "upstream",
		    NULL }))
		return rd_fail(r, WSD_EINVAL, "unknown origin", "origin %.20s",
		    v[4]);
	snprintf(r->u_type, sizeof(r->u_type), "%s", v[1]);
	snprintf(r->u_cattype, sizeof(r->u_cattype), "%s", v[2] ? v[2] : "");
	snprintf(r->u_origin, sizeof(r->u_origin), "%s", v[4]);
	r->u_last_rev = -1;
	r->u_revs = 0;
	if (grow((void **)&r->upds, &r->upds_cap, r->n_upds + 1,
		sizeof(*r->upds)) < 0)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "update index");
	memcpy(r->upds[r->n_upds].id, b, 16);
	r->upds[r->n_upds].category = strcmp(v[1], "Category") == 0;
	r->upds[r->n_upds].declined = r->u_declined;
	r->n_upds++;
	r->n_updates++;
	return 0;
}

static int
rd_update_end(struct rd *r)
{
	if (r->u_revs == 0)
		return rd_fail(r, WSD_EINVAL, "update without revisions",
		    "<Update> holds no <Revision>");
	if (r->sink->update_end &&
	    r->sink->update_end(r->sink->arg, r->u_id, r->u_declined, r->err) <
		0)
		return rd_sink_fail(r, "update");
	r->in_update = false;
	return 0;
}

static int
rd_revision_start(struct rd *r)
{
	static const char *const names[] = { "number", "explicitlyDeployable",
		"leaf", "bundle", "kb", "severity", "eula", "title", NULL };
	const char *v[8];
	uint64_t num;

	if (r->u_revs >= r->lim->max_revisions)
		return rd_fail(r, WSD_ETOOBIG,
		    "more revisions than a package holds (PKG_MAX_REVISIONS)",
		    "revision %u", r->u_revs + 1);
	arena_reset(&r->ar);
	memset(&r->rv, 0, sizeof(r->rv));
	if (rd_attrs(r, "Revision", names, v, &r->ar) < 0 ||
	    rd_u64(r, "Revision", "number", v[0], INT32_MAX, &num) < 0)
		return r->rc;
	r->rv.revision_number = (int)num;
	r->in_rev = true;
	if ((int64_t)num <= r->u_last_rev)
		return rd_fail(r, WSD_EINVAL, "revisions out of order",
		    "revision numbers of an update must ascend");
	if (rd_bool(r, "Revision", "explicitlyDeployable", v[1],
		&r->rv.explicitly_deployable) < 0 ||
	    rd_bool(r, "Revision", "leaf", v[2], &r->rv.is_leaf) < 0 ||
	    rd_bool(r, "Revision", "bundle", v[3], &r->rv.is_bundle) < 0 ||
	    rd_need(r, "Revision", "title", v[7]) < 0)
		return r->rc;
	r->rv.kb_article = v[4];
	r->rv.msrc_severity = v[5];
	r->rv.eula_id = v[6];
	r->rv.title = v[7];
	r->rv.update_id = r->u_id;
	r->rv.update_type = r->u_type;
	r->rv.category_type = r->u_cattype[0] ? r->u_cattype : NULL;
	r->rv.origin = r->u_origin;
	r->rev_order = 0;
	return 0;
}

/* Order of a revision's children (docs/PACKAGE.md). */
static int
rev_child_order(enum elem e)
{
	switch (e) {
	case E_CORE:
		return 1;
	case E_EXT:
		return 2;
	case E_LOC:
		return 3;
	case E_FILE:
		return 4;
	case E_CAT:
		return 5;
	case E_PREREQ:
		return 6;
	case E_BUNDLE:
		return 7;
	case E_SUP:
		return 8;
	default:
		return 0;
	}
}

static const char *
severity_name(enum fragment_severity s)
{
	switch (s) {
	case FRAGMENT_SEVERITY_CRITICAL:
		return "Critical";
	case FRAGMENT_SEVERITY_IMPORTANT:
		return "Important";
	case FRAGMENT_SEVERITY_MODERATE:
		return "Moderate";
	case FRAGMENT_SEVERITY_LOW:
		return "Low";
	default:
		return NULL;
	}
}

/*
 * Prerequisites and bundle members are clauses: members of one clause are
 * alternatives, clauses all apply. Two lists are the same when their
 * clauses are, whatever numbers and order either side gave them: each
 * side becomes a sorted list of clause strings (the sorted "guid:n"
 * members of one clause), and the lists are compared.
 */
struct member {
	uint32_t clause;
	char s[48]; /* "guid:n" */
};

static int
cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->clause != y->clause)
		return x->clause < y->clause ? -1 : 1;
	return strcmp(x->s, y->s);
}

static void
strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The sorted clause strings of M (N members, sorted here) into *OUT. */
static int
clause_strings(struct member *m, size_t n, char ***out, size_t *nout)
{
	char **cl;
	size_t k = 0;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return 0;
	if (n > 1)
		qsort(m, n, sizeof(*m), cmp_member);
	if ((cl = calloc(n, sizeof(*cl))) == NULL)
		return -1;
	for (size_t i = 0; i < n;) {
		size_t j = i, len = 1, w = 0;
		char *c;

		while (j < n && m[j].clause == m[i].clause)
			len += strlen(m[j++].s) + 1;
		if ((c = malloc(len)) == NULL) {
			strings_free(cl, k);
			return -1;
		}
		for (size_t x = i; x < j; x++) {
			size_t ml = strlen(m[x].s);

			memcpy(c + w, m[x].s, ml);
			c[w + ml] = ',';
			w += ml + 1;
		}
		c[w] = '\0';
		cl[k++] = c;
		i = j;
	}
	if (k > 1)
		qsort(cl, k, sizeof(*cl), cmp_str);
	*out = cl;
	*nout = k;
	return 0;
}

/* 1 when A and B are the same clauses, 0 when not, -1 out of memory. */
static int
same_clauses(struct member *a, size_t na, struct member *b, size_t nb)
{
	char **ca, **cb;
	size_t nca, ncb;
	int same;

	if (clause_strings(a, na, &ca, &nca) < 0)
		return -1;
	if (clause_strings(b, nb, &cb, &ncb) < 0) {
		strings_free(ca, nca);
		return -1;
	}
	same = nca == ncb;
	for (size_t i = 0; same && i < nca; i++)
		same = strcmp(ca[i], cb[i]) == 0;
	strings_free(ca, nca);
	strings_free(cb, ncb);
	return same;
}

/* Prerequisites and bundle members against the core fragment's. */
static int
check_relations(struct rd *r, const struct fragment_core_info *ci)
{
	const struct store_revision_in *rv = &r->rv;
	size_t np = rv->n_prereqs + ci->n_prereqs;
	size_t n = np + rv->n_bundle + ci->n_bundled;
	struct member *m = calloc(n ? n : 1, sizeof(*m)), *p;
	int same;

	if ((p = m) == NULL)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "relationships");
	for (unsigned i = 0; i < rv->n_prereqs; i++, p++) {
		p->clause = rv->prereqs[i].clause;
		snprintf(p->s, sizeof(p->s), "%.36s:%d",
		    rv->prereqs[i].update_id, rv->prereqs[i].is_category);
	}
	for (size_t i = 0; i < ci->n_prereqs; i++, p++) {
		p->clause = ci->prereqs[i].clause;
		snprintf(p->s, sizeof(p->s), "%.36s:%d", ci->prereqs[i].guid,
		    ci->prereqs[i].is_category);
	}
	for (unsigned i = 0; i < rv->n_bundle; i++, p++) {
		p->clause = rv->bundle[i].clause;
		snprintf(p->s, sizeof(p->s), "%.36s:%d",
		    rv->bundle[i].update_id, rv->bundle[i].revision_number);
	}
	for (size_t i = 0; i < ci->n_bundled; i++, p++) {
		p->clause = ci->bundled[i].clause;
		snprintf(p->s, sizeof(p->s), "%.36s:%u", ci->bundled[i].guid,
		    ci->bundled[i].revision);
	}
	same = same_clauses(m, rv->n_prereqs, m + rv->n_prereqs, ci->n_prereqs);
	if (same == 0) {
		free(m);
		return rd_fail(r, WSD_EINVAL,
		    "prerequisites differ from the core fragment",
		    "the <Prereq> entries (%u) are not the clauses the core "
		    "fragment lists (%zu members)",
		    rv->n_prereqs, ci->n_prereqs);
	}
	if (same == 1)
		same = same_clauses(m + np, rv->n_bundle, m + np + rv->n_bundle,
		    ci->n_bundled);
	free(m);
	if (same == 0)
		return rd_fail(r, WSD_EINVAL,
		    "bundle members differ from the core fragment",
		    "the <Bundle> entries (%u) are not the members the core "
		    "fragment lists (%zu)",
		    rv->n_bundle, ci->n_bundled);
	if (same < 0)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "relationships");
	return 0;
}

static int
check_core(struct rd *r)
{
	const struct store_revision_in *rv = &r->rv;
	struct fragment_core_info ci;
	struct wsd_err fe;
	const char **s1 = NULL, **s2 = NULL;
	int rc = 0;

	if (fragment_parse_core(rv->xml_core, rv->xml_core_len, &ci, &fe) < 0)
		return rd_fail(r, fe.code, "core fragment refused", "%s",
		    fe.what);
	if (strcmp(ci.update_id, rv->update_id) != 0) {
		rc =
		    rd_fail(r, WSD_EINVAL, "core fragment names another update",
			"its UpdateIdentity says %s", ci.update_id);
		goto out;
	}
	if ((int64_t)ci.revision_number != rv->revision_number) {
		rc = rd_fail(r, WSD_EINVAL,
		    "core fragment names another revision",
		    "its UpdateIdentity says RevisionNumber %u",
		    ci.revision_number);
		goto out;
	}
	if (strcmp(fragment_update_type_name(ci.type), rv->update_type) != 0) {
		rc = rd_fail(r, WSD_EINVAL,
		    "core fragment has another update type",
		    "its Properties say UpdateType %s, the package %s",
		    fragment_update_type_name(ci.type), rv->update_type);
		goto out;
	}
	if (ci.explicitly_deployable != rv->explicitly_deployable ||
	    (ci.n_bundled > 0) != rv->is_bundle) {
		rc = rd_fail(r, WSD_EINVAL,
		    "revision flags differ from the core fragment",
		    "explicitlyDeployable or bundle disagrees with the "
		    "fragment");
		goto out;
	}
	if (ci.n_supersedes != rv->n_supersedes) {
		rc = rd_fail(r, WSD_EINVAL,
		    "superseded updates differ from the core fragment",
		    "%u <Supersedes>, the fragment lists %zu", rv->n_supersedes,
		    ci.n_supersedes);
		goto out;
	}
	if (rv->n_supersedes > 0) {
		if ((s1 = malloc(rv->n_supersedes * sizeof(*s1))) == NULL ||
		    (s2 = malloc(rv->n_supersedes * sizeof(*s2))) == NULL) {
			rc = rd_fail(r, WSD_ENOMEM, "out of memory",
			    "supersedes");
			goto out;
		}
		for (unsigned i = 0; i < rv->n_supersedes; i++) {
			s1[i] = rv->supersedes[i];
			s2[i] = ci.supersedes[i].s;
		}
		if (rv->n_supersedes > 1)
			qsort(s1, rv->n_supersedes, sizeof(*s1), cmp_str);
		if (rv->n_supersedes > 1)
			qsort(s2, rv->n_supersedes, sizeof(*s2), cmp_str);
		for (unsigned i = 0; i < rv->n_supersedes; i++)
			if (strcmp(s1[i], s2[i]) != 0) {
				rc = rd_fail(r, WSD_EINVAL,
				    "superseded updates differ from the core "
				    "fragment",
				    "%s is not in the fragment's "
				    "SupersededUpdates",
				    s1[i]);
				goto out;
			}
	}
	if ((rc = check_relations(r, &ci)) < 0)
		goto out;
	/* Categories are the category prerequisites (products,
	 * classifications, a category's parent). */
	for (unsigned i = 0; i < rv->n_categories; i++) {
		size_t k;

		for (k = 0; k < ci.n_prereqs; k++)
			if (ci.prereqs[k].is_category &&
			    strcmp(ci.prereqs[k].guid, rv->categories[i]) == 0)
				break;
		if (k == ci.n_prereqs) {
			rc = rd_fail(r, WSD_EINVAL,
			    "category not in the core fragment",
			    "category %s is not a category prerequisite of "
			    "the fragment",
			    rv->categories[i]);
			goto out;
		}
	}
out:
	free(s1);
	free(s2);
	fragment_core_info_release(&ci);
	return rc;
}

static int
check_extended(struct rd *r)
{
	const struct store_revision_in *rv = &r->rv;
	struct fragment_extended_info ei;
	struct wsd_err fe;
	int rc = 0;

	if (rv->xml_extended == NULL) {
		if (rv->n_files > 0)
			return rd_fail(r, WSD_EINVAL,
			    "files without an extended fragment",
			    "%u <File> entries but no <Extended>", rv->n_files);
		return 0;
	}
	if (fragment_parse_extended(rv->xml_extended, rv->xml_extended_len, &ei,
		&fe) < 0)
		return rd_fail(r, fe.code, "extended fragment refused", "%s",
		    fe.what);
	if (rv->category_type != NULL &&
	    ei.category_type != FRAGMENT_CAT_NONE &&
	    strcmp(fragment_category_type_name(ei.category_type),
		rv->category_type) != 0) {
		rc = rd_fail(r, WSD_EINVAL,
		    "category type differs from the extended fragment",
		    "the fragment says %s, the package %s",
		    fragment_category_type_name(ei.category_type),
		    rv->category_type);
		goto out;
	}
	if (ei.n_files != rv->n_files) {
		rc = rd_fail(r, WSD_EINVAL,
		    "files differ from the extended fragment",
		    "%u <File> entries, the fragment lists %zu", rv->n_files,
		    ei.n_files);
		goto out;
	}
	for (unsigned i = 0; i < rv->n_files; i++) {
		const struct store_file *f = &rv->files[i];
		const struct fragment_file_info *g = NULL;
		char hex[41];

		for (size_t k = 0; k < ei.n_files && g == NULL; k++)
			if (memcmp(ei.files[k].sha1, f->sha1, 20) == 0)
				g = &ei.files[k];
		hex_encode_upper(f->sha1, 20, hex);
		if (g == NULL) {
			rc = rd_fail(r, WSD_EINVAL,
			    "file digest differs from the extended fragment",
			    "SHA-1 %s is not a file of the fragment", hex);
			goto out;
		}
		if (g->size != f->size) {
			rc = rd_fail(r, WSD_EINVAL,
			    "file size differs from the extended fragment",
			    "file %s: %llu bytes, the fragment says %llu", hex,
			    (unsigned long long)f->size,
			    (unsigned long long)g->size);
			goto out;
		}
		if (f->has_sha256 && g->has_sha256 &&
		    memcmp(f->sha256, g->sha256, 32) != 0) {
			rc = rd_fail(r, WSD_EINVAL,
			    "file digest differs from the extended fragment",
			    "file %s: the SHA-256 differs from the fragment's "
			    "AdditionalDigest",
			    hex);
			goto out;
		}
	}
	if (rv->kb_article != NULL && ei.kb_article_id != NULL &&
	    strcmp(rv->kb_article, ei.kb_article_id) != 0) {
		rc = rd_fail(r, WSD_EINVAL,
		    "KB article differs from the extended fragment",
		    "kb %.20s, the fragment says %.20s", rv->kb_article,
		    ei.kb_article_id);
		goto out;
	}
	if (rv->msrc_severity != NULL && severity_name(ei.msrc_severity) &&
	    strcasecmp(rv->msrc_severity, severity_name(ei.msrc_severity)) !=
		0) {
		rc = rd_fail(r, WSD_EINVAL,
		    "severity differs from the extended fragment",
		    "severity %.20s, the fragment says %s", rv->msrc_severity,
		    severity_name(ei.msrc_severity));
		goto out;
	}
out:
	fragment_extended_info_release(&ei);
	return rc;
}

static int
check_localized(struct rd *r)
{
	const struct store_revision_in *rv = &r->rv;

	for (unsigned i = 0; i < rv->n_localized; i++) {
		const struct store_localized *l = &rv->localized[i];
		struct fragment_localized_info li;
		struct wsd_err fe;
		int rc = 0;

		for (unsigned k = 0; k < i; k++)
			if (strcasecmp(rv->localized[k].language,
				l->language) == 0)
				return rd_fail(r, WSD_EINVAL,
				    "language appears twice",
				    "two <Localized> for %.35s", l->language);
		if (fragment_parse_localized(l->xml, l->xml_len, &li, &fe) < 0)
			return rd_fail(r, fe.code, "localized fragment refused",
			    "%.35s: %s", l->language, fe.what);
		if (strcasecmp(li.language, l->language) != 0)
			rc = rd_fail(r, WSD_EINVAL,
			    "localized fragment has another language",
			    "lang %.35s, the fragment says %.35s", l->language,
			    li.language);
		else if (l->title[0] != '\0' && strcmp(li.title, l->title) != 0)
			rc = rd_fail(r, WSD_EINVAL,
			    "localized title differs from the fragment",
			    "lang %.35s", l->language);
		fragment_localized_info_release(&li);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
rd_revision_end(struct rd *r)
{
	struct store_revision_in *rv = &r->rv;

	if (rv->xml_core == NULL)
		return rd_fail(r, WSD_EINVAL, "revision without core metadata",
		    "no <Core>");
	rv->localized = r->loc;
	rv->files = r->files;
	rv->categories = r->cats;
	rv->prereqs = r->pre;
	rv->bundle = r->bun;
	rv->supersedes = r->sup;
	if (check_core(r) < 0 || check_extended(r) < 0 ||
	    check_localized(r) < 0)
		return r->rc;
	if (grow((void **)&r->frefs, &r->frefs_cap, r->n_frefs + rv->n_files,
		sizeof(*r->frefs)) < 0)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "file index");
	for (unsigned i = 0; i < rv->n_files; i++) {
		struct file_ref *f = &r->frefs[r->n_frefs++];

		memcpy(f->sha1, rv->files[i].sha1, 20);
		memcpy(f->sha256, rv->files[i].sha256, 32);
		f->has_sha256 = rv->files[i].has_sha256;
		f->size = rv->files[i].size;
	}
	/* Revisions share files and the bound is on distinct SHA-1s: the
	 * index is folded once a quarter of the bound was added since the
	 * last fold (amortised: never a sort per revision), so it holds at
	 * most 1.25 times the bound. */
	if (r->n_frefs > r->fref_fold && rd_fold_files(r) < 0)
		return r->rc;
	if (r->sink->revision &&
	    r->sink->revision(r->sink->arg, rv, r->err) < 0)
		return rd_sink_fail(r, "revision");
	r->u_last_rev = rv->revision_number;
	r->u_revs++;
	r->n_revisions++;
	r->in_rev = false;
	return 0;
}

/* Counts one more entry of a revision against its bound. */
static int
rev_slot(struct rd *r, void **arr, size_t *cap, unsigned *n, size_t elem,
    uint32_t max, const char *what)
{
	if (*n >= max)
		return rd_fail(r, WSD_ETOOBIG,
		    "revision has more entries than a package holds", "%s",
		    what);
	if (grow(arr, cap, (size_t)*n + 1, elem) < 0)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "%s", what);
	return 0;
}

static int
rd_relations_ok(struct rd *r)
{
	if ((uint64_t)r->rv.n_prereqs + r->rv.n_bundle + r->rv.n_supersedes >=
	    r->lim->max_relations)
		return rd_fail(r, WSD_ETOOBIG,
		    "revision has more entries than a package holds",
		    "prerequisites, bundle members and superseded updates "
		    "(WSD_MAX_FRAGMENT_RELATIONSHIPS)");
	return 0;
}

/* A child of <Revision> that is an empty element with attributes. */
static int
rd_rev_empty(struct rd *r, enum elem e)
{
	struct store_revision_in *rv = &r->rv;
	unsigned char b[16];
	char id[37];

	switch (e) {
	case E_FILE: {
		static const char *const names[] = { "sha1", "sha256", "size",
			"name", "modified", "patching", NULL };
		const char *v[6];
		struct store_file *f;
		uint64_t sz;

		if (rev_slot(r, (void **)&r->files, &r->files_cap, &rv->n_files,
			sizeof(*r->files), r->lim->max_rev_files, "files") < 0)
			return r->rc;
		f = &r->files[rv->n_files];
		memset(f, 0, sizeof(*f));
		if (rd_attrs(r, "File", names, v, &r->ar) < 0 ||
		    rd_hex(r, "File", "sha1", v[0], f->sha1, 20) < 0 ||
		    (v[1] != NULL &&
			rd_hex(r, "File", "sha256", v[1], f->sha256, 32) < 0) ||
		    rd_u64(r, "File", "size", v[2], INT64_MAX, &sz) < 0 ||
		    rd_need(r, "File", "name", v[3]) < 0 ||
		    rd_need(r, "File", "modified", v[4]) < 0)
			return r->rc;
		f->has_sha256 = v[1] != NULL;
		f->size = sz;
		f->file_name = v[3];
		f->modified = v[4];
		f->patching_type = v[5];
		rv->n_files++;
		return 0;
	}
	case E_CAT:
	case E_SUP: {
		static const char *const names[] = { "id", NULL };
		const char *v[1];
		const char **slot;
		bool cat = e == E_CAT;

		if (cat ? rev_slot(r, (void **)&r->cats, &r->cats_cap,
			      &rv->n_categories, sizeof(*r->cats),
			      r->lim->max_categories, "categories") < 0
			: (rd_relations_ok(r) < 0 ||
			      rev_slot(r, (void **)&r->sup, &r->sup_cap,
				  &rv->n_supersedes, sizeof(*r->sup),
				  UINT32_MAX, "superseded updates") < 0))
			return r->rc;
		if (rd_attrs(r, elem_defs[e].name, names, v, &r->ar) < 0 ||
		    rd_guid(r, elem_defs[e].name, "id", v[0], id, b) < 0)
			return r->rc;
		slot = cat ? &r->cats[rv->n_categories++]
			   : &r->sup[rv->n_supersedes++];
		if ((*slot = arena_strdup(&r->ar, id)) == NULL)
			return rd_fail(r, WSD_ENOMEM, "out of memory", "id");
		return 0;
	}
	case E_PREREQ: {
		static const char *const names[] = { "clause", "id", "category",
			NULL };
		const char *v[3];
		struct store_prereq *p;
		uint64_t cl;

		if (rd_relations_ok(r) < 0 ||
		    rev_slot(r, (void **)&r->pre, &r->pre_cap, &rv->n_prereqs,
			sizeof(*r->pre), UINT32_MAX, "prerequisites") < 0)
			return r->rc;
		p = &r->pre[rv->n_prereqs];
		if (rd_attrs(r, "Prereq", names, v, &r->ar) < 0 ||
		    rd_u64(r, "Prereq", "clause", v[0], r->lim->max_relations,
			&cl) < 0 ||
		    rd_guid(r, "Prereq", "id", v[1], id, b) < 0 ||
		    rd_bool(r, "Prereq", "category", v[2], &p->is_category) < 0)
			return r->rc;
		p->clause = (unsigned)cl;
		if ((p->update_id = arena_strdup(&r->ar, id)) == NULL)
			return rd_fail(r, WSD_ENOMEM, "out of memory", "id");
		rv->n_prereqs++;
		return 0;
	}
	case E_BUNDLE: {
		static const char *const names[] = { "clause", "id", "revision",
			NULL };
		const char *v[3];
		struct store_bundle_member *m;
		uint64_t cl, rn;

		if (rd_relations_ok(r) < 0 ||
		    rev_slot(r, (void **)&r->bun, &r->bun_cap, &rv->n_bundle,
			sizeof(*r->bun), UINT32_MAX, "bundle members") < 0)
			return r->rc;
		m = &r->bun[rv->n_bundle];
		if (rd_attrs(r, "Bundle", names, v, &r->ar) < 0 ||
		    rd_u64(r, "Bundle", "clause", v[0], r->lim->max_relations,
			&cl) < 0 ||
		    rd_guid(r, "Bundle", "id", v[1], id, b) < 0 ||
		    rd_u64(r, "Bundle", "revision", v[2], INT32_MAX, &rn) < 0)
			return r->rc;
		m->clause = (unsigned)cl;
		m->revision_number = (int)rn;
		if ((m->update_id = arena_strdup(&r->ar, id)) == NULL)
			return rd_fail(r, WSD_ENOMEM, "out of memory", "id");
		rv->n_bundle++;
		return 0;
	}
	default:
		return rd_fail(r, WSD_EINTERNAL, "internal error", "element");
	}
}

/* Starts collecting base64 text of up to MAX decoded bytes. */
static void
text_begin(struct rd *r, size_t max_decoded)
{
	r->text_len = 0;
	r->text_max = (max_decoded + 2) / 3 * 4;
}

static int
text_add(struct rd *r, const char *t)
{
	size_t n = strlen(t);

	if (r->text_len + n > r->text_max) {
		enum elem e = r->stack[r->open];

		return rd_fail(r, WSD_ETOOBIG,
		    e == E_CHUNK           ? "chunk larger than 1 MiB of base64"
			: e == E_SIGNATURE ? "signature too large"
					   : "fragment larger than 1 MiB "
					     "(WSD_MAX_FRAGMENT_BYTES)",
		    "<%s>: more than %zu characters of base64",
		    elem_defs[e].name, r->text_max);
	}
	if (grow((void **)&r->text, &r->text_cap, r->text_len + n + 1, 1) < 0)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "text");
	memcpy(r->text + r->text_len, t, n);
	r->text_len += n;
	r->text[r->text_len] = '\0';
	return 0;
}

/* Decodes the collected text into the revision arena. */
static int
text_decode(struct rd *r, const char **out, size_t *outlen)
{
	unsigned char *p;

	if (r->text_len == 0)
		return rd_fail(r, WSD_EINVAL, "empty fragment",
		    "<%s> holds no data", elem_defs[r->stack[r->open]].name);
	if ((p = arena_alloc(&r->ar, r->text_len / 4 * 3 + 1)) == NULL)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "fragment");
	if (b64_decode_strict(r->text, r->text_len, p, outlen) < 0)
		return rd_fail(r, WSD_EINVAL, "malformed base64",
		    "<%s> is not strict padded base64",
		    elem_defs[r->stack[r->open]].name);
	if (*outlen > r->lim->max_fragment)
		return rd_fail(r, WSD_ETOOBIG,
		    "fragment larger than 1 MiB (WSD_MAX_FRAGMENT_BYTES)",
		    "<%s>", elem_defs[r->stack[r->open]].name);
	if (r->ar.total > r->lim->max_revision_bytes)
		return rd_fail(r, WSD_ETOOBIG,
		    "revision larger than 16 MiB (PKG_MAX_REVISION_BYTES)",
		    "<%s>", elem_defs[r->stack[r->open]].name);
	p[*outlen] = '\0';
	*out = (const char *)p;
	return 0;
}

static int
rd_approval(struct rd *r, struct arena *tmp)
{
	static const char *const names[] = { "update", "group", "action",
		"deadline", NULL };
	const char *v[4];
	struct upd_ref key, *u;
	struct grp_ref gkey;
	char uid[37], gid[37];

	if (!r->hdr.approvals)
		return rd_fail(r, WSD_EINVAL, "unexpected element",
		    "<Approval> in a package without approvals");
	if (r->n_approvals >= r->lim->max_approvals)
		return rd_fail(r, WSD_ETOOBIG,
		    "more approvals than a package holds (PKG_MAX_APPROVALS)",
		    "approval %llu", (unsigned long long)r->n_approvals + 1);
	if (rd_attrs(r, "Approval", names, v, tmp) < 0 ||
	    rd_guid(r, "Approval", "update", v[0], uid, key.id) < 0 ||
	    rd_guid(r, "Approval", "group", v[1], gid, gkey.id) < 0 ||
	    rd_need(r, "Approval", "action", v[2]) < 0)
		return r->rc;
	if (!in_set(v[2], actions))
		return rd_fail(r, WSD_EINVAL, "unknown approval action",
		    "action %.20s", v[2]);
	if (v[3] != NULL && !deadline_ok(v[3]))
		return rd_fail(r, WSD_EINVAL, "malformed deadline",
		    "deadline %.40s", v[3]);
	if ((u = bfind(&key, r->upds, r->n_upds, sizeof(*r->upds), cmp_upd)) ==
	    NULL)
		return rd_fail(r, WSD_EINVAL,
		    "approval for an update not in the package", "update %s",
		    uid);
	if (u->category)
		return rd_fail(r, WSD_EINVAL, "approval for a category",
		    "update %s is a category", uid);
	if (u->declined && strcmp(v[2], "NotApproved") != 0)
		return rd_fail(r, WSD_EINVAL, "approval of a declined update",
		    "update %s", uid);
	if (bfind(&gkey, r->grps, r->n_grps, sizeof(*r->grps), cmp_grp) == NULL)
		return rd_fail(r, WSD_EINVAL,
		    "approval for a group not in the package", "group %s", gid);
	if (grow((void **)&r->apprs, &r->apprs_cap, r->n_apprs + 1,
		sizeof(*r->apprs)) < 0)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "approvals");
	memcpy(r->apprs[r->n_apprs].key, key.id, 16);
	memcpy(r->apprs[r->n_apprs].key + 16, gkey.id, 16);
	r->n_apprs++;
	r->n_approvals++;
	if (r->sink->approval) {
		struct pkg_approval a = { uid, gid, v[2], v[3] };

		if (r->sink->approval(r->sink->arg, &a, r->err) < 0)
			return rd_sink_fail(r, "approval");
	}
	return 0;
}

static int
rd_content_end(struct rd *r)
{
	unsigned char d1[20], d2[32];
	char hex[41];

	hex_encode_upper(r->c.sha1, 20, hex);
	if (r->c_got != r->c.size)
		return rd_fail(r, WSD_EINVAL, "content shorter than its size",
		    "content %s: %llu of %llu bytes", hex,
		    (unsigned long long)r->c_got,
		    (unsigned long long)r->c.size);
	if (EVP_DigestFinal_ex(r->c_sha1, d1, NULL) != 1 ||
	    EVP_DigestFinal_ex(r->c_sha256, d2, NULL) != 1)
		return rd_fail(r, WSD_EINTERNAL, "digest failed", "content");
	if (CRYPTO_memcmp(d1, r->c.sha1, 20) != 0)
		return rd_fail(r, WSD_EINVAL, "SHA-1 digest mismatch",
		    "content %s does not hash to its name", hex);
	if (r->c.has_sha256 && CRYPTO_memcmp(d2, r->c.sha256, 32) != 0)
		return rd_fail(r, WSD_EINVAL, "SHA-256 digest mismatch",
		    "content %s does not match its SHA-256", hex);
	if (r->sink->content_end &&
	    r->sink->content_end(r->sink->arg, &r->c, r->err) < 0)
		return rd_sink_fail(r, "content");
	r->n_contents++;
	return 0;
}

static int
rd_content_start(struct rd *r, struct arena *tmp, bool empty)
{
	static const char *const names[] = { "sha1", "sha256", "size", "name",
		NULL };
	const char *v[4];
	struct file_ref key, *f;
	char hex[41];

	if (!r->hdr.content)
		return rd_fail(r, WSD_EINVAL, "unexpected element",
		    "<Content> in a package without content");
	if (r->n_conts >= r->lim->max_contents)
		return rd_fail(r, WSD_ETOOBIG,
		    "more content files than a package holds", "content %zu",
		    r->n_conts + 1);
	memset(&r->c, 0, sizeof(r->c));
	if (rd_attrs(r, "Content", names, v, tmp) < 0 ||
	    rd_hex(r, "Content", "sha1", v[0], r->c.sha1, 20) < 0 ||
	    (v[1] != NULL &&
		rd_hex(r, "Content", "sha256", v[1], r->c.sha256, 32) < 0) ||
	    rd_u64(r, "Content", "size", v[2], INT64_MAX, &r->c.size) < 0 ||
	    rd_need(r, "Content", "name", v[3]) < 0)
		return r->rc;
	r->c.has_sha256 = v[1] != NULL;
	snprintf(r->c_name, sizeof(r->c_name), "%s", v[3]);
	r->c.name = r->c_name;
	hex_encode_upper(r->c.sha1, 20, hex);
	memcpy(key.sha1, r->c.sha1, 20);
	if ((f = bfind(&key, r->frefs, r->n_frefs, sizeof(*r->frefs),
		 cmp_fref)) == NULL)
		return rd_fail(r, WSD_EINVAL,
		    "content for a file no revision names", "content %s", hex);
	if (f->size != r->c.size || f->has_sha256 != r->c.has_sha256 ||
	    (f->has_sha256 && memcmp(f->sha256, r->c.sha256, 32) != 0))
		return rd_fail(r, WSD_EINVAL,
		    "content differs from its file metadata",
		    "content %s: size or SHA-256 is not the <File>'s", hex);
	if (r->c.size > r->lim->max_content_file)
		return rd_fail(r, WSD_ETOOBIG,
		    "content file larger than 64 GiB (PKG_MAX_CONTENT_FILE)",
		    "content %s", hex);
	if (grow((void **)&r->conts, &r->conts_cap, r->n_conts + 1, 20) < 0)
		return rd_fail(r, WSD_ENOMEM, "out of memory", "content index");
	memcpy(r->conts[r->n_conts++], r->c.sha1, 20);
	r->c_got = 0;
	if (EVP_DigestInit_ex(r->c_sha1, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestInit_ex(r->c_sha256, EVP_sha256(), NULL) != 1)
		return rd_fail(r, WSD_EINTERNAL, "digest failed", "content");
	if (r->sink->content_begin &&
	    r->sink->content_begin(r->sink->arg, &r->c, r->err) < 0)
		return rd_sink_fail(r, "content");
	if (empty)
		return rd_content_end(r);
	return 0;
}

static int
rd_chunk_end(struct rd *r)
{
	size_t n;
	char hex[41];

	if (r->text_len == 0)
		return rd_fail(r, WSD_EINVAL, "empty chunk", "<Chunk/>");
	if (b64_decode_strict(r->text, r->text_len, r->chunk, &n) < 0)
		return rd_fail(r, WSD_EINVAL, "malformed base64",
		    "<Chunk> is not strict padded base64");
	hex_encode_upper(r->c.sha1, 20, hex);
	if (n > r->c.size - r->c_got)
		return rd_fail(r, WSD_EINVAL, "content longer than its size",
		    "content %s: more than %llu bytes", hex,
		    (unsigned long long)r->c.size);
	r->c_got += n;
	r->content_total += n;
	if (r->content_total > r->lim->max_content)
		return rd_fail(r, WSD_ETOOBIG, "content exceeds the cap",
		    "more than %llu bytes of content (PKG_MAX_CONTENT_BYTES)",
		    (unsigned long long)r->lim->max_content);
	if (EVP_DigestUpdate(r->c_sha1, r->chunk, n) != 1 ||
	    EVP_DigestUpdate(r->c_sha256, r->chunk, n) != 1)
		return rd_fail(r, WSD_EINTERNAL, "digest failed", "content");
	if (r->sink->content_data &&
	    r->sink->content_data(r->sink->arg, r->chunk, n, r->err) < 0)
		return rd_sink_fail(r, "content");
	return 0;
}

static int
rd_manifest(struct rd *r, struct arena *tmp)
{
	static const char *const names[] = { "updates", "revisions", "groups",
		"approvals", "contents", "bytes", "sha256", NULL };
	const char *v[7];

	if (r->manifest_seen)
		return rd_fail(r, WSD_EINVAL, "two manifests", "<Manifest>");
	r->manifest_seen = true;
	/* The values were checked by the stream (st_finish) against the
	 * exact bytes; here only that nothing else hides in it. */
	return rd_attrs(r, "Manifest", names, v, tmp);
}

/* An element opens. */
static int
rd_open(struct rd *r, struct arena *tmp)
{
	const char *name = (const char *)xmlTextReaderConstLocalName(r->xr);
	const xmlChar *prefix = xmlTextReaderConstPrefix(r->xr);
	int depth = xmlTextReaderDepth(r->xr);
	bool empty = xmlTextReaderIsEmptyElement(r->xr) == 1;
	enum elem parent, e = E_NONE;

	if (name == NULL || prefix != NULL)
		return rd_fail(r, WSD_EINVAL, "unexpected element",
		    "a namespace prefix or nameless element");
	if (depth < 0 ||
	    depth >= (int)(sizeof(r->stack) / sizeof(r->stack[0])) - 1)
		return rd_fail(r, WSD_EINVAL, "elements nested too deep",
		    "depth %d", depth);
	parent = depth == 0 ? E_NONE : r->stack[depth - 1];
	for (size_t i = 1; i < N_ELEMS; i++)
		if (elem_defs[i].parent == parent &&
		    strcmp(elem_defs[i].name, name) == 0)
			e = (enum elem)i;
	if (e == E_NONE || (e == E_ROOT && r->root_seen))
		return rd_fail(r, WSD_EINVAL, "unexpected element",
		    "<%.40s> cannot appear %s%s", name,
		    parent == E_NONE ? "at the top" : "inside <",
		    parent == E_NONE ? "" : elem_defs[parent].name);
	if (elem_defs[e].empty && !empty)
		return rd_fail(r, WSD_EINVAL, "unexpected content",
		    "<%s> must be an empty element", name);
	r->stack[depth] = e;
	if (!empty)
		r->open = depth;
	switch (e) {
	case E_ROOT:
		r->root_seen = true;
		return empty
		    ? rd_fail(r, WSD_EINVAL, "empty package", "<WsusdPackage/>")
		    : rd_root(r);
	case E_GROUP:
		return rd_section(r, S_GROUPS, name) < 0 ? r->rc
							 : rd_group(r, tmp);
	case E_UPDATE:
		if (rd_section(r, S_UPDATES, name) < 0 ||
		    rd_update_start(r, tmp) < 0)
			return r->rc;
		return empty ? rd_update_end(r) : 0;
	case E_REVISION:
		if (rd_revision_start(r) < 0)
			return r->rc;
		return empty ? rd_revision_end(r) : 0;
	case E_CORE:
	case E_EXT:
	case E_LOC:
	case E_FILE:
	case E_CAT:
	case E_PREREQ:
	case E_BUNDLE:
	case E_SUP: {
		int ord = rev_child_order(e);

		if (ord < r->rev_order ||
		    (ord == r->rev_order && (e == E_CORE || e == E_EXT)) ||
		    (e != E_CORE && r->rev_order == 0))
			return rd_fail(r, WSD_EINVAL, "elements out of order",
			    "<%s> in <Revision>: the order is Core, "
			    "Extended, Localized, File, Category, Prereq, "
			    "Bundle, Supersedes",
			    name);
		r->rev_order = ord;
		if (e == E_LOC) {
			static const char *const names[] = { "lang", "title",
				NULL };
			const char *v[2];

			if (rd_attrs(r, "Localized", names, v, &r->ar) < 0 ||
			    rd_need(r, "Localized", "lang", v[0]) < 0 ||
			    rd_need(r, "Localized", "title", v[1]) < 0)
				return r->rc;
			if (strlen(v[0]) >= sizeof(r->loc_lang) || v[0][0] == 0)
				return rd_fail(r, WSD_EINVAL, "bad language",
				    "lang %.40s", v[0]);
			snprintf(r->loc_lang, sizeof(r->loc_lang), "%s", v[0]);
			r->loc_title = v[1];
		} else if (e == E_CORE || e == E_EXT) {
			static const char *const none[] = { NULL };
			const char *v[1];

			if (rd_attrs(r, name, none, v, tmp) < 0)
				return r->rc;
		}
		if (elem_defs[e].text) {
			text_begin(r, r->lim->max_fragment);
			return empty ? rd_fail(r, WSD_EINVAL, "empty fragment",
					   "<%s/>", name)
				     : 0;
		}
		return rd_rev_empty(r, e);
	}
	case E_APPROVAL:
		return rd_section(r, S_APPROVALS, name) < 0
		    ? r->rc
		    : rd_approval(r, tmp);
	case E_CONTENT:
		return rd_section(r, S_CONTENTS, name) < 0
		    ? r->rc
		    : rd_content_start(r, tmp, empty);
	case E_CHUNK: {
		static const char *const none[] = { NULL };
		const char *v[1];

		if (rd_attrs(r, name, none, v, tmp) < 0)
			return r->rc;
		text_begin(r, PKG_CHUNK_BYTES);
		return empty ? rd_fail(r, WSD_EINVAL, "empty chunk", "<Chunk/>")
			     : 0;
	}
	case E_MANIFEST:
		return rd_section(r, S_MANIFEST, name) < 0
		    ? r->rc
		    : rd_manifest(r, tmp);
	case E_SIGNATURE: {
		static const char *const names[] = { "certificate", NULL };
		const char *v[1];

		if (r->sec == S_SIGNATURE)
			return rd_fail(r, WSD_EINVAL, "two signatures",
			    "<Signature>");
		if (rd_section(r, S_SIGNATURE, name) < 0 ||
		    rd_attrs(r, name, names, v, tmp) < 0)
			return r->rc;
		/* Checked by the stream, byte for byte. */
		text_begin(r, PKG_MAX_SIGNATURE_ELEMENT);
		return 0;
	}
	default:
		return rd_fail(r, WSD_EINTERNAL, "internal error", "element");
	}
}

/* An element with content closes. */
static int
rd_close(struct rd *r)
{
	int depth = xmlTextReaderDepth(r->xr);
	enum elem e;

	if (depth < 0 || depth != r->open)
		return rd_fail(r, WSD_EINTERNAL, "internal error", "depth");
	r->open = depth - 1;
	e = r->stack[depth];
	switch (e) {
	case E_ROOT:
		if (!r->manifest_seen)
			return rd_fail(r, WSD_EINVAL,
			    "package has no manifest at its end",
			    "</WsusdPackage> without <Manifest/>");
		return rd_section(r, S_END, "/WsusdPackage");
	case E_UPDATE:
		return rd_update_end(r);
	case E_REVISION:
		return rd_revision_end(r);
	case E_CORE:
		return text_decode(r, &r->rv.xml_core, &r->rv.xml_core_len);
	case E_EXT:
		return text_decode(r, &r->rv.xml_extended,
		    &r->rv.xml_extended_len);
	case E_LOC: {
		struct store_localized *l;
		const char *xml;
		size_t len;

		if (text_decode(r, &xml, &len) < 0 ||
		    rev_slot(r, (void **)&r->loc, &r->loc_cap,
			&r->rv.n_localized, sizeof(*r->loc),
			r->lim->max_localized, "languages") < 0)
			return r->rc;
		l = &r->loc[r->rv.n_localized++];
		l->language = arena_strdup(&r->ar, r->loc_lang);
		l->title = r->loc_title;
		l->xml = xml;
		l->xml_len = len;
		if (l->language == NULL)
			return rd_fail(r, WSD_ENOMEM, "out of memory", "lang");
		return 0;
	}
	case E_CONTENT:
		return rd_content_end(r);
	case E_CHUNK:
		return rd_chunk_end(r);
	case E_SIGNATURE:
		return 0;
	default:
		return rd_fail(r, WSD_EINTERNAL, "internal error", "close");
	}
}

static int
rd_node(struct rd *r, struct arena *tmp)
{
	int type = xmlTextReaderNodeType(r->xr);

	switch (type) {
	case XML_READER_TYPE_ELEMENT:
		arena_reset(tmp);
		return rd_open(r, tmp);
	case XML_READER_TYPE_END_ELEMENT:
		return rd_close(r);
	case XML_READER_TYPE_TEXT: {
		const char *t = (const char *)xmlTextReaderConstValue(r->xr);
		int depth = xmlTextReaderDepth(r->xr);

		if (depth < 1 || depth - 1 != r->open ||
		    !elem_defs[r->stack[r->open]].text)
			return rd_fail(r, WSD_EINVAL, "unexpected text",
			    "text outside Core, Extended, Localized, Chunk "
			    "and Signature");
		return t == NULL
		    ? rd_fail(r, WSD_ENOMEM, "out of memory", "text")
		    : text_add(r, t);
	}
	case XML_READER_TYPE_WHITESPACE:
	case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: {
		int depth = xmlTextReaderDepth(r->xr);

		/* Newlines between elements; base64 has no whitespace. */
		if (depth >= 1 && depth - 1 == r->open &&
		    elem_defs[r->stack[r->open]].text)
			return rd_fail(r, WSD_EINVAL, "malformed base64",
			    "whitespace inside <%s>",
			    elem_defs[r->stack[r->open]].name);
		return 0;
	}
	case XML_READER_TYPE_DOCUMENT_TYPE:
		return rd_fail(r, WSD_EINVAL, "DOCTYPE in package",
		    "a document type declaration");
	case XML_READER_TYPE_COMMENT:
		return rd_fail(r, WSD_EINVAL, "comment in package", "<!--");
	case XML_READER_TYPE_PROCESSING_INSTRUCTION:
		return rd_fail(r, WSD_EINVAL,
		    "processing instruction in package", "<?");
	case XML_READER_TYPE_CDATA:
		return rd_fail(r, WSD_EINVAL, "CDATA section in package",
		    "<![CDATA[");
	case XML_READER_TYPE_ENTITY_REFERENCE:
	case XML_READER_TYPE_ENTITY:
		return rd_fail(r, WSD_EINVAL, "entity reference in package",
		    "&...;");
	default:
		return rd_fail(r, WSD_EINVAL, "unexpected XML node",
		    "node type %d", type);
	}
}

static void
rd_release(struct rd *r)
{
	if (r->xr != NULL)
		xmlFreeTextReader(r->xr);
	st_release(&r->s);
	arena_release(&r->ar);
	free(r->loc);
	free(r->files);
	free(r->cats);
	free(r->pre);
	free(r->bun);
	free(r->sup);
	free(r->text);
	free(r->upds);
	free(r->frefs);
	for (size_t i = 0; i < r->n_grps; i++)
		free(r->grps[i].name);
	free(r->grps);
	free(r->apprs);
	free(r->conts);
	EVP_MD_CTX_free(r->c_sha1);
	EVP_MD_CTX_free(r->c_sha256);
	free(r->chunk);
}

static bool
same_bytes(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

int
pkg_read(int fd, const struct pkg_limits *lim,
    const struct pkg_manifest *expect, const struct pkg_sink *sink,
    struct pkg_report *rep, struct wsd_err *err)
{
	static const struct pkg_sink none = { 0 };
	struct arena tmp = { 0 };
	struct rd *r;
	int rc, xr = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	r->lim = lim;
	r->open = -1;
	r->fref_fold = lim->max_files / 4 + 1;
	r->sink = sink ? sink : &none;
	r->rep = rep;
	r->err = err;
	if (st_init(&r->s, fd, lim, rep, err) < 0) {
		rc = r->s.rc;
		goto out;
	}
	if ((r->c_sha1 = EVP_MD_CTX_new()) == NULL ||
	    (r->c_sha256 = EVP_MD_CTX_new()) == NULL ||
	    (r->chunk = malloc(PKG_CHUNK_BYTES + 4)) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto out;
	}
	xmlInitParser();
	/* Never XML_PARSE_NOENT, DTDLOAD, DTDATTR or HUGE (S10). */
	r->xr = xmlReaderForIO(io_read, io_close, r, NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (r->xr == NULL) {
		/* It reads the first bytes: a stream error may be why. */
		rc = r->s.rc < 0
		    ? r->s.rc
		    : wsd_fail(err, WSD_ENOMEM, "cannot start the XML reader");
		goto out;
	}
	xmlTextReaderSetStructuredErrorHandler(r->xr, xml_error, r);
	while (r->rc == 0 && (xr = xmlTextReaderRead(r->xr)) == 1)
		(void)rd_node(r, &tmp);
	if (r->rc < 0) {
		rc = r->rc;
		goto out;
	}
	if (xr < 0 || r->s.rc < 0) {
		/* A stream error (cap, truncation) explains the parser's. */
		if (r->s.rc < 0)
			rc = r->s.rc;
		else
			rc = rd_fail(r, WSD_EINVAL,
			    "package is not well-formed XML", "%s",
			    r->xmlerr[0] ? r->xmlerr : "parser error");
		goto out;
	}
	if (!r->root_seen || r->sec != S_END) {
		rc = rd_fail(r, WSD_EINVAL, "package is truncated",
		    "the document ends before </WsusdPackage>");
		goto out;
	}
	/* Whatever libxml2 did not ask for must be nothing. */
	{
		unsigned char buf[256];
		ssize_t n;

		while ((n = st_read(&r->s, buf, sizeof(buf))) > 0)
			;
		if (n < 0) {
			rc = r->s.rc;
			goto out;
		}
	}
	if (!r->s.done) {
		rc = rd_fail(r, WSD_EINTERNAL, "internal error", "stream");
		goto out;
	}
	if (r->s.man.updates != r->n_updates ||
	    r->s.man.revisions != r->n_revisions ||
	    r->s.man.groups != r->n_groups ||
	    r->s.man.approvals != r->n_approvals ||
	    r->s.man.contents != r->n_contents) {
		rc = rd_fail(r, WSD_EINVAL,
		    "record counts differ from the manifest",
		    "the package has %llu updates, %llu revisions, %llu "
		    "groups, %llu approvals, %llu contents; the manifest says "
		    "%llu, %llu, %llu, %llu, %llu",
		    (unsigned long long)r->n_updates,
		    (unsigned long long)r->n_revisions,
		    (unsigned long long)r->n_groups,
		    (unsigned long long)r->n_approvals,
		    (unsigned long long)r->n_contents,
		    (unsigned long long)r->s.man.updates,
		    (unsigned long long)r->s.man.revisions,
		    (unsigned long long)r->s.man.groups,
		    (unsigned long long)r->s.man.approvals,
		    (unsigned long long)r->s.man.contents);
		goto out;
	}
	if (expect != NULL &&
	    (r->s.man.text_len != expect->text_len ||
		memcmp(r->s.man.text, expect->text, expect->text_len) != 0 ||
		!same_bytes(r->s.man.cert, r->s.man.cert_len, expect->cert,
		    expect->cert_len) ||
		!same_bytes(r->s.man.sig, r->s.man.sig_len, expect->sig,
		    expect->sig_len))) {
		rc = rd_fail(r, WSD_EINVAL, "package changed while it was read",
		    "the manifest differs from the first pass's");
		goto out;
	}
	rc = 0;
out:
	arena_release(&tmp);
	rd_release(r);
	free(r);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Signature                                                           */

int
pkg_check_signature(const struct pkg_manifest *m,
    const unsigned char *const *certs, const size_t *cert_lens, size_t n,
    size_t *which, struct wsd_err *err)
{
	const unsigned char *p;
	const EVP_MD *md = EVP_sha256();
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *key;
	X509 *x;
	size_t i;
	int rc;

	if (m->cert == NULL || m->sig == NULL)
		return wsd_fail(err, WSD_EPERM, "package is not signed");
	for (i = 0; i < n; i++)
		if (same_bytes(certs[i], cert_lens[i], m->cert, m->cert_len))
			break;
	if (i == n)
		return wsd_fail(err, WSD_EPERM,
		    "package signer is not a trusted exporter");
	p = m->cert;
	if ((x = d2i_X509(NULL, &p, (long)m->cert_len)) == NULL ||
	    p != m->cert + m->cert_len || (key = X509_get0_pubkey(x)) == NULL) {
		X509_free(x);
		return wsd_fail(err, WSD_EPERM,
		    "package signature does not verify");
	}
	if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_id(key) == EVP_PKEY_ED448)
		md = NULL;
	rc = (ctx = EVP_MD_CTX_new()) != NULL &&
		EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
		EVP_DigestVerify(ctx, m->sig, m->sig_len,
		    (const unsigned char *)m->text, m->text_len) == 1
	    ? 0
	    : wsd_fail(err, WSD_EPERM, "package signature does not verify");
	EVP_MD_CTX_free(ctx);
	X509_free(x);
	if (rc == 0 && which != NULL)
		*which = i;
	return rc;
}
