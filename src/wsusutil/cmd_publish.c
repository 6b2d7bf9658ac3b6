/*
 * wsusutil publish: local publishing, what WSUS offers only through its
 * API and SCUP. Signs each package with the publishing certificate,
 * stores it in the verified content store, builds the update's fragments
 * in the shape Windows agents accept, and records it in one transaction.
 *
 * Order for crash safety: content first (atomic, verified), then one
 * database transaction. A kill in between leaves an unreferenced content
 * file, which cleanup --unneeded-content removes; never a revision whose
 * file is missing or half-written.
 *
 * With --driver the update is a Driver update (docs/DRIVERS.md): the
 * WindowsDriver handler installs the package, and the applicability is
 * the d.WindowsDriverMetaData entries the server matches devices on, one
 * per --driver hardware ID, all sharing the other --driver-* values.
 */
#include "wsusutil/wsusutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog/applicability.h"
#include "catalog/fragment.h"
#include "catalog/sign.h"
#include "common/encode.h"
#include "common/fileio.h"
#include "common/sbuf.h"
#include "common/strparse.h"
#include "common/testhook.h"
#include "config/config.h"
#include "content/content_store.h"
#include "net/tls_cert.h"
#include "store/store.h"

#define PUBLISH_MAX_FILES 64
#define PUBLISH_MAX_REFS 256 /* --supersedes plus --prerequisite */
#define PUBLISH_REVISION 100 /* WSUS numbers revisions from 100 */
#define PUBLISH_MAX_APPLICABILITY (64 * 1024)
#define FRAGMENT_CAP (4 * 1024 * 1024)
#define PUBLISH_MAX_DRIVERS 64 /* --driver, one metadata entry each */
#define DRIVERS_CLASSIFICATION "ebfc1fc5-71a4-4f7b-9aca-3b9a503104a0"

_Static_assert(PUBLISH_MAX_DRIVERS == 64 && FRAGMENT_DRIVER_MAX_CHIDS == 256 &&
	FRAGMENT_DRIVER_MAX_SCORES == 64 && FRAGMENT_DRIVER_ID_MAX == 200 &&
	FRAGMENT_DRIVER_STR_MAX == 256,
    "messages below say these numbers");

struct publish_args {
	const char *files[PUBLISH_MAX_FILES];
	unsigned n_files;
	const char *title, *product, *classification, *kb, *severity;
	const char *description, *applicability, *arguments, *vendor;
	const char *supersedes[PUBLISH_MAX_REFS];
	unsigned n_supersedes;
	const char *prereqs[PUBLISH_MAX_REFS];
	unsigned n_prereqs;
	/* --driver: argv's own strings (fragment_driver wants char *) */
	char *drivers[PUBLISH_MAX_DRIVERS];
	unsigned n_drivers;
	const char *driver_date, *driver_version, *driver_class;
	const char *driver_provider, *driver_manufacturer, *driver_company;
	const char *driver_model;
	const char *target_chids[FRAGMENT_DRIVER_MAX_CHIDS];
	unsigned n_target_chids;
	const char *dist_chids[FRAGMENT_DRIVER_MAX_CHIDS];
	unsigned n_dist_chids;
	const char *scores[FRAGMENT_DRIVER_MAX_SCORES];
	unsigned n_scores;
	const char *too_many; /* a repeated option given too often */
};

/* A driver update's metadata entries, built from publish_args. */
struct publish_driver {
	struct fragment_driver entries[PUBLISH_MAX_DRIVERS];
	struct fragment_guid target[FRAGMENT_DRIVER_MAX_CHIDS];
	struct fragment_guid dist[FRAGMENT_DRIVER_MAX_CHIDS];
	struct fragment_driver_score scores[FRAGMENT_DRIVER_MAX_SCORES];
	char driver_class[FRAGMENT_DRIVER_STR_MAX + 1];
	char provider[FRAGMENT_DRIVER_STR_MAX + 1];
	char manufacturer[FRAGMENT_DRIVER_STR_MAX + 1];
	char company[FRAGMENT_DRIVER_STR_MAX + 1];
	char model[FRAGMENT_DRIVER_STR_MAX + 1];
};

static const char CMD[] = "publish";

