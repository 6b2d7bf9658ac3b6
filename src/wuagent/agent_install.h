/*
 * Installing updates published for Linux (issue #6 item 5), and what
 * `wuagent download` and `wuagent install` share. The handler contract
 * is docs/AGENT.md; in short:
 *
 *   - an update's package is its own files plus those of its bundled
 *     members (a bundle parent's core fragment lists them), each file
 *     checked against the SHA-1 and SHA-256 of the metadata before use;
 *   - with TrustedPublishers set, every file must carry an Authenticode
 *     signature that verifies against one of the PEM certificates in
 *     that directory;
 *   - each revision whose extended fragment has the
 *     CommandLineInstallation handler is installed by extracting its
 *     CABs (gcab, no path in any entry name) into a fresh 0700 directory
 *     and running its InstallCommand there with execve: no shell, a
 *     fixed environment, stdin /dev/null, output to
 *     STATE_DIR/logs/<UpdateID>.log, a time limit; the exit code is
 *     mapped through the ReturnCode elements.
 *
 * Nothing here talks to the server: the commands report the events.
 * Messages (MSG, at most AGENT_MSG_MAX bytes) say what failed for the
 * user.
 */
#ifndef WSUSD_WUAGENT_AGENT_INSTALL_H
#define WSUSD_WUAGENT_AGENT_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wuagent/agent_config.h"
#include "wuagent/agent_download.h"
#include "wuagent/agent_state.h"

/*
 * HRESULTs the agent reports (Windows' wuerror.h / winerror.h values, so
 * the server's reports read as a Windows machine's):
 */
#define AGENT_HR_URL_NOT_AVAILABLE 0x80246001u /* WU_E_DM_URLNOTAVAILABLE */
#define AGENT_HR_INCORRECT_HASH    0x80246002u /* WU_E_DM_INCORRECTFILEHASH */
#define AGENT_HR_NO_NETWORK        0x80246005u /* WU_E_DM_NONETWORK */
#define AGENT_HR_NOT_DOWNLOADED    0x80246007u /* WU_E_DM_NOTDOWNLOADED */
#define AGENT_HR_DM_UNEXPECTED     0x80246FFFu /* WU_E_DM_UNEXPECTED */
#define AGENT_HR_UNKNOWN_HANDLER   0x80242002u /* WU_E_UH_UNKNOWNHANDLER */
#define AGENT_HR_INVALID_METADATA  0x80242006u /* WU_E_UH_INVALIDMETADATA */
#define AGENT_HR_INSTALLER_HUNG    0x80242007u /* WU_E_UH_INSTALLERHUNG */
#define AGENT_HR_CANCELLED         0x80242008u /* WU_E_UH_OPERATIONCANCELLED */
#define AGENT_HR_INSTALLER_FAILURE 0x8024200Bu /* WU_E_UH_INSTALLERFAILURE */
#define AGENT_HR_UH_UNEXPECTED     0x80242FFFu /* WU_E_UH_UNEXPECTED */
#define AGENT_HR_NOT_TRUSTED       0x800B0004u /* TRUST_E_SUBJECT_NOT_TRUSTED */

/* Default and largest --timeout of one install command, in seconds. */
#define AGENT_INSTALL_TIMEOUT     3600
#define AGENT_INSTALL_TIMEOUT_MAX (7 * 24 * 3600)

/* One revision of a package: the update itself or a bundled member. */
struct agent_unit {
	char update_id[37];
	int32_t revision_id;
	int32_t revision_number;
	char *xml_extended; /* owned; NULL until GetExtendedUpdateInfo */
	size_t xml_extended_len;
	size_t first_file, n_files; /* its files in the package's FILES */
};

/* An update and everything needed to install it. Owned by the caller:
 * agent_pkg_release. */
struct agent_pkg {
	char update_id[37];
	int32_t revision_id;
	int32_t revision_number;
	char title[256];
	char *xml_core; /* owned copy of the update's core fragment */
	size_t xml_core_len;
	struct agent_unit *units; /* [0] the update, then bundled members */
	size_t n_units;
	struct agent_file
	    *files; /* URLs already on UpdateServiceUrlAlternate */
	size_t n_files;
};

/*
 * Loads cached revision REVISION_ID, its files and, if its core fragment
 * lists BundledUpdates, the cached revision of each member (the one with
 * the listed revision number, else the highest cached) and their files.
 * A member that is not cached is an error (a scan brings them).
 */
int agent_pkg_load(struct agent_state *st, const struct agent_config *cf,
    int32_t revision_id, struct agent_pkg *out, char *msg,
    size_t msg_size) WSD_MUST_CHECK;
void agent_pkg_release(struct agent_pkg *p);

/*
 * URL with its scheme://host[:port] replaced by that of ALT (the
 * UpdateServiceUrlAlternate value; its path is ignored), path and query
 * kept, into OUT (N bytes). Returns 0, or WSD_EINVAL when either URL has
 * no scheme://host, WSD_ETOOBIG when OUT is too small.
 */
int agent_alternate_url(const char *url, const char *alt, char *out,
    size_t n) WSD_MUST_CHECK;

/*
 * Every file of P as it is on disk now (STATE_DIR/downloads): size,
 * SHA-1 and SHA-256 against the metadata (agent_verify_file), then, with
 * CF->trusted_publishers set, its Authenticode signature against one of
 * the publishers. Returns 0, or an AGENT_HR_* (as int32) with MSG naming
 * the file and the cause. Nothing is deleted.
 */
int32_t agent_pkg_verify(const struct agent_config *cf,
    const struct agent_pkg *p, char *msg, size_t msg_size);

enum agent_install_outcome {
	AGENT_INSTALL_SUCCEEDED = 0,
	AGENT_INSTALL_REBOOT, /* succeeded, a restart is required */
	AGENT_INSTALL_FAILED,
	AGENT_INSTALL_CANCELLED, /* the installer says it was cancelled */
};

struct agent_install_result {
	enum agent_install_outcome outcome;
	int32_t hresult; /* 0 on success */
	bool ran;        /* a program was started */
	int exit_code;   /* its exit status; -1 killed or never run */
	char msg[AGENT_MSG_MAX];
};

/*
 * Installs P (verified by the caller just before): each unit with the
 * CommandLineInstallation handler, in order, in its own fresh directory;
 * the first failure stops. Output of every command is appended to
 * STATE_DIR/logs/<P's UpdateID>.log. TIMEOUT_SECS bounds each command;
 * on expiry its process group is killed. A package without any
 * CommandLineInstallation unit fails with AGENT_HR_UNKNOWN_HANDLER.
 */
void agent_pkg_install(const struct agent_config *cf, const struct agent_pkg *p,
    unsigned timeout_secs, struct agent_install_result *res);

/*
 * In one transaction: P's update state set to STATE (AGENT_UNKNOWN
 * leaves it as it is) with HRESULT, and event EVENT_ID queued for P
 * with the ReplacementStrings Windows sends (the title; for 182 the
 * HRESULT in hex, then the title) and MISC (NULL: none).
 */
int agent_pkg_record(struct agent_state *st, const struct agent_pkg *p,
    enum agent_update_state state, int32_t hresult, int32_t event_id,
    const char *misc, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Sends the queued events to WUStatusServer (the stored cookie, else a
 * new session); accepted ones leave the queue. 0, or -1 with MSG.
 */
int agent_report_queued(const struct agent_config *cf, struct agent_state *st,
    size_t *sent, char *msg, size_t msg_size) WSD_MUST_CHECK;

#endif
