/*
 * Private to http_server.c, http_conn.c and access_log.c: workers and
 * connections. Everything here belongs to exactly one worker thread,
 * except the fields marked atomic.
 */
#ifndef WSUSD_HTTP_HTTP_SERVER_INT_H
#define WSUSD_HTTP_HTTP_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/sbuf.h"
#include "http/handler.h"
#include "http/http_req.h"
#include "http/http_resp.h"
#include "http/http_server.h"
#include "http/router.h"
#include "net/conn.h"

enum ev_kind { EV_LISTENER, EV_WAKE, EV_CONN };

/* First member of whatever epoll_data.ptr points at. */
struct ev_tag {
	enum ev_kind kind;
	int fd;
	bool tls; /* listeners: the HTTPS port */
};

enum hconn_state {
	CS_HANDSHAKE, /* TLS handshake */
	CS_HEAD,      /* reading a request head */
	CS_BODY,      /* reading a request body */
	CS_WRITE,     /* sending a response */
	CS_LINGER,    /* write side shut; draining what the peer still sends */
};

struct worker;

struct hconn {
	struct ev_tag hc_tag; /* first: epoll_data.ptr */
	struct hconn *hc_next, *hc_prev;
	struct worker *hc_w;
	struct srv_runtime *hc_rt; /* reference held */
	struct conn_io hc_io;
	bool hc_tls;
	enum hconn_state hc_state;
	uint32_t hc_events;    /* epoll interest now registered */
	uint64_t hc_deadline;  /* monotonic ms */
	struct sockaddr_storage hc_peer_ss;
	char hc_peer[48];
	char *hc_rbuf; /* WSD_MAX_HEADER_BYTES */
	size_t hc_rlen;
	size_t hc_head_len; /* current request's head, kept at hc_rbuf[0] */
	bool hc_resume;     /* pipelined data waits for the next turn */
	size_t hc_linger_bytes;
	unsigned hc_requests;
	/* The request in progress. */
	struct http_req hc_req;
	struct route hc_route;
	char *hc_path;      /* decoded path, malloc'd per request */
	int hc_route_status; /* 0, or the status router_match gave */
	/* ServerSyncWebService: the Negotiate reply header of this request */
	char hc_auth_hdr[HANDLER_AUTH_MAX];
	/* ServerSyncWebService: who the gate admitted, "" anonymous */
	char hc_identity[HANDLER_IDENTITY_MAX];
	bool hc_gated; /* the ServerSync gate admitted this request */
	uint64_t hc_body_left; /* Content-Length bytes still to read */
	bool hc_body_chunked;
	uint64_t hc_body_limit;
	struct http_chunked hc_ck;
	struct sbuf hc_body;
	bool hc_keepalive;
	uint64_t hc_start_us;
	struct http_resp hc_resp;
};

struct worker {
	struct ev_tag w_wake_tag; /* the eventfd */
	pthread_t w_thread;
	unsigned w_id;
	int w_epfd;
	struct srv *w_srv;
	struct srv_runtime *w_rt; /* reference held */
	struct hconn *w_conns;
	struct store *w_store; /* this thread's database handle, or NULL */
	unsigned w_nconns;
	unsigned long w_frees; /* connections freed so far (see conn_read) */
	atomic_uint w_acked_gen;
	atomic_bool w_stop_acked; /* listeners out of this epoll set */
	bool w_stopping;
	uint64_t w_stop_deadline;
	/* Listener tags registered in w_epfd, one per listening socket. */
	unsigned w_nlisten;
	struct ev_tag w_listen[2 * WSD_MAX_LISTEN];
	char w_date[40];
	long long w_date_sec;
};

struct srv {
	pthread_mutex_t s_lock; /* s_rt and s_gen */
	struct srv_runtime *s_rt;
	atomic_uint s_gen;
	atomic_bool s_stopping;
	atomic_uint s_nconns;
	unsigned s_grace;
	unsigned s_nworkers;
	struct worker *s_workers;
	struct iplimit *s_iplimit;
};

uint64_t now_ms(void);
uint64_t now_us(void);
const char *worker_date(struct worker *w);

/* http_conn.c */
void hconn_accept(struct worker *w, int fd, bool tls,
    const struct sockaddr_storage *ss);
void hconn_event(struct hconn *c, uint32_t events);
/* Called once a second for each connection; may free C. */
void hconn_tick(struct hconn *c, uint64_t now);
/* Stopping: closes C if it is idle between requests; may free C. */
void hconn_stop_idle(struct hconn *c);
void hconn_free(struct hconn *c);

/* access_log.c */
void access_log_write(const struct hconn *c, uint64_t micros);

/* iplimit.c: per-address connection counts shared by all workers. */
struct iplimit;
struct iplimit *iplimit_new(void);
void iplimit_free(struct iplimit *l);
/* Returns false (and counts nothing) when ADDR is at MAX already. */
bool iplimit_take(struct iplimit *l, const struct sockaddr_storage *ss,
    unsigned max);
void iplimit_put(struct iplimit *l, const struct sockaddr_storage *ss);

#endif
