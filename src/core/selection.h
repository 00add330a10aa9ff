/*
 * selection.h: which files of a torrent are wanted (--files, the files
 * pane), and what that means for pieces and bytes: a piece is wanted when
 * it holds a byte of a wanted file (so a piece shared with a skipped file
 * is fetched whole), and the bytes left are those of wanted pieces not
 * yet had.
 */
#ifndef THR_SELECTION_H
#define THR_SELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"
#include "err.h"
#include "metainfo.h"
#include "picker.h"

struct selection {
	uint8_t		*wanted;	/* owned, per file: non-zero wanted */
	size_t		 nfiles;
	uint64_t	 wanted_total;	/* bytes of wanted pieces */
	uint64_t	 left;		/* of those, not yet had */
};

/*
 * Every file of mi wanted, then spec applied if not NULL: 1-based
 * indexes and ranges, "1,3-5" (only those wanted).  0, THR_ENOMEM, or
 * THR_EINVAL with err saying what is wrong with spec.
 */
int	selection_init(struct selection *sel, const struct metainfo *mi,
	    const char *spec, struct thr_error *err);
void	selection_release(struct selection *sel);
/* Mark the pieces of wanted files wanted in pk and recount the bytes
 * (have: pieces had).  0 or THR_ENOMEM. */
int	selection_apply(struct selection *sel, const struct metainfo *mi,
	    struct picker *pk, const struct bitfield *have);
/* Want file i or not.  True when that changed something. */
bool	selection_set(struct selection *sel, size_t i, bool want);
/* Files not wanted. */
size_t	selection_skipped(const struct selection *sel);

#endif
