/*
 * test_choker.c: choking without sockets: the decision of core/choker.c
 * (choker_round, choker_fill) as a torrent applies it
 * (core/torrent.c, driven by session_tick).
 *
 * A three-file torrent (40000, 0 and 70001 bytes, piece length 16384) is
 * built in a fresh temporary directory by fixture.h, as in
 * test_torrent.c.  With no payload on disk the torrent downloads; with
 * the payload it seeds.  Peers are added as incoming connections and
 * driven by appending wire messages to p->in; their download rates are
 * set with rate_add, so the choker's choice is known in advance.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/choker.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/wire.h"
#include "net/fileio.h"

#include "fixture.h"

#define PLEN	16384u
#define NFILES	3
#define TOTAL	(40000u + 0u + 70001u)
#define NPIECES	((TOTAL + PLEN - 1) / PLEN)
#define NOW	1000000u	/* an arbitrary start time, in ms */
#define NPEERS	8
#define ROUNDS	8		/* optimistic periods looked at */

static const struct fixture_file files[NFILES] = {
	{ { "a.bin", NULL }, 40000, 0 },
	{ { "empty", NULL }, 0, 40000 },
	{ { "sub", "c.bin" }, 70001, 40000 },
};

static char	 root[FIXTURE_ROOT_LEN];
static char	 dl[FIXTURE_PATH_LEN];
static char	 torrent[FIXTURE_PATH_LEN];
static char	 tracefile[128];
static uint8_t	 payload[TOTAL];

static const struct fixture fx = FIXTURE_OVER(files, PLEN, payload, root, dl,
    torrent);

/* --- fixture (fixture.h), and what only this suite needs --------------- */

static void
fx_init(void)
{
	fixture_init(&fx, "/tmp/thr-choker-XXXXXX", 0);
	snprintf(tracefile, sizeof(tracefile), "%s/trace.jsonl", root);
	fixture_write_torrent(&fx);
}

static void
fx_fini(void)
{
	fixture_fini(&fx);
}

/* Put the payload on disk, so that the check makes us a seed. */
static void
write_payload(void)
{
	fixture_write_payload(&fx);
}

static void
opts_default(struct fixture_run *r)
{
	fixture_opts(&fx, r);
	r->so.max_peers = 20;
	r->to.seed_ratio = -1;	/* never DONE: the choker keeps running */
}

/* Start the session of r (its options set) and check to the end. */
static struct torrent *
start_with(struct fixture_run *r, enum torrent_phase want)
{
	fixture_start(r, NOW);
	fixture_check(r->t, NOW);
	cr_assert_eq(r->t->phase, want);
	return r->t;
}

/*
 * Peer number k (distinct address and peer id) completes its handshake;
 * a downloading torrent sees it holding every piece.  It says INTERESTED
 * when asked.
 */
static struct peer *
add_peer(struct torrent *t, int k, bool interested)
{
	struct thr_addr a = fixture_addr4(127, (uint8_t)(10 + k), 6881);
	uint8_t pid[20];
	struct peer *p;

	memcpy(pid, "-XX0001-abcdefghij00", 20);
	pid[18] = (uint8_t)('a' + k / 26);
	pid[19] = (uint8_t)('a' + k % 26);
	p = fixture_handshake(t, &a, t->mi.info_hash, pid, NOW);
	if (t->phase == TORRENT_DOWNLOADING)
		fixture_put_bitfield(&p->in, NPIECES, true, 0);
	if (interested)
		cr_assert_eq(wire_put_simple(&p->in, WIRE_INTERESTED), 0);
	torrent_peer_input(t, p, NOW);
	cr_assert_not(p->dead, "peer %d killed: %s", k, p->why);
	cr_assert_eq(p->phase, PEER_ACTIVE);
	cr_assert_eq(p->peer_interested, interested);
	/* Choked, unless it asked while an upload slot was free. */
	cr_assert(p->am_choking || interested, "a new peer starts choked");
	return p;
}

/* Peer k uploads to us at a rate growing with k (set just before a
 * round, since the meter only looks back a few seconds), and stays
 * alive. */
