/*
 * OpenSSL's record buffers from a pool of fixed blocks (see the .c for
 * why). Installed once, before OpenSSL allocates anything, in a process
 * whose TLS connections release their buffers between requests
 * (SSL_MODE_RELEASE_BUFFERS, net/tls.c).
 */
#ifndef WSUSD_NET_TLS_BUFPOOL_H
#define WSUSD_NET_TLS_BUFPOOL_H

#include <stddef.h>

/* Block size: above OpenSSL 3.0's largest record buffer (a read buffer
 * with read-ahead, 16 KiB + 2 KiB overhead + alignment). */
#define TLS_BUFPOOL_BLOCK (20 * 1024)
/* Smaller allocations are not record buffers: malloc keeps them. */
#define TLS_BUFPOOL_MIN (16 * 1024)

/* Reserves BLOCKS blocks of address space and routes OpenSSL's
 * allocations through the pool. Fails when called twice, when OpenSSL
 * has already allocated memory, or when the mapping fails; OpenSSL then
 * uses what it used before. */
int tls_bufpool_init(size_t blocks);

/* What wsusd reserves: a read and a write buffer for each of the
 * default max_connections (4,096), 160 MiB of address space; memory only
 * for blocks ever used. Past it, buffers come from malloc. */
#define TLS_BUFPOOL_DEFAULT_BLOCKS 8192

struct tls_bufpool_stats {
	size_t bs_reserved; /* BLOCKS, 0 when not installed */
	size_t bs_touched;  /* blocks ever handed out */
	size_t bs_in_use;   /* handed out and not yet given back */
	size_t bs_takes;    /* allocations the pool served */
	size_t bs_misses;   /* record-sized ones it could not (all in use) */
};

void tls_bufpool_stats(struct tls_bufpool_stats *out);

#endif
