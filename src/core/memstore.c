/*
 * memstore.c: a store in memory.  See memstore.h.
 *
 * Data model: one buffer of the torrent's length, one for the resume
 * record, and a write counter.  A memstore has no files, so a stamp is
 * the same for every file: the number of writes so far, which changes
 * whenever data does, as a modification time would.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "memstore.h"
#include "xalloc.h"

struct memstore {
	uint8_t		*data;		/* owned, len bytes */
	size_t		 len;
	bool		 existed;
	struct buf	 record;
	bool		 has_record;
	uint64_t	 writes;
	uint64_t	 fail_at;	/* 0: never */
};

struct memstore *
memstore_new(const uint8_t *data, size_t len, bool existed)
{
	struct memstore *m;

	if (len > MEMSTORE_MAX || (m = thr_calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->data = thr_calloc(len ? len : 1, 1)) == NULL) {
		free(m);
		return NULL;
	}
	if (data != NULL)
		memcpy(m->data, data, len);
	m->len = len;
	m->existed = existed;
	buf_init(&m->record, 1u << 20);
	return m;
}

void
memstore_free(struct memstore *m)
{
	if (m == NULL)
		return;
	buf_release(&m->record);
	free(m->data);
	free(m);
}

const uint8_t *
memstore_bytes(const struct memstore *m, size_t *len)
{
	*len = m->len;
	return m->data;
}

uint64_t
memstore_writes(const struct memstore *m)
{
	return m->writes;
}

void
memstore_fail_write(struct memstore *m, uint64_t nth)
{
	m->fail_at = nth;
}

static bool
mem_inside(const struct memstore *m, uint64_t off, uint64_t len)
{
	return off <= m->len && len <= m->len - off;
}

static int
mem_read(void *ctx, uint64_t off, uint8_t *p, size_t len)
{
	struct memstore *m = ctx;

	if (!mem_inside(m, off, len))
		return THR_EIO;
	memcpy(p, m->data + off, len);
	return 0;
}

static int
mem_writev(void *ctx, uint64_t off, const struct iovec *iov, int iovcnt)
{
	struct memstore *m = ctx;

	if (iovcnt < 0 || iovcnt > STORE_IOV_MAX)
		return THR_EINVAL;
	if (++m->writes == m->fail_at) {
		errno = ENOSPC;
		return THR_EIO;
	}
	for (int i = 0; i < iovcnt; i++) {
		if (!mem_inside(m, off, iov[i].iov_len)) {
			errno = EFBIG;
			return THR_EIO;
		}
		memcpy(m->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return 0;
}

static bool
mem_existed(void *ctx, uint64_t off, uint64_t len)
{
	struct memstore *m = ctx;

	return m->existed && mem_inside(m, off, len);
}

static int
mem_stamp(void *ctx, size_t i, int64_t *size, int64_t *mtime_ns)
{
	struct memstore *m = ctx;

	(void)i;
	*size = (int64_t)m->len;
	*mtime_ns = (int64_t)m->writes;
	return 0;
}

static int
mem_record_load(void *ctx, size_t max, struct buf *out,
    struct thr_error *err)
{
	struct memstore *m = ctx;

	if (!m->has_record)
		return THR_ENOENT;
	if (m->record.len > max)
		return thr_error_set(err, THR_ELIMIT, 0, "record too large");
	if (buf_append(out, m->record.data, m->record.len) != 0)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	return 0;
}

static int
mem_record_save(void *ctx, const void *data, size_t len,
    struct thr_error *err)
{
	struct memstore *m = ctx;

	buf_reset(&m->record);
	if (buf_append(&m->record, data, len) != 0) {
		m->has_record = false;
		return thr_error_set(err, THR_EIO, 0, "record too large");
	}
	m->has_record = true;
	return 0;
}

static void
mem_close(void *ctx)
{
	(void)ctx;	/* the memstore outlives its stores */
}

static const struct store_ops memstore_ops = {
	.read = mem_read,
	.writev = mem_writev,
	.existed = mem_existed,
	.stamp = mem_stamp,
	.record_load = mem_record_load,
	.record_save = mem_record_save,
	.close = mem_close,
};

static int
mem_open(void *ctx, const struct metainfo *mi, const uint8_t *wanted,
    struct store *out, struct thr_error *err)
{
	struct memstore *m = ctx;

	(void)wanted;
	if (mi->total_length != m->len)
		return thr_error_set(err, THR_EINVAL, 0, "the memory store "
		    "holds %zu bytes, the torrent %llu", m->len,
		    (unsigned long long)mi->total_length);
	out->ops = &memstore_ops;
	out->ctx = m;
	return 0;
}

static int
mem_record(void *ctx, const struct metainfo *mi, size_t max,
    struct buf *out, struct thr_error *err)
{
	(void)mi;
	return mem_record_load(ctx, max, out, err);
}

struct store_factory
memstore_factory(struct memstore *m)
{
	struct store_factory f = { mem_open, NULL, mem_record, m };

	return f;
}
