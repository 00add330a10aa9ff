/*
 * swarm_report.c: what "thorrent swarm" makes of its children once they
 * have stopped: their data compared with the payload, their traces
 * merged on the experiment clock, the figures of the summary, and
 * peers.tsv.  See swarm.h.
 *
 * The merge reads each trace once, in time order across the children,
 * and feeds the leechers' lines to swarm_account, which keeps per
 * leecher and piece the first verified time and the first block from a
 * seeder (struct swarm: hash_ok, seed_first).  The summary is computed
 * from those two tables and the children's own closing counts (their
 * traces' "stop" events).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cmd/cmd.h"
#include "cmd/swarm.h"
#include "core/i18n.h"

#define SWARM_CMP_CHUNK		65536	/* bytes compared at once */

/* Byte-for-byte comparison of two files. */
static bool
swarm_same_file(const char *a, const char *b)
{
	char *x = malloc(SWARM_CMP_CHUNK), *y = malloc(SWARM_CMP_CHUNK);
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	bool same = x != NULL && y != NULL && fa != NULL && fb != NULL;

	while (same) {
		size_t na = fread(x, 1, SWARM_CMP_CHUNK, fa);
		size_t nb = fread(y, 1, SWARM_CMP_CHUNK, fb);

		if (na != nb || memcmp(x, y, na) != 0)
			same = false;
		else if (na == 0)
			break;
	}
	if (same && (ferror(fa) || ferror(fb)))
		same = false;
	if (fa != NULL)
		fclose(fa);
	if (fb != NULL)
		fclose(fb);
	free(x);
	free(y);
	return same;
}

void
swarm_verify(struct swarm *sw)
{
	char path[PATH_MAX + 16];

	for (int i = 0; i < sw->nkids; i++) {
		struct swarm_child *k = &sw->kids[i];

		if (k->seeder || !k->complete)
			continue;
		snprintf(path, sizeof(path), "%s/%s", k->dir, SWARM_PAYLOAD);
		k->verified = swarm_same_file(sw->payload, path);
	}
}

/* --- traces ----------------------------------------------------------- */

/* True if a trace line's "addr" (IP:PORT) is a seeder's: every child
 * has an address of its own, so the IP says who, whichever side dialled
 * and from whatever port. */
static bool
swarm_is_seeder_addr(const struct swarm *sw, const char *line)
{
	char a[64];

	if (!harness_line_str(line, "addr", a, sizeof(a)))
		return false;
	for (int j = 0; j < sw->o.nseed; j++) {
		size_t n = strlen(sw->kids[j].addr);

		if (strncmp(a, sw->kids[j].addr, n) == 0 && a[n] == ':')
			return true;
	}
	return false;
}

static bool
swarm_from_seeder(const struct swarm_child *k, unsigned peer)
{
	for (size_t i = 0; i < k->nseedconn; i++)
		if (k->seedconn[i] == peer)
			return true;
	return false;
}

/* A hash_ok of leecher li at t: the first per piece, and the gap. */
static void
swarm_account_ok(struct swarm *sw, int li, int64_t t, uint64_t index)
{
	struct swarm_child *k = &sw->kids[sw->o.nseed + li];
	int64_t *slot = &sw->hash_ok[(size_t)li * sw->npieces + index];

	if (*slot >= 0)
		return;
	*slot = t;
	/* Lines come in time order: the gap since the last one. */
	if (k->last_ok_us >= 0 && t - k->last_ok_us > k->gap_us) {
		k->gap_us = t - k->last_ok_us;
		k->gap_at_us = k->last_ok_us;
	}
	k->last_ok_us = t;
}

