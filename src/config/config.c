#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dnsname.h"
#include "common/fileio.h"
#include "common/sbuf.h"
#include "common/strparse.h"

enum key_kind { K_STR, K_BOOL, K_UINT, K_SIZE, K_LISTEN, K_LOGLEVEL };

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t off;        /* offset in struct config */
	uint64_t min, max; /* for K_UINT / K_SIZE */
};

#define OFF(m) offsetof(struct config, m)
#define BODYOFF(v) (OFF(cf_max_body) + (v) * sizeof(uint64_t))

static const struct key_def keys[] = {
	{ "server_name", K_STR, OFF(cf_server_name), 0, 0 },
	{ "port", K_UINT, OFF(cf_https_port), 2, 65535 },
	{ "listen", K_LISTEN, 0, 0, 0 },
	{ "allow_insecure_http", K_BOOL, OFF(cf_allow_insecure_http), 0, 0 },
	{ "client_side_targeting", K_BOOL, OFF(cf_client_side_targeting), 0,
	    0 },
	{ "detect_unapproved", K_BOOL, OFF(cf_detect_unapproved), 0,
	    0 },
	{ "serversync_anonymous", K_BOOL, OFF(cf_serversync_anonymous), 0, 0 },
	{ "kerberos_keytab", K_STR, OFF(cf_krb_keytab), 0, 0 },
	{ "kerberos_realm_map", K_STR, OFF(cf_krb_realm_map), 0, 0 },
	{ "kerberos_rcache", K_STR, OFF(cf_krb_rcache), 0, 0 },
	{ "serversync_client_ca", K_STR, OFF(cf_serversync_client_ca), 0,
	    0 },
	{ "admin_client_ca", K_STR, OFF(cf_admin_client_ca), 0, 0 },
	{ "sync_keytab", K_STR, OFF(cf_sync_keytab), 0, 0 },
	{ "sync_schedule", K_STR, OFF(cf_sync_schedule), 0, 0 },
	{ "sync_account_name", K_STR, OFF(cf_sync_account_name), 0, 0 },
	{ "sync_proxy", K_STR, OFF(cf_sync_proxy), 0, 0 },
	{ "tls_certificate", K_STR, OFF(cf_tls_cert), 0, 0 },
	{ "tls_key", K_STR, OFF(cf_tls_key), 0, 0 },
	{ "workers", K_UINT, OFF(cf_workers), 0, WSD_MAX_WORKERS },
	{ "max_connections", K_UINT, OFF(cf_max_connections), 1,
	    WSD_MAX_CONNECTIONS_CEILING },
	{ "max_connections_per_ip", K_UINT, OFF(cf_max_connections_per_ip), 1,
	    WSD_MAX_CONNECTIONS_CEILING },
	{ "header_timeout", K_UINT, OFF(cf_header_timeout), 1,
	    WSD_MAX_TIMEOUT },
	{ "body_timeout", K_UINT, OFF(cf_body_timeout), 1, WSD_MAX_TIMEOUT },
	{ "idle_timeout", K_UINT, OFF(cf_idle_timeout), 1, WSD_MAX_TIMEOUT },
	{ "handshake_timeout", K_UINT, OFF(cf_handshake_timeout), 1,
	    WSD_MAX_TIMEOUT },
	{ "send_timeout", K_UINT, OFF(cf_send_timeout), 1, WSD_MAX_TIMEOUT },
	{ "cookie_lifetime", K_UINT, OFF(cf_cookie_lifetime), 1,
	    WSD_MAX_COOKIE_LIFETIME },
	{ "registrations_per_minute", K_UINT,
	    OFF(cf_registrations_per_minute), 0, WSD_MAX_REGISTRATION_RATE },
	{ "registration_burst", K_UINT, OFF(cf_registration_burst), 1,
	    WSD_MAX_REGISTRATION_RATE },
	{ "shutdown_timeout", K_UINT, OFF(cf_shutdown_timeout), 0,
	    WSD_MAX_TIMEOUT },
	{ "max_body_simpleauthwebservice", K_SIZE, BODYOFF(VROOT_SIMPLEAUTH),
	    0, WSD_MAX_BODY_CEILING },
	{ "max_body_dssauthwebservice", K_SIZE, BODYOFF(VROOT_DSSAUTH), 0,
	    WSD_MAX_BODY_CEILING },
	{ "max_body_serversyncwebservice", K_SIZE, BODYOFF(VROOT_SERVERSYNC),
	    0, WSD_MAX_BODY_CEILING },
	{ "max_body_apiremoting30", K_SIZE, BODYOFF(VROOT_APIREMOTING), 0,
	    WSD_MAX_BODY_CEILING },
	{ "max_body_clientwebservice", K_SIZE, BODYOFF(VROOT_CLIENT), 0,
	    WSD_MAX_BODY_CEILING },
	{ "max_body_content", K_SIZE, BODYOFF(VROOT_CONTENT), 0,
	    WSD_MAX_BODY_CEILING },
	{ "max_body_inventory", K_SIZE, BODYOFF(VROOT_INVENTORY), 0,
	    WSD_MAX_BODY_CEILING },
	{ "max_body_reportingwebservice", K_SIZE, BODYOFF(VROOT_REPORTING), 0,
	    WSD_MAX_BODY_CEILING },
	{ "max_body_selfupdate", K_SIZE, BODYOFF(VROOT_SELFUPDATE), 0,
	    WSD_MAX_BODY_CEILING },
	{ "access_log", K_STR, OFF(cf_access_log), 0, 0 },
	{ "admin_socket", K_STR, OFF(cf_admin_socket), 0, 0 },
	{ "audit_log", K_STR, OFF(cf_audit_log), 0, 0 },
	{ "log_level", K_LOGLEVEL, OFF(cf_log_level), 0, 0 },
	{ "user", K_STR, OFF(cf_user), 0, 0 },
};

