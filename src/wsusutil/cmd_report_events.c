/*
 * wsusutil report events [--last N] [--computer NAME|ID] [--json]: the
 * events clients reported (ReportEventBatch), newest first, every field
 * as stored. What a client sent is shown as text and never interpreted
 * (SECURITY.md S2): in the plain listing control characters and
 * backslashes are written as escapes, so a reported string cannot move
 * the cursor, recolour or retitle the administrator's terminal; JSON
 * escapes as JSON does.
 */
#include "wsusutil/wsusutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/strparse.h"
#include "store/store.h"

#define EVENTS_DEFAULT 20
#define EVENTS_MAX 100000

struct ev_ctx {
	bool json;
	unsigned n;
};

/* S as text: bytes below 0x20, DEL, the C1 controls U+0080..U+009F
 * (XML lets a client send those, and some terminals obey them) and '\'
 * escaped; the rest (UTF-8 included) as it is. */
static void
put_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", stdout);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			printf("\\u%04x", *++p);
		else
			putchar(*p);
	}
}

static void
put_field(const char *label, const char *s)
{
	if (s[0] == '\0')
		return;
	printf("  %s: ", label);
	put_text(s);
	putchar('\n');
}

static int
print_event(void *arg, const struct store_client_event_full *r)
{
	struct ev_ctx *ec = arg;
	const struct store_client_event *e = &r->ev;

	if (!ec->json) {
		printf("%s  event %d  source %d  hresult 0x%08X  computer ",
		    r->received, (int)e->event_id, (int)e->source_id,
		    (unsigned)e->hresult);
		put_text(r->dns_name[0] ? r->dns_name : "-");
		printf(" (%s)\n", e->computer_id);
		printf("  update: %s rev %d\n", e->update_id,
		    (int)e->revision_number);
		put_field("time at target", e->time_at_target);
		put_field("event instance", e->event_instance_id);
		put_field("application", e->app_name);
		put_field("replacement strings", e->replacement_strings);
		put_field("misc data", e->misc_data);
		return 0;
	}
	printf("%s\n  {\"received\": ", ec->n++ ? "," : "");
	json_str(stdout, r->received);
	printf(", \"computer_id\": ");
	json_str(stdout, e->computer_id);
	printf(", \"computer\": ");
	json_str(stdout, r->dns_name);
	printf(", \"event_instance_id\": ");
	json_str(stdout, e->event_instance_id);
	printf(", \"time_at_target\": ");
	json_str(stdout, e->time_at_target);
	printf(", \"event_id\": %d, \"source_id\": %d, \"update_id\": ",
	    (int)e->event_id, (int)e->source_id);
	json_str(stdout, e->update_id);
	printf(", \"revision_number\": %d, \"hresult\": %d, \"app_name\": ",
	    (int)e->revision_number, (int)e->hresult);
	json_str(stdout, e->app_name);
	printf(", \"replacement_strings\": ");
	json_str(stdout, e->replacement_strings);
	printf(", \"misc_data\": ");
	json_str(stdout, e->misc_data);
	printf("}");
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: wsusutil report events [--last N] "
			"[--computer NAME|ID] [--json]\n");
	return 2;
}

int
cmd_report_events(const char *datadir, int argc, char **argv)
{
	struct ev_ctx ec = { 0 };
	const char *computer = NULL;
	uint64_t last = EVENTS_DEFAULT;
	struct store *st;
	struct wsd_err err;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--last") == 0 && i + 1 < argc) {
			if (strparse_u64_all(argv[++i], 1, EVENTS_MAX,
				&last) < 0)
				return wsusutil_fail("report events",
				    "--last takes a number from 1 to 100000");
		} else if (strcmp(argv[i], "--computer") == 0 &&
		    i + 1 < argc) {
			computer = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			ec.json = true;
		} else {
			return usage();
		}
	}
	if (wsusutil_open_store("report events", datadir, &st) < 0)
		return 1;
	if (ec.json)
		printf("[");
	rc = store_client_events_recent(st, computer, (unsigned)last,
	    print_event, &ec, &err);
	store_close(st);
	if (ec.json)
		printf("\n]\n");
	return rc < 0 ? wsusutil_fail("report events", err.what) : 0;
}
