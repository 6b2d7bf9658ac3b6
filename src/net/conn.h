/*
 * A connection's byte transport: plain TCP or TLS behind one table of
 * functions (redis ConnectionType), so HTTP code never asks "is this TLS?"
 * to move bytes. Returns: > 0 bytes moved; 0 orderly EOF (read only);
 * CONN_WANT_READ / CONN_WANT_WRITE to wait for readiness; CONN_ERR.
 */
#ifndef WSUSD_NET_CONN_H
#define WSUSD_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#define CONN_ERR (-1)
#define CONN_WANT_READ (-2)
#define CONN_WANT_WRITE (-3)

struct conn_io;

struct conn_io_ops {
	const char *name;
	/* 1 when ready for data, or CONN_WANT_* / CONN_ERR. */
	int (*handshake)(struct conn_io *);
	ssize_t (*read)(struct conn_io *, void *, size_t);
	/* MORE: further data follows at once (MSG_MORE on plain TCP). */
	ssize_t (*write)(struct conn_io *, const void *, size_t, bool more);
	/* Sends up to N bytes of FD from *OFF; plain TCP uses sendfile(2). */
	ssize_t (*sendfile)(struct conn_io *, int fd, off_t *off, size_t n);
	/* Best effort close_notify / FIN; never blocks. */
	void (*shutdown)(struct conn_io *);
	void (*release)(struct conn_io *);
};

struct conn_io {
	const struct conn_io_ops *io_ops;
	int io_fd;
	SSL *io_ssl;      /* TLS only; owns a reference to its SSL_CTX */
	char *io_chunk;   /* TLS sendfile bounce buffer, WSD_FILE_CHUNK */
	size_t io_chunk_len, io_chunk_off; /* pending bytes in io_chunk */
};

extern const struct conn_io_ops conn_plain_ops;
extern const struct conn_io_ops conn_tls_ops;

/* CTX NULL: plain. Returns -1 when the SSL object cannot be made. */
int conn_io_init(struct conn_io *io, int fd, SSL_CTX *ctx);

#endif
