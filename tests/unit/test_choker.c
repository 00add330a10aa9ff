/*
 * test_choker.c: choking (state.c run_choker via state_tick) without
 * sockets.
 *
 * A three-file torrent (40000, 0 and 70001 bytes, piece length 16384) is
 * built in a fresh temporary directory by fixture.h, as in test_state.c.
 * With no payload on disk the state downloads; with the payload it
 * seeds.  Peers are added as incoming connections and driven by
 * appending wire messages to p->in; their download rates are set with
 * rate_add, so the choker's choice is known in advance.
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
#include "core/state.h"
#include "core/wire.h"

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
opts_default(struct state_opts *o)
{
	fixture_opts(&fx, o);
	o->max_peers = 20;
	o->seed_ratio = -1;	/* never DONE: the choker keeps running */
}

static void
start_with(struct thr_state *s, const struct state_opts *o,
    enum state_phase want)
{
	fixture_state_init(s, o, NOW);
	fixture_check(s, NOW);
	cr_assert_eq(s->phase, want);
}

/*
 * Peer number k (distinct address and peer id) completes its handshake;
 * a downloading state sees it holding every piece.  It says INTERESTED
 * when asked.
 */
static struct peer *
add_peer(struct thr_state *s, int k, bool interested)
{
	struct thr_addr a = fixture_addr4(127, (uint8_t)(10 + k), 6881);
	uint8_t pid[20];
	struct peer *p;

	memcpy(pid, "-XX0001-abcdefghij00", 20);
	pid[18] = (uint8_t)('a' + k / 26);
	pid[19] = (uint8_t)('a' + k % 26);
	p = fixture_handshake(s, &a, s->mi.info_hash, pid, NOW);
	if (s->phase == STATE_DOWNLOADING)
		fixture_put_bitfield(&p->in, NPIECES, true, 0);
	if (interested)
		cr_assert_eq(wire_put_simple(&p->in, WIRE_INTERESTED), 0);
	state_peer_input(s, p, NOW);
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
feed_rates(struct thr_state *s, struct peer **p, int n, uint64_t now)
{
	for (int k = 0; k < n; k++) {
		rate_add(&p[k]->down, now, (uint64_t)(k + 1) * 100000u);
		p[k]->last_recv_ms = now;
	}
	(void)s;
}

static size_t
count_unchoked(const struct thr_state *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->npeers; i++)
		n += !s->peers[i]->am_choking;
	return n;
}

/*
 * With peers 0..n-1 at rising rates: the `slots` fastest (the last ones)
 * are unchoked, and besides them at most one peer: right after a round
 * (at_round) that is the optimistic one; between rounds state_tick may
 * also fill a slot the optimistic peer left free by being fast anyway.
 */
static void
expect_top(const struct thr_state *s, struct peer **p, int n, int slots,
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
			cr_assert_eq(p[k]->id, s->optimistic_id,
			    "peer %d unchoked but neither fast nor "
			    "optimistic", k);
	}
	cr_assert_leq(extra, 1);
	cr_assert_neq(s->optimistic_id, 0, "an optimistic peer is chosen");
	cr_assert_leq(count_unchoked(s), (size_t)slots + 1);
}

/* A downloading state with NPEERS interested peers, first round done. */
static void
download_round(struct thr_state *s, struct peer **p, int slots)
{
	struct state_opts o;

	opts_default(&o);
	o.upload_slots = slots;
	start_with(s, &o, STATE_DOWNLOADING);
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(s, k, true);
	cr_assert_geq(NOW, s->next_choke_ms, "a round is due at once");
	feed_rates(s, p, NPEERS, NOW);
	state_tick(s, NOW);
	cr_assert_eq(s->next_choke_ms, NOW + STATE_CHOKE_PERIOD_MS);
}

/* --- tit-for-tat while downloading ------------------------------------ */

Test(choker, top_four_by_download_rate, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p[NPEERS];

	download_round(&s, p, 0);
	expect_top(&s, p, NPEERS, STATE_UPLOAD_SLOTS, true);
	state_release(&s);
}

Test(choker, upload_slots_one, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p[NPEERS];

	download_round(&s, p, 1);
	expect_top(&s, p, NPEERS, 1, true);
	cr_assert_geq(count_unchoked(&s), 1);
	state_release(&s);
}

Test(choker, upload_slots_six, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p[NPEERS];

	download_round(&s, p, 6);
	expect_top(&s, p, NPEERS, 6, true);
	cr_assert_geq(count_unchoked(&s), 6);
	state_release(&s);
}

