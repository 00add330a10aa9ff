/*
 * test_bar.c: the view's pure helpers (ui/bar.h): progress bar glyphs in
 * UTF-8 and ASCII, human sizes, rates and ETAs, the piece map's cells,
 * file and peer progress, and the peer flag column.
 *
 * The torrent is built by hand: a zeroed struct torrent (core/torrent.h)
 * whose metainfo fields are filled in, a have field and, where a test
 * needs one, a picker driven through its own API.  Nothing else in the
 * torrent is read.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bitfield.h"
#include "core/picker.h"
#include "core/torrent.h"
#include "ui/bar.h"

#define FULL	"\xe2\x96\x88"
#define EMPTY	"\xe2\x96\x91"
#define BLK	16384u

/* A torrent with n pieces of plen bytes (the last one short when total
 * says so), nothing had and no picker. */
static struct torrent *
tr_make(uint32_t n, uint64_t plen, uint64_t total)
{
	struct torrent *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	t->mi.npieces = n;
	t->mi.piece_length = plen;
	t->mi.total_length = total;
	cr_assert_eq(bitfield_init(&t->have, n), 0);
	return t;
}

static void
tr_picker(struct torrent *t, size_t max_active)
{
	cr_assert_eq(picker_init(&t->pk, &t->mi, &t->have, max_active), 0);
}

static void
tr_free(struct torrent *t)
{
	if (t->pk.state != NULL)
		picker_release(&t->pk);
	bitfield_release(&t->have);
	free(t->mi.files);
	free(t);
}

/* Build the expected UTF-8 bar: full cells, then an optional partial
 * glyph of k eighths (0: none), then empty cells. */
static void
want_utf8(char *w, int full, int k, int empty)
{
	w[0] = '\0';
	while (full-- > 0)
		strcat(w, FULL);
	if (k > 0) {
		char g[4] = { (char)0xe2, (char)0x96, (char)(0x90 - k), 0 };

		strcat(w, g);
	}
	while (empty-- > 0)
		strcat(w, EMPTY);
}

/* --- bar_render --- */

Test(bar, render_zero_is_all_empty)
{
	char out[64], w[64];

	bar_render(0, 4, true, out, sizeof(out));
	want_utf8(w, 0, 0, 4);
	cr_assert_str_eq(out, w);
	bar_render(0, 4, false, out, sizeof(out));
	cr_assert_str_eq(out, "----");
}

Test(bar, render_one_is_all_full)
{
	char out[64], w[64];

	bar_render(1, 5, true, out, sizeof(out));
	want_utf8(w, 5, 0, 0);
	cr_assert_str_eq(out, w);
	bar_render(1, 5, false, out, sizeof(out));
	cr_assert_str_eq(out, "#####");
}

Test(bar, render_half_of_ten)
{
	char out[64], w[64];

	bar_render(0.5, 10, true, out, sizeof(out));
	want_utf8(w, 5, 0, 5);
	cr_assert_str_eq(out, w);
	bar_render(0.5, 10, false, out, sizeof(out));
	cr_assert_str_eq(out, "#####-----");
}

Test(bar, render_eighths_use_each_partial_glyph)
{
	char out[16], w[16];
	int k;

	/* k/8 of one cell is the glyph U+2590 - k: U+258F for 1/8 down to
	 * U+2589 for 7/8. */
	for (k = 1; k < 8; k++) {
		bar_render(k / 8.0, 1, true, out, sizeof(out));
		want_utf8(w, 0, k, 0);
		cr_assert_str_eq(out, w, "k=%d", k);
		cr_assert_eq(strlen(out), 3);
	}
	bar_render(0.125, 1, true, out, sizeof(out));
	cr_assert_str_eq(out, "\xe2\x96\x8f");
	bar_render(0.875, 1, true, out, sizeof(out));
	cr_assert_str_eq(out, "\xe2\x96\x89");
}

Test(bar, render_partial_inside_a_longer_bar)
{
	char out[64], w[64];

	/* 1/8 of the whole 10-cell bar is 10 eighths: one full cell and a
	 * quarter. */
	bar_render(0.125, 10, true, out, sizeof(out));
	want_utf8(w, 1, 2, 8);
	cr_assert_str_eq(out, w);
	/* 0.35 of 10 cells: 28 eighths, three full and a half. */
	bar_render(0.35, 10, true, out, sizeof(out));
	want_utf8(w, 3, 4, 6);
	cr_assert_str_eq(out, w);
	/* 0.3 must not lose an eighth to binary rounding. */
	bar_render(0.3, 10, true, out, sizeof(out));
	want_utf8(w, 3, 0, 7);
	cr_assert_str_eq(out, w);
	/* ASCII has no partial glyph: the partial cell reads empty. */
	bar_render(0.35, 10, false, out, sizeof(out));
	cr_assert_str_eq(out, "###-------");
	bar_render(0.125, 1, false, out, sizeof(out));
	cr_assert_str_eq(out, "-");
}

