/*
 * command.c: executing user commands on the state.  Keys (ui/keys.c)
 * and, later, scripts both come through here, so a command does the same
 * thing whichever way it was given.
 */
#include "config.h"

#include "command.h"
#include "err.h"
#include "i18n.h"
#include "session.h"
#include "torrent.h"

bool
command_changes_state(enum command_id id)
{
	return id >= COMMAND_QUIT && id <= COMMAND_FILE_TOGGLE;
}

const char *
command_name(enum command_id id)
{
	switch (id) {
	case COMMAND_NONE:		return "none";
	case COMMAND_QUIT:		return "quit";
	case COMMAND_PAUSE:		return "pause";
	case COMMAND_STRATEGY_NEXT:	return "strategy-next";
	case COMMAND_UP_MORE:		return "up-limit-more";
	case COMMAND_UP_LESS:		return "up-limit-less";
	case COMMAND_DOWN_MORE:		return "down-limit-more";
	case COMMAND_DOWN_LESS:		return "down-limit-less";
	case COMMAND_FILE_TOGGLE:	return "file-toggle";
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

/* Halve or double a limit; 0 means none. */
static uint64_t
step_limit(uint64_t cur, bool more)
{
	if (more)
		return cur == 0 || cur * 2 > COMMAND_LIMIT_MAX ? 0 : cur * 2;
	if (cur == 0)
		return COMMAND_LIMIT_START;
	return cur / 2 < COMMAND_LIMIT_MIN ? COMMAND_LIMIT_MIN : cur / 2;
}

int
command_exec(struct session *s, struct torrent *t, enum command_id id,
    uint32_t arg, uint64_t now_ms)
{
	struct bucket *b;
	uint64_t v;

	session_clock(s, now_ms);
	switch (id) {
	case COMMAND_STRATEGY_NEXT:
		torrent_set_strategy(t, (enum picker_strategy)
		    ((torrent_strategy(t) + 1) % PICKER_NSTRATEGIES));
		break;
	case COMMAND_UP_MORE:
	case COMMAND_UP_LESS:
	case COMMAND_DOWN_MORE:
	case COMMAND_DOWN_LESS:
		b = id == COMMAND_UP_MORE || id == COMMAND_UP_LESS ?
		    &s->up_limit : &s->down_limit;
		v = step_limit(b->rate, id == COMMAND_UP_MORE ||
		    id == COMMAND_DOWN_MORE);
		bucket_set_rate(b, v, now_ms);
		log_msg(&s->log, LOG_INFO, b == &s->up_limit ?
		    _("upload limit %llu B/s%s") :
		    _("download limit %llu B/s%s"),
		    (unsigned long long)v, v ? "" : _(" (none)"));
		trace_emit(&s->trace, "limit", "\"dir\":\"%s\",\"rate\":%llu",
		    b == &s->up_limit ? "up" : "down", (unsigned long long)v);
		break;
	case COMMAND_FILE_TOGGLE:
		if (!t->have_meta || arg >= t->mi.nfiles)
			return THR_EINVAL;
		if (torrent_set_file_wanted(t, arg, !t->sel.wanted[arg]) != 0)
			return THR_ENOMEM;
		break;
	case COMMAND_QUIT:
		s->quit_requested = true;
		log_msg(&s->log, LOG_INFO, "%s", _("quit requested"));
		break;
	case COMMAND_PAUSE:
		torrent_set_paused(t, !t->paused, "command");
		break;
	default:
		return THR_EINVAL;
	}
	s->changes++;
	return 0;
}
