/*
 * package: the file `wsusutil export` writes and `wsusutil import` reads
 * (issue #4 item 7; the format, every element and every check are in
 * docs/PACKAGE.md). One gzip member holding one XML document:
 *
 *   <WsusdPackage version="1" created=".." exporter=".." approvals=".."
 *       content="..">
 *   <Group .../>*  <Update><Revision>...</Revision>+</Update>*
 *   <Approval .../>*  <Content ...><Chunk>b64</Chunk>*</Content>*
 *   <Manifest updates=".." ... bytes="B" sha256="H"/>
 *   <Signature certificate="b64">b64</Signature>?
 *   </WsusdPackage>
 *
 * The manifest carries the SHA-256 and length of every decompressed byte
 * before "<Manifest", so an edited document is refused even when it was
 * re-compressed with a valid gzip CRC (SECURITY.md S24); the signature,
 * when the exporter has a publishing key, covers the manifest element.
 *
 * Writer: streams records straight into deflate; nothing is held but the
 * record being written. Reader: two passes over the same file.
 * pkg_verify (pass 1) checks framing, bounds and the manifest without
 * parsing XML; pkg_read (pass 2) parses with libxml2's streaming reader
 * (XML_PARSE_NONET only; DOCTYPE, comments, PIs, CDATA and entity
 * references refused), builds typed records under explicit bounds,
 * cross-checks every fragment with fragment_parse_* and hands each record
 * to a sink, then checks the manifest again over the bytes it parsed.
 * Sinks must apply records so that they can be undone (one transaction):
 * pkg_read returns 0 only once everything verified.
 *
 * Both passes decompress with hard caps (metadata bytes, content bytes,
 * compression ratio) enforced as bytes come out of inflate, so a bomb is
 * never held in memory or decompressed past a cap (S16).
 *
 * Errors follow wsd_err.h with static text; the reader also writes where
 * (line, record) and why into a caller's struct pkg_report, for the
 * import log.
 */
#ifndef WSUSD_CATALOG_PACKAGE_H
#define WSUSD_CATALOG_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"
#include "common/wsd_limits.h"

struct store_revision_in;

#define PKG_FORMAT_VERSION 1

/*
 * Limits. They belong with the others in wsd_limits.h; kept here until
 * that file takes them (as fragment.h does with its own).
 * - Metadata: decompressed bytes outside <Chunk> payloads. A synthetic
 *   100,000-update catalog with ten languages is about 1.1 GiB; 4 GiB
 *   leaves room for real catalogs and still bounds the work a bomb costs.
 * - Content: decoded bytes of all files (1 TiB) and of one (64 GiB, the
 *   content store's own WSD_MAX_CONTENT_FILE).
 * - Ratio: decompressed/compressed, checked once 64 MiB came out. The
 *   bench catalog compresses about 16:1, base64 content about 1.4:1;
 *   gzip of zeros reaches 1030:1, so 200:1 stops a bomb in its first
 *   64 MiB without refusing any real package.
 * - Counts: updates per package (1,000,000: Microsoft's whole catalog is
 *   under 700,000), revisions per update (1000), groups (10,000),
 *   approvals (2,000,000), content files (1,000,000), distinct files
 *   named by metadata (2,000,000).
 * - Per revision: fragments WSD_MAX_FRAGMENT_BYTES each (S10), 16 MiB
 *   decoded in all, 200 languages, WSD_MAX_FRAGMENT_FILES files,
 *   WSD_MAX_FRAGMENT_RELATIONSHIPS prerequisites + bundle members +
 *   superseded updates, 1000 categories.
 * - Strings (attribute values): 64 KiB (S10).
 */
