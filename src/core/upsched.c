/*
 * upsched.c: deficit round robin over connections.  See upsched.h.
 */
#include "config.h"

#include <string.h>

#include "err.h"
#include "upsched.h"

void
upsched_init(struct upsched *u, uint32_t quantum)
{
	memset(u, 0, sizeof(*u));
	u->quantum = quantum > 0 ? quantum : 1;
}

static size_t
hash_of(uint32_t id)
{
	return (size_t)((id * 2654435761u) >> 7) & (UPSCHED_TABLE - 1);
}

/* Where id's entry is in the table, or the empty entry ending its probe
 * sequence.  The table is never full (twice the flows), so this ends. */
static size_t
probe(const struct upsched *u, uint32_t id)
{
	size_t h = hash_of(id);

	while (u->table[h] != 0 && u->flows[u->table[h] - 1].id != id)
		h = (h + 1) & (UPSCHED_TABLE - 1);
	return h;
}

static struct upsched_flow *
find(struct upsched *u, uint32_t id)
{
	size_t h;

	if (id == 0)
		return NULL;
	h = probe(u, id);
	return u->table[h] != 0 ? &u->flows[u->table[h] - 1] : NULL;
}

/* Drop entry h and close the gap (backward shift), so that no probe
 * sequence is cut short. */
static void
table_delete(struct upsched *u, size_t h)
{
	size_t j = h;

	u->table[h] = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & (UPSCHED_TABLE - 1);
		if (u->table[j] == 0)
			return;
		home = hash_of(u->flows[u->table[j] - 1].id);
		/* j's entry may fill the hole at h unless its home lies
		 * cyclically in (h, j]. */
		if ((h < j && (home <= h || home > j)) ||
		    (h > j && home <= h && home > j)) {
			u->table[h] = u->table[j];
			u->table[j] = 0;
			h = j;
		}
	}
}

static void
ring_push(struct upsched *u, size_t slot)
{
	u->ring[(u->head + u->nactive) % UPSCHED_MAX_FLOWS] = (uint16_t)slot;
	u->nactive++;
	u->flows[slot].active = true;
}

/* The head leaves the round; the next flow's turn begins. */
static size_t
ring_pop(struct upsched *u)
{
	size_t slot = u->ring[u->head];

	u->head = (u->head + 1) % UPSCHED_MAX_FLOWS;
	u->nactive--;
	u->credited = false;
	return slot;
}

int
upsched_add(struct upsched *u, uint32_t id)
{
	size_t h, slot;

	if (id == 0 || find(u, id) != NULL)
		return THR_EINVAL;
	if (u->n == UPSCHED_MAX_FLOWS)
		return THR_ELIMIT;
	for (slot = 0; u->flows[slot].id != 0; slot++)
		;	/* a free one exists: n < UPSCHED_MAX_FLOWS */
	u->flows[slot].id = id;
	u->flows[slot].deficit = 0;
	h = probe(u, id);
	u->table[h] = (uint16_t)(slot + 1);
	u->n++;
	ring_push(u, slot);
	return 0;
}

void
upsched_wake(struct upsched *u, uint32_t id)
{
	struct upsched_flow *f = find(u, id);

	if (f != NULL && !f->active) {
		f->deficit = 0;
		ring_push(u, (size_t)(f - u->flows));
	}
}

void
upsched_remove(struct upsched *u, uint32_t id)
{
	size_t h = probe(u, id), slot;

	if (id == 0 || u->table[h] == 0)
		return;
	slot = u->table[h] - 1;
	table_delete(u, h);
	if (u->flows[slot].active) {
		size_t k, at = 0;

		/* Closing a connection is rare: a walk of the round. */
		for (k = 0; k < u->nactive; k++)
			if (u->ring[(u->head + k) % UPSCHED_MAX_FLOWS] == slot)
				at = k;
		if (at == 0)
			u->credited = false;	/* the next one's turn */
		for (k = at; k + 1 < u->nactive; k++)
			u->ring[(u->head + k) % UPSCHED_MAX_FLOWS] =
			    u->ring[(u->head + k + 1) % UPSCHED_MAX_FLOWS];
		u->nactive--;
	}
	memset(&u->flows[slot], 0, sizeof(u->flows[slot]));
	u->n--;
}

uint32_t
upsched_next(struct upsched *u, upsched_cost_fn *cost, void *ctx,
    uint32_t *bytes)
{
	/*
	 * Ends: a flow with nothing to send leaves the round, and every
	 * full cycle adds a quantum to each flow still in it, so one of
	 * them covers its unit (at most UPSCHED_MAX_UNIT for the
	 * comparison) within UPSCHED_MAX_UNIT / quantum + 1 cycles.
	 */
	while (u->nactive > 0) {
		size_t slot = u->ring[u->head];
		struct upsched_flow *f = &u->flows[slot];
		uint32_t c = cost(ctx, f->id), need;

		if (c == 0) {
			(void)ring_pop(u);
			f->active = false;
			f->deficit = 0;	/* no credit kept while idle */
			continue;
		}
		if (!u->credited) {
			f->deficit += u->quantum;
			u->credited = true;
		}
		need = c < UPSCHED_MAX_UNIT ? c : UPSCHED_MAX_UNIT;
		if (f->deficit >= (int64_t)need) {
			*bytes = c;
			return f->id;
		}
		ring_push(u, ring_pop(u));	/* the turn passes on */
	}
	return 0;
}

void
upsched_charge(struct upsched *u, uint32_t id, uint32_t bytes)
{
	struct upsched_flow *f = find(u, id);

	if (f != NULL)
		f->deficit -= bytes;
}
