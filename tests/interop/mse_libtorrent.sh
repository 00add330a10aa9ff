#!/bin/bash
# Message Stream Encryption (MSE/PE, RC4) against libtorrent (issue 8).
#
# a. libtorrent seeds with encryption forced both ways (RC4 only);
#    thorrent downloads byte-identical with the default --encryption
#    (prefer), then with --encryption require; its trace's handshake
#    events say "crypto":"rc4".
# b. thorrent seeds with --encryption require; a libtorrent downloader
#    with forced RC4 gets byte-identical data.
# c. The same seeder refuses a libtorrent downloader with encryption
#    disabled (plaintext only): nothing downloads in 20 s, the trace has
#    a disconnect whose reason names the refusal, the seeder lives on.
# d. thorrent with --encryption off against the forced-RC4 seeder of a:
#    no data, thorrent keeps running, the connection is closed, and it
#    stops cleanly on SIGTERM.
#
# During a and b a capture of lo on the test's ports (tcpdump, else
# tshark, else a Python AF_PACKET sniffer) must hold packets and no
# cleartext "\x13BitTorrent protocol" handshake; during c, whose
# downloader speaks plaintext, it must hold one (the positive control
# that shows the check can see plaintext).
#
# No tracker answers (the announce URL is a closed port) and the DHT is
# off: --peer / connect_peer is the only way to a peer.
# DOWNLOADER=libtorrent runs lt_dht.py in thorrent's place (prefer ->
# enabled, require -> forced, off -> disabled) to validate the harness.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject_or_lt

make_payload "$WORK/seed/payload"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"

lt_mode() {
	case "$1" in
	prefer) echo enabled ;;
	require) echo forced ;;
	off) echo disabled ;;
	*) fail "unknown encryption mode $1" ;;
	esac
}

# subject_start NAME MODE PORT SEED_RATIO DATA_DIR [PEER_PORT]: the
# subject (thorrent or its stand-in) with --encryption MODE ("" for the
# default) on PORT; sets LAST_PID.
subject_start() {
	local name=$1 mode=$2 port=$3 ratio=$4 dir=$5 peer=${6:-} a=()
	mkdir -p "$dir"
	if [ "$DOWNLOADER" = libtorrent ]; then
		[ -n "$peer" ] && a+=(--peer "127.0.0.1:$peer")
		# The limit keeps the connection up long enough for
		# lt_dht.py to see its encryption flags.
		[ "$ratio" = 0 ] && a+=(--exit-on-complete --timeout 120
		    --download-limit 1000000)
		start_lt_role "$name" "$port" --torrent "$WORK/t.torrent" \
		    --save "$dir" --encryption "$(lt_mode "${mode:-prefer}")" \
		    "${a[@]}"
		return 0
	fi
	[ -n "$mode" ] && a+=(--encryption "$mode")
	[ -n "$peer" ] && a+=(--peer "127.0.0.1:$peer")
	start_thorrent "$name" --path "$dir" --port "$port" \
	    --seed-ratio "$ratio" --no-dht --no-upnp --no-natpmp --no-lsd \
	    --state-dir "$WORK/$name-state" --trace "$WORK/$name.trace" \
	    "${a[@]}" "$WORK/t.torrent"
}

# check_subject_rc4 NAME PEER_PORT: NAME's connections were encrypted:
# every handshake in its trace has "crypto":"rc4" (at least one) and
# the log says "encrypted".
check_subject_rc4() {
	local name=$1 port=$2 c
	if [ "$DOWNLOADER" = libtorrent ]; then
		grep -Eq '^crypto 127\.0\.0\.1:[0-9]+ rc4$' "$WORK/$name.log" ||
			fail "$name: no RC4 connection in its log ($(grep '^crypto' "$WORK/$name.log" | tr '\n' ' '))"
		return 0
	fi
	c=$(trace_crypto "$WORK/$name.trace") ||
		fail "$name: cannot read $WORK/$name.trace"
	[ -n "$c" ] || fail "$name: no handshake event in $WORK/$name.trace"
	echo "$c" | grep -qx rc4 ||
		fail "$name: no handshake with \"crypto\":\"rc4\" in the trace (crypto fields: $(echo "$c" | sort | uniq -c | tr '\n' ' '))"
	if echo "$c" | grep -vqx rc4; then
		fail "$name: a handshake was not RC4 (crypto fields: $(echo "$c" | sort | uniq -c | tr '\n' ' ')); every connection in this run must be encrypted"
	fi
	grep -Eq "peer 127\.0\.0\.1:[0-9]+ connected \(.*, (outgoing|incoming), encrypted\)" \
	    "$WORK/$name.log" ||
		fail "$name: no 'peer 127.0.0.1:PORT connected (CLIENT, DIR, encrypted)' line in the log"
}

