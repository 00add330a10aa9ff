/*
 * command.c: the command table and its actions.  Keys (ui/keys.c) and,
 * later, scripts and the control socket all come through here, so a
 * command does the same thing whichever way it was given.
 */
#include "config.h"

#include <string.h>

#include "command.h"
#include "err.h"
#include "i18n.h"
#include "session.h"
#include "torrent.h"

/* Halve or double a limit; 0 means none. */
static uint64_t
command_step_limit(uint64_t cur, bool more)
{
	if (more)
		return cur == 0 || cur * 2 > COMMAND_LIMIT_MAX ? 0 : cur * 2;
	if (cur == 0)
		return COMMAND_LIMIT_START;
	return cur / 2 < COMMAND_LIMIT_MIN ? COMMAND_LIMIT_MIN : cur / 2;
}

static int
command_limit(struct session *s, bool up, bool more, uint64_t now_ms)
{
	struct bucket *b = up ? &s->up_limit : &s->down_limit;
	uint64_t v = command_step_limit(b->rate, more);
	char rate[32];

	(void)now_ms;
	session_set_limit(s, up, v);
	/* The user asked for it: LOG_NOTE, which the log pane shows at the
	 * default level. */
	bucket_format_rate(v, rate, sizeof(rate));
	if (v == 0)
		log_msg(&s->log, LOG_NOTE, "%s", up ?
		    _("upload limit lifted: unlimited") :
		    _("download limit lifted: unlimited"));
	else
		log_msg(&s->log, LOG_NOTE, up ? _("upload limit set to %s") :
		    _("download limit set to %s"), rate);
	trace_emit(&s->trace, "limit", "\"dir\":\"%s\",\"rate\":%llu",
	    up ? "up" : "down", (unsigned long long)v);
	return 0;
}

static int
do_quit(struct session *s, struct torrent *t, uint32_t arg, uint64_t now)
{
	s->quit_requested = true;
	log_msg(&s->log, LOG_INFO, "%s", _("quit requested"));
	return 0;
}

static int
do_pause(struct session *s, struct torrent *t, uint32_t arg, uint64_t now)
{
	torrent_set_paused(t, !t->paused, "command");
	return 0;
}

static int
do_strategy(struct session *s, struct torrent *t, uint32_t arg, uint64_t now)
{
	torrent_set_strategy(t, (enum picker_strategy)
	    ((torrent_strategy(t) + 1) % PICKER_NSTRATEGIES));
	return 0;
}

static int
do_up_more(struct session *s, struct torrent *t, uint32_t arg, uint64_t now)
{
	return command_limit(s, true, true, now);
}

static int
do_up_less(struct session *s, struct torrent *t, uint32_t arg, uint64_t now)
{
	return command_limit(s, true, false, now);
}

static int
do_down_more(struct session *s, struct torrent *t, uint32_t arg,
    uint64_t now)
{
	return command_limit(s, false, true, now);
}

static int
do_down_less(struct session *s, struct torrent *t, uint32_t arg,
    uint64_t now)
{
	return command_limit(s, false, false, now);
}

static int
do_file_toggle(struct session *s, struct torrent *t, uint32_t arg,
    uint64_t now)
{
	if (!t->have_meta || arg >= t->mi.nfiles)
		return THR_EINVAL;
	return torrent_set_file_wanted(t, arg, !t->sel.wanted[arg]);
}

#define VIEW	COMMAND_SCOPE_VIEW
#define NOARG	COMMAND_ARG_NONE

