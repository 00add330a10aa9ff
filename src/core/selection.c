/*
 * selection.c: wanted files, wanted pieces, bytes left.  See selection.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "selection.h"
#include "xalloc.h"

/* Parse a --files selection into sel->wanted. */
static int
selection_parse(struct selection *sel, const char *spec,
    struct thr_error *err)
{
	const char *p = spec;

	memset(sel->wanted, 0, sel->nfiles);
	if (*p == '\0')
		goto bad;
	while (*p != '\0') {
		char *end;
		unsigned long a, b;

		/* strtoul would accept " 1" and "+1": digits only. */
		if (*p < '0' || *p > '9')
			goto bad;
		errno = 0;
		a = strtoul(p, &end, 10);
		if (end == p || errno != 0)
			goto bad;
		b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtoul(p, &end, 10);
			if (end == p || errno != 0)
				goto bad;
		}
		if (a < 1 || b < a || b > sel->nfiles)
			return thr_error_set(err, THR_EINVAL, 0,
			    "--files: %lu-%lu is not within 1-%zu", a, b,
			    sel->nfiles);
		memset(sel->wanted + (a - 1), 1, b - a + 1);
		if (*end == ',' && end[1] != '\0')
			end++;
		else if (*end != '\0')
			goto bad;
		p = end;
	}
	return 0;
bad:
	return thr_error_set(err, THR_EINVAL, (size_t)(p - spec),
	    "--files wants indexes such as 1,3-5, not '%s'", spec);
}

int
selection_init(struct selection *sel, const struct metainfo *mi,
    const char *spec, struct thr_error *err)
{
	memset(sel, 0, sizeof(*sel));
	if ((sel->wanted = thr_malloc(mi->nfiles)) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	sel->nfiles = mi->nfiles;
	memset(sel->wanted, 1, mi->nfiles);
	return spec != NULL ? selection_parse(sel, spec, err) : 0;
}

void
selection_release(struct selection *sel)
{
	free(sel->wanted);
	memset(sel, 0, sizeof(*sel));
}

int
selection_apply(struct selection *sel, const struct metainfo *mi,
    struct picker *pk, const struct bitfield *have)
{
	uint64_t plen = mi->piece_length;
	uint8_t *want = thr_calloc(mi->npieces, 1);
	int rc = 0;

	if (want == NULL)
		return THR_ENOMEM;
	for (size_t f = 0; f < mi->nfiles; f++) {
		const struct metainfo_file *mf = &mi->files[f];

		if (!sel->wanted[f] || mf->length == 0)
			continue;
		for (uint64_t i = mf->offset / plen;
		    i <= (mf->offset + mf->length - 1) / plen; i++)
			want[i] = 1;
	}
	sel->wanted_total = 0;
	sel->left = 0;
	for (uint32_t i = 0; i < mi->npieces && rc == 0; i++) {
		rc = picker_set_wanted(pk, i, want[i]);
		if (!want[i])
			continue;
		sel->wanted_total += metainfo_piece_size(mi, i);
		if (!bitfield_get(have, i))
			sel->left += metainfo_piece_size(mi, i);
	}
	free(want);
	return rc;
}

bool
selection_set(struct selection *sel, size_t i, bool want)
{
	if (i >= sel->nfiles || !sel->wanted[i] == !want)
		return false;
	sel->wanted[i] = want;
	return true;
}

size_t
selection_skipped(const struct selection *sel)
{
	size_t n = 0;

	for (size_t i = 0; i < sel->nfiles; i++)
		n += sel->wanted[i] == 0;
	return n;
}
