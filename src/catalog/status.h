/*
 * Per-(computer, update) status as WSUS's reports show it, derived from
 * what the client reported (WUSP.md 8; OBSERVED 56, 57): the lists of
 * the latest event 156 (U= needed, V= installed, W= installed pending
 * reboot, g= failed, h= downloaded) and the install results reported
 * after it (182 failed, 183 installed, 184 installed pending reboot).
 * Only those MiscData keys are read (SECURITY.md S2); everything else in
 * an event stays text.
 */
#ifndef WSUSD_CATALOG_STATUS_H
#define WSUSD_CATALOG_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum update_status {
	STATUS_UNKNOWN = 0,     /* the computer never reported status */
	STATUS_NOT_APPLICABLE,  /* reported, but this update not listed */
	STATUS_NEEDED,
	STATUS_DOWNLOADED,
	STATUS_INSTALLED,
	STATUS_INSTALLED_PENDING_REBOOT,
	STATUS_FAILED,
};

const char *update_status_name(enum update_status s);

/* What one computer reported; build with status_feed, query, release. */
struct status_state {
	bool st_reported; /* a 156 was seen */
	struct status_entry *st_v;
	size_t st_n, st_cap;
};

void status_init(struct status_state *s);
void status_release(struct status_state *s);
/*
 * Feeds one event in time order. UPDATE_ID is the event's subject (lower
 * or upper case GUID); MISC the event's MiscData strings joined with
 * newlines. Returns 0, or -1 when memory ran out.
 */
int status_feed(struct status_state *s, int32_t event_id,
    const char *update_id, const char *misc);
enum update_status status_of(const struct status_state *s,
    const char *update_id);
/*
 * Calls FN with every update the reports named (lower-case GUID) and its
 * status, in no particular order; updates not named are NotApplicable
 * once st_reported, else Unknown. FN returning non-zero stops the walk
 * and is returned.
 */
int status_each(const struct status_state *s,
    int (*fn)(void *, const char *, enum update_status), void *arg);

#endif
