/*
 * torture.c: every allocation of the core fails in turn (curl's
 * "torture" tests do the same).  The core is built into this program
 * with THR_ALLOC_TORTURE, so core/xalloc.h counts its allocations and
 * can fail the n-th.  For each scenario: one clean run counts the
 * allocations; then the scenario runs again once per allocation, with
 * that one failing.  Each run must end cleanly: no crash (the
 * sanitizers abort on any bad access) and, in a sanitizer build, no
 * leak (LeakSanitizer is asked after every run).
 *
 * Scenarios: bencode (decode a torrent), metainfo (parse it), magnet
 * (parse a link), download (a whole download between two sessions in
 * memory, tests/memswarm.h).
 *
 * Prints one line per scenario and a summary; exits 0 when every run
 * ended cleanly, 1 otherwise.  TORTURE_STEP=k fails every k-th
 * allocation only (a quicker look by hand).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"
#include "core/magnet.h"
#include "core/metainfo.h"
#include "core/xalloc.h"

#include "memswarm.h"

#if defined(THR_SANITIZERS) && defined(__has_include)
#if __has_include(<sanitizer/lsan_interface.h>)
#include <sanitizer/lsan_interface.h>
#define TORTURE_LSAN	1
#endif
#endif

/* The distinct call sites whose allocation was failed (code addresses,
 * as xalloc saw them); a site met again in a later scenario counts in
 * the first. */
#define TORTURE_MAX_SITES	1024
static const void	*sites_seen[TORTURE_MAX_SITES];
static size_t		 nsites;

static void
torture_site(const void *site)
{
	if (site == NULL)
		return;
	for (size_t i = 0; i < nsites; i++)
		if (sites_seen[i] == site)
			return;
	if (nsites < TORTURE_MAX_SITES)
		sites_seen[nsites++] = site;
}

/* A multi-file torrent with an announce-list and a web seed, for the
 * parsers; made once, before any allocation fails. */
static struct buf torture_torrent;

static int
torture_make_torrent(void)
{
	static const char *const tiers[][2] = {
		{ "http://127.0.0.1:9/announce", NULL },
		{ "udp://127.0.0.1:9/announce", "http://x.invalid/a" },
	};
	struct buf *b = &torture_torrent;
	uint8_t pieces[7 * 20];
	int rc = 0;

	memset(pieces, 0x5a, sizeof(pieces));
	buf_init(b, 1u << 16);
	rc |= bencode_put_dict(b);
	rc |= bencode_put_cstr(b, "announce");
	rc |= bencode_put_cstr(b, tiers[0][0]);
	rc |= bencode_put_cstr(b, "announce-list");
	rc |= bencode_put_list(b);
	for (size_t i = 0; i < 2; i++) {
		rc |= bencode_put_list(b);
		for (size_t j = 0; j < 2 && tiers[i][j] != NULL; j++)
			rc |= bencode_put_cstr(b, tiers[i][j]);
		rc |= bencode_put_end(b);
	}
	rc |= bencode_put_end(b);
	rc |= bencode_put_cstr(b, "info");
	rc |= bencode_put_dict(b);
	rc |= bencode_put_cstr(b, "files");
	rc |= bencode_put_list(b);
	for (int f = 0; f < 2; f++) {
		rc |= bencode_put_dict(b);
		rc |= bencode_put_cstr(b, "length");
		rc |= bencode_put_int(b, f == 0 ? 40000 : 70001);
		rc |= bencode_put_cstr(b, "path");
		rc |= bencode_put_list(b);
		rc |= bencode_put_cstr(b, f == 0 ? "a.bin" : "sub");
		if (f == 1)
			rc |= bencode_put_cstr(b, "c.bin");
		rc |= bencode_put_end(b);
		rc |= bencode_put_end(b);
	}
	rc |= bencode_put_end(b);
	rc |= bencode_put_cstr(b, "name");
	rc |= bencode_put_cstr(b, "pay");
	rc |= bencode_put_cstr(b, "piece length");
	rc |= bencode_put_int(b, 16384);
	rc |= bencode_put_cstr(b, "pieces");
	rc |= bencode_put_str(b, pieces, sizeof(pieces));
	rc |= bencode_put_end(b);
	rc |= bencode_put_cstr(b, "url-list");
	rc |= bencode_put_list(b);
	rc |= bencode_put_cstr(b, "http://web.invalid/");
	rc |= bencode_put_end(b);
	rc |= bencode_put_end(b);
	return rc;
}

