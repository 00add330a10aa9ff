/*
 * test_view.c: the terminal view (ui/view.h) drawn into a
 * pseudo-terminal from a torrent (core/torrent.h) and its session
 * (core/session.h).
 *
 * Each test opens a pty, starts the view on its slave side, draws a
 * hand-built torrent and reads rows back with view_row_text.  The
 * session is a real one (session_new: its log, limits and status
 * lines); the torrent is filled in by hand, since the view only reads
 * it.  The master side is non-blocking and drained after every draw so
 * that curses never blocks writing; keys are written into the master
 * side, as a user would type them.  Every test ends curses with
 * view_free.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "core/i18n.h"
#include "core/log.h"
#include "core/peer.h"
#include "core/picker.h"
#include "core/session.h"
#include "core/torrent.h"
#include "ui/keys.h"
#include "ui/view.h"

#define T_NPIECES	100
#define T_PLEN		32768u
#define T_NOW		1000000u
#define T_ROW_MAX	4096

struct fix {
	struct torrent		*t;
	int			 master;
	FILE			*in, *out;
	struct view		*v;
};

static void
drain(struct fix *f)
{
	char buf[65536];

	while (read(f->master, buf, sizeof(buf)) > 0)
		;
}

/* A session as the program makes one, with the view's log level; the
 * torrent built by hand below borrows it. */
static struct session *
make_session(void)
{
	struct session_opts so;
	struct thr_error err;
	struct session *s;

	memset(&so, 0, sizeof(so));
	so.seed = 7;
	so.log_level = LOG_DEBUG;
	so.crypto = SESSION_CRYPTO_PREFER;
	so.transport = SESSION_TRANSPORT_TCP;
	memset(&err, 0, sizeof(err));
	s = session_new(&so, T_NOW, &err);
	cr_assert_not_null(s, "%s", err.msg);
	session_set_port(s, 6881);
	return s;
}

static struct peer *
add_peer(struct torrent *t, const char *addr, const char *client,
    bool seed)
{
	struct thr_addr a;
	struct peer *p;

	cr_assert_eq(addr_parse(addr, &a), 0);
	p = peer_new(++t->sess->next_peer_id, &a, false, t->mi.npieces,
	    T_NOW);
	cr_assert_not_null(p);
	p->phase = PEER_ACTIVE;
	snprintf(p->client, sizeof(p->client), "%s", client);
	if (seed)
		bitfield_set_all(&p->have);
	else
		for (uint32_t i = 0; i < t->mi.npieces; i += 2)
			bitfield_set(&p->have, i);
	picker_add_bitfield(&t->pk, &p->have);
	t->ps.peers[t->ps.npeers++] = p;
	return p;
}

static struct torrent *
make_torrent(const char *name, uint32_t npieces)
{
	const uint64_t total = (uint64_t)npieces * T_PLEN - 1000;
	struct torrent *t = calloc(1, sizeof(*t));
	struct picker_block b;
	struct picker_piece *pp;
	struct peer *p;
	uint8_t block[16384];

	cr_assert_not_null(t);
	t->sess = make_session();
	t->log = &t->sess->log;
	t->mi.name = strdup(name);
	t->mi.npieces = npieces;
	t->mi.piece_length = T_PLEN;
	t->mi.total_length = total;
	t->mi.nfiles = 2;
	t->mi.multi = true;
	t->mi.files = calloc(2, sizeof(*t->mi.files));
	cr_assert_not_null(t->mi.files);
	t->mi.files[0].path = strdup("disc/first.bin");
	t->mi.files[0].length = 30 * T_PLEN;
	t->mi.files[0].offset = 0;
	t->mi.files[1].path = strdup("disc/second.bin");
	t->mi.files[1].length = total - 30 * T_PLEN;
	t->mi.files[1].offset = 30 * T_PLEN;
	cr_assert_eq(bitfield_init(&t->have, npieces), 0);
	for (uint32_t i = 0; i < 30; i++)
		bitfield_set(&t->have, i);
	t->sel.left = total - 30 * (uint64_t)T_PLEN;
	t->sel.wanted_total = total;
	cr_assert_eq(picker_init(&t->pk, &t->mi, &t->have, 4), 0);
	t->pk.strategy = PICKER_RAREST;
	t->phase = TORRENT_DOWNLOADING;
	t->uploaded = total / 4;
	t->ps.nknown = 9;
	snprintf(t->ann.status, sizeof(t->ann.status), "ok, 50 peers");
	t->ann.phase = ANNOUNCER_IDLE;
	t->ann.next_ms = T_NOW + 65000;
	rate_init(&t->down, T_NOW);
	rate_init(&t->up, T_NOW);

	p = add_peer(t, "10.0.0.1:6881", "Transmission 3.00", true);
	rate_add(&p->down, T_NOW, 5000);
	p = add_peer(t, "10.0.0.2:51413", "qBittorrent 4.5", false);
	rate_add(&p->down, T_NOW, 900000);
	rate_add(&p->up, T_NOW, 1000);

	/* One piece in flight with a block received from the first peer. */
	cr_assert(picker_pick(&t->pk, 1, &t->ps.peers[0]->have,
	    &t->sess->rng[SESSION_RNG_PICKER], NULL, NULL, &b));
	memset(block, 0, sizeof(block));
	cr_assert_eq(picker_received(&t->pk, 1, b.index, b.begin, block,
	    b.length, &pp), PICKER_RECV_STORED);
	t->ps.peers[0]->nreqs = 3;

	log_msg(t->log, LOG_INFO, "first line");
	log_msg(t->log, LOG_WARN, "tracker said \x1b[2J hello");
	log_msg(t->log, LOG_ERROR, "newest line");
	return t;
}

