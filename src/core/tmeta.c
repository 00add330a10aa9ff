/*
 * tmeta.c: a torrent's metadata from a magnet link, from the state
 * directory and from peers.  See tmeta.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bencode.h"
#include "hash.h"
#include "i18n.h"
#include "magnet.h"
#include "tmeta.h"
#include "xalloc.h"

/* Saved metadata of a magnet ("<hex>.torrent" among the session's blobs):
 * the torrent is complete at once.  False when there is none. */
static bool
tmeta_load_saved(struct torrent *t, const uint8_t ih[20])
{
	struct blob_store *bs = &t->sess->opts.blobs;
	struct thr_error e;
	char name[64];
	struct buf b;
	int rc;

	if (bs->load == NULL)
		return false;
	hash_hex(ih, 20, name);
	snprintf(name + 40, sizeof(name) - 40, ".torrent");
	memset(&e, 0, sizeof(e));
	buf_init(&b, METAINFO_MAX_FILE_SIZE);
	rc = bs->load(bs->ctx, name, METAINFO_MAX_FILE_SIZE, &b, &e);
	if (rc == 0)
		rc = metainfo_parse(&t->mi, b.data, b.len, &e);
	buf_release(&b);
	if (rc == 0 && memcmp(t->mi.info_hash, ih, 20) == 0) {
		log_msg(t->log, LOG_INFO, _("metadata loaded from the state "
		    "directory (%s)"), name);
		return true;
	}
	if (rc != THR_ENOENT && rc != 0)
		log_msg(t->log, LOG_WARN, _("saved metadata not used: %s"),
		    e.msg);
	metainfo_release(&t->mi);
	return false;
}

/* A magnet link's trackers as one more tier (BEP 12 shuffles it). */
static int
tmeta_magnet_tier(struct torrent *t, struct magnet *m)
{
	struct metainfo_tier *tier;

	if (m->ntrackers == 0)
		return 0;
	tier = thr_realloc(t->mi.tiers, (t->mi.ntiers + 1) * sizeof(*tier));
	if (tier == NULL)
		return THR_ENOMEM;
	t->mi.tiers = tier;
	tier[t->mi.ntiers].urls = m->trackers;
	tier[t->mi.ntiers].nurls = m->ntrackers;
	t->mi.ntiers++;
	m->trackers = NULL;
	m->ntrackers = 0;
	return 0;
}

/*
 * A magnet link: its trackers become the torrent's, its peers are dialled
 * like --peer ones, its web seeds wait in mi until the metadata is here,
 * and if the state directory holds the info dict from an earlier run the
 * torrent is complete at once.
 */
int
tmeta_load_magnet(struct torrent *t, const char *uri, struct thr_error *err)
{
	struct magnet m;
	int rc;

	if ((rc = magnet_parse(uri, strlen(uri), &m, err)) != 0)
		return rc;
	t->have_meta = tmeta_load_saved(t, m.info_hash);
	if (!t->have_meta) {
		memcpy(t->mi.info_hash, m.info_hash, 20);
		t->mi.name = m.name;	/* shown until the metadata arrives */
		m.name = NULL;
	}
	rc = tmeta_magnet_tier(t, &m);
	for (size_t i = 0; i < m.npeers; i++)
		peerset_known_add(&t->ps, &m.peers[i], PEER_SRC_MANUAL);
	for (size_t i = 0; rc == 0 && i < m.nwebseeds; i++)
		rc = metainfo_add_webseed_url(&t->mi, m.webseeds[i],
		    strlen(m.webseeds[i]));
	magnet_release(&m);
	return rc != 0 ? thr_error_set(err, rc, 0, "out of memory") : 0;
}

/* Wrap the verified info dict as a torrent with the magnet's trackers,
 * for the state directory: a restart then needs no peer to know what to
 * download. */
void
tmeta_save(struct torrent *t, const uint8_t *info, size_t len)
{
	struct blob_store *bs = &t->sess->opts.blobs;
	struct thr_error err;
	char name[64];
	struct buf b;
	int rc = 0;

	if (bs->save == NULL)
		return;
	hash_hex(t->mi.info_hash, 20, name);
	snprintf(name + 40, sizeof(name) - 40, ".torrent");
	buf_init(&b, len + TORRENT_META_SAVE_MAX);
	rc |= bencode_put_dict(&b);
	if (t->mi.ntiers > 0) {
		rc |= bencode_put_cstr(&b, "announce-list");
		rc |= bencode_put_list(&b);
		for (size_t i = 0; i < t->mi.ntiers; i++) {
			rc |= bencode_put_list(&b);
			for (size_t j = 0; j < t->mi.tiers[i].nurls; j++)
				rc |= bencode_put_cstr(&b,
				    t->mi.tiers[i].urls[j]);
			rc |= bencode_put_end(&b);
		}
		rc |= bencode_put_end(&b);
	}
	rc |= bencode_put_cstr(&b, "info");
	rc |= buf_append(&b, info, len);
	rc |= bencode_put_end(&b);
	memset(&err, 0, sizeof(err));
	if (rc != 0)
		log_msg(t->log, LOG_WARN, "%s",
		    _("cannot encode the metadata"));
	else if (bs->save(bs->ctx, name, b.data, b.len, &err) != 0)
		log_msg(t->log, LOG_WARN, _("cannot save the metadata: %s"),
		    err.msg);
	else
		log_msg(t->log, LOG_INFO, _("metadata saved to the state "
		    "directory (%s)"), name);
	buf_release(&b);
}

/* The info dict matched its hash: parse it into mi, keeping the magnet's
 * trackers and web seeds (the info dict has neither).  0 or an error
 * (the torrent itself is bad). */
int
tmeta_adopt(struct torrent *t, struct thr_error *err)
{
	struct metainfo mi;
	struct buf b;
	int rc;

	buf_init(&b, t->md.size + 16);
	if (buf_puts(&b, "d4:info") != 0 ||
	    buf_append(&b, t->md.data, t->md.size) != 0 ||
	    buf_puts(&b, "e") != 0)
		rc = thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	else
		rc = metainfo_parse(&mi, b.data, b.len, err);
	buf_release(&b);
	if (rc != 0)
		return rc;
	mi.tiers = t->mi.tiers;
	mi.ntiers = t->mi.ntiers;
	t->mi.tiers = NULL;
	t->mi.ntiers = 0;
	mi.webseeds = t->mi.webseeds;
	mi.nwebseeds = t->mi.nwebseeds;
	t->mi.webseeds = NULL;
	t->mi.nwebseeds = 0;
	metainfo_release(&t->mi);
	t->mi = mi;
	return 0;
}

