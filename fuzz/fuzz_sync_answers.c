/*
 * Fuzz target for what a downstream server reads from its upstream
 * (issue #8 item 4): the answer parsers of src/sync/sync_proto.h, fed a
 * whole response envelope as a hostile or broken upstream might send it.
 *
 * Input: one mode byte, then the answer.
 *
 *	bits 0-1	parser: 0 sync_parse_revision_ids
 *			(GetRevisionIdList, streaming reader),
 *			1 sync_parse_update_data (GetUpdateData, including
 *			XmlUpdateBlobCompressed cabinets),
 *			2 sync_parse_deployments (GetDeployments),
 *			3 sync_parse_revision_ids
 *	bit 2		the callbacks stop the parse: the second call
 *			returns 7, which must come back as the result with
 *			no call after it
 *	bits 3-7	ignored
 *
 * Checks (sync_proto.h): a result < 0 carries a static err.what; every
 * id handed to a callback is a lower-case 8-4-4-4-12 GUID; revisions are
 * >= 0, actions 0-3; strings are NUL-terminated inside their arrays; a
 * "9999-" deadline is reported as none; an anchor is NUL-terminated
 * inside STORE_ANCHOR_MAX; documents are readable to their length (every
 * byte is read, so ASan sees a short one) and no longer than the caps
 * (WSD_MAX_XML_TEXT for XmlUpdateBlob, twice UPDATE_DOC_MAX_BYTES for a
 * cabinet's). __builtin_trap() when one breaks.
 *
 * Seeds (corpus/sync_answers): answers in wsusd's own upstream format
 * (tests/integration/test_wsusss.py checks it against the WSDL) for the
 * three operations, with XmlUpdateBlob and XmlUpdateBlobCompressed,
 * groups, deployments, hidden updates, and one refusal each (DTD, entity,
 * bad GUID, both blobs, another operation's response).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/update_doc.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "soap/soap_parse.h"
#include "sync/sync_proto.h"

#define STOPPED 7

struct state {
	bool stop;
	unsigned calls;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_guid(const char *g)
{
	for (int i = 0; i < 36; i++) {
		char c = g[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				__builtin_trap();
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			__builtin_trap();
	}
	if (g[36] != '\0')
		__builtin_trap();
}

static void
check_str(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		__builtin_trap();
}

static int
call(struct state *st)
{
	/* A call after the one that stopped the parse. */
	if (st->stop && st->calls >= 2)
		__builtin_trap();
	return ++st->calls == 2 && st->stop ? STOPPED : 0;
}

static int
on_revision(void *arg, const char *id, int rev)
{
	check_guid(id);
	if (rev < 0)
		__builtin_trap();
	return call(arg);
}

static volatile unsigned char sink;

static int
on_doc(void *arg, const char *id, int rev, const char *doc, size_t len)
{
	unsigned char x = 0;

	check_guid(id);
	if (rev < 0 || doc == NULL ||
	    len > (WSD_MAX_XML_TEXT > 2 * (size_t)UPDATE_DOC_MAX_BYTES
			  ? WSD_MAX_XML_TEXT
			  : 2 * (size_t)UPDATE_DOC_MAX_BYTES))
		__builtin_trap();
	for (size_t i = 0; i < len; i++)
		x ^= (unsigned char)doc[i];
	sink = x;
	return call(arg);
}

static int
on_group(void *arg, const struct sync_group *g)
{
	check_guid(g->id);
	if (g->parent[0] != '\0')
		check_guid(g->parent);
	check_str(g->name, sizeof(g->name));
	return call(arg);
}

static int
on_deployment(void *arg, const struct sync_deployment *d)
{
	check_guid(d->update_id);
	check_guid(d->deployment_id);
	check_guid(d->group_id);
	check_str(d->deadline, sizeof(d->deadline));
	check_str(d->admin, sizeof(d->admin));
	if (d->revision < 0 || d->action < 0 || d->action > 3 ||
	    strncmp(d->deadline, "9999-", 5) == 0)
		__builtin_trap();
	return call(arg);
}

static int
on_hidden(void *arg, const char *id)
{
	check_guid(id);
	return call(arg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sync_deployments_cb dcb_proto = {
		on_group, on_deployment, on_hidden, NULL
	};
	struct wsd_err err = { WSD_OK, NULL };
	struct sync_deployments_cb dcb = dcb_proto;
	struct state st = { false, 0 };
	char anchor[STORE_ANCHOR_MAX + 1];
	struct sbuf ans;
	bool has_anchor = false;
	int rc;

	if (size < 1)
		return 0;
	log_set_level(LOG_LVL_ERROR);
	st.stop = (data[0] & 4) != 0;
	dcb.arg = &st;
	/* The answer as sync_client leaves it: an sbuf, NUL-terminated. */
	sbuf_init(&ans, size);
	if (sbuf_add(&ans, data + 1, size - 1) < 0)
		__builtin_trap();
	memset(anchor, 'X', sizeof(anchor));
	switch (data[0] & 3) {
	case 1:
		rc = sync_parse_update_data(&ans, on_doc, &st, &err);
		break;
	case 2:
		rc = sync_parse_deployments(&ans, &dcb, anchor, &err);
		has_anchor = true;
		break;
	default:
		rc = sync_parse_revision_ids(&ans, on_revision, &st, anchor,
		    &err);
		has_anchor = true;
		break;
	}
	sbuf_release(&ans);
	if (rc < 0 && (err.what == NULL || err.what[0] == '\0'))
		__builtin_trap();
	if (rc > 0 && (rc != STOPPED || !st.stop))
		__builtin_trap();
	if (st.stop && st.calls >= 2 && rc != STOPPED)
		__builtin_trap();
	if (has_anchor && (anchor[STORE_ANCHOR_MAX] != 'X' ||
			      memchr(anchor, '\0', STORE_ANCHOR_MAX) == NULL))
		__builtin_trap();
	return 0;
}
