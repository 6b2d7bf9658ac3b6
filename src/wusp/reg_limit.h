/*
 * New computers per source address (SECURITY.md S9). RegisterComputer of a
 * computer the store does not know yet takes a token from its address's
 * bucket: BURST tokens, refilled at PER_MINUTE a minute. An empty bucket
 * answers ServerBusy, which a client retries later (WUSP.md 5.1), and
 * writes nothing, so one address cannot fill the computer table however
 * fast it registers made-up IDs. Computers already registered, renewing
 * their details, take nothing.
 *
 * IPv6 addresses count by their /64: one host can hold a whole prefix.
 * Many real clients can share one address (a branch office behind NAT), so
 * the defaults are generous (wsusd.conf registrations_per_minute,
 * registration_burst; 0 per minute turns the limit off).
 *
 * State is one table for the process, under a mutex (only new computers
 * reach it), of fixed size: an address with a full bucket holds no state,
 * and when every slot of its set is busy the least recently used is
 * reused. Slots are chosen by a hash keyed at start, so an address cannot
 * pick whose slot it takes.
 */
#ifndef WSUSD_WUSP_REG_LIMIT_H
#define WSUSD_WUSP_REG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/socket.h>

/* true: SS may register one new computer now (a token is taken). */
bool reg_limit_take(const struct sockaddr_storage *ss, unsigned per_minute,
    unsigned burst, uint64_t now_ms);

#endif
