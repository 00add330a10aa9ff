/*
 * utp.h: the uTorrent transport protocol (BEP 29, uTP over UDP with
 * LEDBAT congestion control) as a pure engine: no sockets, no clock of
 * its own, no I/O.  One struct utp serves every uTP connection behind
 * one UDP socket; each connection carries a byte stream (the BitTorrent
 * peer wire, possibly under MSE) exactly as a TCP socket would.
 *
 *	struct utp *u = utp_new(&cfg);		cfg.seed from the state's rng
 *	c = utp_connect(u, &peer, now);		or, later, c = utp_accept(u)
 *	each pass of the loop:
 *		on a datagram d from the shared socket:
 *			if (utp_is_packet(d, n)) utp_input(u, &from, d, n, now);
 *			(else it belongs to the DHT or a UDP tracker)
 *		utp_tick(u, now);
 *		while ((c = utp_accept(u)) != NULL) give c to a new peer;
 *		for each conn: utp_read / utp_write / utp_conn_state;
 *		while ((n = utp_output(u, &to, pkt, sizeof pkt, now)) > 0)
 *			sendto(fd, pkt, n, to);
 *		arm the timer for utp_next_deadline(u);
 *	utp_conn_free(c) for each conn, then utp_free(u).
 *
 * Packets are built lazily: utp_write only copies into the connection's
 * send buffer and utp_input only records what must be acknowledged;
 * utp_output cuts packets from the send buffer as the windows allow,
 * and merges every acknowledgement owed since the last drain into one
 * packet (or into a data packet going that way).
 *
 * Wire details that BEP 29 leaves open follow libtorrent and libutp:
 * - The initiator picks recv_id at random, send_id = recv_id + 1, and
 *   its SYN carries recv_id.  The receiver's ids are the reverse.
 * - The SYN has seq_nr s (random) and the initiator's first data packet
 *   s + 1.  The receiver answers with ST_STATE seq_nr r (random), ack_nr
 *   s, and its own first data packet also uses r: the state packet does
 *   not consume a sequence number.  So the initiator sets its ack_nr to
 *   r - 1 on that state packet.
 * - wnd_size is the free space, in bytes, of the sender's receive
 *   buffer; we keep bytes in flight at most min(cwnd, wnd_size).  While
 *   the peer's window is zero we send one probe packet per timeout,
 *   backing off to UTP_RTO_MAX_US and never giving up on a peer that
 *   answers; a larger window in its answer resends the probe at once.
 * - A FIN consumes a sequence number; everything before it is delivered,
 *   nothing after it.  An ST_RESET is matched on the sender's address and
 *   either of our two connection ids.
 * - timestamp_difference_microseconds of 0 or INT32_MAX means "no
 *   sample" (uTorrent sent INT32_MAX uninitialised).
 *
 * Congestion control: slow start (as libtorrent) until the queuing
 * delay reaches half the target or a loss, then LEDBAT; a loss found by
 * three duplicate acks or by selective acks halves cwnd once per window
 * and resends each hole once; a timeout drops cwnd to one packet and
 * resends everything in flight.  Acks are not delayed by a timer: every
 * ack owed is sent with the next drain of utp_output.
 *
 * Limits (each named below with its reason): UTP_MAX_CONNS_CAP
 * connections, each with a send and a receive buffer whose ceilings are
 * fixed at utp_new and which grow only as used; at most UTP_OUTQ
 * packets in flight and UTP_INQ packets ahead in the reorder buffer,
 * whose bytes count against the advertised window.  Connection refusals,
 * resets for unknown connections and everything else hostile cost at
 * most one queued 20-byte answer (UTP_RSTQ_MAX of them) and a counter in
 * struct utp_stats; nothing the network sends can crash the engine or
 * make it grow past these bounds.
 *
 * Ownership: utp_connect and utp_accept hand the caller a struct
 * utp_conn that stays valid until the caller passes it to utp_conn_free,
 * whatever happens on the wire.  After utp_conn_free the engine may keep
 * the connection a while (to deliver queued data and the FIN after
 * utp_close) and then frees it itself.  The engine holds no pointer to
 * caller memory except each connection's opaque user pointer.
 * Randomness comes from a struct rng seeded by utp_config.seed, so runs
 * can be replayed.
 */
#ifndef THR_UTP_H
#define THR_UTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define UTP_HDR_LEN		20	/* BEP 29 fixed header */
/* BEP 29 says 1500-byte MTUs must not fragment; 1200 bytes of datagram
 * stays clear of tunnels and PPPoE without path MTU discovery. */
#define UTP_PACKET_DEFAULT	1200u
#define UTP_PACKET_MIN		150u	/* header, SACK and some payload */
#define UTP_PACKET_MAX		1472u	/* 1500-byte Ethernet MTU - IPv4/UDP */
#define UTP_MAX_CONNS_DEFAULT	512u
#define UTP_MAX_CONNS_CAP	4096u	/* each one may buffer megabytes */
#define UTP_BACKLOG_DEFAULT	32u	/* SYNs awaiting utp_accept */
/* libtorrent's default receive buffer is 1 MiB; the window we advertise
 * is what is left of it. */
