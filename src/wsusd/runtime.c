#include "wsusd/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/authz.h"
#include "common/log.h"
#include "net/tls.h"

int
runtime_check_modes(const struct config *cf, struct wsd_err *err)
{
	static const char *const dirs[] = { "", "/tls", "/content",
		"/quarantine" };
	char path[4096];
	struct stat st;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", cf->cf_datadir, dirs[i]);
		if (lstat(path, &st) < 0) {
			if (errno == ENOENT && i > 0)
				continue;
			log_warn("%s", path);
			return wsd_fail(err, WSD_EIO, "cannot inspect data directory");
		}
		if (S_ISLNK(st.st_mode) && i > 0) {
			log_warnx("%s is a symbolic link; refusing to start",
			    path);
			return wsd_fail(err, WSD_EPERM, "symlink in data directory");
		}
		if (st.st_mode & S_IWOTH) {
			log_warnx("%s is writable by others (mode %04o); "
				  "refusing to start: chmod o-w %s",
			    path, (unsigned)(st.st_mode & 07777), path);
			return wsd_fail(err, WSD_EPERM,
			    "data directory writable by others");
		}
		/* The data and key directories: a group member could swap
		 * wsusd.conf, the database or a key (S17). */
		if (i <= 1 && (st.st_mode & S_IWGRP)) {
			log_warnx("%s is writable by its group (mode %04o); "
				  "refusing to start: chmod g-w %s",
			    path, (unsigned)(st.st_mode & 07777), path);
			return wsd_fail(err, WSD_EPERM,
			    "data directory writable by its group");
		}
	}
	if (stat(cf->cf_tls_key, &st) == 0 && (st.st_mode & 077) != 0) {
		log_warnx("%s is readable or writable by group or others (mode "
			  "%04o); refusing to start: chmod 600 %s",
		    cf->cf_tls_key, (unsigned)(st.st_mode & 07777),
		    cf->cf_tls_key);
		return wsd_fail(err, WSD_EPERM, "private key not private");
	}
	return 0;
}

/* The listener of OLD we can carry over, or -1. */
static int
inherited_fd(const struct srv_runtime *old, const char *addr, uint16_t port,
    bool tls)
{
	if (old == NULL)
		return -1;
	for (unsigned i = 0; i < old->rt_nlisten; i++)
		if (listener_same(&old->rt_listen[i], addr, port, tls))
			return old->rt_listen[i].ls_fd;
	return -1;
}

static int
add_listener(struct srv_runtime *rt, const struct srv_runtime *old,
    bool *fresh, const char *addr, uint16_t port, bool tls, bool optional,
    struct wsd_err *err)
{
	struct listener *ls = &rt->rt_listen[rt->rt_nlisten];
	int fd = inherited_fd(old, addr, port, tls);
	int rc;

	if (fd >= 0) {
		ls->ls_fd = fd;
		ls->ls_tls = tls;
		ls->ls_port = port;
		snprintf(ls->ls_addr, sizeof(ls->ls_addr), "%s", addr);
		fresh[rt->rt_nlisten++] = false;
		return 0;
	}
	if ((rc = listener_open(ls, addr, port, tls, err)) < 0) {
		/* "::" on a host without IPv6 is not worth refusing to start. */
		if (optional) {
			log_warnx("not listening on [%s]:%u", addr, port);
			return 0;
		}
		return rc;
	}
	fresh[rt->rt_nlisten++] = true;
	return 0;
}

/*
 * Who may use ServerSyncWebService: the authorization list, the Kerberos
 * keytab and the realm map, loaded with the generation, so a SIGHUP
 * reloads them and a broken one keeps the running generation (the
 * reload is refused as a whole, with the problem in the log).
 */
static int
serversync_auth_load(struct srv_runtime *rt, struct wsd_err *err)
{
	const struct config *cf = rt->rt_cf;
	struct negotiate_server_cfg ncf;
	char keytab[4096], rcache[4200];
	unsigned long line = 0;
	int rc;

	if ((rc = authz_load(cf->cf_datadir, &rt->rt_authz, &line, err)) < 0)
		return rc;
	if (cf->cf_krb_realm_map != NULL &&
	    (rc = negotiate_realm_map_parse(cf->cf_krb_realm_map,
		 &rt->rt_realm_map, err)) < 0) {
		log_warnx("kerberos_realm_map: %s", err->what);
		return rc;
	}
	if (cf->cf_krb_keytab != NULL)
		snprintf(keytab, sizeof(keytab), "%s", cf->cf_krb_keytab);
	else
		snprintf(keytab, sizeof(keytab), "%s/tls/http.keytab",
		    cf->cf_datadir);
	if (access(keytab, F_OK) < 0) {
		if (cf->cf_krb_keytab != NULL) {
			log_warn("kerberos_keytab %s", keytab);
			return wsd_fail(err, WSD_ENOTFOUND,
			    "Kerberos keytab missing");
		}
		if (!cf->cf_serversync_anonymous)
			log_info("no Kerberos keytab (%s): ServerSyncWebService "
				 "answers 401 to every request",
			    keytab);
		return 0;
	}
	if (cf->cf_krb_rcache != NULL)
		snprintf(rcache, sizeof(rcache), "file2:%s", cf->cf_krb_rcache);
	else
		snprintf(rcache, sizeof(rcache), "file2:%s/tls/krb5.rcache",
		    cf->cf_datadir);
	memset(&ncf, 0, sizeof(ncf));
	ncf.nsc_keytab = keytab;
	ncf.nsc_server_name = cf->cf_server_name;
	ncf.nsc_rcache = rcache;
	return negotiate_server_new(&ncf, &rt->rt_negotiate, err);
}

