/*
 * One HTTP/1.1 connection: TLS handshake, request head, body, response,
 * keep-alive and pipelining, timeouts. Runs on its worker's thread only.
 */
#include "http/http_server_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/epoll.h>

#include "common/log.h"
#include "http/handler.h"

/* After a final response with "Connection: close": how long and how much
 * we keep reading so the peer sees our answer rather than a reset. */
#define LINGER_MS 2000
#define LINGER_MAX_BYTES (1024 * 1024)

static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void conn_read(struct hconn *c);
static void conn_write(struct hconn *c);

static void
set_events(struct hconn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (ev == c->hc_events)
		return;
	if (epoll_ctl(c->hc_w->w_epfd, EPOLL_CTL_MOD, c->hc_tag.fd, &e) < 0)
		log_warn("epoll_ctl");
	c->hc_events = ev;
}

static void
want(struct hconn *c, ssize_t r)
{
	set_events(c, r == CONN_WANT_WRITE ? EPOLLOUT : EPOLLIN);
}

void
hconn_free(struct hconn *c)
{
	struct worker *w = c->hc_w;

	if (c->hc_prev)
		c->hc_prev->hc_next = c->hc_next;
	else
		w->w_conns = c->hc_next;
	if (c->hc_next)
		c->hc_next->hc_prev = c->hc_prev;
	w->w_nconns--;
	w->w_frees++;
	atomic_fetch_sub(&w->w_srv->s_nconns, 1);
	iplimit_put(w->w_srv->s_iplimit, &c->hc_peer_ss);
	c->hc_io.io_ops->release(&c->hc_io);
	close(c->hc_tag.fd); /* also leaves the epoll set */
	http_resp_release(&c->hc_resp);
	http_resp_release(&c->hc_resp); /* idempotent: re-inits */
	sbuf_release(&c->hc_body);
	free(c->hc_path);
	free(c->hc_rbuf);
	srv_runtime_unref(c->hc_rt);
	free(c);
}

void
hconn_accept(struct worker *w, int fd, bool tls,
    const struct sockaddr_storage *ss)
{
	struct epoll_event e;
	struct hconn *c;
	SSL_CTX *ctx = tls ? w->w_rt->rt_ssl : NULL;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->hc_rbuf = malloc(WSD_MAX_HEADER_BYTES)) == NULL ||
	    conn_io_init(&c->hc_io, fd, ctx) < 0) {
		if (c)
			free(c->hc_rbuf);
		free(c);
		close(fd);
		iplimit_put(w->w_srv->s_iplimit, ss);
		atomic_fetch_sub(&w->w_srv->s_nconns, 1);
		return;
	}
	c->hc_tag.kind = EV_CONN;
	c->hc_tag.fd = fd;
	c->hc_w = w;
	c->hc_rt = w->w_rt;
	srv_runtime_ref(c->hc_rt);
	c->hc_tls = tls;
	c->hc_peer_ss = *ss;
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    c->hc_peer, sizeof(c->hc_peer));
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, c->hc_peer,
		    sizeof(c->hc_peer));
	http_resp_init(&c->hc_resp);
	sbuf_init(&c->hc_body, 0);
	c->hc_state = tls ? CS_HANDSHAKE : CS_HEAD;
	c->hc_deadline = now_ms() + 1000ULL *
	    (tls ? c->hc_rt->rt_cf->cf_handshake_timeout :
		   c->hc_rt->rt_cf->cf_header_timeout);
	c->hc_events = EPOLLIN;
	e.events = EPOLLIN;
	e.data.ptr = c;
	c->hc_next = w->w_conns;
	if (w->w_conns)
		w->w_conns->hc_prev = c;
	w->w_conns = c;
	w->w_nconns++;
	if (epoll_ctl(w->w_epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
		log_warn("epoll_ctl add");
		hconn_free(c);
		return;
	}
	/* Data often arrives with the connection: try it now. */
	hconn_event(c, EPOLLIN);
}

