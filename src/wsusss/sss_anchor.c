#include "wsusss/sss_anchor.h"

#include <stdio.h>
#include <string.h>

#include "soap/soap_emit.h"
#include "soap/soap_parse.h"

/* The date part's shape: 'd' a digit, anything else itself. */
static const char shape[] = "dddd-dd-dd dd:dd:dd.ddd";

int
sss_anchor_parse(struct sv s, struct sss_anchor *out)
{
	struct soap_datetime dt;
	struct wsd_err err;
	char iso[sizeof(shape)];
	struct sv v = s, n0 = s;
	uint64_t gen;
	size_t digits;

	if (strparse_u64(&v, INT64_MAX, &gen) < 0)
		return WSD_EINVAL;
	digits = (size_t)(v.p - n0.p);
	if (digits > 19 || strparse_char(&v, ',') < 0 ||
	    v.n != sizeof(shape) - 1)
		return WSD_EINVAL;
	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if (shape[i] == 'd' ? !(c >= '0' && c <= '9') : c != shape[i])
			return WSD_EINVAL;
		iso[i] = shape[i] == ' ' ? 'T' : (char)c;
	}
	iso[v.n] = 'Z';
	/* The calendar check is xs:dateTime's: real dates, hours 00-23. */
	if (soap_datetime_parse((struct sv){ iso, v.n + 1 }, &dt, &err) < 0)
		return WSD_EINVAL;
	out->an_gen = gen;
	out->an_ms = dt.dt_sec * 1000 + (int64_t)(dt.dt_frac / 10000);
	return 0;
}

int
sss_anchor_format(const struct sss_anchor *a, char out[SSS_ANCHOR_MAX])
{
	struct soap_datetime dt;
	char iso[SOAP_DATETIME_MAX];
	int64_t sec = a->an_ms / 1000, ms = a->an_ms % 1000;
	int n;

	if (ms < 0) {
		ms += 1000;
		sec--;
	}
	dt.dt_sec = sec;
	dt.dt_frac = 0;
	/* "YYYY-MM-DDThh:mm:ssZ" (no fraction at 0): keep date and time. */
	if (soap_datetime_format(&dt, iso) != 20)
		return WSD_EINVAL;
	iso[10] = ' ';
	n = snprintf(out, SSS_ANCHOR_MAX, "%llu,%.19s.%03d",
	    (unsigned long long)a->an_gen, iso, (int)ms);
	if (n < 0 || n >= SSS_ANCHOR_MAX)
		return WSD_EINVAL;
	return 0;
}
