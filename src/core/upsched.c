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

static struct upsched_flow *
find(struct upsched *u, uint32_t id, size_t *at)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->flows[i].id == id) {
			if (at != NULL)
				*at = i;
			return &u->flows[i];
		}
	return NULL;
}

int
upsched_add(struct upsched *u, uint32_t id)
{
	if (id == 0 || find(u, id, NULL) != NULL)
		return THR_EINVAL;
	if (u->n == UPSCHED_MAX_FLOWS)
		return THR_ELIMIT;
	u->flows[u->n].id = id;
	u->flows[u->n].deficit = 0;
	u->n++;
	return 0;
}

void
upsched_remove(struct upsched *u, uint32_t id)
{
	size_t at;

	if (find(u, id, &at) == NULL)
		return;
	memmove(&u->flows[at], &u->flows[at + 1],
	    (u->n - at - 1) * sizeof(u->flows[0]));
	u->n--;
	/* The cursor keeps pointing at the same flow; if that flow was
	 * the one removed, the next one's turn begins. */
	if (at < u->cur)
		u->cur--;
	else if (at == u->cur)
		u->credited = false;
	if (u->cur >= u->n)
		u->cur = 0;
}

/* The turn passes to the next flow. */
static void
turn_over(struct upsched *u)
{
	u->cur = u->cur + 1 < u->n ? u->cur + 1 : 0;
	u->credited = false;
}

uint32_t
upsched_next(struct upsched *u, upsched_cost_fn *cost, void *ctx,
    uint32_t *bytes)
{
	size_t idle = 0;	/* flows in a row with nothing to send */

	/*
	 * Ends: every full cycle without an idle flow adds a quantum to
	 * each flow that wants to send, so one of them covers its unit
	 * (at most UPSCHED_MAX_UNIT for the comparison) within
	 * UPSCHED_MAX_UNIT / quantum + 1 cycles; a cycle of idle flows
	 * returns 0.
	 */
	while (u->n > 0 && idle < u->n) {
		struct upsched_flow *f = &u->flows[u->cur];
		uint32_t c = cost(ctx, f->id), need;

		if (c == 0) {
			f->deficit = 0;	/* no credit kept while idle */
			turn_over(u);
			idle++;
			continue;
		}
		idle = 0;
		if (!u->credited) {
			f->deficit += u->quantum;
			u->credited = true;
		}
		need = c < UPSCHED_MAX_UNIT ? c : UPSCHED_MAX_UNIT;
		if (f->deficit >= (int64_t)need) {
			*bytes = c;
			return f->id;
		}
		turn_over(u);
	}
	return 0;
}

void
upsched_charge(struct upsched *u, uint32_t id, uint32_t bytes)
{
	struct upsched_flow *f = find(u, id, NULL);

	if (f != NULL)
		f->deficit -= bytes;
}
