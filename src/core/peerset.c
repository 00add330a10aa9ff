/*
 * peerset.c: the peers and known addresses of a torrent, and the dial
 * policy.  See peerset.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "peerset.h"
#include "xalloc.h"

int
peerset_init(struct peerset *ps, size_t cap)
{
	memset(ps, 0, sizeof(*ps));
	ps->cap = cap > 0 && cap < PEERSET_MAX_PEERS ? cap :
	    PEERSET_MAX_PEERS;
	ps->known = thr_calloc(PEERSET_MAX_KNOWN, sizeof(*ps->known));
	return ps->known == NULL ? THR_ENOMEM : 0;
}

void
peerset_release(struct peerset *ps)
{
	for (size_t i = 0; i < ps->npeers; i++)
		peer_free(ps->peers[i]);
	ps->npeers = 0;
	free(ps->known);
	ps->known = NULL;
	ps->nknown = 0;
}

struct peerset_known *
peerset_known_find(struct peerset *ps, const struct thr_addr *a)
{
	for (size_t i = 0; i < ps->nknown; i++)
		if (addr_equal(&ps->known[i].addr, a))
			return &ps->known[i];
	return NULL;
}

struct peer *
peerset_add(struct peerset *ps, uint32_t id, const struct thr_addr *a,
    bool incoming, uint32_t npieces, enum peer_source src, uint64_t now_ms)
{
	struct peerset_known *k;
	struct peer *p;

	if (ps->npeers >= ps->cap || peerset_banned(ps, a))
		return NULL;
	if ((p = peer_new(id, a, incoming, npieces, now_ms)) == NULL)
		return NULL;
	ps->peers[ps->npeers++] = p;
	if (!incoming && (k = peerset_known_find(ps, a)) != NULL)
		p->source = k->source;
	if (src != PEER_SRC_COUNT)
		p->source = src;
	return p;
}

struct peer *
peerset_find(const struct peerset *ps, uint32_t id)
{
	for (size_t i = 0; i < ps->npeers; i++)
		if (ps->peers[i]->id == id)
			return ps->peers[i];
	return NULL;
}

bool
peerset_connected_to(const struct peerset *ps, const struct thr_addr *a)
{
	for (size_t i = 0; i < ps->npeers; i++)
		if (addr_equal(&ps->peers[i]->addr, a))
			return true;
	return false;
}

static uint64_t	peerset_retry_delay(const struct peerset_known *);

/*
 * With --encryption require, k hung up on our encrypted handshake: most
 * likely it speaks plaintext only, which we may not.  Each refusal
 * counts as a failure, so the dial back-off grows; the other transport
 * is not tried at once either, so TCP and uTP together make at most a
 * few attempts a minute.  True the first time (the caller says why).
 */
static bool
peerset_crypto_refused(struct peerset_known *k, uint64_t now_ms)
{
	uint64_t next;

	k->fails++;
	next = now_ms + peerset_retry_delay(k);
	if (k->next_try_ms < next)
		k->next_try_ms = next;
	if (k->crypto_refused)
		return false;
	k->crypto_refused = true;
	return true;
}

void
peerset_remove(struct peerset *ps, struct peer *p, enum session_crypto crypto,
    enum session_transport transport, uint64_t now_ms, bool *refused)
{
	struct peerset_known *k = peerset_known_find(ps, &p->addr);

	if (refused != NULL)
		*refused = false;
	if (k != NULL) {
		k->connected = false;
		/* It hung up on our encrypted handshake: with prefer, dial
		 * it again in plaintext at once; with require, back off. */
		if (p->phase == PEER_CRYPTO && !p->incoming &&
		    (crypto == SESSION_CRYPTO_PREFER ||
		    crypto == SESSION_CRYPTO_FULL) && !k->plain_only) {
			k->plain_only = true;
			k->next_try_ms = 0;
		} else if (p->phase == PEER_CRYPTO && !p->incoming &&
		    crypto == SESSION_CRYPTO_REQUIRE) {
			bool first = peerset_crypto_refused(k, now_ms);

			if (refused != NULL)
				*refused = first;
		} else if (p->phase != PEER_ACTIVE && !p->incoming &&
		    p->transport == PEER_TCP &&
		    transport == SESSION_TRANSPORT_BOTH &&
		    addr_is_loopback(&p->addr) && !k->no_utp &&
		    !k->try_utp) {
			/* TCP did not get through to a loopback peer: uTP
			 * next, now. */
			k->try_utp = true;
			k->next_try_ms = 0;
		}
	}
	for (size_t i = 0; i < ps->npeers; i++)
		if (ps->peers[i] == p) {
			ps->peers[i] = ps->peers[--ps->npeers];
			break;
		}
	peer_free(p);
	ps->next_dial_ms = 0;	/* a slot and maybe an address are free */
}

void
peerset_known_add(struct peerset *ps, const struct thr_addr *a,
    enum peer_source src)
{
	struct peerset_known *k;

	if (peerset_known_find(ps, a) != NULL ||
	    ps->nknown >= PEERSET_MAX_KNOWN)
		return;
	k = &ps->known[ps->nknown++];
	memset(k, 0, sizeof(*k));
	ps->next_dial_ms = 0;
	k->addr = *a;
	k->given = src == PEER_SRC_MANUAL;
	k->source = src;
}

/*
 * Wait before trying an address again: 15 s doubling per failure up to
 * 10 minutes; an address the user gave starts at 2 s and stops at 60 s,
 * since it is expected to come up (a seeder still checking its data).
 */
static uint64_t
peerset_retry_delay(const struct peerset_known *k)
{
	uint64_t base = k->given ? PEERSET_GIVEN_RETRY_MS : PEERSET_RETRY_MS;
	uint64_t cap = k->given ? 60000 : 600000;
	uint64_t d = base << (k->fails > 8 ? 8 : k->fails);

	return d < cap ? d : cap;
}

