# Thirteen scripted malicious peers (hostile_peer.py, one per mode, each
# on its own port) and one honest, rate-limited libtorrent seeder are all
# given to one thorrent run as --peer.  The download must complete
# byte-identical from the honest seeder; the log must show every hostile
# peer dropped for the right reason (and the one sending wrong data
# banned); thorrent's peak RSS must stay under 100 MB.
#
# The seeder is limited to ~45 KB/s so the run lasts over 60 s: the
# "slow" peer dribbles one byte a second and thorrent gives a message
# 60 s to arrive.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "checks thorrent's own log"

HOSTILE="$LIB_DIR/hostile_peer.py"
RSS_MAX_KB=102400

make_payload "$WORK/seed/payload"
# Nothing listens on the tracker port: announces fail fast.
make_torrent "$WORK/seed/payload" "$WORK/t.torrent" \
    "http://127.0.0.1:$(free_port)/announce"
NPIECES=$(num_pieces_of "$WORK/t.torrent")
log "$NPIECES pieces"

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT" \
    --upload-limit 45000
wait_for_log "$WORK/lt.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder not ready"

# mode -> close reason expected in thorrent's log (ERE)
declare -A WANT=(
	[len2_31]='malformed message'
	[bitfield_len]='invalid bitfield|malformed message'
	[bitfield_spare]='invalid bitfield|malformed message'
	[wrong_data]='sent corrupt data repeatedly'
	[unrequested]='sent a block we never requested'
	[have_oob]='have index out of range|malformed message'
	[request_oob]='request out of range'
	[request_big]='request out of range|malformed message'
	[other_hash]='handshake for another torrent'
	[keepalive_flood]='keep-alive flood'
	[slow]='message too slow to arrive'
	[close_mid]='connection closed by peer'
	# Dialled encrypted first (--encryption prefer), garbage fails the
	# MSE sync; dialled again in plaintext, the handshake itself.
	[garbage]='bad handshake|encryption handshake failed'
)
declare -A HPORT
PORTS=("$LT_PORT")
for m in "${!WANT[@]}"; do
	p=$(free_port)
	HPORT[$m]=$p
	PORTS+=("$p")
	start_bg "hp_$m" "$PY" -u "$HOSTILE" "$WORK/t.torrent" "$m" "$p"
	wait_for_log "$WORK/hp_$m.log" '^ready' 10 "$LAST_PID" ||
		fail "hostile peer $m not ready"
done

SUBJECT_LOG=debug
start=$(date +%s)
start_subject_download dl "$WORK/t.torrent" "$WORK/dl" "${PORTS[@]}"
DL_PID=$LAST_PID
# Sample the high-water mark while it runs; bounded by wait_pid below.
(
	while kill -0 "$DL_PID" 2>/dev/null; do
		awk '/^VmHWM/ {print $2}' "/proc/$DL_PID/status" 2>/dev/null
		sleep 0.5
	done
) >"$WORK/rss.txt" &
RSS_PID=$!
PIDS+=("$RSS_PID")
wait_pid "$DL_PID" 140
[ "$WAIT_RC" -eq 124 ] && fail "thorrent did not finish within 140s"
[ "$WAIT_RC" -eq 0 ] || fail "thorrent exited with status $WAIT_RC"
log "thorrent finished in $(($(date +%s) - start))s"
stop_pid "$RSS_PID"
compare_trees "$WORK/seed/payload" "$WORK/dl/payload"

peak=$(sort -n "$WORK/rss.txt" | tail -n 1)
[ -n "$peak" ] || fail "no RSS sample"
log "peak RSS ${peak} kB"
[ "$peak" -lt "$RSS_MAX_KB" ] || fail "peak RSS $peak kB >= $RSS_MAX_KB kB"

bad=0
for m in $(echo "${!WANT[@]}" | tr ' ' '\n' | sort); do
	p=${HPORT[$m]}
	# thorrent dials encrypted first (--encryption prefer); these
	# plaintext-only peers reset that, and the plaintext retry is the
	# connection that meets the hostile behaviour: look at every close.
	lines=$(grep -E "peer 127\.0\.0\.1:$p closed: " "$WORK/dl.log")
	if [ -z "$lines" ]; then
		log "$m (port $p): never dropped"
		bad=1
		continue
	fi
	why=$(echo "$lines" | sed 's/.*closed: //' | grep -E "${WANT[$m]}" |
	    head -n 1)
	[ -n "$why" ] || why=$(echo "$lines" | sed 's/.*closed: //' |
	    tr '\n' ';')
	if ! echo "$why" | grep -Eq "${WANT[$m]}"; then
		log "$m (port $p): dropped for '$why', wanted '${WANT[$m]}'"
		bad=1
		continue
	fi
	log "$m: dropped: $why"
done
grep -q "banning 127\.0\.0\.1:${HPORT[wrong_data]}: " "$WORK/dl.log" || {
	log "wrong_data: no ban logged"
	bad=1
}
[ "$bad" -eq 0 ] || fail "some hostile peers were not handled"
exit 0
