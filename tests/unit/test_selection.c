/*
 * test_selection.c: file selection (core/selection.h: --files,
 * torrent_set_file_wanted and COMMAND_FILE_TOGGLE), the other live
 * commands (core/command.h: strategy, limits), the ban after repeated
 * bad data (core/peerset.h), and the picker rules they rest on
 * (core/picker.h: wanted pieces, strategies, determinism, endgame).
 *
 * The torrent tests build a four-file torrent in a fresh temporary
 * directory: "pay/a.bin" (40000 bytes), "pay/empty" (0), "pay/sub/c.bin"
 * (70001) and "pay/d.bin" (30000), piece length 16384, so 9 pieces:
 * piece 2 spans a.bin and c.bin, piece 6 spans c.bin and d.bin and the
 * last piece is 8929 bytes.  Files are numbered from 1 on the command
 * line and from 0 in the torrent.  A session with that torrent over the
 * disk store (net/storage.h) is made by fixture.h.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/command.h"
#include "core/peerset.h"
#include "core/picker.h"
#include "core/selection.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/wire.h"

#include "fixture.h"

#define PLEN	16384u
#define NFILES	4
#define TOTAL	(40000u + 0u + 70001u + 30000u)
#define NPIECES	((TOTAL + PLEN - 1) / PLEN)
#define LASTLEN	(TOTAL - (NPIECES - 1) * PLEN)
#define NOW	1000000u	/* an arbitrary start time, in ms */

static const struct fixture_file files[NFILES] = {
	{ { "a.bin", NULL }, 40000, 0 },
	{ { "empty", NULL }, 0, 40000 },
	{ { "sub", "c.bin" }, 70001, 40000 },
	{ { "d.bin", NULL }, 30000, 110001 },
};

static const uint8_t their_id[20] = "-XX0001-abcdefghijkl";

static char	 root[FIXTURE_ROOT_LEN];
static char	 dl[FIXTURE_PATH_LEN];
static char	 torrent[FIXTURE_PATH_LEN];
static char	 state_dir[FIXTURE_PATH_LEN + 8];
static uint8_t	 payload[TOTAL];

static const struct fixture fx = FIXTURE_OVER(files, PLEN, payload, root, dl,
    torrent);

/* --- fixture (fixture.h), and what only this suite needs --------------- */

static void
fx_init(void)
{
	fixture_init(&fx, "/tmp/thr-select-XXXXXX", 0x5a);
	fixture_write_torrent(&fx);
	snprintf(state_dir, sizeof(state_dir), "%s/state", root);
}

static void
fx_fini(void)
{
	fixture_fini(&fx);
}

static void
file_path(size_t f, char *out, size_t len)
{
	fixture_file_path(&fx, f, out, len);
}

static bool
file_exists(size_t f)
{
	char path[256];
	struct stat st;

	file_path(f, path, sizeof(path));
	return stat(path, &st) == 0;
}

/*
 * Put files on disk: those in mask (bit f) with their payload; the
 * first `prefix` bytes of file 3 (d.bin) too when prefix > 0, the rest
 * of it zero, as a download of only the shared piece would leave it.
 */
static void
write_payload(unsigned mask, size_t prefix)
{
	char path[256];

	fixture_make_dirs(&fx);
	for (size_t f = 0; f < NFILES; f++) {
		static const uint8_t zero[30000];
		FILE *fp;

		if (!(mask & (1u << f)) && !(f == 3 && prefix > 0))
			continue;
		file_path(f, path, sizeof(path));
		cr_assert_not_null(fp = fopen(path, "wb"), "%s", path);
		if (mask & (1u << f))
			cr_assert_eq(fwrite(payload + files[f].offset, 1,
			    files[f].length, fp), files[f].length);
		else {
			cr_assert_eq(fwrite(payload + files[f].offset, 1,
			    prefix, fp), prefix);
			cr_assert_eq(fwrite(zero, 1, files[f].length - prefix,
			    fp), files[f].length - prefix);
		}
		cr_assert_eq(fclose(fp), 0);
	}
}

/* The whole of file f must be: its payload where `good` says so for the
 * piece holding each byte, zero elsewhere. */
