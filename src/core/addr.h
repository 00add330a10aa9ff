/*
 * addr.h: a peer's network address, independent of socket headers so
 * that core modules stay free of I/O.
 */
#ifndef THR_ADDR_H
#define THR_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_STR_MAX	64	/* "[ffff:...:ffff]:65535" fits */

struct thr_addr {
	int		family;		/* 4 or 6 */
	uint8_t		ip[16];		/* network order; IPv4 in ip[0..4) */
	uint16_t	port;		/* host order */
};

bool	addr_equal(const struct thr_addr *a, const struct thr_addr *b);
/* 127.0.0.0/8 or ::1. */
bool	addr_is_loopback(const struct thr_addr *a);
/* "1.2.3.4:5" or "[::1]:5" into out (ADDR_STR_MAX bytes). */
void	addr_format(const struct thr_addr *a, char *out, size_t outlen);
/* Parse a numeric "HOST:PORT" or "[HOST6]:PORT".  THR_EINVAL if bad. */
int	addr_parse(const char *s, struct thr_addr *a);
/* Parse a numeric address without a port: "1.2.3.4", "::1" or "[::1]";
 * the port is 0.  THR_EINVAL if bad. */
int	addr_parse_ip(const char *s, struct thr_addr *a);
/* The address without port or brackets, "1.2.3.4" or "::1", into out
 * (ADDR_STR_MAX bytes). */
void	addr_format_ip(const struct thr_addr *a, char *out, size_t outlen);

#endif
