/*
 * test_reorder.c: the reorder store (core/reorder.h) on its own, and how
 * a torrent's intake (core/intake.h, driven through core/torrent.h over
 * the disk store of net/storage.h) stores blocks: early blocks hashed
 * from memory, adjacent blocks written together (one writev per run), a
 * full store falling back to reading back from disk, and a failed write
 * giving the piece up.
 */
#include "config.h"

#include <sys/uio.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/reorder.h"
#include "core/session.h"
#include "core/store.h"
#include "core/torrent.h"
#include "core/wire.h"
#include "fixture.h"

/* --- the store ---------------------------------------------------------- */

static uint8_t	 blk_a[REORDER_BLOCK], blk_b[REORDER_BLOCK];

static void
fill_blocks(void)
{
	memset(blk_a, 0xa5, sizeof(blk_a));
	memset(blk_b, 0x5a, sizeof(blk_b));
}

Test(reorder, put_get_forget)
{
	struct reorder r;
	const uint8_t *got;

	fill_blocks();
	reorder_init(&r);
	cr_assert_null(reorder_get(&r, 1, 0, REORDER_BLOCK), "empty");
	cr_assert_null(r.mem, "nothing allocated before the first put");
	cr_assert(reorder_put(&r, 1, 16384, blk_a, REORDER_BLOCK));
	cr_assert(reorder_put(&r, 2, 0, blk_b, 100));
	cr_assert_eq(r.used, 2);
	got = reorder_get(&r, 1, 16384, REORDER_BLOCK);
	cr_assert_not_null(got);
	cr_assert_eq(memcmp(got, blk_a, REORDER_BLOCK), 0);
	cr_assert_null(reorder_get(&r, 2, 0, 99), "the length must match");
	got = reorder_get(&r, 2, 0, 100);
	cr_assert_not_null(got);
	cr_assert_eq(memcmp(got, blk_b, 100), 0);
	reorder_forget(&r, 1, 16384);
	cr_assert_null(reorder_get(&r, 1, 16384, REORDER_BLOCK));
	reorder_forget(&r, 1, 16384);	/* twice is harmless */
	cr_assert_eq(r.used, 1);
	cr_assert_eq(r.kept, 2);
	reorder_release(&r);
	cr_assert_null(r.mem);
}

Test(reorder, same_block_replaced_not_duplicated)
{
	struct reorder r;

	fill_blocks();
	reorder_init(&r);
	cr_assert(reorder_put(&r, 3, 0, blk_a, 64));
	cr_assert(reorder_put(&r, 3, 0, blk_b, 64));
	cr_assert_eq(r.used, 1);
	cr_assert_eq(memcmp(reorder_get(&r, 3, 0, 64), blk_b, 64), 0);
	reorder_release(&r);
}

Test(reorder, full_store_turns_blocks_away)
{
	struct reorder r;

	fill_blocks();
	reorder_init(&r);
	for (uint32_t i = 0; i < REORDER_SLOTS; i++)
		cr_assert(reorder_put(&r, i / 4, (i % 4) * 16384, blk_a, 16));
	cr_assert_eq(r.used, REORDER_SLOTS);
	cr_assert_not(reorder_put(&r, 999, 0, blk_b, 16), "full");
	cr_assert_eq(r.missed, 1);
	/* Too long or empty: refused whatever the room. */
	reorder_forget(&r, 0, 0);
	cr_assert_not(reorder_put(&r, 999, 0, blk_b, REORDER_BLOCK + 1));
	cr_assert_not(reorder_put(&r, 999, 0, blk_b, 0));
	cr_assert_eq(r.missed, 3);
	/* A freed slot is used again. */
	cr_assert(reorder_put(&r, 999, 0, blk_b, 16));
	cr_assert_eq(r.used, REORDER_SLOTS);
	reorder_release(&r);
}

Test(reorder, forget_piece_frees_only_that_piece)
{
	struct reorder r;

	fill_blocks();
	reorder_init(&r);
	for (uint32_t b = 0; b < 4; b++) {
		cr_assert(reorder_put(&r, 7, b * 16384, blk_a, 16));
		cr_assert(reorder_put(&r, 8, b * 16384, blk_b, 16));
	}
	reorder_forget_piece(&r, 7);
	cr_assert_eq(r.used, 4);
	for (uint32_t b = 0; b < 4; b++) {
		cr_assert_null(reorder_get(&r, 7, b * 16384, 16));
		cr_assert_not_null(reorder_get(&r, 8, b * 16384, 16));
	}
	reorder_release(&r);
}

