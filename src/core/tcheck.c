/*
 * tcheck.c: checking a torrent's existing data.  See tcheck.h.
 */
#include "config.h"

#include <string.h>

#include "i18n.h"
#include "resume.h"
#include "tcheck.h"

/* The resume record, when the store has one that still holds. */
void
tcheck_record(struct torrent *t, uint64_t now_ms)
{
	struct thr_error err;
	struct buf b;
	int rc;

	memset(&err, 0, sizeof(err));
	buf_init(&b, RESUME_MAX_SIZE);
	rc = t->st.ops->record_load(t->st.ctx, RESUME_MAX_SIZE, &b, &err);
	if (rc == 0)
		rc = resume_decode(b.data, b.len, &t->mi, &t->st, &t->have,
		    &err);
	buf_release(&b);
	if (rc == 0) {
		/* Trusted: every file is as it was at the save. */
		t->check_valid = t->have.count;
		t->check_next = t->mi.npieces;
		log_msg(t->log, LOG_INFO, "%s", _("resume record trusted"));
		t->check_start_ms = now_ms ? now_ms : 1;
	} else if (rc != THR_ENOENT)
		log_msg(t->log, LOG_INFO, _("resume record not used (%s); "
		    "checking the data"), err.msg);
}

/* Hash the next spans of existing data, up to TORRENT_CHECK_BYTES. */
void
tcheck_spans(struct torrent *t)
{
	uint64_t budget = 0;

	while (t->check_next < t->mi.npieces && budget < TORRENT_CHECK_BYTES) {
		uint32_t i = t->check_next, n = 0;
		bool ok[TORRENT_CHECK_MAX_SPAN];

		/* A span: consecutive pieces with data from before this run
		 * (pieces over holes we just created cannot be valid). */
		while (i + n < t->mi.npieces && n < t->check_span &&
		    t->st.ops->existed(t->st.ctx,
		    (uint64_t)(i + n) * t->mi.piece_length,
		    metainfo_piece_size(&t->mi, i + n)))
			n++;
		if (n == 0) {
			t->check_next++;
			continue;
		}
		t->check_next += n;
		if (store_verify_span(&t->st, &t->mi, i, n, t->scratch,
		    ok) != 0)
			memset(ok, 0, sizeof(ok));
		for (uint32_t k = 0; k < n; k++) {
			uint64_t sz = metainfo_piece_size(&t->mi, i + k);

			budget += sz;
			t->check_bytes += sz;
			if (ok[k]) {
				bitfield_set(&t->have, i + k);
				t->check_valid++;
			}
		}
	}
}

