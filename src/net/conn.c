#include "net/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "common/wsd_limits.h"

static int
plain_handshake(struct conn_io *io)
{
	(void)io;
	return 1;
}

static ssize_t
errno_result(void)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return CONN_WANT_READ;
	return CONN_ERR;
}

static ssize_t
plain_read(struct conn_io *io, void *buf, size_t n)
{
	ssize_t r;

	do
		r = recv(io->io_fd, buf, n, 0);
	while (r < 0 && errno == EINTR);
	return r >= 0 ? r : errno_result();
}

static ssize_t
plain_write(struct conn_io *io, const void *buf, size_t n, bool more)
{
	ssize_t r;

	do
		r = send(io->io_fd, buf, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	return errno == EAGAIN ? CONN_WANT_WRITE : CONN_ERR;
}

static ssize_t
plain_sendfile(struct conn_io *io, int fd, off_t *off, size_t n)
{
	ssize_t r;

	/* Linux sendfile moves at most 0x7ffff000 bytes per call. */
	if (n > 0x7ffff000)
		n = 0x7ffff000;
	do
		r = sendfile(io->io_fd, fd, off, n);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		return r;
	if (r == 0)
		return CONN_ERR; /* file shrank under us */
	return errno == EAGAIN ? CONN_WANT_WRITE : CONN_ERR;
}

static void
plain_shutdown(struct conn_io *io)
{
	(void)shutdown(io->io_fd, SHUT_WR);
}

static void
plain_release(struct conn_io *io)
{
	(void)io;
}

const struct conn_io_ops conn_plain_ops = {
	.name = "http",
	.handshake = plain_handshake,
	.read = plain_read,
	.write = plain_write,
	.sendfile = plain_sendfile,
	.shutdown = plain_shutdown,
	.release = plain_release,
};

static ssize_t
tls_result(struct conn_io *io, int r)
{
	switch (SSL_get_error(io->io_ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return CONN_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return CONN_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		/* Peer errors are routine; keep the queue from growing. */
		ERR_clear_error();
		return CONN_ERR;
	}
}

static int
tls_handshake(struct conn_io *io)
{
	int r;

	ERR_clear_error();
	r = SSL_do_handshake(io->io_ssl);
	if (r == 1)
		return 1;
	r = (int)tls_result(io, r);
	return r == 0 ? CONN_ERR : r;
}

static ssize_t
tls_read(struct conn_io *io, void *buf, size_t n)
{
	size_t got = 0;
	int r;

	ERR_clear_error();
	r = SSL_read_ex(io->io_ssl, buf, n, &got);
	if (r == 1)
		return (ssize_t)got;
	return tls_result(io, r);
}

static ssize_t
tls_write(struct conn_io *io, const void *buf, size_t n, bool more)
{
	size_t done = 0;
	int r;

	ERR_clear_error();
	(void)more; /* each SSL_write is a record; nothing to coalesce */
	r = SSL_write_ex(io->io_ssl, buf, n, &done);
	if (r == 1)
		return (ssize_t)done;
	r = (int)tls_result(io, r);
	return r == 0 ? CONN_ERR : r;
}

/*
 * No kernel TLS here: read a chunk, encrypt, write. io_chunk holds file
 * bytes [*off - io_chunk_off, ...) that the caller has not yet been told
 * were sent, so a WANT_WRITE retry resends the same bytes as OpenSSL
 * requires.
 */
static ssize_t
tls_sendfile(struct conn_io *io, int fd, off_t *off, size_t n)
{
	ssize_t w;

	if (io->io_chunk == NULL &&
	    (io->io_chunk = malloc(WSD_FILE_CHUNK)) == NULL)
		return CONN_ERR;
	if (io->io_chunk_off == io->io_chunk_len) {
		size_t want = n < WSD_FILE_CHUNK ? n : WSD_FILE_CHUNK;
		ssize_t r;

		do
			r = pread(fd, io->io_chunk, want, *off);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return CONN_ERR;
		io->io_chunk_len = (size_t)r;
		io->io_chunk_off = 0;
	}
	w = tls_write(io, io->io_chunk + io->io_chunk_off,
	    io->io_chunk_len - io->io_chunk_off, false);
	if (w > 0) {
		io->io_chunk_off += (size_t)w;
		*off += w;
		if (io->io_chunk_off == io->io_chunk_len)
			io->io_chunk_off = io->io_chunk_len = 0;
	}
	return w;
}

static void
tls_shutdown(struct conn_io *io)
{
	ERR_clear_error();
	(void)SSL_shutdown(io->io_ssl);
	ERR_clear_error();
	(void)shutdown(io->io_fd, SHUT_WR);
}

static void
tls_release(struct conn_io *io)
{
	SSL_free(io->io_ssl);
	io->io_ssl = NULL;
	free(io->io_chunk);
	io->io_chunk = NULL;
}

const struct conn_io_ops conn_tls_ops = {
	.name = "https",
	.handshake = tls_handshake,
	.read = tls_read,
	.write = tls_write,
	.sendfile = tls_sendfile,
	.shutdown = tls_shutdown,
	.release = tls_release,
};

int
conn_io_init(struct conn_io *io, int fd, SSL_CTX *ctx)
{
	memset(io, 0, sizeof(*io));
	io->io_fd = fd;
	if (ctx == NULL) {
		io->io_ops = &conn_plain_ops;
		return 0;
	}
	if ((io->io_ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(io->io_ssl, fd) != 1) {
		SSL_free(io->io_ssl);
		io->io_ssl = NULL;
		ERR_clear_error();
		return -1;
	}
	SSL_set_accept_state(io->io_ssl);
	io->io_ops = &conn_tls_ops;
	return 0;
}