static void
expect_file(size_t f, const bool *good)
{
	char path[256];
	uint8_t *buf;
	struct stat st;
	FILE *fp;

	file_path(f, path, sizeof(path));
	cr_assert_eq(stat(path, &st), 0, "%s missing", path);
	cr_assert_eq((uint64_t)st.st_size, files[f].length, "%s size", path);
	cr_assert_not_null(buf = malloc(files[f].length + 1));
	cr_assert_not_null(fp = fopen(path, "rb"));
	cr_assert_eq(fread(buf, 1, files[f].length, fp), files[f].length);
	fclose(fp);
	for (uint64_t i = 0; i < files[f].length; i++) {
		uint64_t off = files[f].offset + i;
		uint8_t want = good[off / PLEN] ? payload[off] : 0;

		if (buf[i] != want)
			cr_assert_fail("%s byte %llu: %u, want %u", path,
			    (unsigned long long)i, buf[i], want);
	}
	free(buf);
}

static size_t
dir_entries(const char *path)
{
	return fixture_dir_entries(path);
}

static void
opts_default(struct fixture_run *r)
{
	fixture_opts(&fx, r);
	r->to.seed_ratio = -1;	/* keep the torrent out of DONE */
}

/* A session with the torrent, --files spec (NULL: all), then check to
 * the end. */
static struct torrent *
start_sel(struct fixture_run *r, const char *spec)
{
	opts_default(r);
	r->to.files = spec;
	fixture_start(r, NOW);
	cr_assert_eq(r->t->mi.npieces, NPIECES);
	cr_assert_eq(r->t->mi.nfiles, NFILES);
	fixture_check(r->t, NOW);
	return r->t;
}

/* Peers live in 10.0.0.0/8 unless a test asks for loopback, where bans
 * are per port. */
static uint8_t addr_net = 10;

static struct thr_addr
addr4(uint8_t last, uint16_t port)
{
	return fixture_addr4(addr_net, last, port);
}

/* A seed at <net>.0.0.<last> that has unchoked us. */
static struct peer *
seed_peer(struct torrent *t, uint8_t last)
{
	struct thr_addr a = addr4(last, 6881);
	struct peer *p;

	p = fixture_handshake(t, &a, t->mi.info_hash, their_id, NOW);
	fixture_put_bitfield(&p->in, NPIECES, true, 0);
	cr_assert_eq(wire_put_simple(&p->in, WIRE_UNCHOKE), 0);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "%s", p->why);
	return p;
}

/* Answer every request p has from us with the right data (or, when bad,
 * with garbage), until it has none left.  Returns the pieces asked. */
static unsigned
serve(struct torrent *t, struct peer *p, bool *asked, bool bad)
{
	static uint8_t junk[PLEN];
	unsigned n = 0;
	uint64_t now = NOW + 100;

	memset(junk, 0xee, sizeof(junk));
	while (p->nreqs > 0 && !p->dead) {
		struct picker_block b = p->reqs[0];

		cr_assert_lt(++n, 1000, "requests never end");
		if (asked != NULL)
			asked[b.index] = true;
		fixture_put_block(&p->in, b.index, b.begin, bad ? junk :
		    payload + (uint64_t)b.index * PLEN + b.begin, b.length);
		torrent_peer_input(t, p, now++);
		if (bad)
			break;
	}
	return n;
}

/* --- the plan --------------------------------------------------------- */

Test(selection, files_1_3_want_their_pieces, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;

	cr_assert_eq(NPIECES, 9);
	cr_assert_eq(LASTLEN, 8929);
	t = start_sel(&r, "1,3");
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert_eq(t->sel.wanted[0], 1);
	cr_assert_eq(t->sel.wanted[1], 0);
	cr_assert_eq(t->sel.wanted[2], 1);
	cr_assert_eq(t->sel.wanted[3], 0);
	/* a.bin: pieces 0-2, c.bin: 2-6 (6 shared with d.bin). */
	for (uint32_t i = 0; i < NPIECES; i++)
		cr_assert_eq(picker_wanted(&t->pk, i), i <= 6, "piece %u", i);
	cr_assert_eq(t->sel.wanted_total, 7 * PLEN);
	cr_assert_eq(t->sel.left, 7 * PLEN);
	cr_assert_eq(t->pk.nfree_missing, 7);
	cr_assert_float_eq(torrent_percent(t), 0.0, 1e-9);
	cr_assert_not(torrent_complete(t));
	fixture_stop(&r);
}