static int
usage(void)
{
	fprintf(stderr,
	    "usage: wsusutil publish FILE... --title T --product P "
	    "--classification C\n"
	    "         [--kb N] [--severity Critical|Important|Moderate|Low] "
	    "[--description D]\n"
	    "         [--supersedes UPDATEID]... [--prerequisite UPDATEID]... "
	    "[--applicability FILE]\n"
	    "         [--arguments ARGS] [--vendor NAME]\n"
	    "       wsusutil publish FILE... --driver HWID... --driver-date "
	    "YYYY-MM-DD\n"
	    "         --driver-version A.B.C.D --title T --product P "
	    "[--classification Drivers]\n"
	    "         [--driver-class C] [--driver-provider P] "
	    "[--driver-manufacturer M]\n"
	    "         [--driver-company C] [--driver-model M] "
	    "[--target-chid GUID]...\n"
	    "         [--distribution-chid GUID]... [--feature-score OS=HH]... "
	    "[--vendor NAME]\n"
	    "         [--kb N] [--severity S] [--description D] "
	    "[--supersedes ID]... [--prerequisite ID]...\n");
	return 2;
}

/* Appends V to a repeated option's list; past MAX notes TOO_MANY. */
static void
add_repeated(struct publish_args *a, const char **list, unsigned *n,
    unsigned max, const char *v, const char *too_many)
{
	if (*n == max) {
		a->too_many = too_many;
		return;
	}
	list[(*n)++] = v;
}

static int
parse_args(int argc, char **argv, struct publish_args *a)
{
	memset(a, 0, sizeof(*a));
	a->vendor = "Local Publisher";
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (o[0] != '-') {
			if (a->n_files == PUBLISH_MAX_FILES)
				return -1;
			a->files[a->n_files++] = o;
			continue;
		}
		if (v == NULL)
			return -1;
		i++;
		if (strcmp(o, "--title") == 0)
			a->title = v;
		else if (strcmp(o, "--product") == 0)
			a->product = v;
		else if (strcmp(o, "--classification") == 0)
			a->classification = v;
		else if (strcmp(o, "--kb") == 0)
			a->kb = v;
		else if (strcmp(o, "--severity") == 0)
			a->severity = v;
		else if (strcmp(o, "--description") == 0)
			a->description = v;
		else if (strcmp(o, "--applicability") == 0)
			a->applicability = v;
		else if (strcmp(o, "--arguments") == 0)
			a->arguments = v;
		else if (strcmp(o, "--vendor") == 0)
			a->vendor = v;
		else if (strcmp(o, "--supersedes") == 0 &&
		    a->n_supersedes + a->n_prereqs < PUBLISH_MAX_REFS)
			a->supersedes[a->n_supersedes++] = v;
		else if (strcmp(o, "--prerequisite") == 0 &&
		    a->n_supersedes + a->n_prereqs < PUBLISH_MAX_REFS)
			a->prereqs[a->n_prereqs++] = v;
		else if (strcmp(o, "--driver") == 0 &&
		    a->n_drivers < PUBLISH_MAX_DRIVERS)
			a->drivers[a->n_drivers++] = argv[i]; /* == v */
		else if (strcmp(o, "--driver") == 0)
			a->too_many = "more than 64 --driver options";
		else if (strcmp(o, "--driver-date") == 0)
			a->driver_date = v;
		else if (strcmp(o, "--driver-version") == 0)
			a->driver_version = v;
		else if (strcmp(o, "--driver-class") == 0)
			a->driver_class = v;
		else if (strcmp(o, "--driver-provider") == 0)
			a->driver_provider = v;
		else if (strcmp(o, "--driver-manufacturer") == 0)
			a->driver_manufacturer = v;
		else if (strcmp(o, "--driver-company") == 0)
			a->driver_company = v;
		else if (strcmp(o, "--driver-model") == 0)
			a->driver_model = v;
		else if (strcmp(o, "--target-chid") == 0)
			add_repeated(a, a->target_chids, &a->n_target_chids,
			    FRAGMENT_DRIVER_MAX_CHIDS, v,
			    "more than 256 --target-chid options");
		else if (strcmp(o, "--distribution-chid") == 0)
			add_repeated(a, a->dist_chids, &a->n_dist_chids,
			    FRAGMENT_DRIVER_MAX_CHIDS, v,
			    "more than 256 --distribution-chid options");
		else if (strcmp(o, "--feature-score") == 0)
			add_repeated(a, a->scores, &a->n_scores,
			    FRAGMENT_DRIVER_MAX_SCORES, v,
			    "more than 64 --feature-score options");
		else
			return -1;
	}
	/* A driver update's classification is Drivers; it may go unsaid. */
	if (a->n_drivers > 0 && a->classification == NULL)
		a->classification = "Drivers";
	if (a->n_files == 0 || a->title == NULL || a->product == NULL ||
	    a->classification == NULL)
		return -1;
	return 0;
}

