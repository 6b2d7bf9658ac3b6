/*
 * MS-WUSP messages (agent_msg.h).
 */
#include "wuagent/agent_msg.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog/fragment.h"

static void
now_datetime(struct soap_datetime *dt)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*dt = soap_datetime_from_unix(ts.tv_sec,
	    (uint32_t)(ts.tv_nsec / 1000000) * 1000000);
}

/* ----------------------------------------------------------- writing */

int
agent_msg_begin(struct soap_writer *w, struct sbuf *sb, const char *op,
    const char *ns)
{
	int rc;

	if ((rc = soap_emit_begin(w, sb, SOAP_STYLE_CLIENT)) < 0)
		return rc;
	return soap_emit_open_ns(w, op, ns);
}

int
agent_msg_end(struct soap_writer *w, const char *op)
{
	int rc;

	if ((rc = soap_emit_close(w, op)) < 0)
		return rc;
	return soap_emit_end(w);
}

int
agent_msg_cookie(struct soap_writer *w, const char *name,
    const struct agent_cookie *ck)
{
	int rc;

	if ((rc = soap_emit_open(w, name)) < 0 ||
	    (rc = soap_emit_str(w, "Expiration", ck->expiration)) < 0 ||
	    (rc = soap_emit_str(w, "EncryptedData", ck->data)) < 0)
		return rc;
	return soap_emit_close(w, name);
}

int
agent_msg_ids(struct soap_writer *w, const char *name, const int32_t *v,
    size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	if ((rc = soap_emit_open(w, name)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = soap_emit_i32(w, "int", v[i])) < 0)
			return rc;
	return soap_emit_close(w, name);
}

int
agent_msg_get_config(struct sbuf *sb)
{
	struct soap_writer w;
	int rc;

	if ((rc = agent_msg_begin(&w, sb, "GetConfig", SOAP_NS_CLIENT)) < 0 ||
	    (rc = soap_emit_str(&w, "protocolVersion",
		 AGENT_PROTOCOL_VERSION)) < 0)
		return rc;
	return agent_msg_end(&w, "GetConfig");
}

int
agent_msg_get_auth_cookie(struct sbuf *sb, const char *client_id,
    const char *target_group, const char *dns_name)
{
	struct soap_writer w;
	int rc;

	if ((rc = agent_msg_begin(&w, sb, "GetAuthorizationCookie",
		 SOAP_NS_SIMPLEAUTH)) < 0 ||
	    (rc = soap_emit_str(&w, "clientId", client_id)) < 0 ||
	    (target_group != NULL && target_group[0] != '\0' &&
		(rc = soap_emit_str(&w, "targetGroupName", target_group)) <
		    0) ||
	    (rc = soap_emit_str(&w, "dnsName", dns_name)) < 0)
		return rc;
	return agent_msg_end(&w, "GetAuthorizationCookie");
}

int
agent_msg_get_cookie(struct sbuf *sb, const char *auth_cookie,
    const struct agent_cookie *old, const char *last_change)
{
	struct soap_datetime now;
	struct soap_writer w;
	int rc;

	now_datetime(&now);
	if ((rc = agent_msg_begin(&w, sb, "GetCookie", SOAP_NS_CLIENT)) < 0 ||
	    (rc = soap_emit_open(&w, "authCookies")) < 0 ||
	    (rc = soap_emit_open(&w, "AuthorizationCookie")) < 0 ||
	    (rc = soap_emit_str(&w, "PlugInId", "SimpleTargeting")) < 0 ||
	    (rc = soap_emit_str(&w, "CookieData", auth_cookie)) < 0 ||
	    (rc = soap_emit_close(&w, "AuthorizationCookie")) < 0 ||
	    (rc = soap_emit_close(&w, "authCookies")) < 0)
		return rc;
	/* The old cookie lets the server carry over what it knew; without
	 * one Windows sends an Expiration alone (scan/000003). */
	if (old != NULL)
		rc = agent_msg_cookie(&w, "oldCookie", old);
	else if ((rc = soap_emit_open(&w, "oldCookie")) == 0 &&
	    (rc = soap_emit_datetime(&w, "Expiration", &now)) == 0)
		rc = soap_emit_close(&w, "oldCookie");
	if (rc < 0 ||
	    (rc = soap_emit_str(&w, "lastChange", last_change)) < 0 ||
	    (rc = soap_emit_datetime(&w, "currentTime", &now)) < 0 ||
	    (rc = soap_emit_str(&w, "protocolVersion",
		 AGENT_PROTOCOL_VERSION)) < 0)
		return rc;
	return agent_msg_end(&w, "GetCookie");
}

