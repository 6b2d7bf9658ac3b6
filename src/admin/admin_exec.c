/*
 * One administrative command for a caller the admin socket or
 * ApiRemoting30 has authenticated (admin_exec.h). The command runs in a
 * separate wsusutil process, not in the daemon: the code that edits the
 * database is the one administrators run by hand, and a bug in it cannot
 * take the server down.
 */
#include "admin/admin_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/log.h"

extern char **environ;

#define ST_NOPERM 77   /* sysexits EX_NOPERM */
#define ST_TEMPFAIL 75 /* EX_TEMPFAIL: the audit log refused the line */
#define ST_SOFTWARE 70 /* EX_SOFTWARE: wsusutil did not start */
#define ST_TIMEOUT 124
#define MAX_ENV 256

static char wsusutil_path[4096] = "/usr/local/sbin/wsusutil";

void
admin_exec_init(void)
{
	char exe[sizeof(wsusutil_path) - sizeof("/wsusutil")];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return;
	*slash = '\0';
	snprintf(wsusutil_path, sizeof(wsusutil_path), "%s/wsusutil", exe);
}

static int
say(int (*sink)(void *, char, const void *, size_t), void *arg,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
say(int (*sink)(void *, char, const void *, size_t), void *arg,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return sink(arg, 'e', msg, strlen(msg));
}

static void
audit_base(struct audit_entry *e, const struct admin_caller *c, int argc,
    char *const *argv)
{
	memset(e, 0, sizeof(*e));
	e->principal = c->principal;
	e->role = admin_role_name(c->role);
	e->via = c->via;
	e->peer = c->peer;
	e->argc = argc;
	e->argv = argv;
}

/* The child's environment: ours, with the variables wsusutil reads
 * replaced by the server's own values. */
static int
child_env(const struct admin_site *cf, char **envp, char *port, size_t portsz)
{
	size_t n = 0;

	snprintf(port, portsz, "WSUSD_PORT=%u", (unsigned)cf->https_port);
	for (char **e = environ; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "WSUSD_", 6) == 0 ||
		    strncmp(*e, "WSUSUTIL_", 9) == 0)
			continue;
		if (n + 3 >= MAX_ENV)
			break;
		envp[n++] = *e;
	}
	envp[n++] = port;
	/* The line is written here; wsusutil need not write another. */
	envp[n++] = (char *)(uintptr_t)"WSUSUTIL_AUDITED=1";
	envp[n] = NULL;
	return 0;
}

static pid_t
spawn(const struct admin_site *cf, int argc, char *const *argv, int out[2],
    int errp[2])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char *args[ADMIN_ARGV_MAX];
	char *envp[MAX_ENV];
	char port[32];
	sigset_t none, defs;
	pid_t pid = -1;
	int rc;

	if (argc + 4 > ADMIN_ARGV_MAX)
		return -1;
	args[0] = wsusutil_path;
	args[1] = (char *)(uintptr_t)"--data";
	args[2] = (char *)(uintptr_t)cf->datadir;
	for (int i = 0; i < argc; i++)
		args[3 + i] = argv[i];
	args[3 + argc] = NULL;
	child_env(cf, envp, port, sizeof(port));
	sigemptyset(&none);
	sigemptyset(&defs);
	sigaddset(&defs, SIGPIPE);
	sigaddset(&defs, SIGHUP);
	sigaddset(&defs, SIGTERM);
	sigaddset(&defs, SIGINT);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
		POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &defs);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	rc = posix_spawn(&pid, wsusutil_path, &fa, &at, args, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		errno = rc;
		log_warn("admin: %s", wsusutil_path);
		return -1;
	}
	return pid;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Relays the child's output until both pipes close or the time is up;
 * a sink that fails stops the relay, not the command. */