/* One leecher event, t on the experiment clock. */
static void
swarm_account(struct swarm *sw, int li, int64_t t, const char *line)
{
	struct swarm_child *k = &sw->kids[sw->o.nseed + li];
	uint64_t peer, index, len;
	int64_t *slot;

	if (harness_line_is(line, "connect")) {
		if (!harness_line_u64(line, "peer", &peer) ||
		    !swarm_is_seeder_addr(sw, line))
			return;
		if (k->nseedconn < SWARM_SEEDCONN_MAX)
			k->seedconn[k->nseedconn++] = (unsigned)peer;
	} else if (harness_line_is(line, "piece")) {
		if (!harness_line_u64(line, "peer", &peer) ||
		    !harness_line_u64(line, "index", &index) ||
		    !harness_line_u64(line, "length", &len) ||
		    index >= sw->npieces ||
		    !swarm_from_seeder(k, (unsigned)peer))
			return;
		k->from_seeds += len;
		slot = &sw->seed_first[(size_t)li * sw->npieces + index];
		if (*slot < 0)
			*slot = t;
	} else if (harness_line_is(line, "hash_ok")) {
		if (harness_line_u64(line, "index", &index) &&
		    index < sw->npieces)
			swarm_account_ok(sw, li, t, index);
	}
}

/* One child's trace, read a line at a time for the merge. */
struct swarm_src {
	FILE	*fp;
	char	*line;
	size_t	 cap;
	int64_t	 t;		/* experiment clock of line */
	char	*rest;		/* line after the "t" value */
};

/* Next well-formed line of a trace; false at its end. */
static bool
swarm_src_next(struct swarm *sw, struct swarm_src *src, int64_t start_us)
{
	ssize_t n;
	char *end;
	unsigned long long t;

	while (src->fp != NULL &&
	    (n = getline(&src->line, &src->cap, src->fp)) > 0) {
		/* A child killed mid-write leaves a partial last line. */
		if (src->line[n - 1] != '\n' || n > SWARM_LINE_MAX ||
		    strncmp(src->line, "{\"t\":", 5) != 0) {
			sw->bad_lines++;
			continue;
		}
		errno = 0;
		t = strtoull(src->line + 5, &end, 10);
		if (errno != 0 || end == src->line + 5 || *end != ',' ||
		    t > INT64_MAX / 2) {
			sw->bad_lines++;
			continue;
		}
		src->t = start_us + (int64_t)t;
		src->rest = end;
		return true;
	}
	return false;
}

/* The source whose next line is the earliest, or -1 when all ended. */
static int
swarm_src_first(const struct swarm *sw, const struct swarm_src *src)
{
	int best = -1;

	for (int i = 0; i < sw->nkids; i++)
		if (src[i].fp != NULL && (best < 0 || src[i].t < src[best].t))
			best = i;
	return best;
}

static void
swarm_src_advance(struct swarm *sw, struct swarm_src *src, int i)
{
	if (!swarm_src_next(sw, &src[i], sw->kids[i].start_us) &&
	    src[i].fp != NULL) {
		fclose(src[i].fp);
		src[i].fp = NULL;
	}
}

/*
 * Merge the children's traces, each already in time order, into
 * OUT/merged.jsonl: every line gets the experiment clock as "t" and its
 * source as "src".  Leecher lines feed the metrics on the way.
 */
static int
swarm_merge(struct swarm *sw)
{
	struct swarm_src *src;
	char path[PATH_MAX + 16];
	FILE *out;
	int best;

	snprintf(path, sizeof(path), "%s/merged.jsonl", sw->out);
	if ((out = fopen(path, "w")) == NULL)
		return -1;
	if ((src = calloc((size_t)sw->nkids, sizeof(*src))) == NULL) {
		fclose(out);
		return -1;
	}
	for (int i = 0; i < sw->nkids; i++) {
		src[i].fp = fopen(sw->kids[i].hc->trace, "r");
		swarm_src_advance(sw, src, i);
	}
	while ((best = swarm_src_first(sw, src)) >= 0) {
		fprintf(out, "{\"t\":%" PRId64 ",\"src\":\"%s\"%s",
		    src[best].t, sw->kids[best].hc->name, src[best].rest);
		if (best >= sw->o.nseed)
			swarm_account(sw, best - sw->o.nseed, src[best].t,
			    src[best].rest);
		swarm_src_advance(sw, src, best);
	}
	for (int i = 0; i < sw->nkids; i++)
		free(src[i].line);
	free(src);
	return fclose(out) != 0 ? -1 : 0;
}

