/*
 * log.c: leveled log lines with a ring of recent ones.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *const log_names[] = {
	"error", "warn", "note", "info", "debug"
};

int
log_parse_level(const char *s)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(s, log_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "warning") == 0)
		return LOG_WARN;
	if (strcmp(s, "notice") == 0)
		return LOG_NOTE;
	return -1;
}

const char *
log_level_name(enum log_level lv)
{
	return (unsigned)lv < sizeof(log_names) / sizeof(log_names[0]) ?
	    log_names[lv] : "?";
}

void
log_msg(struct log *l, enum log_level lv, const char *fmt, ...)
{
	va_list ap;
	char *slot;

	if (l == NULL || lv > l->level)
		return;
	slot = l->ring[l->head];
	va_start(ap, fmt);
	vsnprintf(slot, LOG_LINE_MAX, fmt, ap);
	va_end(ap);
	l->ring_level[l->head] = (uint8_t)lv;
	l->head = (l->head + 1) % LOG_RING;
	if (l->count < LOG_RING)
		l->count++;
	l->seq++;
	if (l->sink.write != NULL)
		l->sink.write(l->sink.ctx, lv, slot);
}

const char *
log_line(const struct log *l, uint32_t i, enum log_level *lv)
{
	uint32_t at;

	if (i >= l->count)
		return NULL;
	at = (l->head + LOG_RING - l->count + i) % LOG_RING;
	if (lv != NULL)
		*lv = (enum log_level)l->ring_level[at];
	return l->ring[at];
}
