/*
 * test_command.c: the command table that keys (and later scripts) go
 * through.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/command.h"
#include "core/err.h"
#include "core/state.h"

static struct thr_state *
command_state(void)
{
	struct thr_state *s = calloc(1, sizeof(*s));

	cr_assert_not_null(s);
	s->log.level = LOG_DEBUG;
	return s;
}

Test(command, changes_state_only_quit_and_pause)
{
	cr_expect(command_changes_state(COMMAND_QUIT));
	cr_expect(command_changes_state(COMMAND_PAUSE));
	cr_expect_not(command_changes_state(COMMAND_NONE));
	for (int id = COMMAND_PANE_NEXT; id <= COMMAND_HELP; id++)
		cr_expect_not(command_changes_state((enum command_id)id),
		    "%s", command_name((enum command_id)id));
}

Test(command, names_are_distinct_and_known)
{
	cr_expect_str_eq(command_name(COMMAND_QUIT), "quit");
	cr_expect_str_eq(command_name(COMMAND_PAUSE), "pause");
	cr_expect_str_eq(command_name(COMMAND_HELP), "help");
	cr_expect_str_eq(command_name((enum command_id)999), "unknown");
	for (int a = COMMAND_NONE; a <= COMMAND_HELP; a++)
		for (int b = a + 1; b <= COMMAND_HELP; b++)
			cr_expect_str_neq(command_name((enum command_id)a),
			    command_name((enum command_id)b));
}

Test(command, exec_quit_sets_quit_requested)
{
	struct thr_state *s = command_state();

	cr_assert_eq(command_exec(s, COMMAND_QUIT, 0, 1000), 0);
	cr_expect(s->quit_requested);
	cr_expect_gt(s->changes, 0);
	cr_expect_eq(s->log.count, 1);
	cr_expect_str_eq(log_line(&s->log, 0, NULL), "quit requested");
	free(s);
}

Test(command, exec_pause_toggles)
{
	struct thr_state *s = command_state();

	cr_assert_eq(command_exec(s, COMMAND_PAUSE, 0, 1000), 0);
	cr_expect(s->paused);
	cr_assert_eq(command_exec(s, COMMAND_PAUSE, 0, 2000), 0);
	cr_expect_not(s->paused);
	cr_expect_eq(s->changes, 2);
	cr_expect_not(s->quit_requested);
	free(s);
}

Test(command, exec_rejects_view_only_and_unknown)
{
	struct thr_state *s = command_state();

	cr_expect_eq(command_exec(s, COMMAND_NONE, 0, 0), THR_EINVAL);
	cr_expect_eq(command_exec(s, COMMAND_PANE_NEXT, 0, 0), THR_EINVAL);
	cr_expect_eq(command_exec(s, COMMAND_HELP, 0, 0), THR_EINVAL);
	cr_expect_eq(command_exec(s, (enum command_id)999, 0, 0), THR_EINVAL);
	cr_expect_eq(s->changes, 0);
	cr_expect_not(s->paused);
	cr_expect_not(s->quit_requested);
	free(s);
}

/* A limit the user changes is logged at LOG_NOTE: the default level,
 * so the log pane and the line mode show it. */
Test(command, limit_changes_reach_the_default_log_level)
{
	struct thr_state *s = command_state();
	enum log_level lv;

	s->log.level = LOG_NOTE;
	cr_assert_eq(command_exec(s, COMMAND_DOWN_LESS, 0, 1000), 0);
	cr_expect_eq(s->down_limit.rate, COMMAND_LIMIT_START);
	cr_assert_eq(s->log.count, 1);
	cr_expect_str_eq(log_line(&s->log, 0, &lv),
	    "download limit set to 1.0 MiB/s");
	cr_expect_eq(lv, LOG_NOTE);
	cr_assert_eq(command_exec(s, COMMAND_DOWN_LESS, 0, 1000), 0);
	cr_expect_str_eq(log_line(&s->log, 1, NULL),
	    "download limit set to 512.0 KiB/s");
	cr_assert_eq(command_exec(s, COMMAND_UP_LESS, 0, 1000), 0);
	cr_expect_str_eq(log_line(&s->log, 2, NULL),
	    "upload limit set to 1.0 MiB/s");
	cr_expect_eq(s->up_limit.rate, COMMAND_LIMIT_START);
	while (s->up_limit.rate != 0)
		cr_assert_eq(command_exec(s, COMMAND_UP_MORE, 0, 1000), 0);
	cr_expect_str_eq(log_line(&s->log, s->log.count - 1, &lv),
	    "upload limit lifted: unlimited");
	cr_expect_eq(lv, LOG_NOTE);
	free(s);
}

Test(command, log_levels_parse_with_note_between_warn_and_info)
{
	cr_expect_eq(log_parse_level("note"), LOG_NOTE);
	cr_expect_eq(log_parse_level("notice"), LOG_NOTE);
	cr_expect_eq(log_parse_level("warn"), LOG_WARN);
	cr_expect_eq(log_parse_level("info"), LOG_INFO);
	cr_expect_eq(log_parse_level("loud"), -1);
	cr_expect_str_eq(log_level_name(LOG_NOTE), "note");
	cr_expect_str_eq(log_level_name(LOG_DEBUG), "debug");
	cr_expect(LOG_WARN < LOG_NOTE && LOG_NOTE < LOG_INFO);
}
