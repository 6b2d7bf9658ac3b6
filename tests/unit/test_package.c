/*
 * catalog/package: the export/import format. A catalog with every field
 * (two revisions of one update, a declined bundle, a category, groups,
 * approvals, content over several chunks) goes through the writer and
 * back through both reader passes; then each refusal, on packages made by
 * the writer from inconsistent records or by editing a written document
 * (with or without recomputing its manifest, so that the check under
 * test is the one that fires).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "catalog/fragment.h"
#include "catalog/package.h"
#include "common/encode.h"
#include "common/sbuf.h"
#include "store/store.h"

#define UA       "aaaaaaaa-0000-4000-8000-000000000001"
#define UB       "bbbbbbbb-0000-4000-8000-000000000002"
#define UC       "cccccccc-0000-4000-8000-000000000003"
#define UP       "dddddddd-0000-4000-8000-000000000004"
#define MS       "56309036-4c77-4dd9-951a-99ee9c246a94"
#define CLS      "0fa1201d-4330-4fa8-8ae9-b877473b6441"
#define ALL      "a0a08746-4dbe-4a37-9adf-9e7652c0b421"
#define UNA      "b73ca6ed-5727-47f3-84de-015e03f6a88a"
#define R1       "e1e1e1e1-0000-4000-8000-000000000001"
#define R1A      "e1e1e1e1-0000-4000-8000-00000000001a"
#define CAP      (4 * 1024 * 1024)
#define MODIFIED "2026-01-01T00:00:00Z"

static char dir[] = "/tmp/wsusd-test-package-XXXXXX";

/* ------------------------------------------------------------------ */
/* A catalog with every field                                          */

struct tfile {
	unsigned char *data;
	size_t len;
	unsigned char sha1[20], sha256[32];
	const char *name;
};

static struct tfile files[3]; /* 1,000,000 bytes, "hello", empty */

/* One revision and the buffers its fields point into. */
struct trev {
	struct sbuf core, ext, loc[2];
	struct store_localized sl[2];
	struct store_file sf[3];
	const char *cats[2];
	struct store_prereq pre[3];
	struct store_bundle_member bun[1];
	const char *sup[1];
	struct store_revision_in rv;
	bool declined;
};

#define NREVS 4
static struct trev revs[NREVS]; /* A/100, A/101, B/5, P/1 */

static void
hash_file(struct tfile *f)
{
	assert_int_equal(EVP_Digest(f->data, f->len, f->sha1, NULL, EVP_sha1(),
			     NULL),
	    1);
	assert_int_equal(EVP_Digest(f->data, f->len, f->sha256, NULL,
			     EVP_sha256(), NULL),
	    1);
}

static void
make_files(void)
{
	uint32_t x = 12345;

	files[0].len = 1000000; /* two chunks, the second partial */
	files[0].data = malloc(files[0].len);
	assert_non_null(files[0].data);
	for (size_t i = 0; i < files[0].len; i++) {
		x = x * 1103515245 + 12345;
		files[0].data[i] = (unsigned char)(x >> 16);
	}
	files[0].name = "windows10.0-kb5000123-x64.cab";
	files[1].data = (unsigned char *)strdup("hello");
	files[1].len = 5;
	files[1].name = "readme.txt";
	files[2].data = (unsigned char *)strdup("");
	files[2].len = 0;
	files[2].name = "empty.dat";
	for (int i = 0; i < 3; i++)
		hash_file(&files[i]);
}

static void
add_loc(struct trev *t, int i, const char *lang, const char *title)
{
	struct fragment_localized fl = { .language = lang,
		.title = title,
		.description = "Description <with> & \"quotes\"" };
	struct wsd_err e;

	sbuf_init(&t->loc[i], CAP);
	assert_int_equal(fragment_build_localized(&t->loc[i], &fl, &e), 0);
	t->sl[i] = (struct store_localized){ lang, title, t->loc[i].sb_buf,
		t->loc[i].sb_len };
}

/* Update A: supersedes C, needs B, product P and Security Updates. */
static void
make_a(struct trev *t, int number, bool three_files)
{
	struct fragment_prereq m[3] = { { UB, false }, { UP, true },
		{ CLS, true } };
	struct fragment_clause cl[3] = { { &m[0], 1 }, { &m[1], 1 },
		{ &m[2], 1 } };
	const char *sup[1] = { UC };
	struct fragment_file ff[2];
	struct fragment_update fu = { 0 };
	struct wsd_err e;
	int nf = 0;

	memset(ff, 0, sizeof(ff));
	for (int i = 0; i < 3; i++) {
		struct tfile *f = &files[i];

		if (i == 1 && three_files)
			continue; /* revision 101: files 0 and 2 */
		if (i == 2 && !three_files)
			continue; /* revision 100: files 0 and 1 */
		ff[nf] = (struct fragment_file){ .name = f->name,
			.size = f->len,
			.modified = 1767225600 };
		memcpy(ff[nf].sha1, f->sha1, 20);
		memcpy(ff[nf].sha256, f->sha256, 32);
		t->sf[nf] = (struct store_file){ .size = f->len,
			.file_name = f->name,
			.modified = MODIFIED,
			.has_sha256 = i != 1, /* older metadata: SHA-1 only */
			.patching_type = i == 0 ? "Express" : NULL };
		memcpy(t->sf[nf].sha1, f->sha1, 20);
		memcpy(t->sf[nf].sha256, f->sha256, 32);
		nf++;
	}
	fu.update_id = UA;
	fu.revision_number = (uint32_t)number;
	fu.type = FRAGMENT_TYPE_SOFTWARE;
	fu.explicitly_deployable = true;
	fu.supersedes = sup;
	fu.n_supersedes = 1;
	fu.prereqs = cl;
	fu.n_prereqs = 3;
	fu.msrc_severity = FRAGMENT_SEVERITY_IMPORTANT;
	fu.kb_article_id = "5000123";
	fu.files = ff;
	fu.n_files = (size_t)nf;
	sbuf_init(&t->core, CAP);
	sbuf_init(&t->ext, CAP);
	assert_int_equal(fragment_build_core(&t->core, &fu, &e), 0);
	assert_int_equal(fragment_build_extended(&t->ext, &fu, &e), 0);
	add_loc(t, 0, "en", "Update A");
	add_loc(t, 1, "de", "Aktualisierung \xc3\x84 & <b>");
	t->cats[0] = UP;
	t->cats[1] = CLS;
	t->pre[0] = (struct store_prereq){ 0, UB, false };
	t->pre[1] = (struct store_prereq){ 1, UP, true };
	t->pre[2] = (struct store_prereq){ 2, CLS, true };
	t->sup[0] = UC;
	t->rv = (struct store_revision_in){ .update_id = UA,
		.revision_number = number,
		.update_type = "Software",
		.origin = "local",
		.explicitly_deployable = true,
		.is_leaf = true,
		.kb_article = "5000123",
		.msrc_severity = "Important",
		.eula_id = "11111111-2222-3333-4444-555555555555",
		.title = "Update A",
		.xml_core = t->core.sb_buf,
		.xml_core_len = t->core.sb_len,
		.xml_extended = t->ext.sb_buf,
		.xml_extended_len = t->ext.sb_len,
		.n_localized = 2,
		.localized = t->sl,
		.n_files = (unsigned)nf,
		.files = t->sf,
		.n_categories = 2,
		.categories = t->cats,
		.n_prereqs = 3,
		.prereqs = t->pre,
		.n_supersedes = 1,
		.supersedes = t->sup };
}

