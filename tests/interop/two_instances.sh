# One run per torrent and download folder.  While a first thorrent
# downloads (from a thorrent seeder limited to 1 MiB/s, so that it takes
# a few seconds), a second one on the same torrent and folder must exit
# 1 with one line naming the first one's PID, without touching the data
# (the first is stopped with SIGSTOP meanwhile, so that any change to
# the folder would be the second's).  The first then finishes and its
# copy is whole; the same torrent in another folder runs beside it; and
# once the first has gone, the folder can be used again (the kernel
# drops the lock with the process: nothing stale).

. "$(dirname "$0")/lib.sh"
require_subject

OFF=(--no-config --no-dht --no-upnp --no-natpmp --no-lsd)
make_payload "$WORK/seed/p" 2000000
"$THORRENT" create -o "$WORK/t.torrent" --piece-size 64K "$WORK/seed/p" \
    >"$WORK/create.log" 2>&1 || fail "thorrent create"
SEED_PORT=$(free_port)
start_bg seed "$THORRENT" --no-tui "${OFF[@]}" --path "$WORK/seed" \
    --state-dir "$WORK/seedstate" --port "$SEED_PORT" --seed-ratio -1 \
    --max-up 1M --log info "$WORK/t.torrent"
wait_for_log "$WORK/seed.log" 'resume: ' 30 "$LAST_PID" ||
	fail "the seeder did not check its data"
# Both downloaders use the test's private XDG_STATE_HOME, the default.
DL=("${OFF[@]}" --no-tui --peer "127.0.0.1:$SEED_PORT" --seed-ratio 0)

start_bg first "$THORRENT" "${DL[@]}" --path "$WORK/dl" \
    --port "$(free_port)" --log info "$WORK/t.torrent"
FIRST=$LAST_PID
wait_for_log "$WORK/first.log" 'peer 127\.0\.0\.1:[0-9]+ connected' 30 \
    "$FIRST" || fail "the first run did not connect to the seeder"

kill -STOP "$FIRST"
snapshot() {
	find "$WORK/dl" "$XDG_STATE_HOME" -printf '%p %s %T@ %m\n' | sort
}
snapshot >"$WORK/before.txt"
timeout 30 "$THORRENT" "${DL[@]}" --path "$WORK/dl" --port "$(free_port)" \
    "$WORK/t.torrent" >"$WORK/second.out" 2>"$WORK/second.err" </dev/null
rc=$?
snapshot >"$WORK/after.txt"
kill -CONT "$FIRST"
[ "$rc" -eq 1 ] || fail "the second run exited $rc, want 1: $(cat "$WORK/second.err")"
[ "$(wc -l <"$WORK/second.err")" -eq 1 ] ||
	fail "the second run said more than one line: $(cat "$WORK/second.err")"
grep -q "another thorrent (pid $FIRST) is running this torrent in $WORK/dl" \
    "$WORK/second.err" ||
	fail "the line does not name the first run's PID $FIRST: $(cat "$WORK/second.err")"
diff -u "$WORK/before.txt" "$WORK/after.txt" >&2 ||
	fail "the second run touched the folder or the state directory"
log "second run: $(cat "$WORK/second.err")"

# The same torrent in another folder is another download: allowed.
start_bg other "$THORRENT" "${DL[@]}" --path "$WORK/dl2" \
    --port "$(free_port)" "$WORK/t.torrent"
OTHER=$LAST_PID

wait_pid "$FIRST" 120
[ "$WAIT_RC" -eq 0 ] || fail "the first run exited $WAIT_RC"
compare_trees "$WORK/seed/p" "$WORK/dl/p"
grep -q '^thorrent: complete: ' "$WORK/first.log" ||
	fail "the first run has no final 'complete:' line"
wait_pid "$OTHER" 120
[ "$WAIT_RC" -eq 0 ] || fail "the run in another folder exited $WAIT_RC"
compare_trees "$WORK/seed/p" "$WORK/dl2/p"

# The first has gone: its folder is free again.
timeout 60 "$THORRENT" "${DL[@]}" --path "$WORK/dl" --port "$(free_port)" \
    "$WORK/t.torrent" >"$WORK/again.out" 2>"$WORK/again.err" </dev/null ||
	fail "a run after the first ended was refused: $(cat "$WORK/again.err")"
log "the first run finished; another folder ran beside it; the folder is free after"
exit 0