/* Starts the orderly close: FIN (and close_notify), then drain. */
static void
conn_linger(struct hconn *c)
{
	c->hc_io.io_ops->shutdown(&c->hc_io);
	c->hc_state = CS_LINGER;
	c->hc_deadline = now_ms() + LINGER_MS;
	c->hc_linger_bytes = 0;
	set_events(c, EPOLLIN);
}

static void
request_reset(struct hconn *c)
{
	/* Drop the finished request's head; pipelined bytes move up. */
	memmove(c->hc_rbuf, c->hc_rbuf + c->hc_head_len,
	    c->hc_rlen - c->hc_head_len);
	c->hc_rlen -= c->hc_head_len;
	c->hc_head_len = 0;
	http_resp_release(&c->hc_resp);
	sbuf_release(&c->hc_body);
	free(c->hc_path);
	c->hc_path = NULL;
	c->hc_route_status = 0;
	c->hc_auth_hdr[0] = '\0';
	c->hc_identity[0] = '\0';
	c->hc_gated = false;
	c->hc_body_left = 0;
	c->hc_body_chunked = false;
}

/* The response in hc_resp is built: send it. */
static void
respond(struct hconn *c)
{
	c->hc_state = CS_WRITE;
	c->hc_deadline = now_ms() + 1000ULL * c->hc_rt->rt_cf->cf_send_timeout;
	conn_write(c);
}

/* A small error answer; CLOSE forces the connection shut after it. */
static void
respond_error(struct hconn *c, int status, bool close)
{
	struct http_resp *rs = &c->hc_resp;
	char text[96];

	http_resp_release(rs);
	if (close)
		c->hc_keepalive = false;
	rs->rs_close = !c->hc_keepalive;
	snprintf(text, sizeof(text), "%d %s\n", status, http_reason(status));
	if (http_resp_simple(rs, status, worker_date(c->hc_w), NULL,
		"text/plain", text) < 0) {
		hconn_free(c);
		return;
	}
	respond(c);
}

static void
dispatch(struct hconn *c)
{
	struct handler_ctx hx = {
		.hx_req = &c->hc_req,
		.hx_route = &c->hc_route,
		.hx_rt = c->hc_rt,
		.hx_tls = c->hc_tls,
		.hx_body = c->hc_body.sb_buf,
		.hx_body_len = c->hc_body.sb_len,
		.hx_date = worker_date(c->hc_w),
		.hx_peer = c->hc_peer,
		.hx_peer_ss = &c->hc_peer_ss,
		.hx_store = &c->hc_w->w_store,
		.hx_identity = c->hc_identity,
		.hx_gated = &c->hc_gated,
	};
	struct http_resp *rs = &c->hc_resp;

	http_resp_release(rs);
	rs->rs_close = !c->hc_keepalive;
	rs->rs_extra = c->hc_auth_hdr[0] != '\0' ? c->hc_auth_hdr : NULL;
	if (handler_run(&hx, rs) < 0) {
		log_warnx("%s: cannot build response", c->hc_peer);
		http_resp_release(rs);
		respond_error(c, 500, true);
		return;
	}
	/* A handler may ask to close (e.g. a refused request with a body). */
	if (rs->rs_close)
		c->hc_keepalive = false;
	respond(c);
}

/* Removes N bytes of body data that follow the head in hc_rbuf. */
static void
consume_after_head(struct hconn *c, size_t n)
{
	char *p = c->hc_rbuf + c->hc_head_len;

	memmove(p, p + n, c->hc_rlen - c->hc_head_len - n);
	c->hc_rlen -= n;
}

