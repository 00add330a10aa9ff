#!/bin/bash
# UDP tracker (BEP 15) with opentracker.
#
# The torrent's only announce URL is udp://127.0.0.1:PORT/announce,
# served by opentracker (listen.tcp_udp gives it the same port number
# on TCP and UDP).  A libtorrent seeder announces there; opentracker
# records it as 127.0.0.1 (the source address: libtorrent sends IP 0)
# and hands it to thorrent, which is given no --peer and no DHT: the
# UDP tracker is its only way to the seeder.  The download must be
# byte-identical, and the trace must show an announce to the udp URL,
# an answer that counts the seeder (the header shows those counts), and
# a connect to the seeder with source "tracker".
# DOWNLOADER=libtorrent runs libtorrent in thorrent's place.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_subject_or_lt

make_payload "$WORK/seed/payload"
alloc_tracker
UDP_URL="udp://127.0.0.1:$TRACKER_PORT/announce"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" "$UDP_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
LT_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LT_PID" ||
	fail "libtorrent seeder not ready"
# lt_seed.py logs tracker replies: the seeder is registered once
# opentracker has answered its UDP announce.
wait_for_log "$WORK/lt.log" 'alert: .*udp://127\.0\.0\.1:[0-9]+/announce.* received peers' \
    30 "$LT_PID" || fail "the libtorrent seeder's UDP announce got no reply"

start=$(date +%s)
mkdir -p "$WORK/dl"
case "$DOWNLOADER" in
libtorrent)
	start_lt_role dl "$(free_port)" --torrent "$WORK/t.torrent" \
	    --save "$WORK/dl" --exit-on-complete --timeout 120 \
	    --download-limit 1000000
	;;
*)
	start_thorrent dl --path "$WORK/dl" --port "$(free_port)" \
	    --seed-ratio 0 --no-dht --no-upnp --no-natpmp --no-lsd --state-dir "$WORK/dl-state" \
	    --trace "$WORK/dl.trace" "$WORK/t.torrent"
	DL_PID=$LAST_PID
	# Fail early and precisely when the tracker's reply is not used.
	for i in $(seq 1 60); do
		msg=$(trace_connects "$WORK/dl.trace" tracker "$LT_PORT" 2>&1) &&
			break
		kill -0 "$DL_PID" 2>/dev/null || break
		sleep 1
	done
	[ -z "$msg" ] ||
		fail "thorrent did not connect to the seeder from the UDP tracker's reply within 60 s: $msg"
	;;
esac
wait_pid "$LAST_PID" 120
rc=$WAIT_RC
if [ "$DOWNLOADER" = libtorrent ]; then
	grep -Eq "^peer 127\\.0\\.0\\.1:$LT_PORT source .*tracker" "$WORK/dl.log" ||
		fail "libtorrent did not get the seeder from the UDP tracker"
else
	"$PY" - "$WORK/dl.trace" "$UDP_URL" >"$WORK/announce.log" 2>&1 <<'PYEOF' ||
import json, sys
urls = []
counts = []
for line in open(sys.argv[1]):
    if not line.endswith("\n"):
        break
    e = json.loads(line)
    if e.get("ev") == "announce":
        urls.append(str(e.get("url")))
    if e.get("ev") == "announce_result" and e.get("ok"):
        counts.append((e.get("seeders"), e.get("leechers")))
if sys.argv[2] not in urls:
    sys.exit("no announce event with url %s (announces: %s)"
             % (sys.argv[2], ", ".join(urls) or "none"))
# BEP 15: the answer counts the libtorrent seeder.
if not any(isinstance(s, int) and s >= 1 for s, _ in counts):
    sys.exit("no announce_result counting a seeder: %r" % counts)
PYEOF
		fail "trace: $(cat "$WORK/announce.log")"
	msg=$(trace_connects "$WORK/dl.trace" tracker "$LT_PORT" 2>&1) ||
		fail "thorrent did not connect to the seeder from the UDP tracker's reply: $msg"
fi
[ "$rc" -eq 124 ] && fail "download not done in 120 s"
[ "$rc" -eq 0 ] || fail "download exited with status $rc"
log "download finished in $(($(date +%s) - start))s"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
exit 0