/* --- the session: pieces of four blocks --------------------------------- */

#define PLEN	65536u
#define TOTAL	(150000u + 112144u)	/* four whole pieces */
#define NPIECES	((TOTAL + PLEN - 1) / PLEN)
#define NOW	1000000u

static const struct fixture_file files[] = {
	{ { "a.bin", NULL }, 150000, 0 },
	{ { "b.bin", NULL }, 112144, 150000 },
};
static const uint8_t their_id[20] = "-XX0001-reorderpeer1";
static char	 root[FIXTURE_ROOT_LEN];
static char	 dl[FIXTURE_PATH_LEN];
static char	 torrent[FIXTURE_PATH_LEN];
static uint8_t	 payload[TOTAL];
static const struct fixture fx = FIXTURE_OVER(files, PLEN, payload, root, dl,
    torrent);

static void
fx_init(void)
{
	fixture_init(&fx, "/tmp/thr-reorder-XXXXXX", 7);
	fixture_make_dirs(&fx);
	fixture_write_torrent(&fx);
}

static void
fx_fini(void)
{
	fixture_fini(&fx);
}

/* A downloading torrent and one seed peer that unchoked us; the peer's
 * first requests are in p->reqs. */
static struct peer *
session(struct fixture_run *r)
{
	struct thr_addr a = fixture_addr4(127, 2, 6881);
	struct torrent *t;
	struct peer *p;

	fixture_opts(&fx, r);
	fixture_start(r, NOW);
	t = r->t;
	fixture_check(t, NOW);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	p = fixture_handshake(t, &a, t->mi.info_hash, their_id, NOW);
	fixture_put_bitfield(&p->in, NPIECES, true, 0);
	cr_assert_eq(wire_put_simple(&p->in, WIRE_UNCHOKE), 0);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert_geq(p->nreqs, 4, "a whole piece asked for");
	return p;
}

/* The first piece the peer was asked for, all of whose blocks it was
 * asked for. */
static uint32_t
first_piece(const struct peer *p)
{
	uint32_t idx = p->reqs[0].index, n = 0;

	for (uint32_t i = 0; i < p->nreqs; i++)
		if (p->reqs[i].index == idx)
			n++;
	cr_assert_eq(n, 4, "the peer's first piece is all its own");
	return idx;
}

/* Append block blk (of four) of piece idx to the peer's input. */
static void
put_blk(struct peer *p, uint32_t idx, uint32_t blk, const uint8_t *data)
{
	uint32_t begin = blk * WIRE_BLOCK;

	fixture_put_block(&p->in, idx, begin,
	    data + (uint64_t)idx * PLEN + begin, WIRE_BLOCK);
}

static void
assert_on_disk(uint32_t idx)
{
	char path[FIXTURE_PATH_LEN + 16];
	uint8_t back[PLEN];
	uint64_t off = (uint64_t)idx * PLEN, got = 0;

	for (size_t f = 0; f < 2 && got < PLEN; f++) {
		uint64_t lo = off + got, n;
		int fd;

		if (lo < files[f].offset ||
		    lo >= files[f].offset + files[f].length)
			continue;
		n = files[f].offset + files[f].length - lo;
		if (n > PLEN - got)
			n = PLEN - got;
		fixture_file_path(&fx, f, path, sizeof(path));
		cr_assert_geq(fd = open(path, O_RDONLY), 0, "%s", path);
		cr_assert_eq(pread(fd, back + got, n,
		    (off_t)(lo - files[f].offset)), (ssize_t)n);
		close(fd);
		got += n;
	}
	cr_assert_eq(memcmp(back, payload + off, PLEN), 0, "piece %u", idx);
}

/*
 * Make the torrent's store fail every write as a full disk does
 * (ENOSPC): its own operations copied into full, writev replaced.
 * Returns the real operations, to be put back before the store closes.
 */
static int
full_writev(void *ctx, uint64_t off, const struct iovec *iov, int iovcnt)
{
	(void)ctx;
	(void)off;
	(void)iov;
	(void)iovcnt;
	errno = ENOSPC;
	return THR_EIO;
}

static const struct store_ops *
make_disk_full(struct torrent *t, struct store_ops *full)
{
	const struct store_ops *real = t->st.ops;

	cr_assert_not_null(real);
	*full = *real;
	full->writev = full_writev;
	t->st.ops = full;
	return real;
}

TestSuite(blockio, .init = fx_init, .fini = fx_fini);

