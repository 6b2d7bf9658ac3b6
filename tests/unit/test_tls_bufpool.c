/*
 * net/tls_bufpool: which allocations the pool serves, reuse, growth out
 * of a block, exhaustion, and a real TLS exchange through the server
 * context of net/tls.c (its record buffers must come from the pool and
 * go back to it between requests). The pool is installed in main, before
 * OpenSSL allocates anything, with POOL_BLOCKS blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/tls.h"
#include "net/tls_bufpool.h"
#include "net/tls_cert.h"

#define POOL_BLOCKS 8
#define RECORD_SIZE (17 * 1024) /* what OpenSSL asks for a record buffer */

static struct tls_bufpool_stats
stats(void)
{
	struct tls_bufpool_stats s;

	tls_bufpool_stats(&s);
	return s;
}

static void
test_installed(void **state)
{
	(void)state;
	assert_int_equal(stats().bs_reserved, POOL_BLOCKS);
	/* Only once: OpenSSL keeps the allocator it started with. */
	assert_int_equal(tls_bufpool_init(POOL_BLOCKS), -1);
}

static void
test_record_sizes_only(void **state)
{
	struct tls_bufpool_stats a, b;
	void *small, *big, *huge;

	(void)state;
	a = stats();
	small = OPENSSL_malloc(TLS_BUFPOOL_MIN - 1);
	huge = OPENSSL_malloc(TLS_BUFPOOL_BLOCK + 1);
	b = stats();
	assert_int_equal(b.bs_takes, a.bs_takes);
	big = OPENSSL_malloc(RECORD_SIZE);
	assert_non_null(big);
	b = stats();
	assert_int_equal(b.bs_takes, a.bs_takes + 1);
	assert_int_equal(b.bs_in_use, a.bs_in_use + 1);
	memset(big, 0xa5, TLS_BUFPOOL_BLOCK); /* the whole block is usable */
	OPENSSL_free(big);
	OPENSSL_free(small);
	OPENSSL_free(huge);
	assert_int_equal(stats().bs_in_use, a.bs_in_use);
}

static void
test_last_freed_first(void **state)
{
	void *p, *q, *r;

	(void)state;
	p = OPENSSL_malloc(RECORD_SIZE);
	q = OPENSSL_malloc(RECORD_SIZE);
	assert_non_null(p);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
	OPENSSL_free(q);
	r = OPENSSL_malloc(TLS_BUFPOOL_MIN);
	assert_ptr_equal(r, q);
	OPENSSL_free(r);
	OPENSSL_free(p);
}

static void
test_grow(void **state)
{
	struct tls_bufpool_stats a = stats();
	unsigned char *p, *q;

	(void)state;
	p = OPENSSL_realloc(NULL, RECORD_SIZE);
	assert_non_null(p);
	for (size_t i = 0; i < RECORD_SIZE; i++)
		p[i] = (unsigned char)i;
	/* Within the block: the same memory. */
	q = OPENSSL_realloc(p, TLS_BUFPOOL_BLOCK);
	assert_ptr_equal(q, p);
	/* Past it: moved to malloc, contents kept, block given back. */
	q = OPENSSL_realloc(p, 3 * TLS_BUFPOOL_BLOCK);
	assert_non_null(q);
	for (size_t i = 0; i < RECORD_SIZE; i++)
		assert_int_equal(q[i], (unsigned char)i);
	assert_int_equal(stats().bs_in_use, a.bs_in_use);
	memset(q, 0, 3 * TLS_BUFPOOL_BLOCK);
	OPENSSL_free(q);
}

static void
test_realloc_to_zero_frees(void **state)
{
	struct tls_bufpool_stats a = stats();
	void *p;

	(void)state;
	p = OPENSSL_malloc(RECORD_SIZE);
	assert_non_null(p);
	assert_int_equal(stats().bs_in_use, a.bs_in_use + 1);
	assert_null(OPENSSL_realloc(p, 0));
	assert_int_equal(stats().bs_in_use, a.bs_in_use);
}

/* A second free of a block, or a pointer into one, aborts (in a child
 * process) rather than putting a block on the free list twice. */
