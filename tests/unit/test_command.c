/*
 * test_command.c: the command table that keys (and later scripts) go
 * through (core/command.c), acting on a session (core/session.h) and its
 * torrent (core/torrent.h).
 *
 * The session is a real one with one torrent over a memory store
 * (core/memstore.h): a single 32 KiB file with zero hashes, which no
 * command here needs to download.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"
#include "core/buf.h"
#include "core/command.h"
#include "core/err.h"
#include "core/memstore.h"
#include "core/session.h"
#include "core/torrent.h"

#define CMD_PLEN	16384u
#define CMD_SIZE	(2 * CMD_PLEN)

struct cmd_run {
	struct buf	 meta;
	struct memstore	*m;
	struct session	*s;
	struct torrent	*t;
	uint32_t	 log0;		/* lines logged while starting */
};

/* A session logging at LOG_DEBUG with one torrent in it. */
static void
cmd_start(struct cmd_run *r)
{
	struct session_opts so;
	struct torrent_opts to;
	struct thr_error err;
	uint8_t hashes[2 * 20] = { 0 };

	memset(r, 0, sizeof(*r));
	memset(&err, 0, sizeof(err));
	buf_init(&r->meta, 1u << 16);
	cr_assert_eq(bencode_put_dict(&r->meta), 0);
	bencode_put_cstr(&r->meta, "info");
	bencode_put_dict(&r->meta);
	bencode_put_cstr(&r->meta, "length");
	bencode_put_int(&r->meta, CMD_SIZE);
	bencode_put_cstr(&r->meta, "name");
	bencode_put_cstr(&r->meta, "cmd.bin");
	bencode_put_cstr(&r->meta, "piece length");
	bencode_put_int(&r->meta, CMD_PLEN);
	bencode_put_cstr(&r->meta, "pieces");
	bencode_put_str(&r->meta, hashes, sizeof(hashes));
	bencode_put_end(&r->meta);
	cr_assert_eq(bencode_put_end(&r->meta), 0);

	memset(&so, 0, sizeof(so));
	so.seed = 1;
	so.log_level = LOG_DEBUG;
	so.crypto = SESSION_CRYPTO_OFF;
	so.transport = SESSION_TRANSPORT_TCP;
	cr_assert_not_null(r->s = session_new(&so, 1000, &err), "%s",
	    err.msg);
	cr_assert_not_null(r->m = memstore_new(NULL, CMD_SIZE, false));
	memset(&to, 0, sizeof(to));
	to.metainfo = r->meta.data;
	to.metainfo_len = r->meta.len;
	to.store = memstore_factory(r->m);
	cr_assert_eq(session_add(r->s, &to, 1000, &r->t, &err), 0, "%s",
	    err.msg);
	/* The commands' lines come after those of the start, and their
	 * changes are counted from zero. */
	cr_assert_lt(r->s->log.count, LOG_RING / 2);
	r->log0 = r->s->log.count;
	r->s->changes = 0;
}

/* Line i (0: the first) logged since cmd_start. */
static const char *
cmd_line(const struct cmd_run *r, uint32_t i, enum log_level *lv)
{
	const char *line = log_line(&r->s->log, r->log0 + i, lv);

	cr_assert_not_null(line, "no line %u", i);
	return line;
}

static void
cmd_stop(struct cmd_run *r)
{
	session_free(r->s);
	memstore_free(r->m);
	buf_release(&r->meta);
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
	struct cmd_run r;

	cmd_start(&r);
	cr_assert_eq(command_exec(r.s, r.t, COMMAND_QUIT, 0, 1000), 0);
	cr_expect(r.s->quit_requested);
	cr_expect_gt(r.s->changes, 0);
	cr_expect_eq(r.s->log.count - r.log0, 1);
	cr_expect_str_eq(cmd_line(&r, 0, NULL), "quit requested");
	/* Quit is the session's: it needs no torrent. */
	r.s->quit_requested = false;
	cr_assert_eq(command_exec(r.s, NULL, COMMAND_QUIT, 0, 1000), 0);
	cr_expect(r.s->quit_requested);
	cmd_stop(&r);
}

Test(command, exec_pause_toggles)
{
	struct cmd_run r;

	cmd_start(&r);
	cr_assert_eq(command_exec(r.s, r.t, COMMAND_PAUSE, 0, 1000), 0);
	cr_expect(r.t->paused);
	cr_assert_eq(command_exec(r.s, r.t, COMMAND_PAUSE, 0, 2000), 0);
	cr_expect_not(r.t->paused);
	cr_expect_eq(r.s->changes, 2);
	cr_expect_not(r.s->quit_requested);
	cmd_stop(&r);
}

Test(command, exec_rejects_view_only_and_unknown)
{
	struct cmd_run r;

	cmd_start(&r);
	cr_expect_eq(command_exec(r.s, r.t, COMMAND_NONE, 0, 0), THR_EINVAL);
	cr_expect_eq(command_exec(r.s, r.t, COMMAND_PANE_NEXT, 0, 0),
	    THR_EINVAL);
	cr_expect_eq(command_exec(r.s, r.t, COMMAND_HELP, 0, 0), THR_EINVAL);
	cr_expect_eq(command_exec(r.s, r.t, (enum command_id)999, 0, 0),
	    THR_EINVAL);
	/* A torrent's command without a torrent. */
	cr_expect_eq(command_exec(r.s, NULL, COMMAND_PAUSE, 0, 0),
	    THR_EINVAL);
	cr_expect_eq(r.s->changes, 0);
	cr_expect_not(r.t->paused);
	cr_expect_not(r.s->quit_requested);
	cmd_stop(&r);
}

/* A limit the user changes is logged at LOG_NOTE: the default level,
 * so the log pane and the line mode show it. */
Test(command, limit_changes_reach_the_default_log_level)
{
	struct cmd_run r;
	enum log_level lv;

	cmd_start(&r);
	r.s->log.level = LOG_NOTE;
	cr_assert_eq(command_exec(r.s, r.t, COMMAND_DOWN_LESS, 0, 1000), 0);
	cr_expect_eq(r.s->down_limit.rate, COMMAND_LIMIT_START);
	cr_assert_eq(r.s->log.count - r.log0, 1);
	cr_expect_str_eq(cmd_line(&r, 0, &lv),
	    "download limit set to 1.0 MiB/s");
	cr_expect_eq(lv, LOG_NOTE);
	cr_assert_eq(command_exec(r.s, r.t, COMMAND_DOWN_LESS, 0, 1000), 0);
	cr_expect_str_eq(cmd_line(&r, 1, NULL),
	    "download limit set to 512.0 KiB/s");
	cr_assert_eq(command_exec(r.s, r.t, COMMAND_UP_LESS, 0, 1000), 0);
	cr_expect_str_eq(cmd_line(&r, 2, NULL),
	    "upload limit set to 1.0 MiB/s");
	cr_expect_eq(r.s->up_limit.rate, COMMAND_LIMIT_START);
	while (r.s->up_limit.rate != 0)
		cr_assert_eq(command_exec(r.s, r.t, COMMAND_UP_MORE, 0, 1000),
		    0);
	cr_expect_str_eq(log_line(&r.s->log, r.s->log.count - 1, &lv),
	    "upload limit lifted: unlimited");
	cr_expect_eq(lv, LOG_NOTE);
	cmd_stop(&r);
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