uint16_t
config_http_port_for(uint16_t https_port)
{
	if (https_port == 443)
		return 80;
	if (https_port <= 1)
		return 0;
	return (uint16_t)(https_port - 1);
}

bool
config_tls_configured(const struct config *cf)
{
	struct stat st;

	return cf->cf_tls_cert != NULL && stat(cf->cf_tls_cert, &st) == 0 &&
	    S_ISREG(st.st_mode);
}

void
config_free(struct config *cf)
{
	if (cf == NULL)
		return;
	free(cf->cf_datadir);
	free(cf->cf_server_name);
	for (unsigned i = 0; i < cf->cf_nlisten; i++)
		free(cf->cf_listen[i]);
	free(cf->cf_tls_cert);
	free(cf->cf_tls_key);
	free(cf->cf_access_log);
	free(cf->cf_admin_socket);
	free(cf->cf_audit_log);
	free(cf->cf_krb_keytab);
	free(cf->cf_krb_realm_map);
	free(cf->cf_krb_rcache);
	free(cf->cf_serversync_client_ca);
	free(cf->cf_admin_client_ca);
	free(cf->cf_sync_keytab);
	free(cf->cf_sync_schedule);
	free(cf->cf_sync_account_name);
	free(cf->cf_sync_proxy);
	free(cf->cf_user);
	free(cf);
}

static int
cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/*
 * sync_schedule = HH:MM[, HH:MM...]: local times of day, as WSUS's
 * "synchronize automatically" (first time, and up to 24 a day). Empty
 * or "manual": none.
 */
static int
sync_schedule_parse(struct config *cf, struct wsd_err *err)
{
	const char *p = cf->cf_sync_schedule;

	cf->cf_nsync_times = 0;
	if (strcmp(p, "") == 0 || strcmp(p, "manual") == 0)
		return 0;
	for (;;) {
		unsigned h, m;
		int n = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (sscanf(p, "%2u:%2u%n", &h, &m, &n) != 2 || n != 5 ||
		    h > 23 || m > 59)
			return wsd_fail(err, WSD_EINVAL,
			    "expected HH:MM[, HH:MM...] (24-hour local time) "
			    "or manual");
		if (cf->cf_nsync_times == CONFIG_MAX_SYNC_TIMES)
			return wsd_fail(err, WSD_EINVAL,
			    "at most 24 synchronizations a day");
		for (unsigned i = 0; i < cf->cf_nsync_times; i++)
			if (cf->cf_sync_times[i] == h * 60 + m)
				return wsd_fail(err, WSD_EINVAL,
				    "a time is listed twice");
		cf->cf_sync_times[cf->cf_nsync_times++] = (uint16_t)(h * 60 + m);
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return wsd_fail(err, WSD_EINVAL,
			    "expected HH:MM[, HH:MM...] (24-hour local time) "
			    "or manual");
	}
	qsort(cf->cf_sync_times, cf->cf_nsync_times,
	    sizeof(cf->cf_sync_times[0]), cmp_u16);
	return 0;
}