static void
expect_abort(int how)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		char *p = OPENSSL_malloc(RECORD_SIZE);

		if (how == 0) {
			OPENSSL_free(p);
			OPENSSL_free(p);
		} else {
			OPENSSL_free(p + 64);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void
test_invalid_free_aborts(void **state)
{
	(void)state;
	expect_abort(0);
	expect_abort(1);
}

static void
test_exhausted_falls_back(void **state)
{
	void *p[POOL_BLOCKS + 2];
	struct tls_bufpool_stats a = stats(), b;

	(void)state;
	for (size_t i = 0; i < POOL_BLOCKS + 2; i++) {
		p[i] = OPENSSL_malloc(RECORD_SIZE);
		assert_non_null(p[i]);
		memset(p[i], (int)i, RECORD_SIZE);
	}
	b = stats();
	assert_int_equal(b.bs_in_use, POOL_BLOCKS);
	assert_int_equal(b.bs_misses, a.bs_misses + 2 + a.bs_in_use);
	assert_int_equal(b.bs_touched, POOL_BLOCKS);
	for (size_t i = 0; i < POOL_BLOCKS + 2; i++) {
		assert_int_equal(((unsigned char *)p[i])[RECORD_SIZE - 1],
		    (unsigned char)i);
		OPENSSL_free(p[i]);
	}
	assert_int_equal(stats().bs_in_use, 0);
}

/* Steps both ends in turn until both have finished the handshake. */
static void
handshake(SSL *cli, SSL *srv)
{
	for (int i = 0; i < 100; i++) {
		int rc = SSL_do_handshake(cli);
		int rs = SSL_do_handshake(srv);

		if (rc == 1 && rs == 1)
			return;
	}
	fail_msg("handshake did not finish");
}

static void
test_server_buffers_released(void **state)
{
	char dir[] = "/tmp/wsusd-bufpool.XXXXXX";
	char ca[64], cakey[64], crt[64], key[64];
	static const char *const names[] = { "localhost" };
	struct wsd_err err = { 0 };
	struct tls_bufpool_stats a0, a, b;
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;
	BIO *cb, *sb;
	static unsigned char req[30 * 1024], got[sizeof(req)];
	size_t n, off;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cakey, sizeof(cakey), "%s/ca.key", dir);
	snprintf(crt, sizeof(crt), "%s/server.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	assert_int_equal(tls_testca_issue(ca, cakey, crt, key, names, 1, 30,
			     true, &err),
	    0);
	assert_int_equal(tls_server_ctx_new(crt, key, &sctx, &err), 0);
	cctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(cctx);
	srv = SSL_new(sctx);
	cli = SSL_new(cctx);
	assert_non_null(srv);
	assert_non_null(cli);
	/* Two memory BIOs joined: no socket needed. */
	assert_int_equal(BIO_new_bio_pair(&cb, 64 * 1024, &sb, 64 * 1024), 1);
	SSL_set_bio(cli, cb, cb);
	SSL_set_bio(srv, sb, sb);
	SSL_set_connect_state(cli);
	SSL_set_accept_state(srv);
	handshake(cli, srv);
	a0 = stats();

	for (int round = 0; round < 3; round++) {
		/* The client's request, then the server takes it whole. */
		for (size_t i = 0; i < sizeof(req); i++)
			req[i] = (unsigned char)(i * 7 + (size_t)round);
		assert_int_equal(SSL_write_ex(cli, req, sizeof(req), &n), 1);
		assert_int_equal(n, sizeof(req));
		a = stats();
		for (off = 0; off < sizeof(got); off += n)
			assert_int_equal(SSL_read_ex(srv, got + off,
					     sizeof(got) - off, &n),
			    1);
		assert_memory_equal(got, req, sizeof(req));
		assert_int_equal(SSL_write_ex(srv, "ok", 2, &n), 1);
		b = stats();
		/* Its read and write buffers came from the pool... */
		assert_true(b.bs_takes >= a.bs_takes + 2);
		/* ...and are back: the server holds none between requests. */
		assert_int_equal(b.bs_in_use, a.bs_in_use);
		assert_int_equal(SSL_read_ex(cli, got, sizeof(got), &n), 1);
		assert_int_equal(n, 2);
		assert_memory_equal(got, "ok", 2);
	}
	SSL_free(cli);
	SSL_free(srv);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	assert_int_equal(stats().bs_in_use, 0);
	assert_int_equal(stats().bs_misses, a0.bs_misses);
	unlink(ca);
	unlink(cakey);
	unlink(crt);
	unlink(key);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_installed),
		cmocka_unit_test(test_record_sizes_only),
		cmocka_unit_test(test_last_freed_first),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_realloc_to_zero_frees),
		cmocka_unit_test(test_invalid_free_aborts),
		cmocka_unit_test(test_exhausted_falls_back),
		cmocka_unit_test(test_server_buffers_released),
	};

	/* First, as in wsusd: before OpenSSL allocates anything. */
	if (tls_bufpool_init(POOL_BLOCKS) != 0) {
		fprintf(stderr, "tls_bufpool_init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
