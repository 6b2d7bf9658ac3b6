/*
 * MS-WUSP messages as the Windows Update Agent writes and reads them,
 * without I/O or state: what `wuagent scan` (agent_proto.c) and
 * `wuagent simulate` (agent_simulate.c) share. Requests follow the
 * captures (scan/000001-6, flow/000001; element order of
 * schema/ORDER.md, the Windows envelope, protocol 2.90); answers are
 * parsed once with soap/ and read through typed accessors.
 *
 * Writers append one whole request to an empty sbuf (capped at
 * AGENT_REQUEST_MAX) and return 0 or a negative wsd_errc.
 */
#ifndef WSUSD_WUAGENT_AGENT_MSG_H
#define WSUSD_WUAGENT_AGENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sbuf.h"
#include "soap/soap_emit.h"
#include "soap/soap_parse.h"
#include "wuagent/agent_sysinfo.h"

#define AGENT_PROTOCOL_VERSION "2.90"
/* The largest request is a SyncUpdates with every cached id (WS2025
 * took ~5,000; 100,000 ids are about 2 MiB). */
#define AGENT_REQUEST_MAX (4UL * 1024 * 1024)
#define AGENT_COOKIE_MAX  16384
#define AGENT_FAULT_MAX   64

enum agent_rc {
	AGENT_OK = 0,
	AGENT_ERR_NET = -1,   /* no answer: connection, TLS, timeout */
	AGENT_ERR_FAULT = -2, /* a fault the agent cannot recover from */
	AGENT_ERR_PROTO = -3, /* an answer that is not what MS-WUSP says */
	AGENT_ERR_LOCAL = -4, /* state database, memory */
};

/* The server cookie as it travels (Expiration, EncryptedData). */
struct agent_cookie {
	char expiration[40];
	char data[AGENT_COOKIE_MAX];
};

/* ---- writing ---- */

/* <s:Envelope><s:Body><OP xmlns="NS"> ... </OP></s:Body></s:Envelope> */
int agent_msg_begin(struct soap_writer *w, struct sbuf *sb, const char *op,
    const char *ns) WSD_MUST_CHECK;
int agent_msg_end(struct soap_writer *w, const char *op) WSD_MUST_CHECK;
/* <NAME><Expiration/><EncryptedData/></NAME> */
int agent_msg_cookie(struct soap_writer *w, const char *name,
    const struct agent_cookie *ck) WSD_MUST_CHECK;
/* ArrayOfInt NAME, omitted when empty (as Windows does). */
int agent_msg_ids(struct soap_writer *w, const char *name, const int32_t *v,
    size_t n) WSD_MUST_CHECK;

int agent_msg_get_config(struct sbuf *sb) WSD_MUST_CHECK;
/* TARGET_GROUP NULL or "": no targetGroupName. */
int agent_msg_get_auth_cookie(struct sbuf *sb, const char *client_id,
    const char *target_group, const char *dns_name) WSD_MUST_CHECK;
/* OLD NULL: an oldCookie with an Expiration only (a first cookie). */
int agent_msg_get_cookie(struct sbuf *sb, const char *auth_cookie,
    const struct agent_cookie *old, const char *last_change) WSD_MUST_CHECK;
int agent_msg_register(struct sbuf *sb, const struct agent_cookie *ck,
    const char *dns_name, const struct agent_sysinfo *si) WSD_MUST_CHECK;
/* The driver pass's parameters (SkipSoftwareSync, no devices). */
int agent_msg_driver_params(struct soap_writer *w, const int32_t *installed,
    size_t n_installed) WSD_MUST_CHECK;
/* SyncUpdates (software pass): its parameters, and the whole request. */
int agent_msg_sync_params(struct soap_writer *w, const int32_t *installed,
    size_t n_installed, const int32_t *other, size_t n_other)
    WSD_MUST_CHECK;
int agent_msg_sync(struct sbuf *sb, const struct agent_cookie *ck,
    const int32_t *installed_nonleaf, size_t n_installed,
    const int32_t *other_cached, size_t n_other) WSD_MUST_CHECK;

/* ---- reading ---- */

struct agent_answer {
	struct soap_doc doc;
	const struct soap_elem *result; /* <OpResult>; NULL for
					   RegisterComputer */
	char fault[AGENT_FAULT_MAX];    /* ErrorCode of a fault, "" none */
};

void agent_answer_init(struct agent_answer *a);
void agent_answer_release(struct agent_answer *a);

/*
 * Reads the answer BODY (LEN bytes, HTTP STATUS) to NS/OP: AGENT_OK
 * with A->result, AGENT_ERR_FAULT with A->fault, AGENT_ERR_PROTO; MSG
 * says what was wrong.
 */
int agent_msg_read(const char *body, size_t len, long status,
    const char *op, const char *ns, struct agent_answer *a, char *msg,
    size_t msg_size) WSD_MUST_CHECK;

/* Text of child NAME of P into OUT (at most N - 1 bytes); -1 absent. */
int agent_msg_str(const struct agent_answer *a, const struct soap_elem *p,
    const char *name, char *out, size_t n);
/* The cookie element C (GetCookieResult, NewCookie) into CK. */
int agent_msg_take_cookie(const struct agent_answer *a,
    const struct soap_elem *c, struct agent_cookie *ck) WSD_MUST_CHECK;

/* One UpdateInfo of a SyncUpdates page. */
struct agent_update_info {
	int32_t revision_id;
	bool is_leaf;
	char action[24];
	int64_t deployment_id;
	char deadline[40];
	const char *xml; /* NULL in ChangedUpdates */
	size_t xml_len;
};

/* What a SyncUpdates page says, item by item; a non-zero return stops
 * the walk with that value. */
struct agent_sync_visitor {
	int (*new_update)(void *, const struct agent_update_info *);
	int (*changed_update)(void *, const struct agent_update_info *);
	int (*out_of_scope)(void *, int32_t revision_id);
	void *arg;
};

/*
 * Walks the SyncUpdatesResult of A: NewUpdates, ChangedUpdates,
 * OutOfScopeRevisionIDs, then *TRUNCATED and the NewCookie into CK.
 * AGENT_ERR_PROTO (MSG) on a malformed page; a visitor's own non-zero
 * return is passed on.
 */
int agent_msg_sync_page(const struct agent_answer *a,
    const struct agent_sync_visitor *v, bool *truncated,
    struct agent_cookie *ck, char *msg, size_t msg_size) WSD_MUST_CHECK;

#endif
