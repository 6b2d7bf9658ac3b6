/*
 * Fuzz target for catalog/update_doc.h: the MS-WSUSSS update document an
 * upstream server sends (GetUpdateData XmlUpdateBlob), read as hostile
 * input by update_doc_split, and the way back, update_doc_build.
 *
 * Input: the document, as it is.
 *
 * Promises checked (a broken one traps):
 * - update_doc_split returns 0 or WSD_EINVAL, WSD_ETOOBIG, WSD_ENOMEM
 *   with err naming it; on failure the parts are empty.
 * - On success: a core fragment; each fragment at most
 *   WSD_MAX_FRAGMENT_BYTES, one line, accepted by its fragment_parse_*;
 *   at most UPDATE_DOC_MAX_LANGUAGES localized fragments, each with the
 *   language and title its fragment says.
 * - update_doc_revision of the parts succeeds (or refuses with the error
 *   contract: only a malformed EulaID may make it), naming the core's
 *   UpdateID, with counts that match the fragments.
 * - update_doc_build of the parts succeeds (WSD_ETOOBIG only when the
 *   document would pass UPDATE_DOC_MAX_BYTES) and splitting that document
 *   gives the same fragments byte for byte: split(build(split(x))) is
 *   split(x).
 *
 * UPDATE_DOC_FUZZ_VERBOSE in the environment prints each result.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/fragment.h"
#include "catalog/update_doc.h"
#include "common/sbuf.h"
#include "store/store.h"

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			__builtin_trap();                                      \
	} while (0)

static int verbose = -1;

static void
check_error(int rc, const struct wsd_err *e)
{
	CHECK(rc == WSD_EINVAL || rc == WSD_ETOOBIG || rc == WSD_ENOMEM);
	CHECK(e->code == (enum wsd_errc)rc && e->what != NULL);
}

static bool
empty_parts(const struct update_doc_parts *p)
{
	return p->core == NULL && p->core_len == 0 && p->extended == NULL &&
	    p->extended_len == 0 && p->n_localized == 0 && p->localized == NULL;
}

static void
check_frag(const char *s, size_t n)
{
	CHECK(s != NULL && n > 0 && n <= WSD_MAX_FRAGMENT_BYTES);
	CHECK(strlen(s) == n);
	CHECK(memchr(s, '\n', n) == NULL && memchr(s, '\r', n) == NULL);
}

static void
check_parts(const struct update_doc_parts *p)
{
	struct fragment_core_info ci;
	struct fragment_extended_info ei;
	struct fragment_localized_info li;
	struct wsd_err e;

	check_frag(p->core, p->core_len);
	CHECK(fragment_parse_core(p->core, p->core_len, &ci, &e) == 0);
	fragment_core_info_release(&ci);
	if (p->extended != NULL) {
		check_frag(p->extended, p->extended_len);
		CHECK(fragment_parse_extended(p->extended, p->extended_len, &ei,
			  &e) == 0);
		fragment_extended_info_release(&ei);
	} else {
		CHECK(p->extended_len == 0);
	}
	CHECK(p->n_localized <= UPDATE_DOC_MAX_LANGUAGES);
	CHECK(p->n_localized == 0 || p->localized != NULL);
	for (size_t i = 0; i < p->n_localized; i++) {
		const struct update_doc_localized *l = &p->localized[i];

		check_frag(l->xml, l->xml_len);
		CHECK(
		    fragment_parse_localized(l->xml, l->xml_len, &li, &e) == 0);
		CHECK(strcmp(li.language, l->language) == 0);
		CHECK(strcmp(li.title, l->title) == 0);
		fragment_localized_info_release(&li);
	}
}

static void
check_revision(const struct update_doc_parts *p)
{
	struct fragment_core_info ci;
	struct store_revision_in rv;
	struct update_doc_hold *h = NULL;
	struct wsd_err e = { WSD_OK, NULL };
	int rc;

	rc = update_doc_revision(p, "upstream", &rv, &h, &e);
	if (rc != 0) {
		CHECK(rc == WSD_EINVAL || rc == WSD_ENOMEM);
		CHECK(e.what != NULL && h == NULL);
		return;
	}
	CHECK(h != NULL);
	CHECK(fragment_parse_core(p->core, p->core_len, &ci, &e) == 0);
	CHECK(strcmp(rv.update_id, ci.update_id) == 0);
	CHECK(rv.revision_number == (int)ci.revision_number);
	CHECK(rv.n_prereqs == ci.n_prereqs && rv.n_bundle == ci.n_bundled &&
	    rv.n_supersedes == ci.n_supersedes);
	CHECK(rv.is_bundle == (ci.n_bundled > 0));
	CHECK(rv.n_categories <= rv.n_prereqs);
	CHECK(rv.n_localized == p->n_localized);
	CHECK((rv.title == NULL) == (p->n_localized == 0));
	CHECK(rv.xml_core == p->core && rv.xml_extended == p->extended);
	for (unsigned i = 0; i < rv.n_files; i++)
		CHECK(rv.files[i].file_name != NULL &&
		    rv.files[i].modified != NULL);
	fragment_core_info_release(&ci);
	update_doc_revision_release(h);
}

/* split(build(P)) is P. */
static void
check_round_trip(const struct update_doc_parts *p)
{
	struct store_localized *sl = NULL;
	struct store_revision_in rv;
	struct update_doc_parts q;
	struct wsd_err e = { WSD_OK, NULL };
	struct sbuf sb;
	int rc;

	memset(&rv, 0, sizeof(rv));
	rv.xml_core = p->core;
	rv.xml_core_len = p->core_len;
	rv.xml_extended = p->extended;
	rv.xml_extended_len = p->extended_len;
	if (p->n_localized > 0) {
		sl = calloc(p->n_localized, sizeof(*sl));
		CHECK(sl != NULL);
		for (size_t i = 0; i < p->n_localized; i++)
			sl[i] =
			    (struct store_localized){ p->localized[i].language,
				    p->localized[i].title, p->localized[i].xml,
				    p->localized[i].xml_len };
	}
	rv.n_localized = (unsigned)p->n_localized;
	rv.localized = sl;
	sbuf_init(&sb, 2 * (size_t)UPDATE_DOC_MAX_BYTES);
	rc = update_doc_build(&sb, &rv, &e);
	if (rc != 0) {
		CHECK(rc == WSD_ETOOBIG || rc == WSD_ENOMEM);
		sbuf_release(&sb);
		free(sl);
		return;
	}
	rc = update_doc_split(sb.sb_buf, sb.sb_len, &q, &e);
	CHECK(
	    rc == 0 || (rc == WSD_ETOOBIG && sb.sb_len > UPDATE_DOC_MAX_BYTES));
	if (rc == 0) {
		CHECK(q.core_len == p->core_len &&
		    memcmp(q.core, p->core, p->core_len) == 0);
		CHECK((q.extended == NULL) == (p->extended == NULL));
		CHECK(q.extended_len == p->extended_len &&
		    (p->extended == NULL ||
			memcmp(q.extended, p->extended, p->extended_len) == 0));
		CHECK(q.n_localized == p->n_localized);
		for (size_t i = 0; i < p->n_localized; i++)
			CHECK(
			    q.localized[i].xml_len == p->localized[i].xml_len &&
			    memcmp(q.localized[i].xml, p->localized[i].xml,
				p->localized[i].xml_len) == 0);
		update_doc_parts_release(&q);
	}
	sbuf_release(&sb);
	free(sl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct update_doc_parts p;
	struct wsd_err e = { WSD_OK, NULL };
	int rc;

	if (verbose < 0)
		verbose = getenv("UPDATE_DOC_FUZZ_VERBOSE") != NULL;
	memset(&p, 0xa5, sizeof(p)); /* split must set it all */
	rc = update_doc_split((const char *)data, size, &p, &e);
	if (verbose)
		fprintf(stderr, "fuzz_update_doc: %d %s\n", rc,
		    rc == 0 ? "" : e.what);
	if (rc != 0) {
		check_error(rc, &e);
		CHECK(empty_parts(&p));
		return 0;
	}
	check_parts(&p);
	check_revision(&p);
	check_round_trip(&p);
	update_doc_parts_release(&p);
	CHECK(empty_parts(&p));
	return 0;
}
