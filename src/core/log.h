/*
 * log.h: leveled log lines.  Every line at or below the level goes into
 * a ring of the last LOG_RING lines (which the view's log pane shows)
 * and, when fp is set, to that stream as "thorrent: info: ...".  While
 * the terminal view runs, fp is NULL so that lines do not scribble over
 * the screen.  The logger lives in the state struct; nothing is global.
 */
#ifndef THR_LOG_H
#define THR_LOG_H

#include <stdint.h>

#define LOG_RING	256
#define LOG_LINE_MAX	200

/*
 * LOG_NOTE is for what the user did or must know although nothing is
 * wrong (a limit changed, seeding stopped at the ratio, a file skipped):
 * it is the default level, so the log pane and the line mode show it.
 */
enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_NOTE,
	LOG_INFO,
	LOG_DEBUG,
};

/* Where finished lines go besides the ring; write NULL: nowhere. */
struct log_sink {
	void	(*write)(void *ctx, enum log_level lv, const char *line);
	void	*ctx;
};

struct log {
	enum log_level	 level;	/* lines above this level are dropped */
	struct log_sink	 sink;
	char		 ring[LOG_RING][LOG_LINE_MAX];
	uint8_t		 ring_level[LOG_RING];
	uint32_t	 head;	/* next slot to write */
	uint32_t	 count;	/* lines held, <= LOG_RING */
	uint64_t	 seq;	/* lines ever logged: changes mean redraw */
};

/* "error", "warn", "note" (or "notice"), "info", "debug" -> level;
 * -1 if unknown. */
int	log_parse_level(const char *s);
const char *log_level_name(enum log_level lv);
void	log_msg(struct log *l, enum log_level lv, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Line i counted from the oldest held (i < count), or NULL.  The text
 * is raw (may hold bytes from the network): escape before drawing. */
const char *log_line(const struct log *l, uint32_t i, enum log_level *lv);

#endif