static void
feed_rates(struct peer **p, int n, uint64_t now)
{
	for (int k = 0; k < n; k++) {
		rate_add(&p[k]->down, now, (uint64_t)(k + 1) * 100000u);
		p[k]->last_recv_ms = now;
	}
}

static size_t
count_unchoked(const struct torrent *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->ps.npeers; i++)
		n += !t->ps.peers[i]->am_choking;
	return n;
}

/*
 * With peers 0..n-1 at rising rates: the `slots` fastest (the last ones)
 * are unchoked, and besides them at most one peer: right after a round
 * (at_round) that is the optimistic one; between rounds the tick may
 * also fill a slot the optimistic peer left free by being fast anyway.
 */
static void
expect_top(const struct torrent *t, struct peer **p, int n, int slots,
    bool at_round)
{
	int extra = 0;

	for (int k = n - 1; k >= 0 && k >= n - slots; k--)
		cr_assert_not(p[k]->am_choking, "peer %d of the top %d choked",
		    k, slots);
	for (int k = 0; k < n - slots; k++) {
		if (p[k]->am_choking)
			continue;
		extra++;
		if (at_round)
			cr_assert_eq(p[k]->id, t->ch.optimistic,
			    "peer %d unchoked but neither fast nor "
			    "optimistic", k);
	}
	cr_assert_leq(extra, 1);
	cr_assert_neq(t->ch.optimistic, 0, "an optimistic peer is chosen");
	cr_assert_leq(count_unchoked(t), (size_t)slots + 1);
}

/* A downloading torrent with NPEERS interested peers, first round done. */
static struct torrent *
download_round(struct fixture_run *r, struct peer **p, int slots)
{
	struct torrent *t;

	opts_default(r);
	r->to.upload_slots = slots;
	t = start_with(r, TORRENT_DOWNLOADING);
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(t, k, true);
	cr_assert(choker_due(&t->ch, NOW), "a round is due at once");
	feed_rates(p, NPEERS, NOW);
	session_tick(r->s, NOW);
	cr_assert_eq(t->ch.next_round_ms, NOW + CHOKER_PERIOD_MS);
	return t;
}

/* --- tit-for-tat while downloading ------------------------------------ */

Test(choker, top_four_by_download_rate, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct peer *p[NPEERS];
	struct torrent *t = download_round(&r, p, 0);

	expect_top(t, p, NPEERS, CHOKER_UPLOAD_SLOTS, true);
	fixture_stop(&r);
}

Test(choker, upload_slots_one, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct peer *p[NPEERS];
	struct torrent *t = download_round(&r, p, 1);

	expect_top(t, p, NPEERS, 1, true);
	cr_assert_geq(count_unchoked(t), 1);
	fixture_stop(&r);
}

Test(choker, upload_slots_six, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct peer *p[NPEERS];
	struct torrent *t = download_round(&r, p, 6);

	expect_top(t, p, NPEERS, 6, true);
	cr_assert_geq(count_unchoked(t), 6);
	fixture_stop(&r);
}

/* Peers that do not want anything are never unchoked, however fast. */
Test(choker, uninterested_stay_choked, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p[NPEERS], *lazy[2];
	uint64_t now = NOW;

	opts_default(&r);
	t = start_with(&r, TORRENT_DOWNLOADING);
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(t, k, true);
	lazy[0] = add_peer(t, NPEERS, false);
	lazy[1] = add_peer(t, NPEERS + 1, false);
	for (int rd = 0; rd < 2 * ROUNDS; rd++) {
		feed_rates(p, NPEERS, now);
		for (int k = 0; k < 2; k++) {
			rate_add(&lazy[k]->down, now, 10000000u);
			lazy[k]->last_recv_ms = now;
		}
		session_tick(r.s, now);
		cr_assert(lazy[0]->am_choking, "round %d", rd);
		cr_assert(lazy[1]->am_choking, "round %d", rd);
		cr_assert_neq(t->ch.optimistic, lazy[0]->id);
		cr_assert_neq(t->ch.optimistic, lazy[1]->id);
		expect_top(t, p, NPEERS, CHOKER_UPLOAD_SLOTS, true);
		now += CHOKER_PERIOD_MS;
	}
	fixture_stop(&r);
}

