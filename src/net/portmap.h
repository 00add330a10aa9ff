/*
 * portmap.h: map the listening TCP port and the UDP (DHT) port on the
 * home gateway, with UPnP IGD (miniupnpc) and NAT-PMP (libnatpmp, RFC
 * 6886), so that peers behind no NAT of their own can reach us.
 *
 * Neither protocol may stall the select() loop.  NAT-PMP is one UDP
 * socket: its requests are sent, and its answers read, from the loop
 * (the socket is registered with it, and a timer wakes the loop for
 * libnatpmp's retransmissions).  miniupnpc only has blocking calls that
 * take seconds (SSDP discovery, SOAP over HTTP), so they run in a child
 * process: the loop writes one-byte commands down a socket pair ('r' renew,
 * 'd' delete, EOF delete and exit) and reads one result line back per
 * command (see portmap_parse_line for the grammar).
 *
 * Both ask for a lease of PORTMAP_LEASE_S and renew at half of what the
 * gateway granted.  Finding no gateway is one log line, not an error:
 * the method then sits idle.  portmap_stop removes the mappings within
 * PORTMAP_STOP_MS; after that, portmap_done is true.
 */
#ifndef THR_PORTMAP_H
#define THR_PORTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"
#include "net/loop.h"

/* miniupnpc waits this long for SSDP answers (a LAN answers in ms). */
#define PORTMAP_DISCOVER_MS	2000
/* RFC 6886 3.3 recommends one hour. */
#define PORTMAP_LEASE_S		3600
/* Renew no more often than this, whatever lease a gateway grants. */
#define PORTMAP_MIN_RENEW_S	60
/* libnatpmp retransmits from 250 ms on, doubling, nine times (over two
 * minutes); a gateway that has not answered in 4 s is taken as absent. */
#define PORTMAP_NATPMP_WAIT_MS	4000
/* The UPnP child's answer to a command (its SOAP calls have their own
 * timeouts of a few seconds each). */
#define PORTMAP_UPNP_WAIT_MS	20000
/* Removing the mappings at exit must not hold the exit up for long. */
#define PORTMAP_STOP_MS		2000
/* A result line of the child, newline included.  Longer is an error. */
#define PORTMAP_LINE_MAX	128
/* Status text for the view and the log. */
#define PORTMAP_TEXT_MAX	96
#define PORTMAP_ADDR_MAX	46	/* INET6_ADDRSTRLEN */

enum portmap_kind {
	PORTMAP_UPNP,
	PORTMAP_NATPMP,
	PORTMAP_NKINDS
};

/* What the view shows for one method. */
struct portmap_status {
	bool	enabled;		/* asked for at portmap_new */
	bool	mapped;			/* at least one port is mapped now */
	char	addr[PORTMAP_ADDR_MAX];	/* external address, "" if unknown */
	uint16_t tcp;			/* external TCP port, 0 = not mapped */
	uint16_t udp;			/* external UDP port, 0 = not mapped */
	char	text[PORTMAP_TEXT_MAX];	/* "UPnP: mapped 1.2.3.4:6881" */
};

/* One result line of the UPnP child, parsed. */
enum portmap_reply {
	PORTMAP_R_OK,		/* "ok ADDR TCP UDP": mapped (port 0: not) */
	PORTMAP_R_NONE,		/* "none [TEXT]": no gateway found */
	PORTMAP_R_FAIL,		/* "fail [TEXT]": gateway refused both */
	PORTMAP_R_GONE,		/* "gone": mappings removed */
};

struct portmap_result {
	enum portmap_reply kind;
	char	addr[PORTMAP_ADDR_MAX];	/* OK: IPv4 address, or "" for "-" */
	uint16_t tcp, udp;		/* OK */
	char	text[PORTMAP_TEXT_MAX];	/* NONE, FAIL: printable ASCII */
};

struct portmap;

/*
 * Start mapping tcp_port (TCP) and udp_port (UDP, 0 = none) with the
 * methods asked for.  l and log are borrowed for the life of the
 * portmap; log may be NULL.  With both methods off the portmap is idle
 * and done at once.  Returns NULL only when out of memory; a method
 * that cannot start (no pipe, no socket, no default route) is logged
 * and left idle.
 */
struct portmap	*portmap_new(struct loop *l, uint16_t tcp_port,
		    uint16_t udp_port, bool upnp, bool natpmp, struct log *log);
/* Read answers, retransmit, renew leases, reap the child.  Call once
 * per loop pass (cheap when there is nothing to do). */
void	portmap_pump(struct portmap *pm, uint64_t now_ms);
/* Remove the mappings; done within PORTMAP_STOP_MS of now_ms, provided
 * portmap_pump keeps being called.  Calling it again does nothing. */
void	portmap_stop(struct portmap *pm, uint64_t now_ms);
/* True once stopped and nothing is left to wait for. */
bool	portmap_done(const struct portmap *pm);
/* The status of one method; never NULL, owned by pm. */
const struct portmap_status *portmap_status(const struct portmap *pm,
	    enum portmap_kind k);
/* Close everything, end the child (it removes what is still mapped if
 * it can) and free.  pm may be NULL. */
void	portmap_free(struct portmap *pm);

/*
 * Parse one result line of the UPnP child (without its newline) into
 * out.  The grammar is "ok ADDR TCP UDP" (ADDR a dotted IPv4 address or
 * "-"; ports decimal 0-65535), "none [TEXT]", "fail [TEXT]" or "gone";
 * TEXT is cut to fit and bytes outside printable ASCII become '?'.
 * Returns 0, or THR_EINVAL with err filled (err may be NULL).
 */
int	portmap_parse_line(const char *line, size_t len,
	    struct portmap_result *out, struct thr_error *err);

/* When to renew a lease of granted_s seconds obtained at now_ms: half
 * way, but not before PORTMAP_MIN_RENEW_S. */
uint64_t portmap_renew_at(uint64_t now_ms, uint32_t granted_s);

#endif