Test(selection, range_and_last_file, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;

	t = start_sel(&r, "4");
	for (uint32_t i = 0; i < NPIECES; i++)
		cr_assert_eq(picker_wanted(&t->pk, i), i >= 6, "piece %u", i);
	cr_assert_eq(t->sel.wanted_total, 2 * PLEN + LASTLEN);
	cr_assert_eq(t->sel.left, 2 * PLEN + LASTLEN);
	cr_assert_not(file_exists(2), "c.bin only shares a piece");
	cr_assert(file_exists(3));
	fixture_stop(&r);

	/* A range, the empty file included, is all of them. */
	t = start_sel(&r, "1-4");
	for (uint32_t i = 0; i < NPIECES; i++)
		cr_assert(picker_wanted(&t->pk, i));
	cr_assert_eq(t->sel.wanted_total, TOTAL);
	cr_assert(file_exists(1), "a selected empty file is created");
	fixture_stop(&r);
}

Test(selection, unselected_files_not_created, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	char path[256];
	struct stat st;

	start_sel(&r, "1,3");
	for (size_t f = 0; f < NFILES; f++)
		cr_assert_eq(file_exists(f), f == 0 || f == 2, "file %zu", f);
	file_path(2, path, sizeof(path));
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq((uint64_t)st.st_size, files[2].length,
	    "selected files are created at full length");
	fixture_stop(&r);
	cr_assert_not(file_exists(3), "nor by closing");
}

/* Only wanted pieces are asked for; the shared piece 6 creates d.bin,
 * which then holds that piece's bytes and zeros. */
Test(selection, download_selected_then_complete, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	bool asked[NPIECES] = { false }, good[NPIECES];

	t = start_sel(&r, "1,3");
	p = seed_peer(t, 2);
	cr_assert(p->am_interested);
	cr_assert_not(file_exists(3));
	serve(t, p, asked, false);
	cr_assert_eq(t->hash_fails, 0);
	cr_assert(torrent_complete(t));
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	cr_assert_eq(t->sel.left, 0);
	cr_assert_float_eq(torrent_percent(t), 100.0, 1e-9);
	cr_assert_not(p->dead, "we are not a seed of the whole torrent");
	cr_assert_not(p->am_interested, "nothing more wanted from it");
	for (uint32_t i = 0; i < NPIECES; i++) {
		good[i] = i <= 6;
		cr_assert_eq(asked[i], good[i], "piece %u asked", i);
		cr_assert_eq(bitfield_get(&t->have, i), good[i], "piece %u",
		    i);
	}
	cr_assert_eq(t->downloaded, 7 * PLEN);
	cr_assert(file_exists(3), "the shared piece created d.bin");
	cr_assert_not(file_exists(1));
	fixture_stop(&r);
	expect_file(0, good);
	expect_file(2, good);
	expect_file(3, good);
}

static void
expect_bad_spec(const char *spec)
{
	struct fixture_run r;
	struct thr_error err;

	opts_default(&r);
	r.to.files = spec;
	cr_assert_neq(fixture_try_start(&r, NOW, &err), 0, "'%s' accepted",
	    spec);
	cr_assert_not_null(strstr(err.msg, "--files"), "'%s': %s", spec,
	    err.msg);
	cr_assert_null(strchr(err.msg, '\n'), "one line: %s", err.msg);
	cr_assert_eq(dir_entries(dl), 0, "'%s' created files", spec);
	fixture_stop(&r);
}

