/*
 * view.c: the curses screen, the layout and the keys.
 *
 * Data model: the view keeps only what is its own (which pane is shown,
 * one scroll offset per pane, the availability toggle, the peers sort
 * order, whether help is open) and redraws every region from the const
 * state on each view_draw: nothing is cached between frames, so a frame
 * can never show a stale mix.  Rows, top to bottom: the header (3), the
 * pane tabs (1), the main pane, the key hints (1).
 *
 * Scroll offsets: for the peers, pieces and files panes the offset is
 * the first row shown; for the log pane it is how many lines back from
 * the newest, so new lines keep showing while it is 0.  Panes clamp the
 * offsets when they draw, since only they know how many rows they have.
 *
 * Drawing is erase() + draw + wnoutrefresh() + doupdate(), which lets
 * curses send only the changed cells (no flicker); clear() is used once
 * after a resize so that no garbage of the old size survives.
 */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <term.h>
#include <langinfo.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <wchar.h>

#include "core/escape.h"
#include "ui/bar.h"
#include "ui/draw.h"
#include "ui/keys.h"
#include "ui/view.h"

#define VIEW_HEADER_ROWS	3
#define VIEW_TAB_ROW		3
#define VIEW_PANE_TOP		4
/* Header + tabs + hints. */
#define VIEW_CHROME_ROWS	5

static const char *const view_pane_names[VIEW_NPANES] = {
	N_("peers"), N_("pieces"), N_("files"), N_("log")
};

enum view_term
view_term_check(const char *term, int fd)
{
	TERMINAL *saved = cur_term;
	enum view_term r = VIEW_TERM_OK;
	const char *cup;
	int err = 0;

	if (term == NULL || *term == '\0')
		return VIEW_TERM_LIMITED;
	/* setupterm would fall back to the environment for NULL; a
	 * definite name is asked for and the result thrown away. */
	if (setupterm(term, fd, &err) != OK)
		return VIEW_TERM_UNKNOWN;
	cup = tigetstr("cup");
	/* Without cursor addressing curses can only draw one line after
	 * another, which garbles a full-screen view. */
	if (cup == NULL || cup == (const char *)-1 || tigetflag("hc") > 0 ||
	    tigetflag("gn") > 0)
		r = VIEW_TERM_LIMITED;
	del_curterm(cur_term);
	set_curterm(saved);
	return r;
}

static void
view_read_size(struct view *v)
{
	v->cols = COLS;
	v->rows = LINES;
}

struct view *
view_new(FILE *in, FILE *out, struct thr_error *err)
{
	struct view *v;
	const char *cs;

	v = calloc(1, sizeof(*v));
	if (v == NULL) {
		thr_error_set(err, THR_ENOMEM, 0, "%s", _("out of memory"));
		return NULL;
	}
	v->in = in;
	v->out = out;
	v->scr = newterm(NULL, out, in);
	if (v->scr == NULL) {
		thr_error_set(err, THR_EIO, 0,
		    _("cannot start the terminal view (TERM=%s)"),
		    getenv("TERM") ? getenv("TERM") : "unset");
		free(v);
		return NULL;
	}
	set_term(v->scr);
	cs = nl_langinfo(CODESET);
	v->utf8 = cs != NULL && (strcmp(cs, "UTF-8") == 0 ||
	    strcmp(cs, "utf8") == 0);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	draw_colours(v);
	view_read_size(v);
	v->need_clear = true;
	return v;
}

void
view_free(struct view *v)
{
	if (v == NULL)
		return;
	set_term(v->scr);
	curs_set(1);
	endwin();
	delscreen(v->scr);
	free(v);
}

