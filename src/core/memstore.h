/*
 * memstore.h: a store (store.h) held in memory, for tests and the
 * simulator: the torrent's bytes in one buffer, the resume record in
 * another, and no file system at all.
 *
 *	struct memstore *m = memstore_new(payload, len, true);	a seed
 *	struct store_factory f = memstore_factory(m);	give to the session
 *	... the session opens it once, closes it at the end ...
 *	memstore_bytes(m, &len);	what was written, for checks
 *	memstore_free(m);
 *
 * The memstore outlives the stores opened on it: closing a store leaves
 * the bytes and the record in place, so a test can restart a session on
 * the same data.  MEMSTORE_MAX bounds the bytes.
 */
#ifndef THR_MEMSTORE_H
#define THR_MEMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define MEMSTORE_MAX	(256u << 20)	/* bytes held */

struct memstore;

/*
 * A memstore whose bytes start as data[0..len) (copied; data may be NULL
 * for zeros).  existed says whether those bytes count as data from
 * before the run (a seed's payload) or as holes (a fresh download).
 * NULL on THR_ENOMEM or when len exceeds MEMSTORE_MAX.
 */
struct memstore	*memstore_new(const uint8_t *data, size_t len, bool existed);
void	memstore_free(struct memstore *m);

/* The factory that opens stores on m (borrowed: m must outlive them).
 * Opening checks that the torrent's length is the memstore's. */
struct store_factory	memstore_factory(struct memstore *m);

/* The bytes now held (borrowed), their length in *len. */
const uint8_t	*memstore_bytes(const struct memstore *m, size_t *len);
/* Writes and reads done through stores, and the next write to fail
 * (0: none; tests of disk errors). */
uint64_t	memstore_writes(const struct memstore *m);
void	memstore_fail_write(struct memstore *m, uint64_t nth);

#endif