static int
severity_of(const char *s, enum fragment_severity *out)
{
	static const struct {
		const char *name;
		enum fragment_severity v;
	} t[] = { { "Critical", FRAGMENT_SEVERITY_CRITICAL },
		{ "Important", FRAGMENT_SEVERITY_IMPORTANT },
		{ "Moderate", FRAGMENT_SEVERITY_MODERATE },
		{ "Low", FRAGMENT_SEVERITY_LOW } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0) {
			*out = t[i].v;
			return 0;
		}
	return -1;
}

static int
noop_cb(void *arg, const struct store_revision_out *o)
{
	(void)arg;
	(void)o;
	return 0;
}

/* The metadata FileName: the base name, printable, no separators. */
static const char *
file_name_of(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (*b == '\0' || strlen(b) > 255 || strcmp(b, ".") == 0 ||
	    strcmp(b, "..") == 0)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)b; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return NULL;
	return b;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A category revision (company or product) built and stored. */
static int
put_category(struct store *st, const char *id, enum fragment_category_type t,
    const char *parent, const char *title, struct wsd_err *err)
{
	struct fragment_category c = { .update_id = id,
		.revision_number = PUBLISH_REVISION, .type = t,
		.parent_id = parent,
		.prohibits_subcategories = t == FRAGMENT_CAT_COMPANY ?
		    FRAGMENT_FALSE : FRAGMENT_TRUE,
		.prohibits_updates = t == FRAGMENT_CAT_COMPANY ?
		    FRAGMENT_TRUE : FRAGMENT_FALSE };
	struct sbuf core, ext, loc;
	struct store_localized l;
	struct store_prereq p = { 0, parent, true };
	const char *cats[1] = { parent };
	struct store_revision_in in;
	int64_t rid;
	bool existed;
	int rc;

	sbuf_init(&core, FRAGMENT_CAP);
	sbuf_init(&ext, FRAGMENT_CAP);
	sbuf_init(&loc, FRAGMENT_CAP);
	if ((rc = fragment_build_category_core(&core, &c, err)) < 0 ||
	    (rc = fragment_build_category_extended(&ext, &c, err)) < 0 ||
	    (rc = fragment_build_category_localized(&loc, "en", title, title,
		 err)) < 0)
		goto out;
	memset(&in, 0, sizeof(in));
	in.update_id = id;
	in.revision_number = PUBLISH_REVISION;
	in.update_type = "Category";
	in.category_type = fragment_category_type_name(t);
	in.origin = "local";
	in.title = title;
	in.xml_core = core.sb_buf;
	in.xml_core_len = core.sb_len;
	in.xml_extended = ext.sb_buf;
	in.xml_extended_len = ext.sb_len;
	l = (struct store_localized){ "en", title, loc.sb_buf, loc.sb_len };
	in.n_localized = 1;
	in.localized = &l;
	if (parent != NULL) {
		in.n_categories = 1;
		in.categories = cats;
		in.n_prereqs = 1;
		in.prereqs = &p;
	}
	rc = store_revision_put(st, &in, &rid, &existed, err);
out:
	sbuf_release(&core);
	sbuf_release(&ext);
	sbuf_release(&loc);
	return rc;
}

/* The product's GUID, creating it (and the vendor company) if new. */
static int
product_id(struct store *st, const struct publish_args *a, char out[37],
    struct wsd_err *err)
{
	char company[37];
	int rc;

