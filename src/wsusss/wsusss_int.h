/* Private to src/wsusss: the context every operation gets. */
#ifndef WSUSD_WSUSSS_WSUSSS_INT_H
#define WSUSD_WSUSSS_WSUSSS_INT_H

#include <time.h>

#include "common/sbuf.h"
#include "cookie/cookie.h"
#include "soap/soap_emit.h"
#include "soap/soap_fault.h"
#include "soap/soap_parse.h"
#include "store/store.h"
#include "wsusss/sss_anchor.h"
#include "wsusss/wsusss.h"

/*
 * Lifetimes. The Cookie: 240 minutes, as Windows WSUS (<29>; OBSERVED
 * 58), and never past the authorization cookie it came from. The
 * authorization cookie: twice that, so a DSS can renew its Cookie once
 * (GetCookie with oldCookie) before it must authorize again; Windows'
 * value is not documented.
 */
#define WSUSSS_COOKIE_SECS      (240 * 60)
#define WSUSSS_AUTH_COOKIE_SECS (2 * WSUSSS_COOKIE_SECS)

/* The one authorization plug-in of server-server sync (WSUSSS.md 4). */
#define WSUSSS_PLUGIN "DssTargeting"
/* Relative to our root; the DSS prefixes its base URL (WSUSSS.md 5.1). */
#define WSUSSS_DSSAUTH_URL "DssAuthWebService/DssAuthWebService.asmx"

/* programKeys items GetAuthorizationCookie looks at (reserved, ignored;
 * Windows sends none). */
#define WSUSSS_MAX_PROGRAM_KEYS 64

struct sss_ctx {
	const struct handler_ctx *sc_hx;
	const struct cookie_keys *sc_keys;
	struct store *sc_store; /* this worker's connection */
	const struct soap_doc *sc_doc;
	struct soap_writer sc_w;
	time_t sc_now;
	uint64_t sc_instance;   /* this database's identity, for cookies */
	const char *sc_message; /* fault Message: static text, or sc_msg */
	struct sbuf sc_msg;     /* a Message built per request (released
				 * by the dispatcher) */
};

/* Each operation writes its response element through sc_w and returns
 * SOAP_ERRC_NONE, or the fault to answer (nothing written then). */
typedef enum soap_errc (*sss_op_fn)(struct sss_ctx *);

enum soap_errc sss_get_auth_config(struct sss_ctx *c);
enum soap_errc sss_get_authorization_cookie(struct sss_ctx *c);
enum soap_errc sss_get_cookie(struct sss_ctx *c);
enum soap_errc sss_get_config_data(struct sss_ctx *c);
enum soap_errc sss_ping(struct sss_ctx *c);
enum soap_errc sss_get_revision_id_list(struct sss_ctx *c);
enum soap_errc sss_get_update_data(struct sss_ctx *c);
enum soap_errc sss_get_update_decryption_data(struct sss_ctx *c);
enum soap_errc sss_get_related_revisions(struct sss_ctx *c);
enum soap_errc sss_download_files(struct sss_ctx *c);
enum soap_errc sss_get_driver_id_list(struct sss_ctx *c);
enum soap_errc sss_get_driver_set_data(struct sss_ctx *c);
enum soap_errc sss_get_deployments(struct sss_ctx *c);

/* The most ids of one GetUpdateData / GetUpdateDecryptionData /
 * DownloadFiles call, as GetConfigData announces them (WSUSSS.md 5.4;
 * 100 is Windows' MaxNumberOfUpdatesPerRequest, OBSERVED.md #59). */
#define SSS_MAX_PER_REQUEST 100

/* The cookie element of the operation, opened (sss_open_dss_cookie). */
enum soap_errc sss_check_cookie(struct sss_ctx *c);

/*
 * An optional anchor element E (sss_anchor.h): absent, nil or empty is
 * "none" (*PRESENT false); one that does not parse is InvalidParameters
 * with Message NAME.
 */
enum soap_errc sss_read_anchor(struct sss_ctx *c, const struct soap_elem *e,
    const char *name, struct sss_anchor *out, bool *present);
/* Writes <Anchor> for generation GEN and the time now. */
int sss_emit_anchor(struct sss_ctx *c, uint64_t gen) WSD_MUST_CHECK;

/*
 * UpdateIdentity items of ARR (1..SSS_MAX_PER_REQUEST of them, else
 * InvalidParameters naming NAME), read into IDS (room for
 * SSS_MAX_PER_REQUEST) and *N.
 */
struct sss_update_id {
	char id[37];
	int32_t revision;
};
enum soap_errc sss_read_update_ids(struct sss_ctx *c,
    const struct soap_elem *arr, const char *name, struct sss_update_id *ids,
    size_t *n);

/* Drops what was written after LEN (sc_w's buffer): the writer keeps no
 * state of its own, so a piece that does not fit can be taken back. */
void sss_truncate(struct sss_ctx *c, size_t len);

/*
 * The Cookie element COOKIE (may be NULL) of a ServerSync request,
 * opened into *OUT: a DSS cookie of this database, unexpired. Else
 * InvalidCookie (WSUSSS.md 3: unreadable or expired), or
 * InternalServerError when out of memory.
 */
enum soap_errc sss_open_dss_cookie(struct sss_ctx *c,
    const struct soap_elem *cookie, struct cookie *out);

/* ServerAuthConfig's LastChange: the database's creation time. */
int sss_last_change(struct sss_ctx *c,
    struct soap_datetime *out) WSD_MUST_CHECK;

#endif