/* Blocks of one piece in the order 3, 1, 2, 0 in one read: the three
 * early ones are kept and hashed from memory, the piece verifies. */
Test(blockio, early_blocks_hashed_from_memory)
{
	struct fixture_run r;
	struct peer *p = session(&r);
	struct torrent *t = r.t;
	uint32_t idx = first_piece(p);
	static const uint32_t order[] = { 3, 1, 2, 0 };

	for (size_t k = 0; k < 4; k++)
		put_blk(p, idx, order[k], payload);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert(bitfield_get(&t->have, idx));
	cr_assert_eq(t->hash_fails, 0);
	cr_assert_eq(t->in.ro.kept, 3);
	cr_assert_eq(t->in.ro.missed, 0);
	cr_assert_eq(t->in.ro.used, 0, "every kept block was used and freed");
	cr_assert_eq(t->in.wb.n, 0, "nothing left unwritten");
	assert_on_disk(idx);
	fixture_stop(&r);
}

/* The same across reads: the early block waits in memory between them. */
Test(blockio, early_block_waits_across_reads)
{
	struct fixture_run r;
	struct peer *p = session(&r);
	struct torrent *t = r.t;
	uint32_t idx = first_piece(p);

	put_blk(p, idx, 2, payload);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert_eq(t->in.ro.used, 1);
	cr_assert_eq(t->in.wb.n, 0, "written at the end of the read");
	put_blk(p, idx, 0, payload);
	put_blk(p, idx, 1, payload);
	torrent_peer_input(t, p, NOW + 30);
	cr_assert_not(bitfield_get(&t->have, idx));
	put_blk(p, idx, 3, payload);
	torrent_peer_input(t, p, NOW + 40);
	cr_assert(bitfield_get(&t->have, idx));
	cr_assert_eq(t->in.ro.used, 0);
	assert_on_disk(idx);
	fixture_stop(&r);
}

/* With the store full, early blocks are read back from disk instead:
 * slower, same result. */
Test(blockio, full_store_reads_back)
{
	struct fixture_run r;
	struct peer *p = session(&r);
	struct torrent *t = r.t;
	uint32_t idx = first_piece(p);
	uint8_t junk[16] = { 0 };

	for (uint32_t i = 0; i < REORDER_SLOTS; i++)
		cr_assert(reorder_put(&t->in.ro, 100000 + i, 0, junk, 16));
	put_blk(p, idx, 1, payload);
	put_blk(p, idx, 3, payload);
	put_blk(p, idx, 2, payload);
	put_blk(p, idx, 0, payload);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert(bitfield_get(&t->have, idx));
	cr_assert_eq(t->hash_fails, 0);
	cr_assert_eq(t->in.ro.missed, 3);
	assert_on_disk(idx);
	fixture_stop(&r);
}

/* Bad data in an early block is caught like any other. */
Test(blockio, early_bad_block_fails_the_piece)
{
	struct fixture_run r;
	struct peer *p = session(&r);
	struct torrent *t = r.t;
	uint32_t idx = first_piece(p);
	static uint8_t bad[TOTAL];

	memcpy(bad, payload, TOTAL);
	bad[(uint64_t)idx * PLEN + 3 * WIRE_BLOCK + 9] ^= 1;
	put_blk(p, idx, 3, bad);
	put_blk(p, idx, 0, bad);
	put_blk(p, idx, 1, bad);
	put_blk(p, idx, 2, bad);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert_not(bitfield_get(&t->have, idx));
	cr_assert_eq(t->hash_fails, 1);
	cr_assert_eq(t->in.ro.used, 0, "the failed piece's blocks are dropped");
	fixture_stop(&r);
}

/* A write that fails (here the store's writev says the disk is full)
 * gives the piece up and pauses; nothing is counted as had. */
Test(blockio, failed_write_gives_the_piece_up)
{
	struct fixture_run r;
	struct peer *p = session(&r);
	struct torrent *t = r.t;
	uint32_t idx = first_piece(p);
	struct store_ops full;
	const struct store_ops *real = make_disk_full(t, &full);

	for (uint32_t b = 0; b < 4; b++)
		put_blk(p, idx, b, payload);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert_not(bitfield_get(&t->have, idx));
	cr_assert_eq(t->pk.state[idx], PICKER_MISSING);
	cr_assert(t->paused, "the download pauses on a write error");
	cr_assert_eq(t->in.wb.n, 0);
	cr_assert_eq(t->in.ro.used, 0);
	t->st.ops = real;
	fixture_stop(&r);
}