#define PKG_MAX_METADATA_BYTES (4ULL << 30)
#define PKG_MAX_CONTENT_BYTES  (1ULL << 40)
#define PKG_MAX_CONTENT_FILE   WSD_MAX_CONTENT_FILE
#define PKG_MAX_RATIO          200
#define PKG_RATIO_GRACE        (64ULL << 20)
#define PKG_MAX_UPDATES        1000000
#define PKG_MAX_REVISIONS      1000
#define PKG_MAX_GROUPS         10000
#define PKG_MAX_APPROVALS      2000000
#define PKG_MAX_CONTENTS       1000000
#define PKG_MAX_FILES          2000000
#define PKG_MAX_REVISION_BYTES (16UL << 20)
#define PKG_MAX_LOCALIZED      200
#define PKG_MAX_CATEGORIES     1000
#define PKG_MAX_STRING         (64 * 1024)
/* Decoded bytes per <Chunk>: 3 * 2^18, so its base64 is exactly 1 MiB. */
#define PKG_CHUNK_BYTES (3 * 256 * 1024)
/* The manifest, the signature and the closing tag: the reader keeps this
 * many trailing bytes back from the digest until the end is seen. */
#define PKG_TAIL_MAX              (64 * 1024)
#define PKG_MAX_SIGNATURE_ELEMENT (32 * 1024)

struct pkg_limits {
	uint64_t max_metadata;     /* PKG_MAX_METADATA_BYTES */
	uint64_t max_content;      /* PKG_MAX_CONTENT_BYTES */
	uint64_t max_content_file; /* PKG_MAX_CONTENT_FILE */
	uint64_t max_ratio;        /* PKG_MAX_RATIO */
	uint64_t ratio_grace;      /* PKG_RATIO_GRACE */
	uint32_t max_updates;
	uint32_t max_revisions;
	uint32_t max_groups;
	uint32_t max_approvals;
	uint32_t max_contents;
	uint32_t max_files;
	size_t max_revision_bytes;
	size_t max_fragment;
	size_t max_string;
	uint32_t max_localized;
	uint32_t max_categories;
	uint32_t max_relations;
	uint32_t max_rev_files;
};

/* The defaults above. Tests lower them; commands use them as they are. */
void pkg_limits_default(struct pkg_limits *lim);

/* Where and why a read failed: "line 12: update <id> revision 3: ...". */
struct pkg_report {
	char detail[512];
};

struct pkg_header {
	uint32_t version;
	const char *created;  /* ISO-8601 UTC, as the exporter wrote it */
	const char *exporter; /* the exporting server's name */
	bool approvals;       /* Group and Approval elements present */
	bool content;         /* Content elements present */
};

struct pkg_group {
	const char *id; /* lower-case GUID */
	const char *name;
	const char *parent; /* parent's id; NULL for All Computers */
};

struct pkg_approval {
	const char *update_id; /* lower-case GUID of an Update in the package */
	const char *group_id;  /* id of a Group in the package */
	const char *action;    /* Install, Uninstall, NotApproved */
	const char *deadline;  /* NULL when none */
};

struct pkg_content {
	unsigned char sha1[20];
	unsigned char sha256[32];
	bool has_sha256;
	uint64_t size;
	const char *name; /* the metadata FileName (for the extension) */
};

/* What the manifest says, and the bytes the signature covers. */
struct pkg_manifest {
	uint32_t version; /* from the head of the document */
	uint64_t updates, revisions, groups, approvals, contents;
	uint64_t bytes;           /* decompressed bytes before "<Manifest" */
	unsigned char sha256[32]; /* of those bytes */
	char text[512];           /* the <Manifest .../> element, signed */
	size_t text_len;
	unsigned char *cert; /* DER of the signer; NULL when unsigned */
	size_t cert_len;
	unsigned char *sig;
	size_t sig_len;
	uint64_t compressed;   /* bytes of the package file */
	uint64_t decompressed; /* bytes of the document */
};

void pkg_manifest_release(struct pkg_manifest *m);

/* ------------------------------------------------------------ writer */

struct pkg_writer;

/* The key that signs the manifest, with its certificate (DER). */
struct pkg_signer {
	void *key; /* EVP_PKEY *, borrowed */
	const unsigned char *cert;
	size_t cert_len;
};

/*
 * Starts a package on FD (a new, empty file; the writer does not close
 * it). HDR->version is ignored (PKG_FORMAT_VERSION is written).
 */
int pkg_writer_open(struct pkg_writer **out, int fd,
    const struct pkg_header *hdr, struct wsd_err *err) WSD_MUST_CHECK;
