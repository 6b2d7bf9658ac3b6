/*
 * sync_sched: wsusd's scheduled synchronizations (wsusd.conf
 * sync_schedule, docs/CHAINING.md). At each configured local time of
 * day the main thread starts `wsusutil --data DIR sync --wait
 * --scheduled` (the wsusutil next to the wsusd binary) with its output
 * appended to DIR/sync.log, and reaps it later. The synchronization runs
 * in its own process: its Kerberos environment and any crash stay there,
 * and DIR/sync.lock keeps it from overlapping a manual one.
 */
#ifndef WSUSD_WSUSD_SYNC_SCHED_H
#define WSUSD_WSUSD_SYNC_SCHED_H

#include <sys/types.h>
#include <time.h>

struct config;

struct sync_sched {
	time_t last;  /* the previous tick */
	pid_t child;  /* a running synchronization, or 0 */
};

void sync_sched_init(struct sync_sched *s, time_t now);
/*
 * Starts the synchronizations due between the previous tick and NOW,
 * reaps a finished one, and returns how many seconds the caller may
 * sleep before the next tick (at least 1, at most CAP).
 */
unsigned sync_sched_tick(struct sync_sched *s, const struct config *cf,
    time_t now, unsigned cap);

#endif