static void
free_torrent(struct torrent *t)
{
	for (size_t i = 0; i < t->ps.npeers; i++)
		peer_free(t->ps.peers[i]);
	if (t->pk.state != NULL)
		picker_release(&t->pk);
	bitfield_release(&t->have);
	metainfo_release(&t->mi);
	session_free(t->sess);
	free(t);
}

static void
fix_open_with(struct fix *f, const char *name, int cols, int rows,
    const char *term, uint32_t npieces)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	struct thr_error err;
	int slave;

	memset(f, 0, sizeof(*f));
	setenv("TERM", term, 1);
	cr_assert_eq(openpty(&f->master, &slave, NULL, NULL, &ws), 0);
	cr_assert_eq(fcntl(f->master, F_SETFL,
	    fcntl(f->master, F_GETFL) | O_NONBLOCK), 0);
	f->in = fdopen(dup(slave), "r");
	f->out = fdopen(slave, "w");
	cr_assert(f->in != NULL && f->out != NULL);
	f->v = view_new(f->in, f->out, &err);
	cr_assert_not_null(f->v, "%s", err.msg);
	drain(f);
	view_set_size(f->v, cols, rows);
	f->t = make_torrent(name, npieces);
}

static void
fix_open(struct fix *f, const char *name, int cols, int rows)
{
	fix_open_with(f, name, cols, rows, "xterm-256color", T_NPIECES);
}

static void
fix_close(struct fix *f)
{
	view_free(f->v);
	drain(f);
	fclose(f->in);
	fclose(f->out);
	close(f->master);
	free_torrent(f->t);
}

static const char *row(struct fix *, int);

/* VIEW_DUMP=1 prints every frame, to look at the layout by eye. */
static void
draw(struct fix *f)
{
	int cols, rows;

	view_draw(f->v, f->t, T_NOW);
	drain(f);
	if (getenv("VIEW_DUMP") == NULL)
		return;
	getmaxyx(stdscr, rows, cols);
	fprintf(stderr, "--- %dx%d\n", cols, rows);
	for (int r = 0; r < rows; r++)
		fprintf(stderr, "|%s\n", row(f, r));
}

/* Type keys into the terminal and let the view read them. */
static enum command_id
type(struct fix *f, const char *keys)
{
	struct pollfd pfd = { .fd = fileno(f->in), .events = POLLIN };
	bool dirty = false;
	enum command_id id;

	cr_assert_eq(write(f->master, keys, strlen(keys)),
	    (ssize_t)strlen(keys));
	/* The pty hands bytes over asynchronously. */
	cr_assert_eq(poll(&pfd, 1, 2000), 1);
	usleep(20000);
	id = view_keys(f->v, &dirty);
	drain(f);
	return id;
}

static char rowbuf[T_ROW_MAX];

static const char *
row(struct fix *f, int r)
{
	view_row_text(f->v, r, rowbuf, sizeof(rowbuf));
	return rowbuf;
}

/* The first row holding needle, or -1. */
static int
find_row(struct fix *f, int rows, const char *needle)
{
	for (int r = 0; r < rows; r++)
		if (strstr(row(f, r), needle) != NULL)
			return r;
	return -1;
}

Test(view, header_shows_name_percent_and_status)
{
	struct fix f;

	fix_open(&f, "ubuntu-24.04.iso", 200, 60);
	draw(&f);
	cr_expect(strstr(row(&f, 0), "ubuntu-24.04.iso") != NULL, "%s",
	    rowbuf);
	cr_expect(strstr(row(&f, 0), "30.0%") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 1), "ratio 0.25") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 1), "peers 2 (9 known)") != NULL, "%s",
	    rowbuf);
	cr_expect(strstr(row(&f, 1), "(unlimited)") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 1), "seeds 1") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "ok, 50 peers") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "1:05") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "6881") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "rarest") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "downloading") != NULL, "%s", rowbuf);
	cr_expect(find_row(&f, 60, "PAUSED") < 0);
	f.t->paused = true;
	f.t->phase = TORRENT_CHECKING;
	f.t->check_next = 12;
	f.t->ann.phase = ANNOUNCER_BUSY;
	draw(&f);
	cr_expect(strstr(row(&f, 0), "PAUSED") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "checking 12/100") != NULL, "%s",
	    rowbuf);
	cr_expect(strstr(row(&f, 2), "next -") != NULL, "%s", rowbuf);
	fix_close(&f);
}

