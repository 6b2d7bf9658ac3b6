/*
 * Content downloads (issue #6 item 4): every file is fetched into
 * DIR/downloads/<sha1 hex>.part, resumed from what is there, then its
 * SHA-1 and SHA-256 are computed and compared with the metadata's
 * (File Digest and AdditionalDigest) before it is renamed to
 * DIR/downloads/<sha1 hex>; a mismatch deletes the file and is an error
 * that names the digest. A file that is already complete and verified is
 * not fetched again. Files without a SHA-256 in the metadata are refused
 * (Windows 8 and later do the same, WUSP.md 6.1).
 */
#ifndef WSUSD_WUAGENT_AGENT_DOWNLOAD_H
#define WSUSD_WUAGENT_AGENT_DOWNLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wsd_err.h"
#include "wuagent/agent_http.h"

struct agent_file {
	char name[256]; /* FileName */
	uint64_t size;
	unsigned char sha1[20];
	unsigned char sha256[32];
	bool has_sha256;
	char url[AGENT_URL_MAX]; /* from GetFileLocations / FileLocations */
};

enum agent_dl_result {
	AGENT_DL_OK = 0,
	AGENT_DL_NETWORK = -1,  /* try again later: bytes kept */
	AGENT_DL_MISMATCH = -2, /* size or digest wrong: file deleted */
	AGENT_DL_LOCAL = -3,    /* disk, permissions */
};

/*
 * Downloads F into STATE_DIR/downloads (created 0700 if missing, with
 * STATE_DIR); PATH (AGENT_PATH_MAX) receives the verified file's path.
 * A file already there is verified again, and deleted and fetched anew
 * if it does not match. RANGE_SIZE as agent_http_fetch.
 */
enum agent_dl_result agent_download(struct agent_http *h, const char *state_dir,
    const struct agent_file *f, uint64_t range_size, char *path, char *msg,
    size_t msg_size);

/*
 * Downloads FILES (N of them) with at most PARALLEL at once (each on its
 * own connection: one thread and one agent_http per slot, PARALLEL
 * clamped to 1-16), into CF->state_dir/downloads as agent_download does,
 * in 1 MiB ranges when CF->ranged_downloads. Files listed twice (same
 * SHA-1) are fetched once and get the same result. RESULTS[i] per file,
 * MSGS[i] (AGENT_MSG_MAX each) its cause ("" on success). Returns the
 * number that failed.
 */
#define AGENT_MSG_MAX 512
size_t agent_download_all(const struct agent_config *cf,
    const struct agent_file *files, size_t n, unsigned parallel,
    enum agent_dl_result *results, char (*msgs)[AGENT_MSG_MAX]);

/* Delivery Optimization's piece size, for CF->ranged_downloads. */
#define AGENT_DL_RANGE_SIZE (1024UL * 1024)

/*
 * STATE_DIR/downloads/<SHA-1 upper-case hex> into PATH (SIZE bytes):
 * where agent_download puts F once verified. Returns 0, or WSD_ETOOBIG.
 */
int agent_download_path(const char *state_dir, const struct agent_file *f,
    char *path, size_t size) WSD_MUST_CHECK;

/*
 * The core of agent_download with an explicit destination: fetches
 * F->url into DEST.part (resumed from its length; locked with flock, so
 * a second downloader of the same file gets AGENT_DL_NETWORK "in
 * progress" instead of interleaving bytes), checks its size, SHA-1 and
 * SHA-256 against F, and renames it to DEST (then fsyncs DEST's
 * directory). A mismatch deletes DEST.part and MSG names the digest; a
 * TLS refusal or an HTTP failure is AGENT_DL_NETWORK with the bytes
 * kept. An existing DEST is replaced only by a verified file.
 */
enum agent_dl_result agent_download_to(struct agent_http *h,
    const struct agent_file *f, const char *dest, uint64_t range_size,
    char *msg, size_t msg_size);

/*
 * Checks the file at PATH (a regular file, not followed if a symbolic
 * link) against F's size, SHA-1 and SHA-256: AGENT_DL_OK, or
 * AGENT_DL_MISMATCH (MSG names what differs), or AGENT_DL_LOCAL when it
 * cannot be read. Nothing is deleted.
 */
enum agent_dl_result agent_verify_file(const char *path,
    const struct agent_file *f, char *msg, size_t msg_size);

#endif
