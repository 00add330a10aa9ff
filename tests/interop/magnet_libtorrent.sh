#!/bin/bash
# Magnet links (BEP 9 ut_metadata, BEP 10) against libtorrent.
#
# a. libtorrent seeds; thorrent gets only
#    magnet:?xt=urn:btih:HEX&dn=NAME&x.pe=127.0.0.1:PORT, fetches the
#    metadata from libtorrent, saves it in --state-dir as <hex>.torrent,
#    then the data, byte-identical.  Again with the base32 info-hash.
# b. thorrent seeds from the .torrent; a libtorrent session given only
#    the magnet (parse_magnet_uri, then connect_peer to thorrent) fetches
#    the metadata and the data from thorrent, byte-identical.
#
# No tracker answers (the announce URL is a closed port) and the DHT is
# off, so the x.pe / connect_peer address is the only way to a peer.
# DOWNLOADER=libtorrent runs libtorrent in thorrent's place.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject_or_lt

make_payload "$WORK/seed/payload"
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"
HASH=$(info_hash_of "$WORK/t.torrent")

# magnet_download NAME MAGNET: download into $WORK/NAME with state dir
# $WORK/NAME-state; require exit 0 within 120 s, the metadata log line
# and the saved metadata.
magnet_download() {
	local name=$1 uri=$2 dest="$WORK/$1" state="$WORK/$1-state" saved
	mkdir -p "$dest" "$state"
	case "$DOWNLOADER" in
	libtorrent)
		start_lt_role "$name" "$(free_port)" --magnet "$uri" \
		    --save "$dest" --exit-on-complete --timeout 120
		;;
	*)
		start_thorrent "$name" --path "$dest" --port "$(free_port)" \
		    --seed-ratio 0 --no-dht --no-upnp --no-natpmp --no-lsd --state-dir "$state" \
		    --trace "$WORK/$name.trace" "$uri"
		;;
	esac
	wait_pid "$LAST_PID" 130
	[ "$WAIT_RC" -eq 124 ] && fail "$name: magnet download not done in 130 s"
	[ "$WAIT_RC" -eq 0 ] || fail "$name: exited with status $WAIT_RC"
	compare_trees "$WORK/seed/payload" "$dest/payload"
	[ "$DOWNLOADER" = libtorrent ] && return 0
	grep -Eiq 'metadata.*(received|complete)' "$WORK/$name.log" ||
		fail "$name: no 'metadata ... received/complete' line in the log"
	saved="$state/$HASH.torrent"
	[ -s "$saved" ] || fail "$name: metadata not saved as $saved ($(ls "$state" | tr '\n' ' '))"
	[ "$(info_hash_of "$saved")" = "$HASH" ] ||
		fail "$name: saved $saved has info-hash $(info_hash_of "$saved"), not $HASH"
	trace_connects "$WORK/$name.trace" "*" "$LT_PORT" ||
		fail "$name: trace has no connect to the x.pe peer"
	log "$name: metadata saved and data identical"
}

# --- a: libtorrent seeds, thorrent downloads from the magnet --------------
LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
LT_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder not ready"
magnet_download hex "$(magnet_of "$WORK/t.torrent" --peer "127.0.0.1:$LT_PORT")"
B32=$(magnet_of "$WORK/t.torrent" --base32 --peer "127.0.0.1:$LT_PORT")
case "$B32" in
magnet:\?xt=urn:btih:[A-Z2-7][A-Z2-7][A-Z2-7][A-Z2-7]*) ;;
*) fail "not a base32 magnet: $B32" ;;
esac
magnet_download base32 "$B32"
stop_pid "$LT_PID"

# --- b: thorrent seeds, libtorrent downloads from the magnet --------------
SEED_PORT=$(free_port)
if [ "$DOWNLOADER" = libtorrent ]; then
	start_lt_role thseed "$SEED_PORT" --torrent "$WORK/t.torrent" \
	    --save "$WORK/seed"
	wait_for_log "$WORK/thseed.log" '^complete' 60 "$LAST_PID" ||
		fail "stand-in seeder not seeding"
else
	start_thorrent thseed --path "$WORK/seed" --port "$SEED_PORT" \
	    --seed-ratio 1000 --no-dht --no-upnp --no-natpmp --no-lsd --state-dir "$WORK/thseed-state" \
	    "$WORK/t.torrent"
	wait_for_log "$WORK/thseed.log" 'listening on port [0-9]+' 30 \
	    "$LAST_PID" || fail "thorrent seeder did not start listening"
	SEED_PORT=$(grep -Eo 'listening on port [0-9]+' "$WORK/thseed.log" |
	    head -n 1 | grep -Eo '[0-9]+$')
fi
SEED_PID=$LAST_PID
start_lt_role ltdl "$(free_port)" --magnet "$(magnet_of "$WORK/t.torrent")" \
    --peer "127.0.0.1:$SEED_PORT" --save "$WORK/ltdl" --exit-on-complete \
    --timeout 120
wait_pid "$LAST_PID" 130
kill -0 "$SEED_PID" 2>/dev/null || fail "thorrent seeder died"
grep -q '^metadata' "$WORK/ltdl.log" ||
	fail "libtorrent got no metadata from thorrent (ut_metadata)"
[ "$WAIT_RC" -eq 0 ] ||
	fail "libtorrent magnet download from thorrent failed (status $WAIT_RC, $(grep -v '^status' "$WORK/ltdl.log" | tail -n 3 | tr '\n' ' '))"
compare_trees "$WORK/seed/payload" "$WORK/ltdl/payload"
stop_pid "$SEED_PID"
exit 0
