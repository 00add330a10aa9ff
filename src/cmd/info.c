/*
 * info.c: "thorrent info [--json] FILE.torrent", a description of a
 * torrent file without touching the network or the disk beyond it.
 *
 * Every string in a torrent is chosen by whoever made it, so all of them
 * go through escape.h before they reach the terminal (text) or a JSON
 * consumer (--json).  Output is built one line (text) or one chunk
 * (JSON) at a time in a bounded buffer and written out, so a torrent
 * with a million files never needs its whole description in memory.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/escape.h"
#include "core/hash.h"
#include "core/i18n.h"
#include "net/fileio.h"
#include "core/metainfo.h"

/* One escaped line: four output bytes per input byte at worst (\xNN),
 * and no string inside a torrent can be longer than the file itself. */
#define INFO_LINE_MAX	(4 * (size_t)METAINFO_MAX_FILE_SIZE + 256)
/* Write JSON out whenever this much has piled up. */
#define INFO_FLUSH_AT	(64u * 1024)
/* "1023.9 EiB" and the like. */
#define INFO_HUMAN_MAX	32

static void
info_usage(FILE *fp)
{
	fprintf(fp, "%s\n", _("usage: thorrent info [--json] FILE.torrent"));
}

/* getopt was told to stay quiet (it would name the subcommand as the
 * program); say which option was wrong ourselves. */
static void
info_bad_option(char **argv)
{
	if (optopt != 0)
		fprintf(stderr, _("thorrent: info: invalid option -- '%c'\n"),
		    optopt);
	else
		fprintf(stderr, _("thorrent: info: invalid option '%s'\n"),
		    argv[optind - 1]);
}

/*
 * Binary units with one decimal ("3.2 MiB"), or a whole number when the
 * size is an exact multiple ("256 KiB").  Values that would round up to
 * 1024.0 of a unit move to the next unit instead.
 */
static void
info_human(uint64_t n, char *out, size_t outlen)
{
	static const char *const units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	uint64_t div = 1;
	double v = (double)n;
	size_t u = 0;

	while (v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		div *= 1024;
		u++;
	}
	if (n % div == 0)
		snprintf(out, outlen, "%" PRIu64 " %s", n / div, units[u]);
	else
		snprintf(out, outlen, "%.1f %s", v, units[u]);
}

/* Write what is buffered to stdout and start over. */
static int
info_flush(struct buf *b)
{
	if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
		return THR_EIO;
	buf_reset(b);
	return 0;
}

/* Append "label: <escaped value>\n". */
static int
info_text_field(struct buf *b, const char *label, const char *value)
{
	int rc;

	if ((rc = buf_printf(b, "%s: ", label)) != 0 ||
	    (rc = escape_buf(b, value)) != 0 ||
	    (rc = buf_puts(b, "\n")) != 0)
		return rc;
	return info_flush(b);
}

/* BEP 19 web seeds, only when there are any (older output unchanged). */
static int
info_webseeds(const struct metainfo *m, struct buf *b)
{
	int rc;

	if (m->nwebseeds == 0)
		return 0;
	if ((rc = buf_printf(b, "%s\n", _("web seeds:"))) != 0)
		return rc;
	for (size_t i = 0; i < m->nwebseeds; i++)
		if ((rc = buf_puts(b, "  ")) != 0 ||
		    (rc = escape_buf(b, m->webseeds[i])) != 0 ||
		    (rc = buf_puts(b, "\n")) != 0 ||
		    (rc = info_flush(b)) != 0)
			return rc;
	return 0;
}

