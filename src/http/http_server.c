#include "http/http_server.h"

#include "auth/authz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "common/log.h"
#include "http/http_resp.h"
#include "http/http_server_int.h"
#include "net/tls.h"
#include "store/store.h"

/* Connections one wake-up may accept: fairness between workers. */
#define ACCEPT_BATCH 64
#define EPOLL_BATCH 256

uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

const char *
worker_date(struct worker *w)
{
	long long t = (long long)time(NULL);

	if (t != w->w_date_sec) {
		http_date(t, w->w_date, sizeof(w->w_date));
		w->w_date_sec = t;
	}
	return w->w_date;
}

void
srv_runtime_ref(struct srv_runtime *rt)
{
	atomic_fetch_add(&rt->rt_refs, 1);
}

void
srv_runtime_unref(struct srv_runtime *rt)
{
	if (rt == NULL || atomic_fetch_sub(&rt->rt_refs, 1) != 1)
		return;
	SSL_CTX_free(rt->rt_ssl);
	tls_ca_free(rt->rt_admin_ca);
	cookie_keys_release(&rt->rt_cookies);
	authz_free(rt->rt_authz);
	negotiate_server_free(rt->rt_negotiate);
	if (rt->rt_content_fd >= 0)
		close(rt->rt_content_fd);
	if (rt->rt_selfupdate_fd >= 0)
		close(rt->rt_selfupdate_fd);
	if (rt->rt_access_fd > 2)
		close(rt->rt_access_fd);
	config_free(rt->rt_cf);
	free(rt);
}

/* Registers the current runtime's listeners, replacing earlier ones. */
static void
worker_listeners(struct worker *w)
{
	struct srv_runtime *rt = w->w_rt;

	for (unsigned i = 0; i < w->w_nlisten; i++)
		(void)epoll_ctl(w->w_epfd, EPOLL_CTL_DEL, w->w_listen[i].fd,
		    NULL);
	w->w_nlisten = 0;
	if (w->w_stopping)
		return;
	for (unsigned i = 0; i < rt->rt_nlisten; i++) {
		struct ev_tag *t = &w->w_listen[w->w_nlisten];
		struct epoll_event e;

		t->kind = EV_LISTENER;
		t->fd = rt->rt_listen[i].ls_fd;
		t->tls = rt->rt_listen[i].ls_tls;
		e.events = EPOLLIN | EPOLLEXCLUSIVE;
		e.data.ptr = t;
		if (epoll_ctl(w->w_epfd, EPOLL_CTL_ADD, t->fd, &e) < 0) {
			log_warn("epoll_ctl listener");
			continue;
		}
		w->w_nlisten++;
	}
}

static void
worker_accept(struct worker *w, const struct ev_tag *t)
{
	struct srv *s = w->w_srv;

	static const int one = 1;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		const struct config *cf = w->w_rt->rt_cf;
		int fd;

		fd = accept4(t->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_warn("accept");
			return;
		}
		/* Over a cap: close at once, before any byte is read. */
		if (atomic_fetch_add(&s->s_nconns, 1) >= cf->cf_max_connections) {
			atomic_fetch_sub(&s->s_nconns, 1);
			close(fd);
			continue;
		}
		if (!iplimit_take(s->s_iplimit, &ss,
			cf->cf_max_connections_per_ip)) {
			atomic_fetch_sub(&s->s_nconns, 1);
			close(fd);
			continue;
		}
		/* Responses leave in as few writes as we can make them;
		 * Nagle would hold a body segment back for the peer's delayed
		 * ACK (40 ms a request on keep-alive). */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		hconn_accept(w, fd, t->tls, &ss);
	}
}

static void
worker_wake(struct worker *w)
{
	struct srv *s = w->w_srv;
	struct srv_runtime *rt;
	uint64_t v;
	unsigned gen;

	/* Only drains the counter: a failed read just means it was 0. */
	(void)!read(w->w_wake_tag.fd, &v, sizeof(v));
	if (atomic_load(&s->s_stopping) && !w->w_stopping) {
		w->w_stopping = true;
		w->w_stop_deadline = now_ms() + 1000ULL * s->s_grace;
		worker_listeners(w);
		atomic_store(&w->w_stop_acked, true);
		for (struct hconn *c = w->w_conns, *next; c; c = next) {
			next = c->hc_next;
			hconn_stop_idle(c);
		}
	}
	pthread_mutex_lock(&s->s_lock);
	rt = s->s_rt;
	gen = atomic_load(&s->s_gen);
	srv_runtime_ref(rt);
	pthread_mutex_unlock(&s->s_lock);
	if (rt != w->w_rt) {
		srv_runtime_unref(w->w_rt);
		w->w_rt = rt;
		worker_listeners(w);
	} else {
		srv_runtime_unref(rt);
	}
	atomic_store(&w->w_acked_gen, gen);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[EPOLL_BATCH];
	uint64_t next_tick = now_ms() + 1000;

	for (;;) {
		uint64_t now;
		int n;

		if (w->w_stopping && w->w_nconns == 0)
			break;
		n = epoll_wait(w->w_epfd, ev, EPOLL_BATCH, 500);
		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct ev_tag *t = ev[i].data.ptr;

			switch (t->kind) {
			case EV_LISTENER:
				if (!w->w_stopping)
					worker_accept(w, t);
				break;
			case EV_WAKE:
				worker_wake(w);
				break;
			case EV_CONN:
				hconn_event((struct hconn *)t, ev[i].events);
				break;
			}
		}
		now = now_ms();
		if (now >= next_tick) {
			/* Coarse timers: a scan a second is cheap next to the
			 * 10-second deadlines it enforces. */
			for (struct hconn *c = w->w_conns, *next; c; c = next) {
				next = c->hc_next;
				hconn_tick(c, now);
			}
			next_tick = now + 1000;
		}
		if (w->w_stopping && now >= w->w_stop_deadline) {
			while (w->w_conns)
				hconn_free(w->w_conns);
		}
	}
	return NULL;
}

