# thorrent seeds complete data (already in its --path dir); aria2c, which
# can only learn peers from the tracker, downloads it; byte-identical.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_prog aria2c
require_subject

# Keep a pristine copy: the seeder must not alter its data either.
make_payload "$WORK/orig/payload"
mkdir -p "$WORK/seed"
cp -a "$WORK/orig/payload" "$WORK/seed/payload"
alloc_tracker
make_torrent "$WORK/orig/payload" "$WORK/t.torrent" "$TRACKER_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"

start_subject_seeder subject "$WORK/t.torrent" "$WORK/seed" "$(free_port)"
SEED_PID=$LAST_PID
log "subject seeding on port $SUBJECT_PORT"

mkdir -p "$WORK/dl"
start_bg aria2dl aria2c "${ARIA2_COMMON[@]}" --seed-time=0 -d "$WORK/dl" \
    --listen-port="$(free_port)" --log="$WORK/aria2dl.debug" \
    --log-level=info "$WORK/t.torrent"
wait_pid "$LAST_PID" 120
[ "$WAIT_RC" -eq 124 ] && fail "aria2c did not finish within 120s"
[ "$WAIT_RC" -eq 0 ] || fail "aria2c exited with status $WAIT_RC"
kill -0 "$SEED_PID" 2>/dev/null || fail "seeder exited early"
# The subject is the only seeder, so aria2c got everything from it.
compare_trees "$WORK/orig/payload" "$WORK/dl/payload"
compare_trees "$WORK/orig/payload" "$WORK/seed/payload"
exit 0
