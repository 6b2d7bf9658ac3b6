/*
 * Test-only driver for src/auth/negotiate.c, run by test_negotiate.py
 * against a private MIT KDC (krb5kdc.py). Kerberos settings come from the
 * environment the test passes (KRB5_CONFIG and friends); nothing here
 * reads /etc.
 *
 *   negotiate_probe server KEYTAB TOKEN [--name HOST] [--rcache NAME]
 *                          [--map TEXT]
 *       TOKEN "-" reads it from stdin. Prints "principal: P",
 *       "service: S", "mech: spnego|krb5", "mutual: yes|no",
 *       "reply: B64" and, with --map, "identity: DOMAIN\name" or
 *       "identity-refused: WHY". Exit 0 accepted, 2 refused
 *       ("refused: WHY"), 1 usage or setup error ("error: WHY").
 *   negotiate_probe client HOST CLIENT_KEYTAB [--principal P]
 *                          [--ccache NAME] [--verify]
 *       CLIENT_KEYTAB "-" uses the ccache only. Prints "token: B64";
 *       with --verify then reads the server's reply token from one stdin
 *       line and prints "mutual: ok" (exit 0) or "refused: WHY" (2).
 *   negotiate_probe map PRINCIPAL MAPTEXT
 *       Prints "identity: DOMAIN\name" (0) or "refused: WHY" (2);
 *       "error: WHY" (1) when MAPTEXT does not parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/negotiate.h"
#include "common/log.h"

/* More than NEGOTIATE_MAX_TOKEN_B64, so the oversize refusal is the
 * module's, not ours. */
#define PROBE_MAX_STDIN (1024 * 1024)

static int
usage(void)
{
	fprintf(stderr,
	    "usage: negotiate_probe server KEYTAB TOKEN [--name HOST] "
	    "[--rcache NAME] [--map TEXT]\n"
	    "       negotiate_probe client HOST KEYTAB [--principal P] "
	    "[--ccache NAME] [--verify]\n"
	    "       negotiate_probe map PRINCIPAL MAPTEXT\n");
	return 1;
}

/* One line from stdin without its newline, at most PROBE_MAX_STDIN
 * bytes; NULL on error. Caller frees. */
static char *
read_stdin_line(size_t *len)
{
	char *buf = malloc(PROBE_MAX_STDIN + 1);
	size_t n = 0;
	int c;

	if (buf == NULL)
		return NULL;
	while (n < PROBE_MAX_STDIN && (c = getchar()) != EOF && c != '\n')
		buf[n++] = (char)c;
	while (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
do_server(int argc, char **argv)
{
	struct negotiate_server_cfg cfg = { 0 };
	struct negotiate_server *srv = NULL;
	struct negotiate_realm_map map;
	struct negotiate_result res;
	struct wsd_err err = { 0 };
	const char *maptext = NULL;
	char *token, *owned = NULL;
	size_t len;
	int rc;

	if (argc < 4)
		return usage();
	cfg.nsc_keytab = argv[2];
	token = argv[3];
	for (int i = 4; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--name") == 0)
			cfg.nsc_server_name = argv[++i];
		else if (strcmp(argv[i], "--rcache") == 0)
			cfg.nsc_rcache = argv[++i];
		else if (strcmp(argv[i], "--map") == 0)
			maptext = argv[++i];
		else
			return usage();
	}
	if (maptext != NULL &&
	    negotiate_realm_map_parse(maptext, &map, &err) < 0) {
		printf("error: %s\n", err.what);
		return 1;
	}
	if (strcmp(token, "-") == 0) {
		owned = read_stdin_line(&len);
		if (owned == NULL) {
			printf("error: out of memory\n");
			return 1;
		}
		token = owned;
	} else
		len = strlen(token);
	if (negotiate_server_new(&cfg, &srv, &err) < 0) {
		printf("error: %s\n", err.what);
		free(owned);
		return 1;
	}
	rc = negotiate_accept(srv, token, len, &res, &err);
	free(owned);
	if (rc < 0) {
		printf("refused: %s\n", err.what);
		negotiate_server_free(srv);
		return 2;
	}
	printf("principal: %s\nservice: %s\nmech: %s\nmutual: %s\n"
	       "reply: %s\n",
	    res.nr_principal, res.nr_service, res.nr_spnego ? "spnego" : "krb5",
	    res.nr_mutual ? "yes" : "no", res.nr_reply);
	if (maptext != NULL) {
		char id[NEGOTIATE_MAX_IDENTITY];

		if (negotiate_map_principal(res.nr_principal, &map, id, &err) <
		    0)
			printf("identity-refused: %s\n", err.what);
		else
			printf("identity: %s\n", id);
	}
	negotiate_server_free(srv);
	return 0;
}

static int
do_client(int argc, char **argv)
{
	struct negotiate_client_cfg cfg = { 0 };
	struct negotiate_client *nc = NULL;
	struct wsd_err err = { 0 };
	const char *token;
	int verify = 0, rc = 0;

	if (argc < 4)
		return usage();
	if (strcmp(argv[3], "-") != 0)
		cfg.ncc_client_keytab = argv[3];
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--verify") == 0)
			verify = 1;
		else if (i + 1 >= argc)
			return usage();
		else if (strcmp(argv[i], "--principal") == 0)
			cfg.ncc_principal = argv[++i];
		else if (strcmp(argv[i], "--ccache") == 0)
			cfg.ncc_ccache = argv[++i];
		else
			return usage();
	}
	if (negotiate_client_token(argv[2], &cfg, &nc, &token, &err) < 0) {
		printf("refused: %s\n", err.what);
		return 2;
	}
	printf("token: %s\n", token);
	fflush(stdout);
	if (verify) {
		size_t len;
		char *reply = read_stdin_line(&len);

		if (reply == NULL) {
			printf("error: out of memory\n");
			rc = 1;
		} else if (negotiate_client_verify(nc, reply, len, &err) < 0) {
			printf("refused: %s\n", err.what);
			rc = 2;
		} else
			printf("mutual: ok\n");
		free(reply);
	}
	negotiate_client_free(nc);
	return rc;
}

static int
do_map(int argc, char **argv)
{
	struct negotiate_realm_map map;
	struct wsd_err err = { 0 };
	char id[NEGOTIATE_MAX_IDENTITY];

	if (argc != 4)
		return usage();
	if (negotiate_realm_map_parse(argv[3], &map, &err) < 0) {
		printf("error: %s\n", err.what);
		return 1;
	}
	if (negotiate_map_principal(argv[2], &map, id, &err) < 0) {
		printf("refused: %s\n", err.what);
		return 2;
	}
	printf("identity: %s\n", id);
	return 0;
}

int
main(int argc, char **argv)
{
	log_set_prefix("negotiate_probe");
	log_set_level(LOG_LVL_DEBUG);
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "server") == 0)
		return do_server(argc, argv);
	if (strcmp(argv[1], "client") == 0)
		return do_client(argc, argv);
	if (strcmp(argv[1], "map") == 0)
		return do_map(argc, argv);
	return usage();
}
