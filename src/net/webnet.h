/*
 * webnet.h: web seeds (BEP 19) as transports (xport.h).  Each http(s)
 * url-list entry i of a torrent is a pseudo-peer at the address
 * 0.0.0.(i+1):(i+1), which nothing can dial, so the torrent's per-address
 * strikes and bans apply per seed.  Its bytes go between p->out / p->in
 * and the engine (core/webseed.h), the engine's range requests to
 * libcurl (net/http.h).  A seed that closed comes back after
 * WEBNET_RETRY_MS; one that sent bad data until banned never does.
 */
#ifndef THR_WEBNET_H
#define THR_WEBNET_H

#include <stdbool.h>
#include <stdint.h>

#include "core/session.h"
#include "net/http.h"
#include "net/xport.h"

#define WEBNET_RETRY_MS		30000	/* a closed web seed comes back */
#define WEBNET_TORRENTS		SESSION_MAX_TORRENTS

struct webnet;

/* Over session s, table n and HTTP client h (all borrowed). */
struct webnet	*webnet_new(struct session *s, struct xnet *n,
		    struct http *h);
/* Every web seed transport must be closed before (xnet_free). */
void	webnet_free(struct webnet *w);
/* Open the web seeds of downloading torrents when due. */
void	webnet_pump(struct webnet *w, uint64_t now_ms);

#endif