static void
config_defaults(struct config *cf)
{
	cf->cf_https_port = WSD_DEFAULT_HTTPS_PORT;
	cf->cf_workers = 0;
	cf->cf_max_connections = WSD_DEFAULT_MAX_CONNECTIONS;
	cf->cf_max_connections_per_ip = WSD_DEFAULT_MAX_CONNECTIONS_PER_IP;
	cf->cf_header_timeout = WSD_DEFAULT_HEADER_TIMEOUT;
	cf->cf_body_timeout = WSD_DEFAULT_BODY_TIMEOUT;
	cf->cf_idle_timeout = WSD_DEFAULT_IDLE_TIMEOUT;
	cf->cf_handshake_timeout = WSD_DEFAULT_HANDSHAKE_TIMEOUT;
	cf->cf_send_timeout = WSD_DEFAULT_SEND_TIMEOUT;
	cf->cf_shutdown_timeout = WSD_DEFAULT_SHUTDOWN_TIMEOUT;
	cf->cf_cookie_lifetime = WSD_DEFAULT_COOKIE_LIFETIME;
	cf->cf_registrations_per_minute = WSD_DEFAULT_REGISTRATIONS_PER_MINUTE;
	cf->cf_registration_burst = WSD_DEFAULT_REGISTRATION_BURST;
	for (int v = 0; v < VROOT_COUNT; v++)
		cf->cf_max_body[v] = WSD_DEFAULT_MAX_BODY;
	cf->cf_max_body[VROOT_REPORTING] = WSD_DEFAULT_MAX_BODY_REPORTING;
	cf->cf_max_body[VROOT_SERVERSYNC] = WSD_DEFAULT_MAX_BODY_SERVERSYNC;
	/* Content and SelfUpdate take GET/HEAD only. */
	cf->cf_max_body[VROOT_CONTENT] = 0;
	cf->cf_max_body[VROOT_SELFUPDATE] = 0;
	cf->cf_log_level = LOG_LVL_INFO;
}

/*
 * server_name: a DNS host name (common/dnsname.h) within our limit. A
 * dotted IPv4 address passes; IPv6 does not. wsusutil configuressl applies
 * the same rule before it writes one.
 */
static bool
valid_server_name(const char *s)
{
	return strlen(s) <= WSD_MAX_SERVER_NAME && dnsname_valid(s);
}

/*
 * user: a POSIX-portable account name (letters, digits, '.', '_', '-',
 * not starting with '-'), as useradd accepts, at most 32 bytes.
 */
static bool
valid_user_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return false;
	}
	return true;
}

/* Accepts N, NK, NM, NG (binary multiples). */
static int
parse_size(const char *s, uint64_t max, uint64_t *out)
{
	struct sv v = sv_from_cstr(s);
	uint64_t n, mul = 1;

	if (strparse_u64(&v, UINT64_MAX / 1024 / 1024 / 1024, &n) < 0)
		return -1;
	if (v.n == 1) {
		switch (v.p[0]) {
		case 'k': case 'K': mul = 1024; break;
		case 'm': case 'M': mul = 1024 * 1024; break;
		case 'g': case 'G': mul = 1024 * 1024 * 1024; break;
		default: return -1;
		}
	} else if (v.n != 0) {
		return -1;
	}
	n *= mul;
	if (n > max)
		return -1;
	*out = n;
	return 0;
}

static char *
abs_in_datadir(const char *datadir, const char *p)
{
	struct sbuf sb;

	if (p[0] == '/')
		return strdup(p);
	sbuf_init(&sb, PATH_MAX);
	if (sbuf_addf(&sb, "%s/%s", datadir, p) < 0)
		return NULL;
	return sbuf_detach(&sb, NULL);
}

/* A CA file setting: empty is unset (NULL), relative is in the data
 * directory REAL. -1 when out of memory. */
static int
ca_path(const char *real, char **field)
{
	char *p;

	if (*field != NULL && (*field)[0] == '\0') {
		free(*field);
		*field = NULL;
	}
	if (*field == NULL)
		return 0;
	p = abs_in_datadir(real, *field);
	free(*field);
	*field = p;
	return p == NULL ? -1 : 0;
}