Test(bar, render_almost_done_is_not_full)
{
	char out[64], w[64];

	bar_render(0.99999, 10, true, out, sizeof(out));
	want_utf8(w, 9, 7, 0);
	cr_assert_str_eq(out, w);
	bar_render(0.99999, 10, false, out, sizeof(out));
	cr_assert_str_eq(out, "#########-");
}

Test(bar, render_clamps_and_nan)
{
	char out[64], w[64];

	bar_render(-0.5, 3, true, out, sizeof(out));
	want_utf8(w, 0, 0, 3);
	cr_assert_str_eq(out, w);
	bar_render(NAN, 3, true, out, sizeof(out));
	cr_assert_str_eq(out, w);
	bar_render(-INFINITY, 3, false, out, sizeof(out));
	cr_assert_str_eq(out, "---");
	bar_render(1.7, 3, true, out, sizeof(out));
	want_utf8(w, 3, 0, 0);
	cr_assert_str_eq(out, w);
	bar_render(INFINITY, 3, false, out, sizeof(out));
	cr_assert_str_eq(out, "###");
	bar_render(NAN, 3, false, out, sizeof(out));
	cr_assert_str_eq(out, "---");
}

Test(bar, render_width_zero_or_negative_is_empty)
{
	char out[8];

	memset(out, 'x', sizeof(out));
	bar_render(0.5, 0, true, out, sizeof(out));
	cr_assert_str_eq(out, "");
	memset(out, 'x', sizeof(out));
	bar_render(0.5, -3, false, out, sizeof(out));
	cr_assert_str_eq(out, "");
	/* outlen 0: nothing is written at all. */
	memset(out, 'x', sizeof(out));
	bar_render(0.5, 4, false, out, 0);
	cr_assert_eq(out[0], 'x');
}

Test(bar, render_byte_content_and_length)
{
	char out[3 * 40 + 1];
	size_t i, n;
	int width;
	double f;

	for (width = 1; width <= 40; width += 13) {
		for (f = 0; f <= 1.0; f += 0.0625) {
			bar_render(f, width, false, out, sizeof(out));
			cr_assert_eq(strlen(out), (size_t)width);
			for (i = 0; out[i] != '\0'; i++)
				cr_assert(out[i] == '#' || out[i] == '-');
			bar_render(f, width, true, out, sizeof(out));
			n = strlen(out);
			cr_assert_eq(n, (size_t)width * 3, "w %d f %g", width,
			    f);
			for (i = 0; i < n; i += 3) {
				uint8_t c = (uint8_t)out[i + 2];

				cr_assert_eq((uint8_t)out[i], 0xe2);
				cr_assert_eq((uint8_t)out[i + 1], 0x96);
				cr_assert(c == 0x88 || c == 0x91 ||
				    (c >= 0x89 && c <= 0x8f));
			}
		}
	}
}

Test(bar, render_short_buffer_keeps_whole_cells)
{
	char out[16];

	memset(out, 'x', sizeof(out));
	/* Room for two UTF-8 cells and the NUL, not three. */
	bar_render(1, 4, true, out, 9);
	cr_assert_str_eq(out, FULL FULL);
	cr_assert_eq(out[9], 'x');
	bar_render(1, 8, false, out, 4);
	cr_assert_str_eq(out, "###");
}

/* --- human formats --- */

Test(bar, human_bytes)
{
	static const struct {
		uint64_t	v;
		const char	*want;
	} t[] = {
		{ 0, "0 B" },
		{ 512, "512 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.0 KiB" },
		{ 1536, "1.5 KiB" },
		{ 1572864, "1.5 MiB" },
		{ 1048575, "1.0 MiB" },	/* not "1024.0 KiB" */
		{ 12ULL << 30, "12.0 GiB" },
		{ 3ULL << 40, "3.0 TiB" },
		{ 2048ULL << 40, "2048.0 TiB" },
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bar_human_bytes(t[i].v, out, sizeof(out));
		cr_assert_str_eq(out, t[i].want, "v=%llu",
		    (unsigned long long)t[i].v);
	}
	bar_human_bytes(UINT64_MAX, out, sizeof(out));
	cr_assert_str_eq(out, "16777216.0 TiB");
	/* Truncated, still terminated. */
	bar_human_bytes(1536, out, 4);
	cr_assert_str_eq(out, "1.5");
}

