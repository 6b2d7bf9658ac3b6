/*
 * The Content virtual root: GET and HEAD for DATADIR/content/XX/NAME with
 * validators, conditional requests and byte ranges; the same for the
 * SelfUpdate root from DATADIR/selfupdate (wuident.cab and the like, which
 * an administrator places there; absent, every name is 404).
 *
 * Only names of the WSUS content layout are served (S12): XX two hex
 * digits, NAME 40 (SHA-1) or 64 (SHA-256) hex digits, an optional
 * extension of 1-8 [a-z0-9]. Any letter case in the URL maps to the
 * canonical on-disk form (hex upper case, extension lower case), as IIS
 * serves content URLs in any case. Files are opened beneath the content
 * directory's fd with no symlink followed anywhere.
 */
#ifndef WSUSD_HTTP_STATIC_FILE_H
#define WSUSD_HTTP_STATIC_FILE_H

#include "common/strparse.h"
#include "http/http_req.h"
#include "http/http_resp.h"

/*
 * Canonicalises REST ("/XX/NAME.ext") into OUT (>= 80 bytes) as
 * "XX/NAME.ext". Returns 0, or -1 when REST is not a content name.
 */
int static_file_canon(struct sv rest, char *out, size_t outsize);

/*
 * The SelfUpdate root: REST ("/wuident.cab", "/AU/x86/file.cab") into OUT
 * as a lower-case relative path of 1-4 segments of [a-z0-9._-], none
 * starting with a dot. Returns 0, or -1 when REST is not such a name.
 */
int static_file_canon_selfupdate(struct sv rest, char *out, size_t outsize);

/* static_file_serve for a name already made canonical, beneath DIRFD
 * (-1: 404). */
int static_file_serve_rel(int dirfd, const char *rel,
    const struct http_req *rq, const char *date, struct http_resp *rs)
    WSD_MUST_CHECK;

/*
 * Builds the response for RQ into RS (already initialised). Never fails
 * towards the peer: every outcome is a status (200, 206, 304, 404, 416,
 * 500). Returns 0, or a negative wsd_errc when RS could not be built.
 */
int static_file_serve(int content_dirfd, struct sv rest,
    const struct http_req *rq, const char *date, struct http_resp *rs)
    WSD_MUST_CHECK;

#endif