/* Update B: a declined bundle of A; a title with tab and newline. */
static void
make_b(struct trev *t)
{
	struct fragment_bundled bd[1] = { { UA, 100, 0 } };
	struct fragment_update fu = { 0 };
	struct wsd_err e;

	fu.update_id = UB;
	fu.revision_number = 5;
	fu.type = FRAGMENT_TYPE_SOFTWARE;
	fu.bundled = bd;
	fu.n_bundled = 1;
	fu.rules = FRAGMENT_RULES_NONE;
	sbuf_init(&t->core, CAP);
	sbuf_init(&t->ext, CAP);
	assert_int_equal(fragment_build_core(&t->core, &fu, &e), 0);
	assert_int_equal(fragment_build_extended(&t->ext, &fu, &e), 0);
	add_loc(t, 0, "en", "Bundle\tB\nsecond line");
	t->bun[0] = (struct store_bundle_member){ 0, UA, 100 };
	t->rv = (struct store_revision_in){ .update_id = UB,
		.revision_number = 5,
		.update_type = "Software",
		.origin = "upstream",
		.is_leaf = false,
		.is_bundle = true,
		.title = "Bundle\tB\nsecond line",
		.xml_core = t->core.sb_buf,
		.xml_core_len = t->core.sb_len,
		.xml_extended = t->ext.sb_buf,
		.xml_extended_len = t->ext.sb_len,
		.n_localized = 1,
		.localized = t->sl,
		.n_bundle = 1,
		.bundle = t->bun };
	t->declined = true;
}

/* Product P under Microsoft. */
static void
make_p(struct trev *t)
{
	struct fragment_category c = { .update_id = UP,
		.revision_number = 1,
		.type = FRAGMENT_CAT_PRODUCT,
		.parent_id = MS };
	struct wsd_err e;

	sbuf_init(&t->core, CAP);
	sbuf_init(&t->ext, CAP);
	sbuf_init(&t->loc[0], CAP);
	assert_int_equal(fragment_build_category_core(&t->core, &c, &e), 0);
	assert_int_equal(fragment_build_category_extended(&t->ext, &c, &e), 0);
	assert_int_equal(fragment_build_category_localized(&t->loc[0], "en",
			     "Product P", "Product P", &e),
	    0);
	t->sl[0] = (struct store_localized){ "en", "Product P",
		t->loc[0].sb_buf, t->loc[0].sb_len };
	t->cats[0] = MS;
	t->pre[0] = (struct store_prereq){ 0, MS, true };
	t->rv = (struct store_revision_in){ .update_id = UP,
		.revision_number = 1,
		.update_type = "Category",
		.category_type = "Product",
		.origin = "local",
		.title = "Product P",
		.xml_core = t->core.sb_buf,
		.xml_core_len = t->core.sb_len,
		.xml_extended = t->ext.sb_buf,
		.xml_extended_len = t->ext.sb_len,
		.n_localized = 1,
		.localized = t->sl,
		.n_categories = 1,
		.categories = t->cats,
		.n_prereqs = 1,
		.prereqs = t->pre };
}

static const struct pkg_group groups[] = {
	{ ALL, "All Computers", NULL },
	{ UNA, "Unassigned Computers", ALL },
	{ R1, "Ring 1", ALL },
	{ R1A, "Ring 1a \"pilot\" & <co>", R1 },
};
static const struct pkg_approval approvals[] = {
	{ UA, R1, "Install", "2026-12-01T08:00:00Z" },
	{ UA, R1A, "NotApproved", NULL },
	{ UB, ALL, "NotApproved", NULL },
};
#define NGROUPS    (sizeof(groups) / sizeof(groups[0]))
#define NAPPROVALS (sizeof(approvals) / sizeof(approvals[0]))

static char *
path_of(const char *name)
{
	static char buf[8][700];
	static int k;
	char *p = buf[k++ % 8];

	snprintf(p, 700, "%s/%s", dir, name);
	return p;
}

/* Writes the catalog (revisions in REVS order) to NAME. */
static int
write_catalog(const char *name, bool with_approvals, bool with_content,
    const struct pkg_signer *signer, struct pkg_manifest *man,
    struct wsd_err *e)
{
	struct pkg_header h = { .created = "2026-11-30T00:00:00Z",
		.exporter = "wsus.example.test",
		.approvals = with_approvals,
		.content = with_content };
	struct pkg_writer *w;
	int fd, rc;

