#!/bin/bash
# IPv6 (BEP 7): a thorrent seeder listens on IPv4 and IPv6; a thorrent
# downloader given only --peer [::1]:PORT fetches the payload over ::1,
# byte-identical, and both traces show the connection as [::1].  A
# python3-libtorrent seeder listening on [::1] only is then a second
# source for a fresh download over ::1.  Then both again with
# --transport utp: uTP (BEP 29) over IPv6, to thorrent and to
# libtorrent.  Skips when the host has no ::1.
. "$(dirname "$0")/lib.sh"

require_subject
require_libtorrent
"$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' \
    2>/dev/null || skip "no IPv6 loopback here"

mkdir -p "$WORK/seed/payload"
make_payload "$WORK/seed/payload"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:1/announce"

TH_PORT=$(free_port)
start_bg thseed "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --log=info \
    --state-dir "$WORK/seed-state" --path "$WORK/seed" --port "$TH_PORT" \
    --seed-ratio -1 --trace "$WORK/seed.trace" "$WORK/t.torrent"
SEED_PID=$LAST_PID
wait_for_log "$WORK/thseed.log" 'resume: ' 60 "$SEED_PID" ||
	fail "thorrent seeder did not check its data"
grep -q 'no IPv6 listener' "$WORK/thseed.log" &&
	fail "seeder has no IPv6 listener: $(grep 'no IPv6' "$WORK/thseed.log")"

start_bg dl "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --log=info \
    --state-dir "$WORK/dl-state" --path "$WORK/dl" --port "$(free_port)" \
    --seed-ratio 0 --trace "$WORK/dl.trace" --peer "[::1]:$TH_PORT" \
    "$WORK/t.torrent"
wait_pid "$LAST_PID" 120
[ "$WAIT_RC" -eq 0 ] || fail "download over ::1 exited with $WAIT_RC"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
grep -q "\"ev\":\"connect\".*\"addr\":\"\\[::1\\]:$TH_PORT\",\"dir\":\"out\"" \
    "$WORK/dl.trace" || fail "downloader trace has no connect to [::1]:$TH_PORT"
# (The seeder's trace is complete only once it exits; its log is not.)
grep -q 'peer \[::1\]:[0-9]* connected (.*incoming' "$WORK/thseed.log" ||
	fail "seeder log has no incoming [::1] peer"
log "thorrent to thorrent over ::1: ok"

# A real client on ::1: libtorrent seeds, listening on [::1] only.
LT_PORT=$(free_port)
cat >"$WORK/lt6.py" <<'PY'
import sys, time, libtorrent as lt
t, save, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ses = lt.session({"listen_interfaces": "[::1]:%d" % port,
                  "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False})
h = ses.add_torrent({"ti": lt.torrent_info(t), "save_path": save})
end = time.time() + 300
while time.time() < end:
    if h.status().is_seeding:
        print("ready", flush=True)
        break
    time.sleep(0.1)
while time.time() < end:
    time.sleep(0.5)
PY
start_bg lt "$PY" -u "$WORK/lt6.py" "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
LT_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LT_PID" ||
	fail "libtorrent seeder on [::1] not ready"
start_bg dl2 "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --log=info \
    --state-dir "$WORK/dl2-state" --path "$WORK/dl2" --port "$(free_port)" \
    --seed-ratio 0 --trace "$WORK/dl2.trace" --peer "[::1]:$LT_PORT" \
    "$WORK/t.torrent"
wait_pid "$LAST_PID" 120
[ "$WAIT_RC" -eq 0 ] || fail "download from libtorrent over ::1 exited $WAIT_RC"
compare_trees "$WORK/seed/payload" "$WORK/dl2/payload"
grep -q '"ev":"handshake".*libtorrent' "$WORK/dl2.trace" ||
	fail "no libtorrent handshake over ::1"
log "libtorrent to thorrent over ::1: ok"

# uTP over IPv6: the same two seeders, the downloader allowed uTP only.
for who in thorrent libtorrent; do
	port=$TH_PORT
	[ "$who" = libtorrent ] && port=$LT_PORT
	start_bg "utp-$who" "$THORRENT" --no-tui --no-dht --no-upnp \
	    --no-natpmp --no-lsd --log=info --transport utp \
	    --state-dir "$WORK/utp-$who-state" --path "$WORK/utp-$who" \
	    --port "$(free_port)" --seed-ratio 0 \
	    --trace "$WORK/utp-$who.trace" --peer "[::1]:$port" \
	    "$WORK/t.torrent"
	wait_pid "$LAST_PID" 120
	[ "$WAIT_RC" -eq 0 ] ||
		fail "uTP download from $who over ::1 exited $WAIT_RC"
	compare_trees "$WORK/seed/payload" "$WORK/utp-$who/payload"
	grep -q "\"ev\":\"connect\".*\"addr\":\"\\[::1\\]:$port\".*\"transport\":\"utp\"" \
	    "$WORK/utp-$who.trace" ||
		fail "no uTP connect to [::1]:$port in the trace"
	grep -q '"ev":"handshake".*"transport":"utp"' "$WORK/utp-$who.trace" ||
		fail "no handshake over uTP with $who"
	grep -q '"transport":"tcp"' "$WORK/utp-$who.trace" &&
		fail "a TCP connection with --transport utp"
	log "uTP over ::1 from $who: ok"
done
exit 0
