/*
 * utp.c: BEP 29 uTP connections with LEDBAT, as a sans-IO engine.
 *
 * Data model.  The engine owns a table of connection slots (max_conns)
 * and a hash on (peer address, recv_id) for demultiplexing.  Each
 * connection has:
 * - a send ring holding every byte from the oldest unacknowledged one
 *   (stream offset sbase) to the last one written; bytes before snext
 *   have been cut into packets.  outq[seq & (UTP_OUTQ - 1)] describes
 *   each packet in [seq_base, seq_nr): its stream offset and length, how
 *   often it was sent, and whether it was selectively acked or is
 *   waiting to be resent.  Packets never copy payload: a retransmission
 *   reads the ring again.
 * - a receive ring of in-order bytes for utp_read, and inq, a reorder
 *   buffer of packets ahead of ack_nr + 1 indexed by seq & (UTP_INQ - 1).
 *   Their bytes together never exceed recv_buf, and the window we
 *   advertise is what is left.
 * - the RTT estimator (RFC 6298), the base-delay history (minimum of
 *   four 30-second buckets, so two minutes) and LEDBAT's cwnd.
 * Sequence and ack numbers are 16-bit and compared modulo 2^16
 * (utp_seq_lt); timestamps are 32-bit microseconds, also modular.
 * Every state change goes through utp_conn_set_state.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "rng.h"
#include "utp.h"
#include "xalloc.h"

/* BEP 29 packet types and the version in byte 0's low nibble. */
#define UTP_ST_DATA	0
#define UTP_ST_FIN	1
#define UTP_ST_STATE	2
#define UTP_ST_RESET	3
#define UTP_ST_SYN	4
#define UTP_VERSION	1
#define UTP_EXT_SACK	1	/* BEP 29 selective ack extension */

/* We report 64 packets past the first hole; libtorrent sends at most
 * a few dozen bytes and any multiple of 4 is allowed. */
#define UTP_SACK_BYTES	8
#define UTP_SACK_ROOM	(2 + UTP_SACK_BYTES)
#define UTP_HASH	1024	/* hash buckets, power of two */
#define UTP_DELAY_BUCKETS 4
#define UTP_DELAY_BUCKET_US 30000000u	/* 4 x 30 s: two-minute history */
/* uTorrent sent INT32_MAX for an uninitialised timestamp difference. */
#define UTP_NO_SAMPLE	0x7fffffffu
#define UTP_RING_START	16384u	/* first allocation of a ring */
#define UTP_RTT_MAX_US	60000000u /* samples above a minute are bogus */

#define UTP_PKT_USED	0x01
#define UTP_PKT_LOST	0x02	/* to be resent, not in flight */
#define UTP_PKT_SACKED	0x04	/* selectively acked, not in flight */
#define UTP_PKT_FIN	0x08
#define UTP_PKT_FAST	0x10	/* fast resend: goes out despite cwnd */

struct utp_ring {
	uint8_t	*d;
	size_t	 cap, head, len, max;
};

struct utp_pkt {
	uint64_t	off;		/* stream offset of the payload */
	uint64_t	sent_us;	/* last transmission */
	uint32_t	len;
	uint8_t		ntx;		/* transmissions, saturating */
	uint8_t		flags;
};

struct utp_seg {
	size_t		len;
	uint16_t	type;		/* UTP_ST_DATA or UTP_ST_FIN */
	uint8_t		data[];
};

struct utp_conn {
	struct utp	*u;
	struct utp_conn	*hnext;
	unsigned	 slot;
	struct thr_addr	 peer;
	uint16_t	 recv_id, send_id;
	enum utp_state	 state;
	const char	*reason;
	void		*user;

	bool		 incoming, in_backlog, released;
	bool		 close_req;	/* utp_close was called */
	bool		 fin_sent, fin_acked;
	bool		 got_fin;	/* the peer's FIN seq is known */
	bool		 fin_done;	/* everything up to it arrived */
	bool		 reset_pending, ack_pending, syn_due, probe_ok;
	bool		 have_rtt;

	/* Send side. */
	struct utp_ring	 snd;
	uint64_t	 sbase;		/* stream offset of snd's head */
	uint64_t	 snext;		/* first byte not yet packetized */
	uint64_t	 push;		/* no packet spans this offset
					 * (utp_push); 0: none */
	struct utp_pkt	*outq;
	uint16_t	 seq_nr;	/* next to send */
	uint16_t	 seq_base;	/* oldest unacked; == seq_nr if none */
	uint16_t	 fast_seq;	/* no fast resend below this */
	uint16_t	 loss_seq;	/* cwnd was cut for losses below */
	uint16_t	 fin_seq;
	uint16_t	 syn_seq_in;	/* the peer's SYN, for duplicates */
	unsigned	 nlost, dup_acks, syn_tries;
	unsigned	 ntimeouts;	/* back-off: reset by progress */
	unsigned	 nsilent;	/* give-up: reset by any packet */
	uint32_t	 inflight, cwnd, ssthresh, peer_wnd;
	bool		 slow_start;
	uint32_t	 srtt, rttvar, rto;
	uint64_t	 rto_at, probe_at, syn_at, syn_sent_us;
	uint64_t	 last_send, linger_at;

	/* Delay measurement. */
	uint32_t	 reply_micro;	/* echoed as timestamp_difference */
	uint32_t	 hist[UTP_DELAY_BUCKETS];
	bool		 hist_ok[UTP_DELAY_BUCKETS];
	unsigned	 hist_idx;
	uint64_t	 hist_at;
	uint32_t	 our_delay;

	/* Receive side. */
	struct utp_ring	 rcv;
	struct utp_seg	**inq;
	size_t		 inq_bytes;
	unsigned	 inq_count;
	uint16_t	 ack_nr;	/* last in-order packet received */
	uint16_t	 eof_seq;
	uint32_t	 adv_wnd;	/* window in our last packet */
};

struct utp_rst {
	struct thr_addr	to;
	uint16_t	cid, seq, ack;
};

struct utp {
	struct utp_config cfg;
	struct rng	 rng;
	struct utp_stats st;
	uint32_t	 mss;		/* payload bytes per packet */
	uint64_t	 now;		/* latest time seen, for conn_free */
	struct utp_conn	**slots;
	unsigned	 nconns, rr;
	unsigned	 top;		/* slots[top..] are all NULL: the
					 * per-packet scans stop there */
	struct utp_conn	*hash[UTP_HASH];
	struct utp_conn	**backlog;
	unsigned	 bl_len;
	struct utp_rst	 rstq[UTP_RSTQ_MAX];
	unsigned	 rst_head, rst_len;
};

struct utp_hdr {
	uint8_t		 type;
	uint16_t	 cid;
	uint32_t	 ts, tsdiff, wnd;
	uint16_t	 seq, ack;
	const uint8_t	*sack;
	size_t		 sacklen;
	const uint8_t	*pay;
	size_t		 paylen;
};

