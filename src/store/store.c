#include "store/store.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/sbuf.h"
#include "store/store_int.h"

int
store_open(struct store **out, const char *datadir, struct wsd_err *err)
{
	/* The only backend so far; a "database =" key will choose later. */
	return store_sqlite_ops.open(out, datadir, err);
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->st_ops->close(st);
}

int
store_schema_version(struct store *st, int *version, struct wsd_err *err)
{
	return st->st_ops->schema_version(st, version, err);
}

int
store_integrity_check(struct store *st, bool *ok, struct sbuf *detail,
    struct wsd_err *err)
{
	int rc = st->st_ops->integrity_check(st, detail, err);

	if (rc < 0)
		return rc;
	*ok = strcmp(sbuf_str(detail), "ok") == 0;
	return 0;
}

int
store_meta_get(struct store *st, const char *key, struct sbuf *out,
    struct wsd_err *err)
{
	return st->st_ops->meta_get(st, key, out, err);
}

int
store_meta_set(struct store *st, const char *key, const char *value,
    struct wsd_err *err)
{
	return st->st_ops->meta_set(st, key, value, err);
}

int
store_meta_guid(struct store *st, const char *key, char out[37],
    struct wsd_err *err)
{
	struct sbuf v;
	int rc;

	sbuf_init(&v, 64);
	rc = store_meta_get(st, key, &v, err);
	if (rc == 0 && guid_normalize(sbuf_str(&v), out) < 0)
		rc = wsd_fail(err, WSD_EINVAL, "meta value is no GUID");
	sbuf_release(&v);
	if (rc != WSD_ENOTFOUND)
		return rc;
	if ((rc = guid_generate(out, err)) < 0)
		return rc;
	return store_meta_set(st, key, out, err);
}

#define CAT(st) ((st)->st_ops->catalog)

int
store_begin(struct store *st, struct wsd_err *err)
{
	return CAT(st)->begin(st, err);
}

int
store_commit(struct store *st, struct wsd_err *err)
{
	return CAT(st)->commit(st, err);
}

void
store_rollback(struct store *st)
{
	CAT(st)->rollback(st);
}

int
store_revision_put(struct store *st, const struct store_revision_in *in,
    int64_t *revision_id, bool *existed, struct wsd_err *err)
{
	return CAT(st)->revision_put(st, in, revision_id, existed, err);
}