Test(view, peers_table_shows_address_client_and_sorts)
{
	struct fix f;
	int a, b;

	fix_open(&f, "t", 200, 60);
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_PEERS);
	draw(&f);
	a = find_row(&f, 60, "10.0.0.1:6881");
	b = find_row(&f, 60, "10.0.0.2:51413");
	cr_assert(a > 0 && b > 0);
	cr_expect(strstr(row(&f, a), "Transmission 3.00") != NULL);
	cr_expect(strstr(row(&f, b), "qBittorrent 4.5") != NULL);
	/* By down rate: the faster second peer comes first. */
	cr_expect_lt(b, a);
	/* Up rate, then address. */
	cr_expect_eq(type(&f, "s"), COMMAND_NONE);
	draw(&f);
	cr_expect_lt(find_row(&f, 60, "10.0.0.2"), find_row(&f, 60,
	    "10.0.0.1"));
	type(&f, "s");
	draw(&f);
	cr_expect_lt(find_row(&f, 60, "10.0.0.1"), find_row(&f, 60,
	    "10.0.0.2"));
	fix_close(&f);
}

Test(view, panes_switch_with_tab_and_digits)
{
	struct fix f;

	fix_open(&f, "t", 120, 40);
	draw(&f);
	cr_expect_eq(type(&f, "\t"), COMMAND_NONE);
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_PIECES);
	type(&f, "\t");
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_FILES);
	draw(&f);
	cr_expect_geq(find_row(&f, 40, "disc/second.bin"), 0);
	cr_expect_geq(find_row(&f, 40, "100.0%"), 0);
	type(&f, "\t");
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_LOG);
	type(&f, "\t");
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_PEERS);
	type(&f, "4");
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_LOG);
	type(&f, "2");
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_PIECES);
	type(&f, "3");
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_FILES);
	type(&f, "1");
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_PEERS);
	fix_close(&f);
}

Test(view, quit_and_pause_keys_return_commands)
{
	struct fix f;

	fix_open(&f, "t", 80, 24);
	cr_expect_eq(type(&f, "q"), COMMAND_QUIT);
	cr_expect_eq(type(&f, "p"), COMMAND_PAUSE);
	cr_expect_eq(type(&f, "jkx"), COMMAND_NONE);
	/* The first state-changing key is returned, the rest waits. */
	cr_expect_eq(type(&f, "2p4"), COMMAND_PAUSE);
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_PIECES);
	cr_expect_eq(type(&f, "x"), COMMAND_NONE);
	cr_expect_eq(view_current_pane(f.v), VIEW_PANE_LOG);
	fix_close(&f);
}

Test(view, piece_map_shows_had_cells_ascii)
{
	struct fix f;
	const char *r;

	setlocale(LC_ALL, "C");
	fix_open(&f, "t", 80, 24);
	type(&f, "2");
	draw(&f);
	/* 100 pieces over 80 columns: one piece per cell, 30 had. */
	r = row(&f, 4);
	cr_expect(strncmp(r, "##############################", 30) == 0,
	    "%s", r);
	cr_expect(r[30] != '#', "%s", r);
	/* The legend says what the glyphs mean, whole, at 80 columns. */
	cr_expect(strstr(row(&f, 3), "# have  + partial  : asked  . missing")
	    != NULL, "%s", rowbuf);
	cr_expect_geq(find_row(&f, 24, "in flight: 1"), 0);
	/* The piece in flight lists its contributing peer. */
	cr_expect_geq(find_row(&f, 24, "1/2"), 0);
	cr_expect_geq(find_row(&f, 24, "10.0.0.1:6881"), 0);
	fix_close(&f);
}

Test(view, piece_map_utf8_and_availability)
{
	struct fix f;
	const char *r;

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		cr_skip_test("no C.UTF-8 locale");
	fix_open(&f, "t", 200, 60);
	type(&f, "2");
	draw(&f);
	r = row(&f, 4);
	cr_expect(strncmp(r, "\xe2\x96\x88\xe2\x96\x88", 6) == 0, "%s", r);
	type(&f, "a");
	draw(&f);
	/* Piece 0: both peers have it; piece 1: only the seed. */
	r = row(&f, 4);
	cr_expect(strncmp(r, "21212", 5) == 0, "%s", r);
	cr_expect(strstr(row(&f, 3), "0 no peer  1 one peer  2-9 peers  + more")
	    != NULL, "%s", rowbuf);
	view_free(f.v);
	f.v = NULL;
	setlocale(LC_ALL, "C");
	drain(&f);
	fclose(f.in);
	fclose(f.out);
	close(f.master);
	free_torrent(f.t);
}

Test(view, help_lists_every_key_and_any_key_closes)
{
	const struct keys_binding *kb;
	struct fix f;
	size_t n;
	int top;

	fix_open(&f, "t", 200, 60);
	type(&f, "?");
	draw(&f);
	top = find_row(&f, 60, "keys (any key closes)");
	cr_assert_geq(top, 0);
	kb = keys_table(&n);
	for (size_t i = 0; i < n; i++) {
		cr_expect_geq(find_row(&f, 60, kb[i].name), 0, "%s",
		    kb[i].name);
		/* The help text is the command table's, through keys_help. */
		cr_expect_geq(find_row(&f, 60, keys_help(kb[i].cmd)), 0, "%s",
		    keys_help(kb[i].cmd));
	}
	/* 'q' only closes the overlay here; it does not quit. */
	cr_expect_eq(type(&f, "q"), COMMAND_NONE);
	draw(&f);
	cr_expect_lt(find_row(&f, 60, "keys (any key closes)"), 0);
	fix_close(&f);
}

