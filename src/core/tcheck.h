/*
 * tcheck.h: checking the data a torrent finds in its store when it
 * starts: the fast-resume record first (resume.h), trusted when every
 * file is as it was saved, else the pieces hashed in spans, a budget at
 * a time so that the loop stays responsive.  The torrent (torrent.c)
 * decides what a finished check means.
 */
#ifndef THR_TCHECK_H
#define THR_TCHECK_H

#include <stdint.h>

#include "torrent.h"

/* Load and trust the resume record when it holds (t->have, t->check_*). */
void	tcheck_record(struct torrent *t, uint64_t now_ms);
/* Hash the next spans of existing data, up to TORRENT_CHECK_BYTES. */
void	tcheck_spans(struct torrent *t);

#endif