/* a comes before b in 16-bit sequence space. */
static bool
utp_seq_lt(uint16_t a, uint16_t b)
{
	uint16_t d = (uint16_t)(b - a);

	return d != 0 && d < 0x8000;
}

static void
utp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
utp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
utp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
utp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
utp_update_now(struct utp *u, uint64_t now)
{
	if (now > u->now)
		u->now = now;
}

/* Rings grow on demand up to max, so idle connections stay small. */
static bool
utp_ring_reserve(struct utp_ring *r, size_t need)
{
	size_t ncap, first;
	uint8_t *nd;

	if (need <= r->cap)
		return true;
	if (need > r->max)
		return false;
	ncap = r->cap != 0 ? r->cap : UTP_RING_START;
	while (ncap < need)
		ncap *= 2;
	if (ncap > r->max)
		ncap = r->max;
	if ((nd = thr_malloc(ncap)) == NULL)
		return false;
	if (r->len > 0) {
		first = r->cap - r->head;
		if (first > r->len)
			first = r->len;
		memcpy(nd, r->d + r->head, first);
		memcpy(nd + first, r->d, r->len - first);
	}
	free(r->d);
	r->d = nd;
	r->cap = ncap;
	r->head = 0;
	return true;
}

static size_t
utp_ring_push(struct utp_ring *r, const uint8_t *p, size_t n)
{
	size_t tail, first;

	if (n > r->max - r->len)
		n = r->max - r->len;
	if (n == 0 || !utp_ring_reserve(r, r->len + n))
		return 0;
	tail = (r->head + r->len) % r->cap;
	first = r->cap - tail;
	if (first > n)
		first = n;
	memcpy(r->d + tail, p, first);
	memcpy(r->d, p + first, n - first);
	r->len += n;
	return n;
}

/* Copy n bytes starting off bytes past the head (off + n <= len). */
static void
utp_ring_peek(const struct utp_ring *r, size_t off, uint8_t *p, size_t n)
{
	size_t pos, first;

	if (n == 0)
		return;
	pos = (r->head + off) % r->cap;
	first = r->cap - pos;
	if (first > n)
		first = n;
	memcpy(p, r->d + pos, first);
	memcpy(p + first, r->d, n - first);
}

static void
utp_ring_drop(struct utp_ring *r, size_t n)
{
	if (n >= r->len) {
		/* The memory stays: a ring that empties on every read of a
		 * busy connection would otherwise be freed and grown again,
		 * copying, on every burst (a third of a download's CPU).
		 * It is bounded by r->max all the same. */
		r->len = 0;
		r->head = 0;
		return;
	}
	r->head = (r->head + n) % r->cap;
	r->len -= n;
}

static unsigned
utp_hash_of(const struct thr_addr *a, uint16_t id)
{
	uint32_t h = id * 2654435761u;
	size_t i;

	for (i = 0; i < (a->family == 6 ? 16u : 4u); i++)
		h = (h ^ a->ip[i]) * 16777619u;
	h ^= a->port * 40503u;
	return (h ^ h >> 16) & (UTP_HASH - 1);
}

static struct utp_conn *
utp_find(const struct utp *u, const struct thr_addr *a, uint16_t recv_id)
{
	struct utp_conn *c;

	for (c = u->hash[utp_hash_of(a, recv_id)]; c != NULL; c = c->hnext)
		if (c->recv_id == recv_id && addr_equal(&c->peer, a))
			return c;
	return NULL;
}

/* The one place a connection changes state. */
static void
utp_conn_set_state(struct utp_conn *c, enum utp_state s, const char *why)
{
	if (c->state == UTP_CLOSED)
		return;
	c->state = s;
	if (s == UTP_CLOSED) {
		c->reason = why != NULL ? why : "closed";
		c->syn_due = false;
		/* A graceful close still owes the ack of the peer's FIN. */
		if (!c->fin_done)
			c->ack_pending = false;
		c->rto_at = 0;
		c->probe_at = 0;
	}
}

static uint32_t
utp_window_free(const struct utp_conn *c)
{
	size_t used = c->rcv.len + c->inq_bytes;

	if (used >= c->rcv.max)
		return 0;
	return (uint32_t)(c->rcv.max - used);
}

static uint32_t
utp_rto_cur(const struct utp_conn *c)
{
	uint64_t r = c->rto;
	unsigned n = c->ntimeouts;

	while (n-- > 0 && r < UTP_RTO_MAX_US)
		r *= 2;
	return r > UTP_RTO_MAX_US ? UTP_RTO_MAX_US : (uint32_t)r;
}

static struct utp_conn *
utp_conn_new(struct utp *u, const struct thr_addr *peer, uint16_t recv_id,
    uint16_t send_id, uint64_t now)
{
	struct utp_conn *c;
	unsigned i, h;

	if (u->nconns >= u->cfg.max_conns)
		return NULL;
	for (i = 0; i < u->cfg.max_conns; i++)
		if (u->slots[i] == NULL)
			break;
	if (i == u->cfg.max_conns || (c = thr_calloc(1, sizeof *c)) == NULL)
		return NULL;
	if ((c->outq = thr_calloc(UTP_OUTQ, sizeof *c->outq)) == NULL) {
		free(c);
		return NULL;
	}
	c->u = u;
	c->slot = i;
	c->peer = *peer;
	c->recv_id = recv_id;
	c->send_id = send_id;
	c->reason = "";
	c->snd.max = u->cfg.send_buf;
	c->rcv.max = u->cfg.recv_buf;
	c->seq_nr = u->cfg.fixed_seq ? u->cfg.seq :
	    (uint16_t)rng_next(&u->rng);
	c->seq_base = c->seq_nr;
	c->fast_seq = c->seq_nr;
	c->loss_seq = c->seq_nr;
	/* Two packets to start, then slow start as libtorrent does. */
	c->cwnd = 2 * u->mss;
	c->slow_start = true;
	c->peer_wnd = u->mss;
	c->rto = UTP_RTO_INIT_US;
	c->last_send = now;
	c->hist_at = now;
	c->adv_wnd = utp_window_free(c);
	h = utp_hash_of(peer, recv_id);
	c->hnext = u->hash[h];
	u->hash[h] = c;
	u->slots[i] = c;
	u->nconns++;
	if (i >= u->top)
		u->top = i + 1;
	return c;
}