int
agent_msg_register(struct sbuf *sb, const struct agent_cookie *ck,
    const char *dns_name, const struct agent_sysinfo *si)
{
	struct soap_writer w;
	int rc;

	if ((rc = agent_msg_begin(&w, sb, "RegisterComputer",
		 SOAP_NS_CLIENT)) < 0 ||
	    (rc = agent_msg_cookie(&w, "cookie", ck)) < 0 ||
	    (rc = soap_emit_open(&w, "computerInfo")) < 0 ||
	    (rc = soap_emit_str(&w, "DnsName", dns_name)) < 0 ||
	    (rc = soap_emit_i32(&w, "OSMajorVersion", si->os_major)) < 0 ||
	    (rc = soap_emit_i32(&w, "OSMinorVersion", si->os_minor)) < 0 ||
	    (rc = soap_emit_i32(&w, "OSBuildNumber", si->os_build)) < 0 ||
	    (rc = soap_emit_i32(&w, "OSServicePackMajorNumber", 0)) < 0 ||
	    (rc = soap_emit_i32(&w, "OSServicePackMinorNumber", 0)) < 0 ||
	    (rc = soap_emit_str(&w, "OSLocale", si->os_locale)) < 0 ||
	    (rc = soap_emit_str(&w, "ComputerManufacturer",
		 si->manufacturer)) < 0 ||
	    (rc = soap_emit_str(&w, "ComputerModel", si->model)) < 0 ||
	    (rc = soap_emit_str(&w, "BiosVersion", si->bios_version)) < 0 ||
	    (rc = soap_emit_str(&w, "BiosName", "unknown")) < 0 ||
	    (rc = soap_emit_str(&w, "BiosReleaseDate", si->bios_date)) < 0 ||
	    (rc = soap_emit_str(&w, "ProcessorArchitecture",
		 si->processor)) < 0 ||
	    (rc = soap_emit_i32(&w, "SuiteMask", 0)) < 0 ||
	    (rc = soap_emit_i32(&w, "OldProductType", 1)) < 0 ||
	    (rc = soap_emit_i32(&w, "NewProductType", 0)) < 0 ||
	    (rc = soap_emit_i32(&w, "SystemMetrics", 0)) < 0 ||
	    (rc = soap_emit_i32(&w, "ClientVersionMajorNumber", 0)) < 0 ||
	    (rc = soap_emit_i32(&w, "ClientVersionMinorNumber", 1)) < 0 ||
	    (rc = soap_emit_i32(&w, "ClientVersionBuildNumber", 0)) < 0 ||
	    (rc = soap_emit_i32(&w, "ClientVersionQfeNumber", 0)) < 0 ||
	    (rc = soap_emit_str(&w, "OSDescription", si->os_description)) <
		0 ||
	    (rc = soap_emit_str(&w, "OEM", si->manufacturer)) < 0 ||
	    (rc = soap_emit_str(&w, "DeviceType", si->model)) < 0 ||
	    (rc = soap_emit_str(&w, "FirmwareVersion", "unknown")) < 0 ||
	    (rc = soap_emit_str(&w, "MobileOperator", "Not Present")) < 0 ||
	    (rc = soap_emit_close(&w, "computerInfo")) < 0)
		return rc;
	return agent_msg_end(&w, "RegisterComputer");
}

/* ProductsParameters: what we are, in Windows' key=value form. */
static int
emit_products(struct soap_writer *w)
{
	int rc;

	if ((rc = soap_emit_open(w, "ProductsParameters")) < 0 ||
	    (rc = soap_emit_bool(w, "SyncCurrentVersionOnly", false)) < 0 ||
	    (rc = soap_emit_str(w, "DeviceAttributes",
		 "App=wuagent;AppVer=0.1.0;DeviceFamily=Linux;")) < 0 ||
	    (rc = soap_emit_str(w, "CallerAttributes",
		 "Interactive=0;Id=wuagent;")) < 0 ||
	    (rc = soap_emit_empty(w, "Products")) < 0)
		return rc;
	return soap_emit_close(w, "ProductsParameters");
}

int
agent_msg_sync_params(struct soap_writer *w, const int32_t *installed,
    size_t n_installed, const int32_t *other, size_t n_other)
{
	int rc;

	/* flow/000001's order; ProductsParameters says what we are. */
	if ((rc = soap_emit_open(w, "parameters")) < 0 ||
	    (rc = soap_emit_bool(w, "ExpressQuery", false)) < 0 ||
	    (rc = agent_msg_ids(w, "InstalledNonLeafUpdateIDs", installed,
		 n_installed)) < 0 ||
	    (rc = agent_msg_ids(w, "OtherCachedUpdateIDs", other, n_other)) <
		0 ||
	    (rc = soap_emit_bool(w, "SkipSoftwareSync", false)) < 0 ||
	    (rc = soap_emit_bool(w, "NeedTwoGroupOutOfScopeUpdates", true)) <
		0 ||
	    (rc = soap_emit_bool(w, "AlsoPerformRegularSync", true)) < 0 ||
	    (rc = soap_emit_empty(w, "ComputerSpec")) < 0 ||
	    (rc = emit_products(w)) < 0)
		return rc;
	return soap_emit_close(w, "parameters");
}

