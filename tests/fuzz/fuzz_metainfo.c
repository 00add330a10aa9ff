/*
 * fuzz_metainfo.c: libFuzzer target for the .torrent parser.
 *
 * A parse that succeeds must describe a torrent the rest of the program
 * can trust (metainfo.h): pieces cover the total length exactly, files
 * are laid end to end, every path is relative with no "..", and the caps
 * hold.  A broken promise aborts, which libFuzzer reports as a crash.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/metainfo.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_metainfo: broken invariant: %s\n", what);
	abort();
}

/* Every '/'-separated component must itself be acceptable. */
static void
check_path(const char *path)
{
	const char *c = path, *slash;
	size_t n;

	if (path == NULL || path[0] == '\0' || path[0] == '/')
		fail("empty or absolute path");
	if (strlen(path) > METAINFO_MAX_PATH)
		fail("path longer than METAINFO_MAX_PATH");
	for (;;) {
		slash = strchr(c, '/');
		n = slash != NULL ? (size_t)(slash - c) : strlen(c);
		if (!metainfo_component_ok((const uint8_t *)c, n))
			fail("path has an unsafe component");
		if (slash == NULL)
			break;
		c = slash + 1;
	}
}

static void
check(const struct metainfo *m)
{
	uint64_t off = 0, sum = 0;

	if (m->piece_length == 0 || m->piece_length > METAINFO_MAX_PIECE_LEN)
		fail("piece length out of bounds");
	if (m->npieces > METAINFO_MAX_PIECES || m->hashes == NULL)
		fail("piece count out of bounds");
	if ((m->total_length + m->piece_length - 1) / m->piece_length !=
	    m->npieces)
		fail("piece count does not cover the total length");
	for (uint32_t i = 0; i < m->npieces; i++) {
		uint32_t n = metainfo_piece_size(m, i);

		if (n == 0 || n > m->piece_length)
			fail("piece size out of bounds");
		sum += n;
	}
	if (sum != m->total_length)
		fail("piece sizes do not add up to the total length");
	if (m->nfiles == 0 || m->nfiles > METAINFO_MAX_FILES)
		fail("file count out of bounds");
	if (!m->multi && m->nfiles != 1)
		fail("single-file torrent with several files");
	if (!metainfo_component_ok((const uint8_t *)m->name, strlen(m->name)))
		fail("unsafe name");
	for (size_t i = 0; i < m->nfiles; i++) {
		if (m->files[i].offset != off)
			fail("files are not laid end to end");
		if (m->files[i].length > UINT64_MAX - off)
			fail("file offsets overflow");
		off += m->files[i].length;
		check_path(m->files[i].path);
	}
	if (off != m->total_length)
		fail("file lengths do not add up to the total length");
	if (m->ntiers > METAINFO_MAX_TRACKERS)
		fail("too many tiers");
	for (size_t t = 0; t < m->ntiers; t++)
		for (size_t u = 0; u < m->tiers[t].nurls; u++)
			if (m->tiers[t].urls[u] == NULL)
				fail("NULL tracker URL");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metainfo m;
	struct thr_error err;

	memset(&err, 0, sizeof(err));
	if (metainfo_parse(&m, data, size, &err) == 0)
		check(&m);
	else if (err.code == 0 || m.name != NULL || m.files != NULL)
		fail("failed parse without an error or not left zeroed");
	metainfo_release(&m);
	(void)metainfo_component_ok(data, size);
	return 0;
}