static int
set_key(struct config *cf, const struct key_def *k, const char *val,
    const char **problem)
{
	char *base = (char *)cf;
	uint64_t u;

	switch (k->kind) {
	case K_STR: {
		char **dst = (char **)(void *)(base + k->off);
		char *copy = strdup(val);

		if (copy == NULL) {
			*problem = "out of memory";
			return -1;
		}
		free(*dst);
		*dst = copy;
		return 0;
	}
	case K_BOOL: {
		bool *dst = (bool *)(void *)(base + k->off);

		if (!strcmp(val, "yes") || !strcmp(val, "true") ||
		    !strcmp(val, "1"))
			*dst = true;
		else if (!strcmp(val, "no") || !strcmp(val, "false") ||
		    !strcmp(val, "0"))
			*dst = false;
		else {
			*problem = "expected yes or no";
			return -1;
		}
		return 0;
	}
	case K_UINT:
		if (strparse_u64_all(val, k->min, k->max, &u) < 0) {
			*problem = "expected a whole number in range";
			return -1;
		}
		if (k->off == OFF(cf_https_port))
			cf->cf_https_port = (uint16_t)u;
		else
			*(unsigned *)(void *)(base + k->off) = (unsigned)u;
		return 0;
	case K_SIZE:
		if (parse_size(val, k->max, &u) < 0) {
			*problem = "expected a size (bytes, or with K/M/G) in range";
			return -1;
		}
		*(uint64_t *)(void *)(base + k->off) = u;
		return 0;
	case K_LISTEN: {
		/* Space-separated numeric addresses; replaces earlier ones. */
		char *copy = strdup(val), *save = NULL, *tok;

		if (copy == NULL) {
			*problem = "out of memory";
			return -1;
		}
		for (unsigned i = 0; i < cf->cf_nlisten; i++)
			free(cf->cf_listen[i]);
		cf->cf_nlisten = 0;
		for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (!ipaddr_literal(tok)) {
				*problem = "not a numeric IPv4 or IPv6 address";
				free(copy);
				return -1;
			}
			if (cf->cf_nlisten == WSD_MAX_LISTEN) {
				*problem = "too many addresses";
				free(copy);
				return -1;
			}
			cf->cf_listen[cf->cf_nlisten++] = strdup(tok);
		}
		free(copy);
		return 0;
	}
	case K_LOGLEVEL:
		if (log_parse_level(val, &cf->cf_log_level) < 0) {
			*problem = "expected error, warn, info or debug";
			return -1;
		}
		return 0;
	}
	*problem = "internal error";
	return -1;
}

static const struct key_def *
find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
parse_file(struct config *cf, const char *path, struct wsd_err *err)
{
	char line[WSD_MAX_CONF_LINE];
	unsigned lineno = 0;
	struct stat st;
	FILE *fp;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return wsd_fail(err, WSD_EIO, "cannot read wsusd.conf");
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > WSD_MAX_CONF_BYTES) {
		log_warnx("%s: not a regular file of at most %d bytes", path,
		    WSD_MAX_CONF_BYTES);
		close(fd);
		return wsd_fail(err, WSD_EINVAL, "bad wsusd.conf");
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		const struct key_def *k;
		const char *problem = NULL;
		char *eq, *key, *val;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			log_warnx("%s:%u: line longer than %d bytes", path,
			    lineno, WSD_MAX_CONF_LINE - 1);
			goto bad;
		}
		key = str_trim_line(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			log_warnx("%s:%u: expected key = value", path, lineno);
			goto bad;
		}
		*eq = '\0';
		key = str_trim_line(key);
		val = str_trim_line(eq + 1);
		if ((k = find_key(key)) == NULL) {
			log_warnx("%s:%u: %s: unknown key", path, lineno, key);
			goto bad;
		}
		if (set_key(cf, k, val, &problem) < 0) {
			log_warnx("%s:%u: %s: %s", path, lineno, key, problem);
			goto bad;
		}
	}
	fclose(fp);
	return 0;
bad:
	fclose(fp);
	return wsd_fail(err, WSD_EINVAL, "bad wsusd.conf");
}

int
config_load(const char *datadir, const struct config_overrides *ov,
    struct config **out, struct wsd_err *err)
{
	char real[PATH_MAX], *p;
	struct config *cf;
	struct sbuf path;
	int rc;

	if (realpath(datadir, real) == NULL) {
		log_warn("%s", datadir);
		return wsd_fail(err, WSD_ENOTFOUND, "data directory missing");
	}
	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	config_defaults(cf);
	if ((cf->cf_datadir = strdup(real)) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto fail;
	}
	sbuf_init(&path, PATH_MAX);
	if ((rc = sbuf_addf(&path, "%s/%s", real, WSD_CONF_NAME)) < 0) {
		wsd_fail(err, rc, "data directory path too long");
		goto fail;
	}
	rc = parse_file(cf, sbuf_str(&path), err);
	sbuf_release(&path);
	if (rc < 0)
		goto fail;

