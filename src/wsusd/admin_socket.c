/*
 * The local administration socket (admin_socket.h): who calls comes from
 * the kernel, what they may do from DIR/admins, what they run from
 * admin_exec.
 */
#include "wsusd/admin_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "auth/admin_roles.h"
#include "common/admin_proto.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "admin/admin_exec.h"

#define MAX_GROUPS 256
#define SEND_TIMEOUT_SECS 30

struct admin_socket {
	int fd;
	int wake[2]; /* written by admin_socket_stop */
	char path[WSD_MAX_UNIX_PATH];
	pthread_t thr;
	pthread_mutex_t mu; /* guards the three below */
	char datadir[4096];
	char audit_log[4096];
	unsigned port;
	atomic_int calls;
};

struct call {
	struct admin_socket *as;
	int fd;
};

static void
site_copy(struct admin_socket *as, const struct config *cf)
{
	pthread_mutex_lock(&as->mu);
	snprintf(as->datadir, sizeof(as->datadir), "%s", cf->cf_datadir);
	snprintf(as->audit_log, sizeof(as->audit_log), "%s",
	    cf->cf_audit_log);
	as->port = cf->cf_https_port;
	pthread_mutex_unlock(&as->mu);
}

static int
frame_sink(void *arg, char chan, const void *p, size_t n)
{
	struct sbuf f;
	int rc;

	sbuf_init(&f, 2 * ADMIN_MAX_FRAME);
	rc = admin_frame_add(&f, chan, p, n) < 0 ? -1 :
	    admin_send_all(*(int *)arg, f.sb_buf, f.sb_len);
	sbuf_release(&f);
	return rc;
}

/* The whole request: the client shuts its side down after it. */
static int
read_request(int fd, struct sbuf *req)
{
	time_t end = time(NULL) + ADMIN_SOCKET_READ_SECS;
	char buf[8192];

	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		time_t left = end - time(NULL);
		ssize_t r;

		if (left <= 0 || poll(&pf, 1, (int)left * 1000) <= 0)
			return -1;
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (req->sb_len + (size_t)r > ADMIN_MAX_REQUEST ||
		    sbuf_add(req, buf, (size_t)r) < 0)
			return -1;
	}
}

/* The caller's role: root and the data directory's owner administer;
 * anyone else has what DIR/admins gives their name or groups. */
static enum admin_role
local_role(const char *datadir, const struct ucred *uc, const char *user)
{
	gid_t gids[MAX_GROUPS];
	const char *names[MAX_GROUPS];
	char *store[MAX_GROUPS];
	struct admin_roles *roles;
	unsigned long line = 0;
	struct wsd_err err;
	enum admin_role role;
	struct stat st;
	int ng = MAX_GROUPS;
	size_t n = 0;

	if (uc->uid == 0 ||
	    (stat(datadir, &st) == 0 && st.st_uid == uc->uid))
		return ROLE_ADMINISTRATOR;
	if (admin_roles_load(datadir, &roles, &line, &err) < 0) {
		log_warnx("admin: %s/%s line %lu: %s: nobody but root and "
			  "the owner may administer until it is fixed",
		    datadir, ADMIN_ROLES_FILE, line, err.what);
		return ROLE_NONE;
	}
	if (user == NULL) {
		gids[0] = uc->gid;
		ng = 1;
	} else if (getgrouplist(user, uc->gid, gids, &ng) < 0) {
		ng = MAX_GROUPS; /* the first MAX_GROUPS of them */
	}
	for (int i = 0; i < ng; i++) {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrgid_r(gids[i], &gr, buf, sizeof(buf), &res) != 0 ||
		    res == NULL)
			continue;
		if ((store[n] = strdup(gr.gr_name)) == NULL)
			break;
		names[n] = store[n];
		n++;
	}
	role = admin_role_for_local(roles, user, names, n);
	for (size_t i = 0; i < n; i++)
		free(store[i]);
	admin_roles_free(roles);
	return role;
}

static void *
serve_call(void *arg)
{
	static const char unreadable[] =
	    "wsusutil: the server could not read the request\n";
	struct call *c = arg;
	struct admin_socket *as = c->as;
	struct admin_request rq;
	struct admin_caller caller;
	struct admin_site site;
	char datadir[4096], audit_log[4096], principal[64], peer[64];
	char pwbuf[4096];
	struct passwd pw, *pwr = NULL;
	struct wsd_err err;
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	struct timeval tv = { SEND_TIMEOUT_SECS, 0 };
	struct sbuf req, out;
	int status = 70;
	bool denied;

	memset(&rq, 0, sizeof(rq));
	sbuf_init(&req, ADMIN_MAX_REQUEST);
	sbuf_init(&out, 64);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&as->mu);
	snprintf(datadir, sizeof(datadir), "%s", as->datadir);
	snprintf(audit_log, sizeof(audit_log), "%s", as->audit_log);
	site.https_port = as->port;
	pthread_mutex_unlock(&as->mu);
	site.datadir = datadir;
	site.audit_log = audit_log;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) < 0) {
		log_warn("admin: SO_PEERCRED");
		goto out;
	}
	if (read_request(c->fd, &req) < 0 ||
	    admin_request_decode(req.sb_buf, req.sb_len, &rq, &err) < 0) {
		log_warnx("admin: uid %ld: unreadable request",
		    (long)uc.uid);
		(void)frame_sink(&c->fd, 'e', unreadable,
		    sizeof(unreadable) - 1);
		status = 64;
		goto reply;
	}
	if (getpwuid_r(uc.uid, &pw, pwbuf, sizeof(pwbuf), &pwr) == 0 &&
	    pwr != NULL)
		snprintf(principal, sizeof(principal), "%s", pw.pw_name);
	else
		snprintf(principal, sizeof(principal), "uid:%ld",
		    (long)uc.uid);
	snprintf(peer, sizeof(peer), "uid:%ld pid:%ld", (long)uc.uid,
	    (long)uc.pid);
	caller.principal = principal;
	caller.via = "socket";
	caller.peer = peer;
	caller.role = local_role(datadir, &uc, pwr != NULL ? pw.pw_name :
							       NULL);
	if (admin_exec(&site, &caller, rq.argc, rq.argv, frame_sink, &c->fd,
		&status, &denied) < 0)
		goto out;
