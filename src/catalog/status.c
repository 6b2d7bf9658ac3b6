#include "catalog/status.h"

#include <stdlib.h>
#include <string.h>

#include "common/encode.h"

/* Bound on distinct updates tracked per computer: more than any catalog
 * offers one machine. */
#define STATUS_MAX_ENTRIES 100000

struct status_entry {
	char id[37];
	enum update_status status;
};

const char *
update_status_name(enum update_status s)
{
	switch (s) {
	case STATUS_UNKNOWN:
		return "Unknown";
	case STATUS_NOT_APPLICABLE:
		return "NotApplicable";
	case STATUS_NEEDED:
		return "Needed";
	case STATUS_DOWNLOADED:
		return "Downloaded";
	case STATUS_INSTALLED:
		return "Installed";
	case STATUS_INSTALLED_PENDING_REBOOT:
		return "InstalledPendingReboot";
	case STATUS_FAILED:
		return "Failed";
	}
	return "Unknown";
}

void
status_init(struct status_state *s)
{
	memset(s, 0, sizeof(*s));
}

void
status_release(struct status_state *s)
{
	free(s->st_v);
	status_init(s);
}

static struct status_entry *
find(const struct status_state *s, const char *id)
{
	for (size_t i = 0; i < s->st_n; i++)
		if (strcmp(s->st_v[i].id, id) == 0)
			return &s->st_v[i];
	return NULL;
}

static int
set(struct status_state *s, const char *raw, size_t n, enum update_status st)
{
	struct status_entry *e;
	char tmp[37], id[37];

	if (n != 36)
		return 0; /* not a GUID: ignored */
	memcpy(tmp, raw, 36);
	tmp[36] = '\0';
	if (guid_normalize(tmp, id) < 0)
		return 0;
	if ((e = find(s, id)) != NULL) {
		e->status = st;
		return 0;
	}
	if (s->st_n == STATUS_MAX_ENTRIES)
		return 0;
	if (s->st_n == s->st_cap) {
		size_t cap = s->st_cap ? s->st_cap * 2 : 64;
		struct status_entry *v = realloc(s->st_v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->st_v = v;
		s->st_cap = cap;
	}
	memcpy(s->st_v[s->st_n].id, id, 37);
	s->st_v[s->st_n].status = st;
	s->st_n++;
	return 0;
}

/* One "K=guid;guid;..." line of an allow-listed key. */
static int
list(struct status_state *s, const char *v, size_t n, enum update_status st)
{
	while (n > 0) {
		const char *semi = memchr(v, ';', n);
		size_t len = semi ? (size_t)(semi - v) : n;

		if (set(s, v, len, st) < 0)
			return -1;
		v += len;
		n -= len;
		if (n > 0) {
			v++;
			n--;
		}
	}
	return 0;
}

int
status_feed(struct status_state *s, int32_t event_id, const char *update_id,
    const char *misc)
{
	static const struct {
		const char *key;
		enum update_status st;
	} keys[] = { /* later keys win: installed beats needed */
		{ "U=", STATUS_NEEDED },
		{ "h=", STATUS_DOWNLOADED },
		{ "g=", STATUS_FAILED },
		{ "W=", STATUS_INSTALLED_PENDING_REBOOT },
		{ "V=", STATUS_INSTALLED },
	};

	switch (event_id) {
	case 156:
		/* A new snapshot: what is not listed is not applicable. */
		s->st_reported = true;
		s->st_n = 0;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			const char *p = misc ? misc : "";

			while (*p) {
				const char *eol = strchr(p, '\n');
				size_t len = eol ? (size_t)(eol - p) : strlen(p);

				if (len > 2 && memcmp(p, keys[k].key, 2) == 0 &&
				    list(s, p + 2, len - 2, keys[k].st) < 0)
					return -1;
				p += len;
				if (*p == '\n')
					p++;
			}
		}
		return 0;
	case 182:
		return set(s, update_id, strlen(update_id), STATUS_FAILED);
	case 183:
		return set(s, update_id, strlen(update_id), STATUS_INSTALLED);
	case 184:
		return set(s, update_id, strlen(update_id),
		    STATUS_INSTALLED_PENDING_REBOOT);
	default:
		return 0; /* 161, 162, 167, 181, 201...: no change (OBSERVED) */
	}
}

enum update_status
status_of(const struct status_state *s, const char *update_id)
{
	const struct status_entry *e;
	char id[37];

	if (guid_normalize(update_id, id) < 0)
		return STATUS_UNKNOWN;
	if ((e = find(s, id)) != NULL)
		return e->status;
	return s->st_reported ? STATUS_NOT_APPLICABLE : STATUS_UNKNOWN;
}

int
status_each(const struct status_state *s,
    int (*fn)(void *, const char *, enum update_status), void *arg)
{
	int rc;

	for (size_t i = 0; i < s->st_n; i++)
		if ((rc = fn(arg, s->st_v[i].id, s->st_v[i].status)) != 0)
			return rc;
	return 0;
}
