#!/bin/bash
# --encryption require against a peer that speaks plaintext only: a
# libtorrent seeder with encryption disabled both ways (lt_dht.py
# --encryption disabled), TCP and uTP on.  It hangs up on thorrent's MSE
# handshake.  Two thorrents dial it for a minute, one with the default
# transports (TCP first on loopback) and one with --transport utp; each
# must say once, at info, that the peer refused the encrypted handshake
# and plaintext is not allowed, and dial it at most a handful of times
# in that minute (it used to redial every 2 s over TCP and uTP with
# only "connection closed by peer" at debug).  The control: thorrent
# with --encryption prefer gets the data from that seeder in plaintext.
#
# Connections are counted from the trace's connect events.  No tracker
# answers (the announce URL is a closed port); --peer is the only way.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject

make_payload "$WORK/seed/payload"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"
THR_COMMON=(--no-dht --no-upnp --no-natpmp --no-lsd)
MAX_DIALS=6	# in 60 s: 0, 4, 12, 28 s and 60 s with the back-off

LT_PORT=$(free_port)
start_lt_role lt "$LT_PORT" --torrent "$WORK/t.torrent" --save "$WORK/seed" \
    --encryption disabled --transport both
LT_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^complete' 60 "$LT_PID" ||
	fail "libtorrent seeder not seeding"
grep -q '^encryption disabled' "$WORK/lt.log" ||
	fail "libtorrent's encryption settings not applied: $(grep '^encryption' "$WORK/lt.log")"

pids=()
for mode in both utp; do
	a=()
	[ "$mode" = utp ] && a=(--transport utp)
	start_thorrent "req-$mode" --path "$WORK/req-$mode" \
	    --port "$(free_port)" --seed-ratio 0 "${THR_COMMON[@]}" \
	    --encryption require --state-dir "$WORK/req-$mode-state" \
	    --trace "$WORK/req-$mode.trace" --peer "127.0.0.1:$LT_PORT" \
	    "${a[@]}" "$WORK/t.torrent"
	pids+=("$LAST_PID")
done
sleep 60
for i in 0 1; do
	kill -0 "${pids[$i]}" 2>/dev/null || fail "a thorrent with --encryption require died"
	kill -TERM "${pids[$i]}"
done
for i in 0 1; do
	mode=$([ "$i" -eq 0 ] && echo both || echo utp)
	wait_pid "${pids[$i]}" 15 ||
		fail "$mode: did not stop within 15 s of SIGTERM"
	# Interrupted before the download completed.
	[ "$WAIT_RC" -eq 1 ] || fail "$mode: exit status $WAIT_RC, want 1"
	n=$(trace_field connect transport "$WORK/req-$mode.trace" | wc -l)
	t=$(trace_field connect transport "$WORK/req-$mode.trace" |
	    sort | uniq -c | tr '\n' ' ')
	lines=$(grep -c "^thorrent: info: peer 127\.0\.0\.1:$LT_PORT refused the encrypted handshake, and --encryption require allows no plaintext" \
	    "$WORK/req-$mode.log")
	log "$mode: $n dials in 60 s ($t), $lines info line(s) about the refusal"
	[ "$lines" -eq 1 ] ||
		fail "$mode: $lines info lines about the refusal, want 1"
	[ "$n" -ge 1 ] || fail "$mode: never dialled the peer"
	[ "$n" -le "$MAX_DIALS" ] ||
		fail "$mode: $n dials in 60 s, want at most $MAX_DIALS"
	grep -q "peer 127\.0\.0\.1:$LT_PORT connected" "$WORK/req-$mode.log" &&
		fail "$mode: connected to the plaintext-only peer"
	if [ "$mode" = utp ]; then
		trace_field connect transport "$WORK/req-$mode.trace" |
		    grep -qvx utp && fail "utp: a dial was not over uTP: $t"
	fi
done

# The control: the seeder is there and serves plaintext.
start_thorrent prefer --path "$WORK/prefer" --port "$(free_port)" \
    --seed-ratio 0 "${THR_COMMON[@]}" --state-dir "$WORK/prefer-state" \
    --peer "127.0.0.1:$LT_PORT" "$WORK/t.torrent"
wait_pid "$LAST_PID" 120
[ "$WAIT_RC" -eq 0 ] ||
	fail "control: --encryption prefer did not download from the plaintext seeder (status $WAIT_RC)"
compare_trees "$WORK/seed/payload" "$WORK/prefer/payload"
grep -Eq "peer 127\.0\.0\.1:$LT_PORT connected \(.*, plaintext" \
    "$WORK/prefer.log" ||
	fail "control: no plaintext connection in the log"
stop_pid "$LT_PID"
exit 0
