/*
 * keys.h: the key table.  Each binding keeps its key's printable name,
 * the command it gives and the help text, so that view_keys and the help
 * overlay ('?') are driven by the same data and cannot disagree (tmux
 * key-bindings.c does the same).
 */
#ifndef THR_UI_KEYS_H
#define THR_UI_KEYS_H

#include <stddef.h>

#include "core/command.h"

struct keys_binding {
	int		 key;	/* a curses key code (KEY_UP) or a character */
	const char	*name;	/* "q", "Tab", "PgUp" */
	enum command_id	 cmd;
	const char	*help;
};

/* The table, static and never NULL; *n receives its length. */
const struct keys_binding *keys_table(size_t *n);
/* The command bound to key, COMMAND_NONE if none. */
enum command_id	keys_lookup(int key);

#endif