/* --- summary ---------------------------------------------------------- */

/* The figures of the summary. */
struct swarm_tally {
	int64_t		*times;		/* completion of each leecher that
					 * completed, sorted; owned */
	int		 ndone, nver;
	int64_t		 spread;	/* every piece at some leecher */
	bool		 spread_ok;
	uint64_t	 seedup;	/* from the leechers' traces */
	uint64_t	 seedlog;	/* the seeders' own counts */
	bool		 logs_ok;	/* every seeder gave its count */
	uint64_t	 seedpieces;	/* sent by seeders by the spread */
	int		 worst;		/* the kid with the longest gap */
};

static int
swarm_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
swarm_sec(int64_t us)
{
	return (double)us / 1e6;
}

/* Leecher i: its completion time, exact from its last hash_ok when
 * every piece has one (the trace's "phase" is the fallback). */
static void
swarm_tally_leecher(struct swarm *sw, int i, struct swarm_tally *ty)
{
	struct swarm_child *k = &sw->kids[sw->o.nseed + i];
	int64_t last = -1;
	uint32_t have = 0;

	if (k->gap_us >= 0 &&
	    (ty->worst < 0 || k->gap_us > sw->kids[ty->worst].gap_us))
		ty->worst = sw->o.nseed + i;
	for (uint32_t pc = 0; pc < sw->npieces; pc++) {
		int64_t t = sw->hash_ok[(size_t)i * sw->npieces + pc];

		if (t >= 0) {
			have++;
			if (t > last)
				last = t;
		}
	}
	if (k->complete && have == sw->npieces)
		k->done_us = last;
	if (k->complete)
		ty->times[ty->ndone++] = k->done_us;
	ty->nver += k->complete && k->verified;
	ty->seedup += k->from_seeds;
}

/* The piece spread, and the seeders' pieces sent by then. */
static void
swarm_tally_spread(const struct swarm *sw, struct swarm_tally *ty)
{
	size_t cells = (size_t)sw->o.nleech * sw->npieces;

	ty->spread_ok = true;
	for (uint32_t pc = 0; pc < sw->npieces && ty->spread_ok; pc++) {
		int64_t first = -1;

		for (int i = 0; i < sw->o.nleech; i++) {
			int64_t t = sw->hash_ok[(size_t)i * sw->npieces + pc];

			if (t >= 0 && (first < 0 || t < first))
				first = t;
		}
		if (first < 0)
			ty->spread_ok = false;
		else if (first > ty->spread)
			ty->spread = first;
	}
	if (ty->spread_ok)
		for (size_t x = 0; x < cells; x++)
			ty->seedpieces += sw->seed_first[x] >= 0 &&
			    sw->seed_first[x] <= ty->spread;
}

static void
swarm_tally(struct swarm *sw, struct swarm_tally *ty)
{
	ty->worst = -1;
	ty->logs_ok = true;
	for (int i = 0; i < sw->o.nleech; i++)
		swarm_tally_leecher(sw, i, ty);
	for (int j = 0; j < sw->o.nseed; j++) {
		const struct harness_seen *w = &sw->kids[j].hc->seen;

		ty->seedlog += w->uploaded;
		ty->logs_ok = ty->logs_ok && w->stopped;
	}
	swarm_tally_spread(sw, ty);
	qsort(ty->times, (size_t)ty->ndone, sizeof(*ty->times),
	    swarm_cmp_i64);
}