	if (ov != NULL && ov->port != 0) {
		if (ov->port < 2 || ov->port > 65535) {
			rc = wsd_fail(err, WSD_EINVAL, "port out of range");
			goto fail;
		}
		cf->cf_https_port = (uint16_t)ov->port;
	}
	if (ov != NULL && ov->nlisten > 0) {
		for (unsigned i = 0; i < cf->cf_nlisten; i++)
			free(cf->cf_listen[i]);
		cf->cf_nlisten = 0;
		for (unsigned i = 0; i < ov->nlisten && i < WSD_MAX_LISTEN;
		    i++) {
			if (!ipaddr_literal(ov->listen[i])) {
				log_warnx("--listen %s: not a numeric IPv4 or "
					  "IPv6 address",
				    ov->listen[i]);
				rc = wsd_fail(err, WSD_EINVAL, "bad --listen");
				goto fail;
			}
			cf->cf_listen[cf->cf_nlisten++] =
			    strdup(ov->listen[i]);
		}
	}
	cf->cf_listen_default = cf->cf_nlisten == 0;
	if (ov != NULL && ov->user != NULL) {
		free(cf->cf_user);
		if ((cf->cf_user = strdup(ov->user)) == NULL) {
			rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
			goto fail;
		}
	}
	/* An empty value is the default: stay as started. */
	if (cf->cf_user != NULL && cf->cf_user[0] == '\0') {
		free(cf->cf_user);
		cf->cf_user = NULL;
	}
	if (cf->cf_user != NULL && !valid_user_name(cf->cf_user)) {
		if (ov != NULL && ov->user != NULL)
			log_warnx("--user %s: not a user name", ov->user);
		else
			log_warnx("%s/%s: user: not a user name", real,
			    WSD_CONF_NAME);
		rc = wsd_fail(err, WSD_EINVAL, "bad user");
		goto fail;
	}
	cf->cf_http_port = config_http_port_for(cf->cf_https_port);

