#!/bin/bash
# A running thorrent's trace can be followed, as thorrent swarm and
# thorrent demo follow their children's: the "listen" event with the
# port it listens on and the end of the data check ("phase" from
# checking) reach the file while it runs, although an idle seeder writes
# far less than the trace's 64 KiB buffer.  A run that ends normally
# (SIGTERM for the seeder, the finished download for the leecher) ends
# its trace with "stop" and the run's counts: the leecher verified the
# whole payload, the seeder uploaded at least that much.
. "$(dirname "$0")/lib.sh"
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "the trace under test is thorrent's"

make_payload "$WORK/seed/payload"
SIZE=$(find "$WORK/seed/payload" -type f -printf '%s\n' |
    awk '{ n += $1 } END { print n }')
"$THORRENT" create -o "$WORK/t.torrent" --piece-size 32K \
    "$WORK/seed/payload" >"$WORK/create.log" 2>&1 ||
	fail "thorrent create failed: $(cat "$WORK/create.log")"
PIECES=$(( (SIZE + 32767) / 32768 ))

SEED_PORT=$(free_port)
start_thorrent seed --path "$WORK/seed" --port "$SEED_PORT" \
    --seed-ratio -1 --no-dht --no-upnp --no-natpmp --no-lsd \
    --state-dir "$WORK/seed-state" --trace "$WORK/seed.trace" \
    "$WORK/t.torrent"
SEED_PID=$LAST_PID
wait_for_log "$WORK/seed.trace" \
    "^\\{\"t\":[0-9]+,\"ev\":\"listen\",\"port\":$SEED_PORT\\}\$" 30 \
    "$SEED_PID" || fail "the running seeder's trace has no listen event"
wait_for_log "$WORK/seed.trace" \
    '"ev":"phase","from":"checking","to":"seeding"' 30 "$SEED_PID" ||
	fail "the running seeder's trace does not show its check ending"
log "the running seeder's trace: $(wc -c <"$WORK/seed.trace") bytes"

start_thorrent leech --path "$WORK/dl" --port "$(free_port)" \
    --seed-ratio 0 --no-dht --no-upnp --no-natpmp --no-lsd \
    --state-dir "$WORK/dl-state" --peer "127.0.0.1:$SEED_PORT" \
    --trace "$WORK/leech.trace" "$WORK/t.torrent"
LEECH_PID=$LAST_PID
wait_pid "$LEECH_PID" 120 || fail "the leecher did not finish in 120 s"
[ "$WAIT_RC" -eq 0 ] || fail "the leecher exited with status $WAIT_RC"
stop_pid "$SEED_PID"

for t in seed leech; do
	extra=()
	[ "$t" = leech ] && extra=(--pieces "$PIECES")
	"$PY" "$TOP_SRCDIR/tests/interop/trace_check.py" "$WORK/$t.trace" \
	    --require listen --require stop "${extra[@]}" >&2 ||
		fail "the $t's trace does not pass trace_check.py"
done

"$PY" - "$WORK" "$SIZE" <<'EOF' || fail "stop events do not hold the counts"
import json, os, sys
work, size = sys.argv[1], int(sys.argv[2])
def last(name):
    with open(os.path.join(work, name + ".trace")) as f:
        ev = json.loads(f.readlines()[-1])
    if ev["ev"] != "stop":
        sys.exit("%s: last event is %s, not stop" % (name, ev["ev"]))
    return ev
s, l = last("seed"), last("leech")
if l["verified"] != size or l["downloaded"] < size:
    sys.exit("leech stop %r for a payload of %d bytes" % (l, size))
if s["uploaded"] < size or s["downloaded"] != 0 or s["verified"] != 0:
    sys.exit("seed stop %r for a payload of %d bytes" % (s, size))
print("stop events: seed %r, leech %r" % (s, l), file=sys.stderr)
EOF
log "listen and the check end seen while running; stop events hold the counts"
exit 0
