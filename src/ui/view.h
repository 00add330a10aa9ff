/*
 * view.h: the ncurses terminal view.  It reads struct torrent and
 * draws; it never does network or disk I/O and changes protocol state
 * only by returning commands (core/command.h) for the loop to execute,
 * the same commands the keys are bound to.
 *
 * Layout: a header (3 lines), the main pane (peers, pieces, files or log,
 * switched with Tab or 1-4), and a one-line status/key hint at the
 * bottom.  The help overlay ('?') is generated from the key table.
 * Windows smaller than VIEW_MIN_COLS x VIEW_MIN_ROWS show a one-line
 * notice instead.  Strings from torrents or peers are drawn escaped.
 */
#ifndef THR_UI_VIEW_H
#define THR_UI_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/command.h"
#include "core/torrent.h"

#define VIEW_MIN_COLS	40
#define VIEW_MIN_ROWS	10
#define VIEW_DRAW_MIN_MS	100	/* at most 10 redraws a second */
#define VIEW_DRAW_IDLE_MS	1000	/* rates change: redraw anyway */

enum view_pane {
	VIEW_PANE_PEERS,
	VIEW_PANE_PIECES,
	VIEW_PANE_FILES,
	VIEW_PANE_LOG,
	VIEW_NPANES,
};

struct view;	/* opaque: curses screen, pane, scroll, overlay */

/* What the terminal named by TERM can do for the view. */
enum view_term {
	VIEW_TERM_OK,		/* addresses the cursor: the view runs */
	VIEW_TERM_LIMITED,	/* known but cannot address the cursor
				 * (dumb, hardcopy, generic), or TERM
				 * unset: plain lines instead */
	VIEW_TERM_UNKNOWN,	/* no terminfo entry for it */
};

/*
 * Ask terminfo about term (the value of TERM, may be NULL) on the
 * terminal fd, before anything else is done: the answer decides between
 * the view and plain lines, or ends the run, while nothing exists yet.
 * Leaves no curses state behind.
 */
enum view_term	view_term_check(const char *term, int fd);

/*
 * Start curses on the given terminal streams (stdin/stdout normally; a
 * pty in tests).  Uses newterm, cbreak, noecho, keypad, nodelay, colours
 * when has_colors(), UTF-8 glyphs when the locale's codeset is UTF-8.
 * NULL on failure with a message in err.
 */
struct view	*view_new(FILE *in, FILE *out, struct thr_error *err);
/* Restore the terminal (endwin) and free.  Safe with NULL. */
void	view_free(struct view *v);
/* The terminal changed size (after SIGWINCH): re-read it and re-layout. */
void	view_resize(struct view *v);
/* For tests: set the size explicitly instead of asking the terminal. */
void	view_set_size(struct view *v, int cols, int rows);
/* Redraw everything from t. */
void	view_draw(struct view *v, const struct torrent *t, uint64_t now_ms);
/*
 * Redraw when something visible changed (force: the view itself, after
 * a key or a resize), at most VIEW_DRAW_MIN_MS apart, and at least every
 * VIEW_DRAW_IDLE_MS while the rates move.  Cheap to call on every loop
 * pass.
 */
void	view_update(struct view *v, const struct torrent *t, uint64_t now_ms,
	    bool force);
/* Milliseconds until view_update may draw again. */
uint64_t	view_wait_ms(const struct view *v, uint64_t now_ms);
/*
 * Read every pending key (non-blocking).  View-local keys (panes,
 * scrolling, availability toggle, help) are handled here; the first key
 * that needs the state changed is returned as its command, COMMAND_NONE
 * otherwise.  *dirty is set when a redraw is needed.
 */
enum command_id	view_keys(struct view *v, bool *dirty);
/* The cell text at (row, col) of the last drawn screen, for tests:
 * writes up to len-1 bytes of UTF-8 of the row into out. */
void	view_row_text(struct view *v, int row, char *out, size_t len);
enum view_pane	view_current_pane(const struct view *v);
/* The file under the files pane's cursor (0-based): the argument of
 * COMMAND_FILE_TOGGLE. */
uint32_t	view_selected_file(const struct view *v);

#endif
