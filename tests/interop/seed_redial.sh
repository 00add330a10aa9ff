#!/bin/bash
# A seed does not keep redialling a seed or itself.
#
# a. A thorrent seed (seeding forever) is given --peer of a libtorrent
#    seed and of its own address.  It dials each once: the seed is closed
#    ("both are seeds") and held, its own address is recognised
#    ("connected to ourselves") and held, and for the next 30 s neither
#    is dialled again (it used to redial both every 2 s: 23 connections
#    in 45 s).  The log says for how long (a few tries an hour at most).
# b. A thorrent downloading with --seed-ratio 0 from that libtorrent seed
#    connects to it once: no redial on the way out.
# c. The tracker lists thorrent's own address to it while it downloads
#    (opentracker answers a peer with every peer of the torrent, itself
#    included): it is dialled once, not every 15 s.
#
# Connections are counted from the trace's connect events.  No DHT, LSD,
# UPnP or NAT-PMP; everything on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_subject

make_payload "$WORK/seed/payload"
alloc_tracker
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" "$TRACKER_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"
THR_COMMON=(--no-dht --no-upnp --no-natpmp --no-lsd)

# connects_to TRACE PORT DIR: how many connect events of direction DIR
# (in or out) name 127.0.0.1:PORT.
connects_to() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
path, port, d = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
for line in open(path):
    if not line.endswith("\n"):
        break
    e = json.loads(line)
    if e.get("ev") == "connect" and e.get("dir") == d and \
            e.get("addr") == "127.0.0.1:" + port:
        n += 1
print(n)
PYEOF
}

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
LT_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LT_PID" ||
	fail "libtorrent seeder not ready"

# --- a: a seed given another seed and itself --------------------------------
S_PORT=$(free_port)
start_thorrent seed --path "$WORK/seed" --port "$S_PORT" --seed-ratio 1000 \
    "${THR_COMMON[@]}" --state-dir "$WORK/seed-state" \
    --trace "$WORK/seed.trace" --peer "127.0.0.1:$LT_PORT" \
    --peer "127.0.0.1:$S_PORT" "$WORK/t.torrent"
S_PID=$LAST_PID
wait_for_log "$WORK/seed.log" "127\.0\.0\.1:$LT_PORT is a seed, as we are; not dialling it again for [0-9]+ minutes" \
    60 "$S_PID" || fail "a: the seed did not hold the other seed"
wait_for_log "$WORK/seed.log" "127\.0\.0\.1:$S_PORT is our own address; not dialling it again for [0-9]+ minutes" \
    60 "$S_PID" || fail "a: the seed did not recognise its own address"
sleep 30
kill -0 "$S_PID" 2>/dev/null || fail "a: the seed died"
# The trace is complete once the seed has exited.
kill -TERM "$S_PID"
wait_pid "$S_PID" 15 || fail "a: the seed did not stop within 15 s of SIGTERM"
n_lt=$(connects_to "$WORK/seed.trace" "$LT_PORT" out)
n_self=$(connects_to "$WORK/seed.trace" "$S_PORT" out)
log "a: in 30 s after both were held: $n_lt connection(s) to the other seed, $n_self to itself"
[ "$n_lt" -eq 1 ] ||
	fail "a: $n_lt connections to the other seed, want 1"
[ "$n_self" -eq 1 ] ||
	fail "a: $n_self connections to its own address, want 1"
r=$(trace_reasons "$WORK/seed.trace" | sort | uniq -c | tr '\n' ' ')
case "$r" in
*"both are seeds"*"connected to ourselves"*|*"connected to ourselves"*"both are seeds"*) ;;
*) fail "a: disconnect reasons lack the seed or the self connection: $r" ;;
esac

# --- b: --seed-ratio 0 does not redial on its way out ------------------------
start=$(date +%s)
start_thorrent dl --path "$WORK/dl" --port "$(free_port)" --seed-ratio 0 \
    "${THR_COMMON[@]}" --state-dir "$WORK/dl-state" \
    --trace "$WORK/dl.trace" --peer "127.0.0.1:$LT_PORT" "$WORK/t.torrent"
wait_pid "$LAST_PID" 120
[ "$WAIT_RC" -eq 0 ] || fail "b: the download exited with status $WAIT_RC"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
n=$(connects_to "$WORK/dl.trace" "$LT_PORT" out)
log "b: downloaded in $(($(date +%s) - start)) s with $n connection(s) to the seed"
[ "$n" -eq 1 ] || fail "b: $n connections to the seed, want 1"

# --- c: its own address from the tracker ------------------------------------
# A slow seeder (200 KB/s) keeps the download going for about 15 s,
# through a few announces; the tracker lists the downloader to itself.
stop_pid "$LT_PID"
LT2_PORT=$(free_port)
start_lt_seeder lt2 "$WORK/t.torrent" "$WORK/seed" "$LT2_PORT" \
    --upload-limit 200000
LT2_PID=$LAST_PID
wait_for_log "$WORK/lt2.log" '^ready' 60 "$LT2_PID" ||
	fail "the slow libtorrent seeder not ready"
D_PORT=$(free_port)
start_thorrent dl2 --path "$WORK/dl2" --port "$D_PORT" --seed-ratio 0 \
    "${THR_COMMON[@]}" --state-dir "$WORK/dl2-state" \
    --trace "$WORK/dl2.trace" "$WORK/t.torrent"
wait_pid "$LAST_PID" 180
[ "$WAIT_RC" -eq 0 ] || fail "c: the download exited with status $WAIT_RC"
compare_trees "$WORK/seed/payload" "$WORK/dl2/payload"
trace_connects "$WORK/dl2.trace" tracker "$LT2_PORT" ||
	fail "c: the seeder was not found through the tracker"
n=$(connects_to "$WORK/dl2.trace" "$D_PORT" out)
self_lines=$(grep -c "127\.0\.0\.1:$D_PORT is our own address" "$WORK/dl2.log")
log "c: the tracker's list: $n connection(s) to its own address, held $self_lines time(s)"
[ "$n" -eq 1 ] ||
	fail "c: $n connections to its own address, want 1 (opentracker lists a peer to itself)"
[ "$self_lines" -eq 1 ] ||
	fail "c: $self_lines lines about holding its own address, want 1"
stop_pid "$LT2_PID"
exit 0
