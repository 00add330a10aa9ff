/*
 * create.c: "thorrent create [-o OUT] [-t URL]... [-w URL]...
 * [--piece-size N] [--private] [--comment TEXT] PATH", making a v1
 * .torrent (BEP 3), with web seeds (BEP 19 url-list) if asked.
 *
 * Data model: a sorted array of struct create_file (path relative to the
 * torrent root, size), gathered by walking PATH once.  Hashing then reads
 * those files in order through one buffer the size of a piece, so pieces
 * run across file boundaries exactly as downloaders will see them and
 * memory stays at one piece whatever the payload size.  The torrent is
 * encoded into a buffer capped at what metainfo_load accepts, written to
 * OUT.tmp and renamed over OUT, so a crash never leaves half a torrent.
 *
 * What we write must load with our own metainfo parser: every path
 * component passes metainfo_component_ok, joined paths stay under
 * METAINFO_MAX_PATH and the counts under the METAINFO_* caps.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/bencode.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/escape.h"
#include "core/hash.h"
#include "core/i18n.h"
#include "core/metainfo.h"

/* Pieces are requested in 16 KiB blocks, so a smaller piece is never
 * useful; the largest is what our own loader accepts. */
#define CREATE_MIN_PIECE	(16u << 10)
#define CREATE_MAX_PIECE	METAINFO_MAX_PIECE_LEN
/* The default piece size aims at 1000-2000 pieces: enough to share
 * well, few enough to keep the torrent small.  Beyond 16 MiB pieces a
 * peer wastes too much on one bad piece, so huge payloads get more. */
#define CREATE_TARGET_PIECES	2000u
#define CREATE_MAX_DEFAULT	(16u << 20)
/* A directory tree deeper than this is more likely a loop or an attack
 * than a payload; it also bounds the open directory descriptors. */
#define CREATE_MAX_DEPTH	64
#define CREATE_MAX_TRACKERS	METAINFO_MAX_TRACKERS
/* Enough for "thorrent: " plus an escaped path. */
#define CREATE_MSG_MAX		(4 * (size_t)PATH_MAX + 256)

struct create_file {
	char		*path;		/* owned, relative to the root, '/' */
	uint64_t	 size;
};

struct create_list {
	struct create_file	*files;	/* owned */
	size_t			 n;
	size_t			 cap;
	uint64_t		 total;
};

struct create_opts {
	const char	*out;		/* NULL: <name>.torrent */
	const char	**trackers;	/* borrowed from argv */
	size_t		 ntrackers;
	uint64_t	 piece;		/* 0: choose */
	bool		 is_private;
	const char	*comment;	/* borrowed, may be NULL */
	const char	*path;
	const char	*webseeds[METAINFO_MAX_WEBSEEDS];	/* argv's */
	size_t		 nwebseeds;
};

static void
create_usage(FILE *fp)
{
	fprintf(fp, "%s\n", _("usage: thorrent create [-o OUT] [-t URL]... "
	    "[-w URL]... [--piece-size N] [--private] [--comment TEXT] PATH"));
}

/*
 * Print "thorrent: [warning: ]<what>: <text>" with what escaped: file
 * names are untrusted even on our own disk (someone else may have
 * unpacked them there).
 */
static void
create_msg(bool warning, const char *what, const char *text)
{
	struct buf b;

	buf_init(&b, CREATE_MSG_MAX);
	if (buf_puts(&b, "thorrent: ") == 0 &&
	    (!warning || buf_puts(&b, _("warning: ")) == 0) &&
	    escape_buf(&b, what) == 0 && buf_puts(&b, ": ") == 0 &&
	    buf_puts(&b, text) == 0)
		fprintf(stderr, "%s\n", (const char *)b.data);
	else
		fprintf(stderr, "thorrent: %s\n", text);
	buf_release(&b);
}

