/*
 * trace.c: JSON Lines event trace.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

void
trace_start(struct trace *t, const struct trace_sink *sink,
    const uint64_t *now_ms)
{
	memset(t, 0, sizeof(*t));
	t->sink = *sink;
	t->now_ms = now_ms;
	t->t0_ms = *now_ms;
}

void
trace_stop(struct trace *t)
{
	t->sink.write = NULL;
}

bool
trace_on(const struct trace *t)
{
	return t->sink.write != NULL;
}

bool
trace_failed(const struct trace *t)
{
	return t->failed;
}

void
trace_emit(struct trace *t, const char *ev, const char *fields, ...)
{
	char line[TRACE_LINE_MAX];
	uint64_t us;
	va_list ap;
	int n, m = 0;

	if (t->sink.write == NULL)
		return;
	us = (*t->now_ms - t->t0_ms) * 1000;
	n = snprintf(line, sizeof(line), "{\"t\":%llu,\"ev\":\"%s\"",
	    (unsigned long long)us, ev);
	if (fields != NULL && n > 0 && (size_t)n < sizeof(line) - 1) {
		line[n++] = ',';
		va_start(ap, fields);
		m = vsnprintf(line + n, sizeof(line) - (size_t)n, fields, ap);
		va_end(ap);
	}
	if (n < 0 || m < 0 || (size_t)n + (size_t)m + 2 >= sizeof(line))
		n = snprintf(line, sizeof(line), "{\"t\":%llu,"
		    "\"ev\":\"trace_overflow\",\"of\":\"%s\"",
		    (unsigned long long)us, ev);
	else
		n += m;
	line[n++] = '}';
	line[n++] = '\n';
	if (t->sink.write(t->sink.ctx, line, (size_t)n) != 0) {
		t->failed = true;
		trace_stop(t);
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
