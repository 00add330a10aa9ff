/*
 * swarm_opts.c: the command line of "thorrent swarm".  See swarm.h.
 *
 * Every value is checked here, before anything is written, with the
 * bounds the children will apply (thorrent create's piece sizes, the
 * rate syntax of --max-up), so that a bad option costs no payload.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/swarm.h"
#include "core/bucket.h"
#include "core/i18n.h"

enum {
	SWARM_OPT_SEEDERS = 256, SWARM_OPT_LEECHERS, SWARM_OPT_SIZE,
	SWARM_OPT_PIECE, SWARM_OPT_STRATEGY, SWARM_OPT_SEED, SWARM_OPT_MAXUP,
	SWARM_OPT_LMAXUP, SWARM_OPT_TIME, SWARM_OPT_OUT, SWARM_OPT_TRACKER
};

static const struct option swarm_longopts[] = {
	{ "seeders", required_argument, NULL, SWARM_OPT_SEEDERS },
	{ "leechers", required_argument, NULL, SWARM_OPT_LEECHERS },
	{ "size", required_argument, NULL, SWARM_OPT_SIZE },
	{ "piece-size", required_argument, NULL, SWARM_OPT_PIECE },
	{ "strategy", required_argument, NULL, SWARM_OPT_STRATEGY },
	{ "seed", required_argument, NULL, SWARM_OPT_SEED },
	{ "max-up", required_argument, NULL, SWARM_OPT_MAXUP },
	{ "leecher-max-up", required_argument, NULL, SWARM_OPT_LMAXUP },
	{ "time-limit", required_argument, NULL, SWARM_OPT_TIME },
	{ "out", required_argument, NULL, SWARM_OPT_OUT },
	{ "tracker", no_argument, NULL, SWARM_OPT_TRACKER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
swarm_usage(FILE *fp)
{
	fprintf(fp, "%s\n", _("usage: thorrent swarm [--seeders S] "
	    "[--leechers L] [--size SIZE] [--piece-size N]\n"
	    "         [--strategy rarest|random|sequential] [--seed N] "
	    "[--max-up RATE]\n"
	    "         [--leecher-max-up RATE] [--time-limit SECS] "
	    "[--out DIR] [--tracker]"));
}

/* SIZE with an optional K, M or G (powers of 1024). */
static int
swarm_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end != '\0' || v > (SWARM_MAX_SIZE >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int
swarm_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* --seeders and --leechers. */
static int
swarm_opt_count(int c, const char *arg, struct swarm_opts *o)
{
	bool seeders = c == SWARM_OPT_SEEDERS;
	int max = seeders ? SWARM_MAX_SEEDERS : SWARM_MAX_PROCS - 1;
	long v;

	if (swarm_parse_long(arg, 1, max, &v) != 0) {
		fprintf(stderr, _("thorrent: swarm: %s wants a number from 1 "
		    "to %d\n"), seeders ? "--seeders" : "--leechers", max);
		return CMD_EXIT_USAGE;
	}
	if (seeders)
		o->nseed = (int)v;
	else
		o->nleech = (int)v;
	return -1;
}

/* --size and --piece-size. */
static int
swarm_opt_size(int c, const char *arg, struct swarm_opts *o)
{
	uint64_t psize;

	if (c == SWARM_OPT_SIZE) {
		if (swarm_parse_size(arg, &o->size) != 0 || o->size == 0) {
			fprintf(stderr, _("thorrent: swarm: --size wants a "
			    "size such as 512K or 32M, at most 4G, not "
			    "'%s'\n"), arg);
			return CMD_EXIT_USAGE;
		}
		return -1;
	}
	/* Checked before the payload is written; create has the same
	 * bounds. */
	if (swarm_parse_size(arg, &psize) != 0 || psize < SWARM_MIN_PIECE ||
	    psize > SWARM_MAX_PIECE || (psize & (psize - 1)) != 0) {
		fprintf(stderr, "%s\n", _("thorrent: swarm: --piece-size must "
		    "be a power of two from 16K to 64M"));
		return CMD_EXIT_USAGE;
	}
	o->piece_size = arg;
	return -1;
}

/* --max-up and --leecher-max-up. */
static int
swarm_opt_rate(int c, const char *arg, struct swarm_opts *o)
{
	uint64_t rate;

	if (bucket_parse_rate(arg, &rate) != 0) {
		fprintf(stderr, _("thorrent: swarm: %s wants a rate such as "
		    "500K or 2M, not '%s'\n"), c == SWARM_OPT_MAXUP ?
		    "--max-up" : "--leecher-max-up", arg);
		return CMD_EXIT_USAGE;
	}
	if (c == SWARM_OPT_MAXUP)
		o->max_up = arg;
	else
		o->leech_max_up = arg;
	return -1;
}

/* --strategy, --seed and --time-limit. */
static int
swarm_opt_run(int c, const char *arg, struct swarm_opts *o)
{
	char *end;

	if (c == SWARM_OPT_STRATEGY) {
		if (strcmp(arg, "rarest") != 0 && strcmp(arg, "random") != 0 &&
		    strcmp(arg, "sequential") != 0) {
			fprintf(stderr, _("thorrent: swarm: --strategy is "
			    "rarest, random or sequential, not '%s'\n"), arg);
			return CMD_EXIT_USAGE;
		}
		o->strategy = arg;
	} else if (c == SWARM_OPT_SEED) {
		errno = 0;
		o->seed = strtoull(arg, &end, 0);
		if (errno != 0 || end == arg || *end != '\0' || *arg == '-') {
			fprintf(stderr, "%s\n", _("thorrent: swarm: --seed "
			    "wants a number"));
			return CMD_EXIT_USAGE;
		}
	} else if (swarm_parse_long(arg, 1, SWARM_MAX_TIME,
	    &o->time_limit) != 0) {
		fprintf(stderr, _("thorrent: swarm: --time-limit wants seconds "
		    "from 1 to %ld\n"), SWARM_MAX_TIME);
		return CMD_EXIT_USAGE;
	}
	return -1;
}

/* One option; -1 to go on, otherwise the exit status. */
static int
swarm_opt(int c, char **argv, struct swarm_opts *o)
{
	switch (c) {
	case SWARM_OPT_SEEDERS:
	case SWARM_OPT_LEECHERS:
		return swarm_opt_count(c, optarg, o);
	case SWARM_OPT_SIZE:
	case SWARM_OPT_PIECE:
		return swarm_opt_size(c, optarg, o);
	case SWARM_OPT_MAXUP:
	case SWARM_OPT_LMAXUP:
		return swarm_opt_rate(c, optarg, o);
	case SWARM_OPT_STRATEGY:
	case SWARM_OPT_SEED:
	case SWARM_OPT_TIME:
		return swarm_opt_run(c, optarg, o);
	case SWARM_OPT_OUT:
		o->out = optarg;
		return -1;
	case SWARM_OPT_TRACKER:
		o->tracker = true;
		return -1;
	case 'h':
		swarm_usage(stdout);
		return CMD_EXIT_OK;
	case ':':
		fprintf(stderr, _("thorrent: swarm: option '%s' needs a "
		    "value\n"), argv[optind - 1]);
		swarm_usage(stderr);
		return CMD_EXIT_USAGE;
	default:
		fprintf(stderr, _("thorrent: swarm: invalid option '%s'\n"),
		    argv[optind - 1]);
		swarm_usage(stderr);
		return CMD_EXIT_USAGE;
	}
}

int
swarm_parse_args(int argc, char **argv, struct swarm_opts *o)
{
	int c, rc;

	o->nseed = 1;
	o->nleech = 8;
	o->size = 32u << 20;
	o->piece_size = "64K";
	o->strategy = "rarest";
	o->seed = 1;
	o->max_up = "2M";
	o->time_limit = 300;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", swarm_longopts,
	    NULL)) != -1)
		if ((rc = swarm_opt(c, argv, o)) >= 0)
			return rc;
	if (optind != argc) {
		swarm_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (o->nseed + o->nleech > SWARM_MAX_PROCS) {
		fprintf(stderr, _("thorrent: swarm: at most %d peers in all\n"),
		    SWARM_MAX_PROCS);
		return CMD_EXIT_USAGE;
	}
	return -1;
}
