/*
 * Crash-safety tests stop a command at a named point and kill it there
 * (issue #4 item 9). With WSUSD_TEST_PAUSE=POINT in the environment,
 * testhook_pause(POINT) prints "paused at POINT" to stderr and sleeps
 * until killed; otherwise it does nothing.
 */
#ifndef WSUSD_COMMON_TESTHOOK_H
#define WSUSD_COMMON_TESTHOOK_H

void testhook_pause(const char *point);

#include <stdbool.h>

/*
 * Fault injection for tests that need a peer to misbehave at one point
 * (WSUSD_TEST_FAULT=POINT): true the first time POINT is reached in
 * this process, false otherwise and always without the variable.
 */
bool testhook_fault(const char *point);

#endif
