/*
 * HTTP Negotiate (RFC 4559) with Kerberos through MIT krb5 GSSAPI, for
 * chained servers (issue #7, WSUSSS.md 7.3). This module owns every GSSAPI
 * object; no gssapi.h type appears here, so the HTTP layer sees strings
 * only: the token68 after "Negotiate " in, a principal and a reply token
 * out.
 *
 * Server (upstream): negotiate_server_new loads the acceptor credential
 * from a keytab (DIR/tls/http.keytab) with gss_acquire_cred_from, so no
 * process-wide KRB5_KTNAME is needed; negotiate_accept takes one
 * Authorization token, SPNEGO (what Windows sends) or a raw Kerberos
 * AP-REQ, and either completes in that one leg or refuses: Kerberos needs
 * one leg, and anything that would continue (SPNEGO asking for another
 * mechanism, NTLM) is refused, so no per-connection state exists here.
 * SPNEGO may negotiate Kerberos only (gss_set_neg_mechs): NTLM is never
 * offered nor accepted, even when gss-ntlmssp is installed.
 *
 * Replay cache: MIT krb5 1.18+ keeps one ("dfl:", the file2 type) in
 * $KRB5RCACHEDIR or /var/tmp as krb5_EUID.rcache2, written on every
 * accepted AP-REQ, so the directory must be writable by the process that
 * accepts. negotiate_server_cfg.nsc_rcache names it explicitly
 * (gss_acquire_cred_from's "rcache" key: "file2:/path/http.rcache2"),
 * which keeps it out of /var/tmp and needs no environment variable. The
 * "none" type is never used: without a replay cache an AP-REQ seen on the
 * wire (the HTTP port, a log) could be replayed within the clock skew.
 *
 * Client (downstream): negotiate_client_token builds the first token for
 * HTTP@host with SPNEGO and GSS_C_MUTUAL_FLAG from a client keytab
 * (gss_acquire_cred_from "client_keytab", tickets kept in a ccache the
 * caller names or a process-private MEMORY ccache) or from an existing
 * ccache; negotiate_client_verify checks the server's mutual-auth reply.
 *
 * What callers may rely on:
 * - Every function fails with a static text in ERR and logs the GSS major
 *   and minor messages (log_warnx/log_info); tokens are never logged.
 * - A negotiate_server is read-only after negotiate_server_new:
 *   negotiate_accept may run on any number of threads at once (MIT 1.20
 *   holds the credential's mutex for each accept, so they run one at a
 *   time; the replay cache file is opened per store and locked with OFD
 *   locks, so threads and processes exclude each other). A keytab replaced on
 * disk is read again on the next accept (MIT opens FILE keytabs per lookup).
 * - Every input is bounded before it reaches GSSAPI: the base64 token by
 *   NEGOTIATE_MAX_TOKEN_B64, names by the sizes below.
 * - Not supported: NTLM (SECURITY.md S5), multi-leg exchanges, channel
 *   bindings (Extended Protection; off by default in WSUS), credential
 *   delegation (never accepted), PAC group resolution (roles).
 */
#ifndef WSUSD_AUTH_NEGOTIATE_H
#define WSUSD_AUTH_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wsd_err.h"

/*
 * Limits (candidates for common/wsd_limits.h). An Active Directory token
 * is at most MaxTokenSize bytes, 48,000 by default since Windows Server
 * 2012, whose base64 is 64,000 characters: 64 KiB of base64 admits it.
 * (The request head limit, 16 KiB, is the tighter bound in practice.)
 * The reply (an AP-REP in a SPNEGO NegTokenResp) is about 200 bytes.
 * Principal names: 512 bytes covers any realistic service or machine
 * principal; identities are DOMAIN (at most 15) '\' name (at most 64),
 * authz.h's limits.
 */
#define NEGOTIATE_MAX_TOKEN_B64 65536
#define NEGOTIATE_MAX_REPLY_B64 2048
#define NEGOTIATE_MAX_PRINCIPAL 512
#define NEGOTIATE_MAX_IDENTITY  96
#define NEGOTIATE_MAX_REALMS    32
#define NEGOTIATE_MAX_REALM     253 /* a DNS name's length */
#define NEGOTIATE_MAX_DOMAIN    15  /* a NetBIOS domain name */
#define NEGOTIATE_MAX_NAME      64  /* the name part of an identity */

