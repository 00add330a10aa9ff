/*
 * fixture.h: a small multi-file torrent on disk, for the unit suites
 * that drive a session and its torrent (core/session.h, core/torrent.h)
 * without sockets, over the disk store (net/storage.h) as a run has it:
 * test_torrent.c, test_choker.c, test_selection.c and others.
 *
 * A suite describes its payload layout with a table of struct
 * fixture_file (each file's path inside the torrent directory "pay",
 * length and offset in the torrent) and lends the fixture its storage:
 * the root, dl and torrent path buffers and the payload bytes are the
 * suite's own (file-static) arrays, and struct fixture only borrows
 * them, so a suite's tests keep naming them directly.  Nothing here
 * allocates anything a caller must free; fixture_fini removes the
 * temporary directory and all below it.
 *
 * Every helper checks its work with Criterion assertions, so a failure
 * ends the test that called it, with the reason.
 */
#ifndef THR_TESTS_UNIT_FIXTURE_H
#define THR_TESTS_UNIT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/session.h"
#include "core/torrent.h"
#include "net/storage.h"

#define FIXTURE_ROOT_LEN	64	/* size of the root buffer */
#define FIXTURE_PATH_LEN	128	/* size of the dl and torrent buffers */
#define FIXTURE_MAX_PIECES	256	/* bound on fixture_put_bitfield */

struct fixture_file {
	const char	*comp[2];	/* path inside "pay", NULL-ended */
	uint64_t	 length;
	uint64_t	 offset;
};

struct fixture {
	const struct fixture_file *files;	/* borrowed, nfiles long */
	size_t		 nfiles;
	uint32_t	 plen;		/* piece length */
	uint64_t	 total;		/* sum of the file lengths */
	uint8_t		*payload;	/* borrowed, total bytes */
	char		*root;		/* borrowed, FIXTURE_ROOT_LEN */
	char		*dl;		/* borrowed, FIXTURE_PATH_LEN */
	char		*torrent;	/* borrowed, FIXTURE_PATH_LEN */
};

/* A struct fixture over a suite's own arrays, for a static initializer. */
#define FIXTURE_OVER(files_, plen_, payload_, root_, dl_, torrent_)	\
	{ (files_), sizeof(files_) / sizeof((files_)[0]), (plen_),	\
	    sizeof(payload_), (payload_), (root_), (dl_), (torrent_) }

/*
 * Fill the payload with a fixed pattern (xor salt, so that suites can
 * tell their data apart), make a fresh directory from tmpl (a mkdtemp
 * template such as "/tmp/thr-state-XXXXXX") into fx->root, and set
 * fx->dl to root/dl (created, empty) and fx->torrent to root/t.torrent
 * (not written: see fixture_write_torrent).
 */
void	fixture_init(const struct fixture *fx, const char *tmpl,
	    uint8_t salt);

/* Remove fx->root and everything below it, if fixture_init made it. */
void	fixture_fini(const struct fixture *fx);

/* The path of file f under fx->dl, written to out (len bytes). */
void	fixture_file_path(const struct fixture *fx, size_t f, char *out,
	    size_t len);

/* Make dl/pay and every directory the files table names below it. */
void	fixture_make_dirs(const struct fixture *fx);

/* fixture_make_dirs, then every file with its payload, as a finished
 * download would leave it. */
void	fixture_write_payload(const struct fixture *fx);

/* Write fx->torrent: the files, the piece length and the SHA-1 of each
 * piece of the payload, keys in BEP 3 sorted order. */
void	fixture_write_torrent(const struct fixture *fx);

/*
 * A session with the fixture's torrent in it, as cmd/run.c builds one,
 * minus the sockets.  fixture_opts fills so and to with what every suite
 * starts from; a suite overrides fields, then fixture_start makes s and
 * t.  The metainfo bytes, the store's place and the session are the
 * run's; fixture_stop frees them (and is safe on a run never started).
 */
struct fixture_run {
	struct session_opts	 so;
	struct torrent_opts	 to;
	const char		*torrent_path;	/* read by fixture_start */
	const char		*state_dir;	/* resume records, DHT state;
						 * NULL: none kept */
	struct storage_place	 place;
	struct buf		 meta;
	struct session		*s;
	struct torrent		*t;
};

/* Our torrent and dl, a fixed seed (12345), errors-only logging kept in
 * the ring, 10 peers, seed ratio 0, no DHT, TCP only. */
void	fixture_opts(const struct fixture *fx, struct fixture_run *r);

/* Read r->torrent_path and add it to a new session; must succeed. */
void	fixture_start(struct fixture_run *r, uint64_t now);

/* As fixture_start, but a failure is returned (0 or THR_E*, err says
 * why) for the suites that test failures; nothing is left to free but
 * what fixture_stop frees. */
int	fixture_try_start(struct fixture_run *r, uint64_t now,
	    struct thr_error *err);

/* Free the session (and its torrent), the place's locks, the bytes. */
void	fixture_stop(struct fixture_run *r);

/* Run torrent_check_step until the phase leaves TORRENT_CHECKING; the
 * check must end without a fatal error. */
void	fixture_check(struct torrent *t, uint64_t now);

/* net.0.0.last:port, IPv4. */
struct thr_addr	fixture_addr4(uint8_t net, uint8_t last, uint16_t port);

/*
 * An incoming peer at a whose handshake (info hash ih, peer id pid) is
 * waiting in p->in; the torrent owns the peer.  Nothing is read yet: the
 * caller appends more and calls torrent_peer_input.
 */
struct peer	*fixture_handshake(struct torrent *t,
		    const struct thr_addr *a, const uint8_t ih[20],
		    const uint8_t pid[20], uint64_t now);

/* Append to out a bitfield message of npieces bits: all set, or only
 * piece `only`. */
void	fixture_put_bitfield(struct buf *out, uint32_t npieces, bool all,
	    uint32_t only);

/* Append to in a PIECE message: index, begin and len bytes of data. */
void	fixture_put_block(struct buf *in, uint32_t index, uint32_t begin,
	    const uint8_t *data, uint32_t len);

/* The number of entries in directory path, "." and ".." not counted. */
size_t	fixture_dir_entries(const char *path);

#endif
