#!/usr/bin/python3
"""Check a thorrent --trace file (JSON Lines) against thorrent(1).

usage: trace_check.py TRACE [--pieces N] [--require EV]... [--forbid EV]...

Every line must be one JSON object whose first two keys are "t" (an
integer number of microseconds, never decreasing) and "ev" (a string).
Events named in thorrent(1), TRACE FORMAT, must carry their documented
fields with the documented types; other events are counted but only
warned about, so that new events do not break old tests.  Peer ids must
appear in a "connect" event before any other event that names them, are
never reused, and nothing names a peer after its "disconnect".

  --pieces N    exactly N "hash_ok" events, one per index 0..N-1, and
                no "hash_fail"
  --require EV  at least one EV event (repeatable)
  --forbid EV   no EV event (repeatable)

Prints one summary line of event counts; exits 0 when the trace
passes, 1 (with the first problem on stderr) when it does not, 2 on a
usage error.
"""

import json
import sys

INT = "int"
STR = "str"
BOOL = "bool"

PEER_ONLY = ("have_all", "have_none", "choke", "unchoke", "choked_by",
             "unchoked_by", "interested", "not_interested", "am_interested",
             "am_not_interested")

# Event name -> {field: type}.  Values that are further restricted are
# checked in check_event.
SCHEMA = {
    "connect": {"peer": INT, "addr": STR, "dir": STR},
    "disconnect": {"peer": INT, "reason": STR},
    "handshake": {"peer": INT, "client": STR},
    "bitfield": {"peer": INT, "count": INT},
    "have": {"peer": INT, "index": INT},
    "request": {"peer": INT, "index": INT, "begin": INT, "length": INT},
    "piece": {"peer": INT, "index": INT, "begin": INT, "length": INT},
    "rejected": {"peer": INT, "index": INT, "begin": INT},
    "allowed_fast": {"peer": INT, "index": INT},
    "suggest": {"peer": INT, "index": INT},
    "hash_ok": {"index": INT, "peer": INT},
    "hash_fail": {"index": INT, "peer": INT},
    "strategy": {"strategy": STR},
    "sent": {"peer": INT, "index": INT, "begin": INT, "length": INT},
    "rate": {"down": INT, "up": INT, "downloaded": INT, "uploaded": INT,
             "peers": INT},
    "peer_rate": {"peer": INT, "down": INT, "up": INT, "downloaded": INT,
                  "uploaded": INT},
    "announce": {"url": STR, "event": STR},
    "limit": {"dir": STR, "rate": INT},
    "ban": {"peer": INT, "addr": STR},
    "disk_error": {"index": INT},
    "encryption": {"peer": INT, "method": STR},
    "metadata": {"bytes": INT, "pieces": INT},
    "pex_in": {"peer": INT, "added": INT, "dropped": INT},
    "pex_out": {"peer": INT, "added": INT, "dropped": INT},
    "phase": {"from": STR, "to": STR, "why": STR},
    "peer_phase": {"peer": INT, "from": STR, "to": STR, "why": STR},
    "tracker_phase": {"from": STR, "to": STR, "why": STR},
    "pause": {"why": STR},
    "resume": {"why": STR},
    "trace_overflow": {"of": STR},
    "listen": {"port": INT},
    "stop": {"downloaded": INT, "uploaded": INT, "verified": INT},
    # announce_result is checked by hand: its fields depend on "ok".
}
for _ev in PEER_ONLY:
    SCHEMA[_ev] = {"peer": INT}

# Events whose "peer" is a connection id that must be live.  hash_ok
# and hash_fail name the first contributor, which may have gone (or be
# 0 when none is known).
LIVE_PEER = set(SCHEMA) - {"hash_ok", "hash_fail", "strategy", "announce",
                           "connect", "limit", "disk_error", "rate",
                           "phase", "tracker_phase", "pause", "resume",
                           "trace_overflow", "listen", "stop"}


# The three state machines that change state through one function each:
# event -> the names a phase may have.
PHASES = {
    "phase": ("metadata", "checking", "downloading", "seeding", "done"),
    "peer_phase": ("connecting", "crypto", "handshake", "active"),
    "tracker_phase": ("idle", "busy", "none"),
}


class TraceError(Exception):
    pass


class _Pairs(list):
    """A JSON object as its (key, value) list, to see key order."""


def _type_ok(v, want):
    if want == INT:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0
    if want == STR:
        return isinstance(v, str)
    if want == BOOL:
        return isinstance(v, bool)
    return False


def _need(obj, fields):
    for k, want in fields.items():
        if k not in obj:
            raise TraceError("missing field %r" % k)
        if not _type_ok(obj[k], want):
            raise TraceError("field %r is not a %s: %r" % (k, want, obj[k]))


