/*
 * opts.h: the options of "thorrent [OPTIONS] TORRENT", as one table.
 * Each entry names the option (which is also its configuration file
 * key), its argument, the function that sets it, its help group and
 * its help text; the long options getopt reads, the keys the
 * configuration file accepts and the option list of --help all come
 * from the table, so an option is added in one place (and in the man
 * page, which a test checks against the table).
 *
 * The configuration file's options count as typed before the command
 * line, so the command line overrides them (and repeatable ones such as
 * --peer add up).
 */
#ifndef THR_CMD_OPTS_H
#define THR_CMD_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/conffile.h"
#include "core/log.h"
#include "core/picker.h"
#include "core/session.h"
#include "core/torrent.h"

#define OPTS_PATH_MAX	4096

/* Everything the run needs from the options. */
struct run_opts {
	const char	*torrent;	/* file or magnet link */
	const char	*dir;		/* --path */
	const char	*files;		/* --files, or NULL */
	const char	*state_dir;	/* NULL: none */
	const char	*trace_path;	/* --trace, or NULL */
	const char	*config;	/* --config, or NULL */
	bool		 no_config;
	struct thr_addr	 given[TORRENT_MAX_GIVEN];	/* --peer */
	size_t		 ngiven;
	uint16_t	 port;
	struct thr_addr	 bind;		/* --bind-address (port 0); family 0:
					 * every address */
	double		 seed_ratio;
	uint64_t	 max_up, max_down;
	int		 max_peers;
	int		 upload_slots;
	enum picker_strategy strategy;
	uint64_t	 seed;
	bool		 seeded;	/* --seed given */
	enum log_level	 log_level;
	bool		 no_tui, no_dht, no_upnp, no_natpmp, no_lsd;
	enum session_crypto crypto;
	enum session_transport transport;
	const char	*bootstrap[SESSION_MAX_BOOTSTRAP];
	size_t		 nbootstrap;
	char		 state_buf[OPTS_PATH_MAX];	/* the XDG default */
	char		 config_used[OPTS_PATH_MAX];	/* the file read */
};

enum opts_group {
	OPTS_DOWNLOAD,
	OPTS_NETWORK,
	OPTS_PEERS,
	OPTS_LIMITS,
	OPTS_EXPERIMENT,
	OPTS_OUTPUT,
	OPTS_CONFIG,
	OPTS_NGROUPS,
};

#define OPTS_NO_KEY	1u	/* not a configuration file key */

/*
 * One option.  set stores arg (NULL for a flag) in o; on a bad value it
 * writes one line saying what the option wants into why and returns -1.
 */
struct opts_def {
	const char	*name;
	const char	*arg;		/* "N", "DIR"...; NULL: a flag */
	int		(*set)(struct run_opts *o, const char *arg,
			    char *why, size_t whylen);
	enum opts_group	 group;
	const char	*help;		/* N_(): lines after the first start
					 * with a newline */
	unsigned	 flags;
};

/* The table, in --help order. */
const struct opts_def	*opts_table(size_t *n);
/* The heading of a help group (translated). */
const char	*opts_group_name(enum opts_group g);

/*
 * Parse argv (after the configuration file cf, which the options borrow:
 * keep it until the run is over) into o.  Returns -1 when the run may
 * go on; otherwise the exit status, after printing --help, --version or
 * one line saying what is wrong.
 */
int	opts_parse(int argc, char **argv, struct run_opts *o,
	    struct conffile *cf);
/* The usage and the option list of --help, to fp. */
void	opts_usage(FILE *fp);

#endif
