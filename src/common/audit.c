/*
 * The audit log (audit.h). A line is built whole in memory, then leaves
 * in one write(2) to a descriptor opened O_APPEND, so concurrent writers
 * never interleave within a line, and is fsynced before the caller acts.
 *
 * Escaping: a value is written bare when every byte is printable ASCII
 * other than space, '"' and '\'; otherwise in double quotes with \" \\
 * and \xHH (control bytes and bytes >= 0x80: the log stays ASCII, so no
 * terminal sequence or invalid UTF-8 reaches whoever reads it). Within
 * cmd= the arguments are separated by single spaces and a space inside
 * an argument is written \x20, so splitting on spaces before unescaping
 * gives argv back; an empty argument is written \"\".
 */
#include "common/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

/* Most bytes one field other than cmd may take: a principal, peer or
 * reason longer than this is cut, so cmd always keeps its room. */
#define AUDIT_MAX_FIELD 512

struct line {
	char *l_buf;
	size_t l_len;
	size_t l_cap; /* l_buf holds l_cap bytes, NUL included */
};

static void
put(struct line *l, const char *s, size_t n)
{
	/* Callers check room first; this only keeps a bug from writing
	 * past the end. */
	if (n > l->l_cap - 1 - l->l_len)
		n = l->l_cap - 1 - l->l_len;
	memcpy(l->l_buf + l->l_len, s, n);
	l->l_len += n;
	l->l_buf[l->l_len] = '\0';
}

static size_t
room(const struct line *l)
{
	return l->l_cap - 1 - l->l_len;
}

static bool
bare(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* C as it is written inside quotes into OUT (5 bytes); its length. */
static size_t
esc(unsigned char c, bool in_cmd, char out[5])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c > 0x20 && c < 0x7f) {
		out[0] = (char)c;
		return 1;
	}
	if (c == ' ' && !in_cmd) {
		out[0] = ' ';
		return 1;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

/*
 * " KEY=VALUE" with VALUE escaped, in at most MAX bytes (and the room
 * left); a value that does not fit is cut and ends in "...".
 */
static void
field(struct line *l, const char *key, const char *value, size_t max)
{
	size_t vlen = strlen(value), need = 0, lim;
	bool quote = vlen == 0;
	char e[5];

	for (size_t i = 0; i < vlen; i++)
		quote |= !bare((unsigned char)value[i]);
	lim = max < room(l) ? max : room(l);
	if (strlen(key) + 2 + 5 > lim) /* " k=" and "...": no room at all */
		return;
	put(l, " ", 1);
	put(l, key, strlen(key));
	put(l, "=", 1);
	lim -= strlen(key) + 2;
	if (quote) {
		put(l, "\"", 1);
		lim -= 2; /* both quotes */
	}
	for (size_t i = 0; i < vlen; i++)
		need += esc((unsigned char)value[i], false, e);
	for (size_t i = 0; i < vlen; i++) {
		size_t n = esc((unsigned char)value[i], false, e);

		if (need > lim && n + 3 > lim) {
			put(l, "...", 3);
			break;
		}
		put(l, e, n);
		lim -= n;
	}
	if (quote)
		put(l, "\"", 1);
}

/* N bytes of S when they fit in *LIM (then taken from it). */
static bool
emit(struct line *l, const char *s, size_t n, size_t *lim)
{
	if (n > *lim)
		return false;
	put(l, s, n);
	*lim -= n;
	return true;
}

/* cmd="..." from ARGV: the whole rest of the line but RESERVE bytes. */
static void
field_cmd(struct line *l, int argc, char *const *argv, size_t reserve)
{
	size_t lim, total = 0;
	bool cut, quote;
	char e[5];

	if (argv == NULL || argc < 0)
		argc = 0;
	if (room(l) < reserve + 16)
		return;
	lim = room(l) - reserve - 7; /* ' cmd=""' */
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i] != NULL ? argv[i] : "";

		total += (i > 0 ? 1 : 0) + (*a == '\0' ? 4 : 0);
		for (const char *p = a; *p != '\0'; p++)
			total += esc((unsigned char)*p, true, e);
	}
	/* One plain word stays bare, as any other value. */
	quote = argc != 1 || total == 0;
	for (const char *p = argc == 1 && argv[0] != NULL ? argv[0] : "";
	     *p != '\0'; p++)
		quote |= !bare((unsigned char)*p);
	/* Everything, when it fits; else as much as fits before "...". */
	if ((cut = total > lim))
		lim -= 3;
	put(l, quote ? " cmd=\"" : " cmd=", quote ? 6 : 5);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i] != NULL ? argv[i] : "";

		if ((i > 0 && !emit(l, " ", 1, &lim)) ||
		    (*a == '\0' && !emit(l, "\\\"\\\"", 4, &lim)))
			break;
		for (const char *p = a; *p != '\0'; p++) {
			size_t n = esc((unsigned char)*p, true, e);

			if (!emit(l, e, n, &lim))
				goto done;
		}
	}
