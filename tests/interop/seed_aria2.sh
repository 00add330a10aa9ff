# aria2c seeds pre-placed data (after a full hash check); thorrent
# downloads via the tracker and --peer; byte-identical result.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_prog aria2c
require_subject

make_payload "$WORK/seed/payload"
alloc_tracker
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" "$TRACKER_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"

A_PORT=$(free_port)
start_aria2_seeder aria2seed "$WORK/t.torrent" "$WORK/seed" "$A_PORT"
wait_for_port "$A_PORT" 30 || fail "aria2c seeder not listening"
wait_for_log "$WORK/aria2seed.debug" 'Seeder state' 60 "$LAST_PID" ||
	fail "aria2c seeder not seeding"

run_subject_download dl "$WORK/t.torrent" "$WORK/dl" 120 "$A_PORT"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
exit 0
