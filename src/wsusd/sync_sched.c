/* Scheduled synchronizations: sync_sched.h. */
#include "wsusd/sync_sched.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "config/config.h"

extern char **environ;

void
sync_sched_init(struct sync_sched *s, time_t now)
{
	s->last = now;
	s->child = 0;
}

/* The first scheduled time of CF strictly after T, or 0 if none. */
static time_t
next_after(const struct config *cf, time_t t)
{
	struct tm tm;
	time_t best = 0;

	if (cf->cf_nsync_times == 0 || localtime_r(&t, &tm) == NULL)
		return 0;
	/* Today's times, then tomorrow's (mktime normalises the day). */
	for (int day = 0; day < 2 && best == 0; day++)
		for (unsigned i = 0; i < cf->cf_nsync_times; i++) {
			struct tm c = tm;
			time_t v;

			c.tm_mday += day;
			c.tm_hour = cf->cf_sync_times[i] / 60;
			c.tm_min = cf->cf_sync_times[i] % 60;
			c.tm_sec = 0;
			c.tm_isdst = -1;
			if ((v = mktime(&c)) != (time_t)-1 && v > t) {
				best = v;
				break;
			}
		}
	return best;
}

static void
start(struct sync_sched *s, const struct config *cf)
{
	char exe[PATH_MAX], tool[PATH_MAX + 16], log[PATH_MAX];
	char a_data[] = "--data", a_sync[] = "sync", a_wait[] = "--wait",
	     a_sched[] = "--scheduled";
	char *argv[] = { tool, a_data, cf->cf_datadir, a_sync, a_wait, a_sched,
		NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	ssize_t n;
	char *slash;
	int rc;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0) {
		log_warn("scheduled synchronization: cannot find wsusutil");
		return;
	}
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(tool, sizeof(tool), "%s/wsusutil", exe);
	snprintf(log, sizeof(log), "%s/sync.log", cf->cf_datadir);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log,
	    O_WRONLY | O_APPEND | O_CREAT, 0640);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	/* The main thread blocks the signals it waits for: not the child. */
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(&s->child, tool, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		errno = rc;
		log_warn("scheduled synchronization: cannot start %s", tool);
		s->child = 0;
		return;
	}
	log_info("scheduled synchronization started (pid %ld, log %s)",
	    (long)s->child, log);
}

unsigned
sync_sched_tick(struct sync_sched *s, const struct config *cf, time_t now,
    unsigned cap)
{
	time_t due = next_after(cf, s->last), next;
	int status;

	if (s->child > 0 && waitpid(s->child, &status, WNOHANG) == s->child) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			log_info("scheduled synchronization finished");
		else
			log_warnx("scheduled synchronization failed "
				  "(wsusutil sync status says why)");
		s->child = 0;
	}
	if (due != 0 && due <= now) {
		if (s->child > 0)
			log_warnx("scheduled synchronization skipped: the "
				  "previous one is still running");
		else
			start(s, cf);
	}
	s->last = now;
	if ((next = next_after(cf, now)) == 0 || next - now >= (time_t)cap)
		return s->child > 0 && cap > 5 ? 5 : cap;
	if (s->child > 0 && next - now > 5)
		return 5;
	return next - now < 1 ? 1 : (unsigned)(next - now);
}