/* root/rel for messages, without doubling a slash the user typed. */
static void
create_shown(char *out, size_t outlen, const char *root, const char *rel,
    const char *name)
{
	size_t n = strlen(root);

	snprintf(out, outlen, "%s%s%s%s%s", root,
	    n > 0 && root[n - 1] == '/' ? "" : "/", rel,
	    *rel != '\0' && *name != '\0' ? "/" : "", name);
}

/* "16K", "4M", "262144": a byte count with an optional binary suffix.
 * Returns false on anything else, including overflow. */
static bool
create_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *p;

	if (*s < '0' || *s > '9')
		return false;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p == 'K' || *p == 'k')
		mult = 1u << 10;
	else if (*p == 'M' || *p == 'm')
		mult = 1u << 20;
	if (mult != 1)
		p++;
	if (*p != '\0' || v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static uint64_t
create_default_piece(uint64_t total)
{
	uint64_t piece = CREATE_MIN_PIECE;

	while (piece < CREATE_MAX_DEFAULT &&
	    total / piece >= CREATE_TARGET_PIECES)
		piece *= 2;
	return piece;
}

static void
create_list_free(struct create_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->files[i].path);
	free(l->files);
	memset(l, 0, sizeof(*l));
}

static int
create_list_add(struct create_list *l, const char *rel, uint64_t size)
{
	struct create_file *nf;
	size_t ncap;

	if (l->n >= METAINFO_MAX_FILES)
		return THR_ELIMIT;
	if (size > (uint64_t)INT64_MAX - l->total)
		return THR_ELIMIT;
	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 64;
		if ((nf = reallocarray(l->files, ncap, sizeof(*nf))) == NULL)
			return THR_ENOMEM;
		l->files = nf;
		l->cap = ncap;
	}
	if ((l->files[l->n].path = strdup(rel)) == NULL)
		return THR_ENOMEM;
	l->files[l->n].size = size;
	l->n++;
	l->total += size;
	return 0;
}

static int
create_cmp(const void *a, const void *b)
{
	const struct create_file *fa = a, *fb = b;

	/* Plain byte order: the same on every machine, whatever the
	 * locale, so the same tree always gives the same torrent. */
	return strcmp(fa->path, fb->path);
}

/*
 * Walk the directory open at dfd, whose path relative to the root is
 * rel (empty for the root; rel has room for METAINFO_MAX_PATH + 1).
 * display is the path to name in messages.  namelen is the length of
 * the torrent name, which prefixes every path in the torrent.
 */
static int
create_walk(int dfd, char *rel, size_t namelen, const char *root,
    int depth, struct create_list *l)
{
	char shown[PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t rlen, nlen;
	DIR *d;
	int cfd, rc = 0;

	if (depth > CREATE_MAX_DEPTH) {
		create_msg(false, root, _("directory tree too deep"));
		close(dfd);
		return THR_ELIMIT;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		create_msg(false, root, strerror(errno));
		close(dfd);
		return THR_EIO;
	}
	rlen = strlen(rel);
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				create_msg(false, root, strerror(errno));
				rc = THR_EIO;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		nlen = strlen(de->d_name);
		create_shown(shown, sizeof(shown), root, rel, de->d_name);
		if (!metainfo_component_ok((const uint8_t *)de->d_name, nlen)) {
			create_msg(false, shown,
			    _("file name not allowed in a torrent"));
			rc = THR_EINVAL;
			break;
		}
		/* name + '/' + rel + '/' + entry, as metainfo joins it. */
		if (namelen + 1 + rlen + 1 + nlen > METAINFO_MAX_PATH) {
			create_msg(false, shown, _("path too long"));
			rc = THR_ELIMIT;
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			create_msg(false, shown, strerror(errno));
			rc = THR_EIO;
			break;
		}
		if (rlen > 0)
			rel[rlen] = '/';
		memcpy(rel + rlen + (rlen > 0), de->d_name, nlen + 1);
		if (S_ISREG(st.st_mode)) {
			rc = create_list_add(l, rel, (uint64_t)st.st_size);
			if (rc != 0)
				create_msg(false, shown, rc == THR_ELIMIT ?
				    _("too many files or too much data") :
				    thr_strerror(rc));
		} else if (S_ISDIR(st.st_mode)) {
			cfd = openat(dirfd(d), de->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				create_msg(false, shown, strerror(errno));
				rc = THR_EIO;
			} else
				rc = create_walk(cfd, rel, namelen, root,
				    depth + 1, l);
		} else if (S_ISLNK(st.st_mode))
			create_msg(true, shown,
			    _("skipping symbolic link"));
		else
			create_msg(true, shown,
			    _("skipping special file"));
		rel[rlen] = '\0';
		if (rc != 0)
			break;
	}
	closedir(d);
	return rc;
}

