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
# No test reads or writes the home of whoever runs the suite: thorrent's
# configuration file and state (resume records, locks, magnet metadata,
# the DHT table) and whatever the other clients keep there all land in
# $WORK, which goes at the end.
export HOME="$WORK/home"
export XDG_CONFIG_HOME="$WORK/xdg-config"
export XDG_STATE_HOME="$WORK/xdg-state"
export XDG_DATA_HOME="$WORK/xdg-data"
export XDG_CACHE_HOME="$WORK/xdg-cache"
mkdir -p "$HOME" || exit 1
# Log lines are matched in English, whatever the caller's language:
# "C" in LANGUAGE turns gettext's translation off.
export LANGUAGE=C
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
		    "${args[@]}" "${SUBJECT_OPTS[@]}" --no-dht --no-upnp --no-natpmp --no-lsd "$t"
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
		    --port "$port" --seed-ratio 1000 --log=info --no-dht --no-upnp --no-natpmp --no-lsd "$t"
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
# --state-dir and --no-dht --no-upnp --no-natpmp --no-lsd (or
# --dht-bootstrap) itself.
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

# --- loopback capture and MSE checks (mse_*.sh) ----------------------------
# A capture of lo limited to the test's TCP ports, written to
# $WORK/NAME.pcap.  tcpdump is used when installed, else tshark, else a
# small AF_PACKET sniffer in Python.  All need root; without it the
# caller skips its capture checks (with a log line).  Nothing is
# installed here (./bootstrap should install tcpdump).
CAPTURE_PID=
CAPTURE_FILE=
CAPTURE_TOOL=

# _sniff_py: the Python fallback; args PCAP MAX_SECONDS PORT...; writes
# Ethernet (linktype 1) records of IPv4/IPv6 TCP packets to or from one
# of the ports, prints "listening" once the socket is bound, stops on
# SIGTERM/SIGINT or after MAX_SECONDS.
_SNIFF_PY='
import signal, socket, struct, sys, time
out, limit, ports = sys.argv[1], float(sys.argv[2]), {int(p) for p in sys.argv[3:]}
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
signal.signal(signal.SIGINT, lambda *a: stop.append(1))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("lo", 0))
s.settimeout(0.2)
f = open(out, "wb")
f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
f.flush()
print("listening", flush=True)
end = time.time() + limit
while not stop and time.time() < end:
    try:
        pkt, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue  # lo shows each packet twice
    et = struct.unpack("!H", pkt[12:14])[0] if len(pkt) >= 14 else 0
    if et == 0x0800 and len(pkt) >= 34 and pkt[23] == 6:
        t = 14 + (pkt[14] & 15) * 4
    elif et == 0x86DD and len(pkt) >= 54 and pkt[20] == 6:
        t = 54
    else:
        continue
    if len(pkt) < t + 4:
        continue
    sp, dp = struct.unpack("!HH", pkt[t:t + 4])
    if sp not in ports and dp not in ports:
        continue
    now = time.time()
    f.write(struct.pack("<IIII", int(now), int((now % 1) * 1e6), len(pkt), len(pkt)))
    f.write(pkt)
    f.flush()
'

# start_capture NAME PORT...: start capturing; returns 1 (with a log
# line) when not root.  Sets CAPTURE_PID and
# CAPTURE_FILE.
start_capture() {
	local name=$1 filt="" p
	shift
	for p in "$@"; do
		filt="${filt:+$filt or }tcp port $p"
	done
	CAPTURE_FILE="$WORK/$name.pcap"
	if [ "$(id -u)" -ne 0 ]; then
		log "capture skipped: capturing on lo needs root"
		CAPTURE_PID=
		CAPTURE_FILE=
		return 1
	fi
	if command -v tcpdump >/dev/null 2>&1; then
		CAPTURE_TOOL=tcpdump
		# -Z root: Debian's tcpdump otherwise drops to the tcpdump
		# user before opening the file, and $WORK is root's, 0700.
		start_bg "$name-capture" tcpdump -i lo -n -U -s 0 -Z root \
		    -w "$CAPTURE_FILE" "$filt"
		CAPTURE_PID=$LAST_PID
		wait_for_log "$WORK/$name-capture.log" 'listening on' 10 \
		    "$CAPTURE_PID" || fail "tcpdump did not start capturing"
	elif command -v tshark >/dev/null 2>&1; then
		CAPTURE_TOOL=tshark
		start_bg "$name-capture" tshark -i lo -n -F pcap \
		    -w "$CAPTURE_FILE" -f "$filt"
		CAPTURE_PID=$LAST_PID
		wait_for_log "$WORK/$name-capture.log" 'Capturing on' 15 \
		    "$CAPTURE_PID" || fail "tshark did not start capturing"
	else
		CAPTURE_TOOL=python-af_packet
		printf '%s\n' "$_SNIFF_PY" >"$WORK/sniff.py"
		start_bg "$name-capture" "$PY" -u "$WORK/sniff.py" \
		    "$CAPTURE_FILE" 600 "$@"
		CAPTURE_PID=$LAST_PID
		wait_for_log "$WORK/$name-capture.log" '^listening' 10 \
		    "$CAPTURE_PID" || fail "AF_PACKET capture did not start"
	fi
	log "capturing lo ($filt) with $CAPTURE_TOOL into $CAPTURE_FILE"
	return 0
}

