/*
 * line.c: the progress line of line mode.  See line.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "core/i18n.h"
#include "ui/bar.h"
#include "ui/line.h"

void
line_init(struct line *l, FILE *fp)
{
	l->fp = fp;
	l->next_ms = 0;
}

/*
 * The progress line, once a second.  Sizes, rates and the ETA are
 * formatted as the view's header formats them, and the bytes are those of
 * the selected files (--files, the files pane): a partial selection must
 * not count what it leaves out as downloaded.
 */
static void
line_print(FILE *fp, const struct torrent *t, uint64_t now)
{
	char done[32], total[32], down[32], up[32], eta[48], e[32];
	uint64_t dr = rate_get((struct rate *)&t->down, now);
	uint64_t ur = rate_get((struct rate *)&t->up, now);
	size_t active = 0;

	for (size_t i = 0; i < t->ps.npeers; i++)
		if (t->ps.peers[i]->phase == PEER_ACTIVE)
			active++;
	bar_human_bytes(t->sel.wanted_total - t->sel.left, done, sizeof(done));
	bar_human_bytes(t->sel.wanted_total, total, sizeof(total));
	bar_human_rate(dr, down, sizeof(down));
	bar_human_rate(ur, up, sizeof(up));
	if (t->phase == TORRENT_CHECKING)
		snprintf(eta, sizeof(eta), _("checking %u/%u"), t->check_next,
		    t->mi.npieces);
	else if (t->phase == TORRENT_METADATA)
		snprintf(eta, sizeof(eta), "%s", _("fetching metadata"));
	else if (t->sel.left == 0)
		snprintf(eta, sizeof(eta), "%s", _("seeding"));
	else {
		bar_human_eta(dr == 0 ? UINT64_MAX : (t->sel.left + dr - 1) /
		    dr, e, sizeof(e));
		snprintf(eta, sizeof(eta), _("eta %s"), e);
	}
	fprintf(fp, _("thorrent: %5.1f%% %s/%s  down %s  up %s  "
	    "peers %zu  %s\n"), torrent_percent(t), done, total, down, up,
	    active, eta);
}

void
line_final(FILE *fp, const struct torrent *t)
{
	char got[32], sent[32], took[32], avg[32], what[96], in[160];
	char out[160];
	size_t skipped = selection_skipped(&t->sel);
	uint64_t ms = t->last_block_ms > t->start_ms ?
	    t->last_block_ms - t->start_ms : 0;

	if (skipped > 0)
		snprintf(what, sizeof(what), ngettext("complete (%zu file "
		    "skipped)", "complete (%zu files skipped)", skipped),
		    skipped);
	else
		snprintf(what, sizeof(what), "%s", _("complete"));
	bar_human_bytes(t->verified, got, sizeof(got));
	bar_human_bytes(t->uploaded, sent, sizeof(sent));
	/* Seconds with a decimal under a minute: a loopback download
	 * takes less than one, and "0:00" would say nothing. */
	if (ms < 60000)
		snprintf(took, sizeof(took), _("%.1f s"), (double)ms / 1000);
	else
		bar_human_eta(ms / 1000, took, sizeof(took));
	bar_human_rate(ms > 0 ? t->verified * 1000 / ms : 0, avg,
	    sizeof(avg));
	if (t->verified == 0)
		snprintf(in, sizeof(in), "%s", _("nothing to download"));
	else
		snprintf(in, sizeof(in), _("%s in %s, average %s"), got, took,
		    avg);
	if (t->phase == TORRENT_DONE && t->opts.seed_ratio > 0)
		snprintf(out, sizeof(out), _("uploaded %s, seeding stopped "
		    "at ratio %.2f (--seed-ratio %g)"), sent,
		    t->mi.total_length > 0 ? (double)t->uploaded /
		    (double)t->mi.total_length : 0.0, t->opts.seed_ratio);
	else
		snprintf(out, sizeof(out), _("uploaded %s"), sent);
	fprintf(fp, "thorrent: %s: %s; %s\n", what, in, out);
}

void
line_update(struct line *l, const struct torrent *t, uint64_t now_ms)
{
	if (now_ms < l->next_ms)
		return;
	line_print(l->fp, t, now_ms);
	l->next_ms = now_ms + LINE_PERIOD_MS;
}

uint64_t
line_wait_ms(const struct line *l, uint64_t now_ms)
{
	return l->next_ms > now_ms ? l->next_ms - now_ms : 0;
}