static int
relay(pid_t pid, int outfd, int errfd,
    int (*sink)(void *, char, const void *, size_t), void *arg,
    bool *timed_out)
{
	struct pollfd pf[2] = { { outfd, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	long long deadline = now_ms() + ADMIN_EXEC_TIMEOUT_SECS * 1000LL;
	static const char chans[2] = { 'o', 'e' };
	bool sink_ok = true;
	char buf[16384];
	int open_fds = 2;

	*timed_out = false;
	while (open_fds > 0) {
		long long left = deadline - now_ms();
		int n;

		if (left <= 0) {
			*timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		n = poll(pf, 2, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; n > 0 && i < 2; i++) {
			ssize_t r;

			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			r = read(pf[i].fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				pf[i].fd = -1;
				open_fds--;
				continue;
			}
			if (sink_ok && sink(arg, chans[i], buf, (size_t)r) < 0)
				sink_ok = false;
		}
	}
	return sink_ok ? 0 : -1;
}

int
admin_exec(const struct admin_site *cf, const struct admin_caller *caller,
    int argc, char *const *argv,
    int (*sink)(void *, char, const void *, size_t), void *arg,
    int *status, bool *denied)
{
	enum admin_role need = admin_cmd_role(argc, argv);
	struct audit_entry e;
	struct wsd_err err;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	bool timed_out = false;
	int rc = 0, ws;
	pid_t pid;

	*denied = false;
	audit_base(&e, caller, argc, argv);
	if (caller->role < need || admin_cmd_takes_paths(argc, argv)) {
		char why[160];

		if (caller->role < need)
			snprintf(why, sizeof(why),
			    "needs the %s role; %s has %s",
			    admin_role_name(need), caller->principal,
			    admin_role_name(caller->role));
		else
			snprintf(why, sizeof(why),
			    "names files: run it on the server as root or "
			    "the data directory's owner");
		e.event = "denied";
		e.reason = why;
		*denied = true;
		*status = ST_NOPERM;
		log_warnx("admin: %s (%s, %s) denied %s: %s",
		    caller->principal, caller->via, caller->peer, argv[0],
		    why);
		if (audit_append(cf->audit_log, &e, &err) < 0)
			log_warnx("admin: audit log %s: %s", cf->audit_log,
			    err.what);
		return say(sink, arg, "wsusutil: %s: permission denied: %s\n",
		    argv[0], why);
	}
	e.event = "allowed";
	if (audit_append(cf->audit_log, &e, &err) < 0) {
		log_warnx("admin: audit log %s: %s: refusing %s for %s",
		    cf->audit_log, err.what, argv[0], caller->principal);
		*status = ST_TEMPFAIL;
		return say(sink, arg,
		    "wsusutil: %s: refused: the audit log cannot be written "
		    "(%s), so no change is made\n",
		    argv[0], err.what);
	}
	log_info("admin: %s (%s, %s, %s) runs %s", caller->principal,
	    admin_role_name(caller->role), caller->via, caller->peer,
	    argv[0]);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    (pid = spawn(cf, argc, argv, out, errp)) < 0) {
		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		if (errp[0] >= 0) {
			close(errp[0]);
			close(errp[1]);
		}
		*status = ST_SOFTWARE;
		e.event = "result";
		e.exit_status = *status;
		if (audit_append(cf->audit_log, &e, &err) < 0)
			log_warnx("admin: audit log %s: %s", cf->audit_log,
			    err.what);
		return say(sink, arg, "wsusutil: %s: cannot run wsusutil\n",
		    argv[0]);
	}
	close(out[1]);
	close(errp[1]);
	rc = relay(pid, out[0], errp[0], sink, arg, &timed_out);
	close(out[0]);
	close(errp[0]);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		*status = ST_TIMEOUT;
	else if (WIFEXITED(ws))
		*status = WEXITSTATUS(ws);
	else
		*status = 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	e.event = "result";
	e.exit_status = *status;
	if (audit_append(cf->audit_log, &e, &err) < 0)
		log_warnx("admin: audit log %s: %s", cf->audit_log,
		    err.what);
	if (timed_out && rc == 0)
		rc = say(sink, arg, "wsusutil: %s: killed after %d s\n",
		    argv[0], ADMIN_EXEC_TIMEOUT_SECS);
	return rc;
}
