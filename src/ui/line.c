/*
 * line.c: the progress line of line mode.  See line.h.
 */
#include "config.h"

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

static void
line_human(uint64_t v, char *out, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int i = 0;

	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(out, len, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}

static void
line_print(FILE *fp, const struct torrent *t, uint64_t now)
{
	char done[32], total[32], down[32], up[32], eta[32];
	uint64_t dr = rate_get((struct rate *)&t->down, now);
	uint64_t ur = rate_get((struct rate *)&t->up, now);
	size_t active = 0;

	for (size_t i = 0; i < t->ps.npeers; i++)
		if (t->ps.peers[i]->phase == PEER_ACTIVE)
			active++;
	line_human(t->mi.total_length - t->sel.left, done, sizeof(done));
	line_human(t->mi.total_length, total, sizeof(total));
	line_human(dr, down, sizeof(down));
	line_human(ur, up, sizeof(up));
	if (t->phase == TORRENT_CHECKING)
		snprintf(eta, sizeof(eta), _("checking %u/%u"), t->check_next,
		    t->mi.npieces);
	else if (t->sel.left == 0)
		snprintf(eta, sizeof(eta), "%s", _("seeding"));
	else if (dr == 0)
		snprintf(eta, sizeof(eta), "%s", _("ETA -"));
	else {
		uint64_t s = t->sel.left / dr;

		snprintf(eta, sizeof(eta), _("ETA %llu:%02llu:%02llu"),
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s / 60 % 60),
		    (unsigned long long)(s % 60));
	}
	fprintf(fp, _("thorrent: %5.1f%% %s/%s  down %s/s  up %s/s  "
	    "peers %zu  %s\n"), torrent_percent(t), done, total, down, up,
	    active, eta);
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
