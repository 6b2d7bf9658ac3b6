/*
 * wuagent's SQLite state (agent_state.h).
 */
#include "wuagent/agent_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/encode.h"

struct agent_state {
	sqlite3 *db;
};

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA foreign_keys = ON;"
    "CREATE TABLE IF NOT EXISTS identity ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " computer_id TEXT NOT NULL, server TEXT NOT NULL DEFAULT '',"
    " last_change TEXT NOT NULL DEFAULT '',"
    " cookie_expiration TEXT NOT NULL DEFAULT '', cookie_data TEXT,"
    " registered INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE TABLE IF NOT EXISTS revision ("
    " revision_id INTEGER PRIMARY KEY, update_id TEXT NOT NULL,"
    " revision_number INTEGER NOT NULL, update_type TEXT NOT NULL,"
    " is_leaf INTEGER NOT NULL, action TEXT NOT NULL,"
    " deployment_id INTEGER NOT NULL, deadline TEXT NOT NULL,"
    " xml_core BLOB NOT NULL, xml_extended BLOB,"
    " title TEXT NOT NULL DEFAULT '') STRICT;"
    "CREATE INDEX IF NOT EXISTS revision_update ON revision (update_id);"
    "CREATE TABLE IF NOT EXISTS file ("
    " revision_id INTEGER NOT NULL REFERENCES revision (revision_id)"
    "  ON DELETE CASCADE,"
    " sha1 BLOB NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL,"
    " sha256 BLOB, url TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (revision_id, sha1)) STRICT;"
    "CREATE INDEX IF NOT EXISTS file_sha1 ON file (sha1);"
    "CREATE TABLE IF NOT EXISTS update_state ("
    " update_id TEXT PRIMARY KEY, revision_number INTEGER NOT NULL,"
    " revision_id INTEGER NOT NULL, state INTEGER NOT NULL,"
    " hresult INTEGER NOT NULL, time TEXT NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS event ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL,"
    " event_id INTEGER NOT NULL, update_id TEXT NOT NULL,"
    " revision_number INTEGER NOT NULL, hresult INTEGER NOT NULL,"
    " time TEXT NOT NULL, replacement TEXT NOT NULL,"
    " misc TEXT NOT NULL) STRICT;";

static int
db_fail(struct agent_state *st, struct wsd_err *err, const char *what)
{
	(void)st;
	return wsd_fail(err, WSD_EIO, what);
}

static int
prep(struct agent_state *st, const char *sql, sqlite3_stmt **q,
    struct wsd_err *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, q, NULL) != SQLITE_OK)
		return db_fail(st, err, "state database: bad statement");
	return 0;
}

/* Steps Q to completion and finalizes it. */
static int
run(struct agent_state *st, sqlite3_stmt *q, struct wsd_err *err,
    const char *what)
{
	int rc = sqlite3_step(q);

	sqlite3_finalize(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(st, err, what);
	return 0;
}

static void
bind_text(sqlite3_stmt *q, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
}

static const char *
col(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t != NULL ? (const char *)t : "";
}

static void
copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s);
}

static void
now_iso(char out[40])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
	    tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
	    tm.tm_sec % 100, (int)(ts.tv_nsec / 1000000) % 1000);
}

int
agent_state_open(const char *dir, struct agent_state **out,
    struct wsd_err *err)
{
	struct agent_state *st;
	char path[4096];
	char *msg = NULL;

	*out = NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return wsd_fail(err, WSD_EIO, "cannot create the state "
					      "directory");
	if (snprintf(path, sizeof(path), "%s/state.db", dir) >=
	    (int)sizeof(path))
		return wsd_fail(err, WSD_EINVAL, "state directory path too "
						 "long");
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return wsd_fail(err, WSD_ENOMEM, "out of memory");
	/* 0600 from the start: the cookie is a credential. */
	{
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0) {
			free(st);
			return wsd_fail(err, WSD_EIO,
			    "cannot open the state database");
		}
		close(fd);
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
				SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(st->db, 10000) != SQLITE_OK ||
	    sqlite3_exec(st->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		agent_state_close(st);
		return wsd_fail(err, WSD_EIO, "cannot open the state database");
	}
	*out = st;
	return 0;
}

void
agent_state_close(struct agent_state *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
}

static int
exec(struct agent_state *st, const char *sql, struct wsd_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, err, "state database write failed");
	return 0;
}

int
agent_state_begin(struct agent_state *st, struct wsd_err *err)
{
	return exec(st, "BEGIN IMMEDIATE", err);
}