Test(view, too_small_shows_only_notice)
{
	struct fix f;

	fix_open(&f, "ubuntu.iso", 30, 8);
	draw(&f);
	cr_expect_str_eq(row(&f, 0), "window too small (need 40x10)");
	for (int r = 1; r < 8; r++)
		cr_expect_str_eq(row(&f, r), "");
	view_set_size(f.v, 40, 9);
	draw(&f);
	cr_expect_str_eq(row(&f, 0), "window too small (need 40x10)");
	/* Narrower: the words wrap, nothing is cut. */
	view_set_size(f.v, 20, 5);
	draw(&f);
	cr_expect_str_eq(row(&f, 0), "window too small");
	cr_expect_str_eq(row(&f, 1), "(need 40x10)");
	view_set_size(f.v, 8, 3);
	draw(&f);
	cr_expect_str_eq(row(&f, 0), "window");
	cr_expect_str_eq(row(&f, 1), "too");
	cr_expect_str_eq(row(&f, 2), "small");
	view_set_size(f.v, 40, 10);
	draw(&f);
	cr_expect(strstr(row(&f, 0), "ubuntu.iso") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 9), "q quit") != NULL, "%s", rowbuf);
	fix_close(&f);
}

/* Every row fits the width in display columns, in every pane. */
static void
check_fits(struct fix *f, int cols, int rows)
{
	wchar_t w[T_ROW_MAX];

	for (int r = 0; r < rows; r++) {
		size_t n = mbstowcs(w, row(f, r), T_ROW_MAX);

		cr_assert_neq(n, (size_t)-1);
		cr_expect_leq(wcswidth(w, n), cols, "row %d: %s", r, rowbuf);
	}
}

Test(view, large_and_minimal_layouts_do_not_overflow)
{
	struct fix f;

	setlocale(LC_ALL, "C.UTF-8");
	fix_open(&f, "a-rather-long-torrent-name-with-\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e-wide-characters-in-it.iso", 200, 60);
	for (int p = 0; p < VIEW_NPANES; p++) {
		draw(&f);
		check_fits(&f, 200, 60);
		cr_expect(strstr(row(&f, 59), "q quit  p pause  Tab pane") !=
		    NULL, "%s", rowbuf);
		type(&f, "\t");
	}
	view_set_size(f.v, 40, 10);
	for (int p = 0; p < VIEW_NPANES; p++) {
		draw(&f);
		check_fits(&f, 40, 10);
		type(&f, "\t");
	}
	type(&f, "?");
	draw(&f);
	check_fits(&f, 40, 10);
	view_free(f.v);
	f.v = NULL;
	setlocale(LC_ALL, "C");
	drain(&f);
	fclose(f.in);
	fclose(f.out);
	close(f.master);
	free_torrent(f.t);
}

Test(view, hostile_strings_are_escaped)
{
	struct fix f;

	fix_open(&f, "\x1b[31mevil\x07name", 200, 60);
	snprintf(f.t->ps.peers[0]->client, sizeof(f.t->ps.peers[0]->client),
	    "bad\x1b]0;title\x07");
	free(f.t->mi.files[1].path);
	f.t->mi.files[1].path = strdup("disc/\x1b[2Jwipe");
	for (int p = 0; p < VIEW_NPANES; p++) {
		draw(&f);
		for (int r = 0; r < 60; r++) {
			cr_expect(strchr(row(&f, r), '\x1b') == NULL,
			    "pane %d row %d", p, r);
			cr_expect(strchr(rowbuf, '\x07') == NULL);
		}
		if (p == VIEW_PANE_PEERS)
			cr_expect_geq(find_row(&f, 60, "bad\\x1b]0;title"), 0);
		if (p == VIEW_PANE_FILES)
			cr_expect_geq(find_row(&f, 60, "disc/\\x1b[2Jwipe"), 0);
		if (p == VIEW_PANE_LOG)
			cr_expect_geq(find_row(&f, 60, "\\x1b[2J hello"), 0);
		type(&f, "\t");
	}
	cr_expect(strstr(row(&f, 0), "\\x1b[31mevil\\x07name") != NULL, "%s",
	    rowbuf);
	fix_close(&f);
}

Test(view, log_pane_newest_at_bottom_and_scrolls)
{
	struct fix f;
	int last = 24 - 2;

	fix_open(&f, "t", 80, 24);
	type(&f, "4");
	draw(&f);
	cr_expect(strstr(row(&f, last), "newest line") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, last - 2), "first line") != NULL, "%s",
	    rowbuf);
	for (int i = 0; i < 50; i++)
		log_msg(f.t->log, LOG_DEBUG, "line %d", i);
	draw(&f);
	cr_expect_str_eq(row(&f, last), "line 49");
	/* Up goes back in time, Down forward again. */
	type(&f, "k");
	draw(&f);
	cr_expect_str_eq(row(&f, last), "line 48");
	type(&f, "\x1bOB");
	draw(&f);
	cr_expect_str_eq(row(&f, last), "line 49");
	fix_close(&f);
}

