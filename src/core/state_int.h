/*
 * state_int.h: functions shared by the files of the session (state.c,
 * state_ext.c).  Not part of the module's contract: state.h is.
 */
#ifndef THR_STATE_INT_H
#define THR_STATE_INT_H

#include "state.h"

/* state.c */
/* Open storage and prepare the picker once the metainfo is known (at
 * init, or when a magnet's metadata arrived).  Moves to CHECKING. */
int	state_attach(struct thr_state *s, struct thr_error *err);

/* state_ext.c: the extension protocol (BEP 10), ut_metadata (BEP 9) and
 * ut_pex (BEP 11). */
/* Both handshakes are done and both sides set the BEP 10 bit. */
void	state_ext_start(struct thr_state *s, struct peer *p, uint64_t now_ms);
/* A wire message 20: payload[0] is the extended id. */
void	state_ext_msg(struct thr_state *s, struct peer *p,
	    const uint8_t *payload, size_t len, uint64_t now_ms);
/* Once a second: pex, metadata requests that timed out. */
void	state_ext_tick(struct thr_state *s, uint64_t now_ms);
/* A peer is going away. */
void	state_ext_peer_gone(struct thr_state *s, struct peer *p);

#endif