int
agent_state_commit(struct agent_state *st, struct wsd_err *err)
{
	return exec(st, "COMMIT", err);
}

void
agent_state_rollback(struct agent_state *st)
{
	(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---------------------------------------------------------- identity */

int
agent_state_identity(struct agent_state *st, struct agent_identity *out,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prep(st, "SELECT computer_id, server, last_change, "
			   "cookie_expiration, cookie_data, registered FROM "
			   "identity WHERE id = 1",
		 &q, err)) < 0)
		return rc;
	if (sqlite3_step(q) == SQLITE_ROW) {
		copy(out->computer_id, sizeof(out->computer_id), col(q, 0));
		copy(out->server, sizeof(out->server), col(q, 1));
		copy(out->last_change, sizeof(out->last_change), col(q, 2));
		copy(out->cookie_expiration, sizeof(out->cookie_expiration),
		    col(q, 3));
		if (sqlite3_column_type(q, 4) != SQLITE_NULL &&
		    (out->cookie_data = strdup(col(q, 4))) == NULL) {
			sqlite3_finalize(q);
			return wsd_fail(err, WSD_ENOMEM, "out of memory");
		}
		out->registered = sqlite3_column_int(q, 5) != 0;
		sqlite3_finalize(q);
		return 0;
	}
	sqlite3_finalize(q);
	if ((rc = guid_generate(out->computer_id, err)) < 0)
		return rc;
	if ((rc = prep(st, "INSERT INTO identity (id, computer_id) VALUES "
			   "(1, ?1)",
		 &q, err)) < 0)
		return rc;
	bind_text(q, 1, out->computer_id);
	return run(st, q, err, "cannot store the computer id");
}

void
agent_identity_release(struct agent_identity *id)
{
	if (id == NULL)
		return;
	free(id->cookie_data);
	id->cookie_data = NULL;
}

int
agent_state_set_config(struct agent_state *st, const char *server,
    const char *last_change, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "UPDATE identity SET server = ?1, last_change = ?2 "
			   "WHERE id = 1",
		 &q, err)) < 0)
		return rc;
	bind_text(q, 1, server);
	bind_text(q, 2, last_change);
	return run(st, q, err, "cannot store the configuration");
}

int
agent_state_set_cookie(struct agent_state *st, const char *expiration,
    const char *data, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "UPDATE identity SET cookie_expiration = ?1, "
			   "cookie_data = ?2 WHERE id = 1",
		 &q, err)) < 0)
		return rc;
	bind_text(q, 1, expiration != NULL ? expiration : "");
	bind_text(q, 2, expiration != NULL ? data : NULL);
	return run(st, q, err, "cannot store the cookie");
}

int
agent_state_set_registered(struct agent_state *st, bool registered,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "UPDATE identity SET registered = ?1 WHERE id = 1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, registered);
	return run(st, q, err, "cannot store the registration");
}

int
agent_state_forget_cache(struct agent_state *st, struct wsd_err *err)
{
	return exec(st, "DELETE FROM file; DELETE FROM revision; "
			"UPDATE identity SET registered = 0, "
			"cookie_expiration = '', cookie_data = NULL",
	    err);
}

/* --------------------------------------------------------- revisions */

int
agent_state_put_revision(struct agent_state *st,
    const struct agent_revision *r, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "INSERT INTO revision (revision_id, update_id, "
			   "revision_number, update_type, is_leaf, action, "
			   "deployment_id, deadline, xml_core, xml_extended, "
			   "title) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
			   "?10, ?11) ON CONFLICT (revision_id) DO UPDATE SET "
			   "update_id = ?2, revision_number = ?3, "
			   "update_type = ?4, is_leaf = ?5, action = ?6, "
			   "deployment_id = ?7, deadline = ?8, xml_core = ?9, "
			   "xml_extended = coalesce(?10, xml_extended), "
			   "title = CASE WHEN ?11 = '' THEN title ELSE ?11 END",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, r->revision_id);
	bind_text(q, 2, r->update_id);
	sqlite3_bind_int(q, 3, r->revision_number);
	bind_text(q, 4, r->update_type);
	sqlite3_bind_int(q, 5, r->is_leaf);
	bind_text(q, 6, r->action);
	sqlite3_bind_int64(q, 7, r->deployment_id);
	bind_text(q, 8, r->deadline);
	sqlite3_bind_blob(q, 9, r->xml_core, (int)r->xml_core_len,
	    SQLITE_TRANSIENT);
	if (r->xml_extended != NULL)
		sqlite3_bind_blob(q, 10, r->xml_extended,
		    (int)r->xml_extended_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, 10);
	bind_text(q, 11, r->title != NULL ? r->title : "");
	return run(st, q, err, "cannot store a revision");
}

