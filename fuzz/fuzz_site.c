/*
 * The harness shared by the SOAP-operation fuzz targets (fuzz_site.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "config/config.h"

#include "fuzz_site.h"

/* Spliced bodies never grow past this; the rest is copied verbatim. */
#define SPLICE_MAX (1024 * 1024)

static struct fuzz_site *site; /* the one of this process, for atexit */

/* Removes PATH and what is under it, DEPTH levels at most. */
static void
remove_tree(const char *path, int depth)
{
	struct dirent *de;
	char sub[4096];
	DIR *d;

	if (depth > 0 && (d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", path,
				de->d_name) >= (int)sizeof(sub))
				continue;
			if (de->d_type == DT_DIR)
				remove_tree(sub, depth - 1);
			else
				unlink(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static void
teardown(void)
{
	if (site == NULL)
		return;
	if (site->fs_store != NULL)
		store_close(site->fs_store);
	site->fs_store = NULL;
	cookie_keys_release(&site->fs_rt.rt_cookies);
	if (site->fs_rt.rt_cf != NULL)
		config_free(site->fs_rt.rt_cf);
	site->fs_rt.rt_cf = NULL;
	remove_tree(site->fs_dir, 4);
	site = NULL;
}

void
fuzz_site_open(struct fuzz_site *s, const char *name,
    bool (*catalog)(struct store *, struct wsd_err *))
{
	struct wsd_err err = { WSD_OK, NULL };

	if (site != NULL)
		__builtin_trap();
	memset(s, 0, sizeof(*s));
	log_set_level(LOG_LVL_ERROR);
	if (snprintf(s->fs_dir, sizeof(s->fs_dir), "/tmp/wsusd-fuzz-%s-XXXXXX",
		name) >= (int)sizeof(s->fs_dir) ||
	    mkdtemp(s->fs_dir) == NULL)
		__builtin_trap();
	site = s;
	atexit(teardown);
	atomic_init(&s->fs_rt.rt_refs, 1);
	s->fs_rt.rt_content_fd = -1;
	s->fs_rt.rt_selfupdate_fd = -1;
	s->fs_rt.rt_access_fd = -1;
	if (config_load(s->fs_dir, NULL, &s->fs_rt.rt_cf, &err) < 0 ||
	    cookie_keys_load(&s->fs_rt.rt_cookies, s->fs_dir, &err) < 0 ||
	    store_open(&s->fs_store, s->fs_dir, &err) < 0 ||
	    !catalog(s->fs_store, &err)) {
		fprintf(stderr, "fuzz_%s: setup: %s\n", name,
		    err.what ? err.what : "?");
		__builtin_trap();
	}
	s->fs_req.rq_method = HTTP_POST;
	s->fs_req.rq_method_str = SV_LIT("POST");
	s->fs_req.rq_minor = 1;
	s->fs_req.rq_nheaders = 0;
}

bool
fuzz_site_base_catalog(struct store *st, struct wsd_err *err)
{
	static const char *const cats[] = { FUZZ_PRODUCT };
	static const char prod_core[] =
	    "<UpdateIdentity UpdateID=\"" FUZZ_PRODUCT
	    "\" RevisionNumber=\"1\" />"
	    "<Properties UpdateType=\"Category\" />"
	    "<ApplicabilityRules />";
	static const char upd_core[] =
	    "<UpdateIdentity UpdateID=\"" FUZZ_UPDATE
	    "\" RevisionNumber=\"1\" />"
	    "<Properties UpdateType=\"Software\" />"
	    "<Relationships><Categories><UpdateIdentity UpdateID=\""
	    FUZZ_PRODUCT "\" /></Categories></Relationships>"
	    "<ApplicabilityRules><IsInstalled><False /></IsInstalled>"
	    "<IsInstallable><True /></IsInstallable></ApplicabilityRules>";
	struct store_revision_in in;
	int64_t rid;
	bool existed;

	memset(&in, 0, sizeof(in));
	in.update_id = FUZZ_PRODUCT;
	in.revision_number = 1;
	in.update_type = "Category";
	in.category_type = "Product";
	in.origin = "local";
	in.is_leaf = true;
	in.title = "Fuzz Product";
	in.xml_core = prod_core;
	in.xml_core_len = sizeof(prod_core) - 1;
	if (store_revision_put(st, &in, &rid, &existed, err) < 0)
		return false;
	memset(&in, 0, sizeof(in));
	in.update_id = FUZZ_UPDATE;
	in.revision_number = 1;
	in.update_type = "Software";
	in.origin = "local";
	in.explicitly_deployable = true;
	in.is_leaf = true;
	in.title = "Fuzz update";
	in.kb_article = "5000001";
	in.xml_core = upd_core;
	in.xml_core_len = sizeof(upd_core) - 1;
	in.n_categories = 1;
	in.categories = cats;
	if (store_revision_put(st, &in, &rid, &existed, err) < 0)
		return false;
	return store_approval_set(st, FUZZ_UPDATE, "All Computers", "Install",
	    NULL, "fuzz", err) == 0;
}

void
fuzz_site_seal(struct fuzz_site *s, const char *guid, unsigned protocol,
    int64_t lifetime, enum cookie_kind kind, char *out)
{
	struct wsd_err err = { WSD_OK, NULL };
	struct cookie ck;
	int64_t now = (int64_t)time(NULL);

	memset(&ck, 0, sizeof(ck));
	for (int i = 0, j = 0; i < 16; i++, j += 2) {
		unsigned hi, lo;

		if (guid[j] == '-')
			j++;
		if (sscanf(&guid[j], "%1x%1x", &hi, &lo) != 2)
			__builtin_trap();
		ck.co_computer[i] = (unsigned char)(hi << 4 | lo);
	}
	ck.co_protocol = protocol;
	ck.co_issued = now;
	ck.co_expires = now + lifetime;
	/* The database identity cookies carry; 0 would make every cookie
	 * test meaningless. */
	if ((ck.co_instance = store_instance_id(s->fs_store)) == 0)
		__builtin_trap();
	ck.co_kind = kind;
	if (cookie_seal(&s->fs_rt.rt_cookies, &ck, out, COOKIE_B64_BUFSZ,
		&err) < 0)
		__builtin_trap();
}

char *
fuzz_splice(const char *body, size_t *n, const struct fuzz_mark *m,
    size_t nm)
{
	size_t len = *n, i = 0;
	struct sbuf out;
	char *p;

	sbuf_init(&out, SPLICE_MAX + len);
	while (i < len) {
		bool hit = false;

		for (size_t k = 0; k < nm; k++) {
			size_t ml = strlen(m[k].fm_marker);

			if (len - i >= ml &&
			    memcmp(body + i, m[k].fm_marker, ml) == 0 &&
			    out.sb_len < SPLICE_MAX) {
				if (sbuf_add(&out, m[k].fm_value,
					strlen(m[k].fm_value)) < 0)
					__builtin_trap();
				i += ml;
				hit = true;
				break;
			}
		}
		if (!hit && sbuf_add(&out, body + i++, 1) < 0)
			__builtin_trap();
	}
	*n = out.sb_len;
	if (out.sb_len == 0) {
		sbuf_release(&out);
		return NULL;
	}
	if ((p = malloc(out.sb_len)) == NULL)
		__builtin_trap();
	memcpy(p, out.sb_buf, out.sb_len);
	sbuf_release(&out);
	return p;
}

void
fuzz_site_ctx(struct fuzz_site *s, struct handler_ctx *hx, enum vroot root,
    const char *path, const char *body, size_t n)
{
	memset(&s->fs_route, 0, sizeof(s->fs_route));
	s->fs_route.rt_vroot = root;
	s->fs_route.rt_path.p = path;
	s->fs_route.rt_path.n = strlen(path);
	memset(hx, 0, sizeof(*hx));
	hx->hx_req = &s->fs_req;
	hx->hx_route = &s->fs_route;
	hx->hx_rt = &s->fs_rt;
	hx->hx_tls = true;
	hx->hx_body = body;
	hx->hx_body_len = n;
	hx->hx_date = "Mon, 30 Nov 2026 12:00:00 GMT";
	hx->hx_peer = "127.0.0.1";
	hx->hx_store = &s->fs_store;
}

static bool
starts(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && memcmp(p, lit, l) == 0;
}

void
fuzz_check_answer(const struct http_resp *rs, const char *const *prefixes)
{
	const char *buf = rs->rs_buf.sb_buf, *end, *cl;
	size_t len = rs->rs_buf.sb_len, head, body;
	unsigned long long want;
	bool ok = false;

	if (rs->rs_status != 200 && rs->rs_status != 500)
		__builtin_trap();
	if (rs->rs_nseg != 1 || rs->rs_seg[0].sg_file ||
	    rs->rs_seg[0].sg_off != 0 || rs->rs_seg[0].sg_len != len ||
	    buf == NULL)
		__builtin_trap();
	if (!starts(buf, len, rs->rs_status == 200 ? "HTTP/1.1 200 " :
						       "HTTP/1.1 500 "))
		__builtin_trap();
	if ((end = memmem(buf, len, "\r\n\r\n", 4)) == NULL)
		__builtin_trap();
	head = (size_t)(end - buf) + 4;
	body = len - head;
	if ((cl = memmem(buf, head, "\r\nContent-Length: ", 18)) == NULL ||
	    sscanf(cl + 18, "%llu", &want) != 1 || want != body)
		__builtin_trap();
	for (; *prefixes != NULL && !ok; prefixes++)
		ok = starts(buf + head, body, *prefixes);
	if (!ok)
		__builtin_trap();
}

void
fuzz_site_serve(struct fuzz_site *s, const struct handler_ctx *hx,
    int (*handle)(const struct handler_ctx *, struct http_resp *),
    int refused, const char *const *prefixes, const char *who,
    bool verbose, size_t show)
{
	struct http_resp rs;
	int rc;

	http_resp_init(&rs);
	rc = handle(hx, &rs);
	if (rc < 0 || rc == refused)
		__builtin_trap();
	fuzz_check_answer(&rs, prefixes);
	if (verbose) {
		const char *buf = rs.rs_buf.sb_buf;
		const char *end = memmem(buf, rs.rs_buf.sb_len, "\r\n\r\n", 4);
		size_t off = (size_t)(end - buf) + 4;
		size_t n = rs.rs_buf.sb_len - off;

		fprintf(stderr, "%s: %d %.*s\n", who, rs.rs_status,
		    (int)(n < show ? n : show), buf + off);
	}
	http_resp_release(&rs);
	/* The handlers open the store when the slot is empty: never here. */
	if (s->fs_store == NULL)
		__builtin_trap();
}
