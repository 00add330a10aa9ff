#!/bin/bash
# The DHT (BEP 5) against libtorrent, on loopback only.
#
# A small DHT: two libtorrent DHT nodes on 127.0.0.1, N1 with no
# bootstrap node (so it adds every node that queries it to its routing
# table) and N2 bootstrapped to N1.  No tracker answers (the announce
# URL is a closed port) and no --peer is given, so the DHT is the only
# way to find a peer.
# a. A libtorrent seeder S, also in the DHT, announces the torrent.
#    thorrent, bootstrapped to N1 and N2 only (--dht-bootstrap, so no
#    public router is contacted), must find S with get_peers, connect
#    to it (trace: connect, source "dht", S's port) and download
#    byte-identical.
# b. S stops.  thorrent seeds from the .torrent with the DHT on and
#    must announce itself (announce_peer); a libtorrent session that has
#    only the info-hash (a magnet without x.pe) must find thorrent
#    through the DHT and fetch metadata and data from it, byte-identical.
#
# libtorrent 2.0.8 on loopback, learnt by experiment (details in
# lt_dht.py): bootstrap nodes are "routers" that libtorrent never puts in
# its routing table (so N2's table stays empty; N1's fills up), the
# default one-node-per-IP rule must be lifted on loopback, and a
# magnet-only session finds a seeder through a third node in about 1 s.
# The DHT listens on UDP on the session's (and thorrent's) TCP port.
# The libtorrent downloaders are held to 1 MB/s: lt_dht.py learns a
# peer's source by polling, and an unlimited loopback download can
# finish (and libtorrent drop the seed) between two polls.
# DOWNLOADER=libtorrent runs libtorrent in thorrent's place.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject_or_lt

make_payload "$WORK/seed/payload"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"

N1=$(free_port)
N2=$(free_port)
start_bg n1 "$PY" -u "$LT_DHT" node "$N1"
# N2's bootstrap query is lost if N1 is not up yet (no retry for minutes).
wait_for_log "$WORK/n1.log" '^dht nodes' 30 || fail "DHT node N1 did not start"
start_bg n2 "$PY" -u "$LT_DHT" node "$N2" --bootstrap "127.0.0.1:$N1"
wait_for_log "$WORK/n1.log" '^dht nodes [1-9]' 30 ||
	fail "DHT node N2 did not get into N1's routing table"

# --- a: libtorrent seeds, thorrent finds it through the DHT ---------------
S_PORT=$(free_port)
start_lt_role S "$S_PORT" --torrent "$WORK/t.torrent" --save "$WORK/seed" \
    --dht --bootstrap "127.0.0.1:$N1" --bootstrap "127.0.0.1:$N2"
S_PID=$LAST_PID
wait_for_log "$WORK/S.log" '^complete' 60 "$S_PID" ||
	fail "libtorrent seeder S not seeding"
wait_for_log "$WORK/n1.log" '^dht nodes ([2-9]|[1-9][0-9])' 30 ||
	fail "seeder S did not get into N1's routing table"

start=$(date +%s)
mkdir -p "$WORK/dl"
case "$DOWNLOADER" in
libtorrent)
	start_lt_role dl "$(free_port)" --torrent "$WORK/t.torrent" \
	    --save "$WORK/dl" --dht --bootstrap "127.0.0.1:$N1" \
	    --bootstrap "127.0.0.1:$N2" --exit-on-complete --timeout 120 \
    --download-limit 1000000
	DL_PID=$LAST_PID
	wait_for_log "$WORK/dl.log" \
	    "^peer 127\\.0\\.0\\.1:$S_PORT source .*dht" 120 "$DL_PID" ||
		fail "libtorrent did not find S through the DHT"
	;;
*)
	start_thorrent dl --path "$WORK/dl" --port "$(free_port)" \
	    --seed-ratio 0 --dht-bootstrap "127.0.0.1:$N1" \
	    --dht-bootstrap "127.0.0.1:$N2" --no-upnp --no-natpmp --no-lsd --state-dir "$WORK/dl-state" \
	    --trace "$WORK/dl.trace" "$WORK/t.torrent"
	DL_PID=$LAST_PID
	for i in $(seq 1 120); do
		msg=$(trace_connects "$WORK/dl.trace" dht "$S_PORT" 2>&1) && break
		kill -0 "$DL_PID" 2>/dev/null || break
		sleep 1
	done
	[ -z "$msg" ] ||
		fail "thorrent did not reach S (port $S_PORT) through the DHT within 120 s: $msg"
	;;
esac
log "found S through the DHT after $(($(date +%s) - start))s"
wait_pid "$DL_PID" 120
[ "$WAIT_RC" -eq 124 ] && fail "download from S not done in 120 s"
[ "$WAIT_RC" -eq 0 ] || fail "download from S exited with status $WAIT_RC"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
stop_pid "$S_PID"

# --- b: thorrent seeds and announces; libtorrent finds it -----------------
TH_PORT=$(free_port)
case "$DOWNLOADER" in
libtorrent)
	start_lt_role th "$TH_PORT" --torrent "$WORK/t.torrent" \
	    --save "$WORK/seed" --dht --bootstrap "127.0.0.1:$N1" \
	    --bootstrap "127.0.0.1:$N2"
	;;
*)
	start_thorrent th --path "$WORK/seed" --port "$TH_PORT" \
	    --seed-ratio 1000 --dht-bootstrap "127.0.0.1:$N1" \
	    --dht-bootstrap "127.0.0.1:$N2" --no-upnp --no-natpmp --no-lsd --state-dir "$WORK/th-state" \
	    "$WORK/t.torrent"
	;;
esac
TH_PID=$LAST_PID
sleep 2
kill -0 "$TH_PID" 2>/dev/null || fail "the seeder exited at once"
start=$(date +%s)
start_lt_role ltdl "$(free_port)" --magnet "$(magnet_of "$WORK/t.torrent")" \
    --save "$WORK/ltdl" --dht --bootstrap "127.0.0.1:$N1" \
    --bootstrap "127.0.0.1:$N2" --exit-on-complete --timeout 120 \
    --download-limit 1000000
LTDL_PID=$LAST_PID
wait_for_log "$WORK/ltdl.log" \
    "^peer 127\\.0\\.0\\.1:$TH_PORT source .*dht" 120 "$LTDL_PID" ||
	fail "libtorrent did not find the seeder (port $TH_PORT) through the DHT: it did not announce_peer, or its get_peers replies were refused"
log "libtorrent found the seeder through the DHT after $(($(date +%s) - start))s"
wait_pid "$LTDL_PID" 120
kill -0 "$TH_PID" 2>/dev/null || fail "the seeder died"
grep -q '^metadata' "$WORK/ltdl.log" ||
	fail "libtorrent got no metadata from the seeder"
[ "$WAIT_RC" -eq 0 ] ||
	fail "libtorrent download from the seeder failed (status $WAIT_RC)"
compare_trees "$WORK/seed/payload" "$WORK/ltdl/payload"
stop_pid "$TH_PID"
exit 0
