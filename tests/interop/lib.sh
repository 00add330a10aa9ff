# Shared helpers for the thorrent interop tests.  Sourced, never run.
#
# Everything runs on 127.0.0.1: every service gets a free port, is started
# in the background with its output in $WORK/<name>.log, and is stopped by
# PID from the EXIT trap.  Every wait is bounded.  On success the work dir
# is removed; on failure it is kept and the logs are printed.
#
# Environment:
#   THORRENT    absolute path of the thorrent binary (set by make check)
#   TOP_SRCDIR  source dir (set by make check)
#   DOWNLOADER  thorrent (default) or aria2: run the harness with aria2c
#               standing in for thorrent, to validate the harness itself.

set -u

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$LIB_DIR/../.." && pwd)}
PY=/usr/bin/python3
LT_SEED="$LIB_DIR/lt_seed.py"
DOWNLOADER=${DOWNLOADER:-thorrent}
THORRENT=${THORRENT:-$PWD/thorrent}
PIECE_SIZE=32768
TEST_NAME=$(basename "$0" .sh)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/thorrent-interop-$TEST_NAME.XXXXXX") ||
	exit 1
PIDS=()
USED_PORTS=" "

log() {
	echo "[$(date +%T)] $TEST_NAME: $*" >&2
}

fail() {
	log "FAIL: $*"
	exit 1
}

skip() {
	log "SKIP: $*"
	exit 77
}

# stop_pid PID: TERM, wait up to 5 s, then KILL.
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