static const struct command_def command_defs[] = {
	{ COMMAND_QUIT, "quit", COMMAND_SCOPE_SESSION, NOARG, do_quit,
	    N_("quit (tells the tracker we stopped)") },
	{ COMMAND_PAUSE, "pause", COMMAND_SCOPE_TORRENT, NOARG, do_pause,
	    N_("pause or resume") },
	{ COMMAND_STRATEGY_NEXT, "strategy-next", COMMAND_SCOPE_TORRENT,
	    NOARG, do_strategy,
	    N_("piece strategy: rarest, random, sequential") },
	{ COMMAND_UP_MORE, "up-limit-more", COMMAND_SCOPE_SESSION, NOARG,
	    do_up_more, N_("upload limit: double (past 1 GiB/s: none)") },
	{ COMMAND_UP_LESS, "up-limit-less", COMMAND_SCOPE_SESSION, NOARG,
	    do_up_less, N_("upload limit: halve (none: 1 MiB/s)") },
	{ COMMAND_DOWN_MORE, "down-limit-more", COMMAND_SCOPE_SESSION, NOARG,
	    do_down_more, N_("download limit: double") },
	{ COMMAND_DOWN_LESS, "down-limit-less", COMMAND_SCOPE_SESSION, NOARG,
	    do_down_less, N_("download limit: halve") },
	{ COMMAND_FILE_TOGGLE, "file-toggle", COMMAND_SCOPE_TORRENT,
	    COMMAND_ARG_FILE, do_file_toggle,
	    N_("files pane: select or skip the file under the cursor") },
	{ COMMAND_PANE_NEXT, "pane-next", VIEW, NOARG, NULL,
	    N_("next pane") },
	{ COMMAND_PANE_PEERS, "pane-peers", VIEW, NOARG, NULL,
	    N_("peers pane") },
	{ COMMAND_PANE_PIECES, "pane-pieces", VIEW, NOARG, NULL,
	    N_("pieces pane") },
	{ COMMAND_PANE_FILES, "pane-files", VIEW, NOARG, NULL,
	    N_("files pane") },
	{ COMMAND_PANE_LOG, "pane-log", VIEW, NOARG, NULL, N_("log pane") },
	{ COMMAND_SCROLL_UP, "scroll-up", VIEW, NOARG, NULL,
	    N_("scroll up") },
	{ COMMAND_SCROLL_DOWN, "scroll-down", VIEW, NOARG, NULL,
	    N_("scroll down") },
	{ COMMAND_PAGE_UP, "page-up", VIEW, NOARG, NULL, N_("page up") },
	{ COMMAND_PAGE_DOWN, "page-down", VIEW, NOARG, NULL,
	    N_("page down") },
	{ COMMAND_TOGGLE_AVAIL, "toggle-availability", VIEW, NOARG, NULL,
	    N_("piece map: show availability") },
	{ COMMAND_SORT, "sort", VIEW, NOARG, NULL,
	    N_("sort peers: down rate, up rate, address") },
	{ COMMAND_HELP, "help", VIEW, NOARG, NULL, N_("this help") },
};

#undef VIEW
#undef NOARG

const struct command_def *
command_table(size_t *n)
{
	*n = sizeof(command_defs) / sizeof(command_defs[0]);
	return command_defs;
}

const struct command_def *
command_get(enum command_id id)
{
	for (size_t i = 0; i < sizeof(command_defs) / sizeof(command_defs[0]);
	    i++)
		if (command_defs[i].id == id)
			return &command_defs[i];
	return NULL;
}

enum command_id
command_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(command_defs) / sizeof(command_defs[0]);
	    i++)
		if (strcmp(command_defs[i].name, name) == 0)
			return command_defs[i].id;
	return COMMAND_NONE;
}

bool
command_changes_state(enum command_id id)
{
	const struct command_def *c = command_get(id);

	return c != NULL && c->scope != COMMAND_SCOPE_VIEW;
}

const char *
command_name(enum command_id id)
{
	const struct command_def *c = command_get(id);

	return c != NULL ? c->name : id == COMMAND_NONE ? "none" : "unknown";
}

int
command_exec(struct session *s, struct torrent *t, enum command_id id,
    uint32_t arg, uint64_t now_ms)
{
	const struct command_def *c = command_get(id);
	int rc;

	if (c == NULL || c->action == NULL ||
	    (c->scope == COMMAND_SCOPE_TORRENT && t == NULL))
		return THR_EINVAL;
	session_clock(s, now_ms);
	if ((rc = c->action(s, t, arg, now_ms)) == 0)
		s->changes++;
	return rc;
}
