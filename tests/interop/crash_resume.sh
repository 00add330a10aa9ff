# A rate-limited libtorrent seeder makes the download take well over 10 s;
# thorrent (--log=debug) is killed with SIGKILL after ~4 s, then restarted
# over the same directory.  Its resume check must keep every piece it had
# logged as verified, it must complete, and the data must be identical.
# The seeder's upload counter bounds what the second run fetched: nothing
# verified before the crash may be fetched again.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_subject

make_payload "$WORK/seed/payload" 3000000
alloc_tracker
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" "$TRACKER_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"
NPIECES=$(num_pieces_of "$WORK/t.torrent")

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT" \
    --upload-limit 500000
LT_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LT_PID" ||
	fail "libtorrent seeder not ready"

# lt_uploaded: the seeder's latest upload counter.
lt_uploaded() {
	grep -Eo '^uploaded [0-9]+' "$WORK/lt.log" | tail -n 1 |
	    grep -Eo '[0-9]+$' || echo 0
}

SUBJECT_LOG=debug
start_subject_download run1 "$WORK/t.torrent" "$WORK/dl" "$LT_PORT"
RUN1_PID=$LAST_PID
# Wait until data flows, then let it run ~4 s more.
for i in $(seq 1 300); do
	[ "$(lt_uploaded)" -gt 0 ] && break
	kill -0 "$RUN1_PID" 2>/dev/null || break
	sleep 0.1
done
[ "$(lt_uploaded)" -gt 0 ] || fail "first run never received data"
sleep 4
kill -0 "$RUN1_PID" 2>/dev/null ||
	fail "first run ended before the crash point (too fast to test)"
kill -9 "$RUN1_PID"
wait "$RUN1_PID" 2>/dev/null
log "killed run1 with SIGKILL"

VERIFIED=0
if [ "$DOWNLOADER" = thorrent ]; then
	VERIFIED=$(grep -Eo 'piece [0-9]+ verified' "$WORK/run1.log" |
	    sort -u | wc -l)
	log "run1 verified $VERIFIED of $NPIECES pieces before the crash"
	[ "$VERIFIED" -gt 0 ] || fail "run1 logged no verified piece"
	[ "$VERIFIED" -lt "$NPIECES" ] || fail "run1 had already finished"
fi
# Let the seeder's counter settle (blocks already on the wire).
sleep 2
UP_BEFORE=$(lt_uploaded)

start=$(date +%s)
start_subject_download run2 "$WORK/t.torrent" "$WORK/dl" "$LT_PORT"
wait_pid "$LAST_PID" 120
[ "$WAIT_RC" -eq 124 ] && fail "run2 did not finish within 120s"
[ "$WAIT_RC" -eq 0 ] || fail "run2 exited with status $WAIT_RC"
log "run2 finished in $(($(date +%s) - start))s"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"

if [ "$DOWNLOADER" = thorrent ]; then
	line=$(grep -Eo 'resume: [0-9]+ of [0-9]+ pieces valid' \
	    "$WORK/run2.log" | head -n 1)
	[ -n "$line" ] || fail "run2 logged no 'resume: X of Y pieces valid'"
	x=$(echo "$line" | awk '{print $2}')
	y=$(echo "$line" | awk '{print $4}')
	log "run2 $line (run1 verified $VERIFIED)"
	[ "$y" -eq "$NPIECES" ] || fail "resume total $y != $NPIECES pieces"
	[ "$x" -ge "$VERIFIED" ] ||
		fail "resume kept $x pieces, fewer than the $VERIFIED verified"
	sleep 1.5
	UP_AFTER=$(lt_uploaded)
	# Payload the second run may need: the pieces not valid on resume,
	# plus one piece of slack for counter granularity.
	allowed=$(((NPIECES - x + 1) * PIECE_SIZE))
	got=$((UP_AFTER - UP_BEFORE))
	log "run2 fetched $got bytes from the seeder (at most $allowed allowed)"
	[ "$got" -le "$allowed" ] ||
		fail "run2 refetched data it already had ($got > $allowed)"
fi
exit 0