/* Peers that do not want anything are never unchoked, however fast. */
Test(choker, uninterested_stay_choked, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct peer *p[NPEERS], *lazy[2];
	uint64_t now = NOW;

	opts_default(&o);
	start_with(&s, &o, STATE_DOWNLOADING);
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(&s, k, true);
	lazy[0] = add_peer(&s, NPEERS, false);
	lazy[1] = add_peer(&s, NPEERS + 1, false);
	for (int r = 0; r < 2 * ROUNDS; r++) {
		feed_rates(&s, p, NPEERS, now);
		for (int k = 0; k < 2; k++) {
			rate_add(&lazy[k]->down, now, 10000000u);
			lazy[k]->last_recv_ms = now;
		}
		state_tick(&s, now);
		cr_assert(lazy[0]->am_choking, "round %d", r);
		cr_assert(lazy[1]->am_choking, "round %d", r);
		cr_assert_neq(s.optimistic_id, lazy[0]->id);
		cr_assert_neq(s.optimistic_id, lazy[1]->id);
		expect_top(&s, p, NPEERS, STATE_UPLOAD_SLOTS, true);
		now += STATE_CHOKE_PERIOD_MS;
	}
	state_release(&s);
}

/* The regular slots follow the rates, but only at a round. */
Test(choker, rates_change_at_next_round, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p[NPEERS], *rev[NPEERS];
	uint64_t t = NOW + STATE_CHOKE_PERIOD_MS;

	download_round(&s, p, 0);
	for (int k = 0; k < NPEERS; k++)
		rev[k] = p[NPEERS - 1 - k];
	/* Now the slow ones are fast. */
	feed_rates(&s, rev, NPEERS, t - 1);
	state_tick(&s, t - 1);
	expect_top(&s, p, NPEERS, STATE_UPLOAD_SLOTS, false);
	feed_rates(&s, rev, NPEERS, t);
	state_tick(&s, t);
	expect_top(&s, rev, NPEERS, STATE_UPLOAD_SLOTS, true);
	state_release(&s);
}

/* --- the optimistic slot ---------------------------------------------- */

/*
 * The optimistic peer of each STATE_OPTIMISTIC_MS period, over ROUNDS
 * periods, with rounds every STATE_CHOKE_PERIOD_MS in between.  The
 * optimistic peer stays the same within a period.
 */
static void
optimistic_sequence(uint64_t seed, uint32_t *seq)
{
	struct thr_state s;
	struct state_opts o;
	struct peer *p[NPEERS];
	uint64_t now = NOW;

	opts_default(&o);
	o.seed = seed;
	start_with(&s, &o, STATE_DOWNLOADING);
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(&s, k, true);
	for (int r = 0; r < ROUNDS; r++) {
		for (uint64_t d = 0; d < STATE_OPTIMISTIC_MS;
		    d += STATE_CHOKE_PERIOD_MS) {
			feed_rates(&s, p, NPEERS, now + d);
			state_tick(&s, now + d);
			expect_top(&s, p, NPEERS, STATE_UPLOAD_SLOTS, true);
			if (d == 0)
				seq[r] = s.optimistic_id;
			else
				cr_assert_eq(s.optimistic_id, seq[r],
				    "optimistic changed within a period");
			/* After the first draw (see
			 * optimistic_not_a_regular_peer) it is one of the
			 * slow four. */
			if (r == 0)
				continue;
			cr_assert_geq(s.optimistic_id, p[0]->id);
			cr_assert_leq(s.optimistic_id,
			    p[NPEERS - STATE_UPLOAD_SLOTS - 1]->id);
		}
		now += STATE_OPTIMISTIC_MS;
	}
	state_release(&s);
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
 * BUG (disabled): the optimistic peer is drawn among the peers choked
 * before the round, which at the first round (or when rates shift)
 * includes peers that win a regular slot in the same round.  The
 * optimistic slot is then wasted for a whole STATE_OPTIMISTIC_MS period:
 * the round unchokes only `slots` peers.  Regression test for the fix:
 * run_choker now chooses the regular slots first and draws the
 * optimistic peer among the interested peers that did not get one.
 */
Test(choker, optimistic_not_a_regular_peer, .init = fx_init,
    .fini = fx_fini)
{
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct thr_state s;
		struct state_opts o;
		struct peer *p[NPEERS];

		opts_default(&o);
		o.seed = seed;
		start_with(&s, &o, STATE_DOWNLOADING);
		for (int k = 0; k < NPEERS; k++)
			p[k] = add_peer(&s, k, true);
		feed_rates(&s, p, NPEERS, NOW);
		state_tick(&s, NOW);
		cr_assert_eq(count_unchoked(&s), STATE_UPLOAD_SLOTS + 1,
		    "seed %llu: optimistic slot wasted on a regular peer",
		    (unsigned long long)seed);
		state_release(&s);
	}
}

/* --- seeding turns ---------------------------------------------------- */

