/*
 * opts.c: the option table and its parser.  See opts.h.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/help.h"
#include "cmd/opts.h"
#include "core/bucket.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "net/fileio.h"
#include "ui/keys.h"

#define OPTS_MAX	64		/* entries in the table */
#define OPTS_HELP_COL	22		/* where help text starts */

/* --- setters ------------------------------------------------------------ */

/* A bad value: what the option wants, into why; -1. */
#define opts_bad(why, whylen, fmt, arg)	\
	(snprintf((why), (whylen), (fmt), (arg)), -1)

static int
set_file(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->torrent = arg;
	return 0;
}

static int
set_path(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->dir = arg;
	return 0;
}

static int
set_files(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->files = arg;
	return 0;
}

static int
set_ratio(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || d != d || d > 1e9)
		return opts_bad(why, whylen, _("--seed-ratio wants a number, "
		    "not '%s'"), arg);
	o->seed_ratio = d;
	return 0;
}

static int
set_state_dir(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->state_dir = arg;
	return 0;
}

static int
set_port(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 0 || v > 65535)
		return opts_bad(why, whylen, _("--port wants a number from 0 "
		    "to 65535, not '%s'"), arg);
	o->port = (uint16_t)v;
	return 0;
}

static int
set_transport(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	if (strcmp(arg, "both") == 0)
		o->transport = SESSION_TRANSPORT_BOTH;
	else if (strcmp(arg, "utp") == 0)
		o->transport = SESSION_TRANSPORT_UTP;
	else if (strcmp(arg, "tcp") == 0)
		o->transport = SESSION_TRANSPORT_TCP;
	else
		return opts_bad(why, whylen, _("--transport is both, utp or "
		    "tcp, not '%s'"), arg);
	return 0;
}

static int
set_crypto(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	static const char *const names[] = { "prefer", "full", "require",
	    "off" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(arg, names[i]) == 0) {
			o->crypto = (enum session_crypto)i;
			return 0;
		}
	return opts_bad(why, whylen, _("--encryption is prefer, full, require "
	    "or off, not '%s'"), arg);
}

static int
set_bind(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	if (addr_parse_ip(arg, &o->bind) == 0)
		return 0;
	return opts_bad(why, whylen, _("--bind-address wants a numeric IPv4 "
	    "or IPv6 address, not '%s'"), arg);
}

static int
set_no_dht(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->no_dht = true;
	return 0;
}

static int
set_bootstrap(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	if (o->nbootstrap == SESSION_MAX_BOOTSTRAP) {
		snprintf(why, whylen, _("at most %d --dht-bootstrap options"),
		    SESSION_MAX_BOOTSTRAP);
		return -1;
	}
	o->bootstrap[o->nbootstrap++] = arg;
	return 0;
}

static int
set_no_upnp(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->no_upnp = true;
	return 0;
}

static int
set_no_natpmp(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->no_natpmp = true;
	return 0;
}

static int
set_no_lsd(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->no_lsd = true;
	return 0;
}

static int
set_peer(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	if (o->ngiven == TORRENT_MAX_GIVEN) {
		snprintf(why, whylen, _("at most %d --peer options"),
		    TORRENT_MAX_GIVEN);
		return -1;
	}
	if (addr_parse(arg, &o->given[o->ngiven]) != 0)
		return opts_bad(why, whylen, _("--peer wants HOST:PORT with a "
		    "numeric address, not '%s'"), arg);
	o->ngiven++;
	return 0;
}

