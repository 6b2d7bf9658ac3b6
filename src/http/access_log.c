/*
 * The access log: one line per request, written with a single write(2) on
 * an O_APPEND descriptor so lines from several workers never interleave.
 * Format (docs/CONFIG.md "Access log"):
 *
 *   TIME PEER SCHEME VROOT METHOD PATH STATUS BYTES MICROS "USER-AGENT"
 *
 * Only the decoded path is logged, never the query, cookies, Authorization
 * or bodies (S19). Bytes outside printable ASCII, '"' and '\' are written
 * as \xHH so a peer cannot forge lines.
 */
#include "http/http_server_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static size_t
put_escaped(char *out, size_t room, struct sv s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t w = 0;

	for (size_t i = 0; i < s.n && i < max; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (w + 1 >= room)
				break;
			out[w++] = (char)c;
		} else {
			if (w + 4 >= room)
				break;
			out[w++] = '\\';
			out[w++] = 'x';
			out[w++] = hex[c >> 4];
			out[w++] = hex[c & 15];
		}
	}
	if (w == 0 && room > 1)
		out[w++] = '-';
	out[w] = '\0';
	return w;
}

void
access_log_write(const struct hconn *c, uint64_t micros)
{
	const struct http_header *ua = NULL;
	char line[2048], path[1024], method[32], agent[512];
	struct timeval tv;
	struct tm tm;
	int n;

	if (c->hc_rt->rt_access_fd < 0)
		return;
	if (c->hc_route_status == 0 && c->hc_path != NULL) {
		put_escaped(path, sizeof(path), c->hc_route.rt_path, 512);
		ua = http_req_header(&c->hc_req, "User-Agent");
	} else {
		snprintf(path, sizeof(path), "-");
	}
	put_escaped(method, sizeof(method), c->hc_path ?
	    c->hc_req.rq_method_str : (struct sv){ "-", 1 }, 16);
	if (ua != NULL)
		put_escaped(agent, sizeof(agent), ua->value, 256);
	else
		snprintf(agent, sizeof(agent), "-");
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s %s %s %d %llu %llu "
	    "\"%s\"\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000), c->hc_peer,
	    c->hc_tls ? "https" : "http",
	    c->hc_path ? vroot_name(c->hc_route.rt_vroot) : "-", method, path,
	    c->hc_resp.rs_status,
	    (unsigned long long)(c->hc_resp.rs_head_only ? 0 :
							   c->hc_resp.rs_body),
	    (unsigned long long)micros, agent);
	if (n > 0)
		(void)!write(c->hc_rt->rt_access_fd, line,
		    (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
