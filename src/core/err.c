/*
 * err.c: error codes and the fixed-size error record.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int
thr_error_set(struct thr_error *err, int code, size_t offset,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *
thr_strerror(int code)
{
	switch (code) {
	case THR_OK:		return "success";
	case THR_EINVAL:	return "malformed input";
	case THR_EPROTO:	return "protocol violation";
	case THR_EIO:		return "input/output error";
	case THR_ENOMEM:	return "out of memory";
	case THR_ELIMIT:	return "limit exceeded";
	case THR_ENOENT:	return "not found";
	case THR_EAGAIN:	return "incomplete";
	case THR_EUNSAFE:	return "unsafe path";
	case THR_EBUSY:		return "in use by another process";
	}
	return "unknown error";
}