/*
 * Read exactly size bytes of one file into the piece buffer, hashing
 * each piece as it fills.  A file that shrinks or grows while we read it
 * would give a torrent nobody can complete, so both are errors.
 */
static int
create_hash_file(int fd, const char *shown, uint64_t size, uint8_t *piece,
    size_t plen, size_t *fill, struct buf *hashes)
{
	uint8_t md[HASH_SHA1_LEN], extra;
	uint64_t left = size;
	size_t want;
	ssize_t n;
	int rc;

	while (left > 0) {
		want = plen - *fill;
		if (want > left)
			want = (size_t)left;
		n = read(fd, piece + *fill, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			create_msg(false, shown, strerror(errno));
			return THR_EIO;
		}
		if (n == 0) {
			create_msg(false, shown,
			    _("file shrank while reading it"));
			return THR_EIO;
		}
		*fill += (size_t)n;
		left -= (uint64_t)n;
		if (*fill == plen) {
			if ((rc = hash_sha1(piece, plen, md)) != 0 ||
			    (rc = buf_append(hashes, md, sizeof(md))) != 0) {
				create_msg(false, shown, thr_strerror(rc));
				return rc;
			}
			*fill = 0;
		}
	}
	do
		n = read(fd, &extra, 1);
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		create_msg(false, shown, n > 0 ?
		    _("file grew while reading it") : strerror(errno));
		return THR_EIO;
	}
	return 0;
}

/*
 * Hash all files in order.  rootfd is the directory (multi-file) or -1
 * with single set to the file's own path.
 */
