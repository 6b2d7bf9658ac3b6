#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define U1 "11111111-2222-3333-4444-555555555501"
#define U2 "11111111-2222-3333-4444-555555555502"
#define U3 "11111111-2222-3333-4444-555555555503"
#define SECURITY "0fa1201d-4330-4fa8-8ae9-b877473b6441"
#define C1 "aaaaaaaa-0000-0000-0000-000000000001"

static char dir[] = "/tmp/wsusd-test-catalog-XXXXXX";
static struct store *st;

static void
rev(struct store_revision_in *in, const char *id, int number,
    const char *core)
{
	memset(in, 0, sizeof(*in));
	in->update_id = id;
	in->revision_number = number;
	in->update_type = "Software";
	in->origin = "local";
	in->title = "Test update";
	in->xml_core = core;
	in->xml_core_len = strlen(core);
	in->explicitly_deployable = true;
}

static int
count_cb(void *arg, const struct store_update_row *r)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

struct found {
	const char *want;
	struct store_update_row row;
	char title[128], cls[64];
	bool hit;
};

static int
find_cb(void *arg, const struct store_update_row *r)
{
	struct found *f = arg;

	if (strcmp(r->update_id, f->want) != 0)
		return 0;
	f->row = *r;
	snprintf(f->title, sizeof(f->title), "%s", r->title);
	snprintf(f->cls, sizeof(f->cls), "%s", r->classification);
	f->hit = true;
	return 1;
}

static bool
listed(const char *id, bool include_declined, struct found *f)
{
	struct store_update_filter flt = { .include_declined = include_declined };
	struct wsd_err e;

	memset(f, 0, sizeof(*f));
	f->want = id;
	assert_int_equal(store_updates_list(st, &flt, find_cb, f, &e), 0);
	return f->hit;
}

static void
test_revisions(void **state)
{
	static const char *const cats[] = { SECURITY };
	static const char *const sup[] = { U2 };
	static const struct store_prereq pre[] = {
		{ 0, "56309036-4C77-4DD9-951A-99EE9C246A94", true },
		{ 1, U3, false },
	};
	struct store_localized loc[2] = {
		{ "en", "Test update", "<LocalizedProperties><Language>en"
				       "</Language></LocalizedProperties>", 0 },
		{ "de", "Testaktualisierung", "<LocalizedProperties><Language>"
					      "de</Language></LocalizedProperties>",
		    0 },
	};
	struct store_file file = { .has_sha256 = true, .size = 1234,
		.file_name = "x.cab", .modified = "2026-11-30T00:00:00Z" };
	struct store_revision_in in;
	struct found f;
	struct wsd_err e;
	int64_t id1, id2, id3;
	bool existed;

	(void)state;
	loc[0].xml_len = strlen(loc[0].xml);
	loc[1].xml_len = strlen(loc[1].xml);
	memset(file.sha1, 0xab, 20);
	memset(file.sha256, 0xcd, 32);
	rev(&in, U1, 100, "<UpdateIdentity UpdateID=\"" U1 "\" />");
	in.n_categories = 1;
	in.categories = cats;
	in.n_supersedes = 1;
	in.supersedes = sup;
	in.n_prereqs = 2;
	in.prereqs = pre;
	in.n_localized = 2;
	in.localized = loc;
	in.n_files = 1;
	in.files = &file;
	assert_int_equal(store_revision_put(st, &in, &id1, &existed, &e), 0);
	assert_false(existed);
	/* The same again: a no-op. */
	assert_int_equal(store_revision_put(st, &in, &id2, &existed, &e), 0);
	assert_true(existed);
	assert_true(id1 == id2);
	/* Same number, other metadata: refused, stored one unchanged. */
	rev(&in, U1, 100, "<UpdateIdentity UpdateID=\"" U1 "\" X=\"1\" />");
	assert_int_equal(store_revision_put(st, &in, &id2, &existed, &e),
	    WSD_EINVAL);
	assert_non_null(strstr(e.what, "other metadata"));
	assert_true(listed(U1, false, &f));
	assert_int_equal(f.row.revision_number, 100);
	assert_string_equal(f.cls, "Security Updates");
	assert_int_equal((int)f.row.n_files, 1);
	assert_true(f.row.bytes == 1234);
	/* A newer revision becomes the latest; an older one does not. */
	rev(&in, U1, 101, "<UpdateIdentity UpdateID=\"" U1 "\" R=\"101\" />");
	in.title = "Test update v2";
	assert_int_equal(store_revision_put(st, &in, &id3, &existed, &e), 0);
	rev(&in, U1, 99, "<UpdateIdentity UpdateID=\"" U1 "\" R=\"99\" />");
	assert_int_equal(store_revision_put(st, &in, &id2, &existed, &e), 0);
	assert_true(listed(U1, false, &f));
	assert_int_equal(f.row.revision_number, 101);
	assert_string_equal(f.title, "Test update v2");
	/* U1 supersedes U2: U2 lists as superseded once it exists. */
	rev(&in, "11111111-2222-3333-4444-555555555502", 5, "<c2 />");
	assert_int_equal(store_revision_put(st, &in, &id2, &existed, &e), 0);
	assert_true(listed(U2, false, &f));
	/* Revision 101 does not carry the supersedence: revision 100 did. */
	assert_int_equal((int)f.row.n_superseded_by, 0);
}

