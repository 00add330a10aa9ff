/*
 * scenario.c: the scenario file parser.  See scenario.h.
 *
 * The text is (pointer, length), never NUL-terminated: each line is cut
 * into words, each word into key and value, and every value is parsed
 * from its bytes with a bound.  A line is applied only when all of it
 * parsed, so an error leaves nothing half done.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/scenario.h"

#define SCENARIO_WORDS	32	/* key=value words on a line */

struct word {
	const char	*k, *v;
	size_t		 klen, vlen;
};

static bool
word_is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* A decimal number (digits, one optional point) from s[0..n): its
 * value and the bytes it used. */
static size_t
scan_number(const char *s, size_t n, double *out)
{
	double v = 0, scale = 1;
	bool dot = false, any = false;
	size_t i;

	for (i = 0; i < n && i < 32; i++) {
		if (s[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			break;
		any = true;
		if (dot) {
			scale /= 10;
			v += (s[i] - '0') * scale;
		} else
			v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return any ? i : 0;
}

int
scenario_size(const char *s, size_t n, uint64_t *out)
{
	double v, m = 1;
	size_t k = scan_number(s, n, &v);

	if (k == 0)
		return THR_EINVAL;
	if (k < n) {
		switch (s[k]) {
		case 'k': case 'K': m = 1024.0; break;
		case 'm': case 'M': m = 1024.0 * 1024; break;
		case 'g': case 'G': m = 1024.0 * 1024 * 1024; break;
		case 't': case 'T': m = 1024.0 * 1024 * 1024 * 1024; break;
		default: return THR_EINVAL;
		}
		k++;
		if (k < n && (s[k] == 'B' || s[k] == 'b'))
			k++;
	}
	if (k != n || v * m > (double)SCENARIO_MAX_SIZE)
		return THR_EINVAL;
	*out = (uint64_t)(v * m);
	return 0;
}

int
scenario_time(const char *s, size_t n, uint64_t *ms)
{
	double total = 0;
	size_t i = 0;

	if (n == 0)
		return THR_EINVAL;
	while (i < n) {
		double v, unit = 1000;	/* a bare number: seconds */
		size_t k = scan_number(s + i, n - i, &v);

		if (k == 0)
			return THR_EINVAL;
		i += k;
		if (i + 2 <= n && s[i] == 'm' &&
		    s[i + 1] == 's') {
			unit = 1;
			i += 2;
		} else if (i < n && (s[i] == 's' || s[i] == 'm' ||
		    s[i] == 'h' || s[i] == 'd')) {
			unit = s[i] == 's' ? 1000 : s[i] == 'm' ? 60000 :
			    s[i] == 'h' ? 3600000 : 86400000;
			i++;
		} else if (i < n)
			return THR_EINVAL;
		total += v * unit;
	}
	if (total > (double)SCENARIO_MAX_MS)
		return THR_EINVAL;
	*ms = (uint64_t)llround(total);
	return 0;
}

/* An integer in [lo, hi]. */
static int
scan_count(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out)
{
	double v;

	if (scan_number(s, n, &v) != n || v != floor(v) || v < (double)lo ||
	    v > (double)hi)
		return THR_EINVAL;
	*out = (uint64_t)v;
	return 0;
}

/* 0.01 or 1% */
static int
scan_loss(const char *s, size_t n, double *out)
{
	double v;
	size_t k = scan_number(s, n, &v);

	if (k == 0)
		return THR_EINVAL;
	if (k + 1 == n && s[k] == '%')
		v /= 100;
	else if (k != n)
		return THR_EINVAL;
	if (v < 0 || v >= 1)
		return THR_EINVAL;
	*out = v;
	return 0;
}

static int
scan_name(const char *s, size_t n, char *out)
{
	if (n == 0 || n >= SCENARIO_NAME_MAX)
		return THR_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_' || s[i] == '.'))
			return THR_EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
scan_bool(const char *s, size_t n, bool *out)
{
	if (word_is(s, n, "yes") || word_is(s, n, "on") || word_is(s, n, "1"))
		*out = true;
	else if (word_is(s, n, "no") || word_is(s, n, "off") ||
	    word_is(s, n, "0"))
		*out = false;
	else
		return THR_EINVAL;
	return 0;
}

/* ARRIVAL (see scenario.h). */
static int
scan_arrive(const char *s, size_t n, struct scenario_class *c)
{
	const char *d;

	if (n > 8 && memcmp(s, "poisson:", 8) == 0) {
		double r;
		size_t k = scan_number(s + 8, n - 8, &r);

		if (k == 0 || !word_is(s + 8 + k, n - 8 - k, "/s") || r <= 0 ||
		    r > 1e6)
			return THR_EINVAL;
		c->arrive = SCENARIO_ARRIVE_POISSON;
		c->arrive_rate = r;
		return 0;
	}
	if (n > 8 && memcmp(s, "uniform:", 8) == 0) {
		if ((d = memchr(s + 8, '-', n - 8)) == NULL ||
		    scenario_time(s + 8, (size_t)(d - s - 8),
		    &c->arrive_t0_ms) != 0 ||
		    scenario_time(d + 1, (size_t)(s + n - d - 1),
		    &c->arrive_t1_ms) != 0 || c->arrive_t1_ms < c->arrive_t0_ms)
			return THR_EINVAL;
		c->arrive = SCENARIO_ARRIVE_UNIFORM;
		return 0;
	}
	if (n > 6 && memcmp(s, "every:", 6) == 0) {
		if (scenario_time(s + 6, n - 6, &c->arrive_t0_ms) != 0 ||
		    c->arrive_t0_ms == 0)
			return THR_EINVAL;
		c->arrive = SCENARIO_ARRIVE_EVERY;
		return 0;
	}
	if (n > 3 && memcmp(s, "at:", 3) == 0) {
		size_t i = 3;

		c->ntimes = 0;
		while (i < n) {
			const char *comma = memchr(s + i, ',', n - i);
			size_t len = comma ? (size_t)(comma - s) - i : n - i;

			if (c->ntimes == SCENARIO_MAX_TIMES || scenario_time(
			    s + i, len, &c->times_ms[c->ntimes]) != 0)
				return THR_EINVAL;
			c->ntimes++;
			i += len + 1;
		}
		if (c->ntimes == 0)
			return THR_EINVAL;
		c->arrive = SCENARIO_ARRIVE_LIST;
		return 0;
	}
	c->arrive = SCENARIO_ARRIVE_AT;
	return scenario_time(s, n, &c->arrive_t0_ms);
}

static int
scan_leave(const char *s, size_t n, struct scenario_class *c)
{
	if (word_is(s, n, "never"))
		c->leave = SCENARIO_LEAVE_NEVER;
	else if (word_is(s, n, "on-complete"))
		c->leave = SCENARIO_LEAVE_ON_COMPLETE;
	else if (n > 6 && memcmp(s, "after:", 6) == 0) {
		c->leave = SCENARIO_LEAVE_AFTER;
		return scenario_time(s + 6, n - 6, &c->leave_ms);
	} else if (n > 3 && memcmp(s, "at:", 3) == 0) {
		c->leave = SCENARIO_LEAVE_AT;
		return scenario_time(s + 3, n - 3, &c->leave_ms);
	} else
		return THR_EINVAL;
	return 0;
}

static int
scan_strategy(const char *s, size_t n, enum picker_strategy *out)
{
	char name[16];

	if (n == 0 || n >= sizeof(name))
		return THR_EINVAL;
	memcpy(name, s, n);
	name[n] = '\0';
	return picker_strategy_parse(name, out) == 0 ? 0 : THR_EINVAL;
}

/* One key=value of a peer class.  1: not a class key. */
static int
class_key(struct scenario_class *c, const struct word *w)
{
	uint64_t v;
	int rc;

	if (word_is(w->k, w->klen, "count")) {
		rc = scan_count(w->v, w->vlen, 0, SCENARIO_MAX_PEERS, &v);
		c->count = (uint32_t)v;
	} else if (word_is(w->k, w->klen, "up"))
		rc = scenario_size(w->v, w->vlen, &c->up);
	else if (word_is(w->k, w->klen, "down"))
		rc = scenario_size(w->v, w->vlen, &c->down);
	else if (word_is(w->k, w->klen, "name"))
		rc = scan_name(w->v, w->vlen, c->name);
	else if (word_is(w->k, w->klen, "arrive"))
		rc = scan_arrive(w->v, w->vlen, c);
	else if (word_is(w->k, w->klen, "leave"))
		rc = scan_leave(w->v, w->vlen, c);
	else if (word_is(w->k, w->klen, "strategy"))
		rc = scan_strategy(w->v, w->vlen, &c->strategy);
	else if (word_is(w->k, w->klen, "slots")) {
		rc = scan_count(w->v, w->vlen, 1, 64, &v);
		c->slots = (uint32_t)v;
	} else if (word_is(w->k, w->klen, "super-seed"))
		rc = scan_bool(w->v, w->vlen, &c->super_seed);
	else if (word_is(w->k, w->klen, "latency"))
		rc = scenario_time(w->v, w->vlen, &c->latency_ms);
	else if (word_is(w->k, w->klen, "loss"))
		rc = scan_loss(w->v, w->vlen, &c->loss);
	else if (word_is(w->k, w->klen, "max-peers")) {
		rc = scan_count(w->v, w->vlen, 1, 1000, &v);
		c->max_peers = (uint32_t)v;
	} else
		return 1;
	return rc;
}

/* Cut a line into words; false when there are too many or one lacks
 * "=" (the keyword, words[0], has none). */
static bool
split_words(const char *s, size_t n, struct word *w, size_t *nw)
{
	size_t i = 0;

	*nw = 0;
	while (i < n) {
		size_t j;
		const char *eq;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == n)
			break;
		for (j = i; j < n && s[j] != ' ' && s[j] != '\t' &&
		    s[j] != '\r'; j++)
			;
		if (*nw == SCENARIO_WORDS)
			return false;
		w[*nw].k = s + i;
		w[*nw].klen = j - i;
		w[*nw].v = NULL;
		w[*nw].vlen = 0;
		if (*nw > 0) {
			if ((eq = memchr(s + i, '=', j - i)) == NULL ||
			    eq == s + i)
				return false;
			w[*nw].klen = (size_t)(eq - s) - i;
			w[*nw].v = eq + 1;
			w[*nw].vlen = j - (size_t)(eq - s) - 1;
		}
		(*nw)++;
		i = j;
	}
	return true;
}

static int
line_torrent(struct scenario *sc, const struct word *w, size_t nw,
    const char **bad)
{
	uint64_t v;

	for (size_t i = 1; i < nw; i++) {
		int rc;

		*bad = w[i].k;
		if (word_is(w[i].k, w[i].klen, "size"))
			rc = scenario_size(w[i].v, w[i].vlen, &sc->size);
		else if (word_is(w[i].k, w[i].klen, "piece")) {
			rc = scenario_size(w[i].v, w[i].vlen, &v);
			/* BEP 3: a power of two from 16 KiB is what clients
			 * expect; metainfo refuses anything over 16 MiB. */
			if (rc == 0 && (v < 16384 || v > (16u << 20) ||
			    (v & (v - 1)) != 0))
				rc = THR_EINVAL;
			sc->piece = (uint32_t)v;
		} else if (word_is(w[i].k, w[i].klen, "name"))
			rc = scan_name(w[i].v, w[i].vlen, sc->name);
		else
			return 1;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
line_network(struct scenario *sc, const struct word *w, size_t nw,
    const char **bad)
{
	for (size_t i = 1; i < nw; i++) {
		int rc;

		*bad = w[i].k;
		if (word_is(w[i].k, w[i].klen, "latency"))
			rc = scenario_time(w[i].v, w[i].vlen, &sc->latency_ms);
		else if (word_is(w[i].k, w[i].klen, "loss"))
			rc = scan_loss(w[i].v, w[i].vlen, &sc->loss);
		else if (word_is(w[i].k, w[i].klen, "connect"))
			rc = scenario_time(w[i].v, w[i].vlen, &sc->connect_ms);
		else
			return 1;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
line_run(struct scenario *sc, const struct word *w, size_t nw,
    const char **bad)
{
	uint64_t v;

	for (size_t i = 1; i < nw; i++) {
		int rc;

		*bad = w[i].k;
		if (word_is(w[i].k, w[i].klen, "seed")) {
			rc = scan_count(w[i].v, w[i].vlen, 0, UINT32_MAX,
			    &sc->seed);
			sc->seeded = true;
		} else if (word_is(w[i].k, w[i].klen, "until")) {
			if (word_is(w[i].v, w[i].vlen, "all-complete")) {
				sc->until = SCENARIO_UNTIL_ALL_COMPLETE;
				rc = 0;
			} else {
				sc->until = SCENARIO_UNTIL_TIME;
				rc = scenario_time(w[i].v, w[i].vlen,
				    &sc->until_ms);
			}
		} else if (word_is(w[i].k, w[i].klen, "limit"))
			rc = scenario_time(w[i].v, w[i].vlen, &sc->limit_ms);
		else if (word_is(w[i].k, w[i].klen, "sample")) {
			rc = scenario_time(w[i].v, w[i].vlen, &sc->sample_ms);
			if (rc == 0 && sc->sample_ms < 100)
				rc = THR_EINVAL;
		} else if (word_is(w[i].k, w[i].klen, "peers")) {
			rc = scan_count(w[i].v, w[i].vlen, 1, 200, &v);
			sc->numwant = (uint32_t)v;
		} else
			return 1;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
line_class(struct scenario *sc, const struct word *w, size_t nw, bool seed,
    uint32_t lineno, const char **bad)
{
	struct scenario_class c;

	if (sc->nclasses == SCENARIO_MAX_CLASSES)
		return THR_ELIMIT;
	memset(&c, 0, sizeof(c));
	c.seed = seed;
	c.line = lineno;
	c.count = 1;
	c.leave = seed ? SCENARIO_LEAVE_NEVER : SCENARIO_LEAVE_ON_COMPLETE;
	c.latency_ms = sc->latency_ms;
	c.loss = sc->loss;
	snprintf(c.name, sizeof(c.name), "%s%zu", seed ? "seed" : "class",
	    sc->nclasses + 1);
	for (size_t i = 1; i < nw; i++) {
		int rc;

		*bad = w[i].k;
		if ((rc = class_key(&c, &w[i])) != 0)
			return rc;
	}
	if ((uint64_t)sc->npeers + c.count > SCENARIO_MAX_PEERS)
		return THR_ELIMIT;
	sc->npeers += c.count;
	sc->classes[sc->nclasses++] = c;
	return 0;
}

/* One line (without its newline or comment).  0, or an error code with
 * *why set. */
static int
scenario_line(struct scenario *sc, const char *s, size_t n, uint32_t lineno,
    const char **why, const char **bad, size_t *badlen)
{
	struct word w[SCENARIO_WORDS];
	size_t nw;
	int rc;

	*bad = NULL;
	if (!split_words(s, n, w, &nw)) {
		*why = "words must be key=value (at most 32 a line)";
		return THR_EINVAL;
	}
	if (nw == 0)
		return 0;
	if (word_is(w[0].k, w[0].klen, "torrent"))
		rc = line_torrent(sc, w, nw, bad);
	else if (word_is(w[0].k, w[0].klen, "network"))
		rc = line_network(sc, w, nw, bad);
	else if (word_is(w[0].k, w[0].klen, "run"))
		rc = line_run(sc, w, nw, bad);
	else if (word_is(w[0].k, w[0].klen, "seed") ||
	    word_is(w[0].k, w[0].klen, "seeds"))
		rc = line_class(sc, w, nw, true, lineno, bad);
	else if (word_is(w[0].k, w[0].klen, "leechers") ||
	    word_is(w[0].k, w[0].klen, "peers"))
		rc = line_class(sc, w, nw, false, lineno, bad);
	else {
		*why = "unknown keyword (torrent, network, seed, seeds, "
		    "leechers, peers or run)";
		return THR_EINVAL;
	}
	*why = rc == 1 ? "unknown key" : rc == THR_ELIMIT ?
	    "too many classes or peers" : "bad value";
	for (size_t i = 0; *bad != NULL && i < nw; i++)
		if (w[i].k == *bad)
			*badlen = w[i].klen;
	return rc == 1 ? THR_EINVAL : rc;
}

static void
scenario_defaults(struct scenario *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->size = 16u << 20;
	sc->piece = 256u << 10;
	snprintf(sc->name, sizeof(sc->name), "payload");
	sc->connect_ms = 0;	/* from latency: one round trip */
	sc->until = SCENARIO_UNTIL_ALL_COMPLETE;
	sc->limit_ms = 24ull * 3600 * 1000;
	sc->sample_ms = 1000;
	sc->numwant = 50;
	sc->seed = 1;
}

int
scenario_parse(struct scenario *sc, const char *text, size_t len,
    struct thr_error *err)
{
	uint32_t lineno = 0;
	size_t off = 0;

	scenario_defaults(sc);
	if (len > SCENARIO_MAX_BYTES)
		return thr_error_set(err, THR_ELIMIT, 0, "larger than %u bytes",
		    SCENARIO_MAX_BYTES);
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - off;
		const char *hash = memchr(text + off, '#', n), *why, *bad;
		size_t badlen = 0;
		int rc;

		lineno++;
		if (n > SCENARIO_LINE_MAX)
			return thr_error_set(err, THR_ELIMIT, off,
			    "line %u: longer than %d bytes", lineno,
			    SCENARIO_LINE_MAX);
		if (hash != NULL)
			n = (size_t)(hash - text) - off;
		for (size_t i = off; i < off + n; i++)
			if (text[i] == '\0' || (unsigned char)text[i] >= 0x80)
				return thr_error_set(err, THR_EINVAL, i,
				    "line %u: not plain text", lineno);
		rc = scenario_line(sc, text + off, n, lineno, &why, &bad,
		    &badlen);
		if (rc != 0 && bad != NULL)
			return thr_error_set(err, rc, off, "line %u: %s '%.*s'",
			    lineno, why, (int)(badlen < 40 ? badlen : 40),
			    bad);
		if (rc != 0)
			return thr_error_set(err, rc, off, "line %u: %s", lineno,
			    why);
		off = end + 1;
	}
	if (sc->size == 0)
		return thr_error_set(err, THR_EINVAL, 0, "the torrent is empty");
	if (sc->nclasses == 0 || sc->npeers == 0)
		return thr_error_set(err, THR_EINVAL, 0, "no peers");
	if (sc->size / sc->piece > 1000000)
		return thr_error_set(err, THR_ELIMIT, 0, "more than a million "
		    "pieces");
	return 0;
}

const struct scenario_class *
scenario_class_of(const struct scenario *sc, uint32_t i)
{
	for (size_t k = 0; k < sc->nclasses; k++) {
		if (i < sc->classes[k].count)
			return &sc->classes[k];
		i -= sc->classes[k].count;
	}
	return NULL;
}