# check_lt_rc4 NAME: a libtorrent role's connection to the subject was
# RC4 and none was plaintext.
check_lt_rc4() {
	local name=$1
	grep -Eq '^crypto 127\.0\.0\.1:[0-9]+ rc4$' "$WORK/$name.log" ||
		fail "$name: libtorrent saw no RC4 connection ($(grep '^crypto' "$WORK/$name.log" | tr '\n' ' '))"
	if grep -Eq '^crypto .* plain$' "$WORK/$name.log"; then
		fail "$name: libtorrent saw a plaintext connection: $(grep '^crypto' "$WORK/$name.log" | tr '\n' ' ')"
	fi
}

# --- a: forced-RC4 libtorrent seeder, subject downloads --------------------
LT_PORT=$(free_port)
start_lt_role ltseed "$LT_PORT" --torrent "$WORK/t.torrent" \
    --save "$WORK/seed" --encryption forced
LT_PID=$LAST_PID
wait_for_log "$WORK/ltseed.log" '^complete' 60 "$LT_PID" ||
	fail "libtorrent seeder not seeding"
grep -q '^encryption forced out 0 in 0 level 2$' "$WORK/ltseed.log" ||
	fail "libtorrent seeder's encryption settings not applied: $(grep '^encryption' "$WORK/ltseed.log")"

for mode in prefer require; do
	name=dl-$mode
	start_capture "$name" "$LT_PORT" || true
	m=$mode
	[ "$mode" = prefer ] && m=""	# the default
	subject_start "$name" "$m" "$(free_port)" 0 "$WORK/$name" "$LT_PORT"
	wait_pid "$LAST_PID" 130
	[ "$WAIT_RC" -eq 124 ] &&
		fail "a/$mode: download from the forced-RC4 libtorrent seeder not done in 130 s"
	[ "$WAIT_RC" -eq 0 ] ||
		fail "a/$mode: the download from the forced-RC4 seeder exited with status $WAIT_RC"
	compare_trees "$WORK/seed/payload" "$WORK/$name/payload"
	check_subject_rc4 "$name" "$LT_PORT"
	check_capture_encrypted "a/$mode"
	log "a/$mode: encrypted download from libtorrent ok"
done
kill -0 "$LT_PID" 2>/dev/null || fail "libtorrent seeder died"

# --- b: subject seeds with --encryption require, libtorrent (forced) ------
SEED_PORT=$(free_port)
subject_start thseed require "$SEED_PORT" 1000 "$WORK/seed"
SEED_PID=$LAST_PID
if [ "$DOWNLOADER" = libtorrent ]; then
	wait_for_log "$WORK/thseed.log" '^complete' 60 "$SEED_PID" ||
		fail "stand-in seeder not seeding"
else
	wait_for_log "$WORK/thseed.log" 'listening on port [0-9]+' 30 \
	    "$SEED_PID" || fail "thorrent seeder did not start listening"
fi
wait_for_port "$SEED_PORT" 10 || fail "seeder not accepting on $SEED_PORT"
start_capture b "$SEED_PORT" || true
# The limit keeps the connection up long enough for lt_dht.py to see its
# encryption flags (a seeder that unchokes at once serves 3 MB in less
# than its 0.1 s poll).
start_lt_role ltdl "$(free_port)" --torrent "$WORK/t.torrent" \
    --save "$WORK/ltdl" --peer "127.0.0.1:$SEED_PORT" --encryption forced \
    --exit-on-complete --timeout 120 --download-limit 1000000
wait_pid "$LAST_PID" 130
kill -0 "$SEED_PID" 2>/dev/null || fail "b: the --encryption require seeder died"
[ "$WAIT_RC" -eq 0 ] ||
	fail "b: forced-RC4 libtorrent could not download from the --encryption require seeder (status $WAIT_RC, $(grep -v '^status' "$WORK/ltdl.log" | tail -n 3 | tr '\n' ' '))"
compare_trees "$WORK/seed/payload" "$WORK/ltdl/payload"
check_lt_rc4 ltdl
check_capture_encrypted b
log "b: libtorrent downloaded from the --encryption require seeder, encrypted"

# --- c: the require seeder refuses a plaintext-only libtorrent ------------
start_capture c "$SEED_PORT" || true
start_lt_role ltplain "$(free_port)" --torrent "$WORK/t.torrent" \
    --save "$WORK/ltplain" --peer "127.0.0.1:$SEED_PORT" \
    --encryption disabled --exit-on-complete --timeout 20
wait_pid "$LAST_PID" 30
kill -0 "$SEED_PID" 2>/dev/null || fail "c: the --encryption require seeder died"
grep -q '^complete' "$WORK/ltplain.log" &&
	fail "c: a plaintext-only libtorrent downloaded from the --encryption require seeder"
