/*
 * ReportEventBatch (WUSP.md 3.11): the cookie is checked before anything
 * of the batch is read (SECURITY.md S2); every event must name the
 * cookie's computer (S9); strings are bounded and stored as text, never
 * interpreted. The answer is true, as WSUS answers, so clients do not
 * resend; resends are harmless anyway (EventInstanceID de-duplicates).
 */
#include "wusp/wusp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/log.h"

/* Events in one batch: clients send tens. */
#define REPORT_MAX_EVENTS 1000
/* Text of one event (replacement strings and misc data): S2's 64 KiB. */
#define REPORT_MAX_EVENT_TEXT (64 * 1024)
#define REPORT_MAX_STRINGS 256

struct ev_buf {
	struct store_client_event ev;
	char inst[37], upd[37], time[40], app[257];
	char *repl, *misc; /* malloc'd */
};

/* Joins the <string> children of ARR with newlines into *OUT. */
static int
join_strings(const struct soap_doc *d, const struct soap_elem *arr,
    char **out, size_t *budget)
{
	struct soap_iter it;
	struct wsd_err err;
	struct sbuf sb;
	const struct soap_elem *e;
	size_t count;

	sbuf_init(&sb, REPORT_MAX_EVENT_TEXT);
	*out = NULL;
	if (arr != NULL) {
		if (soap_array_begin(d, arr, "string", REPORT_MAX_STRINGS, &it,
			&count, &err) < 0)
			return -1;
		while ((e = soap_iter_next(&it)) != NULL) {
			struct sv s;

			if (soap_get_str(e, *budget, &s, &err) < 0 ||
			    (sb.sb_len > 0 && sbuf_add(&sb, "\n", 1) < 0) ||
			    sbuf_add(&sb, s.p, s.n) < 0)
				return -1;
			if (s.n + 1 > *budget)
				return -1;
			*budget -= s.n + 1;
		}
	}
	*out = sbuf_detach(&sb, NULL);
	return 0;
}

static enum soap_errc
parse_event(struct wusp_ctx *c, const struct soap_elem *re,
    const char *computer, struct ev_buf *b)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *bd, *ed, *e, *u;
	size_t budget = REPORT_MAX_EVENT_TEXT;
	struct wsd_err err;
	char sid[37];
	struct sv s;

	c->wc_message = "eventBatch";
	if ((bd = soap_child(d, re, "BasicData")) == NULL ||
	    (e = soap_child(d, bd, "TargetID")) == NULL ||
	    (e = soap_child(d, e, "Sid")) == NULL ||
	    soap_get_guid(e, sid, &err) < 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	/* A cookie speaks for one computer only (S9). */
	if (strcmp(sid, computer) != 0) {
		c->wc_message = "TargetID";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	b->ev.computer_id = computer;
	if ((e = soap_child(d, bd, "EventInstanceID")) == NULL ||
	    soap_get_guid(e, b->inst, &err) < 0 ||
	    (e = soap_child(d, bd, "TimeAtTarget")) == NULL ||
	    soap_get_str(e, sizeof(b->time) - 1, &s, &err) < 0 ||
	    (e = soap_child(d, bd, "EventID")) == NULL ||
	    soap_get_i32(e, &b->ev.event_id, &err) < 0 ||
	    (e = soap_child(d, bd, "SourceID")) == NULL ||
	    soap_get_i32(e, &b->ev.source_id, &err) < 0 ||
	    (u = soap_child(d, bd, "UpdateID")) == NULL ||
	    (e = soap_child(d, u, "UpdateID")) == NULL ||
	    soap_get_guid(e, b->upd, &err) < 0 ||
	    (e = soap_child(d, u, "RevisionNumber")) == NULL ||
	    soap_get_i32(e, &b->ev.revision_number, &err) < 0 ||
	    (e = soap_child(d, bd, "Win32HResult")) == NULL ||
	    soap_get_i32(e, &b->ev.hresult, &err) < 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	snprintf(b->time, sizeof(b->time), "%.*s", (int)s.n, s.p);
	b->app[0] = '\0';
	if ((e = soap_child(d, bd, "AppName")) != NULL) {
		if (soap_get_str(e, sizeof(b->app) - 1, &s, &err) < 0)
			return SOAP_ERRC_INVALID_PARAMETERS;
		snprintf(b->app, sizeof(b->app), "%.*s", (int)s.n, s.p);
	}
	ed = soap_child(d, re, "ExtendedData");
	if (join_strings(d, ed ? soap_child(d, ed, "ReplacementStrings") : NULL,
		&b->repl, &budget) < 0 ||
	    join_strings(d, ed ? soap_child(d, ed, "MiscData") : NULL,
		&b->misc, &budget) < 0)
		return SOAP_ERRC_INVALID_PARAMETERS;
	b->ev.event_instance_id = b->inst;
	b->ev.update_id = b->upd;
	b->ev.time_at_target = b->time;
	b->ev.app_name = b->app;
	b->ev.replacement_strings = b->repl;
	b->ev.misc_data = b->misc;
	return SOAP_ERRC_NONE;
}

enum soap_errc
wusp_report_event_batch(struct wusp_ctx *c)
{
	const struct soap_doc *d = c->wc_doc;
	const struct soap_elem *arr, *re;
	struct store_client_event *evs = NULL;
	struct ev_buf *bufs = NULL;
	struct soap_iter it;
	struct wsd_err err;
	struct cookie ck;
	char computer[37];
	size_t count = 0, n = 0, added = 0;
	enum soap_errc ec;

	/* The cookie first: nothing of an unauthenticated batch is read. */
	if ((ec = wusp_open_client_cookie(c, soap_child(d, d->sd_op, "cookie"),
		 &ck)) != SOAP_ERRC_NONE)
		return ec;
	guid_format(ck.co_computer, computer);
	if ((arr = soap_child(d, d->sd_op, "eventBatch")) == NULL ||
	    soap_array_begin(d, arr, "ReportingEvent", REPORT_MAX_EVENTS, &it,
		&count, &err) < 0) {
		c->wc_message = "eventBatch";
		return SOAP_ERRC_INVALID_PARAMETERS;
	}
	if (count > 0 && ((bufs = calloc(count, sizeof(*bufs))) == NULL ||
			     (evs = calloc(count, sizeof(*evs))) == NULL)) {
		free(bufs);
		return SOAP_ERRC_SERVER_BUSY;
	}
	while ((re = soap_iter_next(&it)) != NULL && n < count) {
		if ((ec = parse_event(c, re, computer, &bufs[n])) !=
		    SOAP_ERRC_NONE)
			goto out;
		evs[n] = bufs[n].ev;
		n++;
	}
	if (n > 0 && store_client_events_add(c->wc_store, evs, n, &added,
			 &err) < 0) {
		ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
		goto out;
	}
	log_debug("ReportEventBatch: %zu events, %zu new", n, added);
	if (soap_emit_open_ns(&c->wc_w, "ReportEventBatchResponse",
		SOAP_NS_REPORTING) < 0 ||
	    soap_emit_bool(&c->wc_w, "ReportEventBatchResult", true) < 0 ||
	    soap_emit_close(&c->wc_w, "ReportEventBatchResponse") < 0)
		ec = SOAP_ERRC_INTERNAL_SERVER_ERROR;
	else
		ec = SOAP_ERRC_NONE;
out:
	for (size_t i = 0; i < count && bufs != NULL; i++) {
		free(bufs[i].repl);
		free(bufs[i].misc);
	}
	free(bufs);
	free(evs);
	return ec;
}