/* The regular slots follow the rates, but only at a round. */
Test(choker, rates_change_at_next_round, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct peer *p[NPEERS], *rev[NPEERS];
	uint64_t at = NOW + CHOKER_PERIOD_MS;
	struct torrent *t = download_round(&r, p, 0);

	for (int k = 0; k < NPEERS; k++)
		rev[k] = p[NPEERS - 1 - k];
	/* Now the slow ones are fast. */
	feed_rates(rev, NPEERS, at - 1);
	session_tick(r.s, at - 1);
	expect_top(t, p, NPEERS, CHOKER_UPLOAD_SLOTS, false);
	feed_rates(rev, NPEERS, at);
	session_tick(r.s, at);
	expect_top(t, rev, NPEERS, CHOKER_UPLOAD_SLOTS, true);
	fixture_stop(&r);
}

/* --- the optimistic slot ---------------------------------------------- */

/*
 * The optimistic peer of each CHOKER_OPTIMISTIC_MS period, over ROUNDS
 * periods, with rounds every CHOKER_PERIOD_MS in between.  The
 * optimistic peer stays the same within a period.
 */
static void
optimistic_sequence(uint64_t seed, uint32_t *seq)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p[NPEERS];
	uint64_t now = NOW;

	opts_default(&r);
	r.so.seed = seed;
	t = start_with(&r, TORRENT_DOWNLOADING);
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(t, k, true);
	for (int rd = 0; rd < ROUNDS; rd++) {
		for (uint64_t d = 0; d < CHOKER_OPTIMISTIC_MS;
		    d += CHOKER_PERIOD_MS) {
			feed_rates(p, NPEERS, now + d);
			session_tick(r.s, now + d);
			expect_top(t, p, NPEERS, CHOKER_UPLOAD_SLOTS, true);
			if (d == 0)
				seq[rd] = t->ch.optimistic;
			else
				cr_assert_eq(t->ch.optimistic, seq[rd],
				    "optimistic changed within a period");
			/* After the first draw (see
			 * optimistic_not_a_regular_peer) it is one of the
			 * slow four. */
			if (rd == 0)
				continue;
			cr_assert_geq(t->ch.optimistic, p[0]->id);
			cr_assert_leq(t->ch.optimistic,
			    p[NPEERS - CHOKER_UPLOAD_SLOTS - 1]->id);
		}
		now += CHOKER_OPTIMISTIC_MS;
	}
	fixture_stop(&r);
}

Test(choker, optimistic_rotates, .init = fx_init, .fini = fx_fini)
{
	uint32_t seq[ROUNDS];
	int distinct = 0;

	optimistic_sequence(12345, seq);
	for (int r = 0; r < ROUNDS; r++) {
		bool seen = false;

		for (int q = 0; q < r; q++)
			seen |= seq[q] == seq[r];
		distinct += !seen;
	}
	cr_assert_geq(distinct, 2, "the optimistic slot never moved");
	/* The peer that had the slot is unchoked when the next is drawn, so
	 * the draw passes it over. */
	for (int r = 1; r < ROUNDS; r++)
		cr_assert_neq(seq[r], seq[r - 1], "period %d", r);
}

Test(choker, optimistic_deterministic_by_seed, .init = fx_init,
    .fini = fx_fini)
{
	uint32_t a[ROUNDS], b[ROUNDS], c[ROUNDS];
	bool differs = false;

	optimistic_sequence(777, a);
	optimistic_sequence(777, b);
	cr_assert_arr_eq(a, b, sizeof(a), "same seed, other optimists");
	/* Another seed draws another sequence (8 draws from 3 or 4: that
	 * several seeds all agree is next to impossible). */
	for (uint64_t seed = 778; seed < 782 && !differs; seed++) {
		optimistic_sequence(seed, c);
		differs = memcmp(a, c, sizeof(a)) != 0;
	}
	cr_assert(differs, "the seed does not matter");
}