/* Feeds buffered bytes into the body; dispatches once it is whole. */
static void
body_progress(struct hconn *c)
{
	const char *p = c->hc_rbuf + c->hc_head_len;
	size_t avail = c->hc_rlen - c->hc_head_len, used = 0;

	if (c->hc_body_chunked) {
		while (used < avail) {
			size_t room = c->hc_body_limit - c->hc_body.sb_len;
			char tmp[4096];
			size_t outn = room < sizeof(tmp) ? room : sizeof(tmp);
			bool done;
			long r;

			r = http_chunked_decode(&c->hc_ck, p + used,
			    avail - used, tmp, &outn, &done);
			if (r < 0) {
				respond_error(c, 400, true);
				return;
			}
			if (outn > 0 && sbuf_add(&c->hc_body, tmp, outn) < 0) {
				respond_error(c, 413, true);
				return;
			}
			used += (size_t)r;
			if (done) {
				consume_after_head(c, used);
				dispatch(c);
				return;
			}
			if (r == 0 && outn == 0) {
				/* Data left but no room for it: too big. */
				respond_error(c, 413, true);
				return;
			}
		}
		consume_after_head(c, used);
		return;
	}
	used = avail < c->hc_body_left ? avail : (size_t)c->hc_body_left;
	if (used > 0 && sbuf_add(&c->hc_body, p, used) < 0) {
		respond_error(c, 500, true);
		return;
	}
	consume_after_head(c, used);
	c->hc_body_left -= used;
	if (c->hc_body_left == 0)
		dispatch(c);
}

/* A whole head is in hc_rbuf[0 .. head_len). */
static void
on_head(struct hconn *c)
{
	struct http_req *rq = &c->hc_req;
	struct worker *w = c->hc_w;
	int status;

	c->hc_start_us = now_us();
	c->hc_requests++;
	/* New requests run under the newest generation (SIGHUP). */
	if (c->hc_rt != w->w_rt) {
		srv_runtime_unref(c->hc_rt);
		c->hc_rt = w->w_rt;
		srv_runtime_ref(c->hc_rt);
	}
	c->hc_keepalive = rq->rq_keepalive && !w->w_stopping;
	/* The head stays at the start of hc_rbuf until the response is done:
	 * rq's slices point into it. Body bytes follow it. */
	c->hc_head_len = rq->rq_head_len;
	if ((c->hc_path = malloc(rq->rq_target.n + 1)) == NULL) {
		respond_error(c, 500, true);
		return;
	}
	status = router_match(rq->rq_target, c->hc_path,
	    rq->rq_target.n + 1, &c->hc_route);
	c->hc_route_status = status;
	if (status != 0) {
		respond_error(c, status, true);
		return;
	}
	status = handler_admit(&(struct handler_ctx){ .hx_req = rq,
				   .hx_route = &c->hc_route,
				   .hx_rt = c->hc_rt,
				   .hx_tls = c->hc_tls,
				   .hx_ssl = c->hc_io.io_ssl,
				   .hx_peer = c->hc_peer,
				   .hx_auth_hdr = c->hc_auth_hdr,
				   .hx_identity = c->hc_identity,
				   .hx_gated = &c->hc_gated },
	    &c->hc_body_limit);
	if (status != 0) {
		/* Refused before its body: nothing is processed, and any body
		 * sent is not read, so the connection cannot continue. */
		bool has_body = rq->rq_chunked ||
		    (rq->rq_has_length && rq->rq_content_length > 0);

		http_resp_release(&c->hc_resp);
		if (has_body)
			c->hc_keepalive = false;
		c->hc_resp.rs_close = !c->hc_keepalive;
		if (handler_refusal(&(struct handler_ctx){ .hx_req = rq,
					.hx_route = &c->hc_route,
					.hx_rt = c->hc_rt,
					.hx_tls = c->hc_tls,
					.hx_date = worker_date(w) },
			status, &c->hc_resp) < 0) {
			hconn_free(c);
			return;
		}
		respond(c);
		return;
	}
	if (rq->rq_chunked || (rq->rq_has_length && rq->rq_content_length)) {
		if (!rq->rq_chunked && rq->rq_content_length > c->hc_body_limit) {
			respond_error(c, 413, true);
			return;
		}
		sbuf_init(&c->hc_body, c->hc_body_limit);
		c->hc_body_chunked = rq->rq_chunked;
		c->hc_body_left = rq->rq_chunked ? 0 : rq->rq_content_length;
		http_chunked_init(&c->hc_ck);
		/* Only when no body byte has arrived yet: a client that sent
		 * the body anyway needs no invitation. */
		if (rq->rq_expect_continue && c->hc_rlen == c->hc_head_len) {
			ssize_t r = c->hc_io.io_ops->write(&c->hc_io,
			    continue_100, sizeof(continue_100) - 1, false);

			if (r != (ssize_t)sizeof(continue_100) - 1) {
				/* 25 bytes on an idle socket: a short write
				 * means the peer is gone or stalling. */
				hconn_free(c);
				return;
			}
		}
		c->hc_state = CS_BODY;
		c->hc_deadline = now_ms() +
		    1000ULL * c->hc_rt->rt_cf->cf_body_timeout;
		body_progress(c);
		return;
	}
	dispatch(c);
}

