/*
 * peers.c: the peers table, one row per connection, sorted by download
 * rate, upload rate or address ('s' cycles).  The rows are computed into
 * a local array first (at most PEERSET_MAX_PEERS), sorted, then the
 * visible slice is drawn.
 *
 * The source column (where we learned of the peer: tracker, DHT, pex,
 * incoming, manual) is optional: it is shown only when the line has room
 * for it and still leaves PEERS_BAR_MIN columns to the progress bar, so a
 * narrow terminal keeps the columns it had before.  Before a magnet's
 * metadata is known there is no piece count and the bar is left out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/webseed.h"
#include "ui/bar.h"
#include "ui/draw.h"

/* Column widths; the progress bar takes what is left. */
#define PEERS_ADDR_W	22
#define PEERS_CLIENT_W	20
#define PEERS_FLAGS_W	6
#define PEERS_RATE_W	11
#define PEERS_REQS_W	5
#define PEERS_SRC_W	8	/* "incoming", the longest source name */
#define PEERS_BAR_MAX	30
#define PEERS_BAR_MIN	10
/* The fixed columns, each followed by a blank. */
#define PEERS_FIXED_W	(PEERS_ADDR_W + PEERS_CLIENT_W + PEERS_FLAGS_W + \
			    2 * PEERS_RATE_W + PEERS_REQS_W + 6)
/* The width from which the source column is shown. */
#define PEERS_SRC_COLS	(PEERS_FIXED_W + PEERS_SRC_W + 1 + PEERS_BAR_MIN)

struct peers_row {
	const struct peer	*p;
	uint64_t		 down, up;
	char			 addr[ADDR_STR_MAX];
};

static int
peers_cmp_down(const void *a, const void *b)
{
	const struct peers_row *x = a, *y = b;

	if (x->down != y->down)
		return x->down > y->down ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

static int
peers_cmp_up(const void *a, const void *b)
{
	const struct peers_row *x = a, *y = b;

	if (x->up != y->up)
		return x->up > y->up ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

static int
peers_cmp_addr(const void *a, const void *b)
{
	const struct peers_row *x = a, *y = b;

	return strcmp(x->addr, y->addr);
}

/* Draw one field and return where the next one starts. */
static int
peers_field(struct view *v, int y, int x, int w, const char *text,
    attr_t a)
{
	draw_text(v, y, x, w, text, a);
	return x + w + 1;
}

void
draw_peers(struct view *v, const struct torrent *t, uint64_t now_ms,
    int top, int height)
{
	struct peers_row rows[PEERSET_MAX_PEERS];
	char flags[8], down[32], up[32], reqs[16], client[PEER_CLIENT_MAX + 1];
	attr_t head = draw_attr(v, ROLE_TITLE), norm = draw_attr(v, ROLE_NORMAL);
	size_t n = 0, i;
	int first, y, x, bar_w;
	bool src = v->cols >= PEERS_SRC_COLS;

	for (i = 0; i < t->ps.npeers && n < PEERSET_MAX_PEERS; i++) {
		struct peer *p = t->ps.peers[i];

		rows[n].p = p;
		/* rate_get only advances the meter's slots to now; the
		 * peer pointer is not const (the state holds pointers). */
		rows[n].down = rate_get(&p->down, now_ms);
		rows[n].up = rate_get(&p->up, now_ms);
		/* A web seed's address is made up: its host says more. */
		if (p->host[0] != '\0')
			snprintf(rows[n].addr, sizeof(rows[n].addr), "%s",
			    p->host);
		else
			addr_format(&p->addr, rows[n].addr,
			    sizeof(rows[n].addr));
		n++;
	}
	qsort(rows, n, sizeof(rows[0]), v->sort == DRAW_SORT_DOWN ?
	    peers_cmp_down : v->sort == DRAW_SORT_UP ? peers_cmp_up :
	    peers_cmp_addr);

	/* Translated headings are cut to their column, never spill. */
	x = peers_field(v, top, 0, PEERS_ADDR_W, _("address"), head);
	x = peers_field(v, top, x, PEERS_CLIENT_W, _("client"), head);
	x = peers_field(v, top, x, PEERS_FLAGS_W, _("flags"), head);
	if (src)
		x = peers_field(v, top, x, PEERS_SRC_W, _("source"), head);
	x = peers_field(v, top, x, PEERS_RATE_W, _("down"), head);
	x = peers_field(v, top, x, PEERS_RATE_W, _("up"), head);
	x = peers_field(v, top, x, PEERS_REQS_W, _("reqs"), head);
	if (t->mi.npieces > 0)
		draw_text(v, top, x, v->cols - x, _("has"), head);
	if (n == 0) {
		draw_text(v, top + 1, 0, v->cols, _("no peers connected"),
		    draw_attr(v, ROLE_DIM));
		return;
	}

	first = draw_clamp(&v->scroll[VIEW_PANE_PEERS], (int)n, height - 1);
	for (y = 1; y < height && first + y - 1 < (int)n; y++) {
		const struct peers_row *r = &rows[first + y - 1];
		const struct peer *p = r->p;

		bar_peer_flags(p, flags);
		flags[PEERS_FLAGS_W] = '\0';
		bar_human_rate(r->down, down, sizeof(down));
		bar_human_rate(r->up, up, sizeof(up));
		snprintf(reqs, sizeof(reqs), "%u", p->nreqs);
		memcpy(client, p->client, PEER_CLIENT_MAX);
		client[PEER_CLIENT_MAX] = '\0';

		/* An address is our own formatting of numbers: safe. */
		x = peers_field(v, top + y, 0, PEERS_ADDR_W, r->addr, norm);
		draw_untrusted(v, top + y, x, PEERS_CLIENT_W,
		    client[0] != '\0' ? client : "?", norm);
		x += PEERS_CLIENT_W + 1;
		x = peers_field(v, top + y, x, PEERS_FLAGS_W, flags, norm);
		if (src)
			x = peers_field(v, top + y, x, PEERS_SRC_W,
			    peer_source_name(p->source), norm);
		x = peers_field(v, top + y, x, PEERS_RATE_W, down,
		    draw_attr(v, r->down > 0 ? ROLE_HAVE : ROLE_NORMAL));
		x = peers_field(v, top + y, x, PEERS_RATE_W, up,
		    draw_attr(v, r->up > 0 ? ROLE_REQUESTED : ROLE_NORMAL));
		x = peers_field(v, top + y, x, PEERS_REQS_W, reqs, norm);
		bar_w = v->cols - x;
		if (bar_w > PEERS_BAR_MAX)
			bar_w = PEERS_BAR_MAX;
		/* No piece count yet (magnet metadata): nothing to show. */
		if (bar_w > 0 && t->mi.npieces > 0)
			draw_bar(v, top + y, x, bar_w,
			    bar_peer_progress(t, p), draw_attr(v, ROLE_HAVE));
	}
}
