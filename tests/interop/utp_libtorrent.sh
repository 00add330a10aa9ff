#!/bin/bash
# uTP (BEP 29) against libtorrent on loopback (issue 9).
#
# a. A libtorrent seeder with TCP turned off (enable_incoming_tcp and
#    enable_outgoing_tcp false, uTP on: lt_dht.py --transport utp).
#    thorrent downloads from it byte-identical, once with
#    --transport utp and once with the default (both: a loopback peer is
#    dialled over TCP first, and over uTP once TCP does not get through;
#    libtorrent accepts the TCP connection and closes it at once).
#    Each run's trace must have a handshake with "transport":"utp" and
#    none over TCP, its log a "connected (..., uTP)" line; a capture of
#    lo on the seeder's port (tcpdump or tshark, as root) must show UDP
#    payload from the seeder at least the size of the torrent and no TCP
#    payload sent from the seeder's port.
# b. libtorrent, TCP off (uTP only), downloads byte-identical from a
#    thorrent seeder, once with --transport utp and once with the
#    default; libtorrent must see the peer as uTP ("transport IP:PORT
#    utp") and the seeder's trace must show the handshake over uTP.
#
# The payload (about 5.4 MiB) uses 64 KiB pieces, which divide neither
# the total nor any file size.  No tracker answers (the announce URL is
# a closed port): --peer / connect_peer is the only way to a peer.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
"$THORRENT" --no-config --no-tui --transport bogus "$WORK/none.torrent" 2>&1 |
    grep -q -- '--transport is' || skip "thorrent has no --transport option yet"

make_payload "$WORK/seed/payload" 2000000
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce" 65536
TOTAL=$(du -sb --apparent-size "$WORK/seed/payload" | cut -f1)
log "payload $TOTAL bytes in $(num_pieces_of "$WORK/t.torrent") pieces of 64 KiB"

THR_COMMON=(--no-dht --no-upnp --no-natpmp --no-lsd)

# check_thorrent_utp NAME: every handshake in NAME's trace was over uTP
# (at least one) and the log says so.
check_thorrent_utp() {
	local name=$1 t
	t=$(trace_transports "$WORK/$name.trace") ||
		fail "$name: cannot read $WORK/$name.trace"
	[ -n "$t" ] || fail "$name: no handshake event in its trace"
	echo "$t" | grep -qx utp ||
		fail "$name: no handshake with \"transport\":\"utp\" (transports: $(echo "$t" | sort | uniq -c | tr '\n' ' '))"
	if echo "$t" | grep -vqx utp; then
		fail "$name: a handshake was not over uTP (transports: $(echo "$t" | sort | uniq -c | tr '\n' ' '))"
	fi
	grep -Eq 'peer 127\.0\.0\.1:[0-9]+ connected \(.*, uTP\)' \
	    "$WORK/$name.log" ||
		fail "$name: no 'peer 127.0.0.1:PORT connected (..., uTP)' line in its log"
}

# check_capture_utp WHAT PORT: stop the capture; PORT sent no TCP payload
# and UDP payload of at least half the torrent's size.  Half, not all: a
# uTP burst on loopback outruns tcpdump, which then drops packets (seen:
# 4300 of 4740 datagrams captured), while the data itself is compared
# byte for byte anyway.
check_capture_utp() {
	local what=$1 port=$2 n
	[ -n "$CAPTURE_FILE" ] || { log "$what: capture check skipped"; return 0; }
	stop_capture
	n=$(capture_port_stats "$CAPTURE_FILE" "$port") ||
		fail "$what: cannot read $CAPTURE_FILE"
	set -- $n
	log "$what: capture on port $port: $1 TCP packets ($2 with payload, $3 of them from port $port), $4 UDP packets, $5 UDP payload bytes from port $port"
	[ "$4" -gt 0 ] || fail "$what: no UDP packet on port $port in $CAPTURE_FILE"
	[ "$5" -ge $((TOTAL / 2)) ] ||
		fail "$what: only $5 UDP payload bytes came from port $port, less than half the torrent's $TOTAL"
	[ "$3" -eq 0 ] ||
		fail "$what: $3 TCP packets with payload came from port $port: data went over TCP"
}

# --- a: uTP-only libtorrent seeder, thorrent downloads ---------------------
LT_PORT=$(free_port)
start_lt_role ltseed "$LT_PORT" --torrent "$WORK/t.torrent" \
    --save "$WORK/seed" --transport utp
LT_PID=$LAST_PID
wait_for_log "$WORK/ltseed.log" '^complete' 60 "$LT_PID" ||
	fail "libtorrent seeder not seeding"
grep -q '^transport utp tcp in 0 out 0 utp in 1 out 1$' "$WORK/ltseed.log" ||
	fail "libtorrent seeder's transport settings not applied: $(grep '^transport' "$WORK/ltseed.log")"