static void
test_bad_revisions(void **state)
{
	struct store_file a = { .size = 1, .file_name = "a" };
	struct store_file b = { .size = 2, .file_name = "b" };
	struct store_revision_in in;
	struct wsd_err e;
	int64_t id;
	bool existed;
	int before = 0, after = 0;
	struct store_update_filter all = { .include_declined = true };

	(void)state;
	assert_int_equal(store_updates_list(st, &all, count_cb, &before, &e), 0);
	rev(&in, "not-a-guid", 1, "<x />");
	assert_int_equal(store_revision_put(st, &in, &id, &existed, &e),
	    WSD_EINVAL);
	rev(&in, U3, 1, "<x />");
	in.update_type = "Bogus";
	assert_int_equal(store_revision_put(st, &in, &id, &existed, &e),
	    WSD_EINVAL);
	rev(&in, U3, 1, "");
	assert_int_equal(store_revision_put(st, &in, &id, &existed, &e),
	    WSD_EINVAL);
	/* Same SHA-1 with two sizes: the whole revision is refused. */
	memset(a.sha1, 1, 20);
	memset(b.sha1, 1, 20);
	rev(&in, U3, 1, "<x />");
	in.n_files = 1;
	in.files = &a;
	assert_int_equal(store_revision_put(st, &in, &id, &existed, &e), 0);
	rev(&in, "11111111-2222-3333-4444-555555555504", 1, "<y />");
	in.n_files = 1;
	in.files = &b;
	assert_int_equal(store_revision_put(st, &in, &id, &existed, &e),
	    WSD_EINVAL);
	assert_non_null(strstr(e.what, "conflicts"));
	assert_int_equal(store_updates_list(st, &all, count_cb, &after, &e), 0);
	assert_int_equal(after, before + 1); /* U3 only: ...504 rolled back */
}

static void
test_groups(void **state)
{
	struct wsd_err e;
	char id[37];

	(void)state;
	assert_int_equal(store_group_add(st, "Servers", NULL, id, &e), 0);
	assert_int_equal(strlen(id), 36);
	assert_int_equal(store_group_add(st, "Web", "servers", NULL, &e), 0);
	assert_int_equal(store_group_add(st, "SERVERS", NULL, NULL, &e),
	    WSD_EINVAL); /* names are case-insensitive */
	assert_int_equal(store_group_add(st, "X", "No Such", NULL, &e),
	    WSD_ENOTFOUND);
	assert_string_equal(e.what, "unknown parent group");
	assert_int_equal(store_group_add(st, "X", "Unassigned Computers", NULL,
			     &e), WSD_EINVAL);
	assert_int_equal(store_group_add(st, "", NULL, NULL, &e), WSD_EINVAL);
	assert_int_equal(store_group_add(st, "a\nb", NULL, NULL, &e),
	    WSD_EINVAL);
	assert_int_equal(store_group_remove(st, "All Computers", &e),
	    WSD_EPERM);
	assert_int_equal(store_group_remove(st, "Servers", &e), WSD_EINVAL);
	assert_int_equal(store_group_remove(st, "Nope", &e), WSD_ENOTFOUND);
}