static int
create_hash(const struct create_list *l, int rootfd, const char *path,
    uint64_t plen, struct buf *hashes)
{
	char shown[PATH_MAX];
	uint8_t md[HASH_SHA1_LEN];
	uint8_t *piece;
	size_t i, fill = 0;
	int fd, rc = 0;

	if ((piece = malloc((size_t)plen)) == NULL) {
		create_msg(false, path, thr_strerror(THR_ENOMEM));
		return THR_ENOMEM;
	}
	for (i = 0; i < l->n && rc == 0; i++) {
		if (rootfd < 0) {
			snprintf(shown, sizeof(shown), "%s", path);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		} else {
			create_shown(shown, sizeof(shown), path,
			    l->files[i].path, "");
			/* Not following a symlink swapped in after the walk. */
			fd = openat(rootfd, l->files[i].path,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			create_msg(false, shown, strerror(errno));
			rc = THR_EIO;
			break;
		}
		rc = create_hash_file(fd, shown, l->files[i].size, piece,
		    (size_t)plen, &fill, hashes);
		close(fd);
	}
	if (rc == 0 && fill > 0) {
		if ((rc = hash_sha1(piece, fill, md)) != 0 ||
		    (rc = buf_append(hashes, md, sizeof(md))) != 0)
			create_msg(false, path, thr_strerror(rc));
	}
	free(piece);
	return rc;
}

/* Append one file's path as a bencoded list of its components. */
static int
create_put_path(struct buf *out, const char *path)
{
	const char *p = path, *slash;
	int rc;

	if ((rc = bencode_put_list(out)) != 0)
		return rc;
	for (;;) {
		slash = strchr(p, '/');
		if (slash == NULL)
			break;
		if ((rc = bencode_put_str(out, p, (size_t)(slash - p))) != 0)
			return rc;
		p = slash + 1;
	}
	if ((rc = bencode_put_cstr(out, p)) != 0)
		return rc;
	return bencode_put_end(out);
}

/*
 * Reproducible output: honour SOURCE_DATE_EPOCH (reproducible-builds.org)
 * when set to a plain non-negative number, else use the current time.
 */
static int64_t
create_date(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;

	if (s != NULL && create_parse_size(s, &v) &&
	    strspn(s, "0123456789") == strlen(s) && v <= INT64_MAX)
		return (int64_t)v;
	return (int64_t)time(NULL);
}

/*
 * Encode the whole torrent (keys in BEP 3 byte order) and hash its info
 * dictionary into info_hash.
 */
static int
create_encode(const struct create_opts *o, const char *name,
    const struct create_list *l, bool multi, uint64_t plen,
    const struct buf *hashes, struct buf *out,
    uint8_t info_hash[HASH_SHA1_LEN])
{
	size_t i, info_start;
	int rc;

#define PUT(expr)	do { if ((rc = (expr)) != 0) return rc; } while (0)
	PUT(bencode_put_dict(out));
	if (o->ntrackers > 0) {
		PUT(bencode_put_cstr(out, "announce"));
		PUT(bencode_put_cstr(out, o->trackers[0]));
	}
	if (o->ntrackers > 1) {
		/* BEP 12: each URL in its own tier, tried in order. */
		PUT(bencode_put_cstr(out, "announce-list"));
		PUT(bencode_put_list(out));
		for (i = 0; i < o->ntrackers; i++) {
			PUT(bencode_put_list(out));
			PUT(bencode_put_cstr(out, o->trackers[i]));
			PUT(bencode_put_end(out));
		}
		PUT(bencode_put_end(out));
	}
	if (o->comment != NULL) {
		PUT(bencode_put_cstr(out, "comment"));
		PUT(bencode_put_cstr(out, o->comment));
	}
	PUT(bencode_put_cstr(out, "created by"));
	PUT(bencode_put_cstr(out, "thorrent " PACKAGE_VERSION));
	PUT(bencode_put_cstr(out, "creation date"));
	PUT(bencode_put_int(out, create_date()));
	PUT(bencode_put_cstr(out, "info"));

	info_start = out->len;
	PUT(bencode_put_dict(out));
	if (multi) {
		PUT(bencode_put_cstr(out, "files"));
		PUT(bencode_put_list(out));
		for (i = 0; i < l->n; i++) {
			PUT(bencode_put_dict(out));
			PUT(bencode_put_cstr(out, "length"));
			PUT(bencode_put_int(out, (int64_t)l->files[i].size));
			PUT(bencode_put_cstr(out, "path"));
			PUT(create_put_path(out, l->files[i].path));
			PUT(bencode_put_end(out));
		}
		PUT(bencode_put_end(out));
	} else {
		PUT(bencode_put_cstr(out, "length"));
		PUT(bencode_put_int(out, (int64_t)l->total));
	}
	PUT(bencode_put_cstr(out, "name"));
	PUT(bencode_put_cstr(out, name));
	PUT(bencode_put_cstr(out, "piece length"));
	PUT(bencode_put_int(out, (int64_t)plen));
	PUT(bencode_put_cstr(out, "pieces"));
	PUT(bencode_put_str(out, hashes->data, hashes->len));
	if (o->is_private) {
		/* BEP 27: only the tracker may hand out peers. */
		PUT(bencode_put_cstr(out, "private"));
		PUT(bencode_put_int(out, 1));
	}
	PUT(bencode_put_end(out));
	PUT(hash_sha1(out->data + info_start, out->len - info_start,
	    info_hash));
	if (o->nwebseeds > 0) {
		/* BEP 19, after "info" in key order. */
		PUT(bencode_put_cstr(out, "url-list"));
		PUT(bencode_put_list(out));
		for (i = 0; i < o->nwebseeds; i++)
			PUT(bencode_put_cstr(out, o->webseeds[i]));
		PUT(bencode_put_end(out));
	}
	PUT(bencode_put_end(out));
#undef PUT
	return 0;
}

/* Write data to out.tmp, flush it to disk, then rename over out. */
static int
create_write(const char *out, const struct buf *data)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	ssize_t n;
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", out) >=
	    sizeof(tmp)) {
		create_msg(false, out, _("path too long"));
		return THR_ELIMIT;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		create_msg(false, tmp, strerror(errno));
		return THR_EIO;
	}
	while (off < data->len) {
		n = write(fd, data->data + off, data->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail_fd;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail_fd;
	if (close(fd) != 0) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, out) != 0) {
		saved = errno;
		unlink(tmp);
		create_msg(false, out, strerror(saved));
		return THR_EIO;
	}
	return 0;

