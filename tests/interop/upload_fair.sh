#!/bin/bash
# The upload is shared fairly among the peers it serves, over TCP and uTP.
#
# A thorrent seeder limited to 512 KiB/s, bound to 127.0.9.1
# (--bind-address), serves four libtorrent leechers: two over TCP and two
# over uTP only (lt_dht.py --transport), which also trade among
# themselves.  Four peers fit in the upload slots, so all are unchoked.
# From the seeder's trace ("sent" events): over a window of at least 4 s
# that starts 2 s after the fourth handshake and ends before any leecher
# is done with the seeder, each leecher got between 15 % and 35 % of the
# blocks sent (a quarter each is fair; the seeder used to give nearly all
# of it to the first peer in its list).  The seeder's log shows the
# leechers connecting to 127.0.9.1, and every leecher ends byte-identical.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "the seeder under test is thorrent"

BIND=127.0.9.1
make_payload "$WORK/seed/payload" 8000000
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce" 32768
log "payload $(du -sb --apparent-size "$WORK/seed/payload" | cut -f1) bytes in $(num_pieces_of "$WORK/t.torrent") pieces"

SEED_PORT=$(free_port)
start_thorrent seed --path "$WORK/seed" --port "$SEED_PORT" \
    --bind-address "$BIND" --max-up 512K --seed-ratio -1 \
    --no-dht --no-upnp --no-natpmp --no-lsd --state-dir "$WORK/seed-state" \
    --trace "$WORK/seed.trace" "$WORK/t.torrent"
SEED_PID=$LAST_PID
wait_for_log "$WORK/seed.log" "bound to $BIND" 30 "$SEED_PID" ||
	fail "the seeder did not bind to $BIND"
wait_for_log "$WORK/seed.log" 'resume: ' 30 "$SEED_PID" ||
	fail "the seeder did not check its data"

LEECH_PIDS=()
for i in 1 2 3 4; do
	tp=tcp
	[ "$i" -gt 2 ] && tp=utp
	start_lt_role "lt$i" "$(free_port)" --torrent "$WORK/t.torrent" \
	    --save "$WORK/lt$i" --peer "$BIND:$SEED_PORT" --transport "$tp" \
	    --exit-on-complete --timeout 120
	LEECH_PIDS+=("$LAST_PID")
done
for i in 1 2 3 4; do
	wait_pid "${LEECH_PIDS[$((i - 1))]}" 130
	[ "$WAIT_RC" -eq 0 ] ||
		fail "leecher lt$i did not complete (status $WAIT_RC)"
	compare_trees "$WORK/seed/payload" "$WORK/lt$i/payload"
done
kill -0 "$SEED_PID" 2>/dev/null || fail "the seeder died"
# The trace is complete once the seeder has exited.
kill -TERM "$SEED_PID"
wait_pid "$SEED_PID" 15 || fail "the seeder did not stop on SIGTERM"
grep -Eq "peer 127\.0\.0\.1:[0-9]+ connected \(.*incoming" "$WORK/seed.log" ||
	fail "no leecher connected to the seeder at $BIND"
"$PY" "$TOP_SRCDIR/tests/interop/trace_check.py" "$WORK/seed.trace" \
    --require sent --require rate --require peer_rate >&2 ||
	fail "the seeder's trace does not check"

"$PY" - "$WORK/seed.trace" <<'EOF' || fail "the upload was not shared fairly"
import json, sys
hs, sent, done = {}, [], {}
for line in open(sys.argv[1]):
    ev = json.loads(line)
    name, t, p = ev["ev"], ev["t"], ev.get("peer")
    if name == "handshake":
        hs[p] = (t, ev.get("transport"))
    elif name == "sent":
        sent.append((t, p, ev["length"]))
    elif name in ("not_interested", "disconnect") and p in hs:
        done.setdefault(p, t)
if len(hs) < 4:
    sys.exit("only %d handshakes" % len(hs))
kinds = sorted(tp for _, tp in hs.values())
if kinds.count("utp") < 2 or kinds.count("tcp") < 2:
    sys.exit("transports: %s" % kinds)
start = sorted(t for t, _ in hs.values())[3] + 2000000
end = min([start + 8000000] + [t for t in done.values()])
if end - start < 4000000:
    sys.exit("window of %.1f s only: a leecher was done too soon" %
             ((end - start) / 1e6))
got = {p: 0 for p in hs}
for t, p, n in sent:
    if start <= t < end and p in got:
        got[p] += n
total = sum(got.values())
if total == 0:
    sys.exit("nothing sent in the window")
for p, n in sorted(got.items()):
    share = n / total
    print("peer %d (%s): %d bytes, %.1f %%" % (p, hs[p][1], n, 100 * share),
          file=sys.stderr)
    if not 0.15 <= share <= 0.35:
        sys.exit("peer %d got %.1f %% of the upload in %.1f s" %
                 (p, 100 * share, (end - start) / 1e6))
print("window %.1f s, %d bytes at %.0f KiB/s" % ((end - start) / 1e6, total,
      total / ((end - start) / 1e6) / 1024), file=sys.stderr)
EOF
log "four leechers, two over uTP, shared the upload fairly"
exit 0