static const char torture_magnet[] =
    "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"
    "&dn=some%20name&tr=http%3A%2F%2Ft.invalid%2Fa&tr=udp://u.invalid:1"
    "&x.pe=10.0.0.1:6881&ws=http://w.invalid/";

static void
run_bencode(void)
{
	struct bencode b;
	struct thr_error e;

	memset(&b, 0, sizeof(b));
	if (bencode_decode(&b, torture_torrent.data, torture_torrent.len,
	    BENCODE_DEFAULT_MAX_TOKENS, &e) == 0)
		bencode_release(&b);
}

static void
run_metainfo(void)
{
	struct metainfo m;
	struct thr_error e;

	if (metainfo_parse(&m, torture_torrent.data, torture_torrent.len,
	    &e) == 0)
		metainfo_release(&m);
}

static void
run_magnet(void)
{
	struct magnet m;
	struct thr_error e;

	if (magnet_parse(torture_magnet, sizeof(torture_magnet) - 1, &m,
	    &e) == 0)
		magnet_release(&m);
}

static void
run_download(void)
{
	struct memswarm_opts o = { 65536 + 1000, 16384, 3, 32u << 10, 3000,
	    NULL };
	struct memswarm_result r;

	(void)memswarm_run(&o, &r);
}

struct scenario {
	const char	*name;
	void		(*run)(void);
};

static const struct scenario scenarios[] = {
	{ "bencode", run_bencode },
	{ "metainfo", run_metainfo },
	{ "magnet", run_magnet },
	{ "download", run_download },
};

/* False when LeakSanitizer found a leak since the last check. */
static int
torture_leaks(void)
{
#ifdef TORTURE_LSAN
	return __lsan_do_recoverable_leak_check();
#else
	return 0;
#endif
}

int
main(void)
{
	const char *st = getenv("TORTURE_STEP");
	uint64_t step = st != NULL ? strtoull(st, NULL, 10) : 1, sites = 0;
	int bad = 0;

	if (step == 0)
		step = 1;
	if (torture_make_torrent() != 0) {
		fprintf(stderr, "torture: cannot make the torrent\n");
		return 1;
	}
	{
		struct metainfo m;
		struct thr_error e;

		/* The parsers' scenarios mean something only if it parses. */
		if (metainfo_parse(&m, torture_torrent.data,
		    torture_torrent.len, &e) != 0) {
			fprintf(stderr, "torture: the torrent does not "
			    "parse: %s\n", e.msg);
			return 1;
		}
		metainfo_release(&m);
	}
	for (size_t k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
		const struct scenario *sc = &scenarios[k];
		uint64_t n, failed = 0;
		size_t before = nsites;
		int leaks = 0;

		thr_alloc_fail_at(0);
		sc->run();
		n = thr_alloc_count();
		leaks += torture_leaks() != 0;
		for (uint64_t i = 1; i <= n; i += step) {
			thr_alloc_fail_at(i);
			sc->run();
			failed += thr_alloc_failed() != 0;
			torture_site(thr_alloc_failed_site());
			if (torture_leaks() != 0) {
				fprintf(stderr, "torture: %s: a leak after "
				    "allocation %llu failed\n", sc->name,
				    (unsigned long long)i);
				leaks++;
			}
		}
		thr_alloc_fail_at(0);
		printf("torture: %s: %llu allocations at %zu sites, each "
		    "failed in turn (%llu runs), 0 crashes, %d leaks\n",
		    sc->name, (unsigned long long)n, nsites - before,
		    (unsigned long long)failed, leaks);
		sites += failed;
		bad += leaks;
	}
	printf("torture: %llu allocations failed in all, at %zu distinct "
	    "sites of the core, %s\n", (unsigned long long)sites, nsites,
	    bad ? "LEAKS" : "no leak");
	buf_release(&torture_torrent);
	return bad ? 1 : 0;
}
