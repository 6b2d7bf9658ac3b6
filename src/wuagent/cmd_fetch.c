/*
 * wuagent fetch URL OUT --size N --sha1 DIGEST --sha256 DIGEST
 *                 [--max-rate BYTES] [--range-size BYTES]
 *
 * One content file as the agent downloads it (agent_download_to): into
 * OUT.part, resumed from what is there, checked against the size and
 * both digests, renamed to OUT. A diagnostic command: it shows what a
 * server's content and TLS look like to the agent. Digests are hex or
 * base64 (as the metadata writes them). Exit 0 verified, 1 failure
 * (a mismatch deletes OUT.part and names the digest; a TLS refusal
 * names its cause), 2 usage.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/encode.h"
#include "common/strparse.h"
#include "wuagent/agent_cmd.h"
#include "wuagent/agent_download.h"
#include "wuagent/agent_http.h"

static int
fetch_usage(void)
{
	fprintf(stderr,
	    "usage: wuagent fetch URL OUT --size N --sha1 DIGEST --sha256 "
	    "DIGEST\n                     [--max-rate BYTES] [--range-size "
	    "BYTES]\n");
	return 2;
}

/* N bytes from hex (2N digits) or padded base64. */
static int
parse_digest(const char *s, unsigned char *out, size_t n)
{
	size_t len = strlen(s);

	if (len == 2 * n)
		return hex_decode(s, len, out, n);
	return b64_decode_exact(s, len, out, n);
}

int
agent_cmd_fetch(struct agent_config *cf, int argc, char **argv)
{
	static struct agent_file f; /* large: not on the stack */
	const char *pos[2], *out = NULL;
	uint64_t max_rate = 0, range_size = 0;
	bool have_size = false, have_sha1 = false;
	struct agent_http *h = NULL;
	struct wsd_err e;
	char msg[1024];
	enum agent_dl_result res;
	int npos = 0;

	memset(&f, 0, sizeof(f));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-' || a[1] != '-') {
			if (npos == 2)
				return fetch_usage();
			pos[npos++] = a;
			continue;
		}
		if (v == NULL)
			return fetch_usage();
		i++;
		if (strcmp(a, "--size") == 0) {
			if (strparse_u64_all(v, 0, INT64_MAX, &f.size) < 0)
				return agent_fail("fetch",
				    "--size: not a number of bytes: %s", v);
			have_size = true;
		} else if (strcmp(a, "--sha1") == 0) {
			if (parse_digest(v, f.sha1, sizeof(f.sha1)) < 0)
				return agent_fail("fetch",
				    "--sha1: expected 40 hex digits or base64 "
				    "of 20 bytes");
			have_sha1 = true;
		} else if (strcmp(a, "--sha256") == 0) {
			if (parse_digest(v, f.sha256, sizeof(f.sha256)) < 0)
				return agent_fail("fetch",
				    "--sha256: expected 64 hex digits or "
				    "base64 of 32 bytes");
			f.has_sha256 = true;
		} else if (strcmp(a, "--max-rate") == 0) {
			if (strparse_u64_all(v, 1, INT64_MAX, &max_rate) < 0)
				return agent_fail("fetch",
				    "--max-rate: not a positive number of "
				    "bytes per second: %s",
				    v);
		} else if (strcmp(a, "--range-size") == 0) {
			if (strparse_u64_all(v, 1, INT64_MAX, &range_size) < 0)
				return agent_fail("fetch",
				    "--range-size: not a positive number of "
				    "bytes: %s",
				    v);
		} else
			return fetch_usage();
	}
	if (npos != 2 || !have_size || !have_sha1 || !f.has_sha256)
		return fetch_usage();
	out = pos[1];
	if (strlen(pos[0]) >= sizeof(f.url))
		return agent_fail("fetch", "URL too long");
	if (strlen(out) >= AGENT_PATH_MAX)
		return agent_fail("fetch", "OUT path too long");
	snprintf(f.url, sizeof(f.url), "%s", pos[0]);
	snprintf(f.name, sizeof(f.name), "%s", out);
	/* A peer closing a TLS connection must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (agent_http_open(cf, &h, &e) < 0)
		return agent_fail("fetch", "%s%s%s", e.what,
		    cf->ca_file[0] != '\0' ? ": " : "", cf->ca_file);
	if (max_rate > 0)
		agent_http_set_max_rate(h, max_rate);
	res = agent_download_to(h, &f, out, range_size, msg, sizeof(msg));
	agent_http_close(h);
	if (res != AGENT_DL_OK)
		return agent_fail("fetch", "%s", msg);
	printf("verified %s (%" PRIu64 " bytes)\n", out, f.size);
	return 0;
}