Test(view, resize_reads_the_terminal_size)
{
	struct fix f;
	struct winsize ws = { .ws_row = 30, .ws_col = 100 };

	fix_open(&f, "resized.iso", 80, 24);
	draw(&f);
	cr_assert_eq(ioctl(f.master, TIOCSWINSZ, &ws), 0);
	view_resize(f.v);
	draw(&f);
	cr_expect(strstr(row(&f, 29), "q quit") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 0), "resized.iso") != NULL, "%s", rowbuf);
	ws.ws_row = 8;
	ws.ws_col = 30;
	cr_assert_eq(ioctl(f.master, TIOCSWINSZ, &ws), 0);
	view_resize(f.v);
	draw(&f);
	cr_expect_str_eq(row(&f, 0), "window too small (need 40x10)");
	fix_close(&f);
}

Test(view, scrolling_clamps_in_peers_and_files)
{
	struct fix f;

	fix_open(&f, "t", 80, 24);
	/* Far past the end clamps back: both peers still visible. */
	type(&f, "jjjjjjjj");
	draw(&f);
	cr_expect_geq(find_row(&f, 24, "10.0.0.1"), 0);
	cr_expect_geq(find_row(&f, 24, "10.0.0.2"), 0);
	type(&f, "3");
	type(&f, "\x1b[6~");
	draw(&f);
	cr_expect_geq(find_row(&f, 24, "disc/first.bin"), 0);
	fix_close(&f);
}

Test(view, piece_map_aggregates_ranges_with_shades)
{
	struct fix f;
	const char *r;

	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		cr_skip_test("no C.UTF-8 locale");
	/* 1000 pieces in a 40x10 pane: each cell holds a range. */
	fix_open_with(&f, "t", 40, 10, "xterm-256color", 1000);
	type(&f, "2");
	draw(&f);
	r = row(&f, 4);
	/* The first 30 pieces are had: the first cells are full blocks,
	 * and the cell that straddles piece 30 is a shade, not a block. */
	cr_expect(strncmp(r, "\xe2\x96\x88", 3) == 0, "%s", r);
	cr_expect(strstr(r, "\xe2\x96\x93") != NULL ||
	    strstr(r, "\xe2\x96\x92") != NULL ||
	    strstr(r, "\xe2\x96\x91") != NULL, "%s", r);
	view_free(f.v);
	f.v = NULL;
	setlocale(LC_ALL, "C");
	drain(&f);
	fclose(f.in);
	fclose(f.out);
	close(f.master);
	free_torrent(f.t);
}

Test(view, monochrome_terminal_draws)
{
	struct fix f;

	/* vt100 has no colours: the attribute scheme is used instead. */
	fix_open_with(&f, "mono.iso", 80, 24, "vt100", T_NPIECES);
	draw(&f);
	cr_expect(strstr(row(&f, 0), "mono.iso") != NULL, "%s", rowbuf);
	type(&f, "2");
	draw(&f);
	cr_expect(strncmp(row(&f, 4), "#####", 5) == 0, "%s", rowbuf);
	type(&f, "p");
	fix_close(&f);
}

Test(view, peers_table_shows_source_and_drops_it_when_narrow)
{
	struct fix f;
	int a, b;

	fix_open(&f, "t", 200, 60);
	f.t->ps.peers[0]->source = PEER_SRC_TRACKER;
	f.t->ps.peers[1]->source = PEER_SRC_DHT;
	draw(&f);
	cr_expect_geq(find_row(&f, 60, "source"), 0);
	a = find_row(&f, 60, "10.0.0.1:6881");
	b = find_row(&f, 60, "10.0.0.2:51413");
	cr_assert(a > 0 && b > 0);
	cr_expect(strstr(row(&f, a), " tracker ") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, b), " dht ") != NULL, "%s", rowbuf);
	/* The client and the flags are where they were. */
	cr_expect(strstr(row(&f, b), "qBittorrent 4.5") != NULL, "%s",
	    rowbuf);
	cr_expect(strstr(row(&f, b), "..O.") != NULL, "%s", rowbuf);
	f.t->ps.peers[1]->source = PEER_SRC_INCOMING;
	draw(&f);
	cr_expect(strstr(row(&f, b), " incoming ") != NULL, "%s", rowbuf);
	/* At 80 columns the optional column goes first. */
	view_set_size(f.v, 80, 24);
	draw(&f);
	cr_expect_lt(find_row(&f, 24, "source"), 0);
	cr_expect_lt(find_row(&f, 24, "incoming"), 0);
	b = find_row(&f, 24, "10.0.0.2:51413");
	cr_assert_gt(b, 0);
	cr_expect(strstr(row(&f, b), "qBittorrent 4.5") != NULL, "%s",
	    rowbuf);
	fix_close(&f);
}

