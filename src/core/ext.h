/*
 * ext.h: the extension protocol (BEP 10) and the two extensions we speak
 * over it, ut_metadata (BEP 9) and ut_pex (BEP 11), without any I/O.
 *
 * Framing is the caller's: an extended message is wire id 20
 * (WIRE_EXTENDED), then one extended-id byte, then the payload these
 * functions read and write.  Extended id 0 is the handshake.  For the
 * others, a message WE send carries the id the REMOTE chose for that
 * extension (struct ext_handshake), and a message we receive carries the
 * id WE chose (EXT_ID_UT_*, advertised in our handshake).
 *
 * Every parser reads untrusted bytes with the bounded bencode decoder,
 * never allocates beyond it, and reports THR_EPROTO with a byte offset on
 * anything malformed; the caller may drop the peer for it.  Parsed
 * structs are plain values (fixed arrays, no heap), except that a
 * ut_metadata data message borrows its payload from the input buffer.
 * Builders append one payload to a struct buf and return 0 or the
 * buf_append error (THR_ELIMIT, THR_ENOMEM); on error the buffer may hold
 * a partial payload, so the caller resets it.
 */
#ifndef THR_EXT_H
#define THR_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

/* Extended ids: 0 is the handshake (BEP 10); the others are ours to pick
 * and are what remote peers must use when they send to us. */
#define EXT_ID_HANDSHAKE	0
#define EXT_ID_UT_PEX		1
#define EXT_ID_UT_METADATA	2

/* BEP 9: metadata travels in 16 KiB pieces, the last one shorter. */
#define EXT_METADATA_PIECE	16384u
/* Largest info dictionary we fetch or accept: a 8 MiB info dict holds
 * over 400 000 piece hashes, far more than any real torrent. */
#define EXT_MAX_METADATA	(8u << 20)
#define EXT_MAX_METADATA_PIECES	(EXT_MAX_METADATA / EXT_METADATA_PIECE)
/* "v" bytes kept, escaped, with the NUL. */
#define EXT_VERSION_MAX		64u
/* BEP 10 "reqq": libtorrent's default is 250 outstanding requests; we
 * keep whatever the peer says within [1, EXT_REQQ_MAX]. */
#define EXT_REQQ_DEFAULT	250u
#define EXT_REQQ_MAX		2048u
/* BEP 11 asks senders for at most 50 added and 50 dropped per message;
 * we keep up to twice that of each and ignore the rest. */
#define EXT_PEX_MAX		100u
/* A handshake or pex message is small; 4096 tokens is generous. */
#define EXT_MAX_TOKENS		4096u

/* BEP 11 added.f flags. */
#define EXT_PEX_F_ENCRYPTION	0x01	/* prefers encryption */
#define EXT_PEX_F_SEED		0x02	/* seed or upload only */
#define EXT_PEX_F_UTP		0x04	/* supports uTP */
#define EXT_PEX_F_HOLEPUNCH	0x08	/* supports ut_holepunch */
#define EXT_PEX_F_REACHABLE	0x10	/* outgoing connection worked */

/* What we tell a peer in our handshake. */
struct ext_local {
	uint16_t		 port;		/* "p", our listen port; 0 omits */
	const char		*version;	/* "v", borrowed; NULL omits */
	uint32_t		 reqq;		/* "reqq"; 0 omits */
	uint32_t		 metadata_size;	/* "metadata_size"; 0 omits
						 * (we have no metadata yet) */
	const struct thr_addr	*yourip;	/* "yourip", borrowed; NULL
						 * omits (port unused) */
	bool			 pex;		/* offer ut_pex (off for
						 * private torrents, BEP 27) */
};

/* What a peer told us in its handshake(s). */
struct ext_handshake {
	uint8_t		ut_metadata;	/* its id for ut_metadata, 0 = none */
	uint8_t		ut_pex;		/* its id for ut_pex, 0 = none */
	char		version[EXT_VERSION_MAX];	/* escaped, "" if none */
	uint16_t	port;		/* its listen port, 0 if unknown */
	uint32_t	reqq;		/* in [1, EXT_REQQ_MAX] */
	uint32_t	metadata_size;	/* 0 if unknown or over the cap */
	bool		has_yourip;
	struct thr_addr	yourip;		/* how it sees us (port 0) */
};

