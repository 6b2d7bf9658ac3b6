#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "wusp/reg_limit.h"

/* The limiter is one table for the process: each test uses its own
 * addresses and its own clock. */

static struct sockaddr_storage
v4(const char *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	in->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, a, &in->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage
v6(const char *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *in = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	in->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, a, &in->sin6_addr), 1);
	return ss;
}

/* How many of N attempts at time T pass. */
static unsigned
takes(const struct sockaddr_storage *ss, unsigned n, unsigned per_minute,
    unsigned burst, uint64_t t)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += reg_limit_take(ss, per_minute, burst, t);
	return ok;
}

static void
test_burst_then_refill(void **state)
{
	struct sockaddr_storage a = v4("192.0.2.1"), b = v4("192.0.2.2");

	(void)state;
	assert_int_equal(takes(&a, 100, 60, 10, 1000), 10);
	/* Another address has its own budget. */
	assert_int_equal(takes(&b, 3, 60, 10, 1000), 3);
	/* 60 a minute: one a second. Half a second gives none. */
	assert_int_equal(takes(&a, 5, 60, 10, 1500), 0);
	assert_int_equal(takes(&a, 5, 60, 10, 4000), 3);
	/* Never more than the burst, however long it waited. */
	assert_int_equal(takes(&a, 100, 60, 10, 10000000), 10);
	/* A clock that goes back adds nothing. */
	assert_int_equal(takes(&a, 5, 60, 10, 9000000), 0);
}

static void
test_off(void **state)
{
	struct sockaddr_storage a = v4("192.0.2.3");

	(void)state;
	assert_int_equal(takes(&a, 1000, 0, 1, 1000), 1000);
}

static void
test_ipv6_by_prefix(void **state)
{
	struct sockaddr_storage a = v6("2001:db8:1:2::1"),
				b = v6("2001:db8:1:2:ffff::9"),
				c = v6("2001:db8:1:3::1"),
				m = v4("198.51.100.7"),
				mapped = v6("::ffff:198.51.100.7");

	(void)state;
	/* One /64: one budget, whichever host in it asks. */
	assert_int_equal(takes(&a, 3, 60, 5, 1000), 3);
	assert_int_equal(takes(&b, 10, 60, 5, 1000), 2);
	assert_int_equal(takes(&c, 10, 60, 5, 1000), 5);
	/* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d: the
	 * same budget as the plain address, and not one /64 shared by
	 * every IPv4 client. */
	assert_int_equal(takes(&m, 2, 60, 5, 1000), 2);
	assert_int_equal(takes(&mapped, 10, 60, 5, 1000), 3);
	{
		struct sockaddr_storage other = v6("::ffff:198.51.100.8");

		assert_int_equal(takes(&other, 10, 60, 5, 1000), 5);
	}
}

static void
test_many_addresses(void **state)
{
	struct sockaddr_storage first = v4("203.0.113.1");
	char a[32];

	(void)state;
	assert_int_equal(takes(&first, 10, 60, 4, 5000), 4);
	/* Far more addresses than slots, each spending its budget: the
	 * table stays bounded and every new address gets its own burst. */
	for (unsigned i = 0; i < 20000; i++) {
		struct sockaddr_storage x;

		snprintf(a, sizeof(a), "10.%u.%u.%u", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		x = v4(a);
		assert_int_equal(takes(&x, 6, 60, 4, 5000), 4);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refill),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_ipv6_by_prefix),
		cmocka_unit_test(test_many_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
