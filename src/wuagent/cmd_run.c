/*
 * wuagent run [--once]: the service an administrator runs under systemd
 * (docs/AGENT.md, "Running as a service"). Each cycle is what the
 * Windows agent does on its own: detection (scan), then download and
 * install of what is needed, then the queued events reported; the
 * steps are the commands themselves (agent_cmd_scan, ...), so a cycle
 * behaves exactly as running them by hand. A failed step is logged and
 * the cycle goes on, except that a failed scan skips download and
 * install (what is needed is not known). Then the agent sleeps
 * DetectionFrequency hours less a random 0-20 %, as WUA spreads its
 * detections, and starts over.
 *
 * SIGTERM and SIGINT end it between steps: the current step (an
 * installer, a download) finishes, the rest of the cycle is skipped,
 * and the command exits 0. --once runs one cycle and exits with the
 * worst status of its steps. One `run` per state directory
 * (STATE_DIR/run.lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wuagent/agent_cmd.h"

/* WUA's spread: up to 20 % of the detection frequency earlier. */
#define RUN_JITTER_PERCENT 20
/* The sleep is re-measured against the clock at least this often. */
#define RUN_WAKE_S 60

static volatile sig_atomic_t run_stop;

static void
on_stop(int sig)
{
	run_stop = sig;
}

struct run_step {
	const char *name;
	agent_cmd_fn *fn;
	bool needs_scan; /* skipped when the scan failed */
};

static const struct run_step run_steps[] = {
	{ "scan", agent_cmd_scan, false },
	{ "download", agent_cmd_download, true },
	{ "install", agent_cmd_install, true },
	{ "report", agent_cmd_report, false },
};

static int
run_usage(void)
{
	fprintf(stderr, "usage: wuagent run [--once]\n");
	return 2;
}

/* Takes STATE_DIR/run.lock (created with the directory if need be);
 * the descriptor is the lock, held until exit. */
static int
lock_run(const char *state_dir)
{
	char path[AGENT_PATH_MAX + 16];
	int fd, w;

	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		(void)agent_fail("run", "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	w = snprintf(path, sizeof(path), "%s/run.lock", state_dir);
	if (w < 0 || (size_t)w >= sizeof(path)) {
		(void)agent_fail("run", "state directory path too long");
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) <
	    0) {
		(void)agent_fail("run", "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		(void)agent_fail("run", "another wuagent run is running on %s",
		    state_dir);
		return -1;
	}
	return fd;
}

/* Seconds until the next cycle: HOURS less a random 0-20 %. */
static uint64_t
next_delay(unsigned hours)
{
	uint64_t full = (uint64_t)hours * 3600;
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	/* r % 10001: 0 to 100.00 % of the jitter, in 0.01 % steps */
	return full - full * RUN_JITTER_PERCENT * (r % 10001) / (100 * 10000);
}

static double
boot_now(void)
{
	struct timespec ts;

	/* CLOCK_BOOTTIME: a suspended machine's sleep counts too. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Sleeps SECS or until SIGTERM/SIGINT. The signals are blocked while the
 * flag is tested and let through only inside ppoll, so one arriving
 * just before the wait ends it at once.
 */
static void
sleep_or_stop(uint64_t secs)
{
	double end = boot_now() + (double)secs;
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!run_stop) {
		double left = end - boot_now();
		struct timespec ts;

		if (left <= 0)
			break;
		if (left > RUN_WAKE_S)
			left = RUN_WAKE_S;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		(void)ppoll(NULL, 0, &ts, &old); /* EINTR: the flag says */
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static const char *
signal_name(int sig)
{
	return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal";
}

/* One cycle; returns the worst exit status of its steps. */
static int
cycle(struct agent_config *cf, unsigned n)
{
	bool scan_failed = false;
	int worst = 0;

	printf("run: cycle %u started\n", n);
	for (size_t i = 0; i < sizeof(run_steps) / sizeof(run_steps[0]); i++) {
		const struct run_step *s = &run_steps[i];
		int rc;

		if (run_stop) {
			printf("run: %s received: %s and the rest of cycle %u "
			       "skipped\n",
			    signal_name(run_stop), s->name, n);
			break;
		}
		if (s->needs_scan && scan_failed) {
			printf("run: %s skipped: the scan failed\n", s->name);
			continue;
		}
		printf("run: %s\n", s->name);
		/* The commands take their own arguments: none here. */
		rc = s->fn(cf, 0, NULL);
		fflush(NULL);
		if (rc > worst)
			worst = rc;
		if (rc == 0)
			continue;
		fprintf(stderr,
		    "wuagent: run: %s failed (exit status %d); the cycle goes "
		    "on\n",
		    s->name, rc);
		if (s->fn == agent_cmd_scan)
			scan_failed = true;
	}
	printf("run: cycle %u finished (worst exit status %d)\n", n, worst);
	return worst;
}

int
agent_cmd_run(struct agent_config *cf, int argc, char **argv)
{
	struct sigaction sa;
	bool once = false;
	const char *why;
	unsigned n = 0;
	int lock, rc = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0)
			once = true;
		else
			return run_usage();
	}
	if (agent_config_check(cf, &why) < 0)
		return agent_fail("run", "%s", why);
	/* A service's output goes to a pipe (the journal): a line at a
	 * time, so it reads in order with stderr. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if ((lock = lock_run(cf->state_dir)) < 0)
		return 1;
	/* SA_RESTART: a signal during a step must not fail its calls;
	 * the handlers are reset to the default in the installers
	 * (execve). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0) {
		close(lock);
		return agent_fail("run", "sigaction: %s", strerror(errno));
	}
	printf("run: wuagent %s, server %s, every %u hours less up to %d %%\n",
	    WSUSD_VERSION, cf->wu_server, cf->detection_frequency,
	    RUN_JITTER_PERCENT);
	for (;;) {
		uint64_t delay;

		rc = cycle(cf, ++n);
		if (once || run_stop)
			break;
		delay = next_delay(cf->detection_frequency);
		printf("run: next cycle in %" PRIu64 "h%02" PRIu64 "m (%" PRIu64
		       " seconds)\n",
		    delay / 3600, delay % 3600 / 60, delay);
		sleep_or_stop(delay);
		if (run_stop)
			break;
	}
	if (run_stop)
		printf("run: %s received: stopped\n", signal_name(run_stop));
	close(lock);
	/* A service stopped on purpose ends well; --once says how its one
	 * cycle went. */
	return once ? rc : 0;
}
