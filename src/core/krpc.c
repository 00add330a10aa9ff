/*
 * krpc.c: KRPC (BEP 5) messages to and from bencode.
 *
 * The packet is decoded with the bounded bencode decoder, then the few
 * keys we know are copied into a fixed-size struct krpc_msg; unknown keys
 * are ignored (BEP 5 lets clients add their own, such as "v" and "ip").
 * Nothing in the result points into the packet.
 */
#include "config.h"

#include <string.h>

#include "bencode.h"
#include "krpc.h"

static const char *const krpc_names[] = {
	[KRPC_NONE] = "none",
	[KRPC_PING] = "ping",
	[KRPC_FIND_NODE] = "find_node",
	[KRPC_GET_PEERS] = "get_peers",
	[KRPC_ANNOUNCE_PEER] = "announce_peer",
	[KRPC_UNKNOWN] = "unknown",
};

const char *
krpc_method_name(enum krpc_method method)
{
	if ((unsigned)method >= sizeof(krpc_names) / sizeof(krpc_names[0]))
		return "unknown";
	return krpc_names[method];
}

/* Copy a 20-byte string value of key into out; false if absent or of
 * another length. */
static bool
krpc_get_id(const struct bencode *b, size_t d, const char *key, uint8_t *out)
{
	const uint8_t *p;
	size_t n;

	if (!bencode_dict_str(b, d, key, &p, &n) || n != KRPC_ID_LEN)
		return false;
	memcpy(out, p, KRPC_ID_LEN);
	return true;
}

/* Read compact nodes of entry size esz from key into m->nodes. */
static void
krpc_get_nodes(const struct bencode *b, size_t d, const char *key,
    size_t esz, struct krpc_msg *m)
{
	const uint8_t *p;
	size_t n, off, iplen = esz - KRPC_ID_LEN - 2;
	struct krpc_node *kn;

	if (!bencode_dict_str(b, d, key, &p, &n))
		return;
	for (off = 0; n - off >= esz && m->nnodes < KRPC_MAX_NODES;
	    off += esz) {
		uint16_t port = be16(p + off + esz - 2);

		if (port == 0)
			continue;
		kn = &m->nodes[m->nnodes++];
		memset(kn, 0, sizeof(*kn));
		memcpy(kn->id, p + off, KRPC_ID_LEN);
		kn->addr.family = iplen == 4 ? 4 : 6;
		memcpy(kn->addr.ip, p + off + KRPC_ID_LEN, iplen);
		kn->addr.port = port;
	}
}

static void
krpc_get_values(const struct bencode *b, size_t d, struct krpc_msg *m)
{
	size_t v, t, n;
	const uint8_t *p;
	struct thr_addr *a;

	v = bencode_dict_get(b, d, "values");
	if (v == BENCODE_NONE || !bencode_is(b, v, BENCODE_LIST))
		return;
	m->has_values = true;
	for (t = bencode_first(b, v); t != BENCODE_NONE &&
	    m->nvalues < KRPC_MAX_VALUES; t = bencode_next(b, t)) {
		if (!bencode_str(b, t, &p, &n) || (n != 6 && n != 18))
			continue;
		if (be16(p + n - 2) == 0)
			continue;
		a = &m->values[m->nvalues++];
		memset(a, 0, sizeof(*a));
		a->family = n == 6 ? 4 : 6;
		memcpy(a->ip, p, n - 2);
		a->port = be16(p + n - 2);
	}
}

/* The fields of an "a" or "r" dict. */
static void
krpc_get_args(const struct bencode *b, size_t d, struct krpc_msg *m)
{
	const uint8_t *p;
	size_t n;
	int64_t v;

	m->has_id = krpc_get_id(b, d, "id", m->id);
	m->has_target = krpc_get_id(b, d, "target", m->target);
	m->has_info_hash = krpc_get_id(b, d, "info_hash", m->info_hash);
	if (bencode_dict_int(b, d, "port", &v) && v > 0 && v <= 65535) {
		m->has_port = true;
		m->port = (uint16_t)v;
	}
	if (bencode_dict_int(b, d, "implied_port", &v) && v != 0)
		m->implied_port = true;
	if (bencode_dict_str(b, d, "token", &p, &n) && n <= KRPC_TOKEN_MAX) {
		m->has_token = true;
		memcpy(m->token, p, n);
		m->tokenlen = n;
	}
	krpc_get_nodes(b, d, "nodes", KRPC_NODE4_LEN, m);
	krpc_get_nodes(b, d, "nodes6", KRPC_NODE6_LEN, m);
	krpc_get_values(b, d, m);
}