reply:
	if (admin_frame_exit(&out, status) == 0)
		(void)!admin_send_all(c->fd, out.sb_buf, out.sb_len);
out:
	admin_request_release(&rq);
	sbuf_release(&req);
	sbuf_release(&out);
	close(c->fd);
	atomic_fetch_sub(&as->calls, 1);
	free(c);
	return NULL;
}

static void
busy(int fd)
{
	static const char msg[] =
	    "wsusutil: the server is running too many administrative "
	    "commands; try again\n";
	struct sbuf out;

	sbuf_init(&out, 256);
	if (admin_frame_add(&out, 'e', msg, sizeof(msg) - 1) == 0 &&
	    admin_frame_exit(&out, 75) == 0)
		(void)!admin_send_all(fd, out.sb_buf, out.sb_len);
	sbuf_release(&out);
	close(fd);
}

static void *
accept_loop(void *arg)
{
	struct admin_socket *as = arg;

	for (;;) {
		struct pollfd pf[2] = { { as->fd, POLLIN, 0 },
			{ as->wake[0], POLLIN, 0 } };
		pthread_attr_t at;
		pthread_t t;
		struct call *c;
		int fd;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("admin: poll");
			return NULL;
		}
		if (pf[1].revents != 0)
			return NULL;
		if ((fd = accept4(as->fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		if (atomic_fetch_add(&as->calls, 1) >= ADMIN_SOCKET_MAX_CALLS ||
		    (c = malloc(sizeof(*c))) == NULL) {
			atomic_fetch_sub(&as->calls, 1);
			busy(fd);
			continue;
		}
		c->as = as;
		c->fd = fd;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, serve_call, c) != 0) {
			atomic_fetch_sub(&as->calls, 1);
			free(c);
			busy(fd);
		}
		pthread_attr_destroy(&at);
	}
}

/* A socket file left by a server that is gone may be replaced; a live
 * one, or any other kind of file, may not. */
static int
clear_stale(const char *path, struct wsd_err *err)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, live;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		    wsd_fail(err, WSD_EIO, "cannot inspect admin_socket");
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("admin_socket %s exists and is not a socket; "
			  "refusing to replace it",
		    path);
		return wsd_fail(err, WSD_EPERM, "admin_socket is not a socket");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return wsd_fail(err, WSD_EIO, "socket");
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	if (live) {
		log_warnx("admin_socket %s: another server answers there",
		    path);
		return wsd_fail(err, WSD_EPERM, "admin_socket in use");
	}
	if (unlink(path) < 0)
		return wsd_fail(err, WSD_EIO, "cannot remove a stale "
					      "admin_socket");
	return 0;
}

int
admin_socket_start(const struct config *cf, struct admin_socket **out,
    struct wsd_err *err)
{
	struct admin_socket *as;
	struct sockaddr_un sa;
	int rc;

	*out = NULL;
	if (cf->cf_admin_socket == NULL)
		return 0;
	if ((as = calloc(1, sizeof(*as))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	as->fd = -1;
	as->wake[0] = as->wake[1] = -1;
	pthread_mutex_init(&as->mu, NULL);
	atomic_init(&as->calls, 0);
	snprintf(as->path, sizeof(as->path), "%s", cf->cf_admin_socket);
	site_copy(as, cf);
	if ((rc = clear_stale(as->path, err)) < 0)
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", as->path);
	if ((as->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(as->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(as->path, 0666) < 0 || listen(as->fd, 16) < 0 ||
	    pipe2(as->wake, O_CLOEXEC) < 0) {
		log_warn("admin_socket %s", as->path);
		rc = wsd_fail(err, WSD_EIO, "cannot listen on admin_socket");
		goto fail;
	}
	if (pthread_create(&as->thr, NULL, accept_loop, as) != 0) {
		unlink(as->path);
		rc = wsd_fail(err, WSD_EIO, "cannot start the admin thread");
		goto fail;
	}
	log_info("administration socket %s", as->path);
	*out = as;
	return 0;
fail:
	if (as->fd >= 0)
		close(as->fd);
	if (as->wake[0] >= 0) {
		close(as->wake[0]);
		close(as->wake[1]);
	}
	pthread_mutex_destroy(&as->mu);
	free(as);
	return rc;
}

void
admin_socket_update(struct admin_socket *as, const struct config *cf)
{
	if (as != NULL)
		site_copy(as, cf);
}

void
admin_socket_stop(struct admin_socket *as)
{
	if (as == NULL)
		return;
	(void)!write(as->wake[1], "x", 1);
	pthread_join(as->thr, NULL);
	close(as->fd);
	unlink(as->path);
	close(as->wake[0]);
	close(as->wake[1]);
	/* Calls in flight own their connections and only read AS's site
	 * under its mutex: they must finish before AS goes. */
	for (int i = 0; i < 600 && atomic_load(&as->calls) > 0; i++)
		usleep(100000);
	if (atomic_load(&as->calls) == 0) {
		pthread_mutex_destroy(&as->mu);
		free(as);
	}
}