	fd = open(path_of(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pkg_writer_open(&w, fd, &h, e), 0);
	for (size_t i = 0; with_approvals && i < NGROUPS; i++)
		assert_int_equal(pkg_write_group(w, &groups[i], e), 0);
	for (int i = 0; i < NREVS; i++)
		if ((rc = pkg_write_revision(w, &revs[i].rv, revs[i].declined,
			 e)) < 0)
			goto out;
	for (size_t i = 0; with_approvals && i < NAPPROVALS; i++)
		assert_int_equal(pkg_write_approval(w, &approvals[i], e), 0);
	for (int i = 0; with_content && i < 3; i++) {
		struct pkg_content c = { .size = files[i].len,
			.name = files[i].name,
			.has_sha256 = true };
		char src[64];
		int cfd;

		memcpy(c.sha1, files[i].sha1, 20);
		memcpy(c.sha256, files[i].sha256, 32);
		snprintf(src, sizeof(src), "content-%d", i);
		cfd = open(path_of(src), O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_true(cfd >= 0);
		assert_int_equal(write(cfd, files[i].data, files[i].len),
		    (ssize_t)files[i].len);
		assert_int_equal(lseek(cfd, 0, SEEK_SET), 0);
		c.has_sha256 = i != 1; /* as in the revision's <File> */
		rc = pkg_write_content(w, &c, cfd, e);
		close(cfd);
		if (rc < 0)
			goto out;
	}
	rc = pkg_writer_finish(w, signer, man, e);
out:
	pkg_writer_free(w);
	close(fd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* A sink that writes everything it gets as text                        */

struct transcript {
	struct sbuf sb;
	EVP_MD_CTX *md;
	int fail_at; /* revision callback that fails; 0 never */
	int revisions;
};

static void t_add(struct sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
t_add(struct sbuf *sb, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_int_equal(sbuf_adds(sb, buf), 0);
}

#define NS(s) ((s) ? (s) : "(null)")

static void
describe_revision(struct sbuf *sb, const struct store_revision_in *rv)
{
	char h1[41], h2[65];

	t_add(sb,
	    "R %s %d %s %s %s ed=%d leaf=%d bundle=%d kb=%s sev=%s "
	    "eula=%s title=[%s]\n",
	    rv->update_id, rv->revision_number, rv->update_type,
	    NS(rv->category_type), NS(rv->origin), rv->explicitly_deployable,
	    rv->is_leaf, rv->is_bundle, NS(rv->kb_article),
	    NS(rv->msrc_severity), NS(rv->eula_id), NS(rv->title));
	assert_int_equal(sbuf_add(sb, rv->xml_core, rv->xml_core_len), 0);
	t_add(sb, "\n");
	if (rv->xml_extended)
		assert_int_equal(sbuf_add(sb, rv->xml_extended,
				     rv->xml_extended_len),
		    0);
	t_add(sb, "\n");
	for (unsigned i = 0; i < rv->n_localized; i++) {
		t_add(sb, "L %s [%s] ", rv->localized[i].language,
		    NS(rv->localized[i].title));
		assert_int_equal(sbuf_add(sb, rv->localized[i].xml,
				     rv->localized[i].xml_len),
		    0);
		t_add(sb, "\n");
	}
	for (unsigned i = 0; i < rv->n_files; i++) {
		const struct store_file *f = &rv->files[i];

		hex_encode_upper(f->sha1, 20, h1);
		hex_encode_upper(f->sha256, 32, h2);
		t_add(sb, "F %s %s %llu %s %s %s\n", h1,
		    f->has_sha256 ? h2 : "-", (unsigned long long)f->size,
		    NS(f->file_name), NS(f->modified), NS(f->patching_type));
	}
	for (unsigned i = 0; i < rv->n_categories; i++)
		t_add(sb, "C %s\n", rv->categories[i]);
	for (unsigned i = 0; i < rv->n_prereqs; i++)
		t_add(sb, "P %u %s %d\n", rv->prereqs[i].clause,
		    rv->prereqs[i].update_id, rv->prereqs[i].is_category);
	for (unsigned i = 0; i < rv->n_bundle; i++)
		t_add(sb, "B %u %s %d\n", rv->bundle[i].clause,
		    rv->bundle[i].update_id, rv->bundle[i].revision_number);
	for (unsigned i = 0; i < rv->n_supersedes; i++)
		t_add(sb, "S %s\n", rv->supersedes[i]);
}

static int
s_header(void *arg, const struct pkg_header *h, struct wsd_err *e)
{
	struct transcript *t = arg;

	(void)e;
	t_add(&t->sb, "H %u %s %s %d %d\n", h->version, h->created, h->exporter,
	    h->approvals, h->content);
	return 0;
}

static int
s_group(void *arg, const struct pkg_group *g, struct wsd_err *e)
{
	struct transcript *t = arg;

	(void)e;
	t_add(&t->sb, "G %s [%s] %s\n", g->id, g->name, NS(g->parent));
	return 0;
}

static int
s_revision(void *arg, const struct store_revision_in *rv, struct wsd_err *e)
{
	struct transcript *t = arg;

	if (++t->revisions == t->fail_at)
		return wsd_fail(e, WSD_EINVAL, "sink refused");
	describe_revision(&t->sb, rv);
	return 0;
}

static int
s_update_end(void *arg, const char *id, bool declined, struct wsd_err *e)
{
	struct transcript *t = arg;

	(void)e;
	t_add(&t->sb, "E %s %d\n", id, declined);
	return 0;
}

static int
s_approval(void *arg, const struct pkg_approval *a, struct wsd_err *e)
{
	struct transcript *t = arg;

	(void)e;
	t_add(&t->sb, "A %s %s %s %s\n", a->update_id, a->group_id, a->action,
	    NS(a->deadline));
	return 0;
}

static int
s_content_begin(void *arg, const struct pkg_content *c, struct wsd_err *e)
{
	struct transcript *t = arg;
	char h[41];

	(void)e;
	hex_encode_upper(c->sha1, 20, h);
	t_add(&t->sb, "K %s %llu %s %d\n", h, (unsigned long long)c->size,
	    c->name, c->has_sha256);
	assert_int_equal(EVP_DigestInit_ex(t->md, EVP_sha256(), NULL), 1);
	return 0;
}

static int
s_content_data(void *arg, const void *p, size_t n, struct wsd_err *e)
{
	struct transcript *t = arg;

	(void)e;
	assert_int_equal(EVP_DigestUpdate(t->md, p, n), 1);
	return 0;
}

static int
s_content_end(void *arg, const struct pkg_content *c, struct wsd_err *e)
{
	struct transcript *t = arg;
	unsigned char d[32];
	char h[65];

	(void)c;
	(void)e;
	assert_int_equal(EVP_DigestFinal_ex(t->md, d, NULL), 1);
	hex_encode_upper(d, 32, h);
	t_add(&t->sb, "k %s\n", h);
	return 0;
}

static const struct pkg_sink *
sink_of(struct transcript *t)
{
	static struct pkg_sink s;

	s = (struct pkg_sink){ .arg = t,
		.header = s_header,
		.group = s_group,
		.revision = s_revision,
		.update_end = s_update_end,
		.approval = s_approval,
		.content_begin = s_content_begin,
		.content_data = s_content_data,
		.content_end = s_content_end };
	return &s;
}

/* What the sink should see for the whole catalog. */
static void
expected(struct sbuf *sb, bool with_approvals, bool with_content)
{
	t_add(sb, "H 1 2026-11-30T00:00:00Z wsus.example.test %d %d\n",
	    with_approvals, with_content);
	for (size_t i = 0; with_approvals && i < NGROUPS; i++)
		t_add(sb, "G %s [%s] %s\n", groups[i].id, groups[i].name,
		    NS(groups[i].parent));
	for (int i = 0; i < NREVS; i++) {
		describe_revision(sb, &revs[i].rv);
		if (i + 1 == NREVS ||
		    strcmp(revs[i + 1].rv.update_id, revs[i].rv.update_id) != 0)
			t_add(sb, "E %s %d\n", revs[i].rv.update_id,
			    revs[i].declined);
	}
	for (size_t i = 0; with_approvals && i < NAPPROVALS; i++)
		t_add(sb, "A %s %s %s %s\n", approvals[i].update_id,
		    approvals[i].group_id, approvals[i].action,
		    NS(approvals[i].deadline));
	for (int i = 0; with_content && i < 3; i++) {
		char h1[41], h2[65];

		hex_encode_upper(files[i].sha1, 20, h1);
		hex_encode_upper(files[i].sha256, 32, h2);
		t_add(sb, "K %s %zu %s %d\nk %s\n", h1, files[i].len,
		    files[i].name, i != 1, h2);
	}
}

/*
 * Both passes over NAME, as import runs them. Returns the first failure
 * (E and REP say what); T, when not NULL, gets the records.
 */
static int
read_both(const char *name, const struct pkg_limits *lim, struct transcript *t,
    struct pkg_report *rep, struct wsd_err *e)
{
	struct pkg_limits def;
	struct pkg_manifest m;
	int fd, rc;

	if (lim == NULL) {
		pkg_limits_default(&def);
		lim = &def;
	}
	fd = open(path_of(name), O_RDONLY);
	assert_true(fd >= 0);
	rc = pkg_verify(fd, lim, &m, rep, e);
	if (rc == 0) {
		rc = pkg_read(fd, lim, &m, t ? sink_of(t) : NULL, rep, e);
		pkg_manifest_release(&m);
	}
	close(fd);
	return rc;
}

static void
transcript_init(struct transcript *t)
{
	memset(t, 0, sizeof(*t));
	sbuf_init(&t->sb, 64 * 1024 * 1024);
	t->md = EVP_MD_CTX_new();
	assert_non_null(t->md);
}

static void
transcript_release(struct transcript *t)
{
	sbuf_release(&t->sb);
	EVP_MD_CTX_free(t->md);
}

/* ------------------------------------------------------------------ */
/* Editing written documents                                           */

static char *
gunzip_file(const char *name, size_t *len)
{
	gzFile gz = gzopen(path_of(name), "rb");
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap + 1);
	int r;

	assert_non_null(gz);
	assert_non_null(buf);
	while ((r = gzread(gz, buf + n, (unsigned)(cap - n))) > 0) {
		n += (size_t)r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	assert_int_equal(r, 0);
	gzclose(gz);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
gzip_file(const char *name, const char *doc, size_t len)
{
	gzFile gz = gzopen(path_of(name), "wb6");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, doc, (unsigned)len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
}

/* Replaces the first OLD in *DOC with NEW. */
static void
doc_replace(char **doc, size_t *len, const char *old, const char *new)
{
	char *p = memmem(*doc, *len, old, strlen(old));
	size_t ol = strlen(old), nl = strlen(new), off;
	char *nd;

	assert_non_null(p);
	off = (size_t)(p - *doc);
	nd = malloc(*len - ol + nl + 1);
	assert_non_null(nd);
	memcpy(nd, *doc, off);
	memcpy(nd + off, new, nl);
	memcpy(nd + off + nl, *doc + off + ol, *len - off - ol);
	*len = *len - ol + nl;
	nd[*len] = '\0';
	free(*doc);
	*doc = nd;
}

/* Recomputes bytes= and sha256= of the manifest (as a forger would). */
static void
fix_manifest(char **doc, size_t *len)
{
	char *m = NULL, *p, *q, digest[65], repl[600], *old;
	unsigned char d[32];
	unsigned long long u, r, g, a, c;

	for (p = *doc; (p = memmem(p, (size_t)(*doc + *len - p), "<Manifest ",
			    10)) != NULL;
	     p++)
		m = p;
	assert_non_null(m);
	assert_int_equal(sscanf(m,
			     "<Manifest updates=\"%llu\" revisions=\"%llu\" "
			     "groups=\"%llu\" approvals=\"%llu\" "
			     "contents=\"%llu\"",
			     &u, &r, &g, &a, &c),
	    5);
	assert_int_equal(EVP_Digest(*doc, (size_t)(m - *doc), d, NULL,
			     EVP_sha256(), NULL),
	    1);
	hex_encode_upper(d, 32, digest);
	for (p = digest; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p + 32);
	q = strstr(m, "/>");
	assert_non_null(q);
	old = strndup(m, (size_t)(q + 2 - m));
	snprintf(repl, sizeof(repl),
	    "<Manifest updates=\"%llu\" revisions=\"%llu\" groups=\"%llu\" "
	    "approvals=\"%llu\" contents=\"%llu\" bytes=\"%zu\" "
	    "sha256=\"%s\"/>",
	    u, r, g, a, c, (size_t)(m - *doc), digest);
	doc_replace(doc, len, old, repl);
	free(old);
}

/*
 * Writes the plain catalog, edits it (OLD -> NEW), recompresses it as
 * NAME, optionally with a recomputed manifest, and reads it back.
 */
static int
edited(const char *name, const char *old, const char *new, bool fix,
    struct pkg_report *rep, struct wsd_err *e)
{
	struct wsd_err we;
	char *doc;
	size_t len;

	assert_int_equal(write_catalog("base.gz", true, true, NULL, NULL, &we),
	    0);
	doc = gunzip_file("base.gz", &len);
	doc_replace(&doc, &len, old, new);
	if (fix)
		fix_manifest(&doc, &len);
	gzip_file(name, doc, len);
	free(doc);
	return read_both(name, NULL, NULL, rep, e);
}

#define assert_refused(rc, e, text)                                            \
	do {                                                                   \
		assert_true((rc) < 0);                                         \
		if (strcmp((e).what, (text)) != 0)                             \
			fail_msg("refused with \"%s\", wanted \"%s\"",         \
			    (e).what, (text));                                 \
	} while (0)

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static void
test_round_trip(void **state)
{
	static const bool modes[][2] = { { false, false }, { true, false },
		{ true, true } };
	struct pkg_report rep;
	struct wsd_err e;

	(void)state;
	for (size_t m = 0; m < 3; m++) {
		bool ap = modes[m][0], co = modes[m][1];
		struct transcript t;
		struct sbuf want;
		struct pkg_manifest man;

		assert_int_equal(write_catalog("rt.gz", ap, co, NULL, &man, &e),
		    0);
		assert_int_equal(man.updates, 3);
		assert_int_equal(man.revisions, 4);
		assert_int_equal(man.groups, ap ? NGROUPS : 0);
		assert_int_equal(man.approvals, ap ? NAPPROVALS : 0);
		assert_int_equal(man.contents, co ? 3 : 0);
		assert_null(man.cert);
		pkg_manifest_release(&man);
		transcript_init(&t);
		sbuf_init(&want, 64 * 1024 * 1024);
		expected(&want, ap, co);
		if (read_both("rt.gz", NULL, &t, &rep, &e) != 0)
			fail_msg("refused: %s: %s", e.what, rep.detail);
		assert_string_equal(sbuf_str(&t.sb), sbuf_str(&want));
		transcript_release(&t);
		sbuf_release(&want);
	}
}

/* The document is as docs/PACKAGE.md shows it (one record a line). */
static void
test_document_shape(void **state)
{
	struct wsd_err e;
	char *doc;
	size_t len;

	(void)state;
	assert_int_equal(write_catalog("shape.gz", true, true, NULL, NULL, &e),
	    0);
	doc = gunzip_file("shape.gz", &len);
	{
		static const char head[] =
		    "<WsusdPackage version=\"1\" created=\"2026-11-30T00:00:"
		    "00Z\" exporter=\"wsus.example.test\" approvals=\"true\" "
		    "content=\"true\">\n<Group ";

		assert_true(len > sizeof(head));
		assert_memory_equal(doc, head, sizeof(head) - 1);
	}
	assert_non_null(strstr(doc,
	    "\n<Group id=\"" R1A "\" name=\"Ring 1a "
	    "&quot;pilot&quot; &amp; &lt;co&gt;\" "
	    "parent=\"" R1 "\"/>\n"));
	assert_non_null(strstr(doc,
	    "\n<Update id=\"" UB "\" type=\"Software\" "
	    "declined=\"true\" origin=\"upstream\">\n"
	    "<Revision number=\"5\" "
	    "explicitlyDeployable=\"false\" "
	    "leaf=\"false\" bundle=\"true\" "
	    "title=\"Bundle&#9;B&#10;second line\">\n"
	    "<Core>"));
	assert_non_null(strstr(doc,
	    "\n<Approval update=\"" UA "\" group=\"" R1
	    "\" action=\"Install\" deadline=\"2026-12-"
	    "01T08:00:00Z\"/>\n"));
	assert_non_null(strstr(doc, "<Content sha1=\""));
	assert_non_null(strstr(doc, " size=\"0\" name=\"empty.dat\"/>\n"));
	assert_non_null(strstr(doc, "\"/>\n</WsusdPackage>\n"));
	assert_true(len > 1000000 * 4 / 3);
	free(doc);
}

static void
test_refuse_version(void **state)
{
	struct pkg_report rep;
	struct wsd_err e;

	(void)state;
	assert_refused(edited("v2.gz", "version=\"1\"", "version=\"2\"", true,
			   &rep, &e),
	    e, "unknown package version");
	assert_non_null(strstr(rep.detail, "version 2"));
	assert_refused(edited("v0.gz", "version=\"1\"", "version=\"01\"", true,
			   &rep, &e),
	    e, "malformed package version");
	assert_refused(edited("vx.gz", "<WsusdPackage ", "<WsusdPackages ",
			   true, &rep, &e),
	    e, "not a wsusd package");
}

static void
test_refuse_base64(void **state)
{
	struct pkg_report rep;
	struct wsd_err e;

	(void)state;
	/* A character outside the alphabet, with a valid manifest. */
	assert_refused(edited("b1.gz", "<Core>PF", "<Core>*F", true, &rep, &e),
	    e, "malformed base64");
	assert_non_null(strstr(rep.detail, "update " UA " revision 100"));
	/* Whitespace inside. */
	assert_refused(edited("b2.gz", "<Core>PF", "<Core>P\nF", true, &rep,
			   &e),
	    e, "malformed base64");
	/* Length not a multiple of four. */
	assert_refused(edited("b3.gz", "<Core>PF", "<Core>PFF", true, &rep, &e),
	    e, "malformed base64");
}

static void
test_refuse_digest_length(void **state)
{
	struct pkg_report rep;
	struct wsd_err e;
	char sha1[41], old[64], new[64];

	(void)state;
	hex_encode_upper(files[1].sha1, 20, sha1);
	snprintf(old, sizeof(old), "<File sha1=\"%s\"", sha1);
	sha1[39] = '\0';
	snprintf(new, sizeof(new), "<File sha1=\"%s\"", sha1);
	assert_refused(edited("d1.gz", old, new, true, &rep, &e), e,
	    "malformed digest");
	hex_encode_upper(files[1].sha1, 20, sha1);
	sha1[5] = 'G';
	snprintf(new, sizeof(new), "<File sha1=\"%s\"", sha1);
	assert_refused(edited("d2.gz", old, new, true, &rep, &e), e,
	    "malformed digest");
}

static void
test_refuse_manifest_mismatch(void **state)
{
	struct pkg_report rep;
	struct wsd_err e;
	int fd;
	struct pkg_limits lim;
	struct pkg_manifest m;

	(void)state;
	/* One edited character, re-compressed (valid gzip CRC). */
	assert_refused(edited("m1.gz", "title=\"Update A\"",
			   "title=\"Update B\"", false, &rep, &e),
	    e, "package digest does not match its manifest");
	/* The same edit is accepted by pass 1 once the manifest is redone:
	 * the check above is the one that fired. */
	pkg_limits_default(&lim);
	assert_int_equal(edited("m1f.gz", "title=\"Update A\"",
			     "title=\"Update B\"", true, &rep, &e),
	    0);
	/* A whole record removed. */
	assert_refused(edited("m2.gz",
			   "<Approval update=\"" UA "\" group=\"" R1A
			   "\" action=\"NotApproved\"/>\n",
			   "", false, &rep, &e),
	    e, "package length does not match its manifest");
	/* Counts that do not match the records (digest recomputed). */
	assert_refused(edited("m3.gz", "<Manifest updates=\"3\"",
			   "<Manifest updates=\"4\"", true, &rep, &e),
	    e, "record counts differ from the manifest");
	/* Manifest gone. */
	assert_refused(edited("m4.gz", "<Manifest ", "<Manifesto ", false, &rep,
			   &e),
	    e, "package has no manifest at its end");
	/* Pass 2 insists on the manifest pass 1 saw. */
	assert_int_equal(write_catalog("m5.gz", false, false, NULL, NULL, &e),
	    0);
	fd = open(path_of("m5.gz"), O_RDONLY);
	assert_int_equal(pkg_verify(fd, &lim, &m, &rep, &e), 0);
	m.text[20] ^= 1;
	assert_refused(pkg_read(fd, &lim, &m, NULL, &rep, &e), e,
	    "package changed while it was read");
	pkg_manifest_release(&m);
	close(fd);
}

static void
test_refuse_truncated(void **state)
{
	struct pkg_report rep;
	struct wsd_err e;
	struct stat sb;
	char *doc;
	size_t len;

	(void)state;
	assert_int_equal(write_catalog("tr.gz", true, true, NULL, NULL, &e), 0);
	assert_int_equal(stat(path_of("tr.gz"), &sb), 0);
	/* The compressed file cut at several points, the trailer included. */
	for (int k = 0; k < 7; k++) {
		static const double at[] = { 0.0, 0.01, 0.1, 0.5, 0.9 };
		off_t cut = k < 5 ? (off_t)((double)sb.st_size * at[k])
				  : sb.st_size - (k == 5 ? 4 : 1);
		char *data = malloc((size_t)sb.st_size);
		int fd = open(path_of("tr.gz"), O_RDONLY), out;

		assert_int_equal(read(fd, data, (size_t)sb.st_size),
		    sb.st_size);
		close(fd);
		out =
		    open(path_of("cut.gz"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_int_equal(write(out, data, (size_t)cut), cut);
		close(out);
		free(data);
		assert_true(read_both("cut.gz", NULL, NULL, &rep, &e) < 0);
		if (strcmp(e.what, "package is truncated") != 0 &&
		    strcmp(e.what, "corrupt compressed data") != 0)
			fail_msg("cut at %lld: %s", (long long)cut, e.what);
	}
	/* The document cut, then compressed whole again. */
	doc = gunzip_file("tr.gz", &len);
	for (int k = 1; k < 4; k++) {
		gzip_file("cut2.gz", doc, len * (size_t)k / 4);
		assert_refused(read_both("cut2.gz", NULL, NULL, &rep, &e), e,
		    "package has no manifest at its end");
	}
	/* Cut just after the manifest: no closing tag. */
	gzip_file("cut3.gz", doc, len - strlen("</WsusdPackage>\n"));
	assert_refused(read_both("cut3.gz", NULL, NULL, &rep, &e), e,
	    "package is truncated");
	free(doc);
}

static void
test_refuse_not_gzip_and_trailing(void **state)
{
	struct pkg_report rep;
	struct wsd_err e;
	int fd;

	(void)state;
	fd = open(path_of("plain.xml"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "<WsusdPackage version=\"1\">", 26), 26);
	close(fd);
	assert_refused(read_both("plain.xml", NULL, NULL, &rep, &e), e,
	    "corrupt compressed data");
	/* Pass 2 on its own says the same (its first read is libxml2's). */
	{
		struct pkg_limits lim;

		pkg_limits_default(&lim);
		fd = open(path_of("plain.xml"), O_RDONLY);
		assert_refused(pkg_read(fd, &lim, NULL, NULL, &rep, &e), e,
		    "corrupt compressed data");
		close(fd);
	}
	fd = open(path_of("empty.gz"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	close(fd);
	assert_refused(read_both("empty.gz", NULL, NULL, &rep, &e), e,
	    "package is truncated");
	/* A second gzip member after a valid package. */
	assert_int_equal(write_catalog("two.gz", false, false, NULL, NULL, &e),
	    0);
	{
		gzFile gz = gzopen(path_of("two.gz"), "ab");

		assert_non_null(gz);
		assert_int_equal(gzwrite(gz, "x", 1), 1);
		gzclose(gz);
	}
	assert_refused(read_both("two.gz", NULL, NULL, &rep, &e), e,
	    "trailing data after the compressed stream");
}

static void
test_refuse_limits(void **state)
{
	struct pkg_limits lim;
	struct pkg_report rep;
	struct wsd_err e;

	(void)state;
	assert_int_equal(write_catalog("lim.gz", true, true, NULL, NULL, &e),
	    0);
	/* Each limit at the catalog's own count passes, one lower fails. */
	pkg_limits_default(&lim);
	lim.max_updates = 3;
	lim.max_revisions = 2;
	lim.max_groups = NGROUPS;
	lim.max_approvals = NAPPROVALS;
	lim.max_contents = 3;
	lim.max_localized = 2;
	lim.max_rev_files = 2;
	lim.max_categories = 2;
	lim.max_relations = 4;
	assert_int_equal(read_both("lim.gz", &lim, NULL, &rep, &e), 0);
#define LOWER(field, what)                                                     \
	do {                                                                   \
		pkg_limits_default(&lim);                                      \
		lim.field = what;                                              \
	} while (0)
	LOWER(max_updates, 2);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "more updates than a package holds (PKG_MAX_UPDATES)");
	LOWER(max_revisions, 1);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "more revisions than a package holds (PKG_MAX_REVISIONS)");
	LOWER(max_groups, NGROUPS - 1);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "more groups than a package holds (PKG_MAX_GROUPS)");
	LOWER(max_approvals, NAPPROVALS - 1);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "more approvals than a package holds (PKG_MAX_APPROVALS)");
	LOWER(max_contents, 2);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "more content files than a package holds");
	LOWER(max_localized, 1);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "revision has more entries than a package holds");
	LOWER(max_relations, 3);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "revision has more entries than a package holds");
	LOWER(max_string, 10);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "string longer than 64 KiB (PKG_MAX_STRING)");
	LOWER(max_fragment, 100);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "fragment larger than 1 MiB (WSD_MAX_FRAGMENT_BYTES)");
	LOWER(max_revision_bytes, 1000);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "revision larger than 16 MiB (PKG_MAX_REVISION_BYTES)");
	/* Files are counted once each, however many revisions share them
	 * (file 0 is in A/100 and A/101: three distinct files). */
	LOWER(max_files, 3);
	assert_int_equal(read_both("lim.gz", &lim, NULL, &rep, &e), 0);
	LOWER(max_files, 2);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "more files than a package holds (PKG_MAX_FILES)");
	LOWER(max_content_file, 999999);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "content file larger than 64 GiB (PKG_MAX_CONTENT_FILE)");
	/* Content cap: pass 1 counts chunk text, pass 2 decoded bytes. */
	LOWER(max_content, 1000000);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "content exceeds the cap");
	LOWER(max_metadata, 4096);
	assert_refused(read_both("lim.gz", &lim, NULL, &rep, &e), e,
	    "decompressed metadata exceeds the cap");