	rc = store_category_find(st, "Product", a->product, out, err);
	if (rc != WSD_ENOTFOUND)
		return rc;
	rc = store_category_find(st, "Company", a->vendor, company, err);
	if (rc == WSD_ENOTFOUND) {
		if ((rc = guid_generate(company, err)) < 0 ||
		    (rc = put_category(st, company, FRAGMENT_CAT_COMPANY, NULL,
			 a->vendor, err)) < 0)
			return rc;
	} else if (rc < 0) {
		return rc;
	}
	if ((rc = guid_generate(out, err)) < 0)
		return rc;
	return put_category(st, out, FRAGMENT_CAT_PRODUCT, company, a->product,
	    err);
}

struct signed_file {
	const char *name;
	struct content_hashes h;
	int64_t modified;
	char iso[32];
};

/* Signs FILE into WORKDIR, checks the signature, stores the result. */
static int
sign_and_store(const char *datadir, const char *workdir, const char *crt,
    const char *key, const char *file, const char *title,
    struct signed_file *sf, struct wsd_err *err)
{
	struct content_expect ce;
	struct content_added added;
	char out[4096];
	struct stat sb;
	struct tm tm;
	int fd, rc;

	if ((sf->name = file_name_of(file)) == NULL)
		return wsd_fail(err, WSD_EINVAL, "package file name not usable");
	if (stat(file, &sb) < 0)
		return wsd_fail(err, WSD_ENOTFOUND, "cannot read package file");
	if (!S_ISREG(sb.st_mode))
		return wsd_fail(err, WSD_EINVAL, "package is not a regular file");
	if (access(file, R_OK) < 0)
		return wsd_fail(err, WSD_EPERM, "cannot read package file");
	snprintf(out, sizeof(out), "%s/%s", workdir, sf->name);
	if ((rc = sign_file(file, out, crt, key, title, err)) < 0 ||
	    (rc = sign_verify(out, crt, err)) < 0)
		return rc;
	if ((fd = open(out, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return wsd_fail(err, WSD_EIO, "cannot read signed package");
	rc = content_hash_fd(fd, UINT64_MAX / 2, &sf->h, err);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) != 0)
		rc = wsd_fail(err, WSD_EIO, "cannot read signed package");
	if (rc == 0) {
		memset(&ce, 0, sizeof(ce));
		memcpy(ce.sha1, sf->h.sha1, 20);
		memcpy(ce.sha256, sf->h.sha256, 32);
		ce.has_sha256 = true;
		ce.size = sf->h.size;
		ce.has_size = true;
		ce.filename = sf->name;
		rc = content_store_add_fd(datadir, fd, &ce, &added, err);
	}
	close(fd);
	sf->modified = (int64_t)time(NULL);
	gmtime_r(&(time_t){ (time_t)sf->modified }, &tm);
	strftime(sf->iso, sizeof(sf->iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return rc;
}

/* Control characters (the fragment builder refuses them too, but only
 * after the packages are signed and stored). */
static bool
has_control(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* Copies option OPT's value V into OUT; -1 after a message if unfit. */
static int
driver_str(const char *opt, const char *v,
    char out[FRAGMENT_DRIVER_STR_MAX + 1])
{
	size_t n = strlen(v);

	if (n > FRAGMENT_DRIVER_STR_MAX || has_control(v)) {
		fprintf(stderr,
		    "wsusutil: publish: %s is longer than 256 bytes or has "
		    "control characters\n",
		    opt);
		return -1;
	}
	memcpy(out, v, n + 1);
	return 0;
}

/* A CHID as ComputerHardwareIds prints it, with or without braces. */
static int
chid_of(const char *v, struct fragment_guid *g)
{
	char tmp[37];

	if (strlen(v) == 38 && v[0] == '{' && v[37] == '}') {
		memcpy(tmp, v + 1, 36);
		tmp[36] = '\0';
		v = tmp;
	}
	return guid_normalize(v, g->s);
}

/* OS=HH (amd64.10.0=FF): the OS lower case, HH one or two hex digits. */
static int
score_of(const char *v, struct fragment_driver_score *s)
{
	const char *eq = strrchr(v, '=');
	size_t n, k;
	int hi, lo;

	if (eq == NULL || (n = (size_t)(eq - v)) == 0 ||
	    n > FRAGMENT_DRIVER_OS_MAX)
		return -1;
	k = strlen(eq + 1);
	if (k < 1 || k > 2)
		return -1;
	hi = k == 2 ? hex_digit((unsigned char)eq[1]) : 0;
	lo = hex_digit((unsigned char)eq[k]);
	if (hi < 0 || lo < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] <= ' ' || v[i] >= 0x7f)
			return -1;
		s->os[i] =
		    (v[i] >= 'A' && v[i] <= 'Z') ? (char)(v[i] + 32) : v[i];
	}
	s->os[n] = '\0';
	s->score = (uint8_t)(hi << 4 | lo);
	return 0;
}

/*
 * The metadata entries of a driver update, one per --driver, sharing
 * everything else; defaults: Class "Other Hardware", Provider,
 * Manufacturer and Company the --vendor, Model the --title. Returns 0,
 * or the exit status after a message naming the problem.
 */
static int
driver_build(const struct publish_args *a, struct publish_driver *pd)
{
	int32_t date;
	uint64_t version;

	memset(pd, 0, sizeof(*pd));
	if (a->applicability != NULL)
		return wsusutil_fail(CMD,
		    "--applicability cannot be used with --driver (a "
		    "driver applies to the devices its --driver IDs name)");
	if (a->arguments != NULL)
		return wsusutil_fail(CMD,
		    "--arguments cannot be used with --driver (the "
		    "WindowsDriver handler installs it, not a command line)");
	if (a->driver_date == NULL ||
	    fragment_driver_date_parse(a->driver_date, &date) < 0)
		return wsusutil_fail(CMD,
		    "--driver needs --driver-date YYYY-MM-DD (a real date)");
	if (a->driver_version == NULL ||
	    fragment_driver_version_parse(a->driver_version, &version) < 0)
		return wsusutil_fail(CMD,
		    "--driver needs --driver-version A.B.C.D (each part "
		    "0-65535)");
	if (driver_str("--driver-class",
		a->driver_class ? a->driver_class : "Other Hardware",
		pd->driver_class) < 0 ||
	    driver_str(a->driver_provider ? "--driver-provider" : "--vendor",
		a->driver_provider ? a->driver_provider : a->vendor,
		pd->provider) < 0 ||
	    driver_str(a->driver_manufacturer ? "--driver-manufacturer"
					      : "--vendor",
		a->driver_manufacturer ? a->driver_manufacturer : a->vendor,
		pd->manufacturer) < 0 ||
	    driver_str(a->driver_company ? "--driver-company" : "--vendor",
		a->driver_company ? a->driver_company : a->vendor,
		pd->company) < 0 ||
	    driver_str(a->driver_model ? "--driver-model"
				       : "--title (the default --driver-model)",
		a->driver_model ? a->driver_model : a->title, pd->model) < 0)
		return 1;
	for (unsigned i = 0; i < a->n_target_chids; i++)
		if (chid_of(a->target_chids[i], &pd->target[i]) < 0) {
			fprintf(stderr,
			    "wsusutil: publish: --target-chid is not a GUID: "
			    "%s\n",
			    a->target_chids[i]);
			return 1;
		}
	for (unsigned i = 0; i < a->n_dist_chids; i++)
		if (chid_of(a->dist_chids[i], &pd->dist[i]) < 0) {
			fprintf(stderr,
			    "wsusutil: publish: --distribution-chid is not a "
			    "GUID: %s\n",
			    a->dist_chids[i]);
			return 1;
		}
	for (unsigned i = 0; i < a->n_scores; i++)
		if (score_of(a->scores[i], &pd->scores[i]) < 0) {
			fprintf(stderr,
			    "wsusutil: publish: --feature-score must be OS=HH "
			    "(e.g. amd64.10.0=FF): %s\n",
			    a->scores[i]);
			return 1;
		}
	for (unsigned i = 0; i < a->n_drivers; i++) {
		struct fragment_driver *d = &pd->entries[i];

		if (a->drivers[i][0] == '\0' || has_control(a->drivers[i]))
			return wsusutil_fail(CMD,
			    "--driver: empty hardware ID or control "
			    "characters");
		if (strlen(a->drivers[i]) > FRAGMENT_DRIVER_ID_MAX) {
			fprintf(stderr,
			    "wsusutil: publish: --driver: hardware ID longer "
			    "than 200 bytes: %s\n",
			    a->drivers[i]);
			return 1;
		}
		d->hardware_id = a->drivers[i];
		d->date = date;
		d->version = version;
		d->driver_class = pd->driver_class;
		d->provider = pd->provider;
		d->manufacturer = pd->manufacturer;
		d->company = pd->company;
		d->model = pd->model;
		d->target_chids = pd->target;
		d->n_target_chids = a->n_target_chids;
		d->dist_chids = pd->dist;
		d->n_dist_chids = a->n_dist_chids;
		d->scores = pd->scores;
		d->n_scores = a->n_scores;
	}
	return 0;
}

static int
read_applicability(const char *path, struct sbuf *installed,
    struct sbuf *installable, struct wsd_err *err)
{
	char *text;
	size_t len, line = 0;
	int rc;

	if ((rc = fileio_read_small(path, PUBLISH_MAX_APPLICABILITY, &text,
		 &len, NULL, err)) < 0)
		return wsd_fail(err, rc, "cannot read the applicability file");
	rc = applicability_compile(text, len, installed, installable, &line,
	    err);
	if (rc < 0 && line > 0)
		fprintf(stderr, "wsusutil: publish: %s:%zu: %s\n", path, line,
		    err->what);
	free(text);
	return rc;
}

int
cmd_publish(const char *datadir, int argc, char **argv)
{
	struct signed_file sf[PUBLISH_MAX_FILES];
	struct fragment_file ff[PUBLISH_MAX_FILES];
	struct store_file stf[PUBLISH_MAX_FILES];
	struct fragment_clause clauses[PUBLISH_MAX_REFS + 2];
	struct fragment_prereq members[PUBLISH_MAX_REFS + 2];
	struct store_prereq sprereqs[PUBLISH_MAX_REFS + 2];
	static const struct fragment_return_code codes[] = {
		{ 0, FRAGMENT_RESULT_SUCCEEDED, FRAGMENT_FALSE },
		{ 3010, FRAGMENT_RESULT_SUCCEEDED, FRAGMENT_TRUE },
	};
	struct publish_args a;
	struct publish_driver pd;
	struct fragment_update fu;
	struct fragment_cmdline cl;
	struct fragment_localized fl;
	struct store_revision_in in;
	struct store_localized sl;
	struct sbuf core, ext, loc, inst, instable;
	char crt[4096], key[4096], workdir[4200] = "", cls[37], prod[37];
	char id[37];
	const char *cats[2];
	struct config *cf = NULL;
	struct store *st = NULL;
	struct wsd_err err;
	uint64_t total = 0;
	unsigned nclauses = 0;
	bool in_tx = false, existed;
	int64_t rid;
	int rc;

	if (parse_args(argc, argv, &a) < 0)
		return usage();
	if (a.too_many != NULL)
		return wsusutil_fail(CMD, a.too_many);
	if (a.n_drivers == 0 &&
	    (a.driver_date || a.driver_version || a.driver_class ||
		a.driver_provider || a.driver_manufacturer ||
		a.driver_company || a.driver_model || a.n_target_chids ||
		a.n_dist_chids || a.n_scores))
		return wsusutil_fail(CMD,
		    "--driver-*, --target-chid, --distribution-chid and "
		    "--feature-score need --driver");
	if (a.n_drivers > 0 && (rc = driver_build(&a, &pd)) != 0)
		return rc;
	sbuf_init(&core, FRAGMENT_CAP);
	sbuf_init(&ext, FRAGMENT_CAP);
	sbuf_init(&loc, FRAGMENT_CAP);
	sbuf_init(&inst, FRAGMENT_CAP);
	sbuf_init(&instable, FRAGMENT_CAP);
	memset(&fu, 0, sizeof(fu));
	if (a.severity && severity_of(a.severity, &fu.msrc_severity) < 0)
		return wsusutil_fail(CMD, "--severity must be Critical, "
					  "Important, Moderate or Low");
	if (a.kb) {
		uint64_t kb;

		if (strparse_u64_all(a.kb, 1, 99999999, &kb) < 0)
			return wsusutil_fail(CMD, "--kb must be a KB number");
	}
	if (a.applicability &&
	    read_applicability(a.applicability, &inst, &instable, &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	if (config_load(datadir, NULL, &cf, &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	snprintf(crt, sizeof(crt), "%s/tls/publishing.crt", cf->cf_datadir);
	snprintf(key, sizeof(key), "%s/tls/publishing.key", cf->cf_datadir);
	if (access(crt, R_OK) < 0 || access(key, R_OK) < 0) {
		rc = wsusutil_fail(CMD, "no publishing certificate: run "
					"wsusutil publishingcert create");
		goto out;
	}
	if (tls_codesign_check(crt, key, time(NULL), &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	if (store_open(&st, cf->cf_datadir, &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	if (store_category_find(st, "UpdateClassification", a.classification,
		cls, &err) < 0) {
		rc = wsusutil_fail(CMD, "unknown classification");
		goto out;
	}
	if (a.n_drivers > 0 && strcasecmp(cls, DRIVERS_CLASSIFICATION) != 0) {
		rc = wsusutil_fail(CMD,
		    "a driver update's classification must be Drivers");
		goto out;
	}
	/* Everything referred to must exist before anything is written. */
	for (unsigned i = 0; i < a.n_supersedes + a.n_prereqs; i++) {
		bool sup = i < a.n_supersedes;
		const char *ref = sup ? a.supersedes[i] :
					a.prereqs[i - a.n_supersedes];
		char norm[37];

		if (guid_normalize(ref, norm) < 0 ||
		    store_revision_latest(st, norm, noop_cb, NULL, &err) < 0) {
			fprintf(stderr, "wsusutil: publish: unknown update in "
					"%s: %s\n",
			    sup ? "--supersedes" : "--prerequisite", ref);
			rc = 1;
			goto out;
		}
	}
	for (unsigned i = 0; i < a.n_files; i++) {
		if (file_name_of(a.files[i]) == NULL) {
			rc = wsusutil_fail(CMD, "package file name not usable");
			goto out;
		}
		if (access(a.files[i], R_OK) < 0) {
			fprintf(stderr, "wsusutil: publish: cannot read package "
					"file %s: %s\n",
			    a.files[i], strerror(errno));
			rc = 1;
			goto out;
		}
	}

	snprintf(workdir, sizeof(workdir), "%s/.publish-XXXXXX",
	    cf->cf_datadir);
	if (mkdtemp(workdir) == NULL) {
		workdir[0] = '\0';
		rc = wsusutil_fail(CMD, "cannot create a work directory");
		goto out;
	}
	for (unsigned i = 0; i < a.n_files; i++) {
		if (sign_and_store(cf->cf_datadir, workdir, crt, key, a.files[i],
			a.title, &sf[i], &err) < 0) {
			fprintf(stderr, "wsusutil: publish: %s: %s\n",
			    a.files[i], err.what);
			rc = 1;
			goto out;
		}
		total += sf[i].h.size;
		ff[i] = (struct fragment_file){ .name = sf[i].name,
			.size = sf[i].h.size, .modified = sf[i].modified };
		memcpy(ff[i].sha1, sf[i].h.sha1, 20);
		memcpy(ff[i].sha256, sf[i].h.sha256, 32);
		stf[i] = (struct store_file){ .has_sha256 = true,
			.size = sf[i].h.size, .file_name = sf[i].name,
			.modified = sf[i].iso };
		memcpy(stf[i].sha1, sf[i].h.sha1, 20);
		memcpy(stf[i].sha256, sf[i].h.sha256, 32);
	}
	testhook_pause("publish:after-content");

	if ((rc = store_begin(st, &err)) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	in_tx = true;
	if (product_id(st, &a, prod, &err) < 0 || guid_generate(id, &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	/* Prerequisites: each --prerequisite is one AND member; the product
	 * and the classification are category clauses (WUSP.md 6.1). */
	for (unsigned i = 0; i < a.n_prereqs; i++) {
		members[nclauses] = (struct fragment_prereq){ a.prereqs[i],
			false };
		sprereqs[nclauses] = (struct store_prereq){ nclauses,
			a.prereqs[i], false };
		nclauses++;
	}
	members[nclauses] = (struct fragment_prereq){ prod, true };
	sprereqs[nclauses] = (struct store_prereq){ nclauses, prod, true };
	nclauses++;
	members[nclauses] = (struct fragment_prereq){ cls, true };
	sprereqs[nclauses] = (struct store_prereq){ nclauses, cls, true };
	nclauses++;
	for (unsigned i = 0; i < nclauses; i++)
		clauses[i] = (struct fragment_clause){ &members[i], 1 };

	cl = (struct fragment_cmdline){ .program = sf[0].name,
		.arguments = a.arguments, .reboot_by_default = FRAGMENT_FALSE,
		.default_result = FRAGMENT_RESULT_FAILED, .codes = codes,
		.n_codes = sizeof(codes) / sizeof(codes[0]) };
	fu.update_id = id;
	fu.revision_number = PUBLISH_REVISION;
	fu.type =
	    a.n_drivers > 0 ? FRAGMENT_TYPE_DRIVER : FRAGMENT_TYPE_SOFTWARE;
	fu.explicitly_deployable = true;
	fu.auto_select_on_web_sites = true;
	fu.supersedes = a.supersedes;
	fu.n_supersedes = a.n_supersedes;
	fu.prereqs = clauses;
	fu.n_prereqs = nclauses;
	if (a.applicability) {
		fu.rules = FRAGMENT_RULES_CUSTOM;
		fu.is_installed = sbuf_str(&inst);
		fu.is_installable = sbuf_str(&instable);
	}
	if (a.n_drivers > 0) {
		fu.drivers = pd.entries;
		fu.n_drivers = a.n_drivers;
		fu.handler = FRAGMENT_HANDLER_DRIVER;
	} else {
		fu.handler = FRAGMENT_HANDLER_CMDLINE;
		fu.cmdline = &cl;
	}
	fu.has_download_sizes = true;
	fu.max_download_size = total;
	fu.min_download_size = 0;
	fu.reboot_behavior = FRAGMENT_REBOOT_CAN_REQUEST;
	fu.impact = FRAGMENT_IMPACT_NORMAL;
	fu.kb_article_id = a.kb;
	fu.files = ff;
	fu.n_files = a.n_files;
	fl = (struct fragment_localized){ .language = "en", .title = a.title,
		.description = a.description };
	if (fragment_build_core(&core, &fu, &err) < 0 ||
	    fragment_build_extended(&ext, &fu, &err) < 0 ||
	    fragment_build_localized(&loc, &fl, &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.update_id = id;
	in.revision_number = PUBLISH_REVISION;
	in.update_type = a.n_drivers > 0 ? "Driver" : "Software";
	in.origin = "local";
	in.explicitly_deployable = true;
	in.is_leaf = true;
	in.kb_article = a.kb;
	in.msrc_severity = a.severity;
	in.title = a.title;
	in.xml_core = core.sb_buf;
	in.xml_core_len = core.sb_len;
	in.xml_extended = ext.sb_buf;
	in.xml_extended_len = ext.sb_len;
	sl = (struct store_localized){ "en", a.title, loc.sb_buf, loc.sb_len };
	in.n_localized = 1;
	in.localized = &sl;
	in.n_files = a.n_files;
	in.files = stf;
	cats[0] = prod;
	cats[1] = cls;
	in.n_categories = 2;
	in.categories = cats;
	in.n_prereqs = nclauses;
	in.prereqs = sprereqs;
	in.n_supersedes = a.n_supersedes;
	in.supersedes = a.supersedes;
	if (store_revision_put(st, &in, &rid, &existed, &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	for (unsigned i = 0; i < a.n_files; i++)
		if (store_file_set_state(st, sf[i].h.sha1, "present", &err) < 0) {
			rc = wsusutil_fail(CMD, err.what);
			goto out;
		}
	if (store_event_add(st, "publish", id, a.title, &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	testhook_pause("publish:before-commit");
	if (store_commit(st, &err) < 0) {
		rc = wsusutil_fail(CMD, err.what);
		goto out;
	}
	in_tx = false;
	printf("%s\n", id);
	rc = 0;
out:
	if (in_tx)
		store_rollback(st);
	store_close(st);
	if (workdir[0] != '\0')
		nftw(workdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	config_free(cf);
	sbuf_release(&core);
	sbuf_release(&ext);
	sbuf_release(&loc);
	sbuf_release(&inst);
	sbuf_release(&instable);
	return rc;
}
