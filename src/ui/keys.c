/*
 * keys.c: the key bindings.  Order matters only for the help overlay,
 * which lists commands in the order they first appear here.
 */
#include "config.h"

#include <curses.h>

#include "core/i18n.h"
#include "ui/keys.h"

static const struct keys_binding keys_bindings[] = {
	{ 'q',		"q",	COMMAND_QUIT,
	    N_("quit (tells the tracker we stopped)") },
	{ 'p',		"p",	COMMAND_PAUSE,		N_("pause or resume") },
	{ 'r',		"r",	COMMAND_STRATEGY_NEXT,
	    N_("piece strategy: rarest, random, sequential") },
	{ 'U',		"U",	COMMAND_UP_MORE,
	    N_("upload limit: double (past 1 GiB/s: none)") },
	{ 'u',		"u",	COMMAND_UP_LESS,
	    N_("upload limit: halve (none: 1 MiB/s)") },
	{ 'D',		"D",	COMMAND_DOWN_MORE,
	    N_("download limit: double") },
	{ 'd',		"d",	COMMAND_DOWN_LESS,
	    N_("download limit: halve") },
	{ ' ',		"Space", COMMAND_FILE_TOGGLE,
	    N_("files pane: select or skip the file under the cursor") },
	{ '\t',		"Tab",	COMMAND_PANE_NEXT,	N_("next pane") },
	{ '1',		"1",	COMMAND_PANE_PEERS,	N_("peers pane") },
	{ '2',		"2",	COMMAND_PANE_PIECES,	N_("pieces pane") },
	{ '3',		"3",	COMMAND_PANE_FILES,	N_("files pane") },
	{ '4',		"4",	COMMAND_PANE_LOG,	N_("log pane") },
	{ KEY_UP,	"Up",	COMMAND_SCROLL_UP,	N_("scroll up") },
	{ 'k',		"k",	COMMAND_SCROLL_UP,	N_("scroll up") },
	{ KEY_DOWN,	"Down",	COMMAND_SCROLL_DOWN,	N_("scroll down") },
	{ 'j',		"j",	COMMAND_SCROLL_DOWN,	N_("scroll down") },
	{ KEY_PPAGE,	"PgUp",	COMMAND_PAGE_UP,	N_("page up") },
	{ KEY_NPAGE,	"PgDn",	COMMAND_PAGE_DOWN,	N_("page down") },
	{ 'a',		"a",	COMMAND_TOGGLE_AVAIL,
	    N_("piece map: show availability") },
	{ 's',		"s",	COMMAND_SORT,
	    N_("sort peers: down rate, up rate, address") },
	{ '?',		"?",	COMMAND_HELP,		N_("this help") },
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