Test(view, header_shows_dht_nodes_or_off)
{
	struct fix f;
	char dummy, *status;

	fix_open(&f, "t", 200, 60);
	status = f.t->sess->status[SESSION_STATUS_DHT];
	draw(&f);
	cr_expect(strstr(row(&f, 2), "DHT off") != NULL, "%s", rowbuf);
	/* The view only tests the pointer; it never looks inside. */
	f.t->sess->dht = (struct dht *)(void *)&dummy;
	session_set_status(f.t->sess, SESSION_STATUS_DHT, "bootstrapping");
	draw(&f);
	cr_expect(strstr(row(&f, 2), "DHT: bootstrapping") != NULL, "%s",
	    rowbuf);
	f.t->sess->dht_nodes = 42;
	session_set_status(f.t->sess, SESSION_STATUS_DHT, "42 nodes");
	draw(&f);
	cr_expect(strstr(row(&f, 2), "DHT: 42 nodes") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "ok, 50 peers") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "downloading") != NULL, "%s", rowbuf);
	cr_expect_lt(find_row(&f, 60, "DHT off"), 0);
	/* No status text: the count alone. */
	session_set_status(f.t->sess, SESSION_STATUS_DHT, "");
	f.t->sess->dht_nodes = 7;
	draw(&f);
	cr_expect(strstr(row(&f, 2), "DHT: 7 nodes") != NULL, "%s", rowbuf);
	/* A status that fills its array is still bounded. */
	memset(status, 'x', SESSION_STATUS_MAX);
	draw(&f);
	cr_expect(strstr(row(&f, 2), "DHT: xxxx") != NULL, "%s", rowbuf);
	f.t->sess->dht = NULL;
	fix_close(&f);
}

/* Both limits in the header: set ones always, "(unlimited)" when the
 * line has room; a seeder with no address to dial shows its peers
 * alone, not "1/0". */
Test(view, header_shows_limits_and_peers)
{
	struct fix f;

	fix_open(&f, "t", 200, 60);
	session_set_limit(f.t->sess, false, 512u << 10);
	draw(&f);
	cr_expect(strstr(row(&f, 1), "(limit 512.0 KiB/s)") != NULL, "%s",
	    rowbuf);
	cr_expect(strstr(row(&f, 1), "up 0 B/s (unlimited)") != NULL, "%s",
	    rowbuf);
	/* Narrow: "(unlimited)" goes, the set limit stays. */
	view_set_size(f.v, 80, 24);
	draw(&f);
	cr_expect(strstr(row(&f, 1), "(limit 512.0 KiB/s)") != NULL, "%s",
	    rowbuf);
	cr_expect(strstr(row(&f, 1), "unlimited") == NULL, "%s", rowbuf);
	/* Both set. */
	view_set_size(f.v, 200, 60);
	session_set_limit(f.t->sess, true, 2u << 20);
	draw(&f);
	cr_expect(strstr(row(&f, 1), "(limit 2.0 MiB/s)") != NULL, "%s",
	    rowbuf);
	/* No address known: peers connected only. */
	f.t->ps.nknown = 0;
	draw(&f);
	cr_expect(strstr(row(&f, 1), "peers 2  seeds 1") != NULL, "%s",
	    rowbuf);
	fix_close(&f);
}

/* Skipped files: the selection's bytes of the whole, and "complete (1
 * file skipped)" rather than a 100% that claims the rest. */
Test(view, header_says_complete_with_files_skipped)
{
	static uint8_t wanted[2] = { 1, 0 };
	struct fix f;

	fix_open(&f, "t", 200, 60);
	f.t->have_meta = true;
	f.t->sel.wanted = wanted;
	f.t->sel.nfiles = 2;
	f.t->sel.wanted_total = 30 * (uint64_t)T_PLEN;
	f.t->sel.left = 10 * (uint64_t)T_PLEN;
	draw(&f);
	cr_expect(strstr(row(&f, 0), "960.0 KiB of 3.1 MiB") != NULL, "%s",
	    rowbuf);
	cr_expect(strstr(row(&f, 0), "%") != NULL, "%s", rowbuf);
	/* All of the selection here: a fresh picker that wants only the
	 * first file's pieces, which we have. */
	picker_release(&f.t->pk);
	cr_assert_eq(picker_init(&f.t->pk, &f.t->mi, &f.t->have, 4), 0);
	for (uint32_t i = 30; i < T_NPIECES; i++)
		cr_assert_eq(picker_set_wanted(&f.t->pk, i, false), 0);
	f.t->sel.left = 0;
	f.t->phase = TORRENT_SEEDING;
	cr_assert(torrent_complete(f.t));
	draw(&f);
	cr_expect(strstr(row(&f, 0), "960.0 KiB of 3.1 MiB  complete (1 file "
	    "skipped)") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 0), "100.0%") == NULL, "%s", rowbuf);
	f.t->sel.wanted = NULL;
	f.t->sel.nfiles = 0;
	fix_close(&f);
}

/*
 * A magnet link before its info dict: no pieces, no files, no size, no
 * picker, perhaps no name; peers have empty bitfields.
 */