Test(choker, seeding_serves_everyone_in_turn, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct peer *p[NPEERS];
	uint64_t now = NOW, since[NPEERS];
	bool served[NPEERS] = { false };
	int nserved = 0, r;

	write_payload();
	opts_default(&o);
	start_with(&s, &o, STATE_SEEDING);
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(&s, k, true);
	for (r = 0; r < 12 && nserved < NPEERS; r++) {
		bool was_choked[NPEERS], left_waiting = false;

		for (int k = 0; k < NPEERS; k++) {
			p[k]->last_recv_ms = now;
			was_choked[k] = p[k]->am_choking;
			since[k] = p[k]->am_choking ? 0 : p[k]->unchoked_ms;
		}
		state_tick(&s, now);
		cr_assert_eq(s.phase, STATE_SEEDING);
		cr_assert_leq(count_unchoked(&s), STATE_UPLOAD_SLOTS + 1);
		cr_assert_geq(count_unchoked(&s), STATE_UPLOAD_SLOTS);
		for (int k = 0; k < NPEERS; k++) {
			left_waiting |= was_choked[k] && p[k]->am_choking;
			if (!p[k]->am_choking && !served[k]) {
				served[k] = true;
				nserved++;
			}
			/* A turn is not cut short. */
			if (since[k] != 0 &&
			    now - since[k] < STATE_SEED_TURN_MS)
				cr_assert_not(p[k]->am_choking,
				    "round %d: peer %d lost its slot early",
				    r, k);
		}
		/* A turn that has lasted gives way to anyone left waiting
		 * (the optimistic peer aside). */
		for (int k = 0; left_waiting && k < NPEERS; k++)
			if (since[k] != 0 &&
			    now - since[k] >= STATE_SEED_TURN_MS &&
			    p[k]->id != s.optimistic_id)
				cr_assert(p[k]->am_choking, "round %d: peer %d "
				    "kept its slot past its turn", r, k);
		now += STATE_CHOKE_PERIOD_MS;
	}
	cr_assert_eq(nserved, NPEERS, "only %d of %d peers served in %d "
	    "rounds", nserved, NPEERS, r);
	state_release(&s);
}

/*
 * Peers that connect to a seed between rounds: the first STATE_UPLOAD_SLOTS
 * get regular slots at once, the next one the optimistic slot, and the
 * rounds that follow keep all five until the turns end.  The fifth used
 * to be taken for a regular peer and choked at the first round, ten
 * seconds in, so the requests it made right after connecting waited for
 * a later turn.
 */
Test(choker, slots_filled_at_connect_keep_their_turn, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct peer *p[NPEERS];
	uint64_t now = NOW;

	write_payload();
	opts_default(&o);
	start_with(&s, &o, STATE_SEEDING);
	state_tick(&s, now);		/* a seed that has run a while */
	for (int k = 0; k < NPEERS; k++)
		p[k] = add_peer(&s, k, true);
	for (int k = 0; k < NPEERS; k++)
		cr_assert_eq(p[k]->am_choking, k > STATE_UPLOAD_SLOTS,
		    "peer %d", k);
	cr_assert_eq(s.optimistic_id, p[STATE_UPLOAD_SLOTS]->id,
	    "the fifth peer holds the optimistic slot");
	for (int r = 1; r < STATE_SEED_TURN_MS / STATE_CHOKE_PERIOD_MS; r++) {
		now = NOW + (uint64_t)r * STATE_CHOKE_PERIOD_MS;
		for (int k = 0; k < NPEERS; k++)
			p[k]->last_recv_ms = now;
		state_tick(&s, now);
		for (int k = 0; k <= STATE_UPLOAD_SLOTS; k++)
			cr_assert_not(p[k]->am_choking, "round %d: peer %d "
			    "lost its slot before its turn ended", r, k);
		cr_assert_eq(s.optimistic_id, p[STATE_UPLOAD_SLOTS]->id);
	}
	/* The turns are over: those who waited get slots. */
	now = NOW + STATE_SEED_TURN_MS;
	for (int k = 0; k < NPEERS; k++)
		p[k]->last_recv_ms = now;
	state_tick(&s, now);
	for (int k = STATE_UPLOAD_SLOTS + 1; k < NPEERS; k++)
		cr_assert_not(p[k]->am_choking, "peer %d still waits", k);
	state_release(&s);
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
	cr_assert(json_line_ok("{\"a\":[1,-2.5e3,true,null,{\"b\":\"\\u00e9\"}]}"));
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
	struct thr_state s;
	struct state_opts o;
	struct peer *p[NPEERS];
	uint32_t ids[NPEERS];
	bool last_unchoked[NPEERS + 1] = { false }, final[NPEERS];
	uint64_t now = NOW;
	size_t nchoke = 0, nunchoke = 0;
	char line[1024];
	FILE *fp;

	opts_default(&o);
	o.trace_path = tracefile;
	start_with(&s, &o, STATE_DOWNLOADING);
	for (int k = 0; k < NPEERS; k++) {
		p[k] = add_peer(&s, k, true);
		ids[k] = p[k]->id;
		cr_assert_leq(ids[k], NPEERS);
	}
	for (int r = 0; r < 10; r++) {
		feed_rates(&s, p, NPEERS, now);
		state_tick(&s, now);
		now += STATE_CHOKE_PERIOD_MS;
	}
	for (int k = 0; k < NPEERS; k++)
		final[k] = !p[k]->am_choking;
	state_release(&s);

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
	cr_assert_geq(nunchoke, STATE_UPLOAD_SLOTS + 1);
	cr_assert_geq(nchoke, 1, "the optimistic slot moved: a choke");
	for (int k = 0; k < NPEERS; k++)
		cr_assert_eq(last_unchoked[ids[k]], final[k], "peer %d", k);
}
