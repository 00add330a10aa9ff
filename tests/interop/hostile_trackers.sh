# A scripted malicious HTTP tracker (hostile_tracker.py) answers every
# announce with one misbehaviour per torrent (the mode is in the announce
# URL).  Ten thorrent runs, one per mode, download in parallel from an
# honest libtorrent seeder given as --peer, each limited to 24 KiB/s so
# that it lasts well over 30 s (curl's total timeout, for never_ends:
# about 37 s with the bucket's first burst; at 30 KiB/s a run that quits
# as soon as it completes ended at 30.7 s, too close).  Each
# must complete byte-identical without a busy loop (CPU time < 50% of
# wall time) and without hammering the tracker (a bounded number of
# announces), and the tracker errors must show up as warn lines.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "checks thorrent's own log"
[ -x /usr/bin/time ] || skip "/usr/bin/time not installed"

MODES=(not_bencoded failure_reason compact_not_multiple_of_6 peers_100k
	port_zero redirect_loop gigabyte never_ends interval_zero
	interval_negative)
# Modes whose announce must fail with a warn line.
WARN_MODES=" not_bencoded failure_reason redirect_loop gigabyte never_ends "
MAX_ANNOUNCES=10	# per run of ~40 s; thorrent retries after >= 15 s
RSS_MAX_KB=102400
# Under AddressSanitizer freed memory sits in a quarantine (256 MiB by
# default) before reuse, so every connection tried to the 100,000 bogus
# peers would count toward the peak: keep the quarantine small so that
# the peak measures what thorrent holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"

mkdir -p "$WORK/seed/payload"
head -c 1048576 /dev/urandom >"$WORK/seed/payload/data.bin"
: >"$WORK/seed/payload/empty.dat"

TR_PORT=$(free_port)
start_bg tracker "$PY" -u "$LIB_DIR/hostile_tracker.py" "$TR_PORT"
wait_for_log "$WORK/tracker.log" '^ready' 10 "$LAST_PID" ||
	fail "hostile tracker not ready"

for m in "${MODES[@]}"; do
	make_torrent "$WORK/seed/payload" "$WORK/$m.torrent" \
	    "http://127.0.0.1:$TR_PORT/announce?mode=$m"
done

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/${MODES[0]}.torrent" "$WORK/seed" "$LT_PORT" \
    --unchoke-slots 20
wait_for_log "$WORK/lt.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder not ready"

declare -A RUN_PID
start=$(date +%s)
for m in "${MODES[@]}"; do
	mkdir -p "$WORK/dl_$m"
	start_bg "dl_$m" /usr/bin/time -f '%e %U %S %M' -o "$WORK/time_$m.txt" \
	    "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --log debug --path "$WORK/dl_$m" \
	    --port "$(free_port)" --seed-ratio 0 --max-down 24K \
	    --peer "127.0.0.1:$LT_PORT" "$WORK/$m.torrent"
	RUN_PID[$m]=$LAST_PID
done

bad=0
for m in "${MODES[@]}"; do
	left=$((120 - ($(date +%s) - start)))
	[ "$left" -gt 1 ] || left=1
	wait_pid "${RUN_PID[$m]}" "$left"
	if [ "$WAIT_RC" -ne 0 ]; then
		log "$m: thorrent exited with status $WAIT_RC (124: timeout)"
		bad=1
	fi
done
log "all runs ended after $(($(date +%s) - start))s"
[ "$bad" -eq 0 ] || fail "some runs did not complete"

for m in "${MODES[@]}"; do
	diff -r "$WORK/seed/payload" "$WORK/dl_$m/payload" >/dev/null 2>&1 || {
		log "$m: downloaded data differs"
		bad=1
	}
	read -r el ut st rss <"$WORK/time_$m.txt" || {
		log "$m: no timing"
		bad=1
		continue
	}
	cpu_ok=$(awk -v e="$el" -v u="$ut" -v s="$st" \
	    'BEGIN { print (u + s < 0.5 * e) ? 1 : 0 }')
	ann=$(grep -c "^req $m hop=0$" "$WORK/tracker.log")
	hops=$(grep -c "^req $m " "$WORK/tracker.log")
	warn=$(grep -E "warn: tracker " "$WORK/dl_$m.log" | head -n 1)
	seen=$(grep -E "(warn|info): tracker " "$WORK/dl_$m.log" | head -n 1)
	log "$m: ${el}s wall, ${ut}+${st}s CPU, peak ${rss} kB," \
	    "$ann announces ($hops requests); ${seen:-no tracker line}"
	[ "$cpu_ok" -eq 1 ] || { log "$m: busy loop?"; bad=1; }
	[ "$rss" -lt "$RSS_MAX_KB" ] || { log "$m: RSS too high"; bad=1; }
	[ "$ann" -ge 1 ] || { log "$m: never announced"; bad=1; }
	[ "$ann" -le "$MAX_ANNOUNCES" ] || { log "$m: hammering"; bad=1; }
	[ "$hops" -le $((ann * 6)) ] || { log "$m: too many hops"; bad=1; }
	case "$WARN_MODES" in
	*" $m "*)
		[ -n "$warn" ] || { log "$m: no warn line"; bad=1; }
		;;
	esac
done
# The endless body must have been cut off near thorrent's 2 MiB cap
# (plus what the socket buffers held), not read to the end.
while read -r _ _ sent after; do
	sent=${sent#sent=}
	log "gigabyte stream: $sent bytes, ${after#after=}s"
	[ "$sent" -lt $((64 << 20)) ] || { log "gigabyte: read too much"; bad=1; }
done < <(grep '^end gigabyte' "$WORK/tracker.log")
grep -q '^end gigabyte' "$WORK/tracker.log" || {
	log "gigabyte: stream never ended"
	bad=1
}
[ "$bad" -eq 0 ] || fail "hostile tracker cases failed"
exit 0