int
agent_state_set_deployment(struct agent_state *st, int32_t revision_id,
    const char *action, int64_t deployment_id, const char *deadline,
    bool is_leaf, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "UPDATE revision SET action = ?2, "
			   "deployment_id = ?3, deadline = ?4, is_leaf = ?5 "
			   "WHERE revision_id = ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, revision_id);
	bind_text(q, 2, action);
	sqlite3_bind_int64(q, 3, deployment_id);
	bind_text(q, 4, deadline);
	sqlite3_bind_int(q, 5, is_leaf);
	return run(st, q, err, "cannot store a deployment");
}

int
agent_state_set_extended(struct agent_state *st, int32_t revision_id,
    const char *xml, size_t len, const char *title, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "UPDATE revision SET xml_extended = "
			   "coalesce(?2, xml_extended), title = CASE WHEN ?3 "
			   "= '' THEN title ELSE ?3 END WHERE revision_id = ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, revision_id);
	if (xml != NULL)
		sqlite3_bind_blob(q, 2, xml, (int)len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, 2);
	bind_text(q, 3, title != NULL ? title : "");
	return run(st, q, err, "cannot store extended metadata");
}

int
agent_state_drop_revision(struct agent_state *st, int32_t revision_id,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "DELETE FROM revision WHERE revision_id = ?1", &q,
		 err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, revision_id);
	if ((rc = run(st, q, err, "cannot drop a revision")) < 0)
		return rc;
	/* Out of scope: nothing is left to download or install for it; an
	 * installed update stays installed. */
	if ((rc = prep(st, "UPDATE update_state SET state = ?2 WHERE "
			   "revision_id = ?1 AND state IN (?3, ?4, ?5)",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, revision_id);
	sqlite3_bind_int(q, 2, AGENT_NOT_APPLICABLE);
	sqlite3_bind_int(q, 3, AGENT_NEEDED);
	sqlite3_bind_int(q, 4, AGENT_DOWNLOADED);
	sqlite3_bind_int(q, 5, AGENT_FAILED);
	return run(st, q, err, "cannot update an update state");
}

static int
each_revision(struct agent_state *st, sqlite3_stmt *q,
    int (*fn)(void *, const struct agent_revision *), void *arg,
    bool *found, struct wsd_err *err)
{
	int rc;

	*found = false;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct agent_revision r;

		memset(&r, 0, sizeof(r));
		*found = true;
		r.revision_id = sqlite3_column_int(q, 0);
		copy(r.update_id, sizeof(r.update_id), col(q, 1));
		r.revision_number = sqlite3_column_int(q, 2);
		copy(r.update_type, sizeof(r.update_type), col(q, 3));
		r.is_leaf = sqlite3_column_int(q, 4) != 0;
		copy(r.action, sizeof(r.action), col(q, 5));
		r.deployment_id = sqlite3_column_int64(q, 6);
		copy(r.deadline, sizeof(r.deadline), col(q, 7));
		r.xml_core = sqlite3_column_blob(q, 8);
		r.xml_core_len = (size_t)sqlite3_column_bytes(q, 8);
		if (sqlite3_column_type(q, 9) != SQLITE_NULL) {
			r.xml_extended = sqlite3_column_blob(q, 9);
			r.xml_extended_len = (size_t)sqlite3_column_bytes(q,
			    9);
		}
		r.title = col(q, 10);
		if (r.xml_core == NULL)
			r.xml_core = "";
		if (fn(arg, &r) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(st, err, "cannot read revisions");
	return 0;
}

#define REV_COLS                                                             \
	"SELECT revision_id, update_id, revision_number, update_type, "      \
	"is_leaf, action, deployment_id, deadline, xml_core, xml_extended, " \
	"title FROM revision "

int
agent_state_revisions(struct agent_state *st,
    int (*fn)(void *, const struct agent_revision *), void *arg,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	bool found;
	int rc;

	if ((rc = prep(st, REV_COLS "ORDER BY revision_id", &q, err)) < 0)
		return rc;
	return each_revision(st, q, fn, arg, &found, err);
}

int
agent_state_revision(struct agent_state *st, int32_t revision_id,
    int (*fn)(void *, const struct agent_revision *), void *arg,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	bool found;
	int rc;

	if ((rc = prep(st, REV_COLS "WHERE revision_id = ?1", &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, revision_id);
	if ((rc = each_revision(st, q, fn, arg, &found, err)) < 0)
		return rc;
	return found ? 0 : wsd_fail(err, WSD_ENOTFOUND, "not cached");
}

/* ------------------------------------------------------------- files */

int
agent_state_put_file(struct agent_state *st, const struct agent_file_row *f,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "INSERT INTO file (revision_id, sha1, name, size, "
			   "sha256, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON "
			   "CONFLICT (revision_id, sha1) DO UPDATE SET name = ?3, "
			   "size = ?4, sha256 = ?5, url = CASE WHEN ?6 = '' THEN "
			   "url ELSE ?6 END",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, f->revision_id);
	sqlite3_bind_blob(q, 2, f->sha1, 20, SQLITE_TRANSIENT);
	bind_text(q, 3, f->name);
	sqlite3_bind_int64(q, 4, (int64_t)f->size);
	if (f->has_sha256)
		sqlite3_bind_blob(q, 5, f->sha256, 32, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, 5);
	bind_text(q, 6, f->url);
	return run(st, q, err, "cannot store a file");
}

int
agent_state_set_file_url(struct agent_state *st, const unsigned char sha1[20],
    const char *url, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "UPDATE file SET url = ?2 WHERE sha1 = ?1", &q,
		 err)) < 0)
		return rc;
	sqlite3_bind_blob(q, 1, sha1, 20, SQLITE_TRANSIENT);
	bind_text(q, 2, url);
	return run(st, q, err, "cannot store a file location");
}

