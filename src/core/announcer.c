/*
 * announcer.c: the tracker state machine of a torrent.  See announcer.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "announcer.h"
#include "escape.h"
#include "i18n.h"

static const char *const announcer_phase_names[] = {
	"idle", "busy", "none"
};

static uint32_t
announcer_rnd(void *ctx)
{
	return rng_next(ctx);
}

int
announcer_init(struct announcer *a, const struct metainfo *mi,
    struct rng *rng, struct log *log, struct trace *trace)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->log = log;
	a->trace = trace;
	a->seeders = a->leechers = -1;
	if ((rc = tracker_list_init(&a->tl, mi, announcer_rnd, rng)) != 0)
		return rc;
	a->phase = tracker_list_current(&a->tl) ? ANNOUNCER_IDLE :
	    ANNOUNCER_NONE;
	a->event = TRACKER_EVENT_STARTED;
	snprintf(a->status, sizeof(a->status), "%s",
	    a->phase == ANNOUNCER_NONE ? _("no tracker") : _("waiting"));
	return 0;
}

void
announcer_release(struct announcer *a)
{
	tracker_list_release(&a->tl);
}

void
announcer_set_phase(struct announcer *a, enum announcer_phase ph,
    const char *why)
{
	if (a->phase == ph)
		return;
	trace_emit(a->trace, "tracker_phase",
	    "\"from\":\"%s\",\"to\":\"%s\",\"why\":\"%s\"",
	    announcer_phase_names[a->phase], announcer_phase_names[ph], why);
	a->phase = ph;
}

bool
announcer_next(struct announcer *a, uint64_t now_ms,
    const struct announcer_stats *st, struct tracker_announce *out,
    const char **url)
{
	static const char *const evn[] = { "none", "started", "completed",
	    "stopped" };

	if (a->phase != ANNOUNCER_IDLE || now_ms < a->next_ms)
		return false;
	if ((*url = tracker_list_current(&a->tl)) == NULL)
		return false;
	memset(out, 0, sizeof(*out));
	memcpy(out->info_hash, st->info_hash, 20);
	memcpy(out->peer_id, st->peer_id, 20);
	out->port = st->port;
	out->uploaded = st->uploaded;
	out->downloaded = st->downloaded;
	out->left = st->left;
	out->event = a->event;
	out->numwant = a->event == TRACKER_EVENT_STOPPED ? 0 :
	    ANNOUNCER_NUMWANT;
	out->key = st->key;
	out->tracker_id = a->tl.tracker_id[0] ? a->tl.tracker_id : NULL;
	if (trace_on(a->trace)) {
		char u[512];

		trace_emit(a->trace, "announce",
		    "\"url\":\"%s\",\"event\":\"%s\"",
		    trace_str(*url, u, sizeof(u)), evn[out->event]);
	}
	announcer_set_phase(a, ANNOUNCER_BUSY, "announce");
	return true;
}

/* A failed announce: the next URL, after the list's backoff. */
static void
announcer_failed(struct announcer *a, const char *url, const char *msg,
    bool stopped, uint64_t now_ms)
{
	char e[400];
	int wait;

	trace_emit(a->trace, "announce_result", "\"ok\":false,\"error\":\"%s\"",
	    trace_str(msg, e, sizeof(e)));
	wait = tracker_list_failed(&a->tl);
	log_msg(a->log, LOG_WARN, _("tracker %s: %s"), url, msg);
	snprintf(a->status, sizeof(a->status), _("error: %.120s"), msg);
	a->next_ms = now_ms + (uint64_t)wait * 1000;
	announcer_set_phase(a, stopped ? ANNOUNCER_NONE : ANNOUNCER_IDLE,
	    "failed");
}

/* What the swarm looks like to the tracker (BEP 3 complete and
 * incomplete, BEP 15 seeders and leechers) says more than how many
 * addresses it handed out; "?" for a count it left out. */
