/*
 * Request head parser, router and chunked decoder on arbitrary bytes.
 * Traps on any broken invariant; ASan/UBSan catch the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_req.h"
#include "http/router.h"
#include "http/static_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_req rq;
	const char *p = (const char *)data;
	int status = 0, r;

	r = http_req_parse(p, size, &rq, &status);
	if (r == 1) {
		char *buf = malloc(rq.rq_target.n + 1);
		struct route rt;

		if (rq.rq_head_len > size || rq.rq_nheaders > WSD_MAX_HEADERS ||
		    (rq.rq_chunked && rq.rq_has_length))
			__builtin_trap();
		if (buf != NULL &&
		    router_match(rq.rq_target, buf, rq.rq_target.n + 1, &rt) ==
			0) {
			char canon[80];

			/* The decoded path never holds a dot segment or '\'. */
			if (memchr(rt.rt_path.p, '\\', rt.rt_path.n) != NULL ||
			    memmem(rt.rt_path.p, rt.rt_path.n, "/../", 4) != NULL)
				__builtin_trap();
			if (rt.rt_vroot == VROOT_CONTENT &&
			    static_file_canon(rt.rt_rest, canon, sizeof(canon)) ==
				0 &&
			    strstr(canon, "..") != NULL)
				__builtin_trap();
		}
		free(buf);
	} else if (r == -1) {
		if (status < 400 || status > 505)
			__builtin_trap();
	} else if (r != 0) {
		__builtin_trap();
	}

	/* The same bytes as a chunked body, fed in two pieces. */
	{
		struct http_chunked ck;
		char out[512];
		size_t half = size / 2, outn = sizeof(out);
		bool done;
		long n;

		http_chunked_init(&ck);
		n = http_chunked_decode(&ck, p, half, out, &outn, &done);
		if (n > (long)half || outn > sizeof(out))
			__builtin_trap();
		if (n >= 0 && !done) {
			outn = sizeof(out);
			n = http_chunked_decode(&ck, p + n, size - (size_t)n,
			    out, &outn, &done);
			if (outn > sizeof(out))
				__builtin_trap();
		}
	}
	return 0;
}