Test(selection, bad_specs_refused, .init = fx_init, .fini = fx_fini)
{
	static const char *const bad[] = {
		"0", "5", "9", "2-1", "a", "1,,2", "1-", "-1", "1-5", "3,0",
		"1;2", ",1", "1 2", "99999999999999999999999",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bad_spec(bad[i]);
}

/* --- live changes ----------------------------------------------------- */

/* Files 1 and 3 and the shared part of d.bin are on disk: complete. */
Test(selection, file_toggle_replans, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;

	write_payload(1u << 0 | 1u << 2, 114688 - 110001);
	t = start_sel(&r, "1,3");
	cr_assert_eq(t->have.count, 7);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	cr_assert(torrent_complete(t));
	/* Selecting d.bin (0-based 3) leaves two pieces to fetch. */
	cr_assert_eq(command_exec(r.s, t, COMMAND_FILE_TOGGLE, 3, NOW + 1),
	    0);
	cr_assert_eq(t->sel.wanted[3], 1);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert_not(torrent_complete(t));
	cr_assert_eq(t->sel.left, PLEN + LASTLEN);
	cr_assert_eq(t->sel.wanted_total, 8 * PLEN + LASTLEN);
	cr_assert(picker_wanted(&t->pk, 8));
	/* And deselecting it again completes us. */
	cr_assert_eq(command_exec(r.s, t, COMMAND_FILE_TOGGLE, 3, NOW + 2),
	    0);
	cr_assert_eq(t->sel.wanted[3], 0);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	cr_assert_eq(t->sel.left, 0);
	cr_assert_eq(t->sel.wanted_total, 7 * PLEN);
	/* Deselecting a.bin keeps piece 2, shared with c.bin. */
	cr_assert_eq(command_exec(r.s, t, COMMAND_FILE_TOGGLE, 0, NOW + 3),
	    0);
	cr_assert_not(picker_wanted(&t->pk, 0));
	cr_assert_not(picker_wanted(&t->pk, 1));
	cr_assert(picker_wanted(&t->pk, 2));
	cr_assert_eq(t->sel.wanted_total, 5 * PLEN);
	cr_assert_eq(command_exec(r.s, t, COMMAND_FILE_TOGGLE, NFILES,
	    NOW + 4), THR_EINVAL);
	cr_assert_eq(command_exec(r.s, t, COMMAND_FILE_TOGGLE, UINT32_MAX,
	    NOW + 4), THR_EINVAL);
	fixture_stop(&r);
}

/* A file skipped in the files pane stays skipped at the next start (the
 * resume record keeps it); --files on the command line overrides it. */
Test(selection, skip_survives_restart, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;

	opts_default(&r);
	r.state_dir = state_dir;
	fixture_start(&r, NOW);
	t = r.t;
	fixture_check(t, NOW);
	cr_assert_eq(selection_skipped(&t->sel), 0);
	cr_assert_eq(command_exec(r.s, t, COMMAND_FILE_TOGGLE, 2, NOW + 1),
	    0);
	cr_assert_eq(selection_skipped(&t->sel), 1);
	/* Kept at once: a crash now would not lose it. */
	fixture_stop(&r);
	opts_default(&r);
	r.state_dir = state_dir;
	fixture_start(&r, NOW);
	t = r.t;
	cr_expect_eq(t->sel.wanted[2], 0, "c.bin still skipped");
	cr_expect_eq(selection_skipped(&t->sel), 1);
	fixture_check(t, NOW);
	cr_expect_eq(t->sel.wanted_total, 5 * PLEN + LASTLEN,
	    "the pieces of a.bin and d.bin");
	fixture_stop(&r);
	opts_default(&r);
	r.state_dir = state_dir;
	r.to.files = "1-4";
	fixture_start(&r, NOW);
	cr_expect_eq(selection_skipped(&r.t->sel), 0, "--files wins");
	fixture_stop(&r);
}

/* A second run on the same torrent and directory is refused, naming the
 * first one's PID, before a single file is created. */
Test(selection, second_run_refused_untouched, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct thr_error err;
	char want[64];
	int go[2], done[2];
	pid_t pid;
	char c;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(done), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct fixture_run first;

		opts_default(&first);
		first.state_dir = state_dir;
		if (fixture_try_start(&first, NOW, &err) != 0)
			_exit(1);
		(void)!write(go[1], "x", 1);
		(void)!read(done[0], &c, 1);
		_exit(0);
	}
	cr_assert_eq(read(go[0], &c, 1), 1);
	/* Empty the folder the first one filled: the second must leave
	 * it empty. */
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'/*", dl);
		cr_assert_eq(system(cmd), 0);
	}
	opts_default(&r);
	r.state_dir = state_dir;
	cr_expect_eq(fixture_try_start(&r, NOW, &err), THR_EBUSY);
	snprintf(want, sizeof(want), "pid %ld", (long)pid);
	cr_expect(strstr(err.msg, want) != NULL, "%s", err.msg);
	cr_expect_eq(dir_entries(dl), 0, "nothing created in the folder");
	fixture_stop(&r);
	cr_assert_eq(write(done[1], "x", 1), 1);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	/* Once the first has gone, the lock is free. */
	opts_default(&r);
	r.state_dir = state_dir;
	fixture_start(&r, NOW);
	fixture_stop(&r);
}

/* Selecting a file while downloading makes a connected peer interesting
 * again and its pieces get asked for. */
Test(selection, select_while_downloading, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	bool asked[NPIECES] = { false };

	t = start_sel(&r, "1");
	p = seed_peer(t, 2);
	serve(t, p, asked, false);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	cr_assert_not(asked[3]);
	cr_assert_not(p->am_interested);
	cr_assert_eq(torrent_set_file_wanted(t, 3, true), 0);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert(p->am_interested, "interest follows the selection");
	session_tick(r.s, NOW + 1000);
	cr_assert_gt(p->nreqs, 0, "asked for d.bin's pieces");
	serve(t, p, asked, false);
	cr_assert(torrent_complete(t));
	for (uint32_t i = 0; i < NPIECES; i++)
		cr_assert_eq(bitfield_get(&t->have, i), i <= 2 || i >= 6,
		    "piece %u", i);
	fixture_stop(&r);
}

