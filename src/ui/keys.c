/*
 * keys.c: the key bindings.  Order matters only for the help overlay,
 * which lists commands in the order they first appear here; what each
 * command does, and its help, is the command table's (core/command.h).
 */
#include "config.h"

#include <curses.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/i18n.h"
#include "ui/keys.h"

static const struct keys_binding keys_bindings[] = {
	{ 'q',		"q",	COMMAND_QUIT },
	{ 'p',		"p",	COMMAND_PAUSE },
	{ 'r',		"r",	COMMAND_STRATEGY_NEXT },
	{ 'U',		"U",	COMMAND_UP_MORE },
	{ 'u',		"u",	COMMAND_UP_LESS },
	{ 'D',		"D",	COMMAND_DOWN_MORE },
	{ 'd',		"d",	COMMAND_DOWN_LESS },
	{ ' ',		"Space", COMMAND_FILE_TOGGLE },
	{ '\t',		"Tab",	COMMAND_PANE_NEXT },
	{ '1',		"1",	COMMAND_PANE_PEERS },
	{ '2',		"2",	COMMAND_PANE_PIECES },
	{ '3',		"3",	COMMAND_PANE_FILES },
	{ '4',		"4",	COMMAND_PANE_LOG },
	{ KEY_UP,	"Up",	COMMAND_SCROLL_UP },
	{ 'k',		"k",	COMMAND_SCROLL_UP },
	{ KEY_DOWN,	"Down",	COMMAND_SCROLL_DOWN },
	{ 'j',		"j",	COMMAND_SCROLL_DOWN },
	{ KEY_PPAGE,	"PgUp",	COMMAND_PAGE_UP },
	{ KEY_NPAGE,	"PgDn",	COMMAND_PAGE_DOWN },
	{ 'a',		"a",	COMMAND_TOGGLE_AVAIL },
	{ 's',		"s",	COMMAND_SORT },
	{ '?',		"?",	COMMAND_HELP },
};

const struct keys_binding *
keys_table(size_t *n)
{
	*n = sizeof(keys_bindings) / sizeof(keys_bindings[0]);
	return keys_bindings;
}

enum command_id
keys_lookup(int key)
{
	size_t i;

	for (i = 0; i < sizeof(keys_bindings) / sizeof(keys_bindings[0]); i++)
		if (keys_bindings[i].key == key)
			return keys_bindings[i].cmd;
	return COMMAND_NONE;
}

const char *
keys_help(enum command_id id)
{
	const struct command_def *c = command_get(id);

	return c != NULL ? _(c->help) : "";
}

void
keys_print(FILE *fp)
{
	size_t n = sizeof(keys_bindings) / sizeof(keys_bindings[0]);

	for (size_t i = 0; i < n; i++) {
		char names[64];
		size_t o = 0;
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= keys_bindings[j].cmd == keys_bindings[i].cmd;
		if (seen)
			continue;
		names[0] = '\0';
		for (size_t j = i; j < n; j++) {
			int k;

			if (keys_bindings[j].cmd != keys_bindings[i].cmd)
				continue;
			k = snprintf(names + o, sizeof(names) - o, "%s%s",
			    o > 0 ? "/" : "", keys_bindings[j].name);
			if (k < 0 || (size_t)k >= sizeof(names) - o)
				break;
			o += (size_t)k;
		}
		fprintf(fp, "  %-12s%s\n", names,
		    keys_help(keys_bindings[i].cmd));
	}
}
