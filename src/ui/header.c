/*
 * header.c: the three header lines.
 *
 *   name                  size  percent  [PAUSED]
 *   name   selected of size  percent, or "complete (N files skipped)"
 *   down  up  eta  ratio  peers connected/known  seeds
 *   tracker status (next announce)  DHT  port  strategy  phase  UPnP/NAT-PMP
 *
 * The name and the tracker status come from the torrent and the network
 * and are drawn escaped.
 *
 * A magnet link starts without its info dict (TORRENT_METADATA): there is
 * no size, no piece count and perhaps no name yet.  Line 0 then names
 * the torrent by its info-hash when it has no name, and shows how far
 * the metadata fetch is instead of size and percent.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ui/bar.h"
#include "ui/draw.h"

/* Seeds: connected peers that have every piece. */
static size_t
header_seeds(const struct torrent *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->ps.npeers; i++)
		if (t->ps.peers[i]->phase == PEER_ACTIVE &&
		    t->ps.peers[i]->have.nbits > 0 &&
		    bitfield_full(&t->ps.peers[i]->have))
			n++;
	return n;
}

static size_t
header_connected(const struct torrent *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->ps.npeers; i++)
		if (t->ps.peers[i]->phase == PEER_ACTIVE)
			n++;
	return n;
}

static void
header_phase(const struct torrent *t, char *out, size_t len)
{
	switch (t->phase) {
	case TORRENT_CHECKING:
		snprintf(out, len, _("checking %u/%u"), t->check_next,
		    t->mi.npieces);
		break;
	case TORRENT_DOWNLOADING:
		snprintf(out, len, "%s", _("downloading"));
		break;
	case TORRENT_SEEDING:
		snprintf(out, len, "%s", _("seeding"));
		break;
	case TORRENT_METADATA:
		snprintf(out, len, "%s", _("metadata"));
		break;
	case TORRENT_DONE:
	default:
		snprintf(out, len, "%s", _("done"));
		break;
	}
}

/*
 * One direction's rate and its limit: "down 1.0 MiB/s (limit 2.0 MiB/s)",
 * "(unlimited)" when none is set (only when verbose), or the bare rate.
 * Each variant is one whole translatable message.
 */
static void
header_rate(bool up, uint64_t rate, uint64_t limit, bool verbose, char *out,
    size_t len)
{
	char r[32], l[32];

	bar_human_rate(rate, r, sizeof(r));
	bar_human_rate(limit, l, sizeof(l));
	if (limit != 0)
		snprintf(out, len, up ? _("up %s (limit %s)") :
		    _("down %s (limit %s)"), r, l);
	else if (verbose)
		snprintf(out, len, up ? _("up %s (unlimited)") :
		    _("down %s (unlimited)"), r);
	else
		snprintf(out, len, up ? _("up %s") : _("down %s"), r);
}

/*
 * Line 1 from its parts.  Peers: connected, and the addresses known to
 * dial when there are any (a seeder that only takes incoming peers
 * knows none, and "1/0" read as nonsense).
 */
static void
header_line1(const struct torrent *t, const char *down, const char *up,
    const char *eta, double ratio, char *out, size_t len)
{
	char peers[64];

	if (t->ps.nknown > 0)
		snprintf(peers, sizeof(peers), _("peers %zu (%zu known)"),
		    header_connected(t), t->ps.nknown);
	else
		snprintf(peers, sizeof(peers), _("peers %zu"),
		    header_connected(t));
	snprintf(out, len, _("%s  %s  eta %s  ratio %.2f  %s  seeds %zu"),
	    down, up, eta, ratio, peers, header_seeds(t));
}

/* "DHT off", "DHT: bootstrapping", "DHT: 42 nodes". */
static void
header_dht(const struct torrent *t, char *out, size_t len)
{
	if (t->sess->dht == NULL)
		snprintf(out, len, "%s", _("DHT off"));
	else if (t->sess->status[SESSION_STATUS_DHT][0] != '\0')
		/* Bounded: the status is a fixed array of the state. */
		snprintf(out, len, "DHT: %.*s",
		    (int)strnlen(t->sess->status[SESSION_STATUS_DHT], sizeof(t->sess->status[SESSION_STATUS_DHT])),
		    t->sess->status[SESSION_STATUS_DHT]);
	else
		snprintf(out, len, _("DHT: %zu nodes"), t->sess->dht_nodes);
}

/* Until the info dict arrives the info-hash is the only name for sure
 * (a magnet's dn is optional). */
static void
header_hash_hex(const struct torrent *t, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 20; i++) {
		out[2 * i] = hex[t->mi.info_hash[i] >> 4];
		out[2 * i + 1] = hex[t->mi.info_hash[i] & 0x0f];
	}
	out[40] = '\0';
}

/* What line 0 shows right of the name: size and percent, or the
 * metadata fetch (in fewer words when the line is narrow). */