#undef LOWER
}

/* Writes a gzip of HEAD followed by N bytes of BYTE, streaming. */
static void
write_bomb(const char *name, const char *head, uint64_t n, char byte)
{
	gzFile gz = gzopen(path_of(name), "wb1");
	char *buf = malloc(1 << 20);

	assert_non_null(gz);
	assert_non_null(buf);
	memset(buf, byte, 1 << 20);
	assert_int_equal(gzwrite(gz, head, (unsigned)strlen(head)),
	    (int)strlen(head));
	for (uint64_t left = n; left > 0;) {
		unsigned k = left < (1 << 20) ? (unsigned)left : 1 << 20;

		assert_int_equal(gzwrite(gz, buf, k), (int)k);
		left -= k;
	}
	gzclose(gz);
	free(buf);
}

static void
test_refuse_bombs(void **state)
{
	struct pkg_limits lim;
	struct pkg_report rep;
	struct wsd_err e;
	struct timespec t0, t1;

	(void)state;
	/* 256 MiB of spaces after a valid head: the ratio stops it in its
	 * first 64 MiB (PKG_RATIO_GRACE), in both passes' code. */
	write_bomb("bomb.gz",
	    "<WsusdPackage version=\"1\" created=\"\" exporter=\"\" "
	    "approvals=\"false\" content=\"false\">\n",
	    256ULL << 20, ' ');
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_refused(read_both("bomb.gz", NULL, NULL, &rep, &e), e,
	    "compression ratio exceeds the cap");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	assert_non_null(strstr(rep.detail, "compression bomb"));
	/* With the ratio allowed, the size cap stops it at its value. */
	pkg_limits_default(&lim);
	lim.max_ratio = 1ULL << 40;
	lim.max_metadata = 32ULL << 20;
	assert_refused(read_both("bomb.gz", &lim, NULL, &rep, &e), e,
	    "decompressed metadata exceeds the cap");
	assert_non_null(strstr(rep.detail, "more than 33554432 bytes"));
	/* The same within pass 2 alone (pkg_read has its own caps; under
	 * libxml2's 10 MB text node limit, so ours is what fires). */
	lim.max_metadata = 4ULL << 20;
	{
		int fd = open(path_of("bomb.gz"), O_RDONLY);

		assert_refused(pkg_read(fd, &lim, NULL, NULL, &rep, &e), e,
		    "decompressed metadata exceeds the cap");
		close(fd);
	}
	/* A content chunk that never ends. */
	write_bomb("cbomb.gz",
	    "<WsusdPackage version=\"1\" created=\"\" exporter=\"\" "
	    "approvals=\"false\" content=\"true\">\n<Content sha1=\"00\">"
	    "<Chunk>",
	    64ULL << 20, 'A');
	pkg_limits_default(&lim);
	lim.max_content = 16ULL << 20;
	assert_refused(read_both("cbomb.gz", &lim, NULL, &rep, &e), e,
	    "content exceeds the cap");
	/* Zeros from the first byte: not even a package. */
	write_bomb("zeros.gz", "", 256ULL << 20, '\0');
	assert_refused(read_both("zeros.gz", NULL, NULL, &rep, &e), e,
	    "not a wsusd package");
}