fail_fd:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	create_msg(false, tmp, strerror(saved));
	return THR_EIO;
}

/* The last component of path, ignoring trailing slashes; "." and ".."
 * and "/" resolve through realpath so "create ." names the directory. */
static char *
create_name(const char *path)
{
	char *real, *copy, *end, *base;

	if ((real = realpath(path, NULL)) == NULL)
		return NULL;
	end = real + strlen(real);
	while (end > real + 1 && end[-1] == '/')
		*--end = '\0';
	base = strrchr(real, '/');
	base = base != NULL ? base + 1 : real;
	copy = strdup(base);
	free(real);
	return copy;
}

/* A URL our metainfo parser keeps (see metainfo.h). */
static bool
create_webseed_ok(const char *u)
{
	size_t n = strlen(u);

	if (n > METAINFO_MAX_URL || !((n > 7 &&
	    strncasecmp(u, "http://", 7) == 0) || (n > 8 &&
	    strncasecmp(u, "https://", 8) == 0)))
		return false;
	for (; *u != '\0'; u++)
		if ((unsigned char)*u <= 0x20 || *u == 0x7f)
			return false;
	return true;
}

/* A tracker we (and other clients) can announce to: HTTP, HTTPS or UDP
 * (BEP 15); anything else would only fail later, on every downloader. */
static bool
create_tracker_ok(const char *u)
{
	size_t n = strlen(u);

	if (n > METAINFO_MAX_URL || !((n > 7 &&
	    strncasecmp(u, "http://", 7) == 0) || (n > 8 &&
	    strncasecmp(u, "https://", 8) == 0) || (n > 6 &&
	    strncasecmp(u, "udp://", 6) == 0)))
		return false;
	for (; *u != '\0'; u++)
		if ((unsigned char)*u <= 0x20 || *u == 0x7f)
			return false;
	return true;
}

/* -t and -w: a tracker or a web seed.  -1 to go on, or the exit
 * status after one line. */
