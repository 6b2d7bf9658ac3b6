/*
 * SyncUpdates driver-pass parameters (systemspec.h).
 */
#include "wusp/systemspec.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int32_t
spec_yyyymmdd(int64_t unix_sec)
{
	/* Days to civil date (H. Hinnant's algorithm), proleptic
	 * Gregorian: exact for years 0001-9999. */
	int64_t z = (unix_sec >= 0 ? unix_sec : unix_sec - 86399) / 86400 +
	    719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t day = doy - (153 * mp + 2) / 5 + 1;
	int64_t mon = mp < 10 ? mp + 3 : mp - 9;
	int64_t year = yoe + era * 400 + (mon <= 2);

	return (int32_t)(year * 10000 + mon * 100 + day);
}

struct spec_reader {
	const struct soap_doc *d;
	struct system_spec *s;
	size_t cap_ids;
	struct wsd_err *err;
};

/* Optional string child NAME of E (absent: empty). */
static int
opt_str(struct spec_reader *r, const struct soap_elem *e, const char *name,
    struct sv *out)
{
	const struct soap_elem *c = soap_child(r->d, e, name);

	*out = SV_LIT("");
	if (c == NULL || soap_is_nil(c))
		return 0;
	return soap_get_str(c, SPEC_MAX_STR, out, r->err);
}

/* Appends the <string> items of ARR to the id list; *N their count. */
static int
read_ids(struct spec_reader *r, const struct soap_elem *arr, size_t room,
    size_t *n)
{
	const struct soap_elem *item;
	struct soap_iter it;
	size_t count;
	int rc;

	*n = 0;
	if ((rc = soap_array_begin(r->d, arr, "string", room, &it, &count,
		 r->err)) < 0)
		return rc;
	if (r->s->n_ids + count > r->cap_ids) {
		size_t ncap = r->cap_ids ? r->cap_ids * 2 : 1024;
		struct sv *p;

		while (ncap < r->s->n_ids + count)
			ncap *= 2;
		if ((p = realloc(r->s->ids, ncap * sizeof(*p))) == NULL)
			return wsd_fail(r->err, WSD_ENOMEM, "out of memory");
		r->s->ids = p;
		r->cap_ids = ncap;
	}
	while ((item = soap_iter_next(&it)) != NULL) {
		struct sv v;

		if ((rc = soap_get_str(item, SPEC_MAX_ID_LEN, &v, r->err)) < 0)
			return rc;
		if (v.n == 0)
			continue; /* nothing can match an empty id */
		r->s->ids[r->s->n_ids++] = v;
		(*n)++;
	}
	return 0;
}

static int
chid_rank(const struct system_spec *s, const struct soap_elem *e,
    int32_t *rank, struct wsd_err *err)
{
	char g[37];
	int rc;

	*rank = SPEC_NO_RANK;
	if (e == NULL || soap_is_nil(e))
		return 0;
	if ((rc = soap_get_guid(e, g, err)) < 0)
		return rc;
	for (size_t i = 0; i < s->n_chids; i++)
		if (strcmp(s->chids[i], g) == 0) {
			*rank = (int32_t)i;
			break;
		}
	return 0;
}

static int
read_installed(struct spec_reader *r, const struct soap_elem *e,
    struct spec_device *dev)
{
	struct spec_installed *in = &dev->inst;
	const struct soap_elem *c;
	struct soap_datetime dt;
	int32_t rank;
	int64_t v;
	int rc;

