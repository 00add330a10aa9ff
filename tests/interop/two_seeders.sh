# Two seeders at once (libtorrent and aria2c), each upload-limited so
# neither can serve everything quickly; thorrent downloads with both
# (tracker and --peer).  Each seeder must have uploaded payload: the
# seeders' own counters are the evidence that data came from both.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_prog aria2c
require_subject

make_payload "$WORK/orig/payload"
mkdir -p "$WORK/seed1" "$WORK/seed2"
cp -a "$WORK/orig/payload" "$WORK/seed1/payload"
cp -a "$WORK/orig/payload" "$WORK/seed2/payload"
alloc_tracker
make_torrent "$WORK/orig/payload" "$WORK/t.torrent" "$TRACKER_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"

LIMIT=400000
LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed1" "$LT_PORT" \
    --upload-limit "$LIMIT"
LT_PID=$LAST_PID
A_PORT=$(free_port)
start_aria2_seeder aria2seed "$WORK/t.torrent" "$WORK/seed2" "$A_PORT" \
    --max-upload-limit="$LIMIT"
A_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LT_PID" ||
	fail "libtorrent seeder not ready"
wait_for_log "$WORK/aria2seed.debug" 'Seeder state' 60 "$A_PID" ||
	fail "aria2c seeder not seeding"

run_subject_download dl "$WORK/t.torrent" "$WORK/dl" 120 "$LT_PORT" "$A_PORT"
compare_trees "$WORK/orig/payload" "$WORK/dl/payload"

# libtorrent prints "uploaded N" every second; give it one more tick.
sleep 1.5
stop_pid "$LT_PID"
stop_pid "$A_PID"
lt_up=$(grep -Eo '^(final )?uploaded [0-9]+' "$WORK/lt.log" | tail -n 1 |
    grep -Eo '[0-9]+$')
# aria2c reports "uploaded/downloaded=X/Y" when it shuts down.
a_up=$(grep -Eo 'uploaded/downloaded=[^/]+' "$WORK/aria2seed.log" |
    tail -n 1 | cut -d= -f2)
log "libtorrent uploaded ${lt_up:-?} bytes, aria2c uploaded ${a_up:-?}"
[ -n "$lt_up" ] && [ "$lt_up" -ge "$PIECE_SIZE" ] ||
	fail "no payload came from the libtorrent seeder"
case "${a_up:-0B}" in
0B|0) fail "no payload came from the aria2c seeder" ;;
esac
exit 0