#define UTP_BUF_DEFAULT		(1024u * 1024u)
#define UTP_BUF_MIN		4096u
#define UTP_BUF_MAX		(16u * 1024u * 1024u)
#define UTP_OUTQ		1024u	/* packets in flight, power of two */
#define UTP_INQ			1024u	/* reorder buffer, power of two */
#define UTP_RSTQ_MAX		32u	/* queued resets and refusals */
#define UTP_TARGET_US		100000u	/* BEP 29 / LEDBAT: 100 ms target */
/* LEDBAT grows the window by at most this much per round trip (libutp's
 * MAX_CWND_INCREASE_BYTES_PER_RTT). */
#define UTP_GAIN_BYTES		3000u
#define UTP_RTO_MIN_US		500000u		/* BEP 29: at least 500 ms */
#define UTP_RTO_INIT_US		1000000u	/* before any RTT sample */
#define UTP_RTO_MAX_US		30000000u	/* backed-off timeouts cap */
/* Consecutive timeouts without a single valid packet from the peer
 * before the connection is declared dead: about a minute at most with
 * the cap above. */
#define UTP_MAX_TIMEOUTS	6u
/* A SYN is sent UTP_SYN_TRIES times UTP_SYN_RTO_US apart; the connect
 * fails UTP_SYN_RTO_US after the last one (6 s), so the caller can
 * still fall back to TCP. */
#define UTP_SYN_TRIES		4u
#define UTP_SYN_RTO_US		1500000u
#define UTP_DUP_ACKS		3u	/* fast retransmit, as TCP */
/* An idle connection sends a state packet this often so NAT mappings
 * (often 30 s for UDP) stay open; libutp uses 29 s too. */
#define UTP_KEEPALIVE_US	29000000u
/* After utp_close and utp_conn_free, finish sending and the FIN
 * exchange within this time, or forget the connection. */
#define UTP_LINGER_US		10000000u

struct utp;
struct utp_conn;

struct utp_config {
	uint64_t	seed;		/* ids, sequence numbers */
	unsigned	max_conns;	/* 0: default; capped */
	unsigned	backlog;	/* 0: default; incoming not yet
					 * accepted, beyond it SYNs are
					 * answered with ST_RESET */
	size_t		send_buf;	/* 0: default; clamped to
					 * [UTP_BUF_MIN, UTP_BUF_MAX] */
	size_t		recv_buf;	/* likewise; the largest window we
					 * advertise */
	size_t		packet_size;	/* largest datagram we send, 0:
					 * default; clamped to
					 * [UTP_PACKET_MIN, UTP_PACKET_MAX] */
	bool		fixed_seq;	/* tests: start every connection's
					 * seq_nr at seq instead of random */
	uint16_t	seq;
};

/* Counters since utp_new, for the view and the trace. */
struct utp_stats {
	uint64_t	packets_in;	/* datagrams given to utp_input */
	uint64_t	packets_out;	/* datagrams returned by utp_output */
	uint64_t	malformed;	/* short, bad version or type, bad
					 * extension chain */
	uint64_t	unknown_conn;	/* no connection with that id from
					 * that address (spoofed or stale) */
	uint64_t	out_of_window;	/* seq_nr outside the reorder window */
	uint64_t	bad_ack;	/* ack_nr for a packet never sent */
	uint64_t	duplicate;	/* data we already had */
	uint64_t	no_room;	/* data beyond our receive window */
	uint64_t	refused;	/* SYNs over max_conns or backlog */
	uint64_t	resets_in;
	uint64_t	resets_out;
	uint64_t	retransmits;	/* all resent data and FIN packets */
	uint64_t	fast_retransmits; /* of those, on duplicate or
					 * selective acks */
	uint64_t	timeouts;	/* retransmission timeouts */
};

enum utp_state {
	UTP_CONNECTING,		/* SYN sent, no answer yet */
	UTP_CONNECTED,		/* data flows both ways */
	UTP_CLOSING,		/* a FIN was sent or received */
	UTP_CLOSED,		/* finished: utp_conn_reason says why */
};

/*
 * A new engine, or NULL when out of memory.  c is copied; a zero field
 * takes its default.  Free with utp_free.
 */
struct utp	*utp_new(const struct utp_config *c);
/* Free the engine and every connection, including ones the caller still
 * holds: call it last. */
void		 utp_free(struct utp *u);
/* Counters, valid until utp_free. */
const struct utp_stats *utp_stats(const struct utp *u);

