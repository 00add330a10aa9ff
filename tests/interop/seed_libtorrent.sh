# libtorrent (python3-libtorrent) seeds; thorrent downloads via the
# tracker and --peer; the result must be byte-identical.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_subject

make_payload "$WORK/seed/payload"
alloc_tracker
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" "$TRACKER_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
wait_for_log "$WORK/lt.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder not ready"

run_subject_download dl "$WORK/t.torrent" "$WORK/dl" 120 "$LT_PORT"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
exit 0