static void
wake_all(struct srv *s)
{
	uint64_t one = 1;

	for (unsigned i = 0; i < s->s_nworkers; i++)
		(void)!write(s->s_workers[i].w_wake_tag.fd, &one, sizeof(one));
}

int
srv_start(struct srv_runtime *rt, unsigned nworkers, struct srv **out,
    struct wsd_err *err)
{
	struct srv *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->s_workers = calloc(nworkers, sizeof(*s->s_workers))) == NULL ||
	    (s->s_iplimit = iplimit_new()) == NULL) {
		if (s)
			free(s->s_workers);
		free(s);
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&s->s_lock, NULL);
	s->s_rt = rt;
	s->s_nworkers = nworkers;
	for (unsigned i = 0; i < nworkers; i++) {
		struct worker *w = &s->s_workers[i];
		struct epoll_event e;

		w->w_id = i;
		w->w_srv = s;
		w->w_rt = rt;
		srv_runtime_ref(rt);
		w->w_epfd = epoll_create1(EPOLL_CLOEXEC);
		w->w_wake_tag.kind = EV_WAKE;
		w->w_wake_tag.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (w->w_epfd < 0 || w->w_wake_tag.fd < 0)
			fatalx("cannot create event loop: %s", strerror(errno));
		e.events = EPOLLIN;
		e.data.ptr = &w->w_wake_tag;
		if (epoll_ctl(w->w_epfd, EPOLL_CTL_ADD, w->w_wake_tag.fd, &e) <
		    0)
			fatalx("epoll_ctl: %s", strerror(errno));
		worker_listeners(w);
	}
	for (unsigned i = 0; i < nworkers; i++) {
		if (pthread_create(&s->s_workers[i].w_thread, NULL,
			worker_main, &s->s_workers[i]) != 0)
			fatalx("cannot start worker thread");
	}
	*out = s;
	return 0;
}

struct srv_runtime *
srv_current(struct srv *s)
{
	return s->s_rt;
}

static bool
has_fd(const struct srv_runtime *rt, int fd)
{
	for (unsigned i = 0; i < rt->rt_nlisten; i++)
		if (rt->rt_listen[i].ls_fd == fd)
			return true;
	return false;
}

void
srv_publish(struct srv *s, struct srv_runtime *newrt)
{
	struct srv_runtime *old;
	uint64_t deadline = now_ms() + 5000;
	unsigned gen;

	pthread_mutex_lock(&s->s_lock);
	old = s->s_rt;
	s->s_rt = newrt;
	gen = atomic_fetch_add(&s->s_gen, 1) + 1;
	pthread_mutex_unlock(&s->s_lock);
	wake_all(s);
	/* Wait for every worker to drop the old listeners from its epoll
	 * set before closing them; a worker is never blocked for long. */
	for (unsigned i = 0; i < s->s_nworkers; i++) {
		while (atomic_load(&s->s_workers[i].w_acked_gen) < gen &&
		    now_ms() < deadline) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	for (unsigned i = 0; i < old->rt_nlisten; i++)
		if (!has_fd(newrt, old->rt_listen[i].ls_fd))
			close(old->rt_listen[i].ls_fd);
	srv_runtime_unref(old);
}

void
srv_stop(struct srv *s, unsigned grace)
{
	uint64_t deadline = now_ms() + 5000;

	s->s_grace = grace;
	atomic_store(&s->s_stopping, true);
	wake_all(s);
	/* Close the listening sockets as soon as no worker polls them, so
	 * new clients are refused at once instead of queueing unanswered
	 * through the grace period. */
	for (unsigned i = 0; i < s->s_nworkers; i++) {
		while (!atomic_load(&s->s_workers[i].w_stop_acked) &&
		    now_ms() < deadline) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	for (unsigned i = 0; i < s->s_rt->rt_nlisten; i++)
		close(s->s_rt->rt_listen[i].ls_fd);
	for (unsigned i = 0; i < s->s_nworkers; i++) {
		struct worker *w = &s->s_workers[i];

		pthread_join(w->w_thread, NULL);
		close(w->w_epfd);
		close(w->w_wake_tag.fd);
		store_close(w->w_store);
		srv_runtime_unref(w->w_rt);
	}
	srv_runtime_unref(s->s_rt);
	iplimit_free(s->s_iplimit);
	pthread_mutex_destroy(&s->s_lock);
	free(s->s_workers);
	free(s);
}