static void
header_progress(const struct torrent *t, bool narrow, char *out,
    size_t len)
{
	char size[32], sel[32];
	size_t skipped;

	if (t->phase == TORRENT_METADATA) {
		if (t->md.size == 0 || t->md.npieces == 0)
			snprintf(out, len, "  %s", narrow ?
			    _("metadata: waiting") :
			    _("fetching metadata: waiting for peers"));
		else
			snprintf(out, len, narrow ? _("  metadata %u/%u") :
			    _("  fetching metadata: %u/%u pieces"),
			    t->md.nhave, t->md.npieces);
		return;
	}
	bar_human_bytes(t->mi.total_length, size, sizeof(size));
	skipped = selection_skipped(&t->sel);
	if (skipped == 0) {
		snprintf(out, len, "  %s  %5.1f%%", size, torrent_percent(t));
		return;
	}
	/* Some files skipped: the selection's bytes, and once they are
	 * all here "complete", not a 100% that would claim the rest. */
	bar_human_bytes(t->sel.wanted_total, sel, sizeof(sel));
	if (torrent_complete(t))
		snprintf(out, len, ngettext("  %s of %s  complete (%zu file "
		    "skipped)", "  %s of %s  complete (%zu files skipped)",
		    skipped), sel, size, skipped);
	else
		snprintf(out, len, _("  %s of %s  %5.1f%%"), sel, size,
		    torrent_percent(t));
}

void
draw_header(struct view *v, const struct torrent *t, uint64_t now_ms)
{
	char down[96], up[96], eta[32], next[32], phase[48], dht[128];
	char hash[41], line[512], paused[64];
	const char *name;
	uint64_t drate, urate, secs;
	double ratio;
	int x, w, pw;

	/*
	 * rate_get only advances the meter's slots to now (dropping slots
	 * that have gone stale), which changes no value anyone can observe
	 * except through rate_get itself, so casting away the view's const
	 * here does not change the state in any meaningful way.
	 */
	drate = rate_get((struct rate *)&t->down, now_ms);
	urate = rate_get((struct rate *)&t->up, now_ms);

	/* Line 0: name, size, percent (or metadata progress), paused. */
	snprintf(paused, sizeof(paused), " %s ", _("PAUSED"));
	pw = t->paused ? draw_width(v, paused) : 0;
	header_progress(t, false, line, sizeof(line));
	if (v->cols - draw_width(v, line) - pw < v->cols / 3)
		header_progress(t, true, line, sizeof(line));
	name = t->mi.name;
	if (name == NULL && !t->have_meta) {
		header_hash_hex(t, hash);
		name = hash;
	}
	/* The name keeps at least a third of a narrow line (the metadata
	 * progress is long); what follows it is cut first. */
	w = v->cols - draw_width(v, line) - pw;
	if (w < v->cols / 3)
		w = v->cols / 3;
	x = draw_untrusted(v, 0, 0, w, name != NULL ? name : "?",
	    draw_attr(v, ROLE_TITLE));
	x += draw_text(v, 0, x, v->cols - x, line, draw_attr(v, ROLE_NORMAL));
	if (t->paused)
		draw_text(v, 0, x + 1, v->cols - x - 1, paused,
		    draw_attr(v, ROLE_PAUSED));

	/* Line 1: rates and limits, ETA, ratio, peers.  "(unlimited)"
	 * goes first when the line is too narrow: a limit that is set
	 * always shows. */
	if (t->sel.left == 0 || t->phase != TORRENT_DOWNLOADING || drate == 0)
		secs = UINT64_MAX;
	else
		secs = (t->sel.left + drate - 1) / drate;
	bar_human_eta(secs, eta, sizeof(eta));
	ratio = t->mi.total_length > 0 ?
	    (double)t->uploaded / (double)t->mi.total_length : 0.0;
	header_rate(false, drate, t->sess->down_limit.rate, true, down,
	    sizeof(down));
	header_rate(true, urate, t->sess->up_limit.rate, true, up, sizeof(up));
	header_line1(t, down, up, eta, ratio, line, sizeof(line));
	if (draw_width(v, line) > v->cols) {
		header_rate(false, drate, t->sess->down_limit.rate, false,
		    down, sizeof(down));
		header_rate(true, urate, t->sess->up_limit.rate, false, up,
		    sizeof(up));
		header_line1(t, down, up, eta, ratio, line, sizeof(line));
	}
	draw_text(v, 1, 0, v->cols, line, draw_attr(v, ROLE_NORMAL));

	/* Line 2: tracker, DHT, port, strategy, phase. */
	if (t->ann.phase != ANNOUNCER_IDLE || t->ann.next_ms == 0)
		snprintf(next, sizeof(next), "-");
	else
		bar_human_eta(t->ann.next_ms > now_ms ?
		    (t->ann.next_ms - now_ms) / 1000 : 0, next,
		    sizeof(next));
	header_phase(t, phase, sizeof(phase));
	header_dht(t, dht, sizeof(dht));
	/* The port mapping's status (external address) ends the line:
	 * it is the first thing cut on a narrow terminal. */
	snprintf(line, sizeof(line), _("  next %s  %s  port %u  %s  %s%s%.*s"),
	    next, dht, (unsigned)t->sess->port,
	    _(picker_strategy_name(t->pk.strategy)), phase,
	    t->sess->status[SESSION_STATUS_PORTMAP][0] != '\0' ? "  " : "",
	    (int)sizeof(t->sess->status[SESSION_STATUS_PORTMAP]), t->sess->status[SESSION_STATUS_PORTMAP]);
	x = draw_text(v, 2, 0, v->cols, _("tracker: "), draw_attr(v, ROLE_DIM));
	/* The status keeps at least a third of a narrow line; what
	 * follows it is cut first. */
	w = v->cols - x - draw_width(v, line);
	if (w < v->cols / 3)
		w = v->cols / 3;
	x += draw_untrusted(v, 2, x, w,
	    t->ann.status[0] != '\0' ? t->ann.status : "-",
	    draw_attr(v, ROLE_NORMAL));
	draw_text(v, 2, x, v->cols - x, line, draw_attr(v, ROLE_NORMAL));
}
