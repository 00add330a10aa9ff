# transmission-cli seeds pre-placed data (verified with -v); thorrent
# downloads.  transmission-cli 3.00 does not dial 127.x peers learned
# from a tracker but accepts incoming ones, so thorrent is also given it
# with --peer.  Transmission waits before serving and is slow: small
# payload, generous timeout.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_prog opentracker
require_prog transmission-cli
require_subject

make_payload "$WORK/seed/payload"
alloc_tracker
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" "$TRACKER_URL"
start_tracker "$(info_hash_of "$WORK/t.torrent")"

TR_PORT=$(free_port)
mkdir -p "$WORK/trconf"
# A fresh config dir: no DHT, LSD, PEX, uTP or port mapping, loopback
# only, no speed or ratio limits.
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
    "encryption": 1,
    "download-dir": "$WORK/seed",
    "incomplete-dir-enabled": false,
    "start-added-torrents": true,
    "message-level": 2
}
JSON
start_bg transmission transmission-cli -g "$WORK/trconf" -M -U -D -et \
    -p "$TR_PORT" -w "$WORK/seed" -v "$WORK/t.torrent"
TR_PID=$LAST_PID
wait_for_port "$TR_PORT" 30 || fail "transmission-cli not listening"
wait_for_log "$WORK/transmission.log" 'Seeding' 60 "$TR_PID" ||
	fail "transmission-cli not seeding"

run_subject_download dl "$WORK/t.torrent" "$WORK/dl" 150 "$TR_PORT"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"
exit 0
