/*
 * fixture.c: the torrent-on-disk fixture shared by the suites that drive
 * a session and its torrent (see fixture.h).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/session.h"
#include "core/torrent.h"
#include "net/fileio.h"
#include "net/storage.h"
#include "core/wire.h"

#include "fixture.h"

static int
fixture_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
fixture_init(const struct fixture *fx, const char *tmpl, uint8_t salt)
{
	for (size_t i = 0; i < fx->total; i++)
		fx->payload[i] = (uint8_t)((i * 2654435761u) >> 11 ^ i ^ salt);
	cr_assert_lt(strlen(tmpl), FIXTURE_ROOT_LEN);
	strcpy(fx->root, tmpl);
	cr_assert_not_null(mkdtemp(fx->root));
	snprintf(fx->dl, FIXTURE_PATH_LEN, "%s/dl", fx->root);
	snprintf(fx->torrent, FIXTURE_PATH_LEN, "%s/t.torrent", fx->root);
	cr_assert_eq(mkdir(fx->dl, 0755), 0);
}

void
fixture_fini(const struct fixture *fx)
{
	if (fx->root[0] != '\0')
		nftw(fx->root, fixture_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
fixture_file_path(const struct fixture *fx, size_t f, char *out, size_t len)
{
	const struct fixture_file *ff = &fx->files[f];

	if (ff->comp[1] != NULL)
		snprintf(out, len, "%s/pay/%s/%s", fx->dl, ff->comp[0],
		    ff->comp[1]);
	else
		snprintf(out, len, "%s/pay/%s", fx->dl, ff->comp[0]);
}

void
fixture_make_dirs(const struct fixture *fx)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/pay", fx->dl);
	cr_assert_eq(mkdir(path, 0755), 0);
	for (size_t f = 0; f < fx->nfiles; f++) {
		if (fx->files[f].comp[1] == NULL)
			continue;
		/* Several files may share a directory. */
		snprintf(path, sizeof(path), "%s/pay/%s", fx->dl,
		    fx->files[f].comp[0]);
		cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "%s",
		    path);
	}
}

void
fixture_write_payload(const struct fixture *fx)
{
	char path[256];

	fixture_make_dirs(fx);
	for (size_t f = 0; f < fx->nfiles; f++) {
		FILE *fp;

		fixture_file_path(fx, f, path, sizeof(path));
		cr_assert_not_null(fp = fopen(path, "wb"), "%s", path);
		cr_assert_eq(fwrite(fx->payload + fx->files[f].offset, 1,
		    fx->files[f].length, fp), fx->files[f].length);
		cr_assert_eq(fclose(fp), 0);
	}
}

void
fixture_write_torrent(const struct fixture *fx)
{
	uint32_t npieces = (uint32_t)((fx->total + fx->plen - 1) / fx->plen);
	uint8_t *hashes;
	struct buf b;
	FILE *fp;

	cr_assert_not_null(hashes = malloc((size_t)npieces * 20));
	for (uint32_t i = 0; i < npieces; i++) {
		uint64_t at = (uint64_t)i * fx->plen;
		size_t n = fx->total - at < fx->plen ? fx->total - at :
		    fx->plen;

		cr_assert_eq(hash_sha1(fx->payload + at, n, hashes + 20 * i),
		    0);
	}
	buf_init(&b, 1u << 20);
	cr_assert_eq(bencode_put_dict(&b), 0);
	bencode_put_cstr(&b, "announce");
	bencode_put_cstr(&b, "http://127.0.0.1:9/announce");
	bencode_put_cstr(&b, "info");
	bencode_put_dict(&b);
	bencode_put_cstr(&b, "files");
	bencode_put_list(&b);
	for (size_t f = 0; f < fx->nfiles; f++) {
		bencode_put_dict(&b);
		bencode_put_cstr(&b, "length");
		bencode_put_int(&b, (int64_t)fx->files[f].length);
		bencode_put_cstr(&b, "path");
		bencode_put_list(&b);
		for (size_t c = 0; c < 2 && fx->files[f].comp[c] != NULL; c++)
			bencode_put_cstr(&b, fx->files[f].comp[c]);
		bencode_put_end(&b);
		bencode_put_end(&b);
	}
	bencode_put_end(&b);
	bencode_put_cstr(&b, "name");
	bencode_put_cstr(&b, "pay");
	bencode_put_cstr(&b, "piece length");
	bencode_put_int(&b, fx->plen);
	bencode_put_cstr(&b, "pieces");
	bencode_put_str(&b, hashes, (size_t)npieces * 20);
	bencode_put_end(&b);
	cr_assert_eq(bencode_put_end(&b), 0);
	cr_assert_not_null(fp = fopen(fx->torrent, "wb"));
	cr_assert_eq(fwrite(b.data, 1, b.len, fp), b.len);
	cr_assert_eq(fclose(fp), 0);
	buf_release(&b);
	free(hashes);
}