/* Groups, parents first; only in a package with approvals. */
int pkg_write_group(struct pkg_writer *w, const struct pkg_group *g,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * One revision. Revisions of one update come together in ascending
 * number (store_revisions_each order); a new UpdateID closes the previous
 * <Update>. DECLINED and RV's update fields are taken from an update's
 * first revision.
 */
int pkg_write_revision(struct pkg_writer *w, const struct store_revision_in *rv,
    bool declined, struct wsd_err *err) WSD_MUST_CHECK;
int pkg_write_approval(struct pkg_writer *w, const struct pkg_approval *a,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * A content file read from FD (its current offset): exactly C->size
 * bytes, hashed while written; a file that is shorter, longer or does not
 * match C's digests is WSD_EINVAL and the package is unusable.
 */
int pkg_write_content(struct pkg_writer *w, const struct pkg_content *c, int fd,
    struct wsd_err *err) WSD_MUST_CHECK;
/*
 * Writes the manifest (and, with SIGNER, the signature), ends the gzip
 * member and writes everything out. OUT (may be NULL) gets the manifest;
 * release it with pkg_manifest_release. FD is not fsynced.
 */
int pkg_writer_finish(struct pkg_writer *w, const struct pkg_signer *signer,
    struct pkg_manifest *out, struct wsd_err *err) WSD_MUST_CHECK;
/* Frees W (NULL-safe), finished or not. */
void pkg_writer_free(struct pkg_writer *w);

/* ------------------------------------------------------------ reader */

/*
 * Pass 1: reads FD from offset 0 to its end without parsing XML: the gzip
 * framing (one member, nothing after it, CRC and length), the document's
 * head and version, the caps, and the manifest's digest and length over
 * the bytes before it. Fills OUT (release with pkg_manifest_release) on
 * success. Touches nothing else.
 */
int pkg_verify(int fd, const struct pkg_limits *lim, struct pkg_manifest *out,
    struct pkg_report *rep, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Where pkg_read delivers records. Strings are valid during the call
 * only. A callback returning < 0 (with ERR filled) stops the read with
 * that error; the reader adds the record to REP's detail. Any callback
 * may be NULL.
 */
struct pkg_sink {
	void *arg;
	int (*header)(void *arg, const struct pkg_header *h,
	    struct wsd_err *err);
	int (*group)(void *arg, const struct pkg_group *g, struct wsd_err *err);
	/* RV is whole and cross-checked; origin is the exporter's. */
	int (*revision)(void *arg, const struct store_revision_in *rv,
	    struct wsd_err *err);
	/* After an update's last revision. */
	int (*update_end)(void *arg, const char *update_id, bool declined,
	    struct wsd_err *err);
	int (*approval)(void *arg, const struct pkg_approval *a,
	    struct wsd_err *err);
	int (*content_begin)(void *arg, const struct pkg_content *c,
	    struct wsd_err *err);
	int (*content_data)(void *arg, const void *p, size_t n,
	    struct wsd_err *err);
	/* Only after the bytes matched the content's size and digests. */
	int (*content_end)(void *arg, const struct pkg_content *c,
	    struct wsd_err *err);
};

/*
 * Pass 2: parses FD from offset 0, checks every record (docs/PACKAGE.md
 * lists what, in which order) and hands it to SINK. Returns 0 only when
 * the whole document verified, its digest and length match the manifest
 * again and, if EXPECT is not NULL, the manifest and signature are byte
 * for byte those pass 1 saw (the file did not change in between). On
 * failure the sink has seen an arbitrary prefix of the records: undo it.
 */
int pkg_read(int fd, const struct pkg_limits *lim,
    const struct pkg_manifest *expect, const struct pkg_sink *sink,
    struct pkg_report *rep, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Checks M's signature: M must be signed, its certificate must be one of
 * the N trusted certificates (DER, compared byte for byte) and the
 * signature over M->text must verify with its key. WSD_EPERM with
 * "package is not signed", "package signer is not a trusted exporter" or
 * "package signature does not verify". *WHICH gets the index of the
 * certificate that matched.
 */
int pkg_check_signature(const struct pkg_manifest *m,
    const unsigned char *const *certs, const size_t *cert_lens, size_t n,
    size_t *which, struct wsd_err *err) WSD_MUST_CHECK;

#endif
