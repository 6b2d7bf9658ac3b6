/*
 * wuagent configuration (agent_config.h).
 */
#include "wuagent/agent_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/strparse.h"

#define LINE_MAX_LEN 4096

void
agent_config_defaults(struct agent_config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->detection_frequency = 22;
	cf->max_parallel_downloads = 4;
	snprintf(cf->state_dir, sizeof(cf->state_dir), "/var/lib/wuagent");
}

static int
set_str(char *dst, size_t size, const char *v, const char **why)
{
	if (strlen(v) >= size) {
		*why = "value too long";
		return -1;
	}
	for (const char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "control character in value";
			return -1;
		}
	snprintf(dst, size, "%s", v);
	return 0;
}

static int
set_bool(bool *dst, const char *v, const char **why)
{
	if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "yes") == 0)
		*dst = true;
	else if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 ||
	    strcasecmp(v, "no") == 0)
		*dst = false;
	else {
		*why = "expected 0 or 1";
		return -1;
	}
	return 0;
}

static int
set_uint(unsigned *dst, const char *v, unsigned min, unsigned max,
    const char **why)
{
	uint64_t n;

	if (strparse_u64_all(v, min, max, &n) < 0) {
		*why = "number out of range";
		return -1;
	}
	*dst = (unsigned)n;
	return 0;
}

/* "" or sha256//<44 base64 characters> items separated by ';'. */
static bool
pins_ok(const char *v)
{
	while (*v != '\0') {
		size_t n = 0;

		if (strncmp(v, "sha256//", 8) != 0)
			return false;
		v += 8;
		while (v[n] != '\0' && v[n] != ';' &&
		    (isalnum((unsigned char)v[n]) || v[n] == '+' ||
			v[n] == '/' || v[n] == '='))
			n++;
		if (n != 44 || (v[n] != '\0' && v[n] != ';'))
			return false;
		v += n;
		if (*v == ';' && *++v == '\0')
			return false;
	}
	return true;
}

int
agent_config_set(struct agent_config *cf, const char *name, const char *v,
    const char **why)
{
	*why = "unknown setting";
	if (strcasecmp(name, "WUServer") == 0)
		return set_str(cf->wu_server, sizeof(cf->wu_server), v, why);
	if (strcasecmp(name, "WUStatusServer") == 0)
		return set_str(cf->wu_status_server,
		    sizeof(cf->wu_status_server), v, why);
	if (strcasecmp(name, "UpdateServiceUrlAlternate") == 0)
		return set_str(cf->alternate_url, sizeof(cf->alternate_url),
		    v, why);
	if (strcasecmp(name, "TargetGroup") == 0)
		return set_str(cf->target_group, sizeof(cf->target_group), v,
		    why);
	if (strcasecmp(name, "TargetGroupEnabled") == 0)
		return set_bool(&cf->target_group_enabled, v, why);
	if (strcasecmp(name, "DetectionFrequency") == 0)
		return set_uint(&cf->detection_frequency, v, 1, 22, why);
	if (strcasecmp(name, "CAFile") == 0)
		return set_str(cf->ca_file, sizeof(cf->ca_file), v, why);
	if (strcasecmp(name, "TrustedPublishers") == 0)
		return set_str(cf->trusted_publishers,
		    sizeof(cf->trusted_publishers), v, why);
	if (strcasecmp(name, "AllowInsecureHttp") == 0)
		return set_bool(&cf->allow_insecure_http, v, why);
	if (strcasecmp(name, "AllowUnsignedPackages") == 0)
		return set_bool(&cf->allow_unsigned_packages, v, why);
	if (strcasecmp(name, "StateDir") == 0)
		return set_str(cf->state_dir, sizeof(cf->state_dir), v, why);
	if (strcasecmp(name, "MaxParallelDownloads") == 0)
		return set_uint(&cf->max_parallel_downloads, v, 1, 16, why);
	if (strcasecmp(name, "RangedDownloads") == 0)
		return set_bool(&cf->ranged_downloads, v, why);
	if (strcasecmp(name, "Proxy") == 0) {
		if (v[0] != '\0' && strncasecmp(v, "http://", 7) != 0) {
			*why = "Proxy must be an http:// URL (the proxy is "
			       "asked to CONNECT for https)";
			return -1;
		}
		return set_str(cf->proxy, sizeof(cf->proxy), v, why);
	}
	if (strcasecmp(name, "PinnedPublicKey") == 0) {
		if (!pins_ok(v)) {
			*why = "PinnedPublicKey must be sha256//BASE64 (SHA-256 "
			       "of the public key), several separated by ';'";
			return -1;
		}
		return set_str(cf->pinned_key, sizeof(cf->pinned_key), v, why);
	}
	return -1;
}

int
agent_config_load(const char *path, struct agent_config *cf, char *msg,
    size_t msg_size)
{
	char line[LINE_MAX_LEN + 2];
	unsigned lineno = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(msg, msg_size, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *why;
		char *s, *eq, *hash;

		lineno++;
		if (strlen(line) > LINE_MAX_LEN) {
			snprintf(msg, msg_size, "%s:%u: line too long", path,
			    lineno);
			fclose(f);
			return -1;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		s = str_trim_line(line);
		if (*s == '\0')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(msg, msg_size, "%s:%u: expected Name = value",
			    path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		if (agent_config_set(cf, str_trim_line(s), str_trim_line(eq + 1), &why) < 0) {
			snprintf(msg, msg_size, "%s:%u: %s: %s", path, lineno,
			    str_trim_line(s), why);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* scheme://host[:port][/path]: enough to refuse what curl would guess
 * at (no scheme, spaces, user info). */
static bool
url_ok(const char *u, bool *https)
{
	const char *h;

	if (strncasecmp(u, "https://", 8) == 0) {
		*https = true;
		h = u + 8;
	} else if (strncasecmp(u, "http://", 7) == 0) {
		*https = false;
		h = u + 7;
	} else
		return false;
	if (*h == '\0' || *h == '/' || *h == ':')
		return false;
	for (const char *p = h; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || *p == '@' || *p == '\\')
			return false;
	return true;
}

int
agent_config_check(struct agent_config *cf, const char **why)
{
	bool https;

	if (cf->wu_server[0] == '\0') {
		*why = "no WUServer configured (config file or --server)";
		return -1;
	}
	if (!url_ok(cf->wu_server, &https)) {
		*why = "WUServer is not an http(s)://host[:port] URL";
		return -1;
	}
	if (!https && !cf->allow_insecure_http) {
		*why = "WUServer is an http:// URL: metadata would travel "
		       "unencrypted and could be altered on the way (Secure "
		       "WSUS: only an https URL keeps the client on a secure "
		       "channel); use https://, or --allow-insecure-http";
		return -1;
	}
	if (cf->wu_status_server[0] == '\0')
		snprintf(cf->wu_status_server, sizeof(cf->wu_status_server),
		    "%s", cf->wu_server);
	if (!url_ok(cf->wu_status_server, &https)) {
		*why = "WUStatusServer is not an http(s)://host[:port] URL";
		return -1;
	}
	if (!https && !cf->allow_insecure_http) {
		*why = "WUStatusServer is an http:// URL; use https://, or "
		       "--allow-insecure-http";
		return -1;
	}
	if (cf->alternate_url[0] != '\0' && !url_ok(cf->alternate_url,
						&https)) {
		*why = "UpdateServiceUrlAlternate is not an http(s):// URL";
		return -1;
	}
	return 0;
}
