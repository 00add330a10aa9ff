# BEP 6 (fast extension) against libtorrent, with the --trace file.
#
# 1. libtorrent seeds, thorrent downloads with --trace: the download is
#    byte-identical, the trace is valid JSON Lines (trace_check.py), it
#    shows libtorrent's have_all and allowed_fast messages, and one
#    hash_ok per piece.
# 2. thorrent seeds with --upload-slots 1 and --trace, two libtorrent
#    leechers download from it alone (the tracker is stopped, so they do
#    not trade with each other): both copies are byte-identical, and
#    libtorrent's own peer log shows that thorrent negotiated the fast
#    extension, sent have_all instead of a bitfield, and sent allowed
#    fast pieces.
# 3. libtorrent seeds but never unchokes anyone (--unchoke-slots 0):
#    thorrent, choked throughout, must still fetch and verify exactly the
#    pieces libtorrent allowed fast, and ask for nothing else.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "needs thorrent itself (--trace)"

TRACE_CHECK="$LIB_DIR/trace_check.py"

make_payload "$WORK/seed/payload"
alloc_tracker
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" "$TRACKER_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"
NPIECES=$(num_pieces_of "$WORK/t.torrent")

# --- 1: libtorrent seeds, thorrent downloads ------------------------------
LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
LT_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LT_PID" ||
	fail "libtorrent seeder not ready"

SUBJECT_OPTS=(--trace "$WORK/dl.trace")
run_subject_download dl "$WORK/t.torrent" "$WORK/dl" 120 "$LT_PORT"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
"$PY" "$TRACE_CHECK" "$WORK/dl.trace" --pieces "$NPIECES" \
    --require handshake --require have_all --require allowed_fast \
    >"$WORK/dl-trace-check.log" 2>&1 ||
	fail "download trace: $(cat "$WORK/dl-trace-check.log")"
log "$(cat "$WORK/dl-trace-check.log")"
# The have_all must come from the libtorrent seeder's connection.
"$PY" - "$WORK/dl.trace" "$LT_PORT" <<'EOF' || fail "no have_all from the libtorrent seeder"
import json, sys
port = sys.argv[2]
lt_peers = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["ev"] == "connect" and e["addr"].endswith(":" + port):
        lt_peers.add(e["peer"])
    if e["ev"] == "have_all" and e["peer"] in lt_peers:
        sys.exit(0)
sys.exit(1)
EOF
stop_pid "$LT_PID"

# --- 2: thorrent seeds, two libtorrent leechers ---------------------------
# Without the tracker the leechers cannot find each other: each talks to
# thorrent alone, starts empty, and so must announce have_none to it.
stop_pid "$TRACKER_PID"
SEED_TRACE="$WORK/seed.trace"
TH_PORT=$(free_port)
start_bg th "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --path "$WORK/seed" --port "$TH_PORT" \
    --seed-ratio -1 --upload-slots 1 --log=info --trace "$SEED_TRACE" \
    "$WORK/t.torrent"
TH_PID=$LAST_PID
wait_for_log "$WORK/th.log" 'listening on port [0-9]+' 30 "$TH_PID" ||
	fail "thorrent seeder did not start listening"
TH_PORT=$(grep -Eo 'listening on port [0-9]+' "$WORK/th.log" |
    head -n 1 | grep -Eo '[0-9]+$')
wait_for_log "$WORK/th.log" 'info: complete$' 60 "$TH_PID" ||
	fail "thorrent seeder did not find its data complete"

LEECH_PIDS=()
for n in 1 2; do
	start_bg "lt$n" "$PY" -u "$LT_SEED" leech "$WORK/t.torrent" \
	    "$WORK/lt$n" "$(free_port)" --peer "127.0.0.1:$TH_PORT" \
	    --timeout 90 --peer-log "$WORK/lt$n.peerlog"
	LEECH_PIDS+=("$LAST_PID")
done
for n in 1 2; do
	wait_pid "${LEECH_PIDS[$((n - 1))]}" 100
	[ "$WAIT_RC" -eq 0 ] ||
		fail "libtorrent leecher $n exited with status $WAIT_RC"
	grep -q '^complete' "$WORK/lt$n.log" ||
		fail "libtorrent leecher $n did not report completion"
done
for n in 1 2; do
	compare_trees "$WORK/seed/payload" "$WORK/lt$n/payload"
done

