/* The store_sss_* wrappers: each calls the backend's sss table. */
#include "store/store_sss.h"

#include "store/store_int.h"

#define SSS(st) ((st)->st_ops->sss)

/* A backend without the area: every call fails, nothing half-done. */
static int
no_area(const struct store *st, struct wsd_err *err)
{
	if (SSS(st) == NULL)
		return wsd_fail(err, WSD_EINTERNAL,
		    "this database backend has no upstream-server tables");
	return 0;
}

int
store_sss_generation(struct store *st, uint64_t *gen, struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->generation(st, gen, err);
}

int
store_sss_revisions(struct store *st, const struct store_sss_filter *f,
    int (*cb)(void *, const char *, int32_t), void *arg, struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->revisions(st, f, cb, arg, err);
}

int
store_sss_revision_get(struct store *st, const char *update_id,
    int32_t revision_number,
    int (*cb)(void *, const struct store_revision_out *), void *arg,
    struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->revision_get(st, update_id, revision_number, cb, arg,
	    err);
}

int
store_sss_file_known(struct store *st, const unsigned char sha1[20],
    bool *known, struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->file_known(st, sha1, known, err);
}

int
store_sss_groups(struct store *st,
    int (*cb)(void *, const struct store_sss_group *), void *arg,
    struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->groups(st, cb, arg, err);
}

int
store_sss_deployments(struct store *st, int64_t after, int64_t upto,
    int (*cb)(void *, const struct store_sss_deployment *), void *arg,
    struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->deployments(st, after, upto, cb, arg, err);
}

int
store_sss_dead_deployments(struct store *st, int64_t after, int64_t upto,
    int (*cb)(void *, const char *), void *arg, struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->dead_deployments(st, after, upto, cb, arg, err);
}

int
store_sss_declined(struct store *st, int (*cb)(void *, const char *),
    void *arg, struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->declined(st, cb, arg, err);
}

int
store_sss_dss_seen(struct store *st, const char *server_id, const char *fqdn,
    struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->dss_seen(st, server_id, fqdn, err);
}

int
store_sss_dss_list(struct store *st,
    int (*cb)(void *, const struct store_sss_dss_row *), void *arg,
    struct wsd_err *err)
{
	int rc;

	if ((rc = no_area(st, err)) < 0)
		return rc;
	return SSS(st)->dss_list(st, cb, arg, err);
}
