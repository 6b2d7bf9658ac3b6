/*
 * Driver metadata in core fragments (fragment.h "Driver metadata"): the
 * d.WindowsDriverMetaData entries a driver revision carries under
 * ApplicabilityRules/Metadata, which the server matches devices on
 * (MS-WUSP 3.1.1.1). Built for wsusutil publish --driver, parsed from
 * every driver revision stored (import, sync, publish).
 *
 * The shape is Microsoft's (a real Intel Bluetooth driver, 2022):
 *
 *   <ApplicabilityRules><IsInstalled><d.WindowsDriverInstalled />
 *   </IsInstalled><IsSuperseded><d.WindowsDriverSuperseded />
 *   </IsSuperseded><IsInstallable><d.WindowsDriverInstallable />
 *   </IsInstallable><Metadata><d.WindowsDriverMetaData HardwareID="..."
 *   DriverVerDate="2022-05-30" DriverVerVersion="22.150.0.6"
 *   WhqlDriverID="0" Class="..." Company="..." Provider="..."
 *   Manufacturer="..." Model="..."><d.FeatureScore FeatureScore="FF"
 *   OperatingSystem="amd64.10.0" /><d.DistributionComputerHardwareId>
 *   3962b55f-...</d.DistributionComputerHardwareId>
 *   </d.WindowsDriverMetaData></Metadata></ApplicabilityRules>
 *
 * (one line in the fragment). Microsoft writes every attribute, so the
 * builder does too, empty strings included.
 */
#include "catalog/fragment.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "catalog/fragment_int.h"
#include "common/encode.h"
#include "common/strparse.h"

#define DRV_STR_(x) #x
#define DRV_STR(x)  DRV_STR_(x)

#define MD_ELEM "d.WindowsDriverMetaData"
#define FS_ELEM "d.FeatureScore"
#define DC_ELEM "d.DistributionComputerHardwareId"
#define TC_ELEM "d.TargetComputerHardwareId"

/* Error texts name the element, the attribute and, for bounds, the limit. */
#define MSG_ENTRIES                                                            \
	"more than " DRV_STR(FRAGMENT_DRIVER_MAX_ENTRIES) " driver entries"
#define MSG_NO_HWID MD_ELEM ": missing HardwareID"
#define MSG_HWID                                                               \
	MD_ELEM ": HardwareID longer than " DRV_STR(                           \
	    FRAGMENT_DRIVER_ID_MAX) " bytes (FRAGMENT_DRIVER_ID_MAX)"
#define MSG_DATE    MD_ELEM ": bad DriverVerDate"
#define MSG_VERSION MD_ELEM ": bad DriverVerVersion"
#define MSG_WHQL    MD_ELEM ": bad WhqlDriverID"
#define MSG_STR                                                                \
	MD_ELEM ": a string attribute longer than " DRV_STR(                   \
	    FRAGMENT_DRIVER_STR_MAX) " bytes"
#define MSG_SCORES                                                             \
	MD_ELEM ": more than " DRV_STR(FRAGMENT_DRIVER_MAX_SCORES) " scores"
#define MSG_CHIDS                                                              \
	MD_ELEM ": more than " DRV_STR(FRAGMENT_DRIVER_MAX_CHIDS) " CHIDs"
#define MSG_NO_OS FS_ELEM ": missing OperatingSystem"
#define MSG_OS                                                                 \
	FS_ELEM ": OperatingSystem longer than " DRV_STR(                      \
	    FRAGMENT_DRIVER_OS_MAX) " bytes (FRAGMENT_DRIVER_OS_MAX)"
#define MSG_SCORE FS_ELEM ": bad FeatureScore"
#define MSG_DC    DC_ELEM ": bad GUID"
#define MSG_TC    TC_ELEM ": bad GUID"
#define MSG_NOMEM "driver metadata: out of memory"

/* ------------------------------------------------------------------ */
/* Versions and dates                                                  */

int
fragment_driver_version_parse(const char *s, uint64_t *out)
{
	struct sv v;
	uint64_t part, acc = 0;

	if (s == NULL)
		return WSD_EINVAL;
	v = sv_from_cstr(s);
	/* Digits only: no sign, no space, no empty part (strparse_u64). */
	for (int i = 0; i < 4; i++) {
		if (strparse_u64(&v, 0xffff, &part) < 0 ||
		    (i < 3 && strparse_char(&v, '.') < 0))
			return WSD_EINVAL;
		acc = acc << 16 | part;
	}
	if (v.n != 0)
		return WSD_EINVAL;
	*out = acc;
	return 0;
}