int
agent_state_files(struct agent_state *st, int32_t revision_id,
    int (*fn)(void *, const struct agent_file_row *), void *arg,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "SELECT sha1, name, size, sha256, url FROM file "
			   "WHERE revision_id = ?1 ORDER BY name",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int(q, 1, revision_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct agent_file_row f;

		memset(&f, 0, sizeof(f));
		f.revision_id = revision_id;
		if (sqlite3_column_bytes(q, 0) == 20)
			memcpy(f.sha1, sqlite3_column_blob(q, 0), 20);
		copy(f.name, sizeof(f.name), col(q, 1));
		f.size = (uint64_t)sqlite3_column_int64(q, 2);
		if (sqlite3_column_bytes(q, 3) == 32) {
			memcpy(f.sha256, sqlite3_column_blob(q, 3), 32);
			f.has_sha256 = true;
		}
		copy(f.url, sizeof(f.url), col(q, 4));
		if (fn(arg, &f) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(st, err, "cannot read files");
	return 0;
}

/* ----------------------------------------------------- update states */

const char *
agent_update_state_name(enum agent_update_state s)
{
	static const char *const names[] = { "Unknown", "NotApplicable",
		"Needed", "Downloaded", "Installed", "InstalledPendingReboot",
		"Failed" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] :
								"Unknown";
}

int
agent_state_set_update(struct agent_state *st, const char *update_id,
    int32_t revision_number, int32_t revision_id,
    enum agent_update_state state, int32_t hresult, struct wsd_err *err)
{
	char now[40];
	sqlite3_stmt *q;
	int rc;

	now_iso(now);
	if ((rc = prep(st, "INSERT INTO update_state (update_id, "
			   "revision_number, revision_id, state, hresult, time) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT "
			   "(update_id) DO UPDATE SET revision_number = ?2, "
			   "revision_id = ?3, state = ?4, hresult = ?5, time = "
			   "CASE WHEN state = ?4 AND hresult = ?5 THEN time "
			   "ELSE ?6 END",
		 &q, err)) < 0)
		return rc;
	bind_text(q, 1, update_id);
	sqlite3_bind_int(q, 2, revision_number);
	sqlite3_bind_int(q, 3, revision_id);
	sqlite3_bind_int(q, 4, (int)state);
	sqlite3_bind_int(q, 5, hresult);
	bind_text(q, 6, now);
	return run(st, q, err, "cannot store an update state");
}

int
agent_state_get_update(struct agent_state *st, const char *update_id,
    enum agent_update_state *state, struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	*state = AGENT_UNKNOWN;
	if ((rc = prep(st, "SELECT state FROM update_state WHERE update_id = "
			   "?1",
		 &q, err)) < 0)
		return rc;
	bind_text(q, 1, update_id);
	if (sqlite3_step(q) == SQLITE_ROW)
		*state = (enum agent_update_state)sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return 0;
}

int
agent_state_updates(struct agent_state *st,
    int (*fn)(void *, const struct agent_update_row *), void *arg,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "SELECT s.update_id, s.revision_number, "
			   "s.revision_id, s.state, s.hresult, coalesce((SELECT "
			   "title FROM revision r WHERE r.revision_id = "
			   "s.revision_id), ''), s.time FROM update_state s "
			   "ORDER BY s.update_id",
		 &q, err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct agent_update_row u;

		memset(&u, 0, sizeof(u));
		copy(u.update_id, sizeof(u.update_id), col(q, 0));
		u.revision_number = sqlite3_column_int(q, 1);
		u.revision_id = sqlite3_column_int(q, 2);
		u.state = (enum agent_update_state)sqlite3_column_int(q, 3);
		u.hresult = sqlite3_column_int(q, 4);
		u.title = col(q, 5);
		u.time = col(q, 6);
		if (fn(arg, &u) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(st, err, "cannot read update states");
	return 0;
}

struct updates_in {
	unsigned states;
	struct agent_update_ref *v;
	size_t n, cap;
	bool nomem;
};

static int
take_update(void *arg, const struct agent_update_row *u)
{
	struct updates_in *l = arg;

	if ((AGENT_STATE_BIT(u->state) & l->states) == 0)
		return 0;
	if (l->n == AGENT_MAX_UPDATES)
		return 1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct agent_update_ref *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			l->nomem = true;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	memcpy(l->v[l->n].update_id, u->update_id, 37);
	l->v[l->n].revision_id = u->revision_id;
	l->v[l->n].state = u->state;
	l->n++;
	return 0;
}

int
agent_state_updates_in(struct agent_state *st, unsigned states,
    struct agent_update_ref **out, size_t *n, struct wsd_err *err)
{
	struct updates_in l = { states, NULL, 0, 0, false };
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = agent_state_updates(st, take_update, &l, err)) < 0 ||
	    l.nomem) {
		free(l.v);
		return rc < 0 ? rc : wsd_fail(err, WSD_ENOMEM,
						     "out of memory");
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

/* ------------------------------------------------------------ events */

int
agent_state_queue_event(struct agent_state *st, const struct agent_event *e,
    struct wsd_err *err)
{
	char instance[37], now[40];
	sqlite3_stmt *q;
	int rc;

	if ((rc = guid_generate(instance, err)) < 0)
		return rc;
	now_iso(now);
	if ((rc = prep(st, "INSERT INTO event (instance_id, event_id, "
			   "update_id, revision_number, hresult, time, "
			   "replacement, misc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			   "?7, ?8)",
		 &q, err)) < 0)
		return rc;
	bind_text(q, 1, instance);
	sqlite3_bind_int(q, 2, e->event_id);
	bind_text(q, 3, e->update_id[0] != '\0' ? e->update_id :
						   "00000000-0000-0000-0000-"
						   "000000000000");
	sqlite3_bind_int(q, 4, e->revision_number);
	sqlite3_bind_int(q, 5, e->hresult);
	bind_text(q, 6, now);
	bind_text(q, 7, e->replacement != NULL ? e->replacement : "");
	bind_text(q, 8, e->misc != NULL ? e->misc : "");
	return run(st, q, err, "cannot queue an event");
}

int
agent_state_events(struct agent_state *st, size_t max,
    int (*fn)(void *, const struct agent_event *), void *arg,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "SELECT id, instance_id, event_id, update_id, "
			   "revision_number, hresult, time, replacement, misc "
			   "FROM event ORDER BY id LIMIT ?1",
		 &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, (int64_t)max);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct agent_event e;

		memset(&e, 0, sizeof(e));
		e.id = sqlite3_column_int64(q, 0);
		copy(e.instance_id, sizeof(e.instance_id), col(q, 1));
		e.event_id = sqlite3_column_int(q, 2);
		copy(e.update_id, sizeof(e.update_id), col(q, 3));
		e.revision_number = sqlite3_column_int(q, 4);
		e.hresult = sqlite3_column_int(q, 5);
		copy(e.time, sizeof(e.time), col(q, 6));
		e.replacement = col(q, 7);
		e.misc = col(q, 8);
		if (fn(arg, &e) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_fail(st, err, "cannot read events");
	return 0;
}

int
agent_state_events_done(struct agent_state *st, int64_t last,
    struct wsd_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if ((rc = prep(st, "DELETE FROM event WHERE id <= ?1", &q, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, last);
	return run(st, q, err, "cannot drop reported events");
}
