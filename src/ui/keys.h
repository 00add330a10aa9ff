/*
 * keys.h: the key table.  Each binding keeps its key's printable name
 * and the command it gives; the help text is the command's (the command
 * table, core/command.h), so that view_keys, the help overlay ('?') and
 * --help are driven by the same data and cannot disagree (tmux
 * key-bindings.c does the same).
 */
#ifndef THR_UI_KEYS_H
#define THR_UI_KEYS_H

#include <stddef.h>
#include <stdio.h>

#include "core/command.h"

struct keys_binding {
	int		 key;	/* a curses key code (KEY_UP) or a character */
	const char	*name;	/* "q", "Tab", "PgUp" */
	enum command_id	 cmd;
};

/* The table, static and never NULL; *n receives its length. */
const struct keys_binding *keys_table(size_t *n);
/* The command bound to key, COMMAND_NONE if none. */
enum command_id	keys_lookup(int key);
/* The translated help text of command id (from the command table). */
const char	*keys_help(enum command_id id);
/* The key list for --help: "  q         quit ..." lines, one per
 * command, keys bound to one command on one line. */
void	keys_print(FILE *fp);

#endif
