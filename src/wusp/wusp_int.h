/* Private to src/wusp: the context every operation gets. */
#ifndef WSUSD_WUSP_WUSP_INT_H
#define WSUSD_WUSP_WUSP_INT_H

#include <time.h>

#include "cookie/cookie.h"
#include "soap/soap_emit.h"
#include "soap/soap_fault.h"
#include "soap/soap_parse.h"
#include "store/store.h"
#include "wusp/wusp.h"

/* Cookie lifetimes. The real server gave clients one hour (OBSERVED 12:
 * scan/000003): cookie_lifetime in wsusd.conf, that by default. An
 * authorization cookie only has to reach GetCookie. */
#define WUSP_AUTH_COOKIE_SECS 3600

struct wusp_ctx {
	const struct handler_ctx *wc_hx;
	const struct config *wc_cf;
	const struct cookie_keys *wc_keys;
	struct store *wc_store; /* this worker's connection */
	const struct soap_doc *wc_doc;
	struct soap_writer wc_w;
	time_t wc_now;
	uint64_t wc_instance; /* this database's identity, for cookies */
	const char *wc_message; /* fault Message, static text */
};

/* Each operation writes its response element through wc_w and returns
 * SOAP_ERRC_NONE, or the fault to answer (nothing written then). */
typedef enum soap_errc (*wusp_op_fn)(struct wusp_ctx *);

enum soap_errc wusp_get_config(struct wusp_ctx *c);
enum soap_errc wusp_get_auth_cookie(struct wusp_ctx *c);
enum soap_errc wusp_get_cookie(struct wusp_ctx *c);
enum soap_errc wusp_register_computer(struct wusp_ctx *c);
enum soap_errc wusp_start_category_scan(struct wusp_ctx *c);
enum soap_errc wusp_get_extended_update_info(struct wusp_ctx *c);
enum soap_errc wusp_get_file_locations(struct wusp_ctx *c);
enum soap_errc wusp_report_event_batch(struct wusp_ctx *c);
enum soap_errc wusp_sync_updates(struct wusp_ctx *c);

/* GetExtendedUpdateInfo and ...2 (wusp_extinfo.c): the revisions IDS
 * (at most WUSP_EXT_MAX_REVISIONS; reordered) answered after the cookie
 * was checked; V2 selects the ...2 element names (no OutOfScopeRevisionIDs
 * there). GetConfig's MaxExtendedUpdatesPerRequest. */
#define WUSP_EXT_MAX_REVISIONS 50
enum soap_errc wusp_ext_info_emit(struct wusp_ctx *c, int32_t *ids,
    size_t n_ids, bool v2);
enum soap_errc wusp_get_extended_update_info2(struct wusp_ctx *c);
enum soap_errc wusp_refresh_cache(struct wusp_ctx *c);
enum soap_errc wusp_sync_printer_catalog(struct wusp_ctx *c);
enum soap_errc wusp_report_event_batch2(struct wusp_ctx *c);
enum soap_errc wusp_get_required_inventory_type(struct wusp_ctx *c);
enum soap_errc wusp_report_inventory(struct wusp_ctx *c);

/* Reporting rollup, upstream side (wusp_rollup.c, WSUSSS.md 9). */
enum soap_errc wusp_get_rollup_configuration(struct wusp_ctx *c);
enum soap_errc wusp_rollup_downstream_servers(struct wusp_ctx *c);
enum soap_errc wusp_rollup_computers(struct wusp_ctx *c);
enum soap_errc wusp_get_out_of_sync_computers(struct wusp_ctx *c);
enum soap_errc wusp_rollup_computer_status(struct wusp_ctx *c);

/*
 * An UpdateIdentity of a request and the revision of this server it
 * names (wusp_refreshcache.c). wusp_identities_read takes the
 * UpdateIdentity items of ARR (absent: none; more than MAX:
 * InvalidParameters naming WHAT) into *OUT (free() it), sorted by
 * (UpdateID, RevisionNumber), duplicates dropped. wusp_identities_resolve
 * fills revision_id (0: not here, or the update is declined) and is_leaf
 * (false when some latest revision lists the UpdateID as a prerequisite;
 * only with WANT_LEAF, which walks every latest revision).
 */
struct wusp_identity {
	char update_id[37]; /* lower case */
	int32_t revision_number;
	int64_t revision_id;
	bool is_leaf;
};
enum soap_errc wusp_identities_read(struct wusp_ctx *c,
    const struct soap_elem *arr, size_t max, const char *what,
    struct wusp_identity **out, size_t *n);
int wusp_identities_resolve(struct wusp_ctx *c, struct wusp_identity *v,
    size_t n, bool want_leaf, struct wsd_err *err) WSD_MUST_CHECK;

/* GetConfig's LastChange (stable: the database's creation time). */
int wusp_last_change(struct wusp_ctx *c, struct soap_datetime *out);

/*
 * Opens the <cookie> element (Expiration, EncryptedData) of a request:
 * SOAP_ERRC_NONE with *OUT filled, or the fault a client acts on
 * (InvalidCookie, CookieExpired, ServerChanged).
 */
enum soap_errc wusp_open_client_cookie(struct wusp_ctx *c,
    const struct soap_elem *cookie, struct cookie *out);
/* The same without the revocation check (GetCookie's oldCookie). */
enum soap_errc wusp_open_client_cookie_any(struct wusp_ctx *c,
    const struct soap_elem *cookie, struct cookie *out);
/*
 * InvalidCookie when CK (authentic, of this database) was issued to a
 * computer since deleted (store_cookie_revoked), InternalServerError when
 * that cannot be read, else SOAP_ERRC_NONE. wusp_open_client_cookie
 * checks it; GetCookie asks it of the cookies it renews.
 */
enum soap_errc wusp_cookie_revoked(struct wusp_ctx *c,
    const struct cookie *ck);

/* "2.90" -> 0x0002005a; 0 when absent or malformed. */
uint32_t wusp_protocol(struct sv v);

#endif