static int
create_add_url(struct create_opts *o, int ch, const char *arg)
{
	char safe[128];

	if (ch == 'w') {
		/* What metainfo would drop, we refuse to write. */
		if (!create_webseed_ok(arg)) {
			fprintf(stderr, "%s\n", _("thorrent: create: "
			    "a web seed is an http:// or https:// URL"));
			return CMD_EXIT_USAGE;
		}
		if (o->nwebseeds >= METAINFO_MAX_WEBSEEDS) {
			fprintf(stderr, _("thorrent: create: at most "
			    "%u web seeds\n"), METAINFO_MAX_WEBSEEDS);
			return CMD_EXIT_USAGE;
		}
		o->webseeds[o->nwebseeds++] = arg;
		return -1;
	}
	if (*arg == '\0') {
		fprintf(stderr, "%s\n",
		    _("thorrent: create: empty tracker URL"));
		return CMD_EXIT_USAGE;
	}
	if (!create_tracker_ok(arg)) {
		escape_str(arg, strnlen(arg, 64), safe, sizeof(safe));
		fprintf(stderr, _("thorrent: create: a tracker is an http://, "
		    "https:// or udp:// URL, not '%s'\n"), safe);
		return CMD_EXIT_USAGE;
	}
	if (o->ntrackers >= CREATE_MAX_TRACKERS) {
		fprintf(stderr, "%s\n",
		    _("thorrent: create: too many trackers"));
		return CMD_EXIT_USAGE;
	}
	o->trackers[o->ntrackers++] = arg;
	return -1;
}