	in->chid_rank = SPEC_NO_RANK;
	in->score = 0xff;
	in->id_rank = SPEC_NO_RANK;
	if (e == NULL)
		return 0;
	if ((c = soap_child(r->d, e, "MatchingID")) != NULL &&
	    !soap_is_nil(c)) {
		if ((rc = soap_get_str(c, SPEC_MAX_ID_LEN, &in->matching_id,
			 r->err)) < 0)
			return rc;
		in->present = in->matching_id.n > 0;
	}
	if ((c = soap_child(r->d, e, "DriverVerDate")) != NULL) {
		if ((rc = soap_get_datetime(c, &dt, r->err)) < 0)
			return rc;
		in->date = spec_yyyymmdd(dt.dt_sec);
	}
	if ((c = soap_child(r->d, e, "DriverVerVersion")) != NULL) {
		if ((rc = soap_get_i64(c, &v, r->err)) < 0)
			return rc;
		in->version = (uint64_t)v;
	}
	if ((rc = opt_str(r, e, "Class", &in->drv_class)) < 0 ||
	    (rc = opt_str(r, e, "Manufacturer", &in->manufacturer)) < 0 ||
	    (rc = opt_str(r, e, "Provider", &in->provider)) < 0 ||
	    (rc = chid_rank(r->s, soap_child(r->d, e, "MatchingComputerHWID"),
		 &in->chid_rank, r->err)) < 0)
		return rc;
	/* DriverRank 0xSSGGTHHH: GG is the feature score. Pre-Windows 10
	 * clients send none (or -1): unknown, the worst score. */
	if ((c = soap_child(r->d, e, "DriverRank")) != NULL) {
		if ((rc = soap_get_i32(c, &rank, r->err)) < 0)
			return rc;
		if (rank >= 0)
			in->score = (rank >> 16) & 0xff;
	}
	if (in->present)
		for (size_t k = 0; k < dev->n_ids; k++) {
			const struct sv *id = &r->s->ids[dev->first_id + k];

			if (id->n == in->matching_id.n &&
			    strncasecmp(id->p, in->matching_id.p, id->n) ==
				0) {
				in->id_rank = (int32_t)k;
				break;
			}
		}
	return 0;
}

static int
read_chids(struct spec_reader *r, const struct soap_elem *params)
{
	const struct soap_elem *arr, *item;
	struct soap_iter it;
	size_t n;
	int rc;

	arr = soap_child(r->d, soap_child(r->d, params, "ComputerSpec"),
	    "HardwareIDs");
	if ((rc = soap_array_begin(r->d, arr, "guid", SPEC_MAX_CHIDS, &it, &n,
		 r->err)) < 0)
		return rc;
	if ((r->s->chids = calloc(n + 1, sizeof(*r->s->chids))) == NULL)
		return wsd_fail(r->err, WSD_ENOMEM, "out of memory");
	while ((item = soap_iter_next(&it)) != NULL)
		if ((rc = soap_get_guid(item, r->s->chids[r->s->n_chids++],
			 r->err)) < 0)
			return rc;
	return 0;
}

int
system_spec_parse(const struct soap_doc *d, const struct soap_elem *params,
    struct system_spec *out, const char **message, struct wsd_err *err)
{
	struct spec_reader r = { .d = d, .s = out, .err = err };
	const struct soap_elem *e, *key;
	struct soap_iter it;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	*message = "parameters.ComputerSpec";
	if ((rc = read_chids(&r, params)) < 0)
		goto fail;
	*message = "parameters.FeatureScoreMatchingKey";
	key = soap_child(d, params, "FeatureScoreMatchingKey");
	out->feature_key = SV_LIT("");
	if (key != NULL && !soap_is_nil(key) &&
	    (rc = soap_get_str(key, SPEC_MAX_STR, &out->feature_key, err)) < 0)
		goto fail;
	*message = "parameters.SystemSpec";
	if ((rc = soap_array_begin(d, soap_child(d, params, "SystemSpec"),
		 "Device", SPEC_MAX_DEVICES, &it, &n, err)) < 0)
		goto fail;
	if ((out->dev = calloc(n + 1, sizeof(*out->dev))) == NULL) {
		rc = wsd_fail(err, WSD_ENOMEM, "out of memory");
		goto fail;
	}
	while ((e = soap_iter_next(&it)) != NULL) {
		struct spec_device *dev = &out->dev[out->n_dev++];
		size_t nh, nc;

		dev->first_id = out->n_ids;
		if ((rc = read_ids(&r, soap_child(d, e, "HardwareIDs"),
			 SPEC_MAX_IDS, &nh)) < 0 ||
		    (rc = read_ids(&r, soap_child(d, e, "CompatibleIDs"),
			 SPEC_MAX_IDS - nh, &nc)) < 0)
			goto fail;
		dev->n_ids = nh + nc;
		if ((rc = read_installed(&r, soap_child(d, e,
						 "installedDriver"),
			 dev)) < 0)
			goto fail;
	}
	*message = "";
	return 0;
fail:
	system_spec_release(out);
	return rc;
}

void
system_spec_release(struct system_spec *s)
{
	if (s == NULL)
		return;
	free(s->dev);
	free(s->ids);
	free(s->chids);
	memset(s, 0, sizeof(*s));
}