Test(selection, strategy_next_cycles, .init = fx_init, .fini = fx_fini)
{
	static const char *const order[] = {
		"random", "sequential", "rarest", "random"
	};
	struct fixture_run r;
	struct torrent *t;

	t = start_sel(&r, NULL);
	cr_assert_str_eq(picker_strategy_name(torrent_strategy(t)),
	    "rarest");
	cr_assert_eq(t->pk.strategy, PICKER_RAREST);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum picker_strategy st;

		cr_assert_eq(command_exec(r.s, t, COMMAND_STRATEGY_NEXT, 0,
		    NOW), 0);
		cr_assert_str_eq(picker_strategy_name(torrent_strategy(t)),
		    order[i]);
		cr_assert_eq(picker_strategy_parse(order[i], &st), 0);
		cr_assert_eq(t->pk.strategy, st);
		cr_assert_eq(torrent_strategy(t), st);
	}
	fixture_stop(&r);
}

Test(selection, limit_steps, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct session *s;
	uint64_t want;

	t = start_sel(&r, NULL);
	s = r.s;
	cr_assert_eq(s->up_limit.rate, 0);
	cr_assert_eq(command_exec(s, t, COMMAND_UP_LESS, 0, NOW), 0);
	cr_assert_eq(s->up_limit.rate, 1u << 20, "1 MiB/s from unlimited");
	for (want = 2u << 20; want <= (1ull << 30); want *= 2) {
		cr_assert_eq(command_exec(s, t, COMMAND_UP_MORE, 0, NOW), 0);
		cr_assert_eq(s->up_limit.rate, want);
	}
	cr_assert_eq(command_exec(s, t, COMMAND_UP_MORE, 0, NOW), 0);
	cr_assert_eq(s->up_limit.rate, 0, "past 1 GiB/s: no limit");
	cr_assert_eq(command_exec(s, t, COMMAND_UP_MORE, 0, NOW), 0);
	cr_assert_eq(s->up_limit.rate, 0, "more than none is none");
	/* Halving stops at 16 KiB/s; the download limit is separate. */
	cr_assert_eq(command_exec(s, t, COMMAND_DOWN_LESS, 0, NOW), 0);
	cr_assert_eq(s->down_limit.rate, 1u << 20);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(command_exec(s, t, COMMAND_DOWN_LESS, 0, NOW), 0);
	cr_assert_eq(s->down_limit.rate, COMMAND_LIMIT_MIN);
	cr_assert_eq(command_exec(s, t, COMMAND_DOWN_MORE, 0, NOW), 0);
	cr_assert_eq(s->down_limit.rate, 2 * COMMAND_LIMIT_MIN);
	cr_assert_eq(s->up_limit.rate, 0);
	cr_assert_eq(command_exec(s, t, COMMAND_PANE_NEXT, 0, NOW),
	    THR_EINVAL, "view-only commands are not executed");
	fixture_stop(&r);
}

/* Three bad pieces and the IP is refused, whatever the port. */
Test(selection, three_strikes_ban, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	struct thr_addr a = addr4(2, 6881), other = addr4(2, 51413),
	    elsewhere = addr4(3, 6881);

	t = start_sel(&r, NULL);
	p = seed_peer(t, 2);
	for (uint32_t k = 1; k <= TORRENT_MAX_STRIKES; k++) {
		cr_assert_not(peerset_banned(&t->ps, &a), "banned after %u",
		    k - 1);
		cr_assert_not(p->dead, "dead after %u strikes", k - 1);
		cr_assert_gt(p->nreqs, 0);
		serve(t, p, NULL, true);
		cr_assert_eq(p->strikes, k);
	}
	cr_assert(p->dead);
	cr_assert(peerset_banned(&t->ps, &a));
	cr_assert(peerset_banned(&t->ps, &other), "any port");
	cr_assert_not(peerset_banned(&t->ps, &elsewhere));
	cr_assert_eq(t->ps.nbanned, 1);
	torrent_peer_remove(t, p, NOW + 40);
	cr_assert_null(torrent_peer_add(t, &a, true, PEER_SRC_COUNT, PEER_TCP,
	    NOW + 50));
	cr_assert_null(torrent_peer_add(t, &other, false, PEER_SRC_COUNT,
	    PEER_TCP, NOW + 50));
	cr_assert_not_null(torrent_peer_add(t, &elsewhere, true,
	    PEER_SRC_COUNT, PEER_TCP, NOW + 50));
	/* Nor is it offered for connecting. */
	peerset_known_add(&t->ps, &other, PEER_SRC_TRACKER);
	{
		struct thr_addr out;

		while (peerset_next_dial(&t->ps, NOW + 60,
		    t->phase == TORRENT_SEEDING, &out))
			cr_assert_not(peerset_banned(&t->ps, &out));
	}
	fixture_stop(&r);
}