[ "$WAIT_RC" -eq 1 ] && grep -q '^timeout' "$WORK/ltplain.log" ||
	fail "c: the plaintext-only libtorrent did not time out as expected (status $WAIT_RC, $(tail -n 3 "$WORK/ltplain.log" | tr '\n' ' '))"
last=$(grep '^status' "$WORK/ltplain.log" | tail -n 1)
case "$last" in
*" down 0") ;;
*) fail "c: the plaintext-only libtorrent received payload: $last" ;;
esac
grep -Eq '^crypto .* plain$' "$WORK/ltplain.log" &&
	fail "c: a plaintext BitTorrent connection was completed: $(grep '^crypto' "$WORK/ltplain.log" | tr '\n' ' ')"
# That it did reach the seeder shows in the seeder's trace and in the
# capture's cleartext handshake (the refused connection is too short to
# show in libtorrent's peer list).
check_capture_plain c
# The trace is complete once the seeder has stopped (SIGTERM: clean
# exit).
kill -TERM "$SEED_PID"
wait_pid "$SEED_PID" 15 || fail "c: the seeder did not stop within 15 s of SIGTERM"
[ "$WAIT_RC" -eq 0 ] || [ "$DOWNLOADER" = libtorrent ] ||
	fail "c: the seeder exited with status $WAIT_RC on SIGTERM"
check_subject_rc4 thseed "$SEED_PORT"
if [ "$DOWNLOADER" != libtorrent ]; then
	r=$(trace_reasons "$WORK/thseed.trace") ||
		fail "c: cannot read $WORK/thseed.trace"
	echo "$r" | grep -Eiq 'plain|encrypt' ||
		fail "c: no disconnect in the seeder's trace gives the refusal of plaintext as reason (reasons: $(echo "$r" | sort | uniq -c | tr '\n' ' '))"
	log "c: seeder's refusal: $(echo "$r" | grep -Ei 'plain|encrypt' | head -n 1)"
fi
log "c: the plaintext-only peer was refused"

# --- d: subject with --encryption off vs the forced-RC4 seeder ------------
subject_start dl-off off "$(free_port)" 0 "$WORK/dl-off" "$LT_PORT"
OFF_PID=$LAST_PID
sleep 15
kill -0 "$OFF_PID" 2>/dev/null || {
	wait "$OFF_PID"
	fail "d: --encryption off exited (status $?) against an encryption-only peer; it must keep running without data"
}
kill -0 "$LT_PID" 2>/dev/null || fail "d: libtorrent seeder died"
if [ "$DOWNLOADER" = libtorrent ]; then
	grep -q '^complete' "$WORK/dl-off.log" &&
		fail "d: the stand-in completed from the encryption-only seeder"
	grep -Eq '^crypto ' "$WORK/dl-off.log" &&
		fail "d: a connection completed its handshake: $(grep '^crypto' "$WORK/dl-off.log" | tr '\n' ' ')"
	stop_pid "$OFF_PID"
else
	# Stop first: the trace is complete once thorrent has exited.
	kill -TERM "$OFF_PID"
	wait_pid "$OFF_PID" 15 ||
		fail "d: --encryption off did not stop within 15 s of SIGTERM"
	# 1 with "interrupted before the download completed" is the
	# documented answer to SIGTERM before completion.
	case "$WAIT_RC" in
	0) ;;
	1) grep -q 'interrupted' "$WORK/dl-off.log" ||
		fail "d: --encryption off exited with status 1 on SIGTERM without saying it was interrupted: $(tail -n 2 "$WORK/dl-off.log" | tr '\n' ' ')" ;;
	*) fail "d: --encryption off exited with status $WAIT_RC on SIGTERM (a crash or an unexpected error)" ;;
	esac
	trace_connects "$WORK/dl-off.trace" "*" "$LT_PORT" ||
		fail "d: --encryption off never dialled the seeder, so nothing is tested"
	r=$(trace_reasons "$WORK/dl-off.trace") ||
		fail "d: cannot read $WORK/dl-off.trace"
	[ -n "$r" ] ||
		fail "d: the connection to the encryption-only seeder was never closed (no disconnect event in the trace)"
	c=$(trace_crypto "$WORK/dl-off.trace")
	[ -z "$c" ] ||
		fail "d: a BitTorrent handshake completed with the encryption-only seeder (crypto: $(echo "$c" | tr '\n' ' '))"
	grep -q '"ev":"piece"' "$WORK/dl-off.trace" &&
		fail "d: pieces arrived with --encryption off from an encryption-only seeder"
	log "d: disconnect reasons: $(echo "$r" | sort | uniq -c | tr '\n' ' ')"
fi
cmp -s "$WORK/seed/payload/beta.bin" "$WORK/dl-off/payload/beta.bin" 2>/dev/null &&
	fail "d: data arrived with --encryption off from an encryption-only seeder"
log "d: --encryption off failed cleanly against an encryption-only peer"
stop_pid "$LT_PID"
exit 0
