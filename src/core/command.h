/*
 * command.h: the commands a user can give, whether by key or by script,
 * as one table: id, name, scope, argument, action and help.  The view
 * binds keys to ids (ui/keys.c) and generates its help overlay from the
 * table; --help lists the keys from it too; the loop executes the
 * state-changing ones with command_exec.  View-only commands (panes,
 * scrolling) never reach the session.
 */
#ifndef THR_COMMAND_H
#define THR_COMMAND_H

#include <stdbool.h>
#include <stdint.h>

struct session;
struct torrent;

enum command_id {
	COMMAND_NONE,
	/* state-changing */
	COMMAND_QUIT,		/* graceful: stopped announce, then exit */
	COMMAND_PAUSE,		/* toggle: drop peers, stop connecting */
	COMMAND_STRATEGY_NEXT,	/* rarest -> random -> sequential */
	COMMAND_UP_MORE,	/* double the upload limit (or lift it) */
	COMMAND_UP_LESS,	/* halve it (1 MiB/s from unlimited) */
	COMMAND_DOWN_MORE,
	COMMAND_DOWN_LESS,
	COMMAND_FILE_TOGGLE,	/* arg: 0-based file index */
	/* view-only */
	COMMAND_PANE_NEXT,
	COMMAND_PANE_PEERS,
	COMMAND_PANE_PIECES,
	COMMAND_PANE_FILES,
	COMMAND_PANE_LOG,
	COMMAND_SCROLL_UP,
	COMMAND_SCROLL_DOWN,
	COMMAND_PAGE_UP,
	COMMAND_PAGE_DOWN,
	COMMAND_TOGGLE_AVAIL,
	COMMAND_SORT,		/* cycle the peers table's sort order */
	COMMAND_HELP,
};

/* What a command acts on. */
enum command_scope {
	COMMAND_SCOPE_SESSION,	/* every torrent: limits, quit */
	COMMAND_SCOPE_TORRENT,	/* the torrent in view */
	COMMAND_SCOPE_VIEW,	/* the screen only: never reaches the core */
};

/* What a command's argument is. */
enum command_arg {
	COMMAND_ARG_NONE,
	COMMAND_ARG_FILE,	/* a 0-based file index */
};

/*
 * One command: its id, its name (for scripts and any later control
 * interface: "pause", "strategy-next"), its scope and argument, the
 * action (NULL for view commands, which the view applies itself) and
 * its help text (N_(), shown by the help overlay and --help).
 */
struct command_def {
	enum command_id		 id;
	const char		*name;
	enum command_scope	 scope;
	enum command_arg	 arg;
	int			(*action)(struct session *s, struct torrent *t,
				    uint32_t arg, uint64_t now_ms);
	const char		*help;
};

/* The table, in id order; *n receives its length. */
const struct command_def	*command_table(size_t *n);
/* The entry of id, or NULL for COMMAND_NONE and unknown ids. */
const struct command_def	*command_get(enum command_id id);
/* The id of the command called name, COMMAND_NONE if none. */
enum command_id	command_parse(const char *name);
/* True for commands that change the session or a torrent. */
bool	command_changes_state(enum command_id id);
/* A short name ("quit", "pause"...) for logs and traces. */
const char *command_name(enum command_id id);
/* Execute a state-changing command on session s and torrent t; arg is
 * its argument where it takes one (COMMAND_ARG_FILE: the file index),
 * else ignored.  0, or THR_EINVAL for a view-only or unknown id or a bad
 * argument, or what the action returns. */
int	command_exec(struct session *s, struct torrent *t, enum command_id id,
	    uint32_t arg, uint64_t now_ms);

#define COMMAND_LIMIT_MIN	(16u << 10)	/* halving stops here */
#define COMMAND_LIMIT_START	(1u << 20)	/* first limit from none */
#define COMMAND_LIMIT_MAX	(1ull << 30)	/* doubling past: no limit */

#endif