/* ------------------------------------------------------------ server */

struct negotiate_server_cfg {
	/* Keytab with the HTTP/<name> keys (DIR/tls/http.keytab). Required. */
	const char *nsc_keytab;
	/*
	 * NULL: a ticket for any HTTP/<host> principal whose key is in the
	 * keytab is accepted (any realm in it). Otherwise only
	 * HTTP/<nsc_server_name> (host compared case-insensitively).
	 * Tickets for other services (host/, cifs/ ...) are always refused.
	 */
	const char *nsc_server_name;
	/*
	 * Replay cache, a krb5 rcache name: "file2:/path/file" (must be in a
	 * directory the accepting process can write), or NULL for MIT's
	 * default (dfl: in $KRB5RCACHEDIR, else /var/tmp).
	 */
	const char *nsc_rcache;
};

struct negotiate_server; /* opaque; owned by its creator */

/*
 * Acquires the acceptor credential. Refuses a keytab that is missing,
 * unreadable, readable by group or others (like the TLS key) or holds no
 * HTTP/ key (the server name's, when one is configured; checked with
 * libkrb5, so the refusal names what is missing). The credential itself
 * is unnamed (any key in the keytab decrypts); negotiate_accept admits
 * only tickets for HTTP/<server name> (or any HTTP/ host without one).
 * Logs one line saying what it accepts. MIT reads the keytab again on
 * every accept, so the process calling negotiate_accept must be able to
 * read it (owned by the service user, mode 0600), also after dropping
 * privileges.
 */
int negotiate_server_new(const struct negotiate_server_cfg *cfg,
    struct negotiate_server **out, struct wsd_err *err) WSD_MUST_CHECK;
void negotiate_server_free(struct negotiate_server *srv); /* NULL-safe */

struct negotiate_result {
	/* The client principal as GSSAPI displays it: "DS1$@CORP.EXAMPLE". */
	char nr_principal[NEGOTIATE_MAX_PRINCIPAL];
	/* The ticket's service: "HTTP/uss.corp.example@CORP.EXAMPLE". */
	char nr_service[NEGOTIATE_MAX_PRINCIPAL];
	/*
	 * Base64 for "WWW-Authenticate: Negotiate <nr_reply>" on the
	 * successful response (mutual authentication); "" when the
	 * mechanism produced none (a raw Kerberos client that did not ask for
	 * mutual authentication): then send no token.
	 */
	char nr_reply[NEGOTIATE_MAX_REPLY_B64 + 1];
	bool nr_mutual; /* the client asked for mutual authentication */
	bool nr_spnego; /* the token was SPNEGO (else raw Kerberos) */
};

/*
 * One Authorization token: TOKEN (LEN bytes, not NUL-terminated, the
 * token68 after "Negotiate " with surrounding whitespace removed).
 * Success (0) fills RES. Refusals: WSD_ETOOBIG (over
 * NEGOTIATE_MAX_TOKEN_B64), WSD_EINVAL (not strict padded base64, empty,
 * an NTLM token), WSD_EPERM (GSSAPI refused: bad or expired ticket, wrong
 * service, replay, clock skew, a leg that would need another round trip,
 * anonymous); each is logged with its GSS messages. The caller answers
 * 401 with a fresh "WWW-Authenticate: Negotiate" on any of them.
 */
int negotiate_accept(struct negotiate_server *srv, const char *token,
    size_t len, struct negotiate_result *res,
    struct wsd_err *err) WSD_MUST_CHECK;

/* ------------------------------------------------- principal mapping */

/* Kerberos realm -> NetBIOS domain (wsusd.conf). Immutable once parsed. */
struct negotiate_realm_map {
	size_t rm_n;
	struct {
		char realm[NEGOTIATE_MAX_REALM + 1];
		char domain[NEGOTIATE_MAX_DOMAIN + 1];
	} rm_ent[NEGOTIATE_MAX_REALMS];
};