static struct torrent *
make_meta_torrent(void)
{
	struct torrent *t = calloc(1, sizeof(*t));
	static const char *const addrs[] = { "10.0.0.7:6881", "10.0.0.8:6881" };

	cr_assert_not_null(t);
	t->sess = make_session();
	t->log = &t->sess->log;
	t->phase = TORRENT_METADATA;
	t->have_meta = false;
	for (int i = 0; i < 20; i++)
		t->mi.info_hash[i] = (uint8_t)(0x10 + i);
	memcpy(t->md.info_hash, t->mi.info_hash, 20);
	t->pk.strategy = PICKER_RAREST;
	t->ps.nknown = 3;
	t->ann.phase = ANNOUNCER_NONE;
	rate_init(&t->down, T_NOW);
	rate_init(&t->up, T_NOW);
	for (size_t i = 0; i < 2; i++) {
		struct thr_addr a;
		struct peer *p;

		cr_assert_eq(addr_parse(addrs[i], &a), 0);
		p = peer_new(++t->sess->next_peer_id, &a, false, 0, T_NOW);
		cr_assert_not_null(p);
		p->phase = PEER_ACTIVE;
		p->source = i == 0 ? PEER_SRC_DHT : PEER_SRC_MANUAL;
		t->ps.peers[t->ps.npeers++] = p;
	}
	log_msg(t->log, LOG_INFO, "fetching metadata");
	return t;
}

/* Draw every pane (and the availability map and the help overlay) at
 * cols x rows and check that each row fits. */
static void
draw_all_panes(struct fix *f, int cols, int rows)
{
	view_set_size(f->v, cols, rows);
	type(f, "1");
	for (int p = 0; p < VIEW_NPANES; p++) {
		draw(f);
		check_fits(f, cols, rows);
		cr_expect(strstr(row(f, rows - 1), "q quit") != NULL, "%s",
		    rowbuf);
		type(f, "\t");
	}
	type(f, "2a");
	draw(f);
	check_fits(f, cols, rows);
	type(f, "a3jjjj\x1b[6~");
	draw(f);
	check_fits(f, cols, rows);
	/* No files: the cursor clamps to 0 when the pane draws. */
	cr_expect_eq(view_selected_file(f->v), 0);
	type(f, "?");
	draw(f);
	check_fits(f, cols, rows);
	type(f, "x1");
}

Test(view, metadata_phase_renders_every_pane)
{
	struct fix f;
	int r;

	setlocale(LC_ALL, "C.UTF-8");
	fix_open(&f, "unused", 200, 60);
	free_torrent(f.t);
	f.t = make_meta_torrent();

	draw(&f);
	cr_expect(strstr(row(&f, 0),
	    "101112131415161718191a1b1c1d1e1f20212223") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 0), "fetching metadata: waiting for peers")
	    != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 0), "%") == NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "metadata") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 2), "DHT off") != NULL, "%s", rowbuf);
	r = find_row(&f, 60, "10.0.0.7:6881");
	cr_assert_gt(r, 0);
	cr_expect(strstr(row(&f, r), " dht ") != NULL, "%s", rowbuf);
	r = find_row(&f, 60, "10.0.0.8:6881");
	cr_assert_gt(r, 0);
	cr_expect(strstr(row(&f, r), " manual ") != NULL, "%s", rowbuf);
	type(&f, "2");
	draw(&f);
	cr_expect_eq(find_row(&f, 60, "no pieces yet: fetching metadata"), 4);
	type(&f, "3");
	draw(&f);
	cr_expect_eq(find_row(&f, 60, "no file list yet: fetching metadata"),
	    5);
	type(&f, "1");
	draw_all_panes(&f, 200, 60);
	draw_all_panes(&f, 80, 24);
	draw_all_panes(&f, 40, 10);

	/* A peer told the size: pieces of the info dict arrive. */
	f.t->md.size = 40000;
	f.t->md.npieces = 3;
	f.t->md.nhave = 1;
	f.t->mi.name = strdup("magnet-dn.iso");
	view_set_size(f.v, 200, 60);
	draw(&f);
	cr_expect(strstr(row(&f, 0), "magnet-dn.iso") != NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 0), "fetching metadata: 1/3 pieces") !=
	    NULL, "%s", rowbuf);
	cr_expect(strstr(row(&f, 0), "1011121314") == NULL, "%s", rowbuf);
	f.t->paused = true;
	draw_all_panes(&f, 200, 60);
	draw_all_panes(&f, 40, 10);
	view_set_size(f.v, 40, 10);
	draw(&f);
	cr_expect(strstr(row(&f, 0), "magnet-dn") != NULL, "%s", rowbuf);
	/* Narrow: the short form of the progress. */
	cr_expect(strstr(row(&f, 0), "metadata 1/3") != NULL, "%s", rowbuf);
	f.t->md.size = 0;
	f.t->md.npieces = 0;
	f.t->md.nhave = 0;
	draw(&f);
	cr_expect(strstr(row(&f, 0), "metadata: waiting") != NULL, "%s",
	    rowbuf);

	view_free(f.v);
	f.v = NULL;
	setlocale(LC_ALL, "C");
	drain(&f);
	fclose(f.in);
	fclose(f.out);
	close(f.master);
	free_torrent(f.t);
}

/*
 * Translated labels: with the German catalogue (po/de.gmo of the source
 * tree, copied where bindtextdomain looks) the header shows German and
 * keeps its layout, since widths are measured in columns: the PAUSED
 * flag ("PAUSIERT", longer) still fits whole at the right, and no row is
 * wider than the terminal, at 100 and at 40 columns.
 */