static int
create_parse_args(int argc, char **argv, struct create_opts *o)
{
	static const struct option longopts[] = {
		{ "output",	required_argument,	NULL, 'o' },
		{ "tracker",	required_argument,	NULL, 't' },
		{ "piece-size",	required_argument,	NULL, 'p' },
		{ "private",	no_argument,		NULL, 'P' },
		{ "comment",	required_argument,	NULL, 'c' },
		{ "web-seed",	required_argument,	NULL, 'w' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	int ch, rc;

	/* 0 makes glibc start afresh and permute, so options may follow
	 * PATH; opterr off because getopt would call us "create". */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":o:t:w:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'o':
			o->out = optarg;
			break;
		case 't':
		case 'w':
			if ((rc = create_add_url(o, ch, optarg)) >= 0)
				return rc;
			break;
		case 'p':
			if (!create_parse_size(optarg, &o->piece) ||
			    o->piece < CREATE_MIN_PIECE ||
			    o->piece > CREATE_MAX_PIECE ||
			    (o->piece & (o->piece - 1)) != 0) {
				fprintf(stderr, "%s\n", _("thorrent: create: "
				    "--piece-size must be a power of two "
				    "from 16K to 64M"));
				return CMD_EXIT_USAGE;
			}
			break;
		case 'P':
			o->is_private = true;
			break;
		case 'c':
			o->comment = optarg;
			break;
		case 'h':
			create_usage(stdout);
			return CMD_EXIT_OK;
		case ':':
			fprintf(stderr,
			    _("thorrent: create: option '%s' needs a value\n"),
			    argv[optind - 1]);
			create_usage(stderr);
			return CMD_EXIT_USAGE;
		default:
			if (optopt != 0)
				fprintf(stderr, _("thorrent: create: "
				    "invalid option -- '%c'\n"), optopt);
			else
				fprintf(stderr, _("thorrent: create: "
				    "invalid option '%s'\n"), argv[optind - 1]);
			create_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		create_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	o->path = argv[optind];
	return -1;
}

/*
 * What PATH holds: its name in the torrent (*name, owned by the caller),
 * whether it is a directory (then *rootfd is open on it) and its files
 * in l, sorted.  0, or -1 after one line.
 */
static int
create_gather(const char *path, char **name, bool *multi, int *rootfd,
    struct create_list *l)
{
	char rel[METAINFO_MAX_PATH + 1];
	struct stat st;
	int fd;

	/* The named PATH itself may be a symlink: the user chose it. */
	if (stat(path, &st) != 0) {
		create_msg(false, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		create_msg(false, path, _("not a regular file or a directory"));
		return -1;
	}
	*multi = S_ISDIR(st.st_mode);
	if ((*name = create_name(path)) == NULL) {
		create_msg(false, path, strerror(errno));
		return -1;
	}
	if (!metainfo_component_ok((const uint8_t *)*name, strlen(*name))) {
		create_msg(false, path, _("name not allowed in a torrent"));
		return -1;
	}
	if (*multi) {
		*rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* create_walk owns (and closes) the descriptor it is
		 * given. */
		if (*rootfd < 0 || (fd = dup(*rootfd)) < 0) {
			create_msg(false, path, strerror(errno));
			return -1;
		}
		rel[0] = '\0';
		if (create_walk(fd, rel, strlen(*name), path, 0, l) != 0)
			return -1;
		qsort(l->files, l->n, sizeof(*l->files), create_cmp);
	} else if (create_list_add(l, *name, (uint64_t)st.st_size) != 0) {
		create_msg(false, path, _("file too large"));
		return -1;
	}
	if (l->total == 0) {
		create_msg(false, path, *multi ?
		    _("nothing to share: no data in the directory") :
		    _("nothing to share: the file is empty"));
		return -1;
	}
	return 0;
}

/* Hash the files of l, encode the torrent, write it and say so.  0, or
 * -1 after one line. */
static int
create_make(struct create_opts *o, const char *name,
    const struct create_list *l, bool multi, int rootfd)
{
	char hex[2 * HASH_SHA1_LEN + 1], *outpath = NULL;
	uint8_t info_hash[HASH_SHA1_LEN];
	struct buf hashes, out;
	uint64_t plen, npieces;
	int rc, status = -1;

	buf_init(&hashes, (size_t)METAINFO_MAX_PIECES * HASH_SHA1_LEN);
	buf_init(&out, METAINFO_MAX_FILE_SIZE);
	plen = o->piece != 0 ? o->piece : create_default_piece(l->total);
	npieces = l->total / plen + (l->total % plen != 0);
	if (npieces > METAINFO_MAX_PIECES) {
		create_msg(false, o->path,
		    _("too many pieces: choose a larger --piece-size"));
		goto done;
	}
	if (create_hash(l, rootfd, o->path, plen, &hashes) != 0)
		goto done;
	rc = create_encode(o, name, l, multi, plen, &hashes, &out,
	    info_hash);
	if (rc != 0) {
		create_msg(false, o->path, rc == THR_ELIMIT ?
		    _("the torrent would be too large") : thr_strerror(rc));
		goto done;
	}
	if (o->out == NULL) {
		if (asprintf(&outpath, "%s.torrent", name) < 0) {
			outpath = NULL;
			create_msg(false, o->path, thr_strerror(THR_ENOMEM));
			goto done;
		}
		o->out = outpath;
	}
	if (create_write(o->out, &out) != 0)
		goto done;
	hash_hex(info_hash, sizeof(info_hash), hex);
	buf_reset(&out);
	if (escape_buf(&out, o->out) == 0)
		printf(_("created %s (info hash %s)\n"),
		    (const char *)out.data, hex);
	status = 0;
done:
	if (o->out == outpath)
		o->out = NULL;
	free(outpath);
	buf_release(&hashes);
	buf_release(&out);
	return status;
}

int
cmd_create(int argc, char **argv)
{
	struct create_opts o;
	struct create_list l;
	char *name = NULL;
	bool multi = false;
	int rootfd = -1, status = CMD_EXIT_ERROR, rc;

	memset(&o, 0, sizeof(o));
	memset(&l, 0, sizeof(l));
	/* Trackers point into argv, so argc of them always fit. */
	o.trackers = calloc((size_t)argc + 1, sizeof(*o.trackers));
	if (o.trackers == NULL) {
		fprintf(stderr, "thorrent: %s\n", thr_strerror(THR_ENOMEM));
		return CMD_EXIT_ERROR;
	}
	if ((rc = create_parse_args(argc, argv, &o)) >= 0)
		status = rc;
	else if (create_gather(o.path, &name, &multi, &rootfd, &l) == 0 &&
	    create_make(&o, name, &l, multi, rootfd) == 0)
		status = CMD_EXIT_OK;
	if (rootfd >= 0)
		close(rootfd);
	free(name);
	free(o.trackers);
	create_list_free(&l);
	return status;
}
