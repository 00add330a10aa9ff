/*
 * peerid.c: client names from peer ids (placeholder until the decoding
 * table lands: every id reads "unknown").
 */
#include "config.h"

#include <stdio.h>

#include "peerid.h"

void
peerid_client(const uint8_t id[20], char *out, size_t len)
{
	(void)id;
	snprintf(out, len, "unknown");
}
