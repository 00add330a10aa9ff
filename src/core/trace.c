/*
 * trace.c: JSON Lines event trace.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "trace.h"

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int
trace_open(struct trace *t, const char *path, struct thr_error *err)
{
	memset(t, 0, sizeof(*t));
	t->fp = fopen(path, "we");
	if (t->fp == NULL)
		return thr_error_set(err, THR_EIO, 0, "cannot open trace %s: %s",
		    path, strerror(errno));
	/* Lines are flushed by the buffer, not one by one: the trace must
	 * not slow the loop.  trace_close flushes the rest. */
	setvbuf(t->fp, NULL, _IOFBF, 1 << 16);
	t->t0_us = now_us();
	return 0;
}

void
trace_close(struct trace *t)
{
	if (t->fp != NULL)
		fclose(t->fp);
	t->fp = NULL;
}

bool
trace_on(const struct trace *t)
{
	return t->fp != NULL;
}

void
trace_emit(struct trace *t, const char *ev, const char *fields, ...)
{
	va_list ap;

	if (t->fp == NULL)
		return;
	fprintf(t->fp, "{\"t\":%llu,\"ev\":\"%s\"",
	    (unsigned long long)(now_us() - t->t0_us), ev);
	if (fields != NULL) {
		fputc(',', t->fp);
		va_start(ap, fields);
		vfprintf(t->fp, fields, ap);
		va_end(ap);
	}
	fputs("}\n", t->fp);
	if (ferror(t->fp)) {
		t->failed = true;
		trace_close(t);
	}
}

const char *
trace_str(const char *s, char *out, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return out;
	for (; *s != '\0' && o + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f || c >= 0x80) {
			/* Non-ASCII bytes too: the trace stays valid JSON
			 * whatever a peer or tracker sent. */
			o += (size_t)snprintf(out + o, len - o, "\\u%04x", c);
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}
