/*
 * log.c: leveled log lines.
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "log.h"

static const char *const log_names[] = { "error", "warn", "info", "debug" };

int
log_parse_level(const char *s)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcmp(s, log_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "warning") == 0)
		return LOG_WARN;
	return -1;
}

void
log_msg(const struct log *l, enum log_level lv, const char *fmt, ...)
{
	va_list ap;

	if (l == NULL || l->fp == NULL || lv > l->level)
		return;
	fprintf(l->fp, "thorrent: %s: ", log_names[lv]);
	va_start(ap, fmt);
	vfprintf(l->fp, fmt, ap);
	va_end(ap);
	fputc('\n', l->fp);
	fflush(l->fp);
}
