/*
 * Connections per peer address, shared by all workers (S11). A chained
 * hash under one mutex: taken once per accept and once per close, far
 * from the per-request path.
 */
#include "http/http_server_int.h"

#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#define IPLIMIT_BUCKETS 4096

struct ipnode {
	struct ipnode *next;
	unsigned char addr[16];
	unsigned count;
};

struct iplimit {
	pthread_mutex_t lock;
	struct ipnode *bucket[IPLIMIT_BUCKETS];
};

struct iplimit *
iplimit_new(void)
{
	struct iplimit *l = calloc(1, sizeof(*l));

	if (l != NULL)
		pthread_mutex_init(&l->lock, NULL);
	return l;
}

void
iplimit_free(struct iplimit *l)
{
	if (l == NULL)
		return;
	for (int i = 0; i < IPLIMIT_BUCKETS; i++) {
		struct ipnode *n = l->bucket[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* IPv4 as v4-mapped IPv6, so one key type serves both. */
static void
key_of(const struct sockaddr_storage *ss, unsigned char k[16])
{
	if (ss->ss_family == AF_INET6) {
		memcpy(k, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		return;
	}
	memset(k, 0, 10);
	k[10] = k[11] = 0xff;
	memcpy(k + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

static unsigned
hash(const unsigned char k[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ k[i]) * 16777619u;
	return h % IPLIMIT_BUCKETS;
}

bool
iplimit_take(struct iplimit *l, const struct sockaddr_storage *ss,
    unsigned max)
{
	unsigned char k[16];
	struct ipnode *n;
	unsigned b;
	bool ok = true;

	key_of(ss, k);
	b = hash(k);
	pthread_mutex_lock(&l->lock);
	for (n = l->bucket[b]; n; n = n->next)
		if (memcmp(n->addr, k, 16) == 0)
			break;
	if (n == NULL) {
		if ((n = calloc(1, sizeof(*n))) == NULL) {
			ok = false;
			goto out;
		}
		memcpy(n->addr, k, 16);
		n->next = l->bucket[b];
		l->bucket[b] = n;
	}
	if (n->count >= max)
		ok = false;
	else
		n->count++;
out:
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void
iplimit_put(struct iplimit *l, const struct sockaddr_storage *ss)
{
	struct ipnode **pp, *n;
	unsigned char k[16];

	key_of(ss, k);
	pthread_mutex_lock(&l->lock);
	for (pp = &l->bucket[hash(k)]; (n = *pp) != NULL; pp = &n->next) {
		if (memcmp(n->addr, k, 16) != 0)
			continue;
		if (--n->count == 0) {
			*pp = n->next;
			free(n);
		}
		break;
	}
	pthread_mutex_unlock(&l->lock);
}
