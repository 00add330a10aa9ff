#!/bin/bash
# Peer exchange (BEP 11, ut_pex) against libtorrent.
#
# B is a libtorrent seeder; A is a libtorrent peer connected to B that
# downloads at 4 KB/s, so it stays far from complete for the whole test.
# thorrent is given only --peer A (no tracker answers, no DHT): it must
# learn B's address from A's ut_pex message, connect to B (trace:
# connect, source "pex", B's port) and download byte-identical, which it
# cannot do from A alone.
#
# Why A is not a seeder: libtorrent closes a connection between two
# seeds at once, so a seeding A never has B in its peer list and never
# names it in PEX (checked by experiment with libtorrent 2.0.8).
# Timing: libtorrent sends the first ut_pex message on its first
# one-second tick after the extended handshake once the torrent has two
# or more peers, then one a minute; so PEX arrives within seconds here.
# B ignores PEX (--no-pex): else A would tell B about thorrent, B would
# connect to thorrent itself, and thorrent would have no reason to dial
# the address it learnt.
# DOWNLOADER=libtorrent runs libtorrent in thorrent's place.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject_or_lt

make_payload "$WORK/seed/payload" 2000000
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"

B_PORT=$(free_port)
start_lt_role B "$B_PORT" --torrent "$WORK/t.torrent" --save "$WORK/seed" \
    --no-pex
B_PID=$LAST_PID
wait_for_log "$WORK/B.log" '^complete' 60 "$B_PID" ||
	fail "seeder B did not start seeding"

A_PORT=$(free_port)
start_lt_role A "$A_PORT" --torrent "$WORK/t.torrent" --save "$WORK/a" \
    --download-limit 4000 --peer "127.0.0.1:$B_PORT"
A_PID=$LAST_PID
# A lists B in PEX only once their handshake is over; a PEX message sent
# before that would leave B out for a minute.  So wait for data from B.
wait_for_log "$WORK/A.log" '^status .* down [1-9]' 30 "$A_PID" ||
	fail "libtorrent A got no data from B"

start=$(date +%s)
mkdir -p "$WORK/dl"
case "$DOWNLOADER" in
libtorrent)
	start_lt_role dl "$(free_port)" --torrent "$WORK/t.torrent" \
	    --save "$WORK/dl" --peer "127.0.0.1:$A_PORT" --exit-on-complete \
	    --timeout 120 --download-limit 1000000
	;;
*)
	start_thorrent dl --path "$WORK/dl" --port "$(free_port)" \
	    --seed-ratio 0 --no-dht --no-upnp --no-natpmp --no-lsd --state-dir "$WORK/dl-state" \
	    --trace "$WORK/dl.trace" --peer "127.0.0.1:$A_PORT" \
	    "$WORK/t.torrent"
	;;
esac
DL_PID=$LAST_PID
# The PEX connection comes first (seconds); the download may take longer.
if [ "$DOWNLOADER" = libtorrent ]; then
	wait_for_log "$WORK/dl.log" \
	    "^peer 127\\.0\\.0\\.1:$B_PORT source .*pex" 60 "$DL_PID" ||
		fail "libtorrent did not connect to B through PEX"
else
	for i in $(seq 1 60); do
		msg=$(trace_connects "$WORK/dl.trace" pex "$B_PORT" 2>&1) && break
		kill -0 "$DL_PID" 2>/dev/null || break
		sleep 1
	done
	if [ -n "$msg" ]; then
		trace_connects "$WORK/dl.trace" "*" "$A_PORT" 2>/dev/null ||
			fail "thorrent never connected to A (--peer 127.0.0.1:$A_PORT)"
		fail "thorrent did not connect to B (port $B_PORT) from PEX within 60 s: $msg"
	fi
	log "thorrent connected to B from PEX after $(($(date +%s) - start))s"
fi
wait_pid "$DL_PID" 120
rc=$WAIT_RC
kill -0 "$A_PID" 2>/dev/null || fail "libtorrent A died"
kill -0 "$B_PID" 2>/dev/null || fail "libtorrent B died"
grep -q '^complete' "$WORK/A.log" &&
	fail "A completed: the test no longer proves thorrent needed B"
[ "$rc" -eq 124 ] && fail "download not done in 120 s after the PEX connection"
[ "$rc" -eq 0 ] || fail "download exited with status $rc"
log "download finished in $(($(date +%s) - start))s"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
exit 0