for mode in utp both; do
	name=dl-$mode
	a=()
	[ "$mode" = utp ] && a=(--transport utp)	# both is the default
	start_capture_udp "$name" "$LT_PORT" || true
	start=$(date +%s.%N)
	start_thorrent "$name" --path "$WORK/$name" --port "$(free_port)" \
	    --seed-ratio 0 "${THR_COMMON[@]}" --state-dir "$WORK/$name-state" \
	    --trace "$WORK/$name.trace" --peer "127.0.0.1:$LT_PORT" \
	    "${a[@]}" "$WORK/t.torrent"
	wait_pid "$LAST_PID" 60
	[ "$WAIT_RC" -eq 124 ] &&
		fail "a/$mode: download from the uTP-only libtorrent seeder not done in 60 s"
	[ "$WAIT_RC" -eq 0 ] ||
		fail "a/$mode: the download exited with status $WAIT_RC"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	compare_trees "$WORK/seed/payload" "$WORK/$name/payload"
	check_thorrent_utp "$name"
	check_capture_utp "a/$mode" "$LT_PORT"
	log "a/$mode: downloaded $TOTAL bytes over uTP from libtorrent in ${secs}s ($(echo "scale=1; $TOTAL / $secs / 1048576" | bc) MiB/s)"
done
# How the default mode got there: TCP first, then uTP.
log "a/both: disconnect reasons: $(trace_reasons "$WORK/dl-both.trace" | sort | uniq -c | tr '\n' ' ')"
kill -0 "$LT_PID" 2>/dev/null || fail "libtorrent seeder died"
stop_pid "$LT_PID"

# --- b: thorrent seeds, uTP-only libtorrent downloads ----------------------
for mode in utp both; do
	name=thseed-$mode
	a=()
	[ "$mode" = utp ] && a=(--transport utp)
	SEED_PORT=$(free_port)
	start_thorrent "$name" --path "$WORK/seed" --port "$SEED_PORT" \
	    --seed-ratio 1000 "${THR_COMMON[@]}" --state-dir "$WORK/$name-state" \
	    --trace "$WORK/$name.trace" "${a[@]}" "$WORK/t.torrent"
	SEED_PID=$LAST_PID
	wait_for_log "$WORK/$name.log" 'listening on port [0-9]+' 30 \
	    "$SEED_PID" || fail "b/$mode: thorrent seeder did not start listening"
	start_capture_udp "b-$mode" "$SEED_PORT" || true
	start=$(date +%s.%N)
	# The limit keeps the connection up for more than lt_dht.py's 0.1 s
	# poll, so that it sees and reports the peer's transport.
	start_lt_role "ltdl-$mode" "$(free_port)" --torrent "$WORK/t.torrent" \
	    --save "$WORK/ltdl-$mode" --peer "127.0.0.1:$SEED_PORT" \
	    --transport utp --exit-on-complete --timeout 60 \
	    --download-limit 4000000
	wait_pid "$LAST_PID" 70
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	kill -0 "$SEED_PID" 2>/dev/null || fail "b/$mode: the thorrent seeder died"
	[ "$WAIT_RC" -eq 0 ] ||
		fail "b/$mode: uTP-only libtorrent could not download from thorrent (status $WAIT_RC, $(grep -v '^status' "$WORK/ltdl-$mode.log" | tail -n 3 | tr '\n' ' '))"
	compare_trees "$WORK/seed/payload" "$WORK/ltdl-$mode/payload"
	grep -Eq "^transport 127\.0\.0\.1:$SEED_PORT utp$" "$WORK/ltdl-$mode.log" ||
		fail "b/$mode: libtorrent did not see the seeder over uTP ($(grep '^transport' "$WORK/ltdl-$mode.log" | tr '\n' ' '))"
	grep -Eq '^transport .* tcp$' "$WORK/ltdl-$mode.log" &&
		fail "b/$mode: libtorrent had a TCP peer: $(grep '^transport' "$WORK/ltdl-$mode.log" | tr '\n' ' ')"
	check_capture_utp "b/$mode" "$SEED_PORT"
	# The trace is complete once the seeder has exited.
	kill -TERM "$SEED_PID"
	wait_pid "$SEED_PID" 15 || fail "b/$mode: the seeder did not stop within 15 s of SIGTERM"
	[ "$WAIT_RC" -eq 0 ] || fail "b/$mode: the seeder exited with status $WAIT_RC on SIGTERM"
	t=$(trace_transports "$WORK/$name.trace") ||
		fail "b/$mode: cannot read $WORK/$name.trace"
	echo "$t" | grep -qx utp ||
		fail "b/$mode: no handshake over uTP in the seeder's trace (transports: $(echo "$t" | sort | uniq -c | tr '\n' ' '))"
	log "b/$mode: libtorrent downloaded $TOTAL bytes over uTP from thorrent in ${secs}s ($(echo "scale=1; $TOTAL / $secs / 1048576" | bc) MiB/s)"
done
exit 0