int
runtime_build(struct config *cf, const struct srv_runtime *old,
    struct srv_runtime **out, struct wsd_err *err)
{
	bool fresh[2 * WSD_MAX_LISTEN] = { false };
	struct srv_runtime *rt;
	char path[4096];
	int rc;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		config_free(cf);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	atomic_init(&rt->rt_refs, 1);
	rt->rt_cf = cf;
	cookie_keys_init(&rt->rt_cookies);
	rt->rt_content_fd = -1;
	rt->rt_selfupdate_fd = -1;
	rt->rt_access_fd = -1;

	if ((rc = runtime_check_modes(cf, err)) < 0)
		goto fail;
	rt->rt_tls = config_tls_configured(cf);
	if (rt->rt_tls) {
		if ((rc = tls_server_ctx_new(cf->cf_tls_cert, cf->cf_tls_key,
			 &rt->rt_ssl, err)) < 0)
			goto fail;
		/* Per generation like the rest of the context: a SIGHUP reads
		 * the CA file again, and a broken one keeps the old. */
		if (cf->cf_serversync_client_ca != NULL &&
		    (rc = tls_server_client_ca(rt->rt_ssl,
			 cf->cf_serversync_client_ca, err)) < 0)
			goto fail;
		if (cf->cf_serversync_client_ca != NULL)
			log_info("ServerSyncWebService: client certificates "
				 "from the CAs in %s identify servers",
			    cf->cf_serversync_client_ca);
		/* After the line above: it replaces the list of CA names the
		 * handshake sends, this one adds to it. */
		if (cf->cf_admin_client_ca != NULL &&
		    (rc = tls_server_admin_ca(rt->rt_ssl,
			 cf->cf_admin_client_ca, &rt->rt_admin_ca, err)) < 0)
			goto fail;
		if (cf->cf_admin_client_ca != NULL)
			log_info("ApiRemoting30: client certificates from the "
				 "CAs in %s identify administrators",
			    cf->cf_admin_client_ca);
	} else if (!cf->cf_allow_insecure_http) {
		log_warnx("no TLS certificate installed (%s): run 'wsusutil "
			  "--data %s configuressl NAME', or set "
			  "allow_insecure_http = yes in wsusd.conf",
		    cf->cf_tls_cert, cf->cf_datadir);
		rc = wsd_fail(err, WSD_EPERM, "TLS is not configured");
		goto fail;
	}

	if (!rt->rt_tls && cf->cf_serversync_client_ca != NULL)
		log_warnx("serversync_client_ca is set but TLS is not "
			  "configured: no client certificate is asked for");
	if (!rt->rt_tls && cf->cf_admin_client_ca != NULL)
		log_warnx("admin_client_ca is set but TLS is not configured: "
			  "no client certificate is asked for");

	/* Created at first start (0600); refused if others may read it. */
	if ((rc = cookie_keys_load(&rt->rt_cookies, cf->cf_datadir, err)) < 0)
		goto fail;
	if ((rc = serversync_auth_load(rt, err)) < 0)
		goto fail;

	snprintf(path, sizeof(path), "%s/content", cf->cf_datadir);
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		log_warn("%s", path);
		rc = wsd_fail(err, WSD_EIO, "cannot create content directory");
		goto fail;
	}
	rt->rt_content_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (rt->rt_content_fd < 0) {
		log_warn("%s", path);
		rc = wsd_fail(err, WSD_EIO, "cannot open content directory");
		goto fail;
	}
	/* Optional: without it, SelfUpdate answers 404 for every name. */
	snprintf(path, sizeof(path), "%s/selfupdate", cf->cf_datadir);
	rt->rt_selfupdate_fd = open(path, O_RDONLY | O_DIRECTORY |
		O_NOFOLLOW | O_CLOEXEC);
	if (rt->rt_selfupdate_fd < 0 && errno != ENOENT)
		log_warn("%s", path);
	if (cf->cf_access_log != NULL && strcmp(cf->cf_access_log, "-") == 0) {
		rt->rt_access_fd = 1;
	} else if (cf->cf_access_log != NULL) {
		rt->rt_access_fd = open(cf->cf_access_log, O_WRONLY | O_APPEND |
			O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (rt->rt_access_fd < 0) {
			log_warn("%s", cf->cf_access_log);
			rc = wsd_fail(err, WSD_EIO, "cannot open access log");
			goto fail;
		}
	}

	if (cf->cf_listen_default) {
		static const char *const any[] = { "0.0.0.0", "::" };

		for (int i = 0; i < 2; i++) {
			if (rt->rt_tls &&
			    (rc = add_listener(rt, old, fresh, any[i],
				 cf->cf_https_port, true, i == 1, err)) < 0)
				goto fail;
			if ((rc = add_listener(rt, old, fresh, any[i],
				 cf->cf_http_port, false, i == 1, err)) < 0)
				goto fail;
		}
	} else {
		for (unsigned i = 0; i < cf->cf_nlisten; i++) {
			if (rt->rt_tls &&
			    (rc = add_listener(rt, old, fresh, cf->cf_listen[i],
				 cf->cf_https_port, true, false, err)) < 0)
				goto fail;
			if ((rc = add_listener(rt, old, fresh, cf->cf_listen[i],
				 cf->cf_http_port, false, false, err)) < 0)
				goto fail;
		}
	}
	if (rt->rt_nlisten == 0) {
		rc = wsd_fail(err, WSD_EIO, "no listening socket");
		goto fail;
	}
	*out = rt;
	return 0;
fail:
	for (unsigned i = 0; i < rt->rt_nlisten; i++)
		if (fresh[i])
			close(rt->rt_listen[i].ls_fd);
	srv_runtime_unref(rt); /* frees cf too */
	return rc;
}