/* The set-up line and the payload and completion lines. */
static void
swarm_print_setup(const struct swarm *sw, const struct swarm_tally *ty,
    FILE *fp)
{
	const struct swarm_opts *o = &sw->o;
	const char *how = sw->use_tracker ? _("opentracker") :
	    _("--peer lists");
	int nl = o->nleech, n = ty->ndone;

	if (o->leech_max_up != NULL)
		fprintf(fp, _("thorrent swarm: strategy %s, seed %" PRIu64 ", "
		    "%d seeders at %s/s, %d leechers at %s/s, %s\n"),
		    o->strategy, o->seed, o->nseed, o->max_up, nl,
		    o->leech_max_up, how);
	else
		fprintf(fp, _("thorrent swarm: strategy %s, seed %" PRIu64 ", "
		    "%d seeders at %s/s, %d leechers, %s\n"), o->strategy,
		    o->seed, o->nseed, o->max_up, nl, how);
	fprintf(fp, "%-28s %" PRIu64 " %s, %" PRIu32 " %s %" PRIu64 " %s\n",
	    _("payload"), o->size, _("bytes"), sw->npieces,
	    _("pieces of"), sw->piece_len, _("bytes"));
	fprintf(fp, "%-28s %d / %d, %s %d / %d\n", _("leechers complete"),
	    n, nl, _("data verified"), ty->nver, nl);
	if (n > 0)
		fprintf(fp, "%-28s %s %.2f  %s %.2f  %s %.2f\n",
		    _("completion (s)"), _("min"), swarm_sec(ty->times[0]),
		    _("median"), swarm_sec(n % 2 ? ty->times[n / 2] :
		    (ty->times[n / 2 - 1] + ty->times[n / 2]) / 2), _("max"),
		    swarm_sec(ty->times[n - 1]));
	else
		fprintf(fp, "%-28s %s\n", _("completion (s)"), _("none"));
}

/* Upload, spread, gap and unreadable lines. */
static void
swarm_print_figures(const struct swarm *sw, const struct swarm_tally *ty,
    FILE *fp)
{
	double size = (double)sw->o.size;

	fprintf(fp, "%-28s %" PRIu64 " %s = %.3f x %s\n",
	    _("seeder upload (traces)"), ty->seedup, _("bytes"),
	    (double)ty->seedup / size, _("payload"));
	/* The seeders' own closing counts; the line kept its name from
	 * when they came from the logs. */
	if (ty->logs_ok)
		fprintf(fp, "%-28s %" PRIu64 " %s = %.3f x %s\n",
		    _("seeder upload (logs)"), ty->seedlog, _("bytes"),
		    (double)ty->seedlog / size, _("payload"));
	if (ty->spread_ok) {
		fprintf(fp, "%-28s %.2f\n", _("piece spread (s)"),
		    swarm_sec(ty->spread));
		fprintf(fp, "%-28s %" PRIu64 " = %.3f x %s\n",
		    _("seeder pieces by then"), ty->seedpieces,
		    (double)ty->seedpieces / (double)sw->npieces,
		    _("piece count"));
	} else
		fprintf(fp, "%-28s %s\n", _("piece spread (s)"),
		    _("never: some piece never reached a leecher"));
	if (ty->worst >= 0)
		fprintf(fp, _("%-28s %.2f (%s, from %.2f s)\n"),
		    _("longest gap (s)"), swarm_sec(sw->kids[ty->worst].gap_us),
		    sw->kids[ty->worst].hc->name,
		    swarm_sec(sw->kids[ty->worst].gap_at_us));
	if (sw->bad_lines > 0)
		fprintf(fp, "%-28s %lu\n", _("unreadable trace lines"),
		    sw->bad_lines);
}

