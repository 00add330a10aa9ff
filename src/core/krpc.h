/*
 * krpc.h: the KRPC messages of the Mainline DHT (BEP 5), parsed from and
 * encoded to bencoded UDP payloads.  No sockets, no state.
 *
 * One struct krpc_msg describes a query, a reply or an error.  Parsing
 * COPIES every field into the struct (it is a few kilobytes, fixed size),
 * so nothing borrows the packet: the caller may free or reuse it at once.
 * A zeroed struct with the fields set is what the encoder takes, and the
 * encoder writes only the fields whose has_ flag (or count) is set, keys
 * sorted as BEP 3 requires.
 *
 * Parsing is structural: a message with a valid "t", "y" and (for
 * queries) "q" parses, even if the arguments a method needs are missing;
 * the server checks them and answers error 203, which it could not do if
 * the parser had thrown the transaction id away.  Limits, all named:
 * - at most KRPC_MAX_PACKET bytes and KRPC_MAX_TOKENS bencode tokens;
 * - "t" at most KRPC_TID_MAX bytes (longer is refused: we echo it);
 * - "token" at most KRPC_TOKEN_MAX bytes (longer is ignored);
 * - "nodes" (26-byte entries) and "nodes6" (38-byte entries) together at
 *   most KRPC_MAX_NODES; a trailing partial entry is ignored;
 * - "values" at most KRPC_MAX_VALUES; strings other than 6 bytes (IPv4)
 *   or 18 bytes (IPv6) are skipped, and so are peers with port 0;
 * - the error message is kept up to KRPC_EMSG_MAX bytes.
 * Ids, targets and info-hashes of a length other than 20 are treated as
 * absent; ports outside 1..65535 too.
 */
#ifndef THR_KRPC_H
#define THR_KRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

#define KRPC_ID_LEN	20	/* BEP 5: 160-bit node ids and info-hashes */
/* A UDP payload never needs more; anything longer is not from a DHT. */
#define KRPC_MAX_PACKET	2048
/* A full get_peers reply has about 130 tokens; leave room for extras. */
#define KRPC_MAX_TOKENS	512
#define KRPC_TID_MAX	8	/* real clients use 2 to 4 bytes */
#define KRPC_TOKEN_MAX	64	/* real tokens are 4 to 20 bytes */
#define KRPC_MAX_NODES	32	/* replies carry K = 8 per family */
#define KRPC_MAX_VALUES	100	/* 100 * 6 bytes still fit one datagram */
#define KRPC_EMSG_MAX	64
#define KRPC_NODE4_LEN	26	/* id + 4-byte IP + port (BEP 5) */
#define KRPC_NODE6_LEN	38	/* id + 16-byte IP + port (BEP 32) */

/* BEP 5 error codes. */
#define KRPC_ERR_GENERIC	201
#define KRPC_ERR_SERVER		202
#define KRPC_ERR_PROTOCOL	203
#define KRPC_ERR_METHOD		204

enum krpc_type {
	KRPC_QUERY,	/* y = q */
	KRPC_REPLY,	/* y = r */
	KRPC_ERROR,	/* y = e */
};

enum krpc_method {
	KRPC_NONE,		/* replies and errors carry no method */
	KRPC_PING,
	KRPC_FIND_NODE,
	KRPC_GET_PEERS,
	KRPC_ANNOUNCE_PEER,
	KRPC_UNKNOWN,		/* a query name we do not know: answer 204 */
};

struct krpc_node {
	uint8_t		id[KRPC_ID_LEN];
	struct thr_addr	addr;		/* family 4 or 6, port != 0 */
};

struct krpc_msg {
	enum krpc_type	 type;
	enum krpc_method method;	/* queries only */
	uint8_t		 tid[KRPC_TID_MAX];
	size_t		 tidlen;	/* 0..KRPC_TID_MAX */

	bool		 has_id;	/* "id" of the sender, in a or r */
	uint8_t		 id[KRPC_ID_LEN];
	bool		 has_target;	/* find_node */
	uint8_t		 target[KRPC_ID_LEN];
	bool		 has_info_hash;	/* get_peers, announce_peer */
	uint8_t		 info_hash[KRPC_ID_LEN];
	bool		 has_port;	/* announce_peer */
	uint16_t	 port;
	bool		 implied_port;	/* announce_peer: use the UDP port */
	bool		 has_token;	/* get_peers reply, announce_peer */
	uint8_t		 token[KRPC_TOKEN_MAX];
	size_t		 tokenlen;

	/* Replies: "nodes" (IPv4) and "nodes6" (IPv6) in one array, in
	 * order, IPv4 entries first. */
	struct krpc_node nodes[KRPC_MAX_NODES];
	size_t		 nnodes;
	bool		 has_values;	/* "values" present, maybe empty */
	struct thr_addr	 values[KRPC_MAX_VALUES];
	size_t		 nvalues;

	int64_t		 ecode;		/* errors: BEP 5 code */
	uint8_t		 emsg[KRPC_EMSG_MAX];	/* not NUL-terminated */
	size_t		 emsglen;
};

/*
 * Parse pkt[0..len) into m (overwritten entirely; nothing borrowed).
 * Returns 0, THR_ELIMIT (too long or too many tokens) or THR_EINVAL (not
 * a bencoded dict, no or bad "t", "y", "q", a query without an "a" dict,
 * a reply without an "r" dict, an error without an [int, string] "e"),
 * with err (may be NULL) saying where.
 */
int	krpc_parse(const uint8_t *pkt, size_t len, struct krpc_msg *m,
	    struct thr_error *err);

/*
 * Append the bencoding of m to out.  Queries write "a" with the fields
 * whose flags are set, replies "r", errors "e".  Returns 0, THR_EINVAL
 * (a query with KRPC_NONE or KRPC_UNKNOWN method, tidlen too long, a
 * node or value of an unknown family) or the error of buf_append
 * (THR_ELIMIT when out is full; out may then hold a partial message).
 */
int	krpc_encode(struct buf *out, const struct krpc_msg *m);

/* A static name for a method ("ping", ...; "unknown", "none"). */
const char *krpc_method_name(enum krpc_method method);

#endif
