/*
 * header.c: the three header lines.
 *
 *   name                                   size  percent  [PAUSED]
 *   down  up  eta  ratio  peers connected/known  seeds
 *   tracker status (next announce)  port  strategy  phase
 *
 * The name and the tracker status come from the torrent and the network
 * and are drawn escaped.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ui/bar.h"
#include "ui/draw.h"

/* Seeds: connected peers that have every piece. */
static size_t
header_seeds(const struct thr_state *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->npeers; i++)
		if (s->peers[i]->phase == PEER_ACTIVE &&
		    s->peers[i]->have.nbits > 0 &&
		    bitfield_full(&s->peers[i]->have))
			n++;
	return n;
}

static size_t
header_connected(const struct thr_state *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->npeers; i++)
		if (s->peers[i]->phase == PEER_ACTIVE)
			n++;
	return n;
}

static void
header_phase(const struct thr_state *s, char *out, size_t len)
{
	switch (s->phase) {
	case STATE_CHECKING:
		snprintf(out, len, "checking %u/%u", s->check_next,
		    s->mi.npieces);
		break;
	case STATE_DOWNLOADING:
		snprintf(out, len, "downloading");
		break;
	case STATE_SEEDING:
		snprintf(out, len, "seeding");
		break;
	case STATE_DONE:
	default:
		snprintf(out, len, "done");
		break;
	}
}

void
draw_header(struct view *v, const struct thr_state *s, uint64_t now_ms)
{
	char size[32], down[32], up[32], eta[32], next[32], phase[48];
	char line[256];
	uint64_t drate, urate, secs;
	double ratio;
	int x, w;

	/*
	 * rate_get only advances the meter's slots to now (dropping slots
	 * that have gone stale), which changes no value anyone can observe
	 * except through rate_get itself, so casting away the view's const
	 * here does not change the state in any meaningful way.
	 */
	drate = rate_get((struct rate *)&s->down, now_ms);
	urate = rate_get((struct rate *)&s->up, now_ms);

	/* Line 0: name, size, percent, paused. */
	bar_human_bytes(s->mi.total_length, size, sizeof(size));
	snprintf(line, sizeof(line), "  %s  %5.1f%%", size, state_percent(s));
	x = draw_untrusted(v, 0, 0, v->cols - (int)strlen(line) -
	    (s->paused ? 8 : 0), s->mi.name != NULL ? s->mi.name : "?",
	    draw_attr(v, ROLE_TITLE));
	x += draw_text(v, 0, x, v->cols - x, line, draw_attr(v, ROLE_NORMAL));
	if (s->paused)
		draw_text(v, 0, x + 1, v->cols - x - 1, " PAUSED ",
		    draw_attr(v, ROLE_PAUSED));

	/* Line 1: rates, ETA, ratio, peers. */
	bar_human_rate(drate, down, sizeof(down));
	bar_human_rate(urate, up, sizeof(up));
	if (s->left == 0 || s->phase != STATE_DOWNLOADING || drate == 0)
		secs = UINT64_MAX;
	else
		secs = (s->left + drate - 1) / drate;
	bar_human_eta(secs, eta, sizeof(eta));
	ratio = s->mi.total_length > 0 ?
	    (double)s->uploaded / (double)s->mi.total_length : 0.0;
	snprintf(line, sizeof(line),
	    "down %s  up %s  eta %s  ratio %.2f  peers %zu/%zu  seeds %zu",
	    down, up, eta, ratio, header_connected(s), s->nknown,
	    header_seeds(s));
	draw_text(v, 1, 0, v->cols, line, draw_attr(v, ROLE_NORMAL));

	/* Line 2: tracker, port, strategy, phase. */
	if (s->tracker_phase != TRACKER_IDLE || s->tracker_next_ms == 0)
		snprintf(next, sizeof(next), "-");
	else
		bar_human_eta(s->tracker_next_ms > now_ms ?
		    (s->tracker_next_ms - now_ms) / 1000 : 0, next,
		    sizeof(next));
	header_phase(s, phase, sizeof(phase));
	snprintf(line, sizeof(line), "  next %s  port %u  %s  %s", next,
	    (unsigned)s->port, s->strategy != NULL ? s->strategy : "-", phase);
	x = draw_text(v, 2, 0, v->cols, "tracker: ", draw_attr(v, ROLE_DIM));
	/* The status keeps at least a third of a narrow line; what
	 * follows it is cut first. */
	w = v->cols - x - (int)strlen(line);
	if (w < v->cols / 3)
		w = v->cols / 3;
	x += draw_untrusted(v, 2, x, w,
	    s->tracker_status[0] != '\0' ? s->tracker_status : "-",
	    draw_attr(v, ROLE_NORMAL));
	draw_text(v, 2, x, v->cols - x, line, draw_attr(v, ROLE_NORMAL));
}
