# Ten crashes in a row: thorrent downloads a 16 MiB payload from a
# libtorrent seeder limited to ~600 KB/s and is killed with SIGKILL after
# a random 0.5-3 s, ten times over the same directory; an eleventh run
# must complete byte-identical.  No piece logged as verified in one run
# may be verified again in a later run (the resume check keeps it), and
# the bytes the seeder sent beyond the payload size must stay within
# what the kills can explain: per kill, the blocks in flight (thorrent
# keeps about three seconds of transfer requested) plus two pieces.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "checks thorrent's own log"

PIECE_SIZE=65536
KILLS=10
RATE=600000

make_payload "$WORK/seed/payload" 13000000
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce" "$PIECE_SIZE"
NPIECES=$(num_pieces_of "$WORK/t.torrent")
SIZE=$(find "$WORK/seed/payload" -type f -printf '%s\n' |
    awk '{ s += $1 } END { print s }')
log "$SIZE bytes in $NPIECES pieces of $PIECE_SIZE"

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT" \
    --upload-limit "$RATE"
LT_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LT_PID" ||
	fail "libtorrent seeder not ready"

lt_uploaded() {
	grep -Eo '^uploaded [0-9]+' "$WORK/lt.log" | tail -n 1 |
	    grep -Eo '[0-9]+$' || echo 0
}

verified_in() {
	grep -Eo 'piece [0-9]+ verified' "$1" | awk '{print $2}' | sort -n
}

SUBJECT_LOG=debug
kills=0
: >"$WORK/seen.txt"
for i in $(seq 1 "$KILLS"); do
	ms=$((500 + RANDOM % 2501))
	start_subject_download "run$i" "$WORK/t.torrent" "$WORK/dl" "$LT_PORT"
	pid=$LAST_PID
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		rc=$?
		[ "$rc" -eq 0 ] || fail "run$i exited with status $rc"
		log "run$i completed before its kill"
		break
	fi
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	kills=$((kills + 1))
	verified_in "$WORK/run$i.log" >"$WORK/v$i.txt"
	again=$(sort -n "$WORK/seen.txt" "$WORK/v$i.txt" | uniq -d | head -n 5)
	[ -z "$again" ] ||
		fail "run$i verified again piece(s) $(echo $again) of earlier runs"
	cat "$WORK/v$i.txt" >>"$WORK/seen.txt"
	r=$(grep -Eo 'resume: [0-9]+ of' "$WORK/run$i.log" | head -n 1)
	log "run$i killed after ${ms} ms: ${r:-no resume line}" \
	    "+$(wc -l <"$WORK/v$i.txt") verified, $(wc -l <"$WORK/seen.txt")" \
	    "of $NPIECES so far"
done

HAD=$(wc -l <"$WORK/seen.txt")
start=$(date +%s)
start_subject_download final "$WORK/t.torrent" "$WORK/dl" "$LT_PORT"
wait_pid "$LAST_PID" 100
[ "$WAIT_RC" -eq 124 ] && fail "final run did not finish within 100s"
[ "$WAIT_RC" -eq 0 ] || fail "final run exited with status $WAIT_RC"
log "final run finished in $(($(date +%s) - start))s"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"

line=$(grep -Eo 'resume: [0-9]+ of [0-9]+ pieces valid' "$WORK/final.log" |
    head -n 1)
[ -n "$line" ] || fail "final run logged no resume line"
x=$(echo "$line" | awk '{print $2}')
log "final $line; the killed runs had verified $HAD"
[ "$x" -ge "$HAD" ] || fail "resume kept $x pieces of the $HAD verified"
verified_in "$WORK/final.log" >"$WORK/vf.txt"
again=$(sort -n "$WORK/seen.txt" "$WORK/vf.txt" | uniq -d | head -n 5)
[ -z "$again" ] || fail "final run verified again piece(s) $(echo $again)"

sleep 1.5
up=$(lt_uploaded)
waste=$((up - SIZE))
allowed=$((kills * (3 * RATE + 2 * PIECE_SIZE)))
log "seeder sent $up bytes for $SIZE: $waste wasted over $kills kills" \
    "(at most $allowed allowed)"
[ "$waste" -le "$allowed" ] || fail "too much refetched: $waste > $allowed"
exit 0