/*
 * Parses "CORP.EXAMPLE = CORP, EAST.CORP.EXAMPLE = EAST": comma-separated
 * REALM = DOMAIN pairs, whitespace around each part ignored, empty text
 * = empty map (nobody maps). REALM: 1-253 of [A-Za-z0-9.-], compared
 * exactly (Kerberos realms are case-sensitive; AD realms are upper
 * case). DOMAIN: 1-15 of [A-Za-z0-9._-]. A realm listed twice, more than
 * NEGOTIATE_MAX_REALMS pairs or anything else is refused (EINVAL with a
 * static text; OUT is then empty).
 */
int negotiate_realm_map_parse(const char *text, struct negotiate_realm_map *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/*
 * The Windows identity for a client principal, into OUT
 * (NEGOTIATE_MAX_IDENTITY bytes):
 *   name@REALM       -> DOMAIN\name   "DS1$@CORP.EXAMPLE" -> "CORP\DS1$"
 *   host/fqdn@REALM  -> DOMAIN\LABEL$ "host/ds1.corp.example@CORP.EXAMPLE"
 *                                      -> "CORP\DS1$"
 * The name keeps the case it has in the principal (ASP.NET compares
 * identities case-insensitively; MIT principals are case-sensitive, so
 * the principal's case is the account's own). The host form (a Linux
 * downstream using its host keytab) takes the first DNS label, upper
 * case as a sAMAccountName, plus '$', and is accepted for the "host"
 * service only (case-insensitive); other two-part principals are not
 * machine accounts and are refused. Refused (WSD_EPERM, no identity): a
 * realm not in MAP, more than two components, escaped characters
 * ('\' in the display form), a name over NEGOTIATE_MAX_NAME or with a
 * byte outside printable ASCII or one of  , " < > & / @ and space, a
 * host label not of [A-Za-z0-9-].
 */
int negotiate_map_principal(const char *principal,
    const struct negotiate_realm_map *map, char *out,
    struct wsd_err *err) WSD_MUST_CHECK;

/* ------------------------------------------------------------ client */

struct negotiate_client_cfg {
	/*
	 * Keytab with the downstream's own key (e.g. DIR/tls/client.keytab,
	 * DS1$@REALM or host/fqdn@REALM), or NULL to use tickets already in
	 * ncc_ccache (kinit'd by the administrator).
	 */
	const char *ncc_client_keytab;
	/*
	 * Where tickets are kept: a krb5 ccache name ("FILE:/path",
	 * "MEMORY:name"). NULL with a keytab: "MEMORY:wsusd-negotiate", one
	 * per process, refreshed from the keytab when it expires. NULL
	 * without a keytab: the default ccache (KRB5CCNAME, krb5.conf).
	 */
	const char *ncc_ccache;
	/* Initiator principal; NULL: the ccache's, else the keytab's first. */
	const char *ncc_principal;
};

struct negotiate_client; /* one exchange (one connection); opaque */

/*
 * Starts an exchange with the service HTTP@SERVICE_HOST (the host as in
 * the upstream URL, "uss.corp.example"; SPN HTTP/uss.corp.example, the
 * realm from krb5.conf's domain_realm or the KDC's referral) and puts in
 * *TOKEN the base64 for "Authorization: Negotiate <token>", owned by
 * *OUT and valid until negotiate_client_free. Asks for mutual
 * authentication; never for delegation.
 */
int negotiate_client_token(const char *service_host,
    const struct negotiate_client_cfg *cfg, struct negotiate_client **out,
    const char **token, struct wsd_err *err) WSD_MUST_CHECK;

/*
 * Verifies the server's "WWW-Authenticate: Negotiate <REPLY>" (LEN bytes)
 * on the answer: the AP-REP proving the server holds the service key.
 * 0 only when the exchange is complete and mutual; a missing reply
 * (LEN 0) is refused, as is one that asks for another leg.
 */
int negotiate_client_verify(struct negotiate_client *nc, const char *reply,
    size_t len, struct wsd_err *err) WSD_MUST_CHECK;

void negotiate_client_free(struct negotiate_client *nc); /* NULL-safe */

#endif