/* A count in [1, max]. */
static int
opts_count(const char *arg, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int
set_max_peers(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	if (opts_count(arg, PEERSET_MAX_PEERS, &o->max_peers) == 0)
		return 0;
	snprintf(why, whylen, _("%s wants a number from 1 to %d"),
	    "--max-peers", PEERSET_MAX_PEERS);
	return -1;
}

static int
set_slots(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	if (opts_count(arg, 64, &o->upload_slots) == 0)
		return 0;
	snprintf(why, whylen, _("%s wants a number from 1 to %d"),
	    "--upload-slots", 64);
	return -1;
}

static int
set_strategy(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	if (picker_strategy_parse(arg, &o->strategy) == 0)
		return 0;
	return opts_bad(why, whylen, _("--strategy is rarest, random or "
	    "sequential, not '%s'"), arg);
}

static int
set_rate(uint64_t *out, const char *name, const char *arg, char *why,
    size_t whylen)
{
	if (bucket_parse_rate(arg, out) == 0)
		return 0;
	snprintf(why, whylen, _("%s wants a rate such as 500K or 2M, not "
	    "'%s'"), name, arg);
	return -1;
}

static int
set_max_up(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	return set_rate(&o->max_up, "--max-up", arg, why, whylen);
}

static int
set_max_down(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	return set_rate(&o->max_down, "--max-down", arg, why, whylen);
}

static int
set_seed(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	char *end;

	errno = 0;
	o->seed = strtoull(arg, &end, 0);
	if (errno != 0 || end == arg || *end != '\0')
		return opts_bad(why, whylen, _("--seed wants a number, not "
		    "'%s'"), arg);
	o->seeded = true;
	return 0;
}

static int
set_trace(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->trace_path = arg;
	return 0;
}

static int
set_log(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	int lv = log_parse_level(arg);

	if (lv < 0)
		return opts_bad(why, whylen, _("unknown log level '%s' (use "
		    "error, warn, note, info or debug)"), arg);
	o->log_level = (enum log_level)lv;
	return 0;
}

static int
set_no_tui(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->no_tui = true;
	return 0;
}

static int
set_config(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->config = arg;
	return 0;
}

static int
set_no_config(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	o->no_config = true;
	return 0;
}

/* --help and --version are handled before any setter runs. */
static int
set_nothing(struct run_opts *o, const char *arg, char *why, size_t whylen)
{
	return 0;
}

/* --- the table -------------------------------------------------------------- */

static const struct opts_def opts_defs[] = {
	{ "file", "FILE", set_file, OPTS_DOWNLOAD,
	    N_("the torrent or magnet link to download (or\n"
	    "give it last)"), OPTS_NO_KEY },
	{ "path", "DIR", set_path, OPTS_DOWNLOAD,
	    N_("download directory (default .)"), 0 },
	{ "files", "LIST", set_files, OPTS_DOWNLOAD,
	    N_("download only these files, e.g. 1,3-5\n"
	    "(numbered as thorrent info lists them)"), 0 },
	{ "seed-ratio", "R", set_ratio, OPTS_DOWNLOAD,
	    N_("seed until uploaded/size reaches R (default 1.0;\n"
	    "0 exits when complete, negative seeds forever)"), 0 },
	{ "state-dir", "DIR", set_state_dir, OPTS_DOWNLOAD,
	    N_("where resume records live (default\n"
	    "$XDG_STATE_HOME/thorrent)"), 0 },
	{ "port", "N", set_port, OPTS_NETWORK,
	    N_("listening port (default 6881, next free if taken;\n"
	    "0: any free port)"), 0 },
	{ "transport", "MODE", set_transport, OPTS_NETWORK,
	    N_("both (default: uTP first, then TCP), utp or\ntcp"), 0 },
	{ "encryption", "MODE", set_crypto, OPTS_NETWORK,
	    N_("prefer (default: encrypted handshake, payload\n"
	    "as the peer likes, plaintext fallback), full\n"
	    "(RC4 payload whenever possible), require\n"
	    "(RC4 only) or off"), 0 },
	{ "bind-address", "IP", set_bind, OPTS_NETWORK,
	    N_("listen, dial and use UDP on this address only"), 0 },
	{ "no-dht", NULL, set_no_dht, OPTS_NETWORK,
	    N_("do not use the DHT (BEP 5)"), 0 },
	{ "dht-bootstrap", "HOST:PORT", set_bootstrap, OPTS_NETWORK,
	    N_("join the DHT through this node (repeatable;\n"
	    "default: the public routers)"), 0 },
	{ "no-upnp", NULL, set_no_upnp, OPTS_NETWORK,
	    N_("do not map the port with UPnP"), 0 },
	{ "no-natpmp", NULL, set_no_natpmp, OPTS_NETWORK,
	    N_("do not map the port with NAT-PMP"), 0 },
	{ "no-lsd", NULL, set_no_lsd, OPTS_NETWORK,
	    N_("do not look for peers on the local network\n"
	    "(BEP 14 multicast)"), 0 },
	{ "peer", "HOST:PORT", set_peer, OPTS_PEERS,
	    N_("connect to this peer too (repeatable)"), 0 },
	{ "max-peers", "N", set_max_peers, OPTS_PEERS,
	    N_("connections at most (default 80)"), 0 },
	{ "upload-slots", "N", set_slots, OPTS_PEERS,
	    N_("peers unchoked by rate (default 4, plus one\n"
	    "optimistic)"), 0 },
	{ "strategy", "S", set_strategy, OPTS_PEERS,
	    N_("rarest (default), random or sequential"), 0 },
	{ "max-up", "RATE", set_max_up, OPTS_LIMITS,
	    N_("upload limit, e.g. 500K or 2M (bytes/s)"), 0 },
	{ "max-down", "RATE", set_max_down, OPTS_LIMITS,
	    N_("download limit"), 0 },
	{ "seed", "N", set_seed, OPTS_EXPERIMENT,
	    N_("seed of every random choice, for replays"), 0 },
	{ "trace", "FILE", set_trace, OPTS_EXPERIMENT,
	    N_("write every event to FILE as JSON Lines"), 0 },
	{ "log", "LEVEL", set_log, OPTS_OUTPUT,
	    N_("error, warn, note, info or debug (default note:\n"
	    "what you changed and why seeding stopped)"), 0 },
	{ "no-tui", NULL, set_no_tui, OPTS_OUTPUT,
	    N_("plain progress lines on stderr instead of the view"), 0 },
	{ "config", "FILE", set_config, OPTS_CONFIG,
	    N_("read options from FILE instead of the default\n"
	    "$XDG_CONFIG_HOME/thorrent/config"), OPTS_NO_KEY },
	{ "no-config", NULL, set_no_config, OPTS_CONFIG,
	    N_("read no configuration file"), OPTS_NO_KEY },
	{ "help", NULL, set_nothing, OPTS_CONFIG,
	    N_("this help"), OPTS_NO_KEY },
	{ "version", NULL, set_nothing, OPTS_CONFIG,
	    N_("versions of thorrent and its libraries"), OPTS_NO_KEY },
};

#define OPTS_N	(sizeof(opts_defs) / sizeof(opts_defs[0]))

const struct opts_def *
opts_table(size_t *n)
{
	*n = OPTS_N;
	return opts_defs;
}

const char *
opts_group_name(enum opts_group g)
{
	static const char *const names[OPTS_NGROUPS] = {
		N_("Download:"), N_("Network:"), N_("Peers and strategy:"),
		N_("Limits:"), N_("Experiment and trace:"), N_("Output:"),
		N_("Configuration:"),
	};

	return (unsigned)g < OPTS_NGROUPS ? _(names[g]) : "";
}

/* --- --help -------------------------------------------------------------- */

void
opts_usage(FILE *fp)
{
	fputs(_("usage: thorrent [OPTIONS] FILE.torrent|MAGNET-LINK\n"
	    "       thorrent create [-o OUT] [-t URL]... [-w URL]... [--private]\n"
	    "                       [--piece-size N] [--comment TEXT] PATH\n"
	    "       thorrent info [--json] FILE.torrent\n"
	    "       thorrent demo\n"
	    "       thorrent swarm [OPTIONS]\n"
	    "Download a torrent or magnet link, then seed it.  Options may also\n"
	    "be set in $XDG_CONFIG_HOME/thorrent/config, one \"name = value\"\n"
	    "per line; the command line overrides them.\n"), fp);
	for (int g = 0; g < OPTS_NGROUPS; g++) {
		fprintf(fp, "\n%s\n", opts_group_name((enum opts_group)g));
		for (size_t i = 0; i < OPTS_N; i++) {
			const struct opts_def *d = &opts_defs[i];
			const char *h = _(d->help), *nl;
			char head[64];
			int w;

			if (d->group != (enum opts_group)g)
				continue;
			w = snprintf(head, sizeof(head), "  %s--%s%s%s",
			    strcmp(d->name, "help") == 0 ? "-h, " : "",
			    d->name, d->arg ? " " : "", d->arg ? d->arg : "");
			/* A long head goes on a line of its own. */
			if (w >= OPTS_HELP_COL)
				fprintf(fp, "%s\n%*s", head, OPTS_HELP_COL, "");
			else
				fprintf(fp, "%-*s", OPTS_HELP_COL, head);
			while ((nl = strchr(h, '\n')) != NULL) {
				fprintf(fp, "%.*s\n%*s", (int)(nl - h), h,
				    OPTS_HELP_COL, "");
				h = nl + 1;
			}
			fprintf(fp, "%s\n", h);
		}
	}
	fprintf(fp, "\n%s\n", _("Keys in the view:"));
	keys_print(fp);
	fputs(_("\nSubcommands take their own options; see thorrent(1).  "
	    "Exit status:\n0 complete, 1 error, 2 bad usage.\n"), fp);
}

/* --- parsing ---------------------------------------------------------------- */

static void
opts_defaults(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dir = ".";
	o->port = 6881;
	o->seed_ratio = 1.0;
	o->log_level = LOG_NOTE;
	o->max_peers = 80;
}

static void
opts_longopts(struct option *lo)
{
	for (size_t i = 0; i < OPTS_N; i++) {
		lo[i].name = opts_defs[i].name;
		lo[i].has_arg = opts_defs[i].arg ? required_argument :
		    no_argument;
		lo[i].flag = NULL;
		lo[i].val = 256 + (int)i;
	}
	memset(&lo[OPTS_N], 0, sizeof(lo[0]));
}

/* The index of option name in the table, or -1. */
static int
opts_find(const char *name)
{
	for (size_t i = 0; i < OPTS_N; i++)
		if (strcmp(opts_defs[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * Load the configuration file: path from --config, or the XDG default,
 * which may be missing.  The accepted keys are the table's.  Returns 0
 * or an exit status after printing one line.
 */
static int
opts_config(const char *given, struct conffile *cf, char *path,
    size_t pathlen)
{
	struct conffile_opt copts[OPTS_MAX];
	struct thr_error err;
	size_t n = 0;
	int rc;

	memset(cf, 0, sizeof(*cf));
	for (size_t i = 0; i < OPTS_N && n < OPTS_MAX; i++)
		if (!(opts_defs[i].flags & OPTS_NO_KEY)) {
			copts[n].name = opts_defs[i].name;
			copts[n].has_arg = opts_defs[i].arg != NULL;
			n++;
		}
	if (given != NULL)
		snprintf(path, pathlen, "%s", given);
	else if (!conffile_default_path(getenv("XDG_CONFIG_HOME"),
	    getenv("HOME"), path, pathlen))
		return 0;
	memset(&err, 0, sizeof(err));
	rc = fileio_load_conffile(cf, path, copts, n, &err);
	if ((rc == THR_ENOENT && given == NULL) || rc == 0)
		return 0;
	if (cf->err_line > 0)
		fprintf(stderr, "thorrent: %s:%u: %s\n", path, cf->err_line,
		    err.msg);
	else
		fprintf(stderr, "thorrent: %s: %s\n", path, err.msg);
	conffile_release(cf);
	return CMD_EXIT_ERROR;
}

/* An option getopt refused (':' missing value, '?' unknown), named as
 * the user typed it: getopt itself would name the program by its full
 * path. */
static void
opts_bad_option(int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char safe[128];

	escape_str(arg, strnlen(arg, 64), safe, sizeof(safe));
	if (c == ':')
		fprintf(stderr, _("thorrent: option '%s' needs a value\n"),
		    safe);
	else if (optopt != 0 && optopt != '?' && optopt < 128 &&
	    strncmp(arg, "--", 2) != 0)
		fprintf(stderr, _("thorrent: unknown option '-%c'\n"),
		    optopt);
	else
		fprintf(stderr, _("thorrent: unknown option '%s'\n"), safe);
	fprintf(stderr, "%s\n", _("Try 'thorrent --help' for the options."));
}

/* A first pass finds --help, --version and which configuration file to
 * read: help must work even when the file is broken.  Errors wait for
 * the second pass.  -1, or the exit status. */
static int
opts_first_pass(int argc, char **argv, const struct option *lo,
    struct run_opts *o)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const char *name = c >= 256 ? opts_defs[c - 256].name : "";

		if (c == 'h' || strcmp(name, "help") == 0) {
			opts_usage(stdout);
			return CMD_EXIT_OK;
		}
		if (strcmp(name, "version") == 0) {
			help_version(stdout);
			return CMD_EXIT_OK;
		}
		if (strcmp(name, "config") == 0)
			o->config = optarg;
		else if (strcmp(name, "no-config") == 0)
			o->no_config = true;
	}
	return -1;
}

/* XDG base directories: $XDG_STATE_HOME/thorrent, by default
 * ~/.local/state/thorrent. */
static void
opts_state_default(struct run_opts *o)
{
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");

	if (o->state_dir != NULL)
		return;
	if (x != NULL && x[0] == '/')
		snprintf(o->state_buf, sizeof(o->state_buf), "%s/thorrent", x);
	else if (h != NULL && h[0] == '/')
		snprintf(o->state_buf, sizeof(o->state_buf),
		    "%s/.local/state/thorrent", h);
	if (o->state_buf[0] != '\0')
		o->state_dir = o->state_buf;
}

int
opts_parse(int argc, char **argv, struct run_opts *o, struct conffile *cf)
{
	struct option lo[OPTS_N + 1];
	char *cfgfile = o->config_used, why[256];
	size_t ci = 0;
	int c, rc;

	opts_defaults(o);
	cfgfile[0] = '\0';
	opts_longopts(lo);
	if ((rc = opts_first_pass(argc, argv, lo, o)) >= 0)
		return rc;
	if (!o->no_config &&
	    (rc = opts_config(o->config, cf, cfgfile,
	    sizeof(o->config_used))) != 0)
		return rc;
	optind = 0;
	for (;;) {
		const char *arg;
		bool fromfile = ci < cf->n;

		if (fromfile) {
			c = opts_find(cf->items[ci].name);
			arg = cf->items[ci].value;
		} else {
			if ((c = getopt_long(argc, argv, ":h", lo, NULL)) == -1)
				break;
			if (c == 'h')
				c = opts_find("help") + 256;
			if (c < 256) {
				opts_bad_option(c, argv);
				return CMD_EXIT_USAGE;
			}
			c -= 256;
			arg = optarg;
		}
		if (c < 0 || opts_defs[c].set(o, arg, why, sizeof(why)) != 0) {
			if (!fromfile) {
				fprintf(stderr, "thorrent: %s\n", why);
				return CMD_EXIT_USAGE;
			}
			fprintf(stderr, "thorrent: %s:%u: %s\n", cfgfile,
			    cf->items[ci].line, why);
			return CMD_EXIT_ERROR;
		}
		ci += fromfile;
	}
	if (o->torrent == NULL && optind < argc)
		o->torrent = argv[optind++];
	if (o->torrent == NULL) {
		opts_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (optind != argc) {
		char a[128], b[128];

		/* One run is one torrent: say so, not the whole help. */
		escape_str(o->torrent, strnlen(o->torrent, 64), a, sizeof(a));
		escape_str(argv[optind], strnlen(argv[optind], 64), b,
		    sizeof(b));
		fprintf(stderr, _("thorrent: one torrent at a time, not both "
		    "'%s' and '%s' (run one thorrent for each)\n"), a, b);
		fprintf(stderr, "%s\n", _("Try 'thorrent --help' for the "
		    "options."));
		return CMD_EXIT_USAGE;
	}
	opts_state_default(o);
	return -1;
}
