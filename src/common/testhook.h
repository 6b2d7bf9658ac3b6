/*
 * Crash-safety tests stop a command at a named point and kill it there
 * (issue #4 item 9). With WSUSD_TEST_PAUSE=POINT in the environment,
 * testhook_pause(POINT) prints "paused at POINT" to stderr and sleeps
 * until killed; otherwise it does nothing.
 */
#ifndef WSUSD_COMMON_TESTHOOK_H
#define WSUSD_COMMON_TESTHOOK_H

void testhook_pause(const char *point);

#endif