/*
 * Regression test: the optimistic peer used to be drawn among the peers
 * choked before the round, which at the first round (or when rates
 * shift) includes peers that win a regular slot in the same round.  The
 * optimistic slot was then wasted for a whole CHOKER_OPTIMISTIC_MS
 * period: the round unchoked only `slots` peers.  choker_round chooses
 * the regular slots first and draws the optimistic peer among the
 * interested peers that did not get one.
 */
Test(choker, optimistic_not_a_regular_peer, .init = fx_init,
    .fini = fx_fini)
{
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct fixture_run r;
		struct torrent *t;
		struct peer *p[NPEERS];

		opts_default(&r);
		r.so.seed = seed;
		t = start_with(&r, TORRENT_DOWNLOADING);
		for (int k = 0; k < NPEERS; k++)
			p[k] = add_peer(t, k, true);
		feed_rates(p, NPEERS, NOW);
		session_tick(r.s, NOW);
		cr_assert_eq(count_unchoked(t), CHOKER_UPLOAD_SLOTS + 1,
		    "seed %llu: optimistic slot wasted on a regular peer",
		    (unsigned long long)seed);
		fixture_stop(&r);
	}
}

/* --- seeding turns ---------------------------------------------------- */

Test(choker, seeding_serves_everyone_in_turn, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p[NPEERS];
	uint64_t now = NOW, since[NPEERS];
	bool served[NPEERS] = { false };
	int nserved = 0, rd;

	write_payload();
	opts_default(&r);
	t = start_with(&r, TORRENT_SEEDING);
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(t, k, true);
	for (rd = 0; rd < 12 && nserved < NPEERS; rd++) {
		bool was_choked[NPEERS], left_waiting = false;

		for (int k = 0; k < NPEERS; k++) {
			p[k]->last_recv_ms = now;
			was_choked[k] = p[k]->am_choking;
			since[k] = p[k]->am_choking ? 0 : p[k]->unchoked_ms;
		}
		session_tick(r.s, now);
		cr_assert_eq(t->phase, TORRENT_SEEDING);
		cr_assert_leq(count_unchoked(t), CHOKER_UPLOAD_SLOTS + 1);
		cr_assert_geq(count_unchoked(t), CHOKER_UPLOAD_SLOTS);
		for (int k = 0; k < NPEERS; k++) {
			left_waiting |= was_choked[k] && p[k]->am_choking;
			if (!p[k]->am_choking && !served[k]) {
				served[k] = true;
				nserved++;
			}
			/* A turn is not cut short. */
			if (since[k] != 0 &&
			    now - since[k] < CHOKER_SEED_TURN_MS)
				cr_assert_not(p[k]->am_choking,
				    "round %d: peer %d lost its slot early",
				    rd, k);
		}
		/* A turn that has lasted gives way to anyone left waiting
		 * (the optimistic peer aside). */
		for (int k = 0; left_waiting && k < NPEERS; k++)
			if (since[k] != 0 &&
			    now - since[k] >= CHOKER_SEED_TURN_MS &&
			    p[k]->id != t->ch.optimistic)
				cr_assert(p[k]->am_choking, "round %d: peer %d "
				    "kept its slot past its turn", rd, k);
		now += CHOKER_PERIOD_MS;
	}
	cr_assert_eq(nserved, NPEERS, "only %d of %d peers served in %d "
	    "rounds", nserved, NPEERS, rd);
	fixture_stop(&r);
}

/*
 * Peers that connect to a seed between rounds: the first
 * CHOKER_UPLOAD_SLOTS get regular slots at once, the next one the
 * optimistic slot, and the rounds that follow keep all five until the
 * turns end.  The fifth used to be taken for a regular peer and choked
 * at the first round, ten seconds in, so the requests it made right
 * after connecting waited for a later turn.
 */