void
view_resize(struct view *v)
{
	struct winsize ws;

	set_term(v->scr);
	if (ioctl(fileno(v->out), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resize_term(ws.ws_row, ws.ws_col);
	else {
		/* No size from the fd: let curses ask the terminal. */
		endwin();
		refresh();
	}
	view_read_size(v);
	v->need_clear = true;
}

void
view_set_size(struct view *v, int cols, int rows)
{
	set_term(v->scr);
	resize_term(rows, cols);
	view_read_size(v);
	v->need_clear = true;
}

uint32_t
view_selected_file(const struct view *v)
{
	return v->file_cursor < 0 ? 0 : (uint32_t)v->file_cursor;
}

enum view_pane
view_current_pane(const struct view *v)
{
	return v->pane;
}

static void
view_tabs(struct view *v, const struct torrent *t)
{
	char label[32];
	int x = 0, p, w;

	for (p = 0; p < VIEW_NPANES; p++) {
		snprintf(label, sizeof(label), " %d %s ", p + 1,
		    _(view_pane_names[p]));
		x += draw_text(v, VIEW_TAB_ROW, x, v->cols - x, label,
		    draw_attr(v, (enum view_pane)p == v->pane ? ROLE_TAB :
		    ROLE_DIM));
		x++;
	}
	if (v->pane == VIEW_PANE_PIECES) {
		/* The map's legend; cells hold ranges when the pieces
		 * outnumber the pane's cells. */
		if (v->avail)
			x += 1 + draw_text(v, VIEW_TAB_ROW, x + 1,
			    v->cols - x - 1, _("[availability]"),
			    draw_attr(v, ROLE_DIM));
		w = v->cols - x - 1;
		draw_pieces_legend(v, VIEW_TAB_ROW, x + 1, w,
		    (uint64_t)t->mi.npieces > (uint64_t)v->cols *
		    (uint64_t)(v->rows > VIEW_CHROME_ROWS ? v->rows -
		    VIEW_CHROME_ROWS : 1));
	} else if (v->pane == VIEW_PANE_PEERS)
		draw_text(v, VIEW_TAB_ROW, x + 1, v->cols - x - 1,
		    v->sort == DRAW_SORT_DOWN ? _("[by down rate]") :
		    v->sort == DRAW_SORT_UP ? _("[by up rate]") :
		    _("[by address]"),
		    draw_attr(v, ROLE_DIM));
}

/*
 * A notice in whatever room there is: words wrapped over the rows, so
 * that "window too small (need 40x10)" reads whole at 20x5 instead of
 * stopping at "window too small (ne".  A word wider than the window is
 * cut; rows beyond the window are dropped.
 */
static void
view_notice(struct view *v, const char *text, attr_t a)
{
	char line[DRAW_LINE_MAX];
	const char *p = text;
	size_t used = 0, n;
	int y = 0;

	line[0] = '\0';
	while (*p != '\0' && y < v->rows) {
		n = strcspn(p, " ");
		if (used + 1 + n >= sizeof(line))
			n = sizeof(line) - used - 2;
		/* Try the word on this line; move it to the next if the
		 * line then overflows (a line never starts empty). */
		if (used > 0)
			line[used] = ' ';
		memcpy(line + used + (used > 0), p, n);
		line[used + (used > 0) + n] = '\0';
		if (used > 0 && draw_width(v, line) > v->cols) {
			line[used] = '\0';
			draw_text(v, y++, 0, v->cols, line, a);
			memmove(line, p, n);
			line[n] = '\0';
			used = n;
		} else
			used += (used > 0) + n;
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	if (used > 0 && y < v->rows)
		draw_text(v, y, 0, v->cols, line, a);
}

void
view_draw(struct view *v, const struct torrent *t, uint64_t now_ms)
{
	int top = VIEW_PANE_TOP, height;

	set_term(v->scr);
	if (v->need_clear) {
		clear();
		v->need_clear = false;
	} else
		erase();
	if (v->cols < VIEW_MIN_COLS || v->rows < VIEW_MIN_ROWS) {
		view_notice(v, _("window too small (need 40x10)"),
		    draw_attr(v, ROLE_WARN));
		goto out;
	}
	height = v->rows - VIEW_CHROME_ROWS;
	v->page = height;
	draw_header(v, t, now_ms);
	view_tabs(v, t);
	switch (v->pane) {
	case VIEW_PANE_PEERS:
		draw_peers(v, t, now_ms, top, height);
		break;
	case VIEW_PANE_PIECES:
		draw_pieces(v, t, top, height);
		break;
	case VIEW_PANE_FILES:
		draw_files(v, t, top, height);
		break;
	case VIEW_PANE_LOG:
	default:
		draw_log(v, t, top, height);
		break;
	}
	draw_text(v, v->rows - 1, 0, v->cols,
	    _("q quit  p pause  Tab pane  ? help"), draw_attr(v, ROLE_DIM));
	if (v->help)
		draw_help(v);
out:
	wnoutrefresh(stdscr);
	doupdate();
}

/* Apply a view-only command.  The log pane scrolls backwards in time. */
static void
view_command(struct view *v, enum command_id id)
{
	int dir = v->pane == VIEW_PANE_LOG ? -1 : 1;
	int page = v->page > 1 ? v->page - 1 : 1;

	switch (id) {
	case COMMAND_PANE_NEXT:
		v->pane = (enum view_pane)((v->pane + 1) % VIEW_NPANES);
		break;
	case COMMAND_PANE_PEERS:
		v->pane = VIEW_PANE_PEERS;
		break;
	case COMMAND_PANE_PIECES:
		v->pane = VIEW_PANE_PIECES;
		break;
	case COMMAND_PANE_FILES:
		v->pane = VIEW_PANE_FILES;
		break;
	case COMMAND_PANE_LOG:
		v->pane = VIEW_PANE_LOG;
		break;
	case COMMAND_SCROLL_UP:
		if (v->pane == VIEW_PANE_FILES)
			v->file_cursor--;
		else
			v->scroll[v->pane] -= dir;
		break;
	case COMMAND_SCROLL_DOWN:
		if (v->pane == VIEW_PANE_FILES)
			v->file_cursor++;
		else
			v->scroll[v->pane] += dir;
		break;
	case COMMAND_PAGE_UP:
		v->scroll[v->pane] -= dir * page;
		break;
	case COMMAND_PAGE_DOWN:
		v->scroll[v->pane] += dir * page;
		break;
	case COMMAND_TOGGLE_AVAIL:
		v->avail = !v->avail;
		break;
	case COMMAND_SORT:
		v->sort = (enum draw_sort)((v->sort + 1) % DRAW_NSORTS);
		break;
	case COMMAND_HELP:
		v->help = true;
		break;
	default:
		break;
	}
	if (v->scroll[v->pane] < 0)
		v->scroll[v->pane] = 0;
}

enum command_id
view_keys(struct view *v, bool *dirty)
{
	enum command_id id;
	int c;

	set_term(v->scr);
	while ((c = getch()) != ERR) {
		if (c == KEY_RESIZE) {
			view_resize(v);
			*dirty = true;
			continue;
		}
		if (v->help) {
			/* Any key closes the overlay, and only closes it. */
			v->help = false;
			*dirty = true;
			continue;
		}
		id = keys_lookup(c);
		if (id == COMMAND_NONE)
			continue;
		*dirty = true;
		/* The file toggle acts on the files pane's cursor only. */
		if (id == COMMAND_FILE_TOGGLE && v->pane != VIEW_PANE_FILES)
			continue;
		if (command_changes_state(id))
			return id;
		view_command(v, id);
	}
	return COMMAND_NONE;
}

/* Trailing blanks are dropped, which is what tests compare against. */
void
view_row_text(struct view *v, int row, char *out, size_t len)
{
	wchar_t wbuf[DRAW_LINE_MAX + 1];
	char mb[MB_LEN_MAX];
	mbstate_t mbs;
	size_t o = 0, k, end = 0;
	int n, i;

	if (len == 0)
		return;
	out[0] = '\0';
	set_term(v->scr);
	if (row < 0 || row >= v->rows)
		return;
	n = mvwinnwstr(stdscr, row, 0, wbuf,
	    v->cols < DRAW_LINE_MAX ? v->cols : DRAW_LINE_MAX);
	if (n == ERR)
		return;
	memset(&mbs, 0, sizeof(mbs));
	for (i = 0; i < n && wbuf[i] != L'\0'; i++) {
		k = wcrtomb(mb, wbuf[i], &mbs);
		if (k == (size_t)-1) {
			memset(&mbs, 0, sizeof(mbs));
			mb[0] = '?';
			k = 1;
		}
		if (o + k >= len)
			break;
		memcpy(out + o, mb, k);
		o += k;
		if (wbuf[i] != L' ')
			end = o;
	}
	out[end] = '\0';
}

void
view_update(struct view *v, const struct torrent *t, uint64_t now_ms,
    bool force)
{
	uint64_t changes = t->changes + t->sess->changes;

	v->dirty |= force;
	if (now_ms - v->last_draw_ms < VIEW_DRAW_MIN_MS && v->last_draw_ms)
		return;
	if (!v->dirty && changes == v->drawn_changes &&
	    t->sess->log.seq == v->drawn_logs &&
	    now_ms - v->last_draw_ms < VIEW_DRAW_IDLE_MS)
		return;
	view_draw(v, t, now_ms);
	v->dirty = false;
	v->last_draw_ms = now_ms;
	v->drawn_changes = changes;
	v->drawn_logs = t->sess->log.seq;
}

uint64_t
view_wait_ms(const struct view *v, uint64_t now_ms)
{
	uint64_t due = v->last_draw_ms + (v->dirty ? VIEW_DRAW_MIN_MS :
	    VIEW_DRAW_IDLE_MS);

	return due > now_ms ? due - now_ms : 0;
}
