/*
 * command.c: executing user commands on the state.  Keys (ui/keys.c)
 * and, later, scripts both come through here, so a command does the same
 * thing whichever way it was given.
 */
#include "config.h"

#include "command.h"
#include "err.h"
#include "state.h"

bool
command_changes_state(enum command_id id)
{
	return id == COMMAND_QUIT || id == COMMAND_PAUSE;
}

const char *
command_name(enum command_id id)
{
	switch (id) {
	case COMMAND_NONE:		return "none";
	case COMMAND_QUIT:		return "quit";
	case COMMAND_PAUSE:		return "pause";
	case COMMAND_PANE_NEXT:		return "pane-next";
	case COMMAND_PANE_PEERS:	return "pane-peers";
	case COMMAND_PANE_PIECES:	return "pane-pieces";
	case COMMAND_PANE_FILES:	return "pane-files";
	case COMMAND_PANE_LOG:		return "pane-log";
	case COMMAND_SCROLL_UP:		return "scroll-up";
	case COMMAND_SCROLL_DOWN:	return "scroll-down";
	case COMMAND_PAGE_UP:		return "page-up";
	case COMMAND_PAGE_DOWN:		return "page-down";
	case COMMAND_TOGGLE_AVAIL:	return "toggle-availability";
	case COMMAND_SORT:		return "sort";
	case COMMAND_HELP:		return "help";
	}
	return "unknown";
}

int
command_exec(struct thr_state *s, enum command_id id, uint64_t now_ms)
{
	(void)now_ms;
	switch (id) {
	case COMMAND_QUIT:
		s->quit_requested = true;
		log_msg(&s->log, LOG_INFO, "quit requested");
		break;
	case COMMAND_PAUSE:
		state_set_paused(s, !s->paused);
		break;
	default:
		return THR_EINVAL;
	}
	s->changes++;
	return 0;
}
