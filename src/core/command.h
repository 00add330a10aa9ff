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

struct thr_state;

enum command_id {
	COMMAND_NONE,
	/* state-changing */
	COMMAND_QUIT,		/* graceful: stopped announce, then exit */
	COMMAND_PAUSE,		/* toggle: drop peers, stop connecting */
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
/* Execute a state-changing command.  0, or THR_EINVAL for a view-only
 * or unknown id. */
int	command_exec(struct thr_state *s, enum command_id id, uint64_t now_ms);

#endif