static void
announcer_status(struct announcer *a, const struct tracker_response *r)
{
	char sd[24] = "?", lc[24] = "?";

	if (r->complete < 0 && r->incomplete < 0) {
		snprintf(a->status, sizeof(a->status), ngettext("ok: %zu peer",
		    "ok: %zu peers", r->npeers), r->npeers);
		return;
	}
	if (r->complete >= 0)
		snprintf(sd, sizeof(sd), "%lld", (long long)r->complete);
	if (r->incomplete >= 0)
		snprintf(lc, sizeof(lc), "%lld", (long long)r->incomplete);
	snprintf(a->status, sizeof(a->status), _("seeders %s, leechers %s"),
	    sd, lc);
}

void
announcer_result(struct announcer *a, int status, struct tracker_response *r,
    const char *errmsg, struct peerset *ps, uint64_t now_ms)
{
	char url[128], msg[THR_ERROR_MSG_MAX];
	bool stopped = a->event == TRACKER_EVENT_STOPPED;
	const char *cur = tracker_list_current(&a->tl);

	/* Tracker URLs come from the torrent: escape before logging. */
	escape_str(cur ? cur : "", cur ? strlen(cur) : 0, url, sizeof(url));
	snprintf(msg, sizeof(msg), "%s", errmsg ? errmsg : "failed");
	if (status == 0 && r->failed) {
		snprintf(msg, sizeof(msg), "tracker says: %.150s", r->failure);
		status = THR_EPROTO;
	}
	if (status != 0) {
		if (r != NULL)
			tracker_response_release(r);
		announcer_failed(a, url, msg, stopped, now_ms);
		return;
	}
	tracker_list_succeeded(&a->tl);
	/* Trace numbers are unsigned: the counts only when given. */
	if (r->complete >= 0 && r->incomplete >= 0)
		trace_emit(a->trace, "announce_result",
		    "\"ok\":true,\"peers\":%zu,\"interval\":%lld,"
		    "\"seeders\":%lld,\"leechers\":%lld", r->npeers,
		    (long long)r->interval, (long long)r->complete,
		    (long long)r->incomplete);
	else
		trace_emit(a->trace, "announce_result",
		    "\"ok\":true,\"peers\":%zu,\"interval\":%lld",
		    r->npeers, (long long)r->interval);
	if (r->tracker_id[0])
		snprintf(a->tl.tracker_id, sizeof(a->tl.tracker_id), "%s",
		    r->tracker_id);
	if (r->warning[0])
		log_msg(a->log, LOG_WARN, _("tracker %s warns: %s"), url,
		    r->warning);
	for (size_t i = 0; i < r->npeers; i++)
		peerset_known_add(ps, &r->peers[i], PEER_SRC_TRACKER);
	a->seeders = r->complete;
	a->leechers = r->incomplete;
	a->interval = r->interval;
	if (r->min_interval > r->interval)
		a->interval = r->min_interval;
	a->next_ms = now_ms + (uint64_t)a->interval * 1000;
	announcer_status(a, r);
	log_msg(a->log, LOG_INFO, _("tracker %s: %zu peers, next in %llds"),
	    url, r->npeers, (long long)a->interval);
	a->event = TRACKER_EVENT_NONE;
	announcer_set_phase(a, stopped ? ANNOUNCER_NONE : ANNOUNCER_IDLE,
	    "answered");
	tracker_response_release(r);
}

void
announcer_completed(struct announcer *a)
{
	if (a->sent_completed || a->phase == ANNOUNCER_NONE)
		return;
	a->event = TRACKER_EVENT_COMPLETED;
	a->next_ms = 0;
	a->sent_completed = true;
}

void
announcer_stop(struct announcer *a)
{
	if (a->phase == ANNOUNCER_NONE)
		return;
	/* A tracker that never heard from us has nothing to stop. */
	if (a->event == TRACKER_EVENT_STARTED) {
		announcer_set_phase(a, ANNOUNCER_NONE, "never started");
		return;
	}
	a->event = TRACKER_EVENT_STOPPED;
	a->next_ms = 0;
	if (a->phase == ANNOUNCER_BUSY)	/* the caller cancelled it */
		announcer_set_phase(a, ANNOUNCER_IDLE, "stopping");
}

void
announcer_now(struct announcer *a)
{
	a->next_ms = 0;
}

bool
announcer_busy(const struct announcer *a)
{
	return a->phase == ANNOUNCER_BUSY ||
	    (a->phase == ANNOUNCER_IDLE && a->event == TRACKER_EVENT_STOPPED);
}
