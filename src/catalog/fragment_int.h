/*
 * fragment_int: what fragment.c shares with the other fragment_*.c files
 * (the btree.h/btreeInt.h pairing); nothing outside src/catalog/fragment*.c
 * includes it. The helpers keep the contracts fragment.c documents at
 * their definitions; fragment.h's module comment (safe reader, escaping,
 * sticky-error emitter, cut back on failure) applies unchanged.
 */
#ifndef WSUSD_CATALOG_FRAGMENT_INT_H
#define WSUSD_CATALOG_FRAGMENT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "common/wsd_err.h"

struct sbuf;
struct fragment_driver;

/*
 * Sticky-error writer: after the first failure every call is a no-op,
 * so a builder reads as the fragment it writes and checks once at the end.
 */
struct emit {
	struct sbuf *sb;
	struct wsd_err *err;
	size_t mark; /* sb length on entry: failures cut back to it */
	int rc;
};

/* Records the first failure only. */
void frag_e_fail(struct emit *e, int code, const char *what);
/* Appends S verbatim: only for markup and values already checked. */
void frag_e_raw(struct emit *e, const char *s);
/* ` name="value"`, the value escaped (fragment.h). */
void frag_e_attr(struct emit *e, const char *name, const char *value);

/*
 * The safe reader: XML (LEN bytes) parsed inside a dummy root with every
 * check fragment.h lists; on success *docp owns the tree (xmlFreeDoc).
 */
int frag_read(const char *xml, size_t len, unsigned max_depth, bool strict,
    xmlDoc **docp, struct wsd_err *err) WSD_MUST_CHECK;
bool frag_is_name(const xmlNode *n, const char *name);
/* Value of attribute NAME (one text node, frag_read checked), or NULL. */
const char *frag_attr_get(const xmlNode *n, const char *name);
/* Text of an element without child elements into *out (must be NULL,
 * else DUP_WHAT); the caller frees it. */
int frag_text_dup(const xmlNode *n, char **out, const char *dup_what,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * fragment_driver.c: a driver's ApplicabilityRules (the WindowsDriver
 * handler's rules and one d.WindowsDriverMetaData per entry), for
 * fragment_build_core. Checks every entry first (counts, lengths, dates,
 * CHIDs) and fails through E without writing on bad input.
 */
void frag_emit_driver_rules(struct emit *e, const struct fragment_driver *d,
    size_t n);

#endif