/* The table: one row per child. */
static void
swarm_print_table(const struct swarm *sw, FILE *fp)
{
	fprintf(fp, "\n%-8s %-21s %9s %11s %7s %14s %s\n", _("peer"),
	    _("address"), _("start(s)"), _("complete(s)"), _("gap(s)"),
	    _("from seeders"), _("data"));
	for (int i = 0; i < sw->nkids; i++) {
		const struct swarm_child *k = &sw->kids[i];
		char done[32], from[32], gap[32], addr[32];

		if (k->seeder)
			snprintf(done, sizeof(done), "-");
		else if (k->complete)
			snprintf(done, sizeof(done), "%.2f",
			    swarm_sec(k->done_us));
		else
			snprintf(done, sizeof(done), "%s", _("no"));
		if (k->seeder)
			snprintf(from, sizeof(from), "-");
		else
			snprintf(from, sizeof(from), "%" PRIu64,
			    k->from_seeds);
		if (k->gap_us >= 0)
			snprintf(gap, sizeof(gap), "%.2f",
			    swarm_sec(k->gap_us));
		else
			snprintf(gap, sizeof(gap), "-");
		snprintf(addr, sizeof(addr), "%s:%u", k->addr,
		    (unsigned)k->hc->seen.port);
		fprintf(fp, "%-8s %-21s %9.3f %11s %7s %14s %s\n",
		    k->hc->name, addr, swarm_sec(k->start_us), done, gap, from,
		    k->seeder ? _("seed") : k->verified ? _("verified") :
		    !k->complete ? _("incomplete") : _("differs"));
	}
}

/* Print the summary to fp; returns the number of leechers that
 * completed with verified data. */
static int
swarm_summary(struct swarm *sw, FILE *fp)
{
	struct swarm_tally ty;

	memset(&ty, 0, sizeof(ty));
	if ((ty.times = calloc((size_t)sw->o.nleech,
	    sizeof(*ty.times))) == NULL)
		return 0;
	swarm_tally(sw, &ty);
	swarm_print_setup(sw, &ty, fp);
	swarm_print_figures(sw, &ty, fp);
	swarm_print_table(sw, fp);
	free(ty.times);
	return ty.nver;
}

/* OUT/peers.tsv: what tools/plot-trace needs besides merged.jsonl. */
static void
swarm_write_peers(const struct swarm *sw)
{
	char path[PATH_MAX + 16];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/peers.tsv", sw->out);
	if ((fp = fopen(path, "w")) == NULL)
		return;
	fprintf(fp, "name\trole\tport\tstart_us\tdone_us\tverified\taddr\t"
	    "seed\tgap_us\n");
	for (int i = 0; i < sw->nkids; i++) {
		const struct swarm_child *k = &sw->kids[i];

		fprintf(fp, "%s\t%s\t%u\t%" PRId64 "\t%" PRId64 "\t%d\t%s\t"
		    "0x%016" PRIx64 "\t%" PRId64 "\n", k->hc->name, k->seeder ?
		    "seeder" : "leecher", (unsigned)k->hc->seen.port,
		    k->start_us, k->complete ? k->done_us : -1,
		    k->verified ? 1 : 0, k->addr, k->seed, k->gap_us);
	}
	fprintf(fp, "#pieces\t%" PRIu32 "\n", sw->npieces);
	fclose(fp);
}

int
swarm_finish(struct swarm *sw)
{
	char path[PATH_MAX + 16];
	FILE *fp;
	int nver;

	if (swarm_merge(sw) != 0)
		fprintf(stderr, _("thorrent: swarm: cannot write "
		    "%s/merged.jsonl\n"), sw->out);
	nver = swarm_summary(sw, stdout);
	snprintf(path, sizeof(path), "%s/summary.txt", sw->out);
	if ((fp = fopen(path, "w")) != NULL) {
		swarm_summary(sw, fp);
		fclose(fp);
	}
	swarm_write_peers(sw);
	printf(_("swarm: traces, logs and summary in %s\n"), sw->out);
	if (nver == sw->o.nleech)
		return CMD_EXIT_OK;
	fprintf(stderr, _("thorrent: swarm: %d of %d leechers completed with "
	    "data identical to the payload\n"), nver, sw->o.nleech);
	return CMD_EXIT_ERROR;
}