static enum krpc_method
krpc_method_of(const uint8_t *p, size_t n)
{
	enum krpc_method i;

	for (i = KRPC_PING; i < KRPC_UNKNOWN; i++)
		if (strlen(krpc_names[i]) == n &&
		    memcmp(krpc_names[i], p, n) == 0)
			return i;
	return KRPC_UNKNOWN;
}

int
krpc_parse(const uint8_t *pkt, size_t len, struct krpc_msg *m,
    struct thr_error *err)
{
	struct bencode b;
	const uint8_t *p;
	size_t n, d, e, t;
	int rc;

	memset(m, 0, sizeof(*m));
	if (len > KRPC_MAX_PACKET)
		return thr_error_set(err, THR_ELIMIT, KRPC_MAX_PACKET,
		    "packet of %zu bytes", len);
	if ((rc = bencode_decode(&b, pkt, len, KRPC_MAX_TOKENS, err)) != 0)
		return rc;
	rc = THR_EINVAL;
	if (!bencode_is(&b, 0, BENCODE_DICT)) {
		thr_error_set(err, rc, 0, "not a dictionary");
		goto out;
	}
	if (!bencode_dict_str(&b, 0, "t", &p, &n) || n > KRPC_TID_MAX) {
		thr_error_set(err, rc, 0, "missing or long transaction id");
		goto out;
	}
	memcpy(m->tid, p, n);
	m->tidlen = n;
	if (!bencode_dict_str(&b, 0, "y", &p, &n) || n != 1) {
		thr_error_set(err, rc, 0, "missing message type");
		goto out;
	}
	switch (p[0]) {
	case 'q':
		m->type = KRPC_QUERY;
		if (!bencode_dict_str(&b, 0, "q", &p, &n)) {
			thr_error_set(err, rc, 0, "query without a method");
			goto out;
		}
		m->method = krpc_method_of(p, n);
		d = bencode_dict_get(&b, 0, "a");
		if (d == BENCODE_NONE || !bencode_is(&b, d, BENCODE_DICT)) {
			thr_error_set(err, rc, 0, "query without arguments");
			goto out;
		}
		krpc_get_args(&b, d, m);
		break;
	case 'r':
		m->type = KRPC_REPLY;
		d = bencode_dict_get(&b, 0, "r");
		if (d == BENCODE_NONE || !bencode_is(&b, d, BENCODE_DICT)) {
			thr_error_set(err, rc, 0, "reply without values");
			goto out;
		}
		krpc_get_args(&b, d, m);
		break;
	case 'e':
		m->type = KRPC_ERROR;
		e = bencode_dict_get(&b, 0, "e");
		t = bencode_first(&b, e);
		if (e == BENCODE_NONE || !bencode_is(&b, e, BENCODE_LIST) ||
		    !bencode_int(&b, t, &m->ecode) ||
		    !bencode_str(&b, bencode_next(&b, t), &p, &n)) {
			thr_error_set(err, rc, 0, "bad error list");
			goto out;
		}
		if (n > KRPC_EMSG_MAX)
			n = KRPC_EMSG_MAX;
		memcpy(m->emsg, p, n);
		m->emsglen = n;
		break;
	default:
		thr_error_set(err, rc, 0, "unknown message type");
		goto out;
	}
	rc = 0;
out:
	bencode_release(&b);
	if (rc != 0)
		memset(m, 0, sizeof(*m));
	return rc;
}

/* "key" then a string value. */
static int
krpc_put_kv(struct buf *out, const char *key, const void *p, size_t n)
{
	int rc;

	if ((rc = bencode_put_cstr(out, key)) != 0)
		return rc;
	return bencode_put_str(out, p, n);
}

static int
krpc_put_ki(struct buf *out, const char *key, int64_t v)
{
	int rc;

	if ((rc = bencode_put_cstr(out, key)) != 0)
		return rc;
	return bencode_put_int(out, v);
}

/* The compact nodes of one family as a single string. */
static int
krpc_put_nodes(struct buf *out, const char *key, const struct krpc_msg *m,
    int family)
{
	uint8_t *p;
	size_t i, cnt = 0, esz, iplen;
	int rc;

	iplen = family == 4 ? 4 : 16;
	esz = KRPC_ID_LEN + iplen + 2;
	for (i = 0; i < m->nnodes; i++)
		if (m->nodes[i].addr.family == family)
			cnt++;
	if (cnt == 0)
		return 0;
	if ((rc = bencode_put_cstr(out, key)) != 0 ||
	    (rc = buf_printf(out, "%zu:", cnt * esz)) != 0)
		return rc;
	if ((p = buf_reserve(out, cnt * esz)) == NULL)
		return THR_ELIMIT;
	for (i = 0; i < m->nnodes; i++) {
		const struct krpc_node *kn = &m->nodes[i];

		if (kn->addr.family != family)
			continue;
		memcpy(p, kn->id, KRPC_ID_LEN);
		memcpy(p + KRPC_ID_LEN, kn->addr.ip, iplen);
		p[esz - 2] = (uint8_t)(kn->addr.port >> 8);
		p[esz - 1] = (uint8_t)kn->addr.port;
		p += esz;
	}
	buf_commit(out, cnt * esz);
	return 0;
}

