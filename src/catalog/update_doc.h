/*
 * update_doc: the whole-update metadata document of MS-WSUSSS
 * (GetUpdateData's XmlUpdateBlob, WSUSSS.md 5.6) and the WUSP fragments
 * wsusd stores (fragment.h, WUSP.md 6).
 *
 * The document is the Update element in the Update namespace
 * (http://schemas.microsoft.com/msus/2002/12/Update, prefix upd:) with
 * UpdateIdentity, Properties, LocalizedPropertiesCollection,
 * Relationships, ApplicabilityRules, Files and HandlerSpecificData. The
 * fragments are derived from it as WSUS derives them (WUSP.md 6): all
 * namespace declarations and prefixes stripped, elements of three rule
 * namespaces renamed b./m./d., Properties split between the core
 * fragment (UpdateType, ExplicitlyDeployable, AutoSelectOnWebSites,
 * OSUpgrade, EulaID) and ExtendedProperties (every other attribute, and
 * its children), HandlerSpecificData's xsi:type becoming type.
 *
 * Two directions, one mapping:
 *
 * - update_doc_build writes the document of a stored revision from its
 *   fragments (the USS side). The namespaces are re-attached by the
 *   fixed table in update_doc.c; the document is one line, no XML
 *   declaration.
 * - update_doc_split reads a document received from an upstream as
 *   hostile input (size, depth and attribute bounds of fragment.h;
 *   libxml2 with XML_PARSE_NONET only; DOCTYPE, entities, PIs refused)
 *   and writes the fragments in the canonical one-line form fragment.h
 *   describes (the DSS side).
 *
 * For every revision wsusd stores, split(build(r)) gives r's fragments
 * back byte for byte; the unit tests hold that on the published shapes
 * and the captured fragments.
 */
#ifndef WSUSD_CATALOG_UPDATE_DOC_H
#define WSUSD_CATALOG_UPDATE_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wsd_err.h"

struct sbuf;
struct store_revision_in;

/* The largest document accepted: core + extended + every language. */
#define UPDATE_DOC_MAX_BYTES (8 * 1024 * 1024)
/* LocalizedProperties entries in one document. */
#define UPDATE_DOC_MAX_LANGUAGES 128

/*
 * Appends the document of RV (only its xml_core, xml_extended and
 * localized[].xml are read). The stored fragments are parsed as hostile
 * (a database row is input too). WSD_EINVAL for fragments that are not
 * well-formed or that the document could not give back byte for byte
 * (update_doc.c lists the cases: none is a shape fragment.h's builders
 * or update_doc_split write); WSD_ETOOBIG past UPDATE_DOC_MAX_BYTES. On
 * failure SB is cut back to its length on entry, or released when sbuf
 * itself failed (sbuf.h).
 */
int update_doc_build(struct sbuf *sb, const struct store_revision_in *rv,
    struct wsd_err *err) WSD_MUST_CHECK;

/* The fragments of one document; every string malloc'd, NUL-terminated. */
struct update_doc_parts {
	char *core;
	size_t core_len;
	char *extended; /* NULL when the document has nothing for it */
	size_t extended_len;
	size_t n_localized;
	struct update_doc_localized {
		char *language;
		char *title;
		char *xml;
		size_t xml_len;
	} * localized;
};

/*
 * XML (LEN bytes, UTF-8, an XML declaration allowed) into *OUT. Each
 * fragment written is then checked with fragment_parse_core, _extended
 * and _localized, so *OUT holds only fragments they accept; two
 * LocalizedProperties of one Language (case-insensitive) are refused.
 * WSD_EINVAL, WSD_ETOOBIG (a bound of this header or fragment.h),
 * WSD_ENOMEM; on failure *OUT is empty.
 */
int update_doc_split(const char *xml, size_t len, struct update_doc_parts *out,
    struct wsd_err *err) WSD_MUST_CHECK;
/* NULL-safe; leaves *P empty. */
void update_doc_parts_release(struct update_doc_parts *p);

/*
 * Fills *RV (fields borrowed from P and from *HOLD, which the caller
 * releases with update_doc_revision_release after storing) from the
 * fragments alone, as fragment_parse_core/extended/localized read them:
 * identity, type, category type, flags, KB, severity, EULA, title (the
 * DefaultPropertiesLanguage's, else "en", else the first), files,
 * categories (the category prerequisites), prerequisites, bundle
 * members, supersedes. ORIGIN is stored as given ("upstream").
 *
 * The fields the parsers do not keep are read from the fragments too:
 * eula_id from the core Properties' EulaID (lower case; not a GUID is
 * WSD_EINVAL), each file's modified as its Modified attribute is
 * written. is_leaf is set as wsusutil publish sets it (every update
 * true, a category false: the catalog works IsLeaf out for clients);
 * categories are listed once each; title is NULL without languages.
 * On failure *RV is zeroed and *HOLD NULL.
 */
struct update_doc_hold;
int update_doc_revision(const struct update_doc_parts *p, const char *origin,
    struct store_revision_in *rv, struct update_doc_hold **hold,
    struct wsd_err *err) WSD_MUST_CHECK;
void update_doc_revision_release(struct update_doc_hold *hold);

#endif
