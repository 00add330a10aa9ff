/*
 * log.h: leveled log lines on a stream (stderr by default).  The logger
 * lives in the state struct; nothing here is global.  Lines look like
 * "thorrent: info: piece 3 verified".
 */
#ifndef THR_LOG_H
#define THR_LOG_H

#include <stdio.h>

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

struct log {
	enum log_level	 level;	/* lines above this level are dropped */
	FILE		*fp;	/* borrowed */
};

/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int	log_parse_level(const char *s);
void	log_msg(const struct log *l, enum log_level lv, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
