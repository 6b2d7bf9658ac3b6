/*
 * wsusutil as a client of a running server's administration
 * (docs/ADMIN.md): the command is sent, the server checks who is asking
 * and runs it, its output and exit status come back. Locally through the
 * admin socket, remotely through ApiRemoting30 with a TLS client
 * certificate or a Kerberos ticket (Negotiate, with mutual
 * authentication).
 */
#ifndef WSUSD_WSUSUTIL_ADMIN_CLIENT_H
#define WSUSD_WSUSUTIL_ADMIN_CLIENT_H

#include <stdbool.h>

struct admin_remote {
	const char *url;  /* https://host:port */
	const char *cert; /* PEM client certificate (chain) */
	const char *key;  /* PEM key; NULL: in CERT */
	const char *ca;   /* PEM CAs to trust; NULL: the system store */
	/* Kerberos instead of CERT: a ticket for HTTP/host from the
	 * credentials cache (KRB5CCNAME, kinit), the server's reply
	 * verified (mutual authentication). */
	bool negotiate;
};

/* ARGV[0..ARGC) through the socket at PATH: the command's exit status,
 * or 1 with a message when the server cannot be reached. */
int admin_client_socket(const char *path, int argc, char **argv);
/* The same through ApiRemoting30. */
int admin_client_remote(const struct admin_remote *r, int argc, char **argv);

#endif