Test(bar, human_rate)
{
	char out[32];

	bar_human_rate(1572864, out, sizeof(out));
	cr_assert_str_eq(out, "1.5 MiB/s");
	bar_human_rate(0, out, sizeof(out));
	cr_assert_str_eq(out, "0 B/s");
	bar_human_rate(100 * 1024, out, sizeof(out));
	cr_assert_str_eq(out, "100.0 KiB/s");
}

Test(bar, human_eta)
{
	static const struct {
		uint64_t	v;
		const char	*want;
	} t[] = {
		{ 0, "0:00" },
		{ 59, "0:59" },
		{ 245, "4:05" },
		{ 3599, "59:59" },
		{ 3600, "1:00:00" },
		{ 3723, "1:02:03" },
		{ 99ULL * 86400, "2376:00:00" },
		{ 99ULL * 86400 + 1, "-" },
		{ UINT64_MAX, "-" },
		{ UINT64_MAX - 1, "-" },
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bar_human_eta(t[i].v, out, sizeof(out));
		cr_assert_str_eq(out, t[i].want, "v=%llu",
		    (unsigned long long)t[i].v);
	}
}

/* --- bar_piece_cells --- */

Test(bar, cells_no_pieces)
{
	struct torrent *t = tr_make(0, 16384, 0);
	struct cell c[4];

	cr_assert_eq(bar_piece_cells(t, c, 4), 0);
	tr_free(t);
}

Test(bar, cells_more_cells_than_pieces_map_one_to_one)
{
	struct torrent *t = tr_make(4, 16384, 4 * 16384);
	struct cell c[10];
	uint32_t i;

	bitfield_set(&t->have, 1);
	bitfield_set(&t->have, 3);
	cr_assert_eq(bar_piece_cells(t, c, 10), 4);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(c[i].first, i);
		cr_assert_eq(c[i].last, i);
		cr_assert_eq(c[i].kind, i % 2 ? CELL_HAVE : CELL_MISSING);
		cr_assert_float_eq(c[i].frac, i % 2 ? 1.0 : 0.0, 1e-12);
		cr_assert_eq(c[i].avail, 0);	/* no picker yet */
	}
	/* As many cells as pieces is the same mapping. */
	cr_assert_eq(bar_piece_cells(t, c, 4), 4);
	cr_assert_eq(c[3].first, 3);
	cr_assert_eq(c[3].kind, CELL_HAVE);
	tr_free(t);
}

Test(bar, cells_aggregate_had_fraction)
{
	struct torrent *t = tr_make(10, 16384, 10 * 16384);
	struct cell c[3];

	/* Ranges: [0,2], [3,5], [6,9]. */
	bitfield_set(&t->have, 0);
	bitfield_set(&t->have, 1);
	bitfield_set(&t->have, 2);
	bitfield_set(&t->have, 3);
	bitfield_set(&t->have, 9);
	cr_assert_eq(bar_piece_cells(t, c, 3), 3);
	cr_assert_eq(c[0].first, 0);
	cr_assert_eq(c[0].last, 2);
	cr_assert_eq(c[1].first, 3);
	cr_assert_eq(c[1].last, 5);
	cr_assert_eq(c[2].first, 6);
	cr_assert_eq(c[2].last, 9);
	cr_assert_eq(c[0].kind, CELL_HAVE);
	cr_assert_float_eq(c[0].frac, 1.0, 1e-12);
	/* Some but not all had: shown as progress. */
	cr_assert_eq(c[1].kind, CELL_PARTIAL);
	cr_assert_float_eq(c[1].frac, 1.0 / 3, 1e-12);
	cr_assert_eq(c[2].kind, CELL_PARTIAL);
	cr_assert_float_eq(c[2].frac, 0.25, 1e-12);
	/* One cell for everything. */
	cr_assert_eq(bar_piece_cells(t, c, 1), 1);
	cr_assert_eq(c[0].first, 0);
	cr_assert_eq(c[0].last, 9);
	cr_assert_float_eq(c[0].frac, 0.5, 1e-12);
	tr_free(t);
}

