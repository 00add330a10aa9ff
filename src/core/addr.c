/*
 * addr.c: peer addresses as plain bytes.
 *
 * A struct thr_addr holds the family (4 or 6), the address in network
 * order and the port in host order.  Only numeric text is accepted here:
 * resolving names is I/O and belongs to net/.  The one exception is the
 * literal "localhost", which every user types and which needs no lookup.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"

/* Longer than any numeric IPv6 text (INET6_ADDRSTRLEN is 46). */
#define ADDR_HOST_MAX	64

bool
addr_equal(const struct thr_addr *a, const struct thr_addr *b)
{
	size_t n;

	if (a->family != b->family || a->port != b->port)
		return false;
	n = a->family == 6 ? 16 : 4;
	return memcmp(a->ip, b->ip, n) == 0;
}

void
addr_format(const struct thr_addr *a, char *out, size_t outlen)
{
	char host[ADDR_STR_MAX];

	if (outlen == 0)
		return;
	if (a->family == 4) {
		if (inet_ntop(AF_INET, a->ip, host, sizeof host) == NULL)
			goto bad;
		snprintf(out, outlen, "%s:%u", host, (unsigned)a->port);
		return;
	}
	if (a->family == 6) {
		if (inet_ntop(AF_INET6, a->ip, host, sizeof host) == NULL)
			goto bad;
		snprintf(out, outlen, "[%s]:%u", host, (unsigned)a->port);
		return;
	}
bad:
	/* Never leave the caller with an unterminated buffer. */
	snprintf(out, outlen, "?");
}

void
addr_format_ip(const struct thr_addr *a, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	if ((a->family != 4 && a->family != 6) ||
	    inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->ip, out,
	    (socklen_t)outlen) == NULL)
		snprintf(out, outlen, "?");
}

/* Parse a decimal port 1..65535 from the whole string p; no sign, no
 * spaces, no empty digits. */
static int
addr_parse_port(const char *p, uint16_t *port)
{
	unsigned long v = 0;

	if (*p == '\0')
		return THR_EINVAL;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return THR_EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return THR_EINVAL;
	}
	if (v == 0)
		return THR_EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int
addr_parse(const char *s, struct thr_addr *a)
{
	char host[ADDR_HOST_MAX];
	const char *colon, *hs, *he;
	struct thr_addr r;
	size_t hlen;

	if (s == NULL)
		return THR_EINVAL;
	memset(&r, 0, sizeof r);
	if (s[0] == '[') {
		hs = s + 1;
		he = strchr(hs, ']');
		if (he == NULL || he[1] != ':')
			return THR_EINVAL;
		colon = he + 1;
	} else {
		/* An IPv4 host has no ':'; the first one starts the port. */
		hs = s;
		colon = strchr(s, ':');
		if (colon == NULL)
			return THR_EINVAL;
		he = colon;
	}
	hlen = (size_t)(he - hs);
	if (hlen == 0 || hlen >= sizeof host)
		return THR_EINVAL;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (addr_parse_port(colon + 1, &r.port) != 0)
		return THR_EINVAL;

	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, r.ip) != 1)
			return THR_EINVAL;
		r.family = 6;
	} else if (strcmp(host, "localhost") == 0) {
		r.ip[0] = 127;
		r.ip[3] = 1;
		r.family = 4;
	} else {
		if (inet_pton(AF_INET, host, r.ip) != 1)
			return THR_EINVAL;
		r.family = 4;
	}
	*a = r;
	return 0;
}

int
addr_parse_ip(const char *s, struct thr_addr *a)
{
	char host[ADDR_HOST_MAX];
	struct thr_addr r;
	bool brackets = false;
	size_t n;

	if (s == NULL)
		return THR_EINVAL;
	n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		brackets = true;	/* IPv6 only */
	}
	if (n == 0 || n >= sizeof host)
		return THR_EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(&r, 0, sizeof r);
	if (!brackets && inet_pton(AF_INET, host, r.ip) == 1)
		r.family = 4;
	else if (inet_pton(AF_INET6, host, r.ip) == 1)
		r.family = 6;
	else
		return THR_EINVAL;
	*a = r;
	return 0;
}

bool
addr_is_loopback(const struct thr_addr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (a->family == 4)
		return a->ip[0] == 127;
	return a->family == 6 && memcmp(a->ip, v6lo, 16) == 0;
}
