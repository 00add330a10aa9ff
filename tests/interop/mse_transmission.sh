#!/bin/bash
# Message Stream Encryption against transmission-cli (issue 8):
# transmission-cli seeds with encryption required (settings.json
# "encryption": 2); thorrent with the default --encryption (prefer)
# downloads byte-identical through --peer to transmission's port, its
# trace's handshake events say "crypto":"rc4", and a capture of lo on
# transmission's port (tcpdump, else tshark, else a Python AF_PACKET
# sniffer) holds packets and no cleartext "\x13BitTorrent protocol".
# Then the controls: a plaintext-only libtorrent gets nothing from that
# transmission, and the capture shows its cleartext handshake.
#
# transmission-cli 3.00 does not dial 127.x peers and is slow to start
# serving: thorrent dials it, the payload is small, the timeout
# generous.  No tracker answers (the announce URL is a closed port).
# DOWNLOADER=libtorrent runs lt_dht.py (libtorrent's default
# encryption settings, like prefer) in thorrent's place to validate the
# harness.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog transmission-cli
require_subject_or_lt

make_payload "$WORK/seed/payload"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"

TR_PORT=$(free_port)
mkdir -p "$WORK/trconf"
# A fresh config dir: no DHT, LSD, PEX, uTP or port mapping, loopback
# only, no speed or ratio limits, encryption required.
cat >"$WORK/trconf/settings.json" <<JSON
{
    "bind-address-ipv4": "127.0.0.1",
    "bind-address-ipv6": "::1",
    "dht-enabled": false,
    "lpd-enabled": false,
    "pex-enabled": false,
    "utp-enabled": false,
    "port-forwarding-enabled": false,
    "peer-port": $TR_PORT,
    "peer-port-random-on-start": false,
    "ratio-limit-enabled": false,
    "idle-seeding-limit-enabled": false,
    "speed-limit-up-enabled": false,
    "speed-limit-down-enabled": false,
    "encryption": 2,
    "download-dir": "$WORK/seed",
    "incomplete-dir-enabled": false,
    "start-added-torrents": true,
    "message-level": 2
}
JSON
# -er: encryption required (the settings say so too).
start_bg transmission transmission-cli -g "$WORK/trconf" -M -U -D -er \
    -p "$TR_PORT" -w "$WORK/seed" -v "$WORK/t.torrent"
TR_PID=$LAST_PID
wait_for_port "$TR_PORT" 30 || fail "transmission-cli not listening"
wait_for_log "$WORK/transmission.log" 'Seeding' 60 "$TR_PID" ||
	fail "transmission-cli not seeding"
grep -q '"encryption": 2' "$WORK/trconf/settings.json" ||
	fail "transmission's settings.json lost \"encryption\": 2: $(grep encryption "$WORK/trconf/settings.json")"

start_capture dl "$TR_PORT" || true
mkdir -p "$WORK/dl"
if [ "$DOWNLOADER" = libtorrent ]; then
	start_lt_role dl "$(free_port)" --torrent "$WORK/t.torrent" \
	    --save "$WORK/dl" --peer "127.0.0.1:$TR_PORT" \
	    --encryption enabled --exit-on-complete --timeout 170
else
	start_thorrent dl --path "$WORK/dl" --port "$(free_port)" \
	    --seed-ratio 0 --no-dht --no-upnp --no-natpmp --no-lsd \
	    --state-dir "$WORK/dl-state" --trace "$WORK/dl.trace" \
	    --peer "127.0.0.1:$TR_PORT" "$WORK/t.torrent"
fi
DL_PID=$LAST_PID
start=$(date +%s)
wait_pid "$DL_PID" 180
[ "$WAIT_RC" -eq 124 ] &&
	fail "the download from encryption-required transmission-cli did not finish within 180 s"
[ "$WAIT_RC" -eq 0 ] ||
	fail "the download from encryption-required transmission-cli exited with status $WAIT_RC"
log "download finished in $(($(date +%s) - start))s"
kill -0 "$TR_PID" 2>/dev/null || fail "transmission-cli died"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"

if [ "$DOWNLOADER" = libtorrent ]; then
	grep -Eq "^crypto 127\.0\.0\.1:$TR_PORT rc4\$" "$WORK/dl.log" ||
		fail "the stand-in's connection to transmission was not RC4 ($(grep '^crypto' "$WORK/dl.log" | tr '\n' ' '))"
else
	c=$(trace_crypto "$WORK/dl.trace") ||
		fail "cannot read $WORK/dl.trace"
	[ -n "$c" ] || fail "no handshake event in $WORK/dl.trace"
	echo "$c" | grep -qx rc4 ||
		fail "no handshake with \"crypto\":\"rc4\" in the trace (crypto fields: $(echo "$c" | sort | uniq -c | tr '\n' ' '))"
	if echo "$c" | grep -vqx rc4; then
		fail "a handshake with encryption-required transmission was not RC4 (crypto fields: $(echo "$c" | sort | uniq -c | tr '\n' ' '))"
	fi
	grep -Eq "peer 127\.0\.0\.1:$TR_PORT connected \(.*, outgoing, encrypted\)" \
	    "$WORK/dl.log" ||
		fail "no 'peer 127.0.0.1:$TR_PORT connected (CLIENT, outgoing, encrypted)' line in the log"
fi
check_capture_encrypted transmission

# Controls: transmission really requires encryption (a plaintext-only
# libtorrent gets nothing in 20 s), and the capture check can see a
# cleartext handshake (that libtorrent's).
start_capture plain "$TR_PORT" || true
start_lt_role ltplain "$(free_port)" --torrent "$WORK/t.torrent" \
    --save "$WORK/ltplain" --peer "127.0.0.1:$TR_PORT" \
    --encryption disabled --exit-on-complete --timeout 20
wait_pid "$LAST_PID" 30
grep -q '^complete' "$WORK/ltplain.log" &&
	fail "control: a plaintext-only libtorrent downloaded from transmission-cli, so its \"encryption\": 2 is not in force and this test proves nothing"
last=$(grep '^status' "$WORK/ltplain.log" | tail -n 1)
case "$last" in
*" down 0") ;;
*) fail "control: a plaintext-only libtorrent received payload from transmission-cli: $last" ;;
esac
check_capture_plain control
kill -0 "$TR_PID" 2>/dev/null || fail "transmission-cli died"
stop_pid "$TR_PID"
exit 0
