/*
 * Every hard limit in wsusd, with what it bounds and why that value.
 * Configurable limits have their default here and their ceiling next to it;
 * config_parse refuses values above the ceiling.
 */
#ifndef WSUSD_COMMON_WSD_LIMITS_H
#define WSUSD_COMMON_WSD_LIMITS_H

/* Request line (method, target, version). IIS's default maxUrl is 4 KiB
 * and the longest Windows Update path is under 200 bytes. */
#define WSD_MAX_REQUEST_LINE 8192

/* Whole request head, request line included (SECURITY.md S11: 16 KiB).
 * Also the size of each connection's read buffer. */
#define WSD_MAX_HEADER_BYTES 16384

/* Header fields per request (S11: 100). Native clients send about 10. */
#define WSD_MAX_HEADERS 100

/* Ranges in one Range header (S13: 16). Delivery Optimization sends one. */
#define WSD_MAX_RANGES 16

/* Request bodies per virtual root, defaults (S10). GetConfig and friends
 * are under 64 KiB; SyncUpdates with thousands of installed IDs stays well
 * under 1 MiB; ReportEventBatch carries up to a few hundred events. */
#define WSD_DEFAULT_MAX_BODY (1024UL * 1024)
#define WSD_DEFAULT_MAX_BODY_REPORTING (16UL * 1024 * 1024)
#define WSD_DEFAULT_MAX_BODY_SERVERSYNC (4UL * 1024 * 1024)
/* Ceiling for any configured body limit: bodies are held in memory. */
#define WSD_MAX_BODY_CEILING (256UL * 1024 * 1024)

/* Timeouts in seconds (S11). */
#define WSD_DEFAULT_HEADER_TIMEOUT 10   /* whole request head */
#define WSD_DEFAULT_BODY_TIMEOUT 30     /* whole request body */
#define WSD_DEFAULT_IDLE_TIMEOUT 30     /* keep-alive between requests */
#define WSD_DEFAULT_HANDSHAKE_TIMEOUT 10 /* TLS handshake */
#define WSD_DEFAULT_SEND_TIMEOUT 60     /* no progress writing a response */
#define WSD_DEFAULT_SHUTDOWN_TIMEOUT 10 /* SIGTERM: in-flight grace */
#define WSD_MAX_TIMEOUT 3600

/* Connections. Each costs a 16 KiB read buffer plus TLS state (~40 KiB),
 * so 4096 is ~250 MiB at worst; per-IP keeps one host from taking all. */
#define WSD_DEFAULT_MAX_CONNECTIONS 4096
#define WSD_DEFAULT_MAX_CONNECTIONS_PER_IP 512
#define WSD_MAX_CONNECTIONS_CEILING 1000000

/* Listen addresses (--listen / listen =). */
#define WSD_MAX_LISTEN 16
/* cookie_lifetime: an hour as WSUS gives, at most a week. */
#define WSD_DEFAULT_COOKIE_LIFETIME 3600
#define WSD_MAX_COOKIE_LIFETIME (7 * 86400)
/* New computers per address (wusp/reg_limit.h): generous, since a
 * branch office behind NAT is one address to us. */
#define WSD_DEFAULT_REGISTRATIONS_PER_MINUTE 60
#define WSD_DEFAULT_REGISTRATION_BURST 600
#define WSD_MAX_REGISTRATION_RATE 1000000
/* sun_path of struct sockaddr_un, NUL included. */
#define WSD_MAX_UNIX_PATH 108

/* Worker threads; 0 in the config means one per CPU. */
#define WSD_MAX_WORKERS 256

/* wsusd.conf: the file and one line. */
#define WSD_MAX_CONF_BYTES (256 * 1024)
#define WSD_MAX_CONF_LINE 4096

/* server_name: a DNS name (RFC 1035: 253 characters). */
#define WSD_MAX_SERVER_NAME 253

/* Response head we build (status line and headers). */
#define WSD_MAX_RESPONSE_HEAD 4096

/*
 * A response built in memory (a SOAP answer; files are sent from their
 * descriptor): the largest is MS-WSUSSS GetRevisionIdList, which is not
 * paged (WSUSSS.md 5.5; ~120 bytes a revision, 12 MiB for 100,000):
 * wsusss.c's 64 MiB list cap with its head. The buffer grows with what
 * is written, so a SyncUpdates answer (wusp.c's 8 MiB cap) costs no more
 * than before; only authenticated downstream servers reach the lists.
 */
#define WSD_MAX_RESPONSE_MEM (WSD_MAX_RESPONSE_HEAD + 64 * 1024 * 1024)

/* Bytes read from a file per SSL_write on the TLS port; 16 KiB is one
 * TLS record, four of them amortise the syscall. */
#define WSD_FILE_CHUNK (64 * 1024)

/* Content bodies up to this size are copied behind the response head and
 * leave in one write (one TLS record): cheaper than head + sendfile for
 * small files, and no second segment for the peer to wait on. */
#define WSD_INLINE_FILE (16 * 1024)

/* A PEM certificate, chain or key file. A leaf, a few intermediates and a
 * root are under 16 KiB; 1 MiB leaves room for long bundles and still
 * bounds what we read into memory. */
#define WSD_MAX_PEM_FILE (1024 * 1024)

/* Certificates in one certificate or chain file, leaf included. Real
 * chains have two to four. */
#define WSD_MAX_CHAIN_CERTS 16

/* Names in one test-CA server certificate, and its longest validity. */
#define WSD_MAX_TESTCA_NAMES 64
#define WSD_MAX_TESTCA_DAYS 3650

/* One content file (content_store). The largest Windows payloads (feature
 * update ESDs) are under 8 GiB; 64 GiB only bounds what a hostile
 * upstream, a wrong metadata size or a wrong path can make us write. */
#define WSD_MAX_CONTENT_FILE (64ULL * 1024 * 1024 * 1024)

#endif
