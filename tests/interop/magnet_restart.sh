#!/bin/bash
# A magnet download survives a restart with no peer reachable.
#
# thorrent downloads from a magnet whose only peer (x.pe) is a libtorrent
# seeder limited to 200 KB/s.  Once the metadata is in (log line) and a
# few pieces are verified (trace: hash_ok), thorrent is killed (SIGTERM;
# then again from scratch with SIGKILL) and the seeder stopped.  The
# metadata must be saved in --state-dir as <infohash>.torrent.  thorrent
# restarts with the same magnet and state dir while no peer is
# reachable: from the saved metadata alone it must check the data it has
# ("resume: N of M pieces valid", N > 0) without fetching any metadata.
# Then the seeder comes back on the same port; thorrent must finish
# byte-identical, and the seeder must have sent less than the whole
# payload in the second round (the kept pieces are not fetched again).
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "needs thorrent itself (--state-dir, --trace)"

make_payload "$WORK/seed/payload" 3000000
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"
HASH=$(info_hash_of "$WORK/t.torrent")
TOTAL=$(du -b --apparent-size -s "$WORK/seed/payload" | cut -f1)
LT_PORT=$(free_port)
URI=$(magnet_of "$WORK/t.torrent" --peer "127.0.0.1:$LT_PORT")

start_seeder() {
	start_lt_seeder "$1" "$WORK/t.torrent" "$WORK/seed" "$LT_PORT" \
	    --upload-limit 200000
	SEED_PID=$LAST_PID
	wait_for_log "$WORK/$1.log" '^ready' 60 "$SEED_PID" ||
		fail "libtorrent seeder $1 not ready"
}

# restart_variant SIG
restart_variant() {
	local sig=$1 v="$1" dest="$WORK/dl-$1" state="$WORK/state-$1" n
	mkdir -p "$dest" "$state"
	start_seeder "seed1-$v"

	# 1. download until the metadata and a few pieces are in.
	start_thorrent "$v-1" --path "$dest" --port "$(free_port)" \
	    --seed-ratio 0 --no-dht --no-upnp --no-natpmp --no-lsd --state-dir "$state" \
	    --trace "$WORK/$v-1.trace" "$URI"
	TH_PID=$LAST_PID
	wait_for_log "$WORK/$v-1.log" '[Mm]etadata.*(received|complete)' 60 \
	    "$TH_PID" || fail "$v: no metadata from the magnet's x.pe peer"
	for n in $(seq 1 60); do
		[ "$(grep -c '"ev":"hash_ok"' "$WORK/$v-1.trace" 2>/dev/null)" -ge 5 ] &&
			break
		kill -0 "$TH_PID" 2>/dev/null || fail "$v: thorrent exited early"
		sleep 0.5
	done
	kill -0 "$TH_PID" 2>/dev/null ||
		fail "$v: thorrent finished before it could be interrupted"
	[ "$(grep -c '"ev":"hash_ok"' "$WORK/$v-1.trace")" -ge 5 ] ||
		fail "$v: fewer than 5 pieces verified in 30 s"
	kill -s "$sig" "$TH_PID"
	wait_pid "$TH_PID" 20 || fail "$v: thorrent ignored SIG$sig for 20 s"
	stop_pid "$SEED_PID"
	[ -s "$state/$HASH.torrent" ] ||
		fail "$v: metadata not saved as $state/$HASH.torrent ($(ls "$state" | tr '\n' ' '))"

	# 2. restart with no peer reachable: the saved metadata is enough.
	start_thorrent "$v-2" --path "$dest" --port "$(free_port)" \
	    --seed-ratio 0 --no-dht --no-upnp --no-natpmp --no-lsd --state-dir "$state" \
	    --trace "$WORK/$v-2.trace" "$URI"
	TH_PID=$LAST_PID
	if ! wait_for_log "$WORK/$v-2.log" 'resume: [0-9]+ of [0-9]+ pieces' 30 \
	    "$TH_PID"; then
		fail "$v: after the restart, no 'resume: N of M pieces' line in 30 s with no peer: the saved $HASH.torrent was not used"
	fi
	n=$(grep -Eo 'resume: [0-9]+ of' "$WORK/$v-2.log" | head -n 1 |
	    grep -Eo '[0-9]+')
	[ "$n" -gt 0 ] || fail "$v: the restart found no valid piece on disk"
	grep -Eiq 'fetching.*metadata' "$WORK/$v-2.log" &&
		fail "$v: the restart fetched the metadata again"
	log "$v: restarted from the saved metadata, $n pieces kept"

	# 3. the seeder comes back; the download completes.
	start_seeder "seed2-$v"
	wait_pid "$TH_PID" 120
	[ "$WAIT_RC" -eq 124 ] && fail "$v: download not done 120 s after the seeder came back"
	[ "$WAIT_RC" -eq 0 ] || fail "$v: thorrent exited with status $WAIT_RC"
	compare_trees "$WORK/seed/payload" "$dest/payload"
	stop_pid "$SEED_PID"
	n=$(grep -Eo '^final uploaded [0-9]+' "$WORK/seed2-$v.log" |
	    grep -Eo '[0-9]+$')
	[ -n "$n" ] || fail "$v: the second seeder did not report its upload"
	[ "$n" -lt "$TOTAL" ] ||
		fail "$v: the second seeder sent $n bytes, the whole payload is $TOTAL: kept pieces fetched again"
	log "$v: second round fetched $n of $TOTAL bytes"
}

restart_variant TERM
restart_variant KILL
exit 0