static int
krpc_put_values(struct buf *out, const struct krpc_msg *m)
{
	uint8_t v[18];
	size_t i, iplen;
	int rc;

	if ((rc = bencode_put_cstr(out, "values")) != 0 ||
	    (rc = bencode_put_list(out)) != 0)
		return rc;
	for (i = 0; i < m->nvalues; i++) {
		iplen = m->values[i].family == 4 ? 4 : 16;
		memcpy(v, m->values[i].ip, iplen);
		v[iplen] = (uint8_t)(m->values[i].port >> 8);
		v[iplen + 1] = (uint8_t)m->values[i].port;
		if ((rc = bencode_put_str(out, v, iplen + 2)) != 0)
			return rc;
	}
	return bencode_put_end(out);
}

/* The "a" or "r" dict, keys in sorted order. */
static int
krpc_put_args(struct buf *out, const struct krpc_msg *m)
{
	int rc;

#define TRY(x)	do { if ((rc = (x)) != 0) return rc; } while (0)
	TRY(bencode_put_dict(out));
	if (m->has_id)
		TRY(krpc_put_kv(out, "id", m->id, KRPC_ID_LEN));
	if (m->implied_port)
		TRY(krpc_put_ki(out, "implied_port", 1));
	if (m->has_info_hash)
		TRY(krpc_put_kv(out, "info_hash", m->info_hash, KRPC_ID_LEN));
	TRY(krpc_put_nodes(out, "nodes", m, 4));
	TRY(krpc_put_nodes(out, "nodes6", m, 6));
	if (m->has_port)
		TRY(krpc_put_ki(out, "port", m->port));
	if (m->has_target)
		TRY(krpc_put_kv(out, "target", m->target, KRPC_ID_LEN));
	if (m->has_token)
		TRY(krpc_put_kv(out, "token", m->token, m->tokenlen));
	if (m->has_values || m->nvalues > 0)
		TRY(krpc_put_values(out, m));
	return bencode_put_end(out);
#undef TRY
}

int
krpc_encode(struct buf *out, const struct krpc_msg *m)
{
	size_t i;
	int rc;

	if (m->tidlen > KRPC_TID_MAX || m->tokenlen > KRPC_TOKEN_MAX ||
	    m->nnodes > KRPC_MAX_NODES || m->nvalues > KRPC_MAX_VALUES ||
	    m->emsglen > KRPC_EMSG_MAX)
		return THR_EINVAL;
	if (m->type == KRPC_QUERY &&
	    (m->method == KRPC_NONE || m->method >= KRPC_UNKNOWN))
		return THR_EINVAL;
	for (i = 0; i < m->nnodes; i++)
		if (m->nodes[i].addr.family != 4 &&
		    m->nodes[i].addr.family != 6)
			return THR_EINVAL;
	for (i = 0; i < m->nvalues; i++)
		if (m->values[i].family != 4 && m->values[i].family != 6)
			return THR_EINVAL;

#define TRY(x)	do { if ((rc = (x)) != 0) return rc; } while (0)
	TRY(bencode_put_dict(out));
	switch (m->type) {
	case KRPC_QUERY:
		TRY(bencode_put_cstr(out, "a"));
		TRY(krpc_put_args(out, m));
		TRY(bencode_put_cstr(out, "q"));
		TRY(bencode_put_cstr(out, krpc_names[m->method]));
		break;
	case KRPC_REPLY:
		TRY(bencode_put_cstr(out, "r"));
		TRY(krpc_put_args(out, m));
		break;
	case KRPC_ERROR:
		TRY(bencode_put_cstr(out, "e"));
		TRY(bencode_put_list(out));
		TRY(bencode_put_int(out, m->ecode));
		TRY(bencode_put_str(out, m->emsg, m->emsglen));
		TRY(bencode_put_end(out));
		break;
	default:
		return THR_EINVAL;
	}
	TRY(krpc_put_kv(out, "t", m->tid, m->tidlen));
	TRY(krpc_put_kv(out, "y", m->type == KRPC_QUERY ? "q" :
	    m->type == KRPC_REPLY ? "r" : "e", 1));
	return bencode_put_end(out);
#undef TRY
}