done:
	if (cut)
		put(l, "...", 3);
	if (quote)
		put(l, "\"", 1);
}

void
audit_format(const struct audit_entry *e, long long unix_time, char *out)
{
	struct line l = { out, 0, AUDIT_MAX_LINE };
	char ts[32], num[24];
	struct tm tm;
	time_t t = (time_t)unix_time;
	size_t reserve = 0;
	bool result;

	out[0] = '\0';
	if ((long long)t != unix_time || gmtime_r(&t, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(ts, sizeof(ts), "%s", "0000-00-00T00:00:00Z");
	put(&l, ts, strlen(ts));
	field(&l, "event", e->event != NULL ? e->event : "?", AUDIT_MAX_FIELD);
	field(&l, "principal", e->principal != NULL ? e->principal : "?",
	    AUDIT_MAX_FIELD);
	if (e->role != NULL)
		field(&l, "role", e->role, AUDIT_MAX_FIELD);
	if (e->via != NULL)
		field(&l, "via", e->via, AUDIT_MAX_FIELD);
	if (e->peer != NULL)
		field(&l, "peer", e->peer, AUDIT_MAX_FIELD);
	result = e->event != NULL && strcmp(e->event, "result") == 0;
	snprintf(num, sizeof(num), "%d", e->exit_status);
	if (result)
		reserve += 32; /* " exit=" and an int, with field()'s margin */
	if (e->reason != NULL)
		reserve += AUDIT_MAX_FIELD;
	field_cmd(&l, e->argc, e->argv, reserve);
	if (e->reason != NULL)
		field(&l, "reason", e->reason, AUDIT_MAX_FIELD);
	if (result)
		field(&l, "exit", num, AUDIT_MAX_FIELD);
}

/*
 * A log root creates (wsusutil run as root on a data directory that is
 * not root's) belongs to the directory's owner, so that the server,
 * running as that owner, can append to it.
 */
static int
owner_of_dir(int fd, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) < 0)
		return -1;
	if (st.st_uid == 0 || fchown(fd, st.st_uid, st.st_gid) == 0)
		return 0;
	return -1;
}

int
audit_append(const char *path, const struct audit_entry *e, struct wsd_err *err)
{
	char buf[AUDIT_MAX_LINE + 1];
	struct stat st;
	size_t len;
	ssize_t n;
	int fd;

	audit_format(e, (long long)time(NULL), buf);
	len = strlen(buf);
	buf[len++] = '\n';
	/*
	 * O_NONBLOCK: a FIFO planted at PATH must not hang the caller (it
	 * is refused below). O_EXCL first, so a new file gets 0640 whatever
	 * the umask.
	 */
	fd = open(path,
	    O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
		O_NOCTTY | O_NONBLOCK,
	    0640);
	if (fd >= 0) {
		if (fchmod(fd, 0640) < 0 || owner_of_dir(fd, path) < 0) {
			log_warn("audit log %s", path);
			goto fail;
		}
	} else if (errno == EEXIST) {
		fd = open(path,
		    O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			O_NONBLOCK);
	}
	if (fd < 0) {
		log_warn("audit log %s", path);
		return wsd_fail(err, WSD_EIO, "cannot open the audit log");
	}
	if (fstat(fd, &st) < 0) {
		log_warn("audit log %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warnx("audit log %s: not a regular file", path);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, O_APPEND) < 0) {
		log_warn("audit log %s", path);
		goto fail;
	}
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		log_warn("audit log %s", path);
		goto fail;
	}
	if ((size_t)n != len) {
		/* A part of a line is in the file; say so, and refuse. */
		log_warnx("audit log %s: short write (%zd of %zu bytes)", path,
		    n, len);
		goto fail;
	}
	if (fsync(fd) < 0) {
		log_warn("audit log %s: fsync", path);
		goto fail;
	}
	if (close(fd) < 0) {
		log_warn("audit log %s: close", path);
		return wsd_fail(err, WSD_EIO, "cannot write the audit log");
	}
	return 0;
fail:
	close(fd);
	return wsd_fail(err, WSD_EIO, "cannot write the audit log");
}
