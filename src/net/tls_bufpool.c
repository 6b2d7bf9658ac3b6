#include "net/tls_bufpool.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <pthread.h>

#include <openssl/crypto.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/*
 * Why: a kept-alive TLS connection holds a read and a write buffer of
 * ~17 KiB each. Kept per connection, 1,000 idle clients pin 35 MiB that
 * every request walks cold; released to malloc after each request
 * (SSL_MODE_RELEASE_BUFFERS), every 17 KiB allocation makes glibc
 * consolidate its fast bins. So record buffers come from here instead:
 * fixed blocks in one reserved mapping, reused last-freed-first, so
 * the next request's buffer is one still in cache.
 * Everything else OpenSSL allocates goes to malloc as before.
 */

struct block {
	struct block *next;
};

static unsigned char *pool_base;
static size_t pool_blocks;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t pool_used; /* blocks ever handed out (bump pointer) */
static size_t pool_in_use, pool_takes, pool_misses;
static struct block *pool_free_list;
/* One bit a block, set while it is handed out: a second free, or a
 * pointer into a block's middle, aborts as glibc's free would, instead
 * of giving two connections one buffer. */
static unsigned char *pool_busy;

static bool
pool_owns(const void *p)
{
	const unsigned char *c = p;

	return pool_base != NULL && c >= pool_base &&
	    c < pool_base + pool_blocks * TLS_BUFPOOL_BLOCK;
}

static bool
pool_size(size_t n)
{
	return n >= TLS_BUFPOOL_MIN && n <= TLS_BUFPOOL_BLOCK;
}

static void *
pool_take(void)
{
	struct block *b = NULL;

	pthread_mutex_lock(&pool_lock);
	if (pool_free_list != NULL) {
		b = pool_free_list;
		POOL_UNPOISON(b, sizeof(*b));
		pool_free_list = b->next;
	} else if (pool_used < pool_blocks) {
		b = (struct block *)(pool_base + pool_used * TLS_BUFPOOL_BLOCK);
		pool_used++;
	}
	if (b != NULL) {
		size_t i = (size_t)((unsigned char *)b - pool_base) /
		    TLS_BUFPOOL_BLOCK;

		pool_busy[i / 8] |= (unsigned char)(1u << (i % 8));
		pool_in_use++;
		pool_takes++;
	} else {
		pool_misses++;
	}
	pthread_mutex_unlock(&pool_lock);
	/* NULL: every block is in use; the caller falls back to malloc. */
	if (b != NULL)
		POOL_UNPOISON(b, TLS_BUFPOOL_BLOCK);
	return b;
}

static void
pool_give(void *p)
{
	struct block *b = p;
	size_t off = (size_t)((unsigned char *)p - pool_base);
	size_t i = off / TLS_BUFPOOL_BLOCK;

	pthread_mutex_lock(&pool_lock);
	if (off % TLS_BUFPOOL_BLOCK != 0 ||
	    !(pool_busy[i / 8] & (1u << (i % 8)))) {
		fprintf(stderr, "wsusd: TLS buffer pool: invalid free of %p\n",
		    p);
		abort();
	}
	pool_busy[i / 8] &= (unsigned char)~(1u << (i % 8));
	POOL_POISON(b, TLS_BUFPOOL_BLOCK);
	POOL_UNPOISON(b, sizeof(*b));
	b->next = pool_free_list;
	pool_free_list = b;
	pool_in_use--;
	POOL_POISON(b, sizeof(*b));
	pthread_mutex_unlock(&pool_lock);
}

static void *
pool_malloc(size_t n, const char *file, int line)
{
	void *p;

	(void)file;
	(void)line;
	if (pool_size(n) && (p = pool_take()) != NULL)
		return p;
	return malloc(n);
}

static void
pool_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	if (pool_owns(p))
		pool_give(p);
	else
		free(p);
}

static void *
pool_realloc(void *p, size_t n, const char *file, int line)
{
	void *q;

	if (p == NULL)
		return pool_malloc(n, file, line);
	if (!pool_owns(p))
		return realloc(p, n);
	if (n == 0) {
		/* As OpenSSL's own allocator: a free. */
		pool_give(p);
		return NULL;
	}
	if (n <= TLS_BUFPOOL_BLOCK)
		return p;
	if ((q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, TLS_BUFPOOL_BLOCK);
	pool_give(p);
	return q;
}

int
tls_bufpool_init(size_t blocks)
{
	void *base;

	if (pool_base != NULL || blocks == 0 ||
	    blocks > SIZE_MAX / TLS_BUFPOOL_BLOCK)
		return -1;
	/* Reserved, not committed: a block costs memory once it is used. */
	if ((pool_busy = calloc(blocks / 8 + 1, 1)) == NULL)
		return -1;
	base = mmap(NULL, blocks * TLS_BUFPOOL_BLOCK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		free(pool_busy);
		pool_busy = NULL;
		return -1;
	}
	pool_base = base;
	pool_blocks = blocks;
	POOL_POISON(pool_base, blocks * TLS_BUFPOOL_BLOCK);
	/* Refused once OpenSSL has allocated anything: then it must keep
	 * the allocator it started with. */
	if (CRYPTO_set_mem_functions(pool_malloc, pool_realloc,
		pool_free) != 1) {
		POOL_UNPOISON(pool_base, blocks * TLS_BUFPOOL_BLOCK);
		munmap(base, blocks * TLS_BUFPOOL_BLOCK);
		free(pool_busy);
		pool_busy = NULL;
		pool_base = NULL;
		pool_blocks = 0;
		return -1;
	}
	return 0;
}

void
tls_bufpool_stats(struct tls_bufpool_stats *out)
{
	pthread_mutex_lock(&pool_lock);
	out->bs_reserved = pool_blocks;
	out->bs_touched = pool_used;
	out->bs_in_use = pool_in_use;
	out->bs_takes = pool_takes;
	out->bs_misses = pool_misses;
	pthread_mutex_unlock(&pool_lock);
}