static int
info_text(const struct metainfo *m, const char *hex, struct buf *b)
{
	char total[INFO_HUMAN_MAX], piece[INFO_HUMAN_MAX];
	uint64_t biggest;
	size_t i, j;
	int rc, iw, sw;

	info_human(m->total_length, total, sizeof(total));
	info_human(m->piece_length, piece, sizeof(piece));

	if ((rc = info_text_field(b, _("name"), m->name)) != 0)
		return rc;
	if (m->comment != NULL &&
	    (rc = info_text_field(b, _("comment"), m->comment)) != 0)
		return rc;
	if (m->created_by != NULL &&
	    (rc = info_text_field(b, _("created by"), m->created_by)) != 0)
		return rc;
	rc = buf_printf(b, _("info hash: %s\n"), hex);
	if (rc == 0)
		rc = buf_printf(b, _("total size: %" PRIu64 " bytes (%s)\n"),
		    m->total_length, total);
	if (rc == 0)
		rc = buf_printf(b, _("piece size: %" PRIu64 " bytes (%s)\n"),
		    m->piece_length, piece);
	if (rc == 0)
		rc = buf_printf(b, _("pieces: %" PRIu32 "\n"), m->npieces);
	if (rc == 0)
		rc = buf_printf(b, "%s\n", m->is_private ?
		    _("private: yes") : _("private: no"));
	if (rc == 0)
		rc = buf_printf(b, _("files: %zu\n"), m->nfiles);
	if (rc != 0 || (rc = info_flush(b)) != 0)
		return rc;

	/* Columns: indexes and sizes right-aligned to the widest. */
	for (i = 0, biggest = 0; i < m->nfiles; i++)
		if (m->files[i].length > biggest)
			biggest = m->files[i].length;
	iw = snprintf(NULL, 0, "%zu", m->nfiles);
	sw = snprintf(NULL, 0, "%" PRIu64, biggest);
	for (i = 0; i < m->nfiles; i++) {
		if ((rc = buf_printf(b, "  %*zu  %*" PRIu64 "  ", iw, i + 1,
		    sw, m->files[i].length)) != 0 ||
		    (rc = escape_buf(b, m->files[i].path)) != 0 ||
		    (rc = buf_puts(b, "\n")) != 0 ||
		    (rc = info_flush(b)) != 0)
			return rc;
	}

	if (m->ntiers == 0) {
		if ((rc = buf_printf(b, "%s\n", _("trackers: none"))) != 0 ||
		    (rc = info_flush(b)) != 0)
			return rc;
		return info_webseeds(m, b);
	}
	if ((rc = buf_printf(b, "%s\n", _("trackers:"))) != 0)
		return rc;
	for (i = 0; i < m->ntiers; i++) {
		for (j = 0; j < m->tiers[i].nurls; j++) {
			rc = buf_printf(b, _("  tier %zu: "), i + 1);
			if (rc != 0 ||
			    (rc = escape_buf(b, m->tiers[i].urls[j])) != 0 ||
			    (rc = buf_puts(b, "\n")) != 0 ||
			    (rc = info_flush(b)) != 0)
				return rc;
		}
	}
	return info_webseeds(m, b);
}

/* Flush only when enough has piled up, so JSON goes out in chunks. */
static int
info_maybe_flush(struct buf *b)
{
	return b->len >= INFO_FLUSH_AT ? info_flush(b) : 0;
}

static int
info_json(const struct metainfo *m, const char *hex, struct buf *b)
{
	size_t i, j;
	int rc;

	if ((rc = buf_puts(b, "{\"name\":")) != 0 ||
	    (rc = escape_json(b, m->name)) != 0 ||
	    (rc = buf_printf(b, ",\"info_hash\":\"%s\"", hex)) != 0 ||
	    (rc = buf_printf(b, ",\"total_size\":%" PRIu64
	    ",\"piece_size\":%" PRIu64 ",\"pieces\":%" PRIu32
	    ",\"private\":%s,\"files\":[", m->total_length, m->piece_length,
	    m->npieces, m->is_private ? "true" : "false")) != 0)
		return rc;
	for (i = 0; i < m->nfiles; i++) {
		if ((rc = buf_printf(b, "%s{\"index\":%zu,\"path\":",
		    i > 0 ? "," : "", i + 1)) != 0 ||
		    (rc = escape_json(b, m->files[i].path)) != 0 ||
		    (rc = buf_printf(b, ",\"size\":%" PRIu64 "}",
		    m->files[i].length)) != 0 ||
		    (rc = info_maybe_flush(b)) != 0)
			return rc;
	}
	if ((rc = buf_puts(b, "],\"trackers\":[")) != 0)
		return rc;
	for (i = 0; i < m->ntiers; i++) {
		if ((rc = buf_puts(b, i > 0 ? ",[" : "[")) != 0)
			return rc;
		for (j = 0; j < m->tiers[i].nurls; j++) {
			if ((j > 0 && (rc = buf_puts(b, ",")) != 0) ||
			    (rc = escape_json(b, m->tiers[i].urls[j])) != 0 ||
			    (rc = info_maybe_flush(b)) != 0)
				return rc;
		}
		if ((rc = buf_puts(b, "]")) != 0)
			return rc;
	}
	if ((rc = buf_puts(b, "]")) != 0)
		return rc;
	for (i = 0; i < m->nwebseeds; i++)
		if ((rc = buf_puts(b, i > 0 ? "," : ",\"web_seeds\":[")) != 0 ||
		    (rc = escape_json(b, m->webseeds[i])) != 0 ||
		    (i + 1 == m->nwebseeds && (rc = buf_puts(b, "]")) != 0))
			return rc;
	if (m->comment != NULL &&
	    ((rc = buf_puts(b, ",\"comment\":")) != 0 ||
	    (rc = escape_json(b, m->comment)) != 0))
		return rc;
	if (m->created_by != NULL &&
	    ((rc = buf_puts(b, ",\"created_by\":")) != 0 ||
	    (rc = escape_json(b, m->created_by)) != 0))
		return rc;
	if ((rc = buf_puts(b, "}\n")) != 0)
		return rc;
	return info_flush(b);
}