/*
 * Scanning every known address against every peer on every loop pass
 * cost O(known x peers) per wakeup; the scan runs only when something
 * changed or a retry time came, and remembers the earliest next one.
 */
bool
peerset_hold(struct peerset *ps, const struct thr_addr *a, bool self)
{
	struct peerset_known *k = peerset_known_find(ps, a);

	if (k == NULL || (self ? k->self : k->seed))
		return false;
	if (self)
		k->self = true;
	else
		k->seed = true;
	/* The hold starts when peerset_next_dial next looks at it (on the
	 * same loop turn), so no clock is needed here. */
	k->hold_ms = 0;
	ps->next_dial_ms = 0;
	return true;
}

void
peerset_unhold_seeds(struct peerset *ps)
{
	for (size_t i = 0; i < ps->nknown; i++)
		if (ps->known[i].seed) {
			ps->known[i].seed = false;
			ps->known[i].hold_ms = 0;
		}
	ps->next_dial_ms = 0;
}

/* False while k is held (a seed while we seed, ourselves); the hold
 * starts the first time this sees it and ends with one more try. */
static bool
peerset_unheld(struct peerset_known *k, uint64_t now_ms, uint64_t *next)
{
	if ((k->seed || k->self) && k->hold_ms == 0)
		k->hold_ms = now_ms + PEERSET_HOLD_MS;
	if (k->hold_ms > now_ms) {
		if (k->hold_ms < *next)
			*next = k->hold_ms;
		return false;
	}
	if (k->hold_ms != 0) {
		k->hold_ms = 0;
		k->seed = k->self = false;
	}
	return true;
}

bool
peerset_next_dial(struct peerset *ps, uint64_t now_ms, bool seeding,
    struct thr_addr *out)
{
	uint64_t next = UINT64_MAX;

	if (ps->npeers >= ps->cap || now_ms < ps->next_dial_ms)
		return false;
	for (size_t i = 0; i < ps->nknown; i++) {
		struct peerset_known *k = &ps->known[i];

		if (k->connected || peerset_banned(ps, &k->addr) ||
		    !peerset_unheld(k, now_ms, &next))
			continue;
		/* A seed needs no outgoing connections except to the
		 * addresses the user gave. */
		if (seeding && (!k->given || k->fails > 0))
			continue;
		if (k->next_try_ms > now_ms) {
			if (k->next_try_ms < next)
				next = k->next_try_ms;
			continue;
		}
		if (peerset_connected_to(ps, &k->addr))
			continue;
		k->connected = true;
		k->next_try_ms = now_ms + peerset_retry_delay(k);
		*out = k->addr;
		ps->next_dial_ms = 0;	/* more may be due */
		return true;
	}
	ps->next_dial_ms = next;
	return false;
}

uint64_t
peerset_dial_due(const struct peerset *ps)
{
	return ps->npeers >= ps->cap ? UINT64_MAX : ps->next_dial_ms;
}

bool
peerset_dial_utp(const struct peerset *ps, enum session_transport transport,
    const struct thr_addr *a)
{
	switch (transport) {
	case SESSION_TRANSPORT_UTP:
		return true;
	case SESSION_TRANSPORT_TCP:
		return false;
	case SESSION_TRANSPORT_BOTH:
		break;
	}
	for (size_t i = 0; i < ps->nknown; i++)
		if (addr_equal(&ps->known[i].addr, a))
			return !ps->known[i].no_utp &&
			    (!addr_is_loopback(a) || ps->known[i].try_utp);
	return !addr_is_loopback(a);
}

void
peerset_utp_failed(struct peerset *ps, enum session_transport transport,
    const struct thr_addr *a, uint64_t now_ms)
{
	struct peerset_known *k;

	if (transport != SESSION_TRANSPORT_BOTH) {
		peerset_connect_failed(ps, a, now_ms);	/* no TCP to try */
		return;
	}
	if ((k = peerset_known_find(ps, a)) == NULL)
		return;
	k->connected = false;
	k->no_utp = true;
	k->try_utp = false;
	k->next_try_ms = 0;
	ps->next_dial_ms = 0;
}

void
peerset_connect_failed(struct peerset *ps, const struct thr_addr *a,
    uint64_t now_ms)
{
	struct peerset_known *k;

	if ((k = peerset_known_find(ps, a)) == NULL)
		return;
	k->connected = false;
	k->fails++;
	k->next_try_ms = now_ms + peerset_retry_delay(k);
	ps->next_dial_ms = 0;
}

void
peerset_retry_all(struct peerset *ps)
{
	for (size_t i = 0; i < ps->nknown; i++) {
		ps->known[i].next_try_ms = 0;
		ps->known[i].fails = 0;
	}
	ps->next_dial_ms = 0;
}

bool
peerset_banned(const struct peerset *ps, const struct thr_addr *a)
{
	for (size_t i = 0; i < ps->nbanned; i++)
		if (ps->banned[i].family == a->family &&
		    memcmp(ps->banned[i].ip, a->ip, 16) == 0 &&
		    (ps->banned[i].port == 0 || ps->banned[i].port == a->port))
			return true;
	return false;
}

void
peerset_ban(struct peerset *ps, const struct thr_addr *a)
{
	if (peerset_banned(ps, a) || ps->nbanned >= PEERSET_MAX_BANNED)
		return;
	ps->banned[ps->nbanned] = *a;
	/* On loopback every local peer shares the IP (test swarms,
	 * experiments): ban the address with its port there. */
	if (!addr_is_loopback(a))
		ps->banned[ps->nbanned].port = 0;
	ps->nbanned++;
}