void
fixture_opts(const struct fixture *fx, struct fixture_run *r)
{
	memset(r, 0, sizeof(*r));
	r->torrent_path = fx->torrent;
	r->place.dir = fx->dl;
	r->so.seed = 12345;
	r->so.log_level = LOG_ERROR;
	r->so.max_peers = 10;
	r->so.crypto = SESSION_CRYPTO_PREFER;
	r->so.transport = SESSION_TRANSPORT_TCP;
	r->to.seed_ratio = 0;
}

int
fixture_try_start(struct fixture_run *r, uint64_t now, struct thr_error *err)
{
	int rc;

	memset(err, 0, sizeof(*err));
	buf_init(&r->meta, METAINFO_MAX_FILE_SIZE);
	if ((rc = fileio_read(r->torrent_path, METAINFO_MAX_FILE_SIZE,
	    &r->meta, err)) != 0)
		return rc;
	r->place.state_dir = r->state_dir;
	if (r->state_dir != NULL)
		r->so.blobs = fileio_blobs(r->state_dir);
	if ((r->s = session_new(&r->so, now, err)) == NULL)
		return err->code != 0 ? err->code : THR_ENOMEM;
	r->to.metainfo = r->meta.data;
	r->to.metainfo_len = r->meta.len;
	r->to.store = storage_factory(&r->place);
	return session_add(r->s, &r->to, now, &r->t, err);
}

void
fixture_start(struct fixture_run *r, uint64_t now)
{
	struct thr_error err;

	cr_assert_eq(fixture_try_start(r, now, &err), 0, "start: %s",
	    err.msg);
	cr_assert_not_null(r->t);
}

void
fixture_stop(struct fixture_run *r)
{
	session_free(r->s);
	r->s = NULL;
	r->t = NULL;
	storage_place_release(&r->place);
	buf_release(&r->meta);
}

void
fixture_check(struct torrent *t, uint64_t now)
{
	int guard = 0;

	while (t->phase == TORRENT_CHECKING) {
		torrent_check_step(t, now);
		cr_assert_lt(++guard, 100, "check never ends");
	}
	cr_assert_eq(t->fatal, 0, "%s", t->fatal_msg);
}

struct thr_addr
fixture_addr4(uint8_t net, uint8_t last, uint16_t port)
{
	struct thr_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.ip[0] = net;
	a.ip[3] = last;
	a.port = port;
	return a;
}

struct peer *
fixture_handshake(struct torrent *t, const struct thr_addr *a,
    const uint8_t ih[20], const uint8_t pid[20], uint64_t now)
{
	uint8_t hs[WIRE_HANDSHAKE_LEN];
	struct peer *p;

	cr_assert_not_null(p = torrent_peer_add(t, a, true, PEER_SRC_COUNT,
	    PEER_TCP, now));
	wire_handshake_build(hs, ih, pid, NULL);
	cr_assert_eq(buf_append(&p->in, hs, sizeof(hs)), 0);
	return p;
}

void
fixture_put_bitfield(struct buf *out, uint32_t npieces, bool all,
    uint32_t only)
{
	uint8_t bits[(FIXTURE_MAX_PIECES + 7) / 8] = { 0 };

	cr_assert_leq(npieces, FIXTURE_MAX_PIECES);
	for (uint32_t i = 0; i < npieces; i++)
		if (all || i == only)
			bits[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	cr_assert_eq(wire_put_bitfield(out, bits, (npieces + 7) / 8), 0);
}

void
fixture_put_block(struct buf *in, uint32_t index, uint32_t begin,
    const uint8_t *data, uint32_t len)
{
	cr_assert_eq(wire_put_piece_header(in, index, begin, len), 0);
	cr_assert_eq(buf_append(in, data, len), 0);
}

size_t
fixture_dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d, "%s", path);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}
