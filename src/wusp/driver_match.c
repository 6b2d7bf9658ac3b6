/*
 * Driver matching (driver_match.h).
 */
#include "wusp/driver_match.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
cmp_key(const void *a, const void *b, void *arg)
{
	const struct store_sync_catalog *c = arg;
	const struct store_sync_driver *x = &c->drv[*(const uint32_t *)a];
	const struct store_sync_driver *y = &c->drv[*(const uint32_t *)b];
	int r = strcmp(c->pool + x->hwid_key, c->pool + y->hwid_key);

	if (r != 0)
		return r;
	return (*(const uint32_t *)a > *(const uint32_t *)b) -
	    (*(const uint32_t *)a < *(const uint32_t *)b);
}

int
driver_index_build(const struct store_sync_catalog *cat, uint32_t **out)
{
	uint32_t *ix;

	*out = NULL;
	if (cat->n_drv > UINT32_MAX - 1)
		return WSD_ETOOBIG;
	if ((ix = malloc((cat->n_drv + 1) * sizeof(*ix))) == NULL)
		return WSD_ENOMEM;
	for (size_t i = 0; i < cat->n_drv; i++)
		ix[i] = (uint32_t)i;
	qsort_r(ix, cat->n_drv, sizeof(*ix), cmp_key,
	    (void *)(uintptr_t)cat);
	*out = ix;
	return 0;
}

/* The comparison keys of MS-WUSP 3.1.5.7, smaller is better. */
struct rank {
	int32_t chid, score, id;
	int32_t date;
	uint64_t version;
};

static bool
better(const struct rank *a, const struct rank *b)
{
	if (a->chid != b->chid)
		return a->chid < b->chid;
	if (a->score != b->score)
		return a->score < b->score;
	if (a->id != b->id)
		return a->id < b->id;
	if (a->date != b->date)
		return a->date > b->date;
	return a->version > b->version;
}

/* Index in SPEC's CHIDs of the first one LIST ("g,g") names. */
static int32_t
chid_rank(const struct system_spec *spec, const char *list)
{
	for (size_t i = 0; i < spec->n_chids; i++)
		for (const char *p = list; *p != '\0';) {
			if (strncmp(p, spec->chids[i], 36) == 0 &&
			    (p[36] == ',' || p[36] == '\0'))
				return (int32_t)i;
			if ((p = strchr(p, ',')) == NULL)
				break;
			p++;
		}
	return SPEC_NO_RANK;
}

/* FeatureScore for KEY in LIST ("os=HH,..."); 0xff when none. */
static int32_t
score_for(const struct system_spec *spec, const char *list)
{
	const struct sv *key = &spec->feature_key;

	for (const char *p = list; *p != '\0';) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');

		if (end == NULL)
			end = p + strlen(p);
		if (eq != NULL && eq < end && key->n > 0 &&
		    (size_t)(eq - p) == key->n &&
		    strncasecmp(p, key->p, key->n) == 0)
			return (int32_t)strtol(eq + 1, NULL, 16) & 0xff;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return 0xff;
}

static bool
sv_eq_nocase(struct sv a, const char *b)
{
	return sv_eq_ci(a, (struct sv){ b, strlen(b) });
}

/* First entry of INDEX whose key is KEY, or N. */
static size_t
lower_bound(const struct store_sync_catalog *cat, const uint32_t *index,
    const char *key)
{
	size_t lo = 0, hi = cat->n_drv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(cat->pool + cat->drv[index[mid]].hwid_key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
match_device(const struct store_sync_catalog *cat, const uint32_t *index,
    const struct system_spec *spec, const struct spec_device *dev,
    bool (*eligible)(void *, size_t), void *arg, uint32_t *best)
{
	const struct spec_installed *in = &dev->inst;
	bool printer = in->present && sv_eq_nocase(in->drv_class, "Printer");
	struct rank top = { 0 };
	char key[SPEC_MAX_ID_LEN + 1];

	*best = UINT32_MAX;
	for (size_t k = 0; k < dev->n_ids; k++) {
		const struct sv *id = &spec->ids[dev->first_id + k];
		size_t j;

		for (size_t b = 0; b < id->n; b++) {
			unsigned char ch = (unsigned char)id->p[b];

			key[b] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
		key[id->n] = '\0';
		for (j = lower_bound(cat, index, key); j < cat->n_drv; j++) {
			const struct store_sync_driver *d = &cat->drv[index[j]];
			const char *pool = cat->pool;
			struct rank r;

			if (strcmp(pool + d->hwid_key, key) != 0)
				break;
			r.chid = d->chid_targeted ?
			    chid_rank(spec, pool + d->chids) :
			    SPEC_NO_RANK;
			if (d->chid_targeted && r.chid == SPEC_NO_RANK)
				continue; /* targeted at other computers */
			if (printer &&
			    (!sv_eq_nocase(in->provider, pool + d->provider) ||
				!sv_eq_nocase(in->manufacturer,
				    pool + d->manufacturer)))
				continue;
			if (!eligible(arg, d->rev))
				continue;
			r.score = score_for(spec, pool + d->scores);
			r.id = (int32_t)k;
			r.date = d->date;
			r.version = d->version;
			if (*best == UINT32_MAX || better(&r, &top)) {
				top = r;
				*best = index[j];
			}
		}
	}
	if (*best != UINT32_MAX && in->present) {
		struct rank have = {
			.chid = in->chid_rank,
			.score = in->score,
			.id = in->id_rank,
			.date = in->date,
			.version = in->version,
		};

		if (!better(&top, &have))
			*best = UINT32_MAX;
	}
}

void
driver_match(const struct store_sync_catalog *cat, const uint32_t *index,
    const struct system_spec *spec, bool (*eligible)(void *, size_t rev),
    void *arg, uint32_t *best)
{
	for (size_t i = 0; i < spec->n_dev; i++)
		match_device(cat, index, spec, &spec->dev[i], eligible, arg,
		    &best[i]);
}