static void
utp_conn_destroy(struct utp_conn *c)
{
	struct utp *u = c->u;
	struct utp_conn **pp;
	unsigned i;

	for (pp = &u->hash[utp_hash_of(&c->peer, c->recv_id)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	if (c->in_backlog) {
		for (i = 0; i < u->bl_len; i++)
			if (u->backlog[i] == c)
				break;
		if (i < u->bl_len) {
			memmove(&u->backlog[i], &u->backlog[i + 1],
			    (u->bl_len - i - 1) * sizeof *u->backlog);
			u->bl_len--;
		}
	}
	if (c->inq != NULL) {
		for (i = 0; i < UTP_INQ; i++)
			free(c->inq[i]);
		free(c->inq);
	}
	u->slots[c->slot] = NULL;
	u->nconns--;
	while (u->top > 0 && u->slots[u->top - 1] == NULL)
		u->top--;
	free(c->snd.d);
	free(c->rcv.d);
	free(c->outq);
	free(c);
}

/* Parse and check the header and the extension chain. */
static bool
utp_parse(const uint8_t *d, size_t n, struct utp_hdr *h)
{
	size_t p = UTP_HDR_LEN, len;
	uint8_t ext, next;

	if (!utp_is_packet(d, n))
		return false;
	memset(h, 0, sizeof *h);
	h->type = d[0] >> 4;
	ext = d[1];
	h->cid = utp_get16(d + 2);
	h->ts = utp_get32(d + 4);
	h->tsdiff = utp_get32(d + 8);
	h->wnd = utp_get32(d + 12);
	h->seq = utp_get16(d + 16);
	h->ack = utp_get16(d + 18);
	/* Each extension is [next type][length][length bytes]; unknown
	 * types are skipped, truncated chains refused. */
	while (ext != 0) {
		if (n - p < 2)
			return false;
		next = d[p];
		len = d[p + 1];
		p += 2;
		if (n - p < len)
			return false;
		if (ext == UTP_EXT_SACK && h->sack == NULL) {
			h->sack = d + p;
			h->sacklen = len;
		}
		p += len;
		ext = next;
	}
	h->pay = d + p;
	h->paylen = n - p;
	return true;
}

/* Write the header (and a selective ack when packets wait in the
 * reorder buffer); returns its length. */
static size_t
utp_conn_hdr(struct utp_conn *c, uint8_t *b, int type, uint16_t seq,
    uint64_t now)
{
	uint16_t cid = type == UTP_ST_SYN ? c->recv_id : c->send_id;
	uint32_t wnd = utp_window_free(c);
	size_t len = UTP_HDR_LEN;
	unsigned i;
	uint16_t s;

	b[0] = (uint8_t)(type << 4 | UTP_VERSION);
	b[1] = 0;
	utp_put16(b + 2, cid);
	utp_put32(b + 4, (uint32_t)now);
	utp_put32(b + 8, type == UTP_ST_SYN ? 0 : c->reply_micro);
	utp_put32(b + 12, wnd);
	utp_put16(b + 16, seq);
	utp_put16(b + 18, type == UTP_ST_SYN ? 0 : c->ack_nr);
	c->adv_wnd = wnd;
	if (type != UTP_ST_SYN && type != UTP_ST_RESET && c->inq_count > 0 &&
	    c->inq != NULL) {
		/* BEP 29: bit i stands for ack_nr + 2 + i, LSB first. */
		b[1] = UTP_EXT_SACK;
		b[20] = 0;
		b[21] = UTP_SACK_BYTES;
		memset(b + 22, 0, UTP_SACK_BYTES);
		for (i = 0; i < UTP_SACK_BYTES * 8; i++) {
			s = (uint16_t)(c->ack_nr + 2 + i);
			if (c->inq[s & (UTP_INQ - 1)] != NULL)
				b[22 + i / 8] |= (uint8_t)(1u << (i % 8));
		}
		len += UTP_SACK_ROOM;
	}
	if (type != UTP_ST_RESET)
		c->ack_pending = false;
	c->last_send = now;
	return len;
}

static void
utp_rtt_sample(struct utp_conn *c, uint64_t r64)
{
	uint32_t r = r64 > UTP_RTT_MAX_US ? UTP_RTT_MAX_US : (uint32_t)r64;
	uint32_t diff;
	uint64_t rto;

	if (!c->have_rtt) {
		c->srtt = r;
		c->rttvar = r / 2;
		c->have_rtt = true;
	} else {
		diff = c->srtt > r ? c->srtt - r : r - c->srtt;
		c->rttvar = (3 * c->rttvar + diff) / 4;
		c->srtt = (uint32_t)(((uint64_t)7 * c->srtt + r) / 8);
	}
	rto = (uint64_t)c->srtt + 4 * (uint64_t)c->rttvar;
	if (rto < UTP_RTO_MIN_US)
		rto = UTP_RTO_MIN_US;
	if (rto > UTP_RTO_MAX_US)
		rto = UTP_RTO_MAX_US;
	c->rto = (uint32_t)rto;
}

/* Record a one-way delay sample (the peer's clock minus ours, plus the
 * delay: only differences to the base are meaningful). */
static void
utp_delay_sample(struct utp_conn *c, uint32_t sample, uint64_t now)
{
	unsigned i, k;
	uint32_t base = 0, d;
	bool have = false;

	k = 0;
	while (now - c->hist_at >= UTP_DELAY_BUCKET_US &&
	    k++ < UTP_DELAY_BUCKETS) {
		c->hist_idx = (c->hist_idx + 1) % UTP_DELAY_BUCKETS;
		c->hist_ok[c->hist_idx] = false;
		c->hist_at += UTP_DELAY_BUCKET_US;
	}
	if (now - c->hist_at >= UTP_DELAY_BUCKET_US)
		c->hist_at = now;
	i = c->hist_idx;
	if (!c->hist_ok[i] || (int32_t)(sample - c->hist[i]) < 0) {
		c->hist[i] = sample;
		c->hist_ok[i] = true;
	}
	for (i = 0; i < UTP_DELAY_BUCKETS; i++) {
		if (!c->hist_ok[i])
			continue;
		if (!have || (int32_t)(c->hist[i] - base) < 0)
			base = c->hist[i];
		have = true;
	}
	d = sample - base;
	c->our_delay = (int32_t)d < 0 ? 0 : d;
}

static uint32_t
utp_cwnd_max(const struct utp_conn *c)
{
	uint64_t m = (uint64_t)(UTP_OUTQ / 2) * c->u->mss;

	return m > c->snd.max ? (uint32_t)c->snd.max : (uint32_t)m;
}

/*
 * LEDBAT (RFC 6817 as BEP 29 applies it): off_target = target - delay,
 * cwnd += GAIN * off_target / target * acked / cwnd, so at most
 * UTP_GAIN_BYTES per round trip up or down; slow start while the delay
 * stays below target.  A window the sender does not fill never grows.
 */
static void
utp_ledbat(struct utp_conn *c, uint32_t acked, uint32_t prev_inflight)
{
	int64_t off, delta, cw = c->cwnd, lim;
	bool saturated = (uint64_t)prev_inflight + c->u->mss > c->cwnd;

	off = (int64_t)UTP_TARGET_US - (int64_t)c->our_delay;
	if (off < -(int64_t)UTP_TARGET_US)
		off = -(int64_t)UTP_TARGET_US;
	delta = (int64_t)UTP_GAIN_BYTES * off * acked /
	    ((cw > acked ? cw : acked) * (int64_t)UTP_TARGET_US);
	if (c->slow_start && c->our_delay >= UTP_TARGET_US / 2) {
		c->slow_start = false;
		c->ssthresh = c->cwnd;
	}
	if (c->slow_start && saturated) {
		if (c->ssthresh != 0 && cw + acked > c->ssthresh)
			c->slow_start = false;
		else if (delta < acked)
			delta = acked;
	}
	if (!saturated && delta > 0)
		delta = 0;
	cw += delta;
	lim = utp_cwnd_max(c);
	if (cw > lim)
		cw = lim;
	if (cw < c->u->mss)
		cw = c->u->mss;
	c->cwnd = (uint32_t)cw;
}

/* Halve the window once per window of data (packets sent before the
 * last cut do not cut again). */
static void
utp_on_loss(struct utp_conn *c, uint16_t seq)
{
	if (utp_seq_lt(seq, c->loss_seq))
		return;
	c->cwnd /= 2;
	if (c->cwnd < c->u->mss)
		c->cwnd = c->u->mss;
	c->ssthresh = c->cwnd;
	c->slow_start = false;
	c->loss_seq = c->seq_nr;
}

static void
utp_mark_lost(struct utp_conn *c, uint16_t seq, bool fast)
{
	struct utp_pkt *p = &c->outq[seq & (UTP_OUTQ - 1)];

	if ((p->flags & UTP_PKT_USED) == 0 ||
	    (p->flags & (UTP_PKT_LOST | UTP_PKT_SACKED)) != 0)
		return;
	p->flags |= UTP_PKT_LOST;
	c->nlost++;
	c->inflight -= p->len;
	if (fast) {
		p->flags |= UTP_PKT_FAST;
		c->u->st.fast_retransmits++;
		utp_on_loss(c, seq);
	}
}

/* Forget an acked packet; count its bytes once. */
static void
utp_ack_pkt(struct utp_conn *c, uint16_t seq, uint64_t now, uint32_t *acked,
    bool sack)
{
	struct utp_pkt *p = &c->outq[seq & (UTP_OUTQ - 1)];

	if ((p->flags & UTP_PKT_USED) == 0)
		return;
	if ((p->flags & UTP_PKT_SACKED) == 0) {
		*acked += p->len;
		if (p->flags & UTP_PKT_LOST)
			c->nlost--;
		else
			c->inflight -= p->len;
		/* Karn: only packets sent once give a clean sample, and
		 * not one marked lost by a timeout: its ack may come late,
		 * with the resent hole, and would count the RTO as RTT. */
		if (p->ntx == 1 && (p->flags & UTP_PKT_LOST) == 0 &&
		    now >= p->sent_us)
			utp_rtt_sample(c, now - p->sent_us);
	}
	if (sack) {
		p->flags = UTP_PKT_USED | UTP_PKT_SACKED |
		    (p->flags & UTP_PKT_FIN);
		return;
	}
	if ((p->flags & UTP_PKT_FIN) != 0)
		c->fin_acked = true;
	memset(p, 0, sizeof *p);
}

static void
utp_sack(struct utp_conn *c, const struct utp_hdr *h, uint64_t now,
    uint32_t *acked)
{
	uint16_t out = (uint16_t)(c->seq_nr - c->seq_base), s, top;
	uint16_t fast = c->fast_seq;
	size_t i, nbits = h->sacklen * 8;
	unsigned above = 0;
	struct utp_pkt *p;
	bool any = false;

	if (nbits > UTP_OUTQ)
		nbits = UTP_OUTQ;
	for (i = 0; i < nbits; i++) {
		if ((h->sack[i / 8] & (1u << (i % 8))) == 0)
			continue;
		s = (uint16_t)(h->ack + 2 + i);
		if ((uint16_t)(s - c->seq_base) >= out)
			continue;
		utp_ack_pkt(c, s, now, acked, true);
		any = true;
	}
	if (!any)
		return;
	/* A packet with UTP_DUP_ACKS acked packets after it is lost. */
	top = (uint16_t)(h->ack + 2 + nbits);
	if ((uint16_t)(top - c->seq_base) > out)
		top = c->seq_nr;
	for (s = top; s != c->seq_base;) {
		s--;
		p = &c->outq[s & (UTP_OUTQ - 1)];
		if ((p->flags & UTP_PKT_USED) == 0)
			continue;
		if (p->flags & UTP_PKT_SACKED) {
			above++;
			continue;
		}
		if (above >= UTP_DUP_ACKS && !utp_seq_lt(s, c->fast_seq)) {
			utp_mark_lost(c, s, true);
			if (!utp_seq_lt(s, fast))
				fast = (uint16_t)(s + 1);
		}
	}
	/* Each hole is resent this way once; a second loss waits for the
	 * timeout. */
	c->fast_seq = fast;
}

/* Append in-order bytes; false when they do not fit. */
static bool
utp_deliver(struct utp_conn *c, const uint8_t *p, size_t n, bool counted)
{
	if (n == 0)
		return true;
	if (!counted && n > utp_window_free(c))
		return false;
	if (utp_ring_push(&c->rcv, p, n) != n)
		return false;
	/* A released connection only drains the peer's bytes to reach
	 * its FIN. */
	if (c->released)
		utp_ring_drop(&c->rcv, c->rcv.len);
	return true;
}

static void
utp_fin_reached(struct utp_conn *c, uint16_t seq)
{
	unsigned i;

	c->got_fin = true;
	c->fin_done = true;
	c->eof_seq = seq;
	/* Nothing after the FIN counts. */
	if (c->inq != NULL)
		for (i = 0; i < UTP_INQ; i++) {
			if (c->inq[i] == NULL)
				continue;
			c->inq_bytes -= c->inq[i]->len;
			free(c->inq[i]);
			c->inq[i] = NULL;
		}
	c->inq_count = 0;
}

static void
utp_receive(struct utp_conn *c, const struct utp_hdr *h, uint16_t dist)
{
	struct utp_stats *st = &c->u->st;
	struct utp_seg *g;
	uint16_t s;

	c->ack_pending = true;
	if (dist >= 0x8000) {
		st->duplicate++;
		return;
	}
	if (c->fin_done ||
	    (c->got_fin && !utp_seq_lt(h->seq, c->eof_seq) &&
	    h->seq != c->eof_seq))
		return;
	if (dist != 0) {
		if (c->inq == NULL &&
		    (c->inq = thr_calloc(UTP_INQ, sizeof *c->inq)) == NULL)
			return;
		if (c->inq[h->seq & (UTP_INQ - 1)] != NULL) {
			st->duplicate++;
			return;
		}
		if (h->paylen > utp_window_free(c)) {
			st->no_room++;
			return;
		}
		if ((g = thr_malloc(sizeof *g + h->paylen)) == NULL)
			return;
		g->len = h->paylen;
		g->type = h->type;
		memcpy(g->data, h->pay, h->paylen);
		c->inq[h->seq & (UTP_INQ - 1)] = g;
		c->inq_bytes += h->paylen;
		c->inq_count++;
		if (h->type == UTP_ST_FIN) {
			c->got_fin = true;
			c->eof_seq = h->seq;
		}
		return;
	}
	if (!utp_deliver(c, h->pay, h->paylen, false)) {
		st->no_room++;
		return;
	}
	c->ack_nr = h->seq;
	if (h->type == UTP_ST_FIN) {
		utp_fin_reached(c, h->seq);
		return;
	}
	while (c->inq != NULL && c->inq_count > 0) {
		s = (uint16_t)(c->ack_nr + 1);
		g = c->inq[s & (UTP_INQ - 1)];
		if (g == NULL || !utp_deliver(c, g->data, g->len, true))
			break;
		c->inq[s & (UTP_INQ - 1)] = NULL;
		c->inq_bytes -= g->len;
		c->inq_count--;
		c->ack_nr = s;
		if (g->type == UTP_ST_FIN) {
			free(g);
			utp_fin_reached(c, s);
			break;
		}
		free(g);
	}
}

static void
utp_update_close(struct utp_conn *c)
{
	if (c->state == UTP_CONNECTED && (c->fin_sent || c->fin_done))
		utp_conn_set_state(c, UTP_CLOSING, NULL);
	if (c->state == UTP_CLOSING && c->fin_sent && c->fin_acked &&
	    c->fin_done)
		utp_conn_set_state(c, UTP_CLOSED, "closed");
}

/*
 * The send side of an accepted packet h, apart from the receive side
 * so that each reads on its own: the cumulative ack frees the packets
 * and send ring bytes it covers, a reopened window resends the refused
 * probe at once, the selective ack frees the packets it names, and
 * duplicate or selective acks past a hole resend it at once (fast
 * retransmit).  old_wnd is the peer's window before h.  Bytes newly
 * acked are added to *acked for LEDBAT, which the caller runs only when
 * h carried a delay sample.
 */
static void
utp_take_ack(struct utp_conn *c, const struct utp_hdr *h, uint64_t now,
    uint32_t old_wnd, uint32_t *acked)
{
	uint16_t newbase_seq;
	uint64_t newbase;

	if (utp_seq_lt((uint16_t)(c->seq_base - 1), h->ack)) {
		for (newbase_seq = c->seq_base;
		    newbase_seq != (uint16_t)(h->ack + 1); newbase_seq++)
			utp_ack_pkt(c, newbase_seq, now, acked, false);
		c->seq_base = (uint16_t)(h->ack + 1);
		if (utp_seq_lt(c->fast_seq, c->seq_base))
			c->fast_seq = c->seq_base;
		newbase = c->seq_base == c->seq_nr ? c->snext :
		    c->outq[c->seq_base & (UTP_OUTQ - 1)].off;
		utp_ring_drop(&c->snd, (size_t)(newbase - c->sbase));
		c->sbase = newbase;
		c->dup_acks = 0;
		c->ntimeouts = 0;
		c->rto_at = c->seq_base == c->seq_nr ? 0 :
		    now + utp_rto_cur(c);
	} else if (c->seq_base != c->seq_nr &&
	    c->peer_wnd > old_wnd &&
	    c->peer_wnd >= c->outq[c->seq_base & (UTP_OUTQ - 1)].len &&
	    old_wnd < c->outq[c->seq_base & (UTP_OUTQ - 1)].len) {
		/* The window reopened: the probe it refused goes again now
		 * rather than after a backed-off timeout. */
		utp_mark_lost(c, c->seq_base, false);
		c->ntimeouts = 0;
		c->rto_at = now + utp_rto_cur(c);
	} else if (h->ack == (uint16_t)(c->seq_base - 1) &&
	    c->seq_base != c->seq_nr && h->type == UTP_ST_STATE &&
	    c->peer_wnd > c->inflight) {
		/* As libtorrent: only state packets count as duplicates,
		 * and not while the peer's window explains the silence. */
		c->dup_acks++;
	}
	if (h->sack != NULL && c->seq_base != c->seq_nr)
		utp_sack(c, h, now, acked);
	if (c->dup_acks >= UTP_DUP_ACKS && c->seq_base != c->seq_nr &&
	    !utp_seq_lt(c->seq_base, c->fast_seq)) {
		utp_mark_lost(c, c->seq_base, true);
		c->fast_seq = (uint16_t)(c->seq_base + 1);
		c->dup_acks = 0;
	}
}

static void
utp_conn_input(struct utp *u, struct utp_conn *c, const struct utp_hdr *h,
    uint64_t now)
{
	uint16_t last_sent, dist;
	uint32_t acked = 0, prev_inflight, sample, old_wnd;
	bool data = h->type == UTP_ST_DATA || h->type == UTP_ST_FIN;
	bool have_sample;

	if (c->state == UTP_CLOSED) {
		/* Our ack of its FIN was lost: the peer sends it again. */
		if (c->fin_done && h->type == UTP_ST_FIN &&
		    h->seq == c->eof_seq)
			c->ack_pending = true;
		return;
	}
	last_sent = (uint16_t)(c->seq_nr - 1);
	if (c->state == UTP_CONNECTING) {
		/* Only the answer to our SYN; see the header for why the
		 * ack_nr is its seq_nr - 1. */
		if ((h->type != UTP_ST_STATE && h->type != UTP_ST_DATA) ||
		    h->ack != last_sent) {
			u->st.bad_ack++;
			return;
		}
		c->ack_nr = (uint16_t)(h->seq - 1);
		if (c->syn_tries == 1 && now >= c->syn_sent_us)
			utp_rtt_sample(c, now - c->syn_sent_us);
		c->syn_due = false;
		utp_conn_set_state(c, UTP_CONNECTED, NULL);
	}
	if (utp_seq_lt(last_sent, h->ack) ||
	    (utp_seq_lt(h->ack, (uint16_t)(c->seq_base - 1)) &&
	    (uint16_t)(c->seq_base - 1 - h->ack) > UTP_OUTQ)) {
		u->st.bad_ack++;
		return;
	}
	dist = (uint16_t)(h->seq - (uint16_t)(c->ack_nr + 1));
	if (data) {
		if (dist < 0x8000 && dist >= UTP_INQ) {
			u->st.out_of_window++;
			return;
		}
	} else if (dist >= UTP_INQ && dist <= 0x10000 - UTP_INQ) {
		u->st.out_of_window++;
		return;
	}

	/* A valid packet: the peer is alive, though maybe not reading. */
	c->nsilent = 0;
	if (h->ts != 0)
		c->reply_micro = (uint32_t)now - h->ts;
	old_wnd = c->peer_wnd;
	c->peer_wnd = h->wnd;
	if (c->peer_wnd > 0)
		c->probe_at = 0;
	sample = h->tsdiff;
	have_sample = sample != 0 && sample != UTP_NO_SAMPLE;
	if (have_sample)
		utp_delay_sample(c, sample, now);

	prev_inflight = c->inflight;
	utp_take_ack(c, h, now, old_wnd, &acked);
	if (acked > 0 && have_sample)
		utp_ledbat(c, acked, prev_inflight);
	if (data)
		utp_receive(c, h, dist);
	utp_update_close(c);
}

static void
utp_queue_reset(struct utp *u, const struct thr_addr *to, uint16_t cid,
    uint16_t ack)
{
	struct utp_rst *r;

	if (u->rst_len >= UTP_RSTQ_MAX)
		return;
	r = &u->rstq[(u->rst_head + u->rst_len) % UTP_RSTQ_MAX];
	r->to = *to;
	r->cid = cid;
	r->seq = (uint16_t)rng_next(&u->rng);
	r->ack = ack;
	u->rst_len++;
}

static void
utp_syn(struct utp *u, const struct thr_addr *from, const struct utp_hdr *h,
    uint64_t now)
{
	struct utp_conn *c;
	uint16_t recv_id = (uint16_t)(h->cid + 1);

	if ((c = utp_find(u, from, recv_id)) != NULL) {
		/* Our state packet was lost: say it again. */
		if (c->incoming && c->state != UTP_CLOSED &&
		    h->seq == c->syn_seq_in)
			c->ack_pending = true;
		else
			u->st.duplicate++;
		return;
	}
	if (u->bl_len >= u->cfg.backlog ||
	    (c = utp_conn_new(u, from, recv_id, h->cid, now)) == NULL) {
		u->st.refused++;
		utp_queue_reset(u, from, h->cid, h->seq);
		return;
	}
	c->incoming = true;
	c->syn_seq_in = h->seq;
	c->ack_nr = h->seq;
	c->peer_wnd = h->wnd;
	if (h->ts != 0)
		c->reply_micro = (uint32_t)now - h->ts;
	c->ack_pending = true;
	utp_conn_set_state(c, UTP_CONNECTED, NULL);
	c->in_backlog = true;
	u->backlog[u->bl_len++] = c;
}

bool
utp_is_packet(const uint8_t *d, size_t n)
{
	return d != NULL && n >= UTP_HDR_LEN &&
	    (d[0] & 0x0f) == UTP_VERSION && (d[0] >> 4) <= UTP_ST_SYN;
}

struct utp_conn *
utp_input(struct utp *u, const struct thr_addr *from, const uint8_t *d,
    size_t n, uint64_t now_us)
{
	struct utp_hdr h;
	struct utp_conn *c;

	utp_update_now(u, now_us);
	u->st.packets_in++;
	if (!utp_parse(d, n, &h)) {
		u->st.malformed++;
		return NULL;
	}
	switch (h.type) {
	case UTP_ST_SYN:
		utp_syn(u, from, &h, now_us);
		return NULL;
	case UTP_ST_RESET:
		/* Senders disagree on which id a reset carries: take either
		 * of ours. */
		c = utp_find(u, from, h.cid);
		if (c == NULL &&
		    (c = utp_find(u, from, (uint16_t)(h.cid + 1))) != NULL &&
		    c->send_id != h.cid)
			c = NULL;
		if (c == NULL &&
		    (c = utp_find(u, from, (uint16_t)(h.cid - 1))) != NULL &&
		    c->send_id != h.cid)
			c = NULL;
		if (c == NULL || c->state == UTP_CLOSED) {
			u->st.unknown_conn++;
			return NULL;
		}
		u->st.resets_in++;
		utp_conn_set_state(c, UTP_CLOSED,
		    c->state == UTP_CONNECTING ? "refused" :
		    "connection reset");
		return c;
	default:
		if ((c = utp_find(u, from, h.cid)) == NULL) {
			u->st.unknown_conn++;
			utp_queue_reset(u, from, h.cid, h.seq);
			return NULL;
		}
		utp_conn_input(u, c, &h, now_us);
		return c;
	}
}

/* Put packet seq (data or FIN) on the wire. */
static size_t
utp_send_pkt(struct utp_conn *c, uint16_t seq, uint8_t *buf, uint64_t now)
{
	struct utp_pkt *p = &c->outq[seq & (UTP_OUTQ - 1)];
	size_t hl;

	hl = utp_conn_hdr(c, buf, (p->flags & UTP_PKT_FIN) ? UTP_ST_FIN :
	    UTP_ST_DATA, seq, now);
	utp_ring_peek(&c->snd, (size_t)(p->off - c->sbase), buf + hl,
	    p->len);
	if (p->ntx > 0)
		c->u->st.retransmits++;
	if (p->ntx < UINT8_MAX)
		p->ntx++;
	p->sent_us = now;
	if (p->flags & UTP_PKT_LOST) {
		p->flags &= (uint8_t)~(UTP_PKT_LOST | UTP_PKT_FAST);
		c->nlost--;
	}
	c->inflight += p->len;
	if (c->rto_at == 0)
		c->rto_at = now + utp_rto_cur(c);
	return hl + p->len;
}

static size_t
utp_conn_output(struct utp_conn *c, uint8_t *buf, uint64_t now)
{
	struct utp *u = c->u;
	struct utp_pkt *p;
	uint64_t unsent;
	uint32_t win, room, len;
	uint16_t s, out;
	size_t hl;

	if (c->reset_pending) {
		utp_conn_hdr(c, buf, UTP_ST_RESET, c->seq_nr, now);
		c->reset_pending = false;
		u->st.resets_out++;
		return UTP_HDR_LEN;
	}
	if (c->state == UTP_CLOSED) {
		if (!c->ack_pending)
			return 0;
		return utp_conn_hdr(c, buf, UTP_ST_STATE, c->seq_nr, now);
	}
	if (c->state == UTP_CONNECTING) {
		if (!c->syn_due)
			return 0;
		c->syn_due = false;
		c->syn_tries++;
		c->syn_sent_us = now;
		c->syn_at = now + UTP_SYN_RTO_US;
		return utp_conn_hdr(c, buf, UTP_ST_SYN,
		    (uint16_t)(c->seq_nr - 1), now);
	}
	win = c->cwnd < c->peer_wnd ? c->cwnd : c->peer_wnd;
	room = win > c->inflight ? win - c->inflight : 0;
	out = (uint16_t)(c->seq_nr - c->seq_base);
	if (c->nlost > 0) {
		for (s = c->seq_base; s != c->seq_nr; s++) {
			p = &c->outq[s & (UTP_OUTQ - 1)];
			if ((p->flags & UTP_PKT_LOST) == 0)
				continue;
			if (room < p->len && c->inflight > 0 &&
			    (p->flags & UTP_PKT_FAST) == 0)
				break;
			return utp_send_pkt(c, s, buf, now);
		}
	}
	unsent = c->sbase + c->snd.len - c->snext;
	if (unsent > 0 && out < UTP_OUTQ - 1) {
		len = unsent > u->mss ? u->mss : (uint32_t)unsent;
		if (c->push > c->snext && c->push - c->snext < len)
			len = (uint32_t)(c->push - c->snext);
		if (room < len) {
			if (c->inflight > 0)
				goto ack;
			if (c->peer_wnd == 0) {
				/* Zero window: one probe per timeout. */
				if (!c->probe_ok) {
					if (c->probe_at == 0)
						c->probe_at = now +
						    utp_rto_cur(c);
					goto ack;
				}
				c->probe_ok = false;
			} else if (c->peer_wnd < len)
				len = c->peer_wnd;
		}
		p = &c->outq[c->seq_nr & (UTP_OUTQ - 1)];
		memset(p, 0, sizeof *p);
		p->flags = UTP_PKT_USED;
		p->off = c->snext;
		p->len = len;
		c->snext += len;
		s = c->seq_nr++;
		return utp_send_pkt(c, s, buf, now);
	}
	if (c->close_req && !c->fin_sent && unsent == 0 && out < UTP_OUTQ - 1) {
		p = &c->outq[c->seq_nr & (UTP_OUTQ - 1)];
		memset(p, 0, sizeof *p);
		p->flags = UTP_PKT_USED | UTP_PKT_FIN;
		p->off = c->snext;
		c->fin_seq = c->seq_nr;
		c->fin_sent = true;
		s = c->seq_nr++;
		utp_update_close(c);
		return utp_send_pkt(c, s, buf, now);
	}
ack:
	if (c->ack_pending) {
		hl = utp_conn_hdr(c, buf, UTP_ST_STATE, c->seq_nr, now);
		return hl;
	}
	return 0;
}

size_t
utp_output(struct utp *u, struct thr_addr *to, uint8_t *buf, size_t cap,
    uint64_t now_us)
{
	struct utp_conn *c;
	struct utp_rst *r;
	unsigned i, idx;
	size_t n;

	utp_update_now(u, now_us);
	if (buf == NULL || cap < u->cfg.packet_size)
		return 0;
	if (u->rst_len > 0) {
		r = &u->rstq[u->rst_head];
		u->rst_head = (u->rst_head + 1) % UTP_RSTQ_MAX;
		u->rst_len--;
		buf[0] = UTP_ST_RESET << 4 | UTP_VERSION;
		buf[1] = 0;
		utp_put16(buf + 2, r->cid);
		utp_put32(buf + 4, (uint32_t)now_us);
		utp_put32(buf + 8, 0);
		utp_put32(buf + 12, 0);
		utp_put16(buf + 16, r->seq);
		utp_put16(buf + 18, r->ack);
		*to = r->to;
		u->st.resets_out++;
		u->st.packets_out++;
		return UTP_HDR_LEN;
	}
	for (i = 0; i < u->top; i++) {
		idx = (u->rr + i) % u->top;
		if ((c = u->slots[idx]) == NULL)
			continue;
		if ((n = utp_conn_output(c, buf, now_us)) == 0)
			continue;
		u->rr = (idx + 1) % u->top;
		*to = c->peer;
		u->st.packets_out++;
		if (c->released && c->state == UTP_CLOSED &&
		    !c->reset_pending && !c->ack_pending)
			utp_conn_destroy(c);
		return n;
	}
	return 0;
}

static void
utp_timeout(struct utp_conn *c, uint64_t now)
{
	uint16_t s;

	c->u->st.timeouts++;
	if (++c->nsilent > UTP_MAX_TIMEOUTS) {
		utp_conn_set_state(c, UTP_CLOSED, "timed out");
		return;
	}
	c->ntimeouts++;
	for (s = c->seq_base; s != c->seq_nr; s++)
		utp_mark_lost(c, s, false);
	c->ssthresh = c->cwnd / 2;
	if (c->ssthresh < 2 * c->u->mss)
		c->ssthresh = 2 * c->u->mss;
	c->cwnd = c->u->mss;
	c->slow_start = true;
	c->loss_seq = c->seq_nr;
	c->dup_acks = 0;
	c->rto_at = now + utp_rto_cur(c);
}

void
utp_tick(struct utp *u, uint64_t now_us)
{
	struct utp_conn *c;
	unsigned i;

	utp_update_now(u, now_us);
	for (i = 0; i < u->top; i++) {
		if ((c = u->slots[i]) == NULL)
			continue;
		if (c->state == UTP_CONNECTING && now_us >= c->syn_at) {
			if (c->syn_tries >= UTP_SYN_TRIES)
				utp_conn_set_state(c, UTP_CLOSED,
				    "connect timed out");
			else
				c->syn_due = true;
		}
		if (c->state == UTP_CONNECTED || c->state == UTP_CLOSING) {
			if (c->seq_base != c->seq_nr && c->rto_at != 0 &&
			    now_us >= c->rto_at)
				utp_timeout(c, now_us);
			if (c->probe_at != 0 && now_us >= c->probe_at) {
				c->probe_ok = true;
				c->probe_at = 0;
			}
			if (now_us - c->last_send >= UTP_KEEPALIVE_US)
				c->ack_pending = true;
		}
		if (c->in_backlog && c->state == UTP_CLOSED) {
			utp_conn_destroy(c);
			continue;
		}
		if (c->released && ((c->state == UTP_CLOSED &&
		    !c->reset_pending && !c->ack_pending) ||
		    (c->linger_at != 0 && now_us >= c->linger_at)))
			utp_conn_destroy(c);
	}
}

uint64_t
utp_next_deadline(const struct utp *u)
{
	const struct utp_conn *c;
	uint64_t dl = UINT64_MAX;
	unsigned i;

#define UTP_MIN_DL(t) do { if ((t) < dl) dl = (t); } while (0)
	for (i = 0; i < u->top; i++) {
		if ((c = u->slots[i]) == NULL)
			continue;
		if (c->state == UTP_CONNECTING)
			UTP_MIN_DL(c->syn_at);
		if (c->state == UTP_CONNECTED || c->state == UTP_CLOSING) {
			if (c->seq_base != c->seq_nr && c->rto_at != 0)
				UTP_MIN_DL(c->rto_at);
			if (c->probe_at != 0)
				UTP_MIN_DL(c->probe_at);
			UTP_MIN_DL(c->last_send + UTP_KEEPALIVE_US);
		}
		if (c->released && c->linger_at != 0)
			UTP_MIN_DL(c->linger_at);
		if ((c->released || c->in_backlog) &&
		    c->state == UTP_CLOSED && !c->reset_pending &&
		    !c->ack_pending)
			UTP_MIN_DL(u->now);
	}
#undef UTP_MIN_DL
	return dl;
}

static size_t
utp_clamp(size_t v, size_t def, size_t lo, size_t hi)
{
	if (v == 0)
		v = def;
	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	return v;
}

struct utp *
utp_new(const struct utp_config *cfg)
{
	struct utp *u;

	if ((u = thr_calloc(1, sizeof *u)) == NULL)
		return NULL;
	u->cfg = *cfg;
	u->cfg.max_conns = (unsigned)utp_clamp(cfg->max_conns,
	    UTP_MAX_CONNS_DEFAULT, 1, UTP_MAX_CONNS_CAP);
	u->cfg.backlog = (unsigned)utp_clamp(cfg->backlog,
	    UTP_BACKLOG_DEFAULT, 1, u->cfg.max_conns);
	u->cfg.send_buf = utp_clamp(cfg->send_buf, UTP_BUF_DEFAULT,
	    UTP_BUF_MIN, UTP_BUF_MAX);
	u->cfg.recv_buf = utp_clamp(cfg->recv_buf, UTP_BUF_DEFAULT,
	    UTP_BUF_MIN, UTP_BUF_MAX);
	u->cfg.packet_size = utp_clamp(cfg->packet_size, UTP_PACKET_DEFAULT,
	    UTP_PACKET_MIN, UTP_PACKET_MAX);
	u->mss = (uint32_t)(u->cfg.packet_size - UTP_HDR_LEN - UTP_SACK_ROOM);
	rng_seed(&u->rng, cfg->seed);
	u->slots = thr_calloc(u->cfg.max_conns, sizeof *u->slots);
	u->backlog = thr_calloc(u->cfg.backlog, sizeof *u->backlog);
	if (u->slots == NULL || u->backlog == NULL) {
		free(u->slots);
		free(u->backlog);
		free(u);
		return NULL;
	}
	return u;
}

void
utp_free(struct utp *u)
{
	unsigned i;

	if (u == NULL)
		return;
	for (i = 0; i < u->cfg.max_conns; i++)
		if (u->slots[i] != NULL)
			utp_conn_destroy(u->slots[i]);
	free(u->slots);
	free(u->backlog);
	free(u);
}

const struct utp_stats *
utp_stats(const struct utp *u)
{
	return &u->st;
}

struct utp_conn *
utp_connect(struct utp *u, const struct thr_addr *to, uint64_t now_us)
{
	struct utp_conn *c;
	uint16_t id;
	unsigned tries;

	utp_update_now(u, now_us);
	/* recv_id and recv_id + 1 must both be free towards this peer. */
	for (tries = 0; tries < 64; tries++) {
		id = (uint16_t)rng_next(&u->rng);
		if (utp_find(u, to, id) == NULL &&
		    utp_find(u, to, (uint16_t)(id + 1)) == NULL)
			break;
	}
	if (tries == 64)
		return NULL;
	if ((c = utp_conn_new(u, to, id, (uint16_t)(id + 1), now_us)) == NULL)
		return NULL;
	/* The SYN takes seq_nr; data starts one later. */
	c->seq_nr++;
	c->seq_base = c->seq_nr;
	c->fast_seq = c->seq_nr;
	c->loss_seq = c->seq_nr;
	c->state = UTP_CONNECTING;
	c->syn_due = true;
	c->syn_at = now_us;
	return c;
}

struct utp_conn *
utp_accept(struct utp *u)
{
	struct utp_conn *c;

	while (u->bl_len > 0) {
		c = u->backlog[0];
		memmove(&u->backlog[0], &u->backlog[1],
		    (u->bl_len - 1) * sizeof *u->backlog);
		u->bl_len--;
		c->in_backlog = false;
		if (c->state != UTP_CLOSED)
			return c;
		utp_conn_destroy(c);
	}
	return NULL;
}

size_t
utp_write(struct utp_conn *c, const uint8_t *d, size_t n, uint64_t now_us)
{
	utp_update_now(c->u, now_us);
	if (c->state == UTP_CLOSED || c->close_req || d == NULL)
		return 0;
	return utp_ring_push(&c->snd, d, n);
}

void
utp_push(struct utp_conn *c)
{
	uint64_t end = c->sbase + c->snd.len;

	if (end > c->snext)
		c->push = end;
}

size_t
utp_read(struct utp_conn *c, uint8_t *d, size_t n)
{
	uint32_t mss = c->u->mss;

	if (n > c->rcv.len)
		n = c->rcv.len;
	if (n == 0)
		return 0;
	utp_ring_peek(&c->rcv, 0, d, n);
	utp_ring_drop(&c->rcv, n);
	/* The peer may be stalled on our window: tell it it reopened. */
	if (c->state != UTP_CLOSED && c->adv_wnd < 2 * mss &&
	    utp_window_free(c) >= 2 * mss)
		c->ack_pending = true;
	return n;
}

void
utp_close(struct utp_conn *c)
{
	c->close_req = true;
}

void
utp_conn_free(struct utp_conn *c)
{
	if (c == NULL)
		return;
	c->released = true;
	c->user = NULL;
	utp_ring_drop(&c->rcv, c->rcv.len);
	if (c->state == UTP_CLOSED) {
		if (!c->reset_pending && !c->ack_pending)
			utp_conn_destroy(c);
		return;
	}
	if (c->close_req) {
		c->linger_at = c->u->now + UTP_LINGER_US;
		return;
	}
	/* Not closed gracefully: the peer must learn at once. */
	if (c->state != UTP_CONNECTING)
		c->reset_pending = true;
	utp_conn_set_state(c, UTP_CLOSED, "closed");
	if (!c->reset_pending)
		utp_conn_destroy(c);
}

enum utp_state
utp_conn_state(const struct utp_conn *c)
{
	return c->state;
}

const char *
utp_conn_reason(const struct utp_conn *c)
{
	return c->reason;
}

bool
utp_conn_eof(const struct utp_conn *c)
{
	return c->fin_done && c->rcv.len == 0;
}

size_t
utp_conn_readable(const struct utp_conn *c)
{
	return c->rcv.len;
}

size_t
utp_conn_queued(const struct utp_conn *c)
{
	return c->snd.len;
}

size_t
utp_conn_writable(const struct utp_conn *c)
{
	if (c->state == UTP_CLOSED || c->close_req)
		return 0;
	return c->snd.max - c->snd.len;
}

const struct thr_addr *
utp_conn_peer(const struct utp_conn *c)
{
	return &c->peer;
}

void
utp_conn_set_user(struct utp_conn *c, void *user)
{
	c->user = user;
}

void *
utp_conn_user(const struct utp_conn *c)
{
	return c->user;
}

uint32_t
utp_conn_rtt_us(const struct utp_conn *c)
{
	return c->srtt;
}

uint32_t
utp_conn_cwnd(const struct utp_conn *c)
{
	return c->cwnd;
}

uint32_t
utp_conn_delay_us(const struct utp_conn *c)
{
	return c->our_delay;
}

uint32_t
utp_conn_rto_us(const struct utp_conn *c)
{
	return utp_rto_cur(c);
}