enum ext_metadata_type {
	EXT_METADATA_REQUEST = 0,
	EXT_METADATA_DATA = 1,
	EXT_METADATA_REJECT = 2,
};

struct ext_metadata_msg {
	enum ext_metadata_type type;
	uint32_t	 piece;		/* < EXT_MAX_METADATA_PIECES */
	uint32_t	 total_size;	/* data only: in [1, EXT_MAX_METADATA] */
	const uint8_t	*data;		/* data only: borrowed from the input */
	size_t		 len;		/* data only: exactly the size of this
					 * piece given total_size */
};

/* A pex message: IPv4 entries first, then IPv6, in message order.  Port
 * 0 entries are skipped. */
struct ext_pex {
	struct thr_addr	added[EXT_PEX_MAX];
	uint8_t		added_flags[EXT_PEX_MAX];	/* 0 when not sent */
	size_t		nadded;
	struct thr_addr	dropped[EXT_PEX_MAX];
	size_t		ndropped;
};

/* Append our handshake dict: m (ut_metadata always, ut_pex if l->pex),
 * and the optional keys of l. */
int	ext_handshake_build(struct buf *out, const struct ext_local *l);

/* Set h to what we assume before any handshake: nothing supported, reqq
 * EXT_REQQ_DEFAULT. */
void	ext_handshake_init(struct ext_handshake *h);
/*
 * Read a handshake payload into h, which holds the previous state (from
 * ext_handshake_init or an earlier handshake): BEP 10 lets a peer send
 * the handshake again with only the keys it changes, so absent keys keep
 * their value.  In "m", an id of 0 disables an extension; ids outside
 * 1..255 count as 0.  A bad "p", "yourip" or "metadata_size" (out of
 * range, or over EXT_MAX_METADATA) reads as absent; unknown keys are
 * ignored.  THR_EPROTO (h unchanged) if the payload is not one bencoded
 * dict.
 */
int	ext_handshake_parse(const uint8_t *p, size_t n,
	    struct ext_handshake *h, struct thr_error *err);

/*
 * Read a ut_metadata payload: a bencoded dict, then for data messages the
 * piece itself.  THR_EPROTO if the dict is malformed, msg_type is not 0,
 * 1 or 2, piece is missing or out of range, or a data message lacks a
 * valid total_size or carries the wrong number of bytes for its piece.
 * On success m->data points into p.
 */
int	ext_metadata_parse(const uint8_t *p, size_t n,
	    struct ext_metadata_msg *m, struct thr_error *err);
int	ext_metadata_request(struct buf *out, uint32_t piece);
int	ext_metadata_reject(struct buf *out, uint32_t piece);
/* The dict and the len bytes of data (the caller's piece of the info
 * dict; see metadata_piece in metadata.h). */
int	ext_metadata_data(struct buf *out, uint32_t piece, uint32_t total_size,
	    const uint8_t *data, size_t len);

/*
 * Read a ut_pex payload: "added" / "added.f" (6-byte IPv4 entries and
 * their flags), "added6" / "added6.f" (18-byte IPv6), "dropped",
 * "dropped6".  A list whose length is not a multiple of its entry size is
 * read up to its last whole entry, missing flags read as 0, entries past
 * EXT_PEX_MAX are ignored.  THR_EPROTO if the payload is not a dict.
 */
int	ext_pex_parse(const uint8_t *p, size_t n, struct ext_pex *x,
	    struct thr_error *err);
/*
 * Append a ut_pex payload, splitting each list into its IPv4 and IPv6
 * keys.  added_flags may be NULL (all 0).  THR_ELIMIT if nadded or
 * ndropped is over EXT_PEX_MAX (BEP 11 wants at most 50 of each),
 * THR_EINVAL for an address whose family is neither 4 nor 6.
 */
int	ext_pex_build(struct buf *out, const struct thr_addr *added,
	    const uint8_t *added_flags, size_t nadded,
	    const struct thr_addr *dropped, size_t ndropped);

#endif
