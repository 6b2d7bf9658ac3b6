#include "common/testhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
testhook_pause(const char *point)
{
	const char *want = getenv("WSUSD_TEST_PAUSE");

	if (want == NULL || strcmp(want, point) != 0)
		return;
	fprintf(stderr, "paused at %s\n", point);
	fflush(stderr);
	for (int i = 0; i < 600; i++) /* bounded: ten minutes at most */
		sleep(1);
}

bool
testhook_fault(const char *point)
{
	static bool fired;
	const char *want = getenv("WSUSD_TEST_FAULT");

	if (fired || want == NULL || strcmp(want, point) != 0)
		return false;
	fired = true;
	fprintf(stderr, "fault injected at %s\n", point);
	return true;
}