/* On loopback every local peer shares the IP: the ban keeps the port. */
Test(selection, loopback_ban_is_per_port, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	struct thr_addr a, other;

	addr_net = 127;
	a = addr4(1, 6881);
	other = addr4(1, 51413);
	t = start_sel(&r, NULL);
	p = seed_peer(t, 1);
	for (uint32_t k = 1; k <= TORRENT_MAX_STRIKES; k++)
		serve(t, p, NULL, true);
	cr_assert(p->dead);
	cr_assert(peerset_banned(&t->ps, &a));
	cr_assert_not(peerset_banned(&t->ps, &other), "another local peer");
	torrent_peer_remove(t, p, NOW + 40);
	cr_assert_not_null(torrent_peer_add(t, &other, true, PEER_SRC_COUNT,
	    PEER_TCP, NOW + 50));
	fixture_stop(&r);
	addr_net = 10;
}

/* --- the picker ------------------------------------------------------- */

#define PK_N	16

static void
mi_make(struct metainfo *mi, uint32_t npieces)
{
	memset(mi, 0, sizeof(*mi));
	mi->npieces = npieces;
	mi->piece_length = PLEN;
	mi->total_length = (uint64_t)npieces * PLEN;
}

/* A picker over n one-block pieces, with pieces < nhave already had and
 * availability avail[i] (peers with everything, then extras). */
static void
pk_make(struct picker *pk, struct metainfo *mi, uint32_t n, uint32_t nhave,
    const uint16_t *avail, enum picker_strategy st)
{
	struct bitfield have;

	mi_make(mi, n);
	cr_assert_eq(bitfield_init(&have, n), 0);
	for (uint32_t i = 0; i < nhave; i++)
		bitfield_set(&have, i);
	cr_assert_eq(picker_init(pk, mi, &have, 64), 0);
	bitfield_release(&have);
	pk->strategy = st;
	if (avail != NULL)
		for (uint32_t i = 0; i < n; i++)
			for (uint16_t k = 0; k < avail[i]; k++)
				picker_add_have(pk, i);
}

static void
bf_full(struct bitfield *bf, uint32_t n)
{
	cr_assert_eq(bitfield_init(bf, n), 0);
	bitfield_set_all(bf);
}

/* Pick until nothing is left (no endgame duplicates: one block each),
 * returning the order of pieces. */
static size_t
pick_all(struct picker *pk, const struct bitfield *bf, struct rng *rng,
    uint32_t *seq, size_t max)
{
	struct picker_block b;
	size_t n = 0;

	while (n < max && pk->nfree_missing > 0 &&
	    picker_pick(pk, 1, bf, rng, NULL, NULL, &b)) {
		cr_assert_eq(b.begin, 0);
		seq[n++] = b.index;
	}
	return n;
}

Test(selection, picker_same_seed_same_picks)
{
	static const uint16_t avail[PK_N] = {
		0, 0, 0, 0, 2, 1, 2, 1, 1, 3, 2, 1, 3, 3, 1, 2
	};

	for (int st = 0; st < PICKER_NSTRATEGIES; st++) {
		struct metainfo mi1, mi2;
		struct picker a, b;
		struct bitfield bf;
		struct rng r1, r2;
		uint32_t s1[PK_N], s2[PK_N];
		size_t n1, n2;

		pk_make(&a, &mi1, PK_N, 4, avail, (enum picker_strategy)st);
		pk_make(&b, &mi2, PK_N, 4, avail, (enum picker_strategy)st);
		bf_full(&bf, PK_N);
		rng_seed(&r1, 99);
		rng_seed(&r2, 99);
		n1 = pick_all(&a, &bf, &r1, s1, PK_N);
		n2 = pick_all(&b, &bf, &r2, s2, PK_N);
		cr_assert_eq(n1, PK_N - 4);
		cr_assert_eq(n1, n2);
		cr_assert_arr_eq(s1, s2, n1 * sizeof(s1[0]), "strategy %d", st);
		picker_release(&a);
		picker_release(&b);
		bitfield_release(&bf);
	}
}

