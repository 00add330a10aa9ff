/*
 * peerix.c: peers by id.  See peerix.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "peerix.h"
#include "xalloc.h"

#define PEERIX_FIRST	64

static size_t
peerix_home(uint32_t id, size_t cap)
{
	return (size_t)((id * 2654435761u) & (cap - 1));
}

void
peerix_init(struct peerix *x)
{
	memset(x, 0, sizeof(*x));
}

void
peerix_release(struct peerix *x)
{
	free(x->slots);
	memset(x, 0, sizeof(*x));
}

static void
peerix_place(struct peerix_slot *slots, size_t cap,
    const struct peerix_slot *e)
{
	size_t i = peerix_home(e->id, cap);

	while (slots[i].id != 0)
		i = (i + 1) & (cap - 1);
	slots[i] = *e;
}

int
peerix_put(struct peerix *x, uint32_t id, struct torrent *t, struct peer *p)
{
	struct peerix_slot e = { id, t, p };

	if (x->cap == 0 || (x->n + 1) * 2 > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : PEERIX_FIRST;
		struct peerix_slot *ns = thr_calloc(cap, sizeof(*ns));

		if (ns == NULL)
			return THR_ENOMEM;
		for (size_t i = 0; i < x->cap; i++)
			if (x->slots[i].id != 0)
				peerix_place(ns, cap, &x->slots[i]);
		free(x->slots);
		x->slots = ns;
		x->cap = cap;
	}
	peerix_place(x->slots, x->cap, &e);
	x->n++;
	return 0;
}

void
peerix_del(struct peerix *x, uint32_t id)
{
	size_t i, j;

	if (x->cap == 0)
		return;
	for (i = peerix_home(id, x->cap); x->slots[i].id != id;
	    i = (i + 1) & (x->cap - 1))
		if (x->slots[i].id == 0)
			return;
	x->slots[i].id = 0;
	x->n--;
	/* Backward shift: move later entries of the run into the hole when
	 * their home is not between the hole and them. */
	for (j = (i + 1) & (x->cap - 1); x->slots[j].id != 0;
	    j = (j + 1) & (x->cap - 1)) {
		size_t h = peerix_home(x->slots[j].id, x->cap);

		if (((j - h) & (x->cap - 1)) >= ((j - i) & (x->cap - 1))) {
			x->slots[i] = x->slots[j];
			x->slots[j].id = 0;
			i = j;
		}
	}
}

struct peer *
peerix_get(const struct peerix *x, uint32_t id, struct torrent **t)
{
	if (x->cap == 0 || id == 0)
		return NULL;
	for (size_t i = peerix_home(id, x->cap); x->slots[i].id != 0;
	    i = (i + 1) & (x->cap - 1))
		if (x->slots[i].id == id) {
			if (t != NULL)
				*t = x->slots[i].t;
			return x->slots[i].p;
		}
	return NULL;
}