Test(bar, cells_cover_every_piece_once)
{
	static const uint32_t ns[] = { 1, 2, 7, 10, 99, 1000, 4093 };
	static const uint32_t cs[] = { 1, 2, 3, 7, 64, 80, 333, 999 };
	struct cell *c = calloc(1000, sizeof(*c));
	size_t a, b;
	uint32_t got, k, next;

	cr_assert_not_null(c);
	for (a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
		struct torrent *t = tr_make(ns[a], 16384, 16384ULL * ns[a]);

		for (b = 0; b < sizeof(cs) / sizeof(cs[0]); b++) {
			got = bar_piece_cells(t, c, cs[b]);
			cr_assert_eq(got, cs[b] < ns[a] ? cs[b] : ns[a]);
			next = 0;
			for (k = 0; k < got; k++) {
				cr_assert_eq(c[k].first, next, "n %u cells %u",
				    ns[a], cs[b]);
				cr_assert_geq(c[k].last, c[k].first);
				next = c[k].last + 1;
			}
			cr_assert_eq(next, ns[a]);
		}
		tr_free(t);
	}
	free(c);
}

Test(bar, cells_large_torrent_uses_64_bit_ranges)
{
	/* 2^24 pieces times 1000 cells overflows 32 bits. */
	uint32_t n = 1u << 24, k;
	struct torrent *t = tr_make(n, 16384, 16384ULL * n);
	struct cell *c = calloc(1000, sizeof(*c));

	cr_assert_not_null(c);
	cr_assert_eq(bar_piece_cells(t, c, 1000), 1000);
	for (k = 0; k < 1000; k++)
		cr_assert_eq(c[k].first,
		    (uint32_t)((uint64_t)k * n / 1000));
	cr_assert_eq(c[999].last, n - 1);
	free(c);
	tr_free(t);
}

