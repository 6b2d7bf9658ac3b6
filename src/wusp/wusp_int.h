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
 * scan/000003); an authorization cookie only has to reach GetCookie. */
#define WUSP_COOKIE_SECS 3600
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

/* GetConfig's LastChange (stable: the database's creation time). */
int wusp_last_change(struct wusp_ctx *c, struct soap_datetime *out);

/*
 * Opens the <cookie> element (Expiration, EncryptedData) of a request:
 * SOAP_ERRC_NONE with *OUT filled, or the fault a client acts on
 * (InvalidCookie, CookieExpired, ServerChanged).
 */
enum soap_errc wusp_open_client_cookie(struct wusp_ctx *c,
    const struct soap_elem *cookie, struct cookie *out);

/* "2.90" -> 0x0002005a; 0 when absent or malformed. */
uint32_t wusp_protocol(struct sv v);

#endif