Test(selection, picker_sequential_lowest_first)
{
	static const uint16_t avail[8] = { 5, 5, 5, 5, 5, 1, 1, 1 };
	struct metainfo mi;
	struct picker pk;
	struct bitfield bf;
	struct rng r;
	uint32_t seq[8];

	pk_make(&pk, &mi, 8, 0, avail, PICKER_SEQUENTIAL);
	bf_full(&bf, 8);
	bitfield_clear(&bf, 1);
	rng_seed(&r, 1);
	cr_assert_eq(pick_all(&pk, &bf, &r, seq, 8), 7);
	for (uint32_t i = 0, want = 0; i < 7; i++, want++) {
		if (want == 1)
			want++;
		cr_assert_eq(seq[i], want, "pick %u", i);
	}
	picker_release(&pk);
	bitfield_release(&bf);
}

Test(selection, picker_random_spreads)
{
	/* Rarity is ignored: piece 7 is rarest but not always first. */
	static const uint16_t avail[8] = { 0, 0, 0, 0, 3, 3, 3, 1 };
	bool first[8] = { false };

	for (uint64_t seed = 0; seed < 200; seed++) {
		struct metainfo mi;
		struct picker pk;
		struct bitfield bf;
		struct rng r;
		struct picker_block b;

		pk_make(&pk, &mi, 8, 4, avail, PICKER_RANDOM);
		bf_full(&bf, 8);
		rng_seed(&r, seed);
		cr_assert(picker_pick(&pk, 1, &bf, &r, NULL, NULL, &b));
		cr_assert_geq(b.index, 4);
		first[b.index] = true;
		picker_release(&pk);
		bitfield_release(&bf);
	}
	for (uint32_t i = 4; i < 8; i++)
		cr_assert(first[i], "piece %u never first", i);
}

Test(selection, picker_rarest_first)
{
	/* Pieces 9 and 13 are the rarest the peer has; 5 is rarer but the
	 * peer lacks it. */
	static const uint16_t avail[PK_N] = {
		0, 0, 0, 0, 4, 0, 3, 3, 2, 1, 2, 3, 4, 1, 2, 2
	};
	bool first[PK_N] = { false };

	for (uint64_t seed = 0; seed < 100; seed++) {
		struct metainfo mi;
		struct picker pk;
		struct bitfield bf;
		struct rng r;
		struct picker_block b;

		pk_make(&pk, &mi, PK_N, 4, avail, PICKER_RAREST);
		bf_full(&bf, PK_N);
		bitfield_clear(&bf, 5);
		rng_seed(&r, seed);
		cr_assert(picker_pick(&pk, 1, &bf, &r, NULL, NULL, &b));
		cr_assert(b.index == 9 || b.index == 13, "picked %u",
		    b.index);
		first[b.index] = true;
		/* Then the next rarest: one of 8, 10, 14, 15. */
		cr_assert(picker_pick(&pk, 1, &bf, &r, NULL, NULL, &b));
		cr_assert(b.index == 9 || b.index == 13, "picked %u",
		    b.index);
		cr_assert(picker_pick(&pk, 1, &bf, &r, NULL, NULL, &b));
		cr_assert(avail[b.index] == 2, "picked %u", b.index);
		picker_release(&pk);
		bitfield_release(&bf);
	}
	cr_assert(first[9] && first[13], "ties are broken at random");
}

Test(selection, picker_unwanted_never_picked)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield bf, only;
	struct rng r;
	uint32_t seq[8];
	uint8_t data[PLEN];
	size_t n;

	memset(data, 0, sizeof(data));
	for (int st = 0; st < PICKER_NSTRATEGIES; st++) {
		pk_make(&pk, &mi, 8, 0, NULL, (enum picker_strategy)st);
		cr_assert(picker_wanted(&pk, 2));
		cr_assert_eq(picker_set_wanted(&pk, 2, false), 0);
		cr_assert_eq(picker_set_wanted(&pk, 5, false), 0);
		cr_assert_eq(picker_set_wanted(&pk, 8, false), THR_EINVAL);
		cr_assert_not(picker_wanted(&pk, 2));
		cr_assert_eq(pk.nfree_missing, 6);
		bf_full(&bf, 8);
		cr_assert_eq(bitfield_init(&only, 8), 0);
		bitfield_set(&only, 2);
		bitfield_set(&only, 5);
		cr_assert_not(picker_interesting(&pk, &only),
		    "unwanted pieces are not interesting");
		rng_seed(&r, 7);
		n = pick_all(&pk, &bf, &r, seq, 8);
		cr_assert_eq(n, 6);
		for (size_t i = 0; i < n; i++) {
			struct picker_piece *pp = NULL;

			cr_assert(seq[i] != 2 && seq[i] != 5);
			cr_assert_eq(picker_received(&pk, 1, seq[i], 0, data,
			    PLEN, &pp), PICKER_RECV_COMPLETE);
			cr_assert_not(picker_complete(&pk));
			picker_piece_done(&pk, seq[i], true);
		}
		cr_assert(picker_complete(&pk), "unwanted pieces are ignored");
		cr_assert_eq(pk.state[2], PICKER_MISSING);
		cr_assert_not(picker_endgame(&pk));
		cr_assert_not(picker_pick(&pk, 1, &only, &r, NULL, NULL,
		    &(struct picker_block){ 0 }));
		/* Wanting it again makes us incomplete. */
		cr_assert_eq(picker_set_wanted(&pk, 5, true), 0);
		cr_assert_not(picker_complete(&pk));
		picker_release(&pk);
		bitfield_release(&bf);
		bitfield_release(&only);
	}
}