/*
 * The cheap demultiplexing test for a shared socket: at least 20 bytes,
 * version 1 in the low nibble of byte 0 and a type 0..4 in the high one.
 * DHT messages start with 'd' (0x64: version 4) and UDP tracker answers
 * with a zero byte (version 0), so neither matches.
 */
bool		 utp_is_packet(const uint8_t *d, size_t n);
/*
 * Feed one datagram (d[0..n), borrowed) from `from`.  Anything malformed,
 * for an unknown connection, out of window or acknowledging what was
 * never sent is dropped and counted in utp_stats; a SYN from a new peer
 * makes a connection for utp_accept.  Never fails.  Returns the
 * connection the packet was for (its state, data or window may have
 * changed: the caller looks at it), or NULL.
 */
struct utp_conn	*utp_input(struct utp *u, const struct thr_addr *from,
		    const uint8_t *d, size_t n, uint64_t now_us);
/*
 * The next datagram to send: written to buf[0..return) and its
 * destination to *to; 0 when nothing is due.  cap must hold the
 * configured packet_size (else 0).  Call it until it returns 0.
 */
size_t		 utp_output(struct utp *u, struct thr_addr *to, uint8_t *buf,
		    size_t cap, uint64_t now_us);
/* Run the timers due at now_us: retransmissions, connect and give-up
 * timeouts, keepalives, lingering connections. */
void		 utp_tick(struct utp *u, uint64_t now_us);
/* When utp_tick must run next, UINT64_MAX if nothing waits. */
uint64_t	 utp_next_deadline(const struct utp *u);

/*
 * Start a connection to `to` (copied).  NULL when max_conns connections
 * exist or memory is short.  The SYN goes out with the next utp_output.
 */
struct utp_conn	*utp_connect(struct utp *u, const struct thr_addr *to,
		    uint64_t now_us);
/* The oldest incoming connection not yet taken, or NULL. */
struct utp_conn	*utp_accept(struct utp *u);

/*
 * Copy up to n bytes into c's send buffer; returns how many fit (0 when
 * full, closed or after utp_close).  Allowed while connecting: the
 * bytes leave once the connection is up.
 */
size_t		 utp_write(struct utp_conn *c, const uint8_t *d, size_t n,
		    uint64_t now_us);
/*
 * End a packet here: the bytes written so far leave without any written
 * after this call in the same packet.  Some peers handle each packet as
 * it arrives and read no further than the message they were waiting for
 * (Transmission 3.00 leaves whatever follows the BitTorrent handshake in
 * the packet unread until the next packet comes), so the handshake must
 * end its packet.  One boundary is kept: a second call before the first
 * is passed moves it.  A no-op when nothing is waiting to be sent.
 */
void		 utp_push(struct utp_conn *c);
/* Move up to n in-order received bytes to d; returns the count, 0 when
 * none are waiting (see utp_conn_eof).  Reading reopens the window. */
size_t		 utp_read(struct utp_conn *c, uint8_t *d, size_t n);
/* Send a FIN after every queued byte; reading still works until the
 * peer's FIN.  Idempotent. */
void		 utp_close(struct utp_conn *c);
/*
 * Release c; the pointer is dead afterwards.  After utp_close the engine
 * goes on sending the queued data and the FIN, and acknowledging the
 * peer's, for at most UTP_LINGER_US; otherwise an open connection is
 * reset (ST_RESET).
 * NULL is ignored.
 */
void		 utp_conn_free(struct utp_conn *c);

enum utp_state	 utp_conn_state(const struct utp_conn *c);
/* Why the connection closed: "closed", "connection reset", "refused",
 * "timed out", "connect timed out"; "" while open.  Static string. */
const char	*utp_conn_reason(const struct utp_conn *c);
/* The peer's FIN arrived and every byte before it was read. */
bool		 utp_conn_eof(const struct utp_conn *c);
/* Bytes waiting for utp_read. */
size_t		 utp_conn_readable(const struct utp_conn *c);
/* Bytes written but not yet acknowledged (queued or in flight). */
size_t		 utp_conn_queued(const struct utp_conn *c);
/* Room left in the send buffer: what utp_write would take now. */
size_t		 utp_conn_writable(const struct utp_conn *c);
const struct thr_addr *utp_conn_peer(const struct utp_conn *c);
/* The caller's pointer for this connection (NULL until set). */
void		 utp_conn_set_user(struct utp_conn *c, void *user);
void		*utp_conn_user(const struct utp_conn *c);
/* Smoothed round-trip time (0 before a sample), congestion window in
 * bytes, and our last queuing delay above the base delay. */
uint32_t	 utp_conn_rtt_us(const struct utp_conn *c);
uint32_t	 utp_conn_cwnd(const struct utp_conn *c);
uint32_t	 utp_conn_delay_us(const struct utp_conn *c);
/* The current retransmission timeout, with back-off. */
uint32_t	 utp_conn_rto_us(const struct utp_conn *c);

#endif
