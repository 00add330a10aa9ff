/*
 * keys.c: the key bindings.  Order matters only for the help overlay,
 * which lists commands in the order they first appear here.
 */
#include "config.h"

#include <curses.h>

#include "ui/keys.h"

static const struct keys_binding keys_bindings[] = {
	{ 'q',		"q",	COMMAND_QUIT,
	    "quit (tells the tracker we stopped)" },
	{ 'p',		"p",	COMMAND_PAUSE,		"pause or resume" },
	{ 'r',		"r",	COMMAND_STRATEGY_NEXT,
	    "piece strategy: rarest, random, sequential" },
	{ 'U',		"U",	COMMAND_UP_MORE,
	    "upload limit: double (past 1 GiB/s: none)" },
	{ 'u',		"u",	COMMAND_UP_LESS,
	    "upload limit: halve (none: 1 MiB/s)" },
	{ 'D',		"D",	COMMAND_DOWN_MORE,	"download limit: double" },
	{ 'd',		"d",	COMMAND_DOWN_LESS,	"download limit: halve" },
	{ ' ',		"Space", COMMAND_FILE_TOGGLE,
	    "files pane: select or skip the file under the cursor" },
	{ '\t',		"Tab",	COMMAND_PANE_NEXT,	"next pane" },
	{ '1',		"1",	COMMAND_PANE_PEERS,	"peers pane" },
	{ '2',		"2",	COMMAND_PANE_PIECES,	"pieces pane" },
	{ '3',		"3",	COMMAND_PANE_FILES,	"files pane" },
	{ '4',		"4",	COMMAND_PANE_LOG,	"log pane" },
	{ KEY_UP,	"Up",	COMMAND_SCROLL_UP,	"scroll up" },
	{ 'k',		"k",	COMMAND_SCROLL_UP,	"scroll up" },
	{ KEY_DOWN,	"Down",	COMMAND_SCROLL_DOWN,	"scroll down" },
	{ 'j',		"j",	COMMAND_SCROLL_DOWN,	"scroll down" },
	{ KEY_PPAGE,	"PgUp",	COMMAND_PAGE_UP,	"page up" },
	{ KEY_NPAGE,	"PgDn",	COMMAND_PAGE_DOWN,	"page down" },
	{ 'a',		"a",	COMMAND_TOGGLE_AVAIL,
	    "piece map: show availability" },
	{ 's',		"s",	COMMAND_SORT,
	    "sort peers: down rate, up rate, address" },
	{ '?',		"?",	COMMAND_HELP,		"this help" },
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