Test(bar, cells_requested_then_partial)
{
	/* Two blocks per piece, so one received block leaves the piece
	 * incomplete. */
	struct torrent *t = tr_make(8, 2 * BLK, 8ULL * 2 * BLK);
	struct bitfield peer;
	struct picker_block b;
	struct picker_piece *pp = NULL;
	struct rng rng;
	struct cell c[8];
	uint8_t data[BLK];

	bitfield_set(&t->have, 0);
	tr_picker(t, 4);
	rng_seed(&rng, 1);
	cr_assert_eq(bitfield_init(&peer, 8), 0);
	bitfield_set(&peer, 5);

	cr_assert_eq(bar_piece_cells(t, c, 8), 8);
	cr_assert_eq(c[0].kind, CELL_HAVE);
	cr_assert_eq(c[5].kind, CELL_MISSING);

	cr_assert(picker_pick(&t->pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, 5);
	cr_assert_eq(bar_piece_cells(t, c, 8), 8);
	cr_assert_eq(c[5].kind, CELL_REQUESTED);
	cr_assert_float_eq(c[5].frac, 0.0, 1e-12);
	cr_assert_eq(c[4].kind, CELL_MISSING);

	memset(data, 0xab, sizeof(data));
	cr_assert_eq(picker_received(&t->pk, 1, 5, 0, data, BLK, &pp),
	    PICKER_RECV_STORED);
	cr_assert_eq(bar_piece_cells(t, c, 8), 8);
	cr_assert_eq(c[5].kind, CELL_PARTIAL);
	cr_assert_float_eq(c[5].frac, 0.0, 1e-12);

	/* A request dropped before anything arrived: back to missing. */
	bitfield_set(&peer, 6);
	bitfield_clear(&peer, 5);
	cr_assert(picker_pick(&t->pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, 6);
	cr_assert_eq(bar_piece_cells(t, c, 8), 8);
	cr_assert_eq(c[6].kind, CELL_REQUESTED);
	picker_unrequest(&t->pk, &b);
	cr_assert_eq(bar_piece_cells(t, c, 8), 8);
	cr_assert_eq(c[6].kind, CELL_MISSING);

	/* Aggregated: [4,5] partial wins over missing, [6,7] missing, and
	 * [0,1] with one had piece is partial. */
	cr_assert_eq(bar_piece_cells(t, c, 4), 4);
	cr_assert_eq(c[0].kind, CELL_PARTIAL);
	cr_assert_float_eq(c[0].frac, 0.5, 1e-12);
	cr_assert_eq(c[2].kind, CELL_PARTIAL);
	cr_assert_float_eq(c[2].frac, 0.0, 1e-12);
	cr_assert_eq(c[3].kind, CELL_MISSING);

	bitfield_release(&peer);
	tr_free(t);
}

Test(bar, cells_requested_wins_over_missing_and_loses_to_had)
{
	struct torrent *t = tr_make(4, BLK, 4ULL * BLK);
	struct bitfield peer;
	struct picker_block b;
	struct rng rng;
	struct cell c[2];

	tr_picker(t, 4);
	rng_seed(&rng, 7);
	cr_assert_eq(bitfield_init(&peer, 4), 0);
	bitfield_set(&peer, 1);
	bitfield_set(&peer, 3);
	/* Both of the peer's pieces become requested (one block each). */
	cr_assert(picker_pick(&t->pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert(picker_pick(&t->pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(bar_piece_cells(t, c, 2), 2);
	cr_assert_eq(c[0].kind, CELL_REQUESTED);
	cr_assert_eq(c[1].kind, CELL_REQUESTED);
	/* A had piece next to a requested one: the cell shows progress. */
	bitfield_set(&t->have, 2);
	cr_assert_eq(bar_piece_cells(t, c, 2), 2);
	cr_assert_eq(c[1].kind, CELL_PARTIAL);
	cr_assert_float_eq(c[1].frac, 0.5, 1e-12);
	bitfield_release(&peer);
	tr_free(t);
}

Test(bar, cells_avail_is_the_minimum)
{
	struct torrent *t = tr_make(6, BLK, 6ULL * BLK);
	struct bitfield a, b;
	struct cell c[6];

	tr_picker(t, 2);
	cr_assert_eq(bitfield_init(&a, 6), 0);
	cr_assert_eq(bitfield_init(&b, 6), 0);
	bitfield_set_all(&a);
	bitfield_set(&b, 0);
	bitfield_set(&b, 1);
	bitfield_set(&b, 2);
	bitfield_set(&b, 4);
	picker_add_bitfield(&t->pk, &a);
	picker_add_bitfield(&t->pk, &b);
	picker_add_have(&t->pk, 0);
	/* avail: 3 2 2 1 2 1 */
	cr_assert_eq(bar_piece_cells(t, c, 6), 6);
	cr_assert_eq(c[0].avail, 3);
	cr_assert_eq(c[3].avail, 1);
	cr_assert_eq(c[4].avail, 2);
	cr_assert_eq(bar_piece_cells(t, c, 3), 3);
	cr_assert_eq(c[0].avail, 2);
	cr_assert_eq(c[1].avail, 1);
	cr_assert_eq(c[2].avail, 1);
	cr_assert_eq(bar_piece_cells(t, c, 2), 2);
	cr_assert_eq(c[0].avail, 2);
	cr_assert_eq(c[1].avail, 1);
	bitfield_release(&a);
	bitfield_release(&b);
	tr_free(t);
}

Test(bar, cells_without_picker_while_checking)
{
	struct torrent *t = tr_make(3, BLK, 3ULL * BLK);
	struct cell c[3];

	t->phase = TORRENT_CHECKING;
	bitfield_set(&t->have, 2);
	cr_assert_null(t->pk.state);
	cr_assert_eq(bar_piece_cells(t, c, 3), 3);
	cr_assert_eq(c[0].kind, CELL_MISSING);
	cr_assert_eq(c[1].kind, CELL_MISSING);
	cr_assert_eq(c[2].kind, CELL_HAVE);
	cr_assert_eq(c[2].avail, 0);
	tr_free(t);
}

/* --- bar_file_progress --- */

/*
 * Three files over four 32 KiB pieces (100000 bytes in all):
 *   a: [0, 40000)        pieces 0-1, piece 1 shared with c
 *   b: empty at 40000
 *   c: [40000, 100000)   pieces 1-3, the last piece short
 */
static struct torrent *
tr_three_files(void)
{
	struct torrent *t = tr_make(4, 32768, 100000);

	t->mi.files = calloc(3, sizeof(*t->mi.files));
	cr_assert_not_null(t->mi.files);
	t->mi.nfiles = 3;
	t->mi.multi = true;
	t->mi.files[0].length = 40000;
	t->mi.files[0].offset = 0;
	t->mi.files[1].length = 0;
	t->mi.files[1].offset = 40000;
	t->mi.files[2].length = 60000;
	t->mi.files[2].offset = 40000;
	return t;
}

Test(bar, file_progress_nothing_had)
{
	struct torrent *t = tr_three_files();

	cr_assert_float_eq(bar_file_progress(t, 0), 0.0, 1e-12);
	cr_assert_float_eq(bar_file_progress(t, 1), 1.0, 1e-12);
	cr_assert_float_eq(bar_file_progress(t, 2), 0.0, 1e-12);
	/* Out of range. */
	cr_assert_float_eq(bar_file_progress(t, 3), 0.0, 1e-12);
	tr_free(t);
}

Test(bar, file_progress_shared_piece_is_split)
{
	struct torrent *t = tr_three_files();

	/* Piece 1 is [32768, 65536): 7232 bytes of a, 25536 of c. */
	bitfield_set(&t->have, 1);
	cr_assert_float_eq(bar_file_progress(t, 0), 7232.0 / 40000, 1e-12);
	cr_assert_float_eq(bar_file_progress(t, 2), 25536.0 / 60000, 1e-12);
	/* The short last piece [98304, 100000) is 1696 bytes of c. */
	bitfield_set(&t->have, 3);
	cr_assert_float_eq(bar_file_progress(t, 2),
	    (25536.0 + 1696) / 60000, 1e-12);
	cr_assert_float_eq(bar_file_progress(t, 0), 7232.0 / 40000, 1e-12);
	/* Piece 0 lies wholly in a. */
	bitfield_set(&t->have, 0);
	cr_assert_float_eq(bar_file_progress(t, 0), 1.0, 1e-12);
	cr_assert_float_eq(bar_file_progress(t, 1), 1.0, 1e-12);
	bitfield_set(&t->have, 2);
	cr_assert_float_eq(bar_file_progress(t, 2), 1.0, 1e-12);
	tr_free(t);
}

Test(bar, file_progress_single_file)
{
	struct torrent *t = tr_make(3, 100, 250);

	t->mi.files = calloc(1, sizeof(*t->mi.files));
	cr_assert_not_null(t->mi.files);
	t->mi.nfiles = 1;
	t->mi.files[0].length = 250;
	bitfield_set(&t->have, 2);
	cr_assert_float_eq(bar_file_progress(t, 0), 50.0 / 250, 1e-12);
	tr_free(t);
}

/* --- peers --- */

Test(bar, peer_progress)
{
	struct torrent *t = tr_make(4, BLK, 4ULL * BLK);
	struct peer p;

	memset(&p, 0, sizeof(p));
	cr_assert_eq(bitfield_init(&p.have, 4), 0);
	cr_assert_float_eq(bar_peer_progress(t, &p), 0.0, 1e-12);
	bitfield_set(&p.have, 0);
	bitfield_set(&p.have, 1);
	bitfield_set(&p.have, 3);
	cr_assert_float_eq(bar_peer_progress(t, &p), 0.75, 1e-12);
	bitfield_set(&p.have, 2);
	cr_assert_float_eq(bar_peer_progress(t, &p), 1.0, 1e-12);
	t->mi.npieces = 0;
	cr_assert_float_eq(bar_peer_progress(t, &p), 0.0, 1e-12);
	bitfield_release(&p.have);
	tr_free(t);
}

Test(bar, peer_flags)
{
	struct peer p;
	char out[8];

	memset(&p, 0, sizeof(p));
	p.am_choking = true;
	p.peer_choking = true;
	memset(out, 'x', sizeof(out));
	bar_peer_flags(&p, out);
	cr_assert_str_eq(out, "..O...");
	cr_assert_eq(out[6], '\0');

	p.am_interested = true;
	p.incoming = true;
	bar_peer_flags(&p, out);
	cr_assert_str_eq(out, "d.I...");

	p.peer_choking = false;
	p.peer_interested = true;
	bar_peer_flags(&p, out);
	cr_assert_str_eq(out, "DuI...");

	p.am_choking = false;
	p.snubbed = true;
	p.incoming = false;
	bar_peer_flags(&p, out);
	cr_assert_str_eq(out, "DUOS..");

	p.encrypted = true;
	bar_peer_flags(&p, out);
	cr_assert_str_eq(out, "DUOSE.");
	p.encrypted = false;
	p.obfuscated = true;
	p.transport = PEER_UTP;
	bar_peer_flags(&p, out);
	cr_assert_str_eq(out, "DUOSeP");
	p.obfuscated = false;
	p.transport = PEER_TCP;

	/* Unchoked but not interested: nothing flows, nothing shown. */
	p.am_interested = false;
	p.peer_interested = false;
	p.snubbed = false;
	bar_peer_flags(&p, out);
	cr_assert_str_eq(out, "..O...");
	cr_assert_eq(strlen(out), 6);
}
