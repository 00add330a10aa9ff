# thorrent downloads a ~4 MiB payload into a 2 MiB tmpfs.  The first
# failed write must be logged ("cannot write ... paused"), every piece
# logged as verified must really be on disk with the right bytes, and
# after the tmpfs is grown the download must resume by itself (thorrent
# retries 30 s after the error) and complete byte-identical.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "checks thorrent's own log"

MNT="$WORK/mnt"
mkdir -p "$MNT"
mount -t tmpfs -o size=2m tmpfs "$MNT" 2>/dev/null ||
	skip "cannot mount a tmpfs (needs root)"
# Stop everything before unmounting, then let lib.sh clean up.
trap 'rc=$?; for p in "${PIDS[@]}"; do stop_pid "$p"; done;
	umount "$MNT" 2>/dev/null || umount -l "$MNT"; (exit $rc); _cleanup' EXIT

make_payload "$WORK/seed/payload" 700000
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"
NPIECES=$(num_pieces_of "$WORK/t.torrent")

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
wait_for_log "$WORK/lt.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder not ready"

# check_verified LOG: every piece LOG calls verified holds the seed's
# bytes in the download; prints how many were checked.
check_verified() {
	grep -Eo 'piece [0-9]+ verified' "$1" | awk '{print $2}' | sort -un |
	    "$PY" -c '
import sys, libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
fs = ti.files()
def piece(root, i):
    out = b""
    for sl in ti.map_block(i, 0, ti.piece_size(i)):
        p = root + "/" + fs.file_path(sl.file_index)
        with open(p, "rb") as f:
            f.seek(sl.offset)
            out += f.read(sl.size)
    return out
n = 0
for line in sys.stdin:
    i = int(line)
    a, b = piece(sys.argv[2], i), piece(sys.argv[3], i)
    if a != b:
        sys.exit("piece %d logged verified but wrong on disk" % i)
    n += 1
print(n)' "$WORK/t.torrent" "$WORK/seed" "$MNT"
}

SUBJECT_LOG=debug
start=$(date +%s)
start_subject_download dl "$WORK/t.torrent" "$MNT" "$LT_PORT"
DL_PID=$LAST_PID
wait_for_log "$WORK/dl.log" 'cannot write piece [0-9]+: .*paused' 60 \
    "$DL_PID" || fail "no 'cannot write ... paused' error logged"
log "$(grep -E 'cannot write piece' "$WORK/dl.log" | head -n 1)"
sleep 2
kill -0 "$DL_PID" 2>/dev/null || fail "thorrent exited on a full disk"
errs=$(grep -c 'cannot write piece' "$WORK/dl.log")
log "$errs write errors logged while the disk was full"
[ "$errs" -eq 1 ] || fail "$errs write errors: it did not pause at once"
grep -q 'info: paused' "$WORK/dl.log" || log "note: no 'paused' info line"
n=$(check_verified "$WORK/dl.log") || fail "verified piece not on disk"
log "$n of $NPIECES pieces verified before growing the disk; all on disk"
[ "$n" -lt "$NPIECES" ] || fail "all pieces verified on a 2 MiB disk?"

mount -o remount,size=16m "$MNT" || fail "cannot grow the tmpfs"
log "tmpfs grown to 16 MiB after $(($(date +%s) - start))s"
# Retry 30 s after the error, plus the download itself.
wait_pid "$DL_PID" 45
[ "$WAIT_RC" -eq 124 ] && fail "no completion within 45 s of growing"
[ "$WAIT_RC" -eq 0 ] || fail "thorrent exited with status $WAIT_RC"
log "thorrent finished in $(($(date +%s) - start))s"
grep -q 'retrying after the write error' "$WORK/dl.log" ||
	log "note: no 'retrying after the write error' line"
compare_trees "$WORK/seed/payload" "$MNT/payload"
check_verified "$WORK/dl.log" >/dev/null || fail "verified piece wrong"
exit 0