static void
try_parse(struct hconn *c)
{
	int status = 0, r;

	r = http_req_parse(c->hc_rbuf, c->hc_rlen, &c->hc_req, &status);
	if (r == 0)
		return;
	if (r < 0) {
		c->hc_start_us = now_us();
		c->hc_route.rt_vroot = VROOT_NONE;
		c->hc_req.rq_method = HTTP_OTHER;
		c->hc_req.rq_method_str = (struct sv){ "-", 1 };
		c->hc_route.rt_path = (struct sv){ "-", 1 };
		c->hc_keepalive = false;
		respond_error(c, status, true);
		return;
	}
	on_head(c);
}

static void
conn_read(struct hconn *c)
{
	struct worker *w = c->hc_w;

	for (;;) {
		unsigned long frees;
		size_t room;
		ssize_t r;

		if (c->hc_state != CS_HEAD && c->hc_state != CS_BODY)
			return;
		room = WSD_MAX_HEADER_BYTES - c->hc_rlen;
		if (room == 0) {
			if (c->hc_state == CS_HEAD)
				try_parse(c); /* full: parser says 431 */
			return;
		}
		r = c->hc_io.io_ops->read(&c->hc_io, c->hc_rbuf + c->hc_rlen,
		    room);
		if (r == 0 || r == CONN_ERR) {
			hconn_free(c);
			return;
		}
		if (r < 0) {
			want(c, r);
			return;
		}
		if (c->hc_state == CS_HEAD && c->hc_rlen == 0 &&
		    c->hc_requests > 0) {
			/* First byte of a keep-alive request: from here the
			 * head must arrive within header_timeout. */
			c->hc_deadline = now_ms() +
			    1000ULL * c->hc_rt->rt_cf->cf_header_timeout;
		}
		c->hc_rlen += (size_t)r;
		frees = w->w_frees;
		if (c->hc_state == CS_HEAD)
			try_parse(c);
		else
			body_progress(c);
		/* Processing C frees only C: a changed count means it is gone. */
		if (w->w_frees != frees)
			return;
		/* Plain TCP: level-triggered epoll reports what is left. TLS:
		 * OpenSSL may already hold bytes read ahead from the socket or
		 * decrypted ones we have not taken, which epoll cannot see;
		 * read on while it does. */
		if (!c->hc_tls || !SSL_has_pending(c->hc_io.io_ssl))
			return;
	}
}

/* Response fully sent. */
static void
response_done(struct hconn *c)
{
	access_log_write(c, now_us() - c->hc_start_us);
	if (!c->hc_keepalive || c->hc_resp.rs_close || c->hc_w->w_stopping) {
		request_reset(c);
		conn_linger(c);
		return;
	}
	request_reset(c);
	c->hc_state = CS_HEAD;
	c->hc_deadline = now_ms() + 1000ULL * c->hc_rt->rt_cf->cf_idle_timeout;
	/* Pipelined bytes, or TLS records OpenSSL holds (read ahead or
	 * decrypted), raise no epoll event. They wait for the next loop turn
	 * (EPOLLOUT fires at once), behind the other ready connections:
	 * serving this one again now let one client take many turns in a
	 * row while a thousand others waited (bench/scan.sh's warm p99).
	 * Nothing pending: the next request comes with EPOLLIN, without a
	 * read that would only say EAGAIN. */
	if (c->hc_rlen > 0 ||
	    (c->hc_tls && SSL_has_pending(c->hc_io.io_ssl))) {
		if (c->hc_rlen > 0)
			c->hc_deadline = now_ms() +
			    1000ULL * c->hc_rt->rt_cf->cf_header_timeout;
		c->hc_resume = true;
		set_events(c, EPOLLIN | EPOLLOUT);
		return;
	}
	set_events(c, EPOLLIN);
}

