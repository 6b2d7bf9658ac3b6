/*
 * What the SOAP-operation fuzz targets (fuzz_wusp.c, fuzz_wsusss.c)
 * share: a temporary data directory with a real store, cookie keys and a
 * runtime like a worker's, removed at exit; a little catalog; marker
 * splicing; the promises every handler makes about its answer.
 * __builtin_trap() on any failure of the harness itself.
 */
#ifndef WSUSD_FUZZ_FUZZ_SITE_H
#define WSUSD_FUZZ_FUZZ_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wsd_err.h"
#include "cookie/cookie.h"
#include "http/handler.h"
#include "http/http_req.h"
#include "http/http_resp.h"
#include "http/http_server.h"
#include "store/store.h"

/* The catalog both targets start from: one Product category and one
 * Software update in it, approved for Install to "All Computers". */
#define FUZZ_PRODUCT "5e1f6a10-0000-4000-8000-00000000f001"
#define FUZZ_UPDATE  "5e1f6a10-0000-4000-8000-00000000f002"

struct fuzz_site {
	char fs_dir[64];
	struct store *fs_store;
	struct srv_runtime fs_rt;
	struct http_req fs_req; /* a POST, HTTP/1.1, no headers */
	struct route fs_route;
};

/* A marker of the input and the genuine value that replaces it. */
struct fuzz_mark {
	const char *fm_marker;
	const char *fm_value;
};

/*
 * Makes S once per process under /tmp/wsusd-fuzz-NAME-XXXXXX: config,
 * cookie keys, store; then CATALOG(store) adds the target's rows.
 * Removed at exit.
 */
void fuzz_site_open(struct fuzz_site *s, const char *name,
    bool (*catalog)(struct store *, struct wsd_err *));

/* Puts FUZZ_PRODUCT and FUZZ_UPDATE (approved) into ST. */
bool fuzz_site_base_catalog(struct store *st, struct wsd_err *err);

/* A cookie for GUID (8-4-4-4-12 hex) in S's database, sealed as KIND
 * into OUT (COOKIE_B64_BUFSZ bytes). */
void fuzz_site_seal(struct fuzz_site *s, const char *guid, unsigned protocol,
    int64_t lifetime, enum cookie_kind kind, char *out);

/*
 * BODY with each marker replaced by its value, in an exact-size heap
 * copy (so ASan sees reads past its end; free() it) or NULL when empty.
 * *N in: length, out: new length.
 */
char *fuzz_splice(const char *body, size_t *n, const struct fuzz_mark *m,
    size_t nm);

/* HX set for a POST of BODY to ROOT at PATH over TLS from loopback. */
void fuzz_site_ctx(struct fuzz_site *s, struct handler_ctx *hx,
    enum vroot root, const char *path, const char *body, size_t n);

/*
 * Traps unless RS is one memory segment: a head with status 200 or 500
 * and a Content-Length equal to the body's length, and a body starting
 * with one of the PREFIXES (NULL-terminated list).
 */
void fuzz_check_answer(const struct http_resp *rs,
    const char *const *prefixes);

/*
 * Runs HANDLE on HX and checks its answer (fuzz_check_answer with
 * PREFIXES); traps on a result < 0 or equal to REFUSED. With VERBOSE the
 * status and first SHOW bytes of the body go to stderr, after WHO.
 * Traps when the handler left S without its store.
 */
void fuzz_site_serve(struct fuzz_site *s, const struct handler_ctx *hx,
    int (*handle)(const struct handler_ctx *, struct http_resp *),
    int refused, const char *const *prefixes, const char *who,
    bool verbose, size_t show);

#endif