/* A revision whose fields disagree with its fragments. */
static int
write_one(const char *name, const struct store_revision_in *rv,
    struct wsd_err *e)
{
	struct pkg_header h = { .created = "", .exporter = "" };
	struct pkg_writer *w;
	int fd, rc;

	fd = open(path_of(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pkg_writer_open(&w, fd, &h, e), 0);
	rc = pkg_write_revision(w, rv, false, e);
	if (rc == 0)
		rc = pkg_writer_finish(w, NULL, NULL, e);
	pkg_writer_free(w);
	close(fd);
	return rc;
}

static void
test_refuse_fragment_mismatch(void **state)
{
	struct store_revision_in rv;
	struct store_file f[2];
	struct store_localized l[2];
	struct store_prereq p[3];
	const char *sup[1] = { UB };
	struct pkg_report rep;
	struct wsd_err e;

	(void)state;
	/* Control: the revision as it is imports. */
	assert_int_equal(write_one("f0.gz", &revs[0].rv, &e), 0);
	assert_int_equal(read_both("f0.gz", NULL, NULL, &rep, &e), 0);

	rv = revs[1].rv; /* revision 101's fragments, revision 100's id */
	rv.revision_number = 100;
	assert_int_equal(write_one("f1.gz", &rv, &e), 0);
	assert_refused(read_both("f1.gz", NULL, NULL, &rep, &e), e,
	    "core fragment names another revision");
	assert_non_null(strstr(rep.detail, "RevisionNumber 101"));

	rv = revs[0].rv;
	rv.update_id = UC;
	assert_int_equal(write_one("f2.gz", &rv, &e), 0);
	assert_refused(read_both("f2.gz", NULL, NULL, &rep, &e), e,
	    "core fragment names another update");

	rv = revs[0].rv;
	memcpy(f, rv.files, sizeof(f));
	f[0].sha1[0] ^= 1;
	rv.files = f;
	assert_int_equal(write_one("f3.gz", &rv, &e), 0);
	assert_refused(read_both("f3.gz", NULL, NULL, &rep, &e), e,
	    "file digest differs from the extended fragment");

	memcpy(f, revs[0].rv.files, sizeof(f));
	f[0].sha256[31] ^= 1;
	assert_int_equal(write_one("f4.gz", &rv, &e), 0);
	assert_refused(read_both("f4.gz", NULL, NULL, &rep, &e), e,
	    "file digest differs from the extended fragment");

	memcpy(f, revs[0].rv.files, sizeof(f));
	f[0].size++;
	assert_int_equal(write_one("f5.gz", &rv, &e), 0);
	assert_refused(read_both("f5.gz", NULL, NULL, &rep, &e), e,
	    "file size differs from the extended fragment");

	rv = revs[0].rv;
	rv.n_files = 1;
	assert_int_equal(write_one("f6.gz", &rv, &e), 0);
	assert_refused(read_both("f6.gz", NULL, NULL, &rep, &e), e,
	    "files differ from the extended fragment");

	rv = revs[0].rv;
	rv.supersedes = sup;
	assert_int_equal(write_one("f7.gz", &rv, &e), 0);
	assert_refused(read_both("f7.gz", NULL, NULL, &rep, &e), e,
	    "superseded updates differ from the core fragment");

	/* Prerequisites: the same members in one OR clause are not the
	 * fragment's AND of three. */
	rv = revs[0].rv;
	memcpy(p, rv.prereqs, sizeof(p));
	p[1].clause = 0;
	rv.prereqs = p;
	assert_int_equal(write_one("f8.gz", &rv, &e), 0);
	assert_refused(read_both("f8.gz", NULL, NULL, &rep, &e), e,
	    "prerequisites differ from the core fragment");
	/* ...but other clause numbers for the same clauses are fine. */
	memcpy(p, revs[0].rv.prereqs, sizeof(p));
	p[0].clause = 7;
	p[1].clause = 3;
	p[2].clause = 5;
	assert_int_equal(write_one("f9.gz", &rv, &e), 0);
	assert_int_equal(read_both("f9.gz", NULL, NULL, &rep, &e), 0);

	rv = revs[0].rv;
	rv.update_type = "Driver";
	assert_int_equal(write_one("f10.gz", &rv, &e), 0);
	assert_refused(read_both("f10.gz", NULL, NULL, &rep, &e), e,
	    "core fragment has another update type");

	rv = revs[0].rv;
	memcpy(l, rv.localized, sizeof(l));
	l[1].language = "fr";
	rv.localized = l;
	assert_int_equal(write_one("f11.gz", &rv, &e), 0);
	assert_refused(read_both("f11.gz", NULL, NULL, &rep, &e), e,
	    "localized fragment has another language");

	memcpy(l, revs[0].rv.localized, sizeof(l));
	l[1].title = "Other title";
	assert_int_equal(write_one("f12.gz", &rv, &e), 0);
	assert_refused(read_both("f12.gz", NULL, NULL, &rep, &e), e,
	    "localized title differs from the fragment");

	/* A bundle member's revision that is not the fragment's. */
	{
		struct store_bundle_member b1 = { 0, UA, 101 };

		rv = revs[2].rv;
		rv.bundle = &b1;
		assert_int_equal(write_one("f16.gz", &rv, &e), 0);
		assert_refused(read_both("f16.gz", NULL, NULL, &rep, &e), e,
		    "bundle members differ from the core fragment");
		b1.revision_number = 100;
		assert_int_equal(write_one("f17.gz", &rv, &e), 0);
		assert_int_equal(read_both("f17.gz", NULL, NULL, &rep, &e), 0);
	}

	rv = revs[0].rv;
	rv.kb_article = "5000999";
	assert_int_equal(write_one("f13.gz", &rv, &e), 0);
	assert_refused(read_both("f13.gz", NULL, NULL, &rep, &e), e,
	    "KB article differs from the extended fragment");

	rv = revs[0].rv;
	rv.categories = (const char *const[]){ UP, UC };
	assert_int_equal(write_one("f14.gz", &rv, &e), 0);
	assert_refused(read_both("f14.gz", NULL, NULL, &rep, &e), e,
	    "category not in the core fragment");

	rv = revs[0].rv;
	rv.xml_core = "<UpdateIdentity UpdateID=\"" UA "\" RevisionNumber="
		      "\"100\" /><Properties UpdateType=\"Software\" "
		      "ExplicitlyDeployable=\"true\" /><Bogus />";
	rv.xml_core_len = strlen(rv.xml_core);
	assert_int_equal(write_one("f15.gz", &rv, &e), 0);
	assert_refused(read_both("f15.gz", NULL, NULL, &rep, &e), e,
	    "core fragment refused");
	assert_non_null(strstr(rep.detail, "unexpected element"));
}

static void
test_refuse_xml(void **state)
{
	static const struct {
		const char *old, *new, *what;
	} cases[] = {
		{ ">\n<Group ", ">\n<!-- note -->\n<Group ",
		    "comment in package" },
		{ ">\n<Group ", ">\n<?pi x?>\n<Group ",
		    "processing instruction in package" },
		{ ">\n<Group ", ">\n<![CDATA[x]]>\n<Group ",
		    "CDATA section in package" },
		{ "name=\"Ring 1\"", "name=\"Ring &ext; 1\"",
		    "package is not well-formed XML" },
		{ ">\n<Group ", ">\n<Groupie/>\n<Group ",
		    "unexpected element" },
		{ "<Group id", "<Group color=\"red\" id", "unknown attribute" },
		{ "<Group id", "<Group xmlns=\"urn:x\" id",
		    "unknown attribute" },
		{ "<Core>", "<x:Core xmlns:x=\"urn:x\">",
		    "unexpected element" },
		{ "declined=\"true\"", "declined=\"yes\"",
		    "malformed boolean" },
		{ "<Revision number=\"5\"", "<Revision number=\"05\"",
		    "malformed number" },
		{ "type=\"Software\"", "type=\"Firmware\"",
		    "unknown update type" },
		{ "group=\"" R1 "\"", "group=\"" UC "\"",
		    "approval for a group not in the package" },
		{ "<Approval update=\"" UA "\"", "<Approval update=\"" UC "\"",
		    "approval for an update not in the package" },
		{ "<Approval update=\"" UB "\" group=\"" ALL
		  "\" action=\"NotApproved\"",
		    "<Approval update=\"" UB "\" group=\"" ALL
		    "\" action=\"Install\"",
		    "approval of a declined update" },
		{ "deadline=\"2026-12-01T08:00:00Z\"",
		    "deadline=\"2026-12-01 08:00\"", "malformed deadline" },
		{ "deadline=\"2026-12-01T08:00:00Z\"",
		    "deadline=\"2026-13-01T08:00:00Z\"", "malformed deadline" },
		{ "type=\"Category\" categoryType=\"Product\" "
		  "declined=\"false\"",
		    "type=\"Category\" categoryType=\"Product\" "
		    "declined=\"true\"",
		    "a category cannot be declined" },
		{ "parent=\"" R1 "\"", "parent=\"" UC "\"",
		    "bad group parent" },
		{ "<Group id=\"" R1 "\"", "<Group id=\"not-a-guid\"",
		    "malformed GUID" },
	};
	struct pkg_report rep;
	struct wsd_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc =
		    edited("x.gz", cases[i].old, cases[i].new, true, &rep, &e);

		if (rc >= 0 || strcmp(e.what, cases[i].what) != 0)
			fail_msg("case %zu (%s): rc %d, \"%s\" (%s)", i,
			    cases[i].new, rc, rc < 0 ? e.what : "",
			    rc < 0 ? rep.detail : "");
	}
	/* A DOCTYPE cannot even precede the root: pass 1 refuses it. */
	assert_refused(edited("dt.gz", "<WsusdPackage ",
			   "<!DOCTYPE x [<!ENTITY a \"b\">]>\n<WsusdPackage ",
			   true, &rep, &e),
	    e, "not a wsusd package");
}

