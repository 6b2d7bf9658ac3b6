#include "wusp/reg_limit.h"

#include <pthread.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/random.h>

#define SETS 1024
#define WAYS 4

struct slot {
	bool used;
	unsigned char key[16];
	double tokens;
	uint64_t last_ms;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot table[SETS][WAYS];
static uint64_t seed[2];
static bool seeded;

/* IPv4 as v4-mapped IPv6 (a dual-stack listener sees it so); other
 * IPv6 cut to its /64. */
static void
key_of(const struct sockaddr_storage *ss, unsigned char k[16])
{
	memset(k, 0, 16);
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;

		memcpy(k, a, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
		return;
	}
	k[10] = k[11] = 0xff;
	memcpy(k + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static unsigned
set_of(const unsigned char k[16])
{
	uint64_t a, b;

	if (!seeded) {
		/* Without randomness the table still works; only the
		 * choice of slots becomes predictable. */
		if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(seed))
			seed[0] = seed[1] = 0x9e3779b97f4a7c15ULL;
		seeded = true;
	}
	memcpy(&a, k, 8);
	memcpy(&b, k + 8, 8);
	return (unsigned)(mix(mix(a ^ seed[0]) ^ b ^ seed[1]) % SETS);
}

static double
refilled(const struct slot *s, unsigned per_minute, unsigned burst,
    uint64_t now_ms)
{
	double t = s->tokens;

	if (now_ms > s->last_ms)
		t += (double)(now_ms - s->last_ms) * per_minute / 60000.0;
	return t > burst ? burst : t;
}

bool
reg_limit_take(const struct sockaddr_storage *ss, unsigned per_minute,
    unsigned burst, uint64_t now_ms)
{
	struct slot *set, *s = NULL, *lru = NULL;
	unsigned char k[16];
	bool ok;

	if (per_minute == 0)
		return true;
	key_of(ss, k);
	pthread_mutex_lock(&lock);
	set = table[set_of(k)];
	for (int i = 0; i < WAYS && s == NULL; i++)
		if (set[i].used && memcmp(set[i].key, k, 16) == 0)
			s = &set[i];
	if (s == NULL) {
		/* A free slot, or one whose bucket is full again (it holds
		 * nothing), or else the least recently used. */
		for (int i = 0; i < WAYS && s == NULL; i++)
			if (!set[i].used ||
			    refilled(&set[i], per_minute, burst, now_ms) >=
				burst)
				s = &set[i];
		for (int i = 0; i < WAYS && s == NULL; i++)
			if (lru == NULL || set[i].last_ms < lru->last_ms)
				lru = &set[i];
		if (s == NULL)
			s = lru;
		s->used = true;
		memcpy(s->key, k, 16);
		s->tokens = burst;
		s->last_ms = now_ms;
	}
	s->tokens = refilled(s, per_minute, burst, now_ms);
	s->last_ms = now_ms > s->last_ms ? now_ms : s->last_ms;
	ok = s->tokens >= 1.0;
	if (ok)
		s->tokens -= 1.0;
	pthread_mutex_unlock(&lock);
	return ok;
}