	if (cf->cf_server_name == NULL)
		cf->cf_server_name = strdup("localhost");
	if (!valid_server_name(cf->cf_server_name)) {
		log_warnx("%s/%s: server_name: not a DNS name", real,
		    WSD_CONF_NAME);
		rc = wsd_fail(err, WSD_EINVAL, "bad server_name");
		goto fail;
	}
	p = abs_in_datadir(real, cf->cf_tls_cert ? cf->cf_tls_cert :
						    "tls/server.crt");
	free(cf->cf_tls_cert);
	cf->cf_tls_cert = p;
	p = abs_in_datadir(real, cf->cf_tls_key ? cf->cf_tls_key :
						   "tls/server.key");
	free(cf->cf_tls_key);
	cf->cf_tls_key = p;
	if (cf->cf_access_log == NULL) {
		cf->cf_access_log = abs_in_datadir(real, "access.log");
	} else if (strcmp(cf->cf_access_log, "off") == 0) {
		free(cf->cf_access_log);
		cf->cf_access_log = NULL;
	} else if (strcmp(cf->cf_access_log, "-") != 0) {
		p = abs_in_datadir(real, cf->cf_access_log);
		free(cf->cf_access_log);
		cf->cf_access_log = p;
	}
	/* Administration (docs/ADMIN.md): the socket wsusutil reaches a
	 * running server through ("off": none), and the audit log. */
	if (cf->cf_admin_socket != NULL &&
	    strcmp(cf->cf_admin_socket, "off") == 0) {
		free(cf->cf_admin_socket);
		cf->cf_admin_socket = NULL;
	} else {
		p = abs_in_datadir(real, cf->cf_admin_socket ?
			cf->cf_admin_socket : "admin.sock");
		free(cf->cf_admin_socket);
		if ((cf->cf_admin_socket = p) == NULL) {
			rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
			goto fail;
		}
		if (strlen(p) >= WSD_MAX_UNIX_PATH) {
			log_warnx("%s/%s: admin_socket: %s: longer than %d "
				  "bytes",
			    real, WSD_CONF_NAME, p, WSD_MAX_UNIX_PATH - 1);
			rc = wsd_fail(err, WSD_EINVAL,
			    "admin_socket path too long");
			goto fail;
		}
	}
	p = abs_in_datadir(real, cf->cf_audit_log ? cf->cf_audit_log :
						    "audit.log");
	free(cf->cf_audit_log);
	if ((cf->cf_audit_log = p) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto fail;
	}
	/* An empty value is the default: no client certificates. */
	if (ca_path(real, &cf->cf_serversync_client_ca) < 0 ||
	    ca_path(real, &cf->cf_admin_client_ca) < 0) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto fail;
	}
	if (cf->cf_sync_keytab != NULL && cf->cf_sync_keytab[0] == '\0') {
		free(cf->cf_sync_keytab);
		cf->cf_sync_keytab = NULL;
	}
	if (cf->cf_sync_keytab != NULL) {
		p = abs_in_datadir(real, cf->cf_sync_keytab);
		free(cf->cf_sync_keytab);
		if ((cf->cf_sync_keytab = p) == NULL) {
			rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (cf->cf_sync_proxy != NULL && cf->cf_sync_proxy[0] == '\0') {
		free(cf->cf_sync_proxy);
		cf->cf_sync_proxy = NULL;
	}
	if (cf->cf_sync_proxy != NULL &&
	    strncasecmp(cf->cf_sync_proxy, "http://", 7) != 0) {
		rc = wsd_fail(err, WSD_EINVAL,
		    "sync_proxy must be an http:// URL (the proxy is asked to "
		    "CONNECT for https)");
		log_warnx("%s/wsusd.conf: %s", datadir, err->what);
		goto fail;
	}
	if (cf->cf_sync_schedule != NULL &&
	    (rc = sync_schedule_parse(cf, err)) < 0) {
		log_warnx("%s/wsusd.conf: sync_schedule: %s", datadir,
		    err->what);
		goto fail;
	}
	if (cf->cf_tls_cert == NULL || cf->cf_tls_key == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto fail;
	}
	*out = cf;
	return 0;
fail:
	config_free(cf);
	return rc < 0 ? rc : WSD_EINTERNAL;
}

int
config_file_set(const char *path, const char *key, const char *value,
    struct wsd_err *err)
{
	char line[WSD_MAX_CONF_LINE];
	size_t klen = strlen(key);
	bool done = false, have_old = false;
	struct fileio_owner owner = { .fo_best_effort = true };
	struct stat old_st;
	struct sbuf out;
	FILE *in;
	int rc;

	if (strpbrk(value, "\r\n") != NULL || strpbrk(key, "\r\n=") != NULL)
		return wsd_fail(err, WSD_EINVAL, "newline in config value");
	sbuf_init(&out, WSD_MAX_CONF_BYTES);
	if ((in = fopen(path, "re")) != NULL) {
		have_old = fstat(fileno(in), &old_st) == 0;
		while (fgets(line, sizeof(line), in) != NULL) {
			const char *s = line;

			while (*s == ' ' || *s == '\t')
				s++;
			if (strncmp(s, key, klen) == 0 &&
			    (s[klen] == ' ' || s[klen] == '\t' ||
				s[klen] == '=')) {
				if (done)
					continue; /* drop duplicates */
				rc = sbuf_addf(&out, "%s = %s\n", key, value);
				done = true;
			} else {
				rc = sbuf_adds(&out, line);
			}
			if (rc < 0) {
				fclose(in);
				return wsd_fail(err, rc, "wsusd.conf too big");
			}
		}
		fclose(in);
	} else if (errno != ENOENT) {
		log_warn("%s", path);
		return wsd_fail(err, WSD_EIO, "cannot read wsusd.conf");
	}
	if (!done) {
		if (out.sb_len > 0 && out.sb_buf[out.sb_len - 1] != '\n' &&
		    (rc = sbuf_adds(&out, "\n")) < 0)
			return wsd_fail(err, rc, "cannot build wsusd.conf");
		if ((rc = sbuf_addf(&out, "%s = %s\n", key, value)) < 0)
			return wsd_fail(err, rc, "cannot build wsusd.conf");
	}
	/*
	 * Keep the file's owner (if we may) and mode: wsusutil may run as
	 * root while wsusd, as its own user, must still read it. A new file
	 * is 0640 less the umask, as open(2) would make it.
	 */
	if (have_old) {
		owner.fo_uid = old_st.st_uid;
		owner.fo_gid = old_st.st_gid;
	}
	rc = fileio_write_atomic(AT_FDCWD, path, out.sb_buf, out.sb_len,
	    have_old ? old_st.st_mode & 0640 : 0640, have_old ? &owner : NULL,
	    have_old ? 0 : FILEIO_UMASK, err);
	sbuf_release(&out);
	if (rc < 0)
		return wsd_fail(err, rc, "cannot write wsusd.conf");
	return 0;
}