static void
test_refuse_order_and_content(void **state)
{
	struct pkg_report rep;
	struct wsd_err e;
	char *doc, *p, *q, *block, *repl;
	size_t len;

	(void)state;
	/* A group after the updates. */
	assert_refused(edited("o1.gz", "<Approval update=\"" UB "\"",
			   "<Group id=\"" UC "\" name=\"Late\" parent=\"" ALL
			   "\"/>\n<Approval update=\"" UB "\"",
			   true, &rep, &e),
	    e, "elements out of order");
	/* An update given twice, each copy consistent in itself. */
	assert_int_equal(write_catalog("o2.gz", true, false, NULL, NULL, &e),
	    0);
	doc = gunzip_file("o2.gz", &len);
	p = strstr(doc, "<Update id=\"" UA "\"");
	q = strstr(p, "</Update>\n") + strlen("</Update>\n");
	block = strndup(p, (size_t)(q - p));
	repl = malloc(strlen(block) + 64);
	sprintf(repl, "%s<Update id=\"%s\"", block, UB);
	doc_replace(&doc, &len, "<Update id=\"" UB "\"", repl);
	fix_manifest(&doc, &len);
	gzip_file("o3.gz", doc, len);
	free(block);
	free(repl);
	free(doc);
	assert_refused(read_both("o3.gz", NULL, NULL, &rep, &e), e,
	    "update appears twice");
	/* One chunk character changed (manifest redone): the content's
	 * digests catch it. */
	assert_int_equal(write_catalog("c.gz", false, true, NULL, NULL, &e), 0);
	doc = gunzip_file("c.gz", &len);
	p = strstr(doc, "<Chunk>") + 7 + 100;
	*p = *p == 'A' ? 'B' : 'A';
	fix_manifest(&doc, &len);
	gzip_file("c2.gz", doc, len);
	free(doc);
	assert_refused(read_both("c2.gz", NULL, NULL, &rep, &e), e,
	    "SHA-1 digest mismatch");
	/* Content for a file no revision names. */
	assert_refused(edited("c3.gz", "<Content sha1=\"",
			   "<Content sha1=\"0000000000000000000000000000000000"
			   "000000\" size=\"0\" name=\"x\"/>\n<Content sha1=\"",
			   true, &rep, &e),
	    e, "content for a file no revision names");
	/* Content shorter than its size: a chunk removed. */
	assert_int_equal(write_catalog("c4.gz", false, true, NULL, NULL, &e),
	    0);
	doc = gunzip_file("c4.gz", &len);
	p = strstr(doc, "<Chunk>");
	q = strstr(p, "</Chunk>\n") + strlen("</Chunk>\n");
	block = strndup(p, (size_t)(q - p));
	doc_replace(&doc, &len, block, "");
	free(block);
	fix_manifest(&doc, &len);
	gzip_file("c5.gz", doc, len);
	free(doc);
	assert_refused(read_both("c5.gz", NULL, NULL, &rep, &e), e,
	    "content shorter than its size");
}