int
agent_msg_driver_params(struct soap_writer *w, const int32_t *installed,
    size_t n_installed)
{
	int rc;

	/* flow/000014's order, with no devices: a Linux machine has none a
	 * Windows driver could match. */
	if ((rc = soap_emit_open(w, "parameters")) < 0 ||
	    (rc = soap_emit_bool(w, "ExpressQuery", false)) < 0 ||
	    (rc = agent_msg_ids(w, "InstalledNonLeafUpdateIDs", installed,
		 n_installed)) < 0 ||
	    (rc = soap_emit_empty(w, "SystemSpec")) < 0 ||
	    (rc = soap_emit_bool(w, "SkipSoftwareSync", true)) < 0 ||
	    (rc = soap_emit_bool(w, "NeedTwoGroupOutOfScopeUpdates", true)) <
		0 ||
	    (rc = soap_emit_bool(w, "AlsoPerformRegularSync", false)) < 0 ||
	    (rc = soap_emit_empty(w, "ComputerSpec")) < 0 ||
	    (rc = emit_products(w)) < 0)
		return rc;
	return soap_emit_close(w, "parameters");
}

int
agent_msg_sync(struct sbuf *sb, const struct agent_cookie *ck,
    const int32_t *installed, size_t n_installed, const int32_t *other,
    size_t n_other)
{
	struct soap_writer w;
	int rc;

	if ((rc = agent_msg_begin(&w, sb, "SyncUpdates", SOAP_NS_CLIENT)) <
		0 ||
	    (rc = agent_msg_cookie(&w, "cookie", ck)) < 0 ||
	    (rc = agent_msg_sync_params(&w, installed, n_installed, other,
		 n_other)) < 0)
		return rc;
	return agent_msg_end(&w, "SyncUpdates");
}

/* ----------------------------------------------------------- reading */

void
agent_answer_init(struct agent_answer *a)
{
	memset(a, 0, sizeof(*a));
	soap_doc_init(&a->doc);
}

void
agent_answer_release(struct agent_answer *a)
{
	soap_doc_release(&a->doc);
	a->result = NULL;
}

int
agent_msg_read(const char *body, size_t len, long status, const char *op,
    const char *ns, struct agent_answer *a, char *msg, size_t msg_size)
{
	struct wsd_err err;
	char name[128];

	agent_answer_release(a);
	a->fault[0] = '\0';
	if (soap_parse(body, len, &a->doc, &err) < 0) {
		snprintf(msg, msg_size, "%s: HTTP %ld, unreadable answer: %s",
		    op, status, err.what);
		return AGENT_ERR_PROTO;
	}
	if (strcmp(a->doc.sd_op_name, "Fault") == 0) {
		const struct soap_elem *code = soap_child_unq(
		    soap_child_unq(a->doc.sd_op, "detail"), "ErrorCode");
		struct sv v;

		if (code != NULL &&
		    soap_get_str(code, sizeof(a->fault) - 1, &v, &err) == 0)
			snprintf(a->fault, sizeof(a->fault), "%.*s", (int)v.n,
			    v.p);
		snprintf(msg, msg_size, "%s: fault %s (HTTP %ld)", op,
		    a->fault[0] ? a->fault : "without ErrorCode", status);
		return AGENT_ERR_FAULT;
	}
	snprintf(name, sizeof(name), "%sResponse", op);
	if (status != 200 || strcmp(a->doc.sd_op_name, name) != 0 ||
	    strcmp(a->doc.sd_op_ns, ns) != 0) {
		snprintf(msg, msg_size, "%s: HTTP %ld, unexpected answer <%s>",
		    op, status, a->doc.sd_op_name);
		return AGENT_ERR_PROTO;
	}
	snprintf(name, sizeof(name), "%sResult", op);
	a->result = soap_child(&a->doc, a->doc.sd_op, name);
	if (a->result == NULL && strcmp(op, "RegisterComputer") != 0) {
		snprintf(msg, msg_size, "%s: answer without %s", op, name);
		return AGENT_ERR_PROTO;
	}
	return AGENT_OK;
}