# stop_capture: stop the capture (after a short pause so the last
# packets are written).
stop_capture() {
	[ -n "$CAPTURE_PID" ] || return 0
	sleep 0.5
	stop_pid "$CAPTURE_PID"
	CAPTURE_PID=
}

# capture_count PCAP: print "PACKETS PLAIN", the number of TCP packets
# in PCAP and the number whose payload holds the cleartext BitTorrent
# handshake string "BitTorrent protocol" (as
# `tcpdump -r PCAP -A | grep -c 'BitTorrent protocol'` would, but
# payload only).  Reads classic pcap, Ethernet or Linux SLL.
capture_count() {
	"$PY" "$TOP_SRCDIR/tests/interop/pcap_stats.py" plain "$1"
}

# check_capture_encrypted WHAT: stop the capture and fail unless it
# holds packets and none carries a cleartext handshake.  A no-op when
# start_capture found no tool.
check_capture_encrypted() {
	local what=$1 n
	[ -n "$CAPTURE_FILE" ] || { log "$what: capture check skipped (no capture tool)"; return 0; }
	stop_capture
	n=$(capture_count "$CAPTURE_FILE") || fail "$what: cannot read $CAPTURE_FILE"
	set -- $n
	[ "$1" -gt 0 ] ||
		fail "$what: the capture $CAPTURE_FILE ($CAPTURE_TOOL) holds no TCP packet on the test ports: the capture itself is broken"
	[ "$2" -eq 0 ] ||
		fail "$what: $2 of $1 captured TCP packets carry a cleartext '\\x13BitTorrent protocol' handshake ($CAPTURE_FILE)"
	log "$what: capture ok: $1 TCP packets, no cleartext handshake"
}

# check_capture_plain WHAT: the positive control: stop the capture and
# fail unless a cleartext handshake was captured.
check_capture_plain() {
	local what=$1 n
	[ -n "$CAPTURE_FILE" ] || { log "$what: capture check skipped (no capture tool)"; return 0; }
	stop_capture
	n=$(capture_count "$CAPTURE_FILE") || fail "$what: cannot read $CAPTURE_FILE"
	set -- $n
	[ "$2" -gt 0 ] ||
		fail "$what: positive control failed: no cleartext handshake among $1 captured TCP packets ($CAPTURE_FILE, $CAPTURE_TOOL): the capture check cannot see plaintext"
	log "$what: capture control ok: $2 of $1 TCP packets carry a cleartext handshake"
}

# trace_field EV FIELD TRACE: print FIELD of every EV event in TRACE,
# one per line ("missing" when an event lacks it).
trace_field() {
	"$PY" - "$1" "$2" "$3" <<'PYEOF'
import json, sys
ev, field, path = sys.argv[1:4]
try:
    f = open(path)
except OSError as e:
    sys.exit("trace %s: %s" % (path, e))
for line in f:
    if not line.endswith("\n"):
        break
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("ev") == ev:
        print(e.get(field, "missing"))
PYEOF
}

# trace_crypto TRACE: the "crypto" field of every handshake event.
trace_crypto() {
	trace_field handshake crypto "$1"
}

# trace_reasons TRACE: the reason of every disconnect event.
trace_reasons() {
	trace_field disconnect reason "$1"
}

# --- network namespaces (tests that need several hosts) --------------------

# Namespaces made with ns_add are deleted at exit, after the test's
# processes (which may run inside them) are stopped; lib.sh's _cleanup
# then keeps the exit status and the logs as usual.
NAMESPACES=()

ns_cleanup() {
	local pid n
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	for n in "${NAMESPACES[@]}"; do
		ip netns delete "$n" 2>/dev/null
	done
}

