/*
 * wuagent configuration (issue #6 item 1): the Windows Update Group
 * Policy value names, so an administrator reads it as the registry
 * values under HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate:
 *
 *   WUServer                  https://wsus.example.com:8531
 *   WUStatusServer            (default: WUServer)
 *   UpdateServiceUrlAlternate content download base (default: the
 *                             server's own URLs)
 *   TargetGroup               client-side targeting group name(s), ';'
 *   TargetGroupEnabled        0/1
 *   DetectionFrequency        hours between scans (1-22, default 22)
 *   CAFile                    PEM file of the CA(s) to trust (default:
 *                             the system store)
 *   TrustedPublishers         directory of PEM publisher certificates
 *   AllowInsecureHttp         0/1: accept an http:// WUServer
 *   AllowUnsignedPackages     0/1: install without TrustedPublishers
 *                             (the server's digests alone)
 *   Proxy                     http://host:port of the proxy to use (CONNECT
 *                             for https); none by default, and never
 *                             the environment's (SECURITY.md S4)
 *   PinnedPublicKey           sha256//BASE64[;sha256//BASE64...]: the
 *                             servers' public keys (SPKI SHA-256); any
 *                             other is refused even if a trusted CA
 *                             signed it
 *
 * File format: one "Name = value" per line, names case-insensitive,
 * '#' comments, blank lines; an unknown name or a malformed value is an
 * error naming the line. Command-line flags override the file.
 */
#ifndef WSUSD_WUAGENT_AGENT_CONFIG_H
#define WSUSD_WUAGENT_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wsd_err.h"

#define AGENT_URL_MAX  1024
#define AGENT_PATH_MAX 1024
#define AGENT_NAME_MAX 256

struct agent_config {
	char wu_server[AGENT_URL_MAX];
	char wu_status_server[AGENT_URL_MAX];
	char alternate_url[AGENT_URL_MAX];
	char target_group[AGENT_NAME_MAX];
	bool target_group_enabled;
	unsigned detection_frequency; /* hours */
	char ca_file[AGENT_PATH_MAX];           /* "" = system store */
	char trusted_publishers[AGENT_PATH_MAX]; /* "" = none */
	bool allow_insecure_http;
	bool allow_unsigned_packages; /* install without TrustedPublishers */
	char state_dir[AGENT_PATH_MAX];
	unsigned max_parallel_downloads; /* 1-16, default 4 */
	bool ranged_downloads;           /* 1 MiB ranges, as DO does */
	char proxy[AGENT_URL_MAX];       /* "" = direct */
	char pinned_key[AGENT_URL_MAX];  /* "" = no pin */
};

/* Defaults (no server: WUServer must then come from a flag). */
void agent_config_defaults(struct agent_config *cf);
/* Reads PATH over CF (defaults first). Errors name the line. */
int agent_config_load(const char *path, struct agent_config *cf,
    char *msg, size_t msg_size) WSD_MUST_CHECK;
/* Sets one value by its GPO name (used by the file and by flags). */
int agent_config_set(struct agent_config *cf, const char *name,
    const char *value, const char **why) WSD_MUST_CHECK;
/*
 * The checks before any network use: WUServer set, an https:// URL
 * unless AllowInsecureHttp (WHY then says what the Secure WSUS guide
 * says: only https keeps the client on a secure channel), URLs that
 * parse, WUStatusServer defaulted.
 */
int agent_config_check(struct agent_config *cf, const char **why)
    WSD_MUST_CHECK;

#endif