static void
test_computers_and_approvals(void **state)
{
	char action[16], deadline[40];
	struct found f;
	struct wsd_err e;

	(void)state;
	assert_int_equal(store_computer_upsert(st, C1, "pc1.example", "Win",
			     &e), 0);
	/* New computers start in Unassigned, which inherits All Computers. */
	assert_int_equal(store_approval_set(st, U1, "All Computers", "Install",
			     "2026-12-24", "test", &e), 0);
	assert_int_equal(store_approval_effective(st, U1,
			     "Unassigned Computers", action, deadline, &e), 0);
	assert_string_equal(action, "Install");
	assert_string_equal(deadline, "2026-12-24T00:00:00Z");
	/* A child group's own NotApproved beats the inherited Install. */
	assert_int_equal(store_approval_set(st, U1, "Web", "NotApproved", NULL,
			     "test", &e), 0);
	assert_int_equal(store_approval_effective(st, U1, "Web", action,
			     deadline, &e), 0);
	assert_string_equal(action, "NotApproved");
	assert_int_equal(store_approval_effective(st, U1, "Servers", action,
			     deadline, &e), 0);
	assert_string_equal(action, "Install");
	assert_int_equal(store_computer_move(st, "PC1.example", "Web", &e), 0);
	assert_int_equal(store_computer_move(st, "pc1.example", "All Computers",
			     &e), WSD_EINVAL);
	assert_int_equal(store_computer_move(st, "nobody", "Web", &e),
	    WSD_ENOTFOUND);
	/* Bad input changes nothing. */
	assert_int_equal(store_approval_set(st, U1, "Nope", "Install", NULL,
			     "t", &e), WSD_ENOTFOUND);
	assert_string_equal(e.what, "unknown group");
	assert_int_equal(store_approval_set(st, "zz", "Web", "Install", NULL,
			     "t", &e), WSD_EINVAL);
	assert_string_equal(e.what, "malformed UpdateID");
	assert_int_equal(store_approval_set(st, U1, "Web", "Maybe", NULL, "t",
			     &e), WSD_EINVAL);
	assert_int_equal(store_approval_set(st, U1, "Web", "Install",
			     "2026-02-31", "t", &e), WSD_EINVAL);
	assert_int_equal(store_approval_set(st, U1, "Web", "Install",
			     "tomorrow", "t", &e), WSD_EINVAL);
	assert_int_equal(store_approval_set(st, SECURITY, "Web", "Install",
			     NULL, "t", &e), WSD_EINVAL);
	assert_int_equal(store_approval_effective(st, U1, "Web", action,
			     deadline, &e), 0);
	assert_string_equal(action, "NotApproved");
	/* Declined: approvals gone, never listed, cannot be approved. */
	assert_int_equal(store_update_decline(st, U1, &e), 0);
	assert_false(listed(U1, false, &f));
	assert_true(listed(U1, true, &f));
	assert_true(f.row.declined);
	assert_int_equal(store_approval_effective(st, U1, "Servers", action,
			     deadline, &e), 0);
	assert_string_equal(action, "NotApproved");
	assert_int_equal(store_approval_set(st, U1, "Servers", "Install", NULL,
			     "t", &e), WSD_EINVAL);
	assert_string_equal(e.what, "update is declined");
	assert_int_equal(store_update_decline(st, SECURITY, &e), WSD_EINVAL);
	/* Removing a group sends its computers back to Unassigned. */
	assert_int_equal(store_group_remove(st, "Web", &e), 0);
	assert_int_equal(store_event_add(st, "test", "x", "message", &e), 0);
}

struct readback {
	int n;
	struct store_revision_out o; /* shallow: checked inside the callback */
	bool ok;
};

static int
readback_cb(void *arg, const struct store_revision_out *o)
{
	struct readback *rb = arg;

	rb->n++;
	/* The revision 100 of U1 written by test_revisions. */
	rb->ok = o->rv.revision_number == 101 &&
	    strcmp(o->rv.update_id, U1) == 0 &&
	    strcmp(o->rv.update_type, "Software") == 0 &&
	    o->rv.xml_core_len == strlen(o->rv.xml_core) && o->declined;
	return 0;
}

struct all_revs {
	int n;
	bool saw100;
};

