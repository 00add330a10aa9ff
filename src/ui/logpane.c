/*
 * logpane.c: the last lines of the log ring that fit, newest at the
 * bottom, coloured by level.  Lines may hold bytes from the network and
 * are drawn escaped.  The pane's scroll offset counts lines back from
 * the newest.
 */
#include "config.h"

#include <stdio.h>

#include "ui/draw.h"

static enum draw_role
logpane_role(enum log_level lv)
{
	switch (lv) {
	case LOG_ERROR:	return ROLE_ERROR;
	case LOG_WARN:	return ROLE_WARN;
	case LOG_DEBUG:	return ROLE_DEBUG;
	case LOG_INFO:
	default:	return ROLE_INFO;
	}
}

void
draw_log(struct view *v, const struct torrent *t, int top, int height)
{
	enum log_level lv;
	const char *line;
	uint32_t count = t->sess->log.count, first;
	int back, shown, y;

	if (count == 0) {
		draw_text(v, top, 0, v->cols, _("no log lines yet"),
		    draw_attr(v, ROLE_DIM));
		return;
	}
	back = draw_clamp(&v->scroll[VIEW_PANE_LOG], (int)count, height);
	shown = (int)count - back < height ? (int)count - back : height;
	first = count - (uint32_t)back - (uint32_t)shown;
	/* Fewer lines than rows: keep the newest at the bottom. */
	for (y = 0; y < shown; y++) {
		line = log_line(&t->sess->log, first + (uint32_t)y, &lv);
		if (line == NULL)
			break;
		draw_untrusted(v, top + height - shown + y, 0, v->cols, line,
		    draw_attr(v, logpane_role(lv)));
	}
}