ns_exit() {
	local rc=$?
	ns_cleanup
	(exit "$rc")
	_cleanup
}

# in_ns NS CMD...: run CMD inside namespace NS.
in_ns() {
	local n=$1
	shift
	ip netns exec "$n" "$@"
}

# ns_add NS...: make the namespaces.  The first one failing means this
# machine cannot (not root, no namespaces): the test is skipped.
ns_add() {
	local n
	trap ns_exit EXIT
	for n in "$@"; do
		if ! ip netns add "$n" 2>"$WORK/netns.err"; then
			[ "${#NAMESPACES[@]}" -eq 0 ] &&
				skip "cannot make network namespaces: $(cat "$WORK/netns.err")"
			fail "ip netns add $n: $(cat "$WORK/netns.err")"
		fi
		NAMESPACES+=("$n")
	done
}

# ns_link NS_A IF_A IP_A NS_B IF_B IP_B: a veth pair IF_A (in NS_A, with
# IP_A/24) to IF_B (in NS_B, IP_B/24), both up, and lo up on both sides
# (interface names are per namespace, so fixed names never collide).
# Skips the test when the kernel cannot make veth pairs.
ns_link() {
	local na=$1 ia=$2 ipa=$3 nb=$4 ib=$5 ipb=$6
	ip link add "$ia" netns "$na" type veth peer name "$ib" netns "$nb" \
	    2>"$WORK/veth.err" ||
		skip "cannot make a veth pair: $(cat "$WORK/veth.err")"
	in_ns "$na" ip link set lo up &&
	    in_ns "$nb" ip link set lo up &&
	    in_ns "$na" ip addr add "$ipa/24" dev "$ia" &&
	    in_ns "$nb" ip addr add "$ipb/24" dev "$ib" &&
	    in_ns "$na" ip link set "$ia" up &&
	    in_ns "$nb" ip link set "$ib" up ||
		fail "ns_link $ia-$ib: addresses and links"
}

# --- uTP (utp_*.sh) ---------------------------------------------------------

# trace_transports TRACE: the "transport" field of every handshake event.
trace_transports() {
	trace_field handshake transport "$1"
}

# start_capture_udp NAME PORT...: like start_capture, but TCP and UDP to
# or from the ports (tcpdump or tshark only; returns 1 with a log line
# when neither is there or when not root).
start_capture_udp() {
	local name=$1 filt="" p
	shift
	for p in "$@"; do
		filt="${filt:+$filt or }port $p"
	done
	CAPTURE_FILE="$WORK/$name.pcap"
	CAPTURE_PID=
	if [ "$(id -u)" -ne 0 ]; then
		log "capture skipped: capturing on lo needs root"
		CAPTURE_FILE=
		return 1
	fi
	if command -v tcpdump >/dev/null 2>&1; then
		CAPTURE_TOOL=tcpdump
		start_bg "$name-capture" tcpdump -i lo -n -U -s 128 -Z root \
		    -B 16384 -w "$CAPTURE_FILE" "($filt)"
		CAPTURE_PID=$LAST_PID
		wait_for_log "$WORK/$name-capture.log" 'listening on' 10 \
		    "$CAPTURE_PID" || fail "tcpdump did not start capturing"
	elif command -v tshark >/dev/null 2>&1; then
		CAPTURE_TOOL=tshark
		start_bg "$name-capture" tshark -i lo -n -F pcap -s 128 \
		    -w "$CAPTURE_FILE" -f "($filt)"
		CAPTURE_PID=$LAST_PID
		wait_for_log "$WORK/$name-capture.log" 'Capturing on' 15 \
		    "$CAPTURE_PID" || fail "tshark did not start capturing"
	else
		log "capture skipped: neither tcpdump nor tshark installed"
		CAPTURE_FILE=
		return 1
	fi
	log "capturing lo ($filt) with $CAPTURE_TOOL into $CAPTURE_FILE"
	return 0
}

# capture_port_stats PCAP PORT: print "TCP_PKTS TCP_PAYLOAD_PKTS
# TCP_PAYLOAD_FROM_PORT UDP_PKTS UDP_BYTES_FROM_PORT" for IPv4 packets
# with PORT as source or destination port: TCP packets, those carrying
# payload, those carrying payload sent from PORT, UDP packets, and the
# UDP payload bytes (from the UDP header's length, so a short snap
# length is fine) sent from PORT.  Reads classic pcap, Ethernet or
# Linux SLL.
capture_port_stats() {
	"$PY" "$TOP_SRCDIR/tests/interop/pcap_stats.py" port "$1" "$2"
}
