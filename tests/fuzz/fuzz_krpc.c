/*
 * fuzz_krpc.c: libFuzzer target for krpc_parse and krpc_encode.
 *
 * A parsed message must keep krpc.h's promises (lengths within their
 * caps, node and value families 4 or 6, no port 0), and every message
 * but a query of an unknown method must encode and parse back to the
 * same fields.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/krpc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct krpc_msg m, m2;

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_krpc: broken invariant: %s\n", what);
	abort();
}

static void
check(const struct krpc_msg *k)
{
	size_t i;

	if (k->tidlen > KRPC_TID_MAX || k->tokenlen > KRPC_TOKEN_MAX ||
	    k->nnodes > KRPC_MAX_NODES || k->nvalues > KRPC_MAX_VALUES ||
	    k->emsglen > KRPC_EMSG_MAX)
		fail("a length over its cap");
	if (k->type != KRPC_QUERY && k->method != KRPC_NONE)
		fail("a method outside a query");
	for (i = 0; i < k->nnodes; i++)
		if ((k->nodes[i].addr.family != 4 &&
		    k->nodes[i].addr.family != 6) || k->nodes[i].addr.port == 0)
			fail("bad node address");
	for (i = 0; i < k->nvalues; i++)
		if ((k->values[i].family != 4 && k->values[i].family != 6) ||
		    k->values[i].port == 0)
			fail("bad value address");
}

static void
same(const struct krpc_msg *a, const struct krpc_msg *b)
{
	size_t i;

	if (a->type != b->type || a->method != b->method ||
	    a->tidlen != b->tidlen || memcmp(a->tid, b->tid, a->tidlen) ||
	    a->has_id != b->has_id || a->has_target != b->has_target ||
	    a->has_info_hash != b->has_info_hash ||
	    a->has_port != b->has_port || a->port != b->port ||
	    a->implied_port != b->implied_port ||
	    a->has_token != b->has_token || a->tokenlen != b->tokenlen ||
	    memcmp(a->token, b->token, a->tokenlen) ||
	    a->nnodes != b->nnodes || a->has_values != b->has_values ||
	    a->nvalues != b->nvalues || a->ecode != b->ecode ||
	    a->emsglen != b->emsglen || memcmp(a->emsg, b->emsg, a->emsglen))
		fail("round trip changed a field");
	if ((a->has_id && memcmp(a->id, b->id, KRPC_ID_LEN)) ||
	    (a->has_target && memcmp(a->target, b->target, KRPC_ID_LEN)) ||
	    (a->has_info_hash &&
	    memcmp(a->info_hash, b->info_hash, KRPC_ID_LEN)))
		fail("round trip changed an id");
	for (i = 0; i < a->nnodes; i++)
		if (memcmp(a->nodes[i].id, b->nodes[i].id, KRPC_ID_LEN) ||
		    !addr_equal(&a->nodes[i].addr, &b->nodes[i].addr))
			fail("round trip changed a node");
	for (i = 0; i < a->nvalues; i++)
		if (!addr_equal(&a->values[i], &b->values[i]))
			fail("round trip changed a value");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct thr_error err;
	struct buf b;
	int rc;

	memset(&err, 0, sizeof(err));
	if (krpc_parse(data, size, &m, &err) != 0) {
		if (err.code == 0)
			fail("failed parse without an error code");
		return 0;
	}
	check(&m);
	if (m.type == KRPC_QUERY && m.method == KRPC_UNKNOWN)
		return 0;
	buf_init(&b, 2 * KRPC_MAX_PACKET);
	if ((rc = krpc_encode(&b, &m)) != 0)
		fail("a parsed message does not encode");
	if (b.len <= KRPC_MAX_PACKET) {
		if (krpc_parse(b.data, b.len, &m2, &err) != 0)
			fail("an encoded message does not parse");
		check(&m2);
		same(&m, &m2);
	}
	buf_release(&b);
	return 0;
}