Test(choker, slots_filled_at_connect_keep_their_turn, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p[NPEERS];
	uint64_t now = NOW;

	write_payload();
	opts_default(&r);
	t = start_with(&r, TORRENT_SEEDING);
	session_tick(r.s, now);		/* a seed that has run a while */
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(t, k, true);
	for (int k = 0; k < NPEERS; k++)
		cr_assert_eq(p[k]->am_choking, k > CHOKER_UPLOAD_SLOTS,
		    "peer %d", k);
	cr_assert_eq(t->ch.optimistic, p[CHOKER_UPLOAD_SLOTS]->id,
	    "the fifth peer holds the optimistic slot");
	for (int rd = 1; rd < CHOKER_SEED_TURN_MS / CHOKER_PERIOD_MS; rd++) {
		now = NOW + (uint64_t)rd * CHOKER_PERIOD_MS;
		for (int k = 0; k < NPEERS; k++)
			p[k]->last_recv_ms = now;
		session_tick(r.s, now);
		for (int k = 0; k <= CHOKER_UPLOAD_SLOTS; k++)
			cr_assert_not(p[k]->am_choking, "round %d: peer %d "
			    "lost its slot before its turn ended", rd, k);
		cr_assert_eq(t->ch.optimistic, p[CHOKER_UPLOAD_SLOTS]->id);
	}
	/* The turns are over: those who waited get slots. */
	now = NOW + CHOKER_SEED_TURN_MS;
	for (int k = 0; k < NPEERS; k++)
		p[k]->last_recv_ms = now;
	session_tick(r.s, now);
	for (int k = CHOKER_UPLOAD_SLOTS + 1; k < NPEERS; k++)
		cr_assert_not(p[k]->am_choking, "peer %d still waits", k);
	fixture_stop(&r);
}

/* --- trace ------------------------------------------------------------ */

/* A minimal JSON checker: true if text[*i..] starts with one value. */
static bool	json_value(const char *t, size_t *i, int depth);

static void
json_ws(const char *t, size_t *i)
{
	while (t[*i] == ' ' || t[*i] == '\t' || t[*i] == '\r' ||
	    t[*i] == '\n')
		(*i)++;
}

static bool
json_string(const char *t, size_t *i)
{
	if (t[*i] != '"')
		return false;
	for ((*i)++; t[*i] != '"'; (*i)++) {
		if ((unsigned char)t[*i] < 0x20)
			return false;
		if (t[*i] != '\\')
			continue;
		(*i)++;
		if (t[*i] == 'u') {
			for (int k = 1; k <= 4; k++)
				if (!isxdigit((unsigned char)t[*i + k]))
					return false;
			*i += 4;
		} else if (strchr("\"\\/bfnrt", t[*i]) == NULL ||
		    t[*i] == '\0')
			return false;
	}
	(*i)++;
	return true;
}

static bool
json_number(const char *t, size_t *i)
{
	size_t s = *i;

	if (t[*i] == '-')
		(*i)++;
	if (!isdigit((unsigned char)t[*i]))
		return false;
	if (t[*i] == '0')
		(*i)++;
	else
		while (isdigit((unsigned char)t[*i]))
			(*i)++;
	if (t[*i] == '.') {
		(*i)++;
		if (!isdigit((unsigned char)t[*i]))
			return false;
		while (isdigit((unsigned char)t[*i]))
			(*i)++;
	}
	if (t[*i] == 'e' || t[*i] == 'E') {
		(*i)++;
		if (t[*i] == '+' || t[*i] == '-')
			(*i)++;
		if (!isdigit((unsigned char)t[*i]))
			return false;
		while (isdigit((unsigned char)t[*i]))
			(*i)++;
	}
	return *i > s;
}

static bool
json_value(const char *t, size_t *i, int depth)
{
	char close;

	if (depth > 16)
		return false;
	json_ws(t, i);
	switch (t[*i]) {
	case '"':
		return json_string(t, i);
	case '{':
	case '[':
		close = t[*i] == '{' ? '}' : ']';
		(*i)++;
		json_ws(t, i);
		if (t[*i] == close) {
			(*i)++;
			return true;
		}
		for (;;) {
			if (close == '}') {
				json_ws(t, i);
				if (!json_string(t, i))
					return false;
				json_ws(t, i);
				if (t[(*i)++] != ':')
					return false;
			}
			if (!json_value(t, i, depth + 1))
				return false;
			json_ws(t, i);
			if (t[*i] == ',') {
				(*i)++;
				continue;
			}
			if (t[*i] != close)
				return false;
			(*i)++;
			return true;
		}
	default:
		if (strncmp(t + *i, "true", 4) == 0 ||
		    strncmp(t + *i, "null", 4) == 0) {
			*i += 4;
			return true;
		}
		if (strncmp(t + *i, "false", 5) == 0) {
			*i += 5;
			return true;
		}
		return json_number(t, i);
	}
}