static void
test_sink_failure_stops(void **state)
{
	struct transcript t;
	struct pkg_report rep;
	struct wsd_err e;

	(void)state;
	assert_int_equal(write_catalog("s.gz", true, true, NULL, NULL, &e), 0);
	transcript_init(&t);
	t.fail_at = 2;
	assert_refused(read_both("s.gz", NULL, &t, &rep, &e), e,
	    "sink refused");
	assert_non_null(strstr(rep.detail, "update " UA " revision 101"));
	/* Nothing after the failing record was delivered. */
	assert_null(strstr(sbuf_str(&t.sb), UB " 5"));
	transcript_release(&t);
}

static void
test_writer_refusals(void **state)
{
	struct pkg_header h = { .created = "", .exporter = "" };
	struct store_revision_in rv;
	struct pkg_writer *w;
	struct wsd_err e;
	int fd;

	(void)state;
	fd = open(path_of("w.gz"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(pkg_writer_open(&w, fd, &h, &e), 0);
	assert_int_equal(pkg_write_revision(w, &revs[1].rv, false, &e), 0);
	/* Revision 100 after 101. */
	assert_refused(pkg_write_revision(w, &revs[0].rv, false, &e), e,
	    "revisions out of order");
	/* Sticky: the writer stays failed. */
	assert_true(pkg_write_revision(w, &revs[2].rv, false, &e) < 0);
	pkg_writer_free(w);

	assert_int_equal(pkg_writer_open(&w, fd, &h, &e), 0);
	rv = revs[0].rv;
	rv.title = "bad \x01 control";
	assert_refused(pkg_write_revision(w, &rv, false, &e), e,
	    "string is not valid UTF-8 or has control characters");
	pkg_writer_free(w);
	assert_int_equal(pkg_writer_open(&w, fd, &h, &e), 0);
	rv.title = "bad \xc3\x28 utf-8";
	assert_refused(pkg_write_revision(w, &rv, false, &e), e,
	    "string is not valid UTF-8 or has control characters");
	pkg_writer_free(w);
	/* Groups and content need their header flags. */
	assert_int_equal(pkg_writer_open(&w, fd, &h, &e), 0);
	assert_refused(pkg_write_group(w, &groups[0], &e), e,
	    "groups in a package without approvals");
	pkg_writer_free(w);
	close(fd);
	/* Content that does not match its digests is not written. */
	{
		struct pkg_header hc = { .created = "",
			.exporter = "",
			.content = true };
		struct pkg_content c = { .size = 5, .name = "x" };
		int cfd = open(path_of("content-1"), O_RDONLY);

		fd = open(path_of("w2.gz"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_int_equal(pkg_writer_open(&w, fd, &hc, &e), 0);
		memcpy(c.sha1, files[0].sha1, 20);
		assert_refused(pkg_write_content(w, &c, cfd, &e), e,
		    "SHA-1 digest mismatch");
		pkg_writer_free(w);
		close(fd);
		close(cfd);
	}
}

/* A self-signed certificate and key for the signature tests. */
static void
make_cert(EVP_PKEY **key, unsigned char **der, int *der_len)
{
	X509 *x = X509_new();

	*key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(*key);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, *key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"exporter", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, *key, EVP_sha256()) > 0);
	*der = NULL;
	*der_len = i2d_X509(x, der);
	assert_true(*der_len > 0);
	X509_free(x);
}

static void
test_signature(void **state)
{
	EVP_PKEY *k1, *k2;
	unsigned char *d1, *d2;
	int l1, l2;
	struct pkg_signer s;
	struct pkg_manifest m;
	struct pkg_limits lim;
	struct pkg_report rep;
	struct wsd_err e;
	size_t which = 9;
	const unsigned char *trusted[2];
	size_t lens[2];
	char *doc;
	size_t len;
	int fd;

	(void)state;
	make_cert(&k1, &d1, &l1);
	make_cert(&k2, &d2, &l2);
	s = (struct pkg_signer){ k1, d1, (size_t)l1 };
	assert_int_equal(write_catalog("sig.gz", true, false, &s, NULL, &e), 0);
	pkg_limits_default(&lim);
	fd = open(path_of("sig.gz"), O_RDONLY);
	assert_int_equal(pkg_verify(fd, &lim, &m, &rep, &e), 0);
	assert_int_equal(pkg_read(fd, &lim, &m, NULL, &rep, &e), 0);
	close(fd);
	assert_int_equal(m.cert_len, (size_t)l1);
	trusted[0] = d2;
	lens[0] = (size_t)l2;
	trusted[1] = d1;
	lens[1] = (size_t)l1;
	assert_int_equal(pkg_check_signature(&m, trusted, lens, 2, &which, &e),
	    0);
	assert_int_equal(which, 1);
	assert_refused(pkg_check_signature(&m, trusted, lens, 1, NULL, &e), e,
	    "package signer is not a trusted exporter");
	/* A signature over other bytes does not verify. */
	m.text[15] ^= 1;
	assert_refused(pkg_check_signature(&m, trusted, lens, 2, NULL, &e), e,
	    "package signature does not verify");
	pkg_manifest_release(&m);
	/* Unsigned. */
	assert_int_equal(write_catalog("nosig.gz", true, false, NULL, NULL, &e),
	    0);
	fd = open(path_of("nosig.gz"), O_RDONLY);
	assert_int_equal(pkg_verify(fd, &lim, &m, &rep, &e), 0);
	close(fd);
	assert_refused(pkg_check_signature(&m, trusted, lens, 2, NULL, &e), e,
	    "package is not signed");
	pkg_manifest_release(&m);
	/* The signature element edited: pass 1 parses it, it fails. */
	doc = gunzip_file("sig.gz", &len);
	{
		char *p = strstr(strstr(doc, "<Signature "), "\">") + 2;

		*p = *p == 'M' ? 'N' : 'M';
	}
	gzip_file("sig2.gz", doc, len);
	free(doc);
	fd = open(path_of("sig2.gz"), O_RDONLY);
	assert_int_equal(pkg_verify(fd, &lim, &m, &rep, &e), 0);
	close(fd);
	assert_refused(pkg_check_signature(&m, trusted, lens, 2, NULL, &e), e,
	    "package signature does not verify");
	pkg_manifest_release(&m);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	OPENSSL_free(d1);
	OPENSSL_free(d2);
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	(void)state;
	xmlInitParser();
	if (mkdtemp(dir) == NULL)
		return -1;
	make_files();
	make_a(&revs[0], 100, false);
	make_a(&revs[1], 101, true);
	make_b(&revs[2]);
	make_p(&revs[3]);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NREVS; i++) {
		sbuf_release(&revs[i].core);
		sbuf_release(&revs[i].ext);
		sbuf_release(&revs[i].loc[0]);
		sbuf_release(&revs[i].loc[1]);
	}
	for (int i = 0; i < 3; i++)
		free(files[i].data);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_document_shape),
		cmocka_unit_test(test_refuse_version),
		cmocka_unit_test(test_refuse_base64),
		cmocka_unit_test(test_refuse_digest_length),
		cmocka_unit_test(test_refuse_manifest_mismatch),
		cmocka_unit_test(test_refuse_truncated),
		cmocka_unit_test(test_refuse_not_gzip_and_trailing),
		cmocka_unit_test(test_refuse_limits),
		cmocka_unit_test(test_refuse_bombs),
		cmocka_unit_test(test_refuse_fragment_mismatch),
		cmocka_unit_test(test_refuse_xml),
		cmocka_unit_test(test_refuse_order_and_content),
		cmocka_unit_test(test_sink_failure_stops),
		cmocka_unit_test(test_writer_refusals),
		cmocka_unit_test(test_signature),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
