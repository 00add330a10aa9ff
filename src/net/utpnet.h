/*
 * utpnet.h: uTP peers (BEP 29) as transports (xport.h): the uTP engine
 * (core/utp.h) on the run's UDP sockets, dialling, accepting, and the
 * operations that move a uTP connection's bytes for the one pump.
 *
 * The UDP socket's owner (net/udpmux.c) hands every uTP datagram to
 * utpnet_input; a connection that received something is put on the
 * transport table's ready list, so only it is pumped.  utpnet_tick runs
 * the engine's timers when due (and then looks at every connection,
 * since a timer may have closed one or opened its window);
 * utpnet_send puts on the wire what the engine has ready.
 */
#ifndef THR_UTPNET_H
#define THR_UTPNET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/session.h"
#include "core/utp.h"
#include "net/xport.h"

#define UTPNET_MAX	512	/* uTP connections we keep */

struct utpnet;

/* The engine over sockets fd (IPv4) and fd6 (IPv6, or -1), for the
 * connections of table n.  NULL when out of memory (logged). */
struct utpnet	*utpnet_new(struct session *s, struct xnet *n, int fd,
		    int fd6);
/* Log what the engine saw, free it (every connection was closed). */
void	utpnet_free(struct utpnet *u);
/* A datagram from `from` that utp_is_packet accepted. */
void	utpnet_input(struct utpnet *u, const struct thr_addr *from,
	    const uint8_t *pkt, size_t n, uint64_t now_us);
/* Timers (when due), incoming connections. */
void	utpnet_tick(struct utpnet *u, uint64_t now_ms, uint64_t now_us);
/* Send what the engine has ready. */
void	utpnet_send(struct utpnet *u, uint64_t now_us);
/* Milliseconds until the engine's next timer, UINT64_MAX if none. */
uint64_t	utpnet_wait_ms(const struct utpnet *u, uint64_t now_us);
/* The dialer the transport table uses for uTP. */
struct xnet_dialer	utpnet_dialer(struct utpnet *u);

#endif
