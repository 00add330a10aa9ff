#!/bin/bash
# A magnet link fetched from an rTorrent seeder alone (ut_metadata,
# BEP 9), with an info dictionary of four metadata pieces (700 files,
# about 49 KB).  rTorrent 0.9.8 answers only the first of several
# ut_metadata requests that arrive together and then reads nothing more
# on that connection, so a client that pipelines its requests stalls for
# good; thorrent asks one piece at a time and must get the whole
# dictionary, then the data, byte-identical, from that one peer.
#
# rTorrent runs headless (system.daemon), with a private HOME, session
# directory and configuration, listening on 127.0.0.1 only, no DHT, PEX
# or UDP trackers; it is stopped by PID.  No tracker answers (the
# announce URL is a closed port) and thorrent's DHT is off, so the
# magnet's x.pe address is the only way to a peer.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog rtorrent
require_subject

# 700 small files in 20 directories: the file list alone makes the info
# dictionary about 49 KB.
"$PY" - "$WORK/seed/payload" <<'PYEOF' || fail "cannot write the payload"
import os, sys
top = sys.argv[1]
for i in range(700):
    d = os.path.join(top, "dir%02d" % (i % 20))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "file-%04d-with-a-longish-name.bin" % i),
              "wb") as f:
        f.write(os.urandom(1000 + i * 7))
PYEOF
: >"$WORK/seed/payload/empty.dat"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce" 16384
HASH=$(info_hash_of "$WORK/t.torrent")
META=$("$PY" -c 'import sys, libtorrent as lt
print(len(lt.torrent_info(sys.argv[1]).info_section()))' "$WORK/t.torrent") ||
	fail "cannot read the metadata size"
[ "$META" -gt 32768 ] ||
	fail "the info dictionary is $META bytes: fewer than 3 metadata pieces"
log "info dictionary: $META bytes, $(( (META + 16383) / 16384 )) metadata pieces"

RT_PORT=$(free_port)
mkdir -p "$WORK/rt-home" "$WORK/rt-session"
cat >"$WORK/rtorrent.rc" <<EOF
system.daemon.set = true
network.port_range.set = $RT_PORT-$RT_PORT
network.port_random.set = no
network.bind_address.set = 127.0.0.1
directory.default.set = $WORK/seed
session.path.set = $WORK/rt-session
dht.mode.set = disable
protocol.pex.set = no
trackers.use_udp.set = no
log.open_file = main, $WORK/rtorrent-main.log
log.add_output = debug, main
EOF
# -n: no ~/.rtorrent.rc; the import is ours.
HOME="$WORK/rt-home" start_bg rtorrent rtorrent -n \
    -o "import=$WORK/rtorrent.rc" "$WORK/t.torrent"
RT_PID=$LAST_PID
wait_for_log "$WORK/rtorrent-main.log" 'Starting torrent' 60 "$RT_PID" ||
	fail "rtorrent did not start seeding"
wait_for_port "$RT_PORT" 10 || fail "rtorrent not listening on $RT_PORT"

for enc in prefer off; do
	name=dl-$enc
	mkdir -p "$WORK/$name" "$WORK/$name-state"
	start=$(date +%s.%N)
	start_thorrent "$name" --path "$WORK/$name" --port "$(free_port)" \
	    --seed-ratio 0 --no-dht --no-upnp --no-natpmp --no-lsd \
	    --encryption "$enc" --state-dir "$WORK/$name-state" \
	    --trace "$WORK/$name.trace" \
	    "$(magnet_of "$WORK/t.torrent" --peer "127.0.0.1:$RT_PORT")"
	wait_pid "$LAST_PID" 120
	[ "$WAIT_RC" -eq 124 ] &&
		fail "$name: the magnet from rtorrent was not done in 120 s"
	[ "$WAIT_RC" -eq 0 ] || fail "$name: exited with status $WAIT_RC"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	compare_trees "$WORK/seed/payload" "$WORK/$name/payload"
	grep -q "fetching $META bytes of metadata" "$WORK/$name.log" ||
		fail "$name: no 'fetching $META bytes of metadata' line"
	line=$(grep -E 'metadata received: [0-9]+ bytes' "$WORK/$name.log") ||
		fail "$name: no 'metadata received' line"
	[ -s "$WORK/$name-state/$HASH.torrent" ] ||
		fail "$name: the metadata was not saved"
	[ "$(info_hash_of "$WORK/$name-state/$HASH.torrent")" = "$HASH" ] ||
		fail "$name: the saved metadata has another info-hash"
	# Only that peer: every connect in the trace went to rtorrent.
	others=$(trace_field connect addr "$WORK/$name.trace" |
	    grep -vx "127.0.0.1:$RT_PORT" || true)
	[ -z "$others" ] || fail "$name: connected to others: $others"
	trace_connects "$WORK/$name.trace" manual "$RT_PORT" ||
		fail "$name: no connect to rtorrent in the trace"
	log "$name: ${line#*info: } (whole run $(printf "%.1f" "$secs") s)"
done
kill -0 "$RT_PID" 2>/dev/null || fail "rtorrent died"
stop_pid "$RT_PID"
exit 0
