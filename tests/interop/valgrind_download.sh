# thorrent under valgrind memcheck downloads a ~1 MiB torrent from a
# libtorrent seeder: it must exit 0 with no memory error and no definite
# leak, and the data must be byte-identical.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
require_prog valgrind
[ "$DOWNLOADER" = thorrent ] || skip "runs thorrent under valgrind"
# valgrind cannot run a binary built with AddressSanitizer; tests/run-suite
# runs this test again on the plain clang build it makes for the fuzzers.
if ldd "$THORRENT" 2>/dev/null | grep -q 'libasan\|libubsan'; then
	skip "thorrent is built with sanitizers; valgrind needs a plain build"
fi

mkdir -p "$WORK/seed/payload/sub"
head -c 700001 /dev/urandom >"$WORK/seed/payload/alpha.bin"
head -c 350000 /dev/urandom >"$WORK/seed/payload/sub/beta.bin"
: >"$WORK/seed/payload/empty.dat"
# A tracker that refuses connections: the announce path runs too.
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
wait_for_log "$WORK/lt.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder not ready"

mkdir -p "$WORK/dl"
start=$(date +%s)
start_bg dl valgrind --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --track-fds=no --log-file="$WORK/valgrind.txt" \
    "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --log debug --path "$WORK/dl" \
    --port "$(free_port)" --seed-ratio 0 --peer "127.0.0.1:$LT_PORT" \
    "$WORK/t.torrent"
wait_pid "$LAST_PID" 120
[ "$WAIT_RC" -eq 124 ] && fail "thorrent under valgrind did not finish in 120s"
log "valgrind run finished in $(($(date +%s) - start))s," \
    "status $WAIT_RC"
log "$(grep -E 'ERROR SUMMARY' "$WORK/valgrind.txt")"
log "$(grep -E 'definitely lost' "$WORK/valgrind.txt" || echo 'no leaks')"
if [ "$WAIT_RC" -ne 0 ]; then
	sed -n '1,80p' "$WORK/valgrind.txt" >&2
	fail "exit status $WAIT_RC (99: valgrind found errors)"
fi
grep -q 'ERROR SUMMARY: 0 errors' "$WORK/valgrind.txt" ||
	fail "valgrind reported errors"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
exit 0