static void
conn_write(struct hconn *c)
{
	struct http_resp *rs = &c->hc_resp;

	while (rs->rs_cur < rs->rs_nseg) {
		struct http_seg *sg = &rs->rs_seg[rs->rs_cur];
		uint64_t left = sg->sg_len - rs->rs_sent;
		ssize_t r;

		if (sg->sg_file) {
			off_t off = (off_t)(sg->sg_off + rs->rs_sent);

			r = c->hc_io.io_ops->sendfile(&c->hc_io, rs->rs_fd, &off,
			    left > SIZE_MAX ? SIZE_MAX : (size_t)left);
		} else {
			/* Head then sendfile: one segment, not two. */
			bool more = rs->rs_cur + 1 < rs->rs_nseg &&
			    rs->rs_seg[rs->rs_cur + 1].sg_file;

			r = c->hc_io.io_ops->write(&c->hc_io,
			    rs->rs_buf.sb_buf + sg->sg_off + rs->rs_sent,
			    (size_t)left, more);
		}
		if (r == CONN_ERR || r == 0) {
			hconn_free(c);
			return;
		}
		if (r < 0) {
			want(c, r);
			return;
		}
		rs->rs_sent += (uint64_t)r;
		c->hc_deadline = now_ms() +
		    1000ULL * c->hc_rt->rt_cf->cf_send_timeout;
		if (rs->rs_sent == sg->sg_len) {
			rs->rs_cur++;
			rs->rs_sent = 0;
		}
	}
	response_done(c);
}

static void
conn_handshake(struct hconn *c)
{
	int r = c->hc_io.io_ops->handshake(&c->hc_io);

	if (r == 1) {
		c->hc_state = CS_HEAD;
		c->hc_deadline = now_ms() +
		    1000ULL * c->hc_rt->rt_cf->cf_header_timeout;
		set_events(c, EPOLLIN);
		conn_read(c);
		return;
	}
	if (r == CONN_ERR) {
		hconn_free(c);
		return;
	}
	want(c, r);
}

static void
conn_drain(struct hconn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t r = read(c->hc_tag.fd, buf, sizeof(buf));

		if (r > 0) {
			c->hc_linger_bytes += (size_t)r;
			if (c->hc_linger_bytes > LINGER_MAX_BYTES) {
				hconn_free(c);
				return;
			}
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		hconn_free(c);
		return;
	}
}

void
hconn_event(struct hconn *c, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		if (c->hc_state != CS_LINGER && !(events & EPOLLIN)) {
			hconn_free(c);
			return;
		}
	}
	switch (c->hc_state) {
	case CS_HANDSHAKE:
		conn_handshake(c);
		break;
	case CS_HEAD:
		if (c->hc_resume) {
			c->hc_resume = false;
			set_events(c, EPOLLIN);
			if (c->hc_rlen > 0) {
				try_parse(c);
				break;
			}
		}
		conn_read(c);
		break;
	case CS_BODY:
		conn_read(c);
		break;
	case CS_WRITE:
		conn_write(c);
		break;
	case CS_LINGER:
		conn_drain(c);
		break;
	}
}

void
hconn_tick(struct hconn *c, uint64_t now)
{
	if (now < c->hc_deadline)
		return;
	if (c->hc_state == CS_HEAD && c->hc_rlen > 0)
		log_debug("%s: request head not received within %us, closing",
		    c->hc_peer, c->hc_rt->rt_cf->cf_header_timeout);
	hconn_free(c);
}

void
hconn_stop_idle(struct hconn *c)
{
	if (c->hc_state == CS_HANDSHAKE ||
	    (c->hc_state == CS_HEAD && c->hc_rlen == 0) ||
	    c->hc_state == CS_LINGER)
		hconn_free(c);
}