Test(selection, picker_pick_from_list_only)
{
	static const uint32_t list[] = { 5, 2, 7, 100 };
	struct metainfo mi;
	struct picker pk;
	struct bitfield bf;
	struct picker_block b;

	pk_make(&pk, &mi, 8, 0, NULL, PICKER_RAREST);
	cr_assert_eq(picker_set_wanted(&pk, 2, false), 0);
	bf_full(&bf, 8);
	cr_assert(picker_pick_from(&pk, 1, &bf, list, 4, NULL, NULL, &b));
	cr_assert_eq(b.index, 5, "list order");
	cr_assert(picker_pick_from(&pk, 1, &bf, list, 4, NULL, NULL, &b));
	cr_assert_eq(b.index, 7, "2 is not wanted");
	cr_assert_not(picker_pick_from(&pk, 1, &bf, list, 4, NULL, NULL, &b),
	    "no endgame duplicates");
	for (uint32_t i = 0; i < 8; i++)
		cr_assert_eq(pk.state[i], i == 5 || i == 7 ? PICKER_ACTIVE :
		    PICKER_MISSING, "piece %u", i);
	/* A piece the peer lacks is not picked either. */
	picker_release(&pk);
	pk_make(&pk, &mi, 8, 0, NULL, PICKER_RAREST);
	bitfield_clear(&bf, 5);
	cr_assert(picker_pick_from(&pk, 1, &bf, list, 4, NULL, NULL, &b));
	cr_assert_eq(b.index, 2);
	cr_assert(picker_pick_from(&pk, 1, &bf, list, 4, NULL, NULL, &b));
	cr_assert_eq(b.index, 7);
	cr_assert_not(picker_pick_from(&pk, 1, &bf, list, 0, NULL, NULL, &b));
	picker_release(&pk);
	bitfield_release(&bf);
}

Test(selection, picker_endgame_enter_and_leave)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield bf;
	struct rng r;
	struct picker_block b;
	uint8_t data[PLEN];
	uint32_t order[3];

	memset(data, 0, sizeof(data));
	pk_make(&pk, &mi, 3, 0, NULL, PICKER_SEQUENTIAL);
	bf_full(&bf, 3);
	rng_seed(&r, 3);
	cr_assert_not(picker_endgame(&pk), "nothing requested yet");
	for (int i = 0; i < 3; i++) {
		cr_assert_not(picker_endgame(&pk));
		cr_assert(picker_pick(&pk, 1, &bf, &r, NULL, NULL, &b));
		order[i] = b.index;
	}
	cr_assert(picker_endgame(&pk), "every missing block is requested");
	/* A second peer gets a duplicate. */
	cr_assert(picker_pick(&pk, 2, &bf, &r, NULL, NULL, &b));
	cr_assert_eq(pk.active[0].blk[0] + pk.active[1].blk[0] +
	    pk.active[2].blk[0], 4);
	for (int i = 0; i < 3; i++) {
		struct picker_piece *pp = NULL;

		cr_assert_eq(picker_received(&pk, 1, order[i], 0, data, PLEN,
		    &pp), PICKER_RECV_COMPLETE);
		picker_piece_done(&pk, order[i], true);
		cr_assert_eq(picker_endgame(&pk), i < 2, "after %d done", i);
	}
	cr_assert(picker_complete(&pk));
	cr_assert_not(picker_pick(&pk, 1, &bf, &r, NULL, NULL, &b));
	picker_release(&pk);
	bitfield_release(&bf);
}