void
fragment_driver_version_format(uint64_t version, char *buf, size_t size)
{
	if (size == 0)
		return;
	snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(version >> 48 & 0xffff),
	    (unsigned)(version >> 32 & 0xffff),
	    (unsigned)(version >> 16 & 0xffff), (unsigned)(version & 0xffff));
}

/* Proleptic Gregorian, as xs:date. */
static bool
date_valid(unsigned y, unsigned m, unsigned d)
{
	static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };
	unsigned dim;

	if (y < 1 || y > 9999 || m < 1 || m > 12)
		return false;
	dim = mdays[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		dim = 29;
	return d >= 1 && d <= dim;
}

int
fragment_driver_date_parse(const char *s, int32_t *out)
{
	static const int width[] = { 4, 2, 2 };
	unsigned v[3] = { 0, 0, 0 };
	const char *p = s;

	/* Exactly yyyy-mm-dd: no time zone, no sign, no short year. */
	if (s == NULL || strlen(s) != 10)
		return WSD_EINVAL;
	for (int i = 0; i < 3; i++) {
		for (int k = 0; k < width[i]; k++, p++) {
			if (*p < '0' || *p > '9')
				return WSD_EINVAL;
			v[i] = v[i] * 10 + (unsigned)(*p - '0');
		}
		if (i < 2 && *p++ != '-')
			return WSD_EINVAL;
	}
	if (!date_valid(v[0], v[1], v[2]))
		return WSD_EINVAL;
	*out = (int32_t)(v[0] * 10000 + v[1] * 100 + v[2]);
	return 0;
}

int
fragment_driver_date_format(int32_t date, char *buf, size_t size)
{
	unsigned y, m, d;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (date <= 0)
		return -1;
	y = (unsigned)date / 10000;
	m = (unsigned)date / 100 % 100;
	d = (unsigned)date % 100;
	if (!date_valid(y, m, d) || size < 11)
		return -1;
	snprintf(buf, size, "%04u-%02u-%02u", y, m, d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Builder                                                             */

static const char *
str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static int
chids_check(const struct fragment_guid *g, size_t n, const char *bad,
    struct wsd_err *err)
{
	char norm[37];

	if (n > FRAGMENT_DRIVER_MAX_CHIDS)
		return wsd_fail(err, WSD_ETOOBIG, MSG_CHIDS);
	if (n > 0 && g == NULL)
		return wsd_fail(err, WSD_EINVAL, "CHID count without array");
	for (size_t i = 0; i < n; i++)
		if (memchr(g[i].s, '\0', sizeof(g[i].s)) == NULL ||
		    guid_normalize(g[i].s, norm) < 0)
			return wsd_fail(err, WSD_EINVAL, bad);
	return 0;
}

/* Everything the builder writes from one entry, checked before writing. */
static int
entry_check(const struct fragment_driver *d, struct wsd_err *err)
{
	const char *const strs[] = { d->driver_class, d->company, d->provider,
		d->manufacturer, d->model };
	char date[11];
	int rc;

	if (d->hardware_id == NULL || d->hardware_id[0] == '\0')
		return wsd_fail(err, WSD_EINVAL, MSG_NO_HWID);
	if (strlen(d->hardware_id) > FRAGMENT_DRIVER_ID_MAX)
		return wsd_fail(err, WSD_ETOOBIG, MSG_HWID);
	if (fragment_driver_date_format(d->date, date, sizeof(date)) < 0)
		return wsd_fail(err, WSD_EINVAL, MSG_DATE);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i] != NULL &&
		    strlen(strs[i]) > FRAGMENT_DRIVER_STR_MAX)
			return wsd_fail(err, WSD_ETOOBIG, MSG_STR);
	if (d->n_scores > FRAGMENT_DRIVER_MAX_SCORES)
		return wsd_fail(err, WSD_ETOOBIG, MSG_SCORES);
	if (d->n_scores > 0 && d->scores == NULL)
		return wsd_fail(err, WSD_EINVAL, "score count without array");
	for (size_t i = 0; i < d->n_scores; i++) {
		size_t n = strnlen(d->scores[i].os, sizeof(d->scores[i].os));

		if (n == 0)
			return wsd_fail(err, WSD_EINVAL, MSG_NO_OS);
		if (n > FRAGMENT_DRIVER_OS_MAX)
			return wsd_fail(err, WSD_ETOOBIG, MSG_OS);
	}
	if ((rc = chids_check(d->dist_chids, d->n_dist_chids, MSG_DC, err)) <
		0 ||
	    (rc = chids_check(d->target_chids, d->n_target_chids, MSG_TC,
		 err)) < 0)
		return rc;
	return 0;
}

