/*
 * command.c: executing user commands on the state.  Keys (ui/keys.c)
 * and, later, scripts both come through here, so a command does the same
 * thing whichever way it was given.
 */
#include "config.h"

#include "command.h"
#include "err.h"
#include "i18n.h"
#include "state.h"

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
command_exec(struct thr_state *s, enum command_id id, uint32_t arg,
    uint64_t now_ms)
{
	struct bucket *b;
	char rate[32];
	uint64_t v;

	switch (id) {
	case COMMAND_STRATEGY_NEXT:
		state_set_strategy(s, (enum picker_strategy)
		    ((s->pk.strategy + 1) % PICKER_NSTRATEGIES));
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
		/* The user asked for it: LOG_NOTE, which the log pane
		 * shows at the default level. */
		bucket_format_rate(v, rate, sizeof(rate));
		if (v == 0)
			log_msg(&s->log, LOG_NOTE, "%s", b == &s->up_limit ?
			    _("upload limit lifted: unlimited") :
			    _("download limit lifted: unlimited"));
		else
			log_msg(&s->log, LOG_NOTE, b == &s->up_limit ?
			    _("upload limit set to %s") :
			    _("download limit set to %s"), rate);
		trace_emit(&s->trace, "limit", "\"dir\":\"%s\",\"rate\":%llu",
		    b == &s->up_limit ? "up" : "down", (unsigned long long)v);
		break;
	case COMMAND_FILE_TOGGLE:
		if (arg >= s->mi.nfiles)
			return THR_EINVAL;
		if (state_set_file_wanted(s, arg, !s->file_wanted[arg]) != 0)
			return THR_ENOMEM;
		break;
	case COMMAND_QUIT:
		s->quit_requested = true;
		log_msg(&s->log, LOG_INFO, "%s", _("quit requested"));
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