/* "thorrent: FILE: message (at byte N)" on stderr, all of it escaped. */
static void
info_report(const char *file, const struct thr_error *err)
{
	const char *msg = err->msg;
	size_t flen = strlen(file);
	struct buf b;

	/* fileio_load_metainfo names the file itself for system errors; do not
	 * say it twice. */
	if (strncmp(msg, file, flen) == 0 && strncmp(msg + flen, ": ", 2) == 0)
		msg += flen + 2;
	if (*msg == '\0')
		msg = thr_strerror(err->code);
	buf_init(&b, INFO_LINE_MAX);
	if (buf_puts(&b, "thorrent: ") == 0 && escape_buf(&b, file) == 0 &&
	    buf_puts(&b, ": ") == 0 && escape_buf(&b, msg) == 0 &&
	    (err->offset == 0 ||
	    buf_printf(&b, _(" (at byte %zu)"), err->offset) == 0))
		fprintf(stderr, "%s\n", (const char *)b.data);
	else
		fprintf(stderr, "thorrent: %s\n", thr_strerror(err->code));
	buf_release(&b);
}

/* A torrent with more trackers than we keep is still described, with a
 * warning on stderr that the list was cut. */
static void
info_warn_trackers(const char *file, const struct metainfo *m)
{
	struct buf b;

	if (m->trackers_dropped == 0)
		return;
	buf_init(&b, INFO_LINE_MAX);
	if (escape_buf(&b, file) == 0 && b.data != NULL)
		fprintf(stderr, _("thorrent: %s: warning: %zu trackers past "
		    "the first %u ignored\n"), (const char *)b.data,
		    m->trackers_dropped, METAINFO_MAX_TRACKERS);
	buf_release(&b);
}

int
cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL,	'j' },
		{ "help",	no_argument,	NULL,	'h' },
		{ NULL,		0,		NULL,	0 }
	};
	struct thr_error err;
	struct metainfo m;
	struct buf out;
	char hex[2 * HASH_SHA1_LEN + 1];
	bool json = false;
	int ch, rc, status;

	/* 0 rather than 1 makes glibc reinitialise, so options may follow
	 * the file name even if getopt ran before. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'h':
			info_usage(stdout);
			return CMD_EXIT_OK;
		default:
			info_bad_option(argv);
			info_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		info_usage(stderr);
		return CMD_EXIT_USAGE;
	}

	memset(&err, 0, sizeof(err));
	if (fileio_load_metainfo(&m, argv[optind], &err) != 0) {
		info_report(argv[optind], &err);
		return CMD_EXIT_ERROR;
	}
	info_warn_trackers(argv[optind], &m);
	hash_hex(m.info_hash, sizeof(m.info_hash), hex);

	buf_init(&out, INFO_LINE_MAX);
	rc = json ? info_json(&m, hex, &out) : info_text(&m, hex, &out);
	if (rc == 0 && fflush(stdout) != 0)
		rc = THR_EIO;
	status = CMD_EXIT_OK;
	if (rc != 0) {
		fprintf(stderr, "thorrent: %s: %s\n", _("writing output"),
		    rc == THR_EIO ? strerror(errno) : thr_strerror(rc));
		status = CMD_EXIT_ERROR;
	}
	buf_release(&out);
	metainfo_release(&m);
	return status;
}
