# thorrent seeds under a descriptor limit of 40 while 60 loopback
# connections, each with a valid handshake, flood its port.  It must
# refuse what it cannot hold ("cannot accept" logged, or extra
# connections closed), must not spin (CPU < 50% over 5 s while flooded),
# and once the flood goes away a real downloader (libtorrent) must
# fetch the whole torrent from it byte-identical.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "checks thorrent's own log"

NFLOOD=60
FLOOD_S=12

make_payload "$WORK/seed/payload"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"
IH=$(info_hash_of "$WORK/t.torrent")

TH_PORT=$(free_port)
start_bg seeder bash -c 'ulimit -n 40 && exec "$0" "$@"' "$THORRENT" \
    --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --log debug --path "$WORK/seed" --port "$TH_PORT" \
    --seed-ratio -1 "$WORK/t.torrent"
SEED_PID=$LAST_PID
wait_for_log "$WORK/seeder.log" "listening on port $TH_PORT" 30 "$SEED_PID" ||
	fail "thorrent seeder did not start listening on $TH_PORT"
wait_for_log "$WORK/seeder.log" 'resume: [0-9]+ of [0-9]+ pieces valid' 30 \
    "$SEED_PID" || fail "thorrent seeder did not check its data"
log "$(grep -Eo 'resume: .*' "$WORK/seeder.log" | head -n 1)"
grep -q "^Max open files *40 " "/proc/$SEED_PID/limits" ||
	fail "descriptor limit not applied"

# The flood: NFLOOD connections, each sends a handshake and then only
# reads; after FLOOD_S seconds all close.  Prints how many were still
# open at the end and how many got a handshake back.
cat >"$WORK/flood.py" <<'PYEOF'
import os, select, socket, sys, time
port, ih, n, dur = int(sys.argv[1]), bytes.fromhex(sys.argv[2]), \
    int(sys.argv[3]), float(sys.argv[4])
socks, got_hs, closed, refused = [], set(), set(), 0
for i in range(n):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"\x13BitTorrent protocol" + b"\0" * 8 + ih +
                  b"-FL0001-" + os.urandom(12))
    except OSError:
        refused += 1
        s.close()
        continue
    s.setblocking(False)
    socks.append(s)
print("connected %d refused %d" % (len(socks), refused), flush=True)
end = time.time() + dur
while time.time() < end:
    live = [s for s in socks if s not in closed]
    if not live:
        time.sleep(0.2)
        continue
    r, _, _ = select.select(live, [], [], 0.2)
    for s in r:
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if d:
            got_hs.add(s)
        else:
            closed.add(s)
print("flood done: %d open, %d closed by thorrent, %d answered"
      % (len(socks) - len(closed), len(closed), len(got_hs)), flush=True)
for s in socks:
    s.close()
PYEOF
start_bg flood "$PY" -u "$WORK/flood.py" "$TH_PORT" "$IH" "$NFLOOD" "$FLOOD_S"
FLOOD_PID=$LAST_PID
wait_for_log "$WORK/flood.log" '^connected' 30 "$FLOOD_PID" ||
	fail "flood did not connect"
log "flood: $(head -n 1 "$WORK/flood.log")"

# CPU over 5 s while flooded.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$SEED_PID/stat"
}
t0=$(cpu_ticks)
sleep 5
t1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
kill -0 "$SEED_PID" 2>/dev/null || fail "thorrent died under the flood"
log "CPU while flooded: $((t1 - t0)) ticks in 5 s (hz $hz)"
[ $((t1 - t0)) -lt $((hz * 5 / 2)) ] || fail "thorrent spins under the flood"

wait_pid "$FLOOD_PID" $((FLOOD_S + 10)) || fail "flood did not end"
log "$(tail -n 1 "$WORK/flood.log")"
accepts=$(grep -c 'cannot accept: ' "$WORK/seeder.log")
closed=$(sed -n 's/.* \([0-9]*\) closed by thorrent.*/\1/p' \
    "$WORK/flood.log")
log "thorrent logged $accepts 'cannot accept' lines;" \
    "$closed flood connections closed by it"
[ "$accepts" -gt 0 ] || [ "${closed:-0}" -gt 0 ] ||
	fail "thorrent neither refused nor closed any of $NFLOOD connections"
[ "$accepts" -gt 0 ] &&
	log "$(grep -m 1 -Eo 'warn: cannot accept: .*' "$WORK/seeder.log")"

# The flood is gone: a real downloader must now get everything.
sleep 2
LT_PORT=$(free_port)
start_bg leech "$PY" -u "$LT_SEED" leech "$WORK/t.torrent" "$WORK/dl" \
    "$LT_PORT" --peer "127.0.0.1:$TH_PORT" --timeout 60
wait_pid "$LAST_PID" 70
[ "$WAIT_RC" -eq 0 ] || fail "libtorrent leecher failed (status $WAIT_RC)"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
kill -0 "$SEED_PID" 2>/dev/null || fail "thorrent seeder died"
exit 0
