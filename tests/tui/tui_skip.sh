# A file skipped in the files pane stays skipped, and nothing claims it:
#
# 1. The view downloads a three-file torrent (sequential, from a seeder
#    limited to 512 KiB/s, so the last and biggest file, z.bin, comes
#    last); Space skips z.bin in the files pane; the header then says
#    "complete (1 file skipped)" with the selection's size, 'q' ends the
#    run with status 0 and the final line says the same.
# 2. A restart (the view again, same folder, the default state
#    directory under the test's private XDG_STATE_HOME) starts with z.bin
#    skipped: the log says so, the header says "complete (1 file
#    skipped)" at once, the files pane marks it '-', and the final line
#    says it again.  z.bin was never fetched whole.
#
# Environment: THORRENT (binary), TOP_SRCDIR (source dir).

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP_SRCDIR/tests/interop/lib.sh"
. "$TOP_SRCDIR/tests/tui/tui_lib.sh"
require_subject

OFF=(--no-config --no-dht --no-upnp --no-natpmp --no-lsd)
mkdir -p "$WORK/seed/p" "$WORK/dl"
head -c 1500001 /dev/urandom >"$WORK/seed/p/a.bin"
head -c 1000003 /dev/urandom >"$WORK/seed/p/b.bin"
head -c 4194311 /dev/urandom >"$WORK/seed/p/z.bin"
"$THORRENT" create -o "$WORK/t.torrent" --piece-size 64K "$WORK/seed/p" \
    >"$WORK/create.log" 2>&1 || fail "thorrent create"
SEED_PORT=$(free_port)
start_bg seed "$THORRENT" --no-tui "${OFF[@]}" --path "$WORK/seed" \
    --state-dir "$WORK/seedstate" --port "$SEED_PORT" --seed-ratio -1 \
    --max-up 512K --log info "$WORK/t.torrent"
wait_for_log "$WORK/seed.log" 'resume: ' 30 "$LAST_PID" ||
	fail "the seeder did not check its data"
RUN=("${OFF[@]}" --path "$WORK/dl" --port "$(free_port)"
    --peer "127.0.0.1:$SEED_PORT" --strategy sequential --seed-ratio -1
    "$WORK/t.torrent")

# --- 1: skip z.bin while it downloads -----------------------------------------

tui_start first xterm-256color "${RUN[@]}"
wait_screen '^p  [0-9]' 15 || tui_fail "the torrent name never appeared"
tm send-keys -t "$SESS" 3
wait_screen 'z\.bin' 10 || tui_fail "the files pane does not list z.bin"
# Files in byte order: a.bin, b.bin, z.bin; the cursor starts on a.bin.
tm send-keys -t "$SESS" j j Space
wait_screen '^ *- *3 .*z\.bin' 10 || tui_fail "z.bin not marked skipped"
wait_screen 'complete \(1 file skipped\)' 60 ||
	tui_fail "the header never said 'complete (1 file skipped)'"
snap skipped
head0=$(printf '%s\n' "$LAST_CAP" | head -n 1)
printf '%s\n' "$head0" | grep -Eq '2\.[0-9] MiB of 6\.[0-9] MiB  complete' ||
	tui_fail "header: not the selection's size of the whole: $head0"
printf '%s\n' "$head0" | grep -q '100\.0%' &&
	tui_fail "header: 100.0% with a file skipped: $head0"
tm send-keys -t "$SESS" q
CAP_JOIN=1 wait_screen 'tui-runner: thorrent exited' 15 any ||
	tui_fail "thorrent did not quit on 'q'"
tui_wait_exit first 5
[ "$TUI_RC" = 0 ] || tui_fail "first run: exit status $TUI_RC"
CAP_JOIN=1 cap
printf '%s\n' "$LAST_CAP" | grep -q '^thorrent: complete (1 file skipped): ' ||
	tui_fail "first run: no final 'complete (1 file skipped)' line"
cmp -s "$WORK/seed/p/a.bin" "$WORK/dl/p/a.bin" &&
    cmp -s "$WORK/seed/p/b.bin" "$WORK/dl/p/b.bin" ||
	fail "a.bin and b.bin are not complete"
cmp -s "$WORK/seed/p/z.bin" "$WORK/dl/p/z.bin" &&
	fail "z.bin was fetched whole although skipped"
log "first run: z.bin skipped, header and final line say so"

# --- 2: a restart keeps the skip ------------------------------------------------

tui_start second xterm-256color "${RUN[@]}"
wait_screen 'complete \(1 file skipped\)' 30 ||
	tui_fail "after a restart the header does not say 1 file skipped"
snap restart
tm send-keys -t "$SESS" 3
wait_screen '^ *- *3 .*z\.bin' 10 ||
	tui_fail "after a restart z.bin is not marked skipped"
tm send-keys -t "$SESS" 4
wait_screen '1 file skipped, as in the last run' 10 ||
	tui_fail "the log does not say the skip was kept"
tm send-keys -t "$SESS" q
CAP_JOIN=1 wait_screen 'tui-runner: thorrent exited' 15 any ||
	tui_fail "thorrent did not quit on 'q'"
tui_wait_exit second 5
[ "$TUI_RC" = 0 ] || tui_fail "second run: exit status $TUI_RC"
CAP_JOIN=1 cap
printf '%s\n' "$LAST_CAP" | grep -q '^thorrent: complete (1 file skipped): ' ||
	tui_fail "second run: no final 'complete (1 file skipped)' line"
cmp -s "$WORK/seed/p/z.bin" "$WORK/dl/p/z.bin" &&
	fail "z.bin was fetched whole after the restart"
log "restart: z.bin still skipped; header, log and final line say so"
exit 0