static bool
json_line_ok(const char *line)
{
	size_t i = 0;

	if (line[0] != '{' || !json_value(line, &i, 0))
		return false;
	json_ws(line, &i);
	return line[i] == '\0';
}

Test(choker, json_checker_self_test)
{
	cr_assert(json_line_ok("{\"t\":12,\"ev\":\"choke\",\"peer\":3}"));
	cr_assert(json_line_ok("{\"a\":[1,-2.5e3,true,null,"
	    "{\"b\":\"\\u00e9\"}]}"));
	cr_assert_not(json_line_ok("{\"t\":12,}"));
	cr_assert_not(json_line_ok("{\"t\":12"));
	cr_assert_not(json_line_ok("{\"t\":01}"));
	cr_assert_not(json_line_ok("{\"t\":\"a\" x}"));
	cr_assert_not(json_line_ok("{t:1}"));
}

/* Every choke and unchoke is traced as a JSON line naming a peer, and
 * the trace agrees with the peers' final state. */
Test(choker, trace_has_json_choke_lines, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct fileio_trace *ft;
	struct thr_error err;
	struct torrent *t;
	struct peer *p[NPEERS];
	uint32_t ids[NPEERS];
	bool last_unchoked[NPEERS + 1] = { false }, final[NPEERS];
	uint64_t now = NOW;
	size_t nchoke = 0, nunchoke = 0;
	char line[1024];
	FILE *fp;

	opts_default(&r);
	memset(&err, 0, sizeof(err));
	cr_assert_not_null(ft = fileio_trace_open(tracefile, &err), "%s",
	    err.msg);
	r.so.trace = fileio_trace_sink(ft);
	t = start_with(&r, TORRENT_DOWNLOADING);
	for (int k = 0; k < NPEERS; k++) {
		p[k] = add_peer(t, k, true);
		ids[k] = p[k]->id;
		cr_assert_leq(ids[k], NPEERS);
	}
	for (int rd = 0; rd < 10; rd++) {
		feed_rates(p, NPEERS, now);
		session_tick(r.s, now);
		now += CHOKER_PERIOD_MS;
	}
	for (int k = 0; k < NPEERS; k++)
		final[k] = !p[k]->am_choking;
	fixture_stop(&r);
	fileio_trace_close(ft);

	cr_assert_not_null(fp = fopen(tracefile, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		unsigned peer;
		bool unchoke;
		char *q;

		cr_assert_not_null(strchr(line, '\n'), "line too long");
		*strchr(line, '\n') = '\0';
		cr_assert(json_line_ok(line), "not JSON: %s", line);
		cr_assert_eq(strncmp(line, "{\"t\":", 5), 0, "%s", line);
		if (strstr(line, "\"ev\":\"choke\"") != NULL)
			unchoke = false;
		else if (strstr(line, "\"ev\":\"unchoke\"") != NULL)
			unchoke = true;
		else
			continue;
		nchoke += !unchoke;
		nunchoke += unchoke;
		cr_assert_not_null(q = strstr(line, "\"peer\":"), "%s", line);
		cr_assert_eq(sscanf(q, "\"peer\":%u", &peer), 1);
		cr_assert(peer >= 1 && peer <= NPEERS, "%s", line);
		cr_assert_neq(last_unchoked[peer], unchoke,
		    "repeated event: %s", line);
		last_unchoked[peer] = unchoke;
	}
	fclose(fp);
	cr_assert_geq(nunchoke, CHOKER_UPLOAD_SLOTS + 1);
	cr_assert_geq(nchoke, 1, "the optimistic slot moved: a choke");
	for (int k = 0; k < NPEERS; k++)
		cr_assert_eq(last_unchoked[ids[k]], final[k], "peer %d", k);
}