static void
e_chids(struct emit *e, const char *elem, const struct fragment_guid *g,
    size_t n)
{
	char norm[37];

	for (size_t i = 0; i < n; i++) {
		if (guid_normalize(g[i].s, norm) < 0) {
			/* entry_check passed: cannot happen. */
			frag_e_fail(e, WSD_EINTERNAL, "driver CHID changed");
			return;
		}
		frag_e_raw(e, "<");
		frag_e_raw(e, elem);
		frag_e_raw(e, ">");
		frag_e_raw(e, norm);
		frag_e_raw(e, "</");
		frag_e_raw(e, elem);
		frag_e_raw(e, ">");
	}
}

static void
e_entry(struct emit *e, const struct fragment_driver *d)
{
	char date[11], ver[24], num[16], os[FRAGMENT_DRIVER_OS_MAX + 1];

	if (fragment_driver_date_format(d->date, date, sizeof(date)) < 0) {
		frag_e_fail(e, WSD_EINVAL, MSG_DATE);
		return;
	}
	fragment_driver_version_format(d->version, ver, sizeof(ver));
	snprintf(num, sizeof(num), "%" PRIu32, d->whql_id);
	frag_e_raw(e, "<" MD_ELEM);
	frag_e_attr(e, "HardwareID", d->hardware_id);
	frag_e_attr(e, "DriverVerDate", date);
	frag_e_attr(e, "DriverVerVersion", ver);
	frag_e_attr(e, "WhqlDriverID", num);
	frag_e_attr(e, "Class", str_or_empty(d->driver_class));
	frag_e_attr(e, "Company", str_or_empty(d->company));
	frag_e_attr(e, "Provider", str_or_empty(d->provider));
	frag_e_attr(e, "Manufacturer", str_or_empty(d->manufacturer));
	frag_e_attr(e, "Model", str_or_empty(d->model));
	if (d->n_scores + d->n_dist_chids + d->n_target_chids == 0) {
		frag_e_raw(e, " />");
		return;
	}
	frag_e_raw(e, ">");
	for (size_t i = 0; i < d->n_scores; i++) {
		/* entry_check bounded it; copied so it is terminated. */
		memcpy(os, d->scores[i].os, sizeof(os) - 1);
		os[sizeof(os) - 1] = '\0';
		snprintf(num, sizeof(num), "%02X",
		    (unsigned)d->scores[i].score);
		frag_e_raw(e, "<" FS_ELEM);
		frag_e_attr(e, "FeatureScore", num);
		frag_e_attr(e, "OperatingSystem", os);
		frag_e_raw(e, " />");
	}
	e_chids(e, DC_ELEM, d->dist_chids, d->n_dist_chids);
	e_chids(e, TC_ELEM, d->target_chids, d->n_target_chids);
	frag_e_raw(e, "</" MD_ELEM ">");
}

void
frag_emit_driver_rules(struct emit *e, const struct fragment_driver *d,
    size_t n)
{
	int rc;

	if (e->rc != 0)
		return;
	if (n == 0 || d == NULL) {
		frag_e_fail(e, WSD_EINVAL, "driver update without driver metadata");
		return;
	}
	if (n > FRAGMENT_DRIVER_MAX_ENTRIES) {
		frag_e_fail(e, WSD_ETOOBIG, MSG_ENTRIES);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = entry_check(&d[i], e->err)) < 0) {
			e->rc = rc; /* e->err already says why */
			return;
		}
	frag_e_raw(e,
	    "<ApplicabilityRules>"
	    "<IsInstalled><d.WindowsDriverInstalled /></IsInstalled>"
	    "<IsSuperseded><d.WindowsDriverSuperseded /></IsSuperseded>"
	    "<IsInstallable><d.WindowsDriverInstallable /></IsInstallable>"
	    "<Metadata>");
	for (size_t i = 0; i < n && e->rc == 0; i++)
		e_entry(e, &d[i]);
	frag_e_raw(e, "</Metadata></ApplicabilityRules>");
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */

void
fragment_drivers_release(struct fragment_driver *d, size_t n)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(d[i].hardware_id);
		free(d[i].driver_class);
		free(d[i].company);
		free(d[i].provider);
		free(d[i].manufacturer);
		free(d[i].model);
		free(d[i].target_chids);
		free(d[i].dist_chids);
		free(d[i].scores);
	}
	free(d);
}

static bool
is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && frag_is_name(n, name);
}