def check_event(obj, st):
    ev = obj["ev"]
    if ev == "announce_result":
        _need(obj, {"ok": BOOL})
        if obj["ok"]:
            _need(obj, {"peers": INT, "interval": INT})
            # The swarm's size as the tracker counts it: both or none.
            if "seeders" in obj or "leechers" in obj:
                _need(obj, {"seeders": INT, "leechers": INT})
        else:
            _need(obj, {"error": STR})
        return
    if ev not in SCHEMA:
        st["unknown"].add(ev)
        return
    _need(obj, SCHEMA[ev])
    if ev == "connect":
        if obj["dir"] not in ("in", "out"):
            raise TraceError("connect dir %r" % obj["dir"])
        if ":" not in obj["addr"]:
            raise TraceError("connect addr %r" % obj["addr"])
        if obj["peer"] in st["seen"]:
            raise TraceError("peer id %d reused" % obj["peer"])
        st["seen"].add(obj["peer"])
        st["live"].add(obj["peer"])
    elif ev == "announce":
        if obj["event"] not in ("none", "started", "completed", "stopped"):
            raise TraceError("announce event %r" % obj["event"])
    elif ev in PHASES:
        # The phase doors: known names, and each change starts where
        # the last one of its machine ended.
        names = PHASES[ev]
        for f in ("from", "to"):
            if obj[f] not in names:
                raise TraceError("%s %s %r" % (ev, f, obj[f]))
        who = (ev, obj.get("peer"))
        if who in st["phase"] and st["phase"][who] != obj["from"]:
            raise TraceError("%s from %r, but the last change went to %r"
                             % (ev, obj["from"], st["phase"][who]))
        st["phase"][who] = obj["to"]
    elif ev == "listen" and not 0 < obj["port"] < 65536:
        raise TraceError("listen port %d" % obj["port"])
    elif ev in ("request", "piece") and obj["length"] == 0:
        raise TraceError("%s of length 0" % ev)
    if ev in LIVE_PEER and obj["peer"] not in st["live"]:
        raise TraceError("peer %d is not connected" % obj["peer"])
    if ev == "disconnect":
        st["live"].discard(obj["peer"])
    if ev in ("hash_ok", "hash_fail"):
        st[ev].append(obj["index"])


def check(path, pieces=None, require=(), forbid=()):
    st = {"seen": set(), "live": set(), "unknown": set(), "hash_ok": [],
          "hash_fail": [], "count": {}, "phase": {}}
    last_t = -1
    n = 0
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            where = "%s:%d" % (path, lineno)
            if not raw.endswith(b"\n"):
                raise TraceError("%s: last line not terminated" % where)
            try:
                pairs = json.loads(raw.decode("utf-8"),
                                   object_pairs_hook=_Pairs)
            except (UnicodeDecodeError, ValueError) as e:
                raise TraceError("%s: not JSON: %s" % (where, e))
            if not isinstance(pairs, _Pairs) or len(pairs) < 2:
                raise TraceError("%s: not an object with t and ev" % where)
            keys = [k for k, _ in pairs]
            if keys[0] != "t" or keys[1] != "ev":
                raise TraceError("%s: keys start %r, not t, ev" %
                                 (where, keys[:2]))
            if len(set(keys)) != len(keys):
                raise TraceError("%s: duplicate key" % where)
            obj = dict(pairs)
            if not _type_ok(obj["t"], INT):
                raise TraceError("%s: t is %r" % (where, obj["t"]))
            if obj["t"] < last_t:
                raise TraceError("%s: t went back from %d to %d" %
                                 (where, last_t, obj["t"]))
            last_t = obj["t"]
            if not isinstance(obj["ev"], str) or not obj["ev"]:
                raise TraceError("%s: ev is %r" % (where, obj["ev"]))
            try:
                check_event(obj, st)
            except TraceError as e:
                raise TraceError("%s: %s: %s" % (where, obj["ev"], e))
            st["count"][obj["ev"]] = st["count"].get(obj["ev"], 0) + 1
            n += 1
    if n == 0:
        raise TraceError("%s: empty trace" % path)
    for ev in require:
        if st["count"].get(ev, 0) == 0:
            raise TraceError("%s: no %s event" % (path, ev))
    for ev in forbid:
        if st["count"].get(ev, 0) != 0:
            raise TraceError("%s: %d %s events" %
                             (path, st["count"][ev], ev))
    if pieces is not None:
        ok = st["hash_ok"]
        if st["hash_fail"]:
            raise TraceError("%s: hash_fail for pieces %s" %
                             (path, st["hash_fail"][:10]))
        if sorted(ok) != list(range(pieces)):
            missing = sorted(set(range(pieces)) - set(ok))
            raise TraceError("%s: %d hash_ok events for %d pieces "
                             "(missing %s, duplicates %d)" %
                             (path, len(ok), pieces, missing[:10],
                              len(ok) - len(set(ok))))
    for ev in sorted(st["unknown"]):
        print("trace_check: warning: undocumented event %s" % ev,
              file=sys.stderr)
    return n, st["count"]


def main(argv):
    path = None
    pieces = None
    require = []
    forbid = []
    i = 1
    try:
        while i < len(argv):
            a = argv[i]
            if a == "--pieces":
                pieces = int(argv[i + 1])
                i += 2
            elif a == "--require":
                require.append(argv[i + 1])
                i += 2
            elif a == "--forbid":
                forbid.append(argv[i + 1])
                i += 2
            elif path is None and not a.startswith("--"):
                path = a
                i += 1
            else:
                raise IndexError
    except (IndexError, ValueError):
        path = None
    if path is None:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        n, count = check(path, pieces, require, forbid)
    except (TraceError, OSError) as e:
        print("trace_check: %s" % e, file=sys.stderr)
        return 1
    print("trace ok: %d events: %s" % (n, " ".join(
        "%s=%d" % kv for kv in sorted(count.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