int
agent_msg_str(const struct agent_answer *a, const struct soap_elem *p,
    const char *name, char *out, size_t n)
{
	struct wsd_err err;
	struct sv v;

	out[0] = '\0';
	if (soap_get_str(soap_child(&a->doc, p, name), n - 1, &v, &err) < 0)
		return -1;
	snprintf(out, n, "%.*s", (int)v.n, v.p);
	return 0;
}

int
agent_msg_take_cookie(const struct agent_answer *a, const struct soap_elem *c,
    struct agent_cookie *ck)
{
	if (c == NULL ||
	    agent_msg_str(a, c, "Expiration", ck->expiration,
		sizeof(ck->expiration)) < 0 ||
	    agent_msg_str(a, c, "EncryptedData", ck->data, sizeof(ck->data)) <
		0 ||
	    ck->data[0] == '\0')
		return AGENT_ERR_PROTO;
	return AGENT_OK;
}

static int
read_info(const struct agent_answer *a, const struct soap_elem *ui,
    bool with_xml, struct agent_update_info *u)
{
	const struct soap_elem *dep = soap_child(&a->doc, ui, "Deployment");
	struct wsd_err err;
	struct sv xml;

	memset(u, 0, sizeof(*u));
	if (soap_get_i32(soap_child(&a->doc, ui, "ID"), &u->revision_id,
		&err) < 0 ||
	    soap_get_bool(soap_child(&a->doc, ui, "IsLeaf"), &u->is_leaf,
		&err) < 0 ||
	    dep == NULL ||
	    agent_msg_str(a, dep, "Action", u->action, sizeof(u->action)) <
		0 ||
	    soap_get_i64(soap_child(&a->doc, dep, "ID"), &u->deployment_id,
		&err) < 0)
		return -1;
	(void)agent_msg_str(a, dep, "Deadline", u->deadline,
	    sizeof(u->deadline));
	if (!with_xml)
		return 0;
	if (soap_get_str(soap_child(&a->doc, ui, "Xml"),
		WSD_MAX_FRAGMENT_BYTES, &xml, &err) < 0)
		return -1;
	u->xml = xml.p;
	u->xml_len = xml.n;
	return 0;
}

static int
walk_infos(const struct agent_answer *a, const struct soap_elem *list,
    bool with_xml, int (*fn)(void *, const struct agent_update_info *),
    void *arg, char *msg, size_t msg_size)
{
	for (const struct soap_elem *e = soap_elem_first(list); e;
	     e = soap_elem_next(e)) {
		struct agent_update_info u;
		int rc;

		if (read_info(a, e, with_xml, &u) < 0) {
			snprintf(msg, msg_size,
			    "SyncUpdates: malformed UpdateInfo");
			return AGENT_ERR_PROTO;
		}
		if (fn != NULL && (rc = fn(arg, &u)) != 0)
			return rc;
	}
	return 0;
}

int
agent_msg_sync_page(const struct agent_answer *a,
    const struct agent_sync_visitor *v, bool *truncated,
    struct agent_cookie *ck, char *msg, size_t msg_size)
{
	const struct soap_doc *d = &a->doc;
	const struct soap_elem *r = a->result;
	struct wsd_err err;
	int rc;

	if ((rc = walk_infos(a, soap_child(d, r, "NewUpdates"), true,
		 v->new_update, v->arg, msg, msg_size)) != 0 ||
	    (rc = walk_infos(a, soap_child(d, r, "ChangedUpdates"), false,
		 v->changed_update, v->arg, msg, msg_size)) != 0)
		return rc;
	for (const struct soap_elem *e = soap_elem_first(soap_child(d, r,
		 "OutOfScopeRevisionIDs"));
	     e; e = soap_elem_next(e)) {
		int32_t id;

		if (soap_get_i32(e, &id, &err) < 0) {
			snprintf(msg, msg_size,
			    "SyncUpdates: bad OutOfScopeRevisionIDs");
			return AGENT_ERR_PROTO;
		}
		if (v->out_of_scope != NULL &&
		    (rc = v->out_of_scope(v->arg, id)) != 0)
			return rc;
	}
	if (soap_get_bool(soap_child(d, r, "Truncated"), truncated, &err) <
	    0) {
		snprintf(msg, msg_size, "SyncUpdates: no Truncated");
		return AGENT_ERR_PROTO;
	}
	if (agent_msg_take_cookie(a, soap_child(d, r, "NewCookie"), ck) !=
	    AGENT_OK) {
		snprintf(msg, msg_size, "SyncUpdates: no usable NewCookie");
		return AGENT_ERR_PROTO;
	}
	return AGENT_OK;
}