/* An optional string attribute: absent is "", at most MAX bytes. */
static int
dup_attr(const xmlNode *n, const char *name, size_t max, const char *toobig,
    char **out, struct wsd_err *err)
{
	const char *v = frag_attr_get(n, name);

	if (v == NULL)
		v = "";
	if (strlen(v) > max)
		return wsd_fail(err, WSD_ETOOBIG, toobig);
	if ((*out = strdup(v)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, MSG_NOMEM);
	return 0;
}

static bool
xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * A CHID: the GUID as ComputerHardwareIds prints it, with or without
 * braces, surrounding XML whitespace allowed; stored lower case.
 */
static int
parse_chid(const xmlNode *n, struct fragment_guid *g, const char *bad,
    struct wsd_err *err)
{
	char *text = NULL, tmp[37];
	const char *p;
	size_t len;
	int rc;

	if ((rc = frag_text_dup(n, &text, bad, err)) < 0)
		return rc;
	p = text;
	len = strlen(p);
	while (len > 0 && xml_space(*p)) {
		p++;
		len--;
	}
	while (len > 0 && xml_space(p[len - 1]))
		len--;
	if (len == 38 && p[0] == '{' && p[37] == '}') {
		p++;
		len -= 2;
	}
	rc = 0;
	if (len != 36)
		rc = -1;
	if (rc == 0) {
		memcpy(tmp, p, 36);
		tmp[36] = '\0';
		rc = guid_normalize(tmp, g->s);
	}
	free(text);
	if (rc < 0)
		return wsd_fail(err, WSD_EINVAL, bad);
	return 0;
}

static int
parse_score(const xmlNode *n, struct fragment_driver_score *s,
    struct wsd_err *err)
{
	const char *os = frag_attr_get(n, "OperatingSystem");
	const char *fs = frag_attr_get(n, "FeatureScore");
	size_t len;
	int hi, lo;

	if (os == NULL || os[0] == '\0')
		return wsd_fail(err, WSD_EINVAL, MSG_NO_OS);
	if ((len = strlen(os)) > FRAGMENT_DRIVER_OS_MAX)
		return wsd_fail(err, WSD_ETOOBIG, MSG_OS);
	for (size_t i = 0; i < len; i++)
		s->os[i] =
		    (os[i] >= 'A' && os[i] <= 'Z') ? (char)(os[i] + 32) : os[i];
	s->os[len] = '\0';
	if (fs == NULL || (len = strlen(fs)) < 1 || len > 2)
		return wsd_fail(err, WSD_EINVAL, MSG_SCORE);
	hi = len == 2 ? hex_digit((unsigned char)fs[0]) : 0;
	lo = hex_digit((unsigned char)fs[len - 1]);
	if (hi < 0 || lo < 0)
		return wsd_fail(err, WSD_EINVAL, MSG_SCORE);
	s->score = (uint8_t)(hi << 4 | lo);
	return 0;
}

/* Allocates N zeroed elements of SIZE (N bounded by the caller). */
static int
alloc_n(size_t n, size_t size, void **out, struct wsd_err *err)
{
	*out = NULL;
	if (n == 0)
		return 0;
	if ((*out = calloc(n, size)) == NULL)
		return wsd_fail(err, WSD_ENOMEM, MSG_NOMEM);
	return 0;
}

static int
parse_entry(const xmlNode *n, struct fragment_driver *d, struct wsd_err *err)
{
	const char *v;
	size_t ns = 0, nd = 0, nt = 0;
	uint64_t w;
	void *p;
	int rc;

	v = frag_attr_get(n, "HardwareID");
	if (v == NULL || v[0] == '\0')
		return wsd_fail(err, WSD_EINVAL, MSG_NO_HWID);
	if ((rc = dup_attr(n, "HardwareID", FRAGMENT_DRIVER_ID_MAX, MSG_HWID,
		 &d->hardware_id, err)) < 0)
		return rc;
	if (fragment_driver_date_parse(frag_attr_get(n, "DriverVerDate"), &d->date) <
	    0)
		return wsd_fail(err, WSD_EINVAL, MSG_DATE);
	if (fragment_driver_version_parse(frag_attr_get(n, "DriverVerVersion"),
		&d->version) < 0)
		return wsd_fail(err, WSD_EINVAL, MSG_VERSION);
	if ((v = frag_attr_get(n, "WhqlDriverID")) != NULL) {
		if (strparse_u64_all(v, 0, UINT32_MAX, &w) < 0)
			return wsd_fail(err, WSD_EINVAL, MSG_WHQL);
		d->whql_id = (uint32_t)w;
	}
	if ((rc = dup_attr(n, "Class", FRAGMENT_DRIVER_STR_MAX, MSG_STR,
		 &d->driver_class, err)) < 0 ||
	    (rc = dup_attr(n, "Company", FRAGMENT_DRIVER_STR_MAX, MSG_STR,
		 &d->company, err)) < 0 ||
	    (rc = dup_attr(n, "Provider", FRAGMENT_DRIVER_STR_MAX, MSG_STR,
		 &d->provider, err)) < 0 ||
	    (rc = dup_attr(n, "Manufacturer", FRAGMENT_DRIVER_STR_MAX, MSG_STR,
		 &d->manufacturer, err)) < 0 ||
	    (rc = dup_attr(n, "Model", FRAGMENT_DRIVER_STR_MAX, MSG_STR,
		 &d->model, err)) < 0)
		return rc;

	/* Count first, so each list is bounded before it is allocated. */
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (is_elem(c, FS_ELEM) && ++ns > FRAGMENT_DRIVER_MAX_SCORES)
			return wsd_fail(err, WSD_ETOOBIG, MSG_SCORES);
		if ((is_elem(c, DC_ELEM) && ++nd > FRAGMENT_DRIVER_MAX_CHIDS) ||
		    (is_elem(c, TC_ELEM) && ++nt > FRAGMENT_DRIVER_MAX_CHIDS))
			return wsd_fail(err, WSD_ETOOBIG, MSG_CHIDS);
	}
	if ((rc = alloc_n(ns, sizeof(*d->scores), &p, err)) < 0)
		return rc;
	d->scores = p;
	if ((rc = alloc_n(nd, sizeof(*d->dist_chids), &p, err)) < 0)
		return rc;
	d->dist_chids = p;
	if ((rc = alloc_n(nt, sizeof(*d->target_chids), &p, err)) < 0)
		return rc;
	d->target_chids = p;

	/* Other children (CompatibleProvider, ...) are skipped. */
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (is_elem(c, FS_ELEM))
			rc = parse_score(c, &d->scores[d->n_scores++], err);
		else if (is_elem(c, DC_ELEM))
			rc = parse_chid(c, &d->dist_chids[d->n_dist_chids++],
			    MSG_DC, err);
		else if (is_elem(c, TC_ELEM))
			rc = parse_chid(c,
			    &d->target_chids[d->n_target_chids++], MSG_TC, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
fragment_parse_drivers(const char *xml, size_t len,
    struct fragment_driver **out, size_t *n, struct wsd_err *err)
{
	struct fragment_core_info ci;
	struct fragment_driver *d = NULL;
	const xmlNode *rules = NULL;
	size_t count = 0, k = 0;
	xmlDoc *doc;
	void *p;
	int rc;

	*out = NULL;
	*n = 0;
	/*
	 * The whole fragment gets fragment_parse_core's checks and errors
	 * (one more parse of at most 1 MiB); then only
	 * ApplicabilityRules/Metadata is read.
	 */
	if ((rc = fragment_parse_core(xml, len, &ci, err)) < 0)
		return rc;
	fragment_core_info_release(&ci);
	if ((rc = frag_read(xml, len, WSD_MAX_FRAGMENT_DEPTH, false, &doc,
		 err)) < 0)
		return rc;
	for (const xmlNode *c = xmlDocGetRootElement(doc)->children; c != NULL;
	     c = c->next)
		if (is_elem(c, "ApplicabilityRules"))
			rules = c;
	for (const xmlNode *m = rules != NULL ? rules->children : NULL;
	     m != NULL; m = m->next) {
		if (!is_elem(m, "Metadata"))
			continue;
		for (const xmlNode *c = m->children; c != NULL; c = c->next)
			if (is_elem(c, MD_ELEM) &&
			    ++count > FRAGMENT_DRIVER_MAX_ENTRIES) {
				rc = wsd_fail(err, WSD_ETOOBIG, MSG_ENTRIES);
				count = 0;
				goto fail;
			}
	}
	if ((rc = alloc_n(count, sizeof(*d), &p, err)) < 0) {
		count = 0;
		goto fail;
	}
	d = p;
	for (const xmlNode *m = rules != NULL ? rules->children : NULL;
	     m != NULL; m = m->next) {
		if (!is_elem(m, "Metadata"))
			continue;
		for (const xmlNode *c = m->children; c != NULL; c = c->next)
			if (is_elem(c, MD_ELEM) &&
			    (rc = parse_entry(c, &d[k++], err)) < 0)
				goto fail;
	}
	xmlFreeDoc(doc);
	*out = d;
	*n = count;
	return 0;
fail:
	fragment_drivers_release(d, count);
	xmlFreeDoc(doc);
	return rc;
}