static bool
view_de_catalogue(char *dir, size_t len)
{
	const char *top = getenv("TOP_SRCDIR");
	char src[4096], dst[4200];
	FILE *in, *out;
	char buf[4096];
	size_t n;

	if (top == NULL)
		return false;
	snprintf(src, sizeof(src), "%s/po/de.gmo", top);
	if ((in = fopen(src, "rb")) == NULL)
		return false;
	snprintf(dir, len, "/tmp/thr-view-de-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dst, sizeof(dst), "%s/de", dir);
	mkdir(dst, 0700);
	snprintf(dst, sizeof(dst), "%s/de/LC_MESSAGES", dir);
	mkdir(dst, 0700);
	snprintf(dst, sizeof(dst), "%s/de/LC_MESSAGES/%s.mo", dir, PACKAGE);
	out = fopen(dst, "wb");
	cr_assert_not_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	return true;
}

static int
view_cols_of(const char *s)
{
	wchar_t w[T_ROW_MAX];
	size_t n = mbstowcs(w, s, T_ROW_MAX);

	cr_assert_neq(n, (size_t)-1, "not UTF-8: %s", s);
	return wcswidth(w, n);
}

Test(view, german_labels_keep_the_layout)
{
	char dir[64], path[128];
	struct fix f;
	const char *r;
	int cols[] = { 100, 40 };

	if (!view_de_catalogue(dir, sizeof(dir)))
		cr_skip_test("no po/de.gmo (NLS off or TOP_SRCDIR unset)");
	setenv("LANGUAGE", "de", 1);
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		cr_skip_test("no C.UTF-8 locale");
	bindtextdomain(PACKAGE, dir);
	textdomain(PACKAGE);
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		fix_open(&f, "ubuntu-24.04.iso", cols[c], 24);
		f.t->paused = true;
		draw(&f);
		r = row(&f, 0);
		cr_expect(strstr(r, "ubuntu") != NULL, "%s", r);
		/* Whole, at the right edge (rows come back trimmed). */
		cr_expect(strlen(r) >= 9 &&
		    strcmp(r + strlen(r) - 9, " PAUSIERT") == 0, "%s", r);
		if (cols[c] == 100) {
			cr_expect(strstr(row(&f, 1), "Verhältnis 0.25") != NULL,
			    "%s", rowbuf);
			cr_expect(strstr(row(&f, 2), "Tracker: ") != NULL,
			    "%s", rowbuf);
			/* The strategy too, not only the labels. */
			cr_expect(strstr(row(&f, 2), "  seltenste  ") != NULL,
			    "%s", rowbuf);
			cr_expect(strstr(row(&f, 1), "(unbegrenzt)") != NULL,
			    "%s", rowbuf);
			cr_expect_geq(find_row(&f, 24, "q Ende"), 0);
			cr_expect_geq(find_row(&f, 24, "Adresse"), 0);
		}
		/* Every pane, and the help overlay, in German. */
		for (const char *k = "1234?"; *k != '\0'; k++) {
			char key[2] = { *k, '\0' };

			type(&f, key);
			draw(&f);
			for (int y = 0; y < 24; y++)
				cr_expect_leq(view_cols_of(row(&f, y)), cols[c],
				    "pane %c, row %d at %d columns: %s", *k, y,
				    cols[c], rowbuf);
		}
		if (cols[c] == 100)
			cr_expect_geq(find_row(&f, 24, "Tasten (jede Taste"), 0);
		view_free(f.v);
		f.v = NULL;
		drain(&f);
		fclose(f.in);
		fclose(f.out);
		close(f.master);
		free_torrent(f.t);
	}
	setlocale(LC_ALL, "C");
	unsetenv("LANGUAGE");
	snprintf(path, sizeof(path), "%s/de/LC_MESSAGES/%s.mo", dir, PACKAGE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/de/LC_MESSAGES", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/de", dir);
	rmdir(path);
	rmdir(dir);
}

/* TERM decides between the view, plain lines and a refusal, before a
 * screen exists; and asking leaves nothing behind for the view. */
Test(view, terminal_types_are_told_apart)
{
	struct fix f;

	cr_expect_eq(view_term_check("xterm-256color", 1), VIEW_TERM_OK);
	cr_expect_eq(view_term_check("vt100", 1), VIEW_TERM_OK);
	cr_expect_eq(view_term_check("dumb", 1), VIEW_TERM_LIMITED);
	cr_expect_eq(view_term_check(NULL, 1), VIEW_TERM_LIMITED);
	cr_expect_eq(view_term_check("", 1), VIEW_TERM_LIMITED);
	cr_expect_eq(view_term_check("no-such-terminal-xyz", 1),
	    VIEW_TERM_UNKNOWN);
	cr_expect_eq(view_term_check("../../etc/passwd", 1),
	    VIEW_TERM_UNKNOWN);
	fix_open(&f, "after-the-checks", 80, 24);
	draw(&f);
	cr_expect(strstr(row(&f, 0), "after-the-checks") != NULL, "%s",
	    rowbuf);
	fix_close(&f);
}