static int
all_cb(void *arg, const struct store_revision_out *o)
{
	struct all_revs *a = arg;

	if (strcmp(o->rv.update_id, U1) != 0)
		return 0;
	a->n++;
	if (o->rv.revision_number == 100) {
		a->saw100 = o->rv.n_localized == 2 &&
		    strcmp(o->rv.localized[1].language, "en") == 0 &&
		    strcmp(o->rv.localized[0].title, "Testaktualisierung") ==
			0 &&
		    o->rv.n_files == 1 && o->rv.files[0].size == 1234 &&
		    o->rv.files[0].has_sha256 &&
		    o->rv.files[0].sha256[0] == 0xcd &&
		    strcmp(o->rv.files[0].file_name, "x.cab") == 0 &&
		    o->rv.n_categories == 1 &&
		    strcmp(o->rv.categories[0], SECURITY) == 0 &&
		    o->rv.n_supersedes == 1 &&
		    strcmp(o->rv.supersedes[0], U2) == 0 &&
		    o->rv.n_prereqs == 2 && o->rv.prereqs[0].is_category &&
		    strcmp(o->rv.prereqs[0].update_id,
			"56309036-4c77-4dd9-951a-99ee9c246a94") == 0 &&
		    o->rv.prereqs[1].clause == 1;
	}
	return 0;
}

static int
files_cb(void *arg, const struct store_file_row *f)
{
	int *n = arg;

	if (f->sha1[0] == 0xab) {
		/* U1 (declined) is its only user: not needed any more. */
		assert_int_equal((int)f->needed, 0);
		assert_int_equal((int)f->refs, 1);
		assert_string_equal(f->state, "present");
	}
	(*n)++;
	return 0;
}

static void
test_readback_and_cleanup(void **state)
{
	struct store_cleanup_counts cc;
	struct readback rb = { 0 };
	struct all_revs all = { 0 };
	unsigned char sha1[20];
	struct wsd_err e;
	int nfiles = 0;

	(void)state;
	assert_int_equal(store_revision_latest(st, U1, readback_cb, &rb, &e),
	    0);
	assert_int_equal(rb.n, 1);
	assert_true(rb.ok);
	assert_int_equal(store_revision_latest(st,
			     "99999999-2222-3333-4444-555555555501", readback_cb,
			     &rb, &e), WSD_ENOTFOUND);
	assert_int_equal(store_revisions_each(st, false, all_cb, &all, &e), 0);
	assert_int_equal(all.n, 3); /* 99, 100, 101 */
	assert_true(all.saw100);
	memset(sha1, 0xab, 20);
	assert_int_equal(store_file_set_state(st, sha1, "present", &e), 0);
	assert_int_equal(store_file_set_state(st, sha1, "gone", &e),
	    WSD_EINVAL);
	assert_int_equal(store_files_list(st, files_cb, &nfiles, &e), 0);
	assert_true(nfiles >= 2);
	/* Obsolete revisions: 99 and 100 of U1 go, 101 stays. */
	assert_int_equal(store_cleanup(st, false, false, true, 0, &cc, &e), 0);
	assert_int_equal((int)cc.revisions_deleted, 2);
	all.n = 0;
	assert_int_equal(store_revisions_each(st, false, all_cb, &all, &e), 0);
	assert_int_equal(all.n, 1);
	/* The file only revision 100 used is unreferenced now. */
	assert_int_equal(store_file_forget(st, sha1, &e), 0);
	assert_int_equal(store_file_set_state(st, sha1, "present", &e),
	    WSD_ENOTFOUND);
	assert_int_equal(store_cleanup(st, false, false, false, 1, &cc, &e), 0);
	assert_int_equal((int)cc.computers_deleted, 0); /* created today */
}

static void
test_category_find(void **state)
{
	char id[37];
	struct wsd_err e;

	(void)state;
	assert_int_equal(store_category_find(st, "UpdateClassification",
			     "security updates", id, &e), 0);
	assert_string_equal(id, SECURITY);
	assert_int_equal(store_category_find(st, "UpdateClassification",
			     "0FA1201D-4330-4FA8-8AE9-B877473B6441", id, &e), 0);
	assert_int_equal(store_category_find(st, "Product", "Security Updates",
			     id, &e), WSD_ENOTFOUND);
}

static int
setup(void **state)
{
	struct wsd_err e;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	return store_open(&st, dir, &e);
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revisions),
		cmocka_unit_test(test_bad_revisions),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_computers_and_approvals),
		cmocka_unit_test(test_category_find),
		cmocka_unit_test(test_readback_and_cleanup),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