# libtorrent logs each message on the connection as
#   ... [127.0.0.1:PORT] <== NAME [ args ]
# (<== received, ==> sent).  Only the lines of the connection to
# thorrent count: the leechers also talk to each other.
for n in 1 2; do
	pl="$WORK/lt$n.peerlog"
	[ -s "$pl" ] || fail "leecher $n wrote no peer log"
	grep -F "[127.0.0.1:$TH_PORT] <== " "$pl" >"$WORK/lt$n.fromth" ||
		fail "leecher $n logged no message from thorrent"
	grep -Eq '<== EXTENSIONS \[.*FAST' "$WORK/lt$n.fromth" ||
		fail "leecher $n: thorrent did not offer the fast extension"
	grep -q '<== HAVE_ALL ' "$WORK/lt$n.fromth" ||
		fail "leecher $n: no HAVE_ALL from thorrent"
	grep -q '<== BITFIELD ' "$WORK/lt$n.fromth" &&
		fail "leecher $n: thorrent sent a bitfield to a fast peer"
	grep -q '<== ALLOWED_FAST ' "$WORK/lt$n.fromth" ||
		fail "leecher $n: no ALLOWED_FAST from thorrent"
	# Informational: a block of an allowed fast piece that arrived
	# before thorrent unchoked this leecher (depends on timing).
	early=$(awk '/<== UNCHOKE /{exit} /<== PIECE /{n++} END{print n+0}' \
	    "$WORK/lt$n.fromth")
	log "leecher $n: $(grep -c '<== ALLOWED_FAST ' "$WORK/lt$n.fromth") allowed fast, $early blocks received while choked"
done

# The seeder's own trace: valid, and it saw both fast leechers.
stop_pid "$TH_PID"
"$PY" "$TRACE_CHECK" "$SEED_TRACE" --require have_none \
    --require interested --require unchoke --forbid hash_fail \
    --forbid request >"$WORK/seed-trace-check.log" 2>&1 ||
	fail "seeder trace: $(cat "$WORK/seed-trace-check.log")"
log "$(cat "$WORK/seed-trace-check.log")"
n=$(grep -c '"ev":"have_none"' "$SEED_TRACE")
[ "$n" -ge 2 ] || fail "seeder trace: have_none from $n leechers, not 2"

# --- 3: choked throughout, thorrent fetches the allowed fast pieces -------
LT3_PORT=$(free_port)
start_lt_seeder lt3 "$WORK/t.torrent" "$WORK/seed" "$LT3_PORT" \
    --unchoke-slots 0
LT3_PID=$LAST_PID
wait_for_log "$WORK/lt3.log" '^ready' 60 "$LT3_PID" ||
	fail "choking libtorrent seeder not ready"
SUBJECT_OPTS=(--trace "$WORK/choked.trace")
start_subject_download choked "$WORK/t.torrent" "$WORK/choked" "$LT3_PORT"
CH_PID=$LAST_PID
# thorrent cannot finish, so wait until the seeder's upload count (one
# "uploaded N" line a second) is above 0 and has not moved for 2 s.
prev=-1
stable=0
for i in $(seq 1 60); do
	sleep 0.5
	kill -0 "$CH_PID" 2>/dev/null ||
		fail "thorrent exited while choked by every peer"
	cur=$(grep '^uploaded ' "$WORK/lt3.log" | tail -n 1 | cut -d' ' -f2)
	if [ -n "$cur" ] && [ "$cur" -gt 0 ] && [ "$cur" = "$prev" ]; then
		stable=$((stable + 1))
		[ "$stable" -ge 4 ] && break
	else
		stable=0
	fi
	prev=${cur:-0}
done
[ "$stable" -ge 4 ] ||
	fail "the choking seeder uploaded nothing, or never stopped (at $prev)"
stop_pid "$CH_PID"
stop_pid "$LT3_PID"
"$PY" "$TRACE_CHECK" "$WORK/choked.trace" --require have_all \
    --require allowed_fast --require hash_ok --forbid unchoked_by \
    --forbid hash_fail >"$WORK/choked-trace-check.log" 2>&1 ||
	fail "choked trace: $(cat "$WORK/choked-trace-check.log")"
log "$(cat "$WORK/choked-trace-check.log")"
"$PY" - "$WORK/choked.trace" >"$WORK/choked-sets.log" 2>&1 <<'EOF' ||
import json, sys
allowed, asked, got, ok = set(), set(), set(), set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["ev"] == "allowed_fast":
        allowed.add(e["index"])
    elif e["ev"] == "request":
        asked.add(e["index"])
    elif e["ev"] == "piece":
        got.add(e["index"])
    elif e["ev"] == "hash_ok":
        ok.add(e["index"])
print("allowed fast %s, requested %s, received %s, verified %s" %
      (sorted(allowed), sorted(asked), sorted(got), sorted(ok)))
if not allowed or not asked <= allowed or not got <= allowed or \
        ok != allowed:
    sys.exit(1)
EOF
	fail "choked download: $(cat "$WORK/choked-sets.log")"
log "choked download: $(cat "$WORK/choked-sets.log")"
exit 0