int
store_updates_list(struct store *st, const struct store_update_filter *f,
    int (*cb)(void *, const struct store_update_row *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->updates_list(st, f, cb, arg, err);
}

int
store_category_find(struct store *st, const char *type,
    const char *name_or_id, char out_id[37], struct wsd_err *err)
{
	return CAT(st)->category_find(st, type, name_or_id, out_id, err);
}

int
store_update_decline(struct store *st, const char *update_id,
    struct wsd_err *err)
{
	return CAT(st)->update_decline(st, update_id, err);
}

int
store_group_add(struct store *st, const char *name, const char *parent,
    char out_id[37], struct wsd_err *err)
{
	return CAT(st)->group_add(st, name, parent, out_id, err);
}

int
store_group_remove(struct store *st, const char *name, struct wsd_err *err)
{
	return CAT(st)->group_remove(st, name, err);
}

int
store_groups_list(struct store *st,
    int (*cb)(void *, const struct store_group_row *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->groups_list(st, cb, arg, err);
}

int
store_computer_upsert(struct store *st, const char *computer_id,
    const char *dns_name, const char *os_description, struct wsd_err *err)
{
	return CAT(st)->computer_upsert(st, computer_id, dns_name,
	    os_description, err);
}

int
store_computer_move(struct store *st, const char *computer,
    const char *group, struct wsd_err *err)
{
	return CAT(st)->computer_move(st, computer, group, err);
}

int
store_computer_delete(struct store *st, const char *computer,
    char id_out[37], struct wsd_err *err)
{
	return CAT(st)->computer_delete(st, computer, id_out, err);
}

int
store_cookie_revoked(struct store *st, const char *computer_id,
    int64_t issued, struct wsd_err *err)
{
	return CAT(st)->cookie_revoked(st, computer_id, issued, err);
}

int
store_computers_list(struct store *st,
    int (*cb)(void *, const struct store_computer_row *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->computers_list(st, cb, arg, err);
}

int
store_approval_set(struct store *st, const char *update_id, const char *group,
    const char *action, const char *deadline, const char *admin,
    struct wsd_err *err)
{
	return CAT(st)->approval_set(st, update_id, group, action, deadline,
	    admin, err);
}

int
store_approval_effective(struct store *st, const char *update_id,
    const char *group, char action[16], char deadline[40],
    struct wsd_err *err)
{
	return CAT(st)->approval_effective(st, update_id, group, action,
	    deadline, err);
}

int
store_approvals_list(struct store *st, const char *update_id,
    int (*cb)(void *, const struct store_approval_row *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->approvals_list(st, update_id, cb, arg, err);
}

int
store_event_add(struct store *st, const char *kind, const char *subject,
    const char *message, struct wsd_err *err)
{
	return CAT(st)->event_add(st, kind, subject, message, err);
}

int
store_revisions_each(struct store *st, bool latest_only,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->revisions_each(st, NULL, 0, latest_only, cb, arg, err);
}

int
store_revision_latest(struct store *st, const char *update_id,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->revisions_each(st, update_id, 0, true, cb, arg, err);
}

int
store_revision_by_id(struct store *st, int64_t revision_id,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err)
{
	if (revision_id <= 0)
		return wsd_fail(err, WSD_ENOTFOUND, "unknown update");
	return CAT(st)->revisions_each(st, NULL, revision_id, false, cb, arg,
	    err);
}

int
store_files_list(struct store *st,
    int (*cb)(void *, const struct store_file_row *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->files_list(st, cb, arg, err);
}

int
store_file_set_state(struct store *st, const unsigned char sha1[20],
    const char *state, struct wsd_err *err)
{
	return CAT(st)->file_set_state(st, sha1, state, err);
}

int
store_file_forget(struct store *st, const unsigned char sha1[20],
    struct wsd_err *err)
{
	return CAT(st)->file_forget(st, sha1, err);
}

int
store_cleanup(struct store *st, bool superseded, bool expired, bool obsolete,
    unsigned inactive_days, struct store_cleanup_counts *out,
    struct wsd_err *err)
{
	return CAT(st)->cleanup(st, superseded, expired, obsolete,
	    inactive_days, out, err);
}

int
store_sync_head(struct store *st, const char *computer_id,
    struct store_sync_head *out, struct wsd_err *err)
{
	return CAT(st)->sync_head(st, computer_id, out, err);
}

int
store_sync_catalog(struct store *st, struct store_sync_catalog *out,
    struct wsd_err *err)
{
	return CAT(st)->sync_catalog(st, out, err);
}

int
store_sync_deployments(struct store *st, const int64_t *groups,
    size_t n_groups, uint64_t *generation, struct store_sync_deploy **out,
    size_t *n_out, struct wsd_err *err)
{
	return CAT(st)->sync_deployments(st, groups, n_groups, generation,
	    out, n_out, err);
}

int
store_revision_core(struct store *st, int64_t revision_id,
    int (*fn)(void *, const char *, size_t), void *arg, struct wsd_err *err)
{
	return CAT(st)->revision_core(st, revision_id, fn, arg, err);
}

int
store_client_events_add(struct store *st, const struct store_client_event *ev,
    size_t n, size_t *added, struct wsd_err *err)
{
	return CAT(st)->client_events_add(st, ev, n, added, err);
}

int
store_client_events_recent(struct store *st, const char *computer,
    unsigned limit,
    int (*cb)(void *, const struct store_client_event_full *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->client_events_recent(st, computer, limit, cb, arg, err);
}

int
store_client_events_each(struct store *st, const char *computer_id,
    int (*cb)(void *, const struct store_client_event_row *), void *arg,
    struct wsd_err *err)
{
	return CAT(st)->client_events_each(st, computer_id, cb, arg, err);
}

int
store_computer_touch(struct store *st, const char *computer_id,
    struct wsd_err *err)
{
	return CAT(st)->computer_touch(st, computer_id, err);
}

int
store_computer_set_groups(struct store *st, const char *computer_id,
    const char *names, unsigned *matched, struct wsd_err *err)
{
	return CAT(st)->computer_set_groups(st, computer_id, names, matched,
	    err);
}

int
store_computer_details_set(struct store *st, const char *computer_id,
    const struct store_computer_details *d, struct wsd_err *err)
{
	return CAT(st)->computer_details_set(st, computer_id, d, err);
}

uint64_t
store_instance_id(struct store *st)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	struct wsd_err err;
	struct sbuf id;
	uint64_t v = 0;

	sbuf_init(&id, 256);
	if (store_meta_get(st, "server_id", &id, &err) == 0 &&
	    EVP_Digest(id.sb_buf, id.sb_len, md, &n, EVP_sha256(), NULL) == 1)
		for (int i = 0; i < 8; i++)
			v = v << 8 | md[i];
	sbuf_release(&id);
	return v;
}
