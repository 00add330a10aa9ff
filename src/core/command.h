/*
 * command.h: the commands a user can give, whether by key or (later) by
 * script.  The view binds keys to these ids (ui/keys.c keeps each
 * binding's help text, so the help overlay is generated from it); the
 * loop executes state-changing ones with command_exec.  View-only
 * commands (panes, scrolling) never reach the state.
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

/* True for commands that change the torrent state. */
bool	command_changes_state(enum command_id id);
/* A short name ("quit", "pause"...) for logs and traces. */
const char *command_name(enum command_id id);
/* Execute a state-changing command; arg is its argument where it takes
 * one (the file index of COMMAND_FILE_TOGGLE), else ignored.  0, or
 * THR_EINVAL for a view-only or unknown id or a bad argument. */
int	command_exec(struct session *s, struct torrent *t, enum command_id id,
	    uint32_t arg, uint64_t now_ms);

#define COMMAND_LIMIT_MIN	(16u << 10)	/* halving stops here */
#define COMMAND_LIMIT_START	(1u << 20)	/* first limit from none */
#define COMMAND_LIMIT_MAX	(1ull << 30)	/* doubling past: no limit */

#endif