_cleanup() {
	local rc=$? pid f
	trap - EXIT
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [ "$rc" -eq 0 ]; then
		rm -rf "$WORK"
	elif [ "$rc" -ne 77 ]; then
		log "work dir kept: $WORK"
		for f in "$WORK"/*.log; do
			[ -f "$f" ] || continue
			echo "===== $f (last 40 lines) =====" >&2
			tail -n 40 "$f" >&2
		done
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM HUP

# require_prog NAME: skip when a third-party client is not installed.
require_prog() {
	command -v "$1" >/dev/null 2>&1 ||
		skip "$1 not installed (./bootstrap installs it)"
}

require_libtorrent() {
	[ -x "$PY" ] && "$PY" -c 'import libtorrent' 2>/dev/null ||
		skip "python3-libtorrent not installed (./bootstrap installs it)"
}

# require_subject: the program under test must exist.
require_subject() {
	case "$DOWNLOADER" in
	thorrent)
		[ -x "$THORRENT" ] || fail "thorrent binary not found: $THORRENT"
		;;
	aria2)
		require_prog aria2c
		;;
	*)
		fail "unknown DOWNLOADER=$DOWNLOADER"
		;;
	esac
}

# free_port: print a TCP+UDP port free on 127.0.0.1, never one handed out
# before in this test.
free_port() {
	local p i
	for i in $(seq 1 20); do
		p=$("$PY" -c '
import socket
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(("127.0.0.1", 0))
p = t.getsockname()[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", p))
print(p)') || continue
		case "$USED_PORTS" in
		*" $p "*) continue ;;
		esac
		USED_PORTS="$USED_PORTS$p "
		echo "$p"
		return 0
	done
	fail "no free port"
}

# start_bg NAME CMD...: run CMD in the background, output to
# $WORK/NAME.log; sets LAST_PID.
start_bg() {
	local name=$1
	shift
	"$@" >"$WORK/$name.log" 2>&1 </dev/null &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	log "started $name (pid $LAST_PID): $*"
}

# wait_for_log FILE REGEX TIMEOUT_S [PID]: wait until FILE has a line
# matching REGEX (ERE); fail early when PID dies.
wait_for_log() {
	local file=$1 re=$2 t=$3 pid=${4:-} i n
	n=$((t * 10))
	for i in $(seq 1 "$n"); do
		if [ -f "$file" ] && grep -Eq -- "$re" "$file"; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			log "process $pid exited while waiting for '$re' in $file"
			return 1
		fi
		sleep 0.1
	done
	log "timeout (${t}s) waiting for '$re' in $file"
	return 1
}

# wait_for_file FILE TIMEOUT_S
wait_for_file() {
	local file=$1 t=$2 i
	for i in $(seq 1 $((t * 10))); do
		[ -e "$file" ] && return 0
		sleep 0.1
	done
	log "timeout (${t}s) waiting for $file"
	return 1
}

# wait_for_port PORT TIMEOUT_S: wait until something accepts TCP on it.
wait_for_port() {
	local port=$1 t=$2 i
	for i in $(seq 1 $((t * 10))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	log "timeout (${t}s) waiting for port $port"
	return 1
}

# wait_pid PID TIMEOUT_S: wait for PID to exit; sets WAIT_RC (124 on
# timeout, in which case the process is stopped).
wait_pid() {
	local pid=$1 t=$2 i
	WAIT_RC=124
	for i in $(seq 1 $((t * 10))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			WAIT_RC=$?
			return 0
		fi
		sleep 0.1
	done
	stop_pid "$pid"
	return 1
}

# make_payload DIR [EXTRA_BYTES]: multi-file tree with an empty file, a
# nested file, sizes not multiples of the piece size.  EXTRA_BYTES adds
# one more big file (for slow, long downloads).
make_payload() {
	local d=$1 extra=${2:-0}
	mkdir -p "$d/sub" || fail "mkdir $d"
	head -c 1000001 /dev/urandom >"$d/alpha.bin"
	: >"$d/empty.dat"
	head -c 2345678 /dev/urandom >"$d/beta.bin"
	head -c 77777 /dev/urandom >"$d/sub/gamma.bin"
	if [ "$extra" -gt 0 ]; then
		head -c "$extra" /dev/urandom >"$d/sub/delta.bin"
	fi
}

# make_torrent DIR OUT TRACKER_URL [PIECE_SIZE]
make_torrent() {
	"$PY" "$LT_SEED" make-torrent "$1" "$2" "$3" "${4:-$PIECE_SIZE}" ||
		fail "make-torrent $1"
}

info_hash_of() {
	"$PY" "$LT_SEED" info-hash "$1" || fail "info-hash $1"
}

num_pieces_of() {
	"$PY" -c 'import sys, libtorrent as lt
print(lt.torrent_info(sys.argv[1]).num_pieces())' "$1"
}

# start_tracker HASH...: opentracker on 127.0.0.1:$TRACKER_PORT, tracking
# only the given info-hashes.  Sets TRACKER_PORT and TRACKER_URL.
# Debian's opentracker is whitelist-only, chroots into tracker.rootdir and
# drops to tracker.user when root, so the whitelist lives inside the
# rootdir and is named relative to it.
TRACKER_PORT=
TRACKER_URL=
alloc_tracker() {
	TRACKER_PORT=$(free_port)
	TRACKER_URL="http://127.0.0.1:$TRACKER_PORT/announce"
}

start_tracker() {
	local d="$WORK/tracker" h tuser
	require_prog opentracker
	[ -n "$TRACKER_PORT" ] || alloc_tracker
	# opentracker refuses to keep root privileges.
	tuser=$(id -un)
	[ "$(id -u)" -eq 0 ] && tuser=nobody
	mkdir -p "$d"
	: >"$d/whitelist"
	for h in "$@"; do
		echo "$h" >>"$d/whitelist"
	done
	cat >"$d/opentracker.conf" <<EOF
listen.tcp_udp 127.0.0.1:$TRACKER_PORT
access.whitelist whitelist
tracker.rootdir $d
tracker.user $tuser
EOF
	chmod 755 "$d"
	chmod 644 "$d/whitelist" "$d/opentracker.conf"
	start_bg tracker opentracker -f "$d/opentracker.conf"
	TRACKER_PID=$LAST_PID
	wait_for_port "$TRACKER_PORT" 10 || fail "opentracker did not start"
}

# compare_trees ORIG COPY: byte-for-byte, same file set (empty files
# included).
compare_trees() {
	local a=$1 b=$2
	[ -d "$b" ] || fail "downloaded tree $b missing"
	if ! diff -r "$a" "$b" >"$WORK/diff.log" 2>&1; then
		fail "trees differ: $(head -n 5 "$WORK/diff.log")"
	fi
	# diff -r already reports missing files; check the empty one
	# explicitly so the intent is visible.
	[ -f "$b/empty.dat" ] || fail "empty file missing in $b"
	[ -s "$b/empty.dat" ] && fail "empty file not empty in $b"
	log "trees identical: $a $b"
}

ARIA2_COMMON=(--enable-dht=false --enable-dht6=false --bt-enable-lpd=false
	--enable-peer-exchange=false --disable-ipv6=true
	--interface=127.0.0.1 --file-allocation=none --summary-interval=0
	--console-log-level=notice --check-certificate=false
	--bt-tracker-connect-timeout=10 --bt-tracker-interval=5
	--auto-save-interval=1)

# start_aria2_seeder NAME TORRENT DATA_PARENT PORT [extra aria2 opts]
start_aria2_seeder() {
	local name=$1 t=$2 dir=$3 port=$4
	shift 4
	start_bg "$name" aria2c "${ARIA2_COMMON[@]}" --check-integrity=true \
	    --bt-seed-unverified=false --bt-hash-check-seed=true \
	    --seed-ratio=0.0 -d "$dir" --listen-port="$port" \
	    --log="$WORK/$name.debug" --log-level=info "$@" "$t"
}

# start_lt_seeder NAME TORRENT DATA_PARENT PORT [lt_seed.py opts]
start_lt_seeder() {
	local name=$1 t=$2 dir=$3 port=$4
	shift 4
	start_bg "$name" "$PY" -u "$LT_SEED" seed "$t" "$dir" "$port" "$@"
}

# start_subject_download NAME TORRENT DEST [PEER_PORT...]: start the
# program under test downloading in the background (sets LAST_PID);
# PEER_PORTs become --peer 127.0.0.1:PORT (aria2c can't take direct
# peers for a .torrent and uses the tracker only).  Extra thorrent
# options may be given in SUBJECT_OPTS (array).
SUBJECT_OPTS=()
SUBJECT_LOG=info
start_subject_download() {
	local name=$1 t=$2 dest=$3 p args=()
	shift 3
	mkdir -p "$dest"
	case "$DOWNLOADER" in
	thorrent)
		for p in "$@"; do
			args+=(--peer "127.0.0.1:$p")
		done
		start_bg "$name" "$THORRENT" --no-tui --path "$dest" \
		    --port "$(free_port)" --seed-ratio 0 --log="$SUBJECT_LOG" \
		    "${args[@]}" "${SUBJECT_OPTS[@]}" --no-dht --no-upnp --no-natpmp "$t"
		;;
	aria2)
		start_bg "$name" aria2c "${ARIA2_COMMON[@]}" --seed-time=0 \
		    -d "$dest" --listen-port="$(free_port)" \
		    --log="$WORK/$name.debug" --log-level=info "$t"
		;;
	esac
}

# run_subject_download NAME TORRENT DEST TIMEOUT [PEER_PORT...]: download
# and require exit status 0 within TIMEOUT seconds.
run_subject_download() {
	local name=$1 t=$2 dest=$3 to=$4 start
	shift 4
	start=$(date +%s)
	start_subject_download "$name" "$t" "$dest" "$@"
	wait_pid "$LAST_PID" "$to"
	[ "$WAIT_RC" -eq 124 ] && fail "$name did not finish within ${to}s"
	[ "$WAIT_RC" -eq 0 ] || fail "$name exited with status $WAIT_RC"
	log "$name finished in $(($(date +%s) - start))s"
}

# start_subject_seeder NAME TORRENT DATA_PARENT PORT: the program under
# test seeds complete data (aria2c stands in when DOWNLOADER=aria2).
start_subject_seeder() {
	local name=$1 t=$2 dir=$3 port=$4
	case "$DOWNLOADER" in
	thorrent)
		start_bg "$name" "$THORRENT" --no-tui --path "$dir" \
		    --port "$port" --seed-ratio 1000 --log=info --no-dht --no-upnp --no-natpmp "$t"
		wait_for_log "$WORK/$name.log" 'listening on port [0-9]+' 30 \
		    "$LAST_PID" || fail "$name did not start listening"
		SUBJECT_PORT=$(grep -Eo 'listening on port [0-9]+' \
		    "$WORK/$name.log" | head -n 1 | grep -Eo '[0-9]+$')
		;;
	aria2)
		start_aria2_seeder "$name" "$t" "$dir" "$port"
		SUBJECT_PORT=$port
		wait_for_log "$WORK/$name.debug" 'Seeder state' \
		    60 "$LAST_PID" || fail "$name did not start seeding"
		;;
	esac
}

# --- magnets, PEX, UDP trackers and the DHT (lt_dht.py) -------------------
# These tests also accept DOWNLOADER=libtorrent: lt_dht.py then stands
# in for thorrent (no trace; its log is checked instead), to validate
# the harness itself.
LT_DHT="$LIB_DIR/lt_dht.py"

# require_subject_or_lt: like require_subject, but DOWNLOADER=libtorrent
# is allowed.
require_subject_or_lt() {
	case "$DOWNLOADER" in
	libtorrent) require_libtorrent ;;
	aria2) skip "no aria2 stand-in for this test (DOWNLOADER=libtorrent is)" ;;
	*) require_subject ;;
	esac
}

# magnet_of TORRENT [--base32] [--peer IP:PORT]...: print its magnet URI.
magnet_of() {
	"$PY" "$LT_DHT" magnet "$@" || fail "magnet_of $1"
}

# start_lt_role NAME PORT ARGS...: lt_dht.py run in the background (sets
# LAST_PID); see lt_dht.py for ARGS.
start_lt_role() {
	local name=$1 port=$2
	shift 2
	start_bg "$name" "$PY" -u "$LT_DHT" run "$port" "$@"
}

# start_thorrent NAME ARGS...: thorrent with --no-tui --log=info and ARGS
# in the background (sets LAST_PID); the caller passes --port,
# --state-dir and --no-dht --no-upnp --no-natpmp or --dht-bootstrap itself.
start_thorrent() {
	local name=$1
	shift
	start_bg "$name" "$THORRENT" --no-tui --log=info "$@"
}

# trace_connects TRACE SOURCE PORT: succeed when TRACE has a connect
# event with that source (* for any) whose addr ends in :PORT; print
# every connect event on stderr otherwise.
trace_connects() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
path, source, port = sys.argv[1], sys.argv[2], sys.argv[3]
seen = []
try:
    f = open(path)
except OSError as e:
    sys.exit("trace %s: %s" % (path, e))
for n, line in enumerate(f, 1):
    if not line.endswith("\n"):
        break  # still being written
    try:
        e = json.loads(line)
    except ValueError:
        sys.exit("%s:%d: not JSON" % (path, n))
    if e.get("ev") != "connect":
        continue
    seen.append("%s %s %s" % (e.get("addr"), e.get("dir"), e.get("source")))
    if source in ("*", e.get("source")) and \
            str(e.get("addr", "")).endswith(":" + port):
        sys.exit(0)
sys.exit("no connect with source %s to port %s; connects seen: %s"
         % (source, port, ", ".join(seen) or "none"))
PYEOF
}
