# End-to-end test of the terminal view, driven through tmux.
#
# thorrent downloads in a detached tmux session (120x40) from two peers:
# a rate-limited python3-libtorrent seeder and a thorrent seeder that
# lacks the biggest file, so that the last part can only come slowly from
# libtorrent and the download lasts a few seconds whatever thorrent's own
# speed on loopback.  Reading the screen with capture-pane, the test
# checks the header, rising progress, the peers pane, the piece map,
# resizing (including below the minimum size), the help overlay, idle CPU
# once seeding, and that 'q' exits 0 with the terminal given back.  It
# also checks the line mode when stdout is not a terminal.
#
# Everything runs on 127.0.0.1 with a private tmux socket; every wait is
# bounded; everything started is stopped by PID (and the tmux server by
# its socket) at exit.
#
# Environment: THORRENT (binary), TOP_SRCDIR (source dir).
# Run: timeout 600 bash tests/tui/tui_e2e.sh

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP_SRCDIR/tests/interop/lib.sh"
. "$TOP_SRCDIR/tests/tui/tui_lib.sh"
require_libtorrent
require_subject

NAME=tui_e2e_payload

# header_pct: the first "NN.N%" in the header lines, empty if none.
header_pct() {
	printf '%s\n' "$LAST_CAP" | head -n 3 |
	    grep -Eo '[0-9]{1,3}\.[0-9]%' | head -n 1 | tr -d '%'
}

# cpu_ticks PID: utime + stime in clock ticks (fields 14 and 15; the
# command name in field 2 may hold spaces, so split after the last ')').
cpu_ticks() {
	local line rest
	read -r line <"/proc/$1/stat" || return 1
	rest=${line##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo $((${12} + ${13}))
}

resize_to() {
	local got
	tm resize-window -t "$SESS" -x "$1" -y "$2" ||
		tui_fail "tmux cannot resize to $1x$2"
	got=$(tm display -p -t "$SESS" '#{window_width}x#{window_height}')
	[ "$got" = "$1x$2" ] || tui_fail "window is $got, wanted $1x$2"
}

# --- payload, torrent and seeders ----------------------------------------

# ~8 MiB in 5 files (one empty); sub/delta.bin is the big one.
make_payload "$WORK/orig/$NAME" 4718592
mkdir -p "$WORK/seed1" "$WORK/seed2" "$WORK/dl" "$WORK/dl2"
cp -a "$WORK/orig/$NAME" "$WORK/seed1/$NAME"
cp -a "$WORK/orig/$NAME" "$WORK/seed2/$NAME"
# The thorrent seeder lacks delta.bin: those pieces can only come from
# the rate-limited libtorrent seeder, which keeps the download going for
# a few seconds however fast thorrent-to-thorrent is on loopback.
rm -f "$WORK/seed2/$NAME/sub/delta.bin"
# No tracker answers here: peers are given with --peer.
make_torrent "$WORK/orig/$NAME" "$WORK/t.torrent" \
    "http://127.0.0.1:1/announce" 65536

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed1" "$LT_PORT" \
    --upload-limit 1048576
LT_PID=$LAST_PID
TH_PORT=$(free_port)
start_bg thseed "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --path "$WORK/seed2" --port "$TH_PORT" \
    --seed-ratio -1 --log info "$WORK/t.torrent"
TH_PID=$LAST_PID
wait_for_log "$WORK/lt.log" '^ready' 60 "$LT_PID" ||
	fail "libtorrent seeder not ready"
wait_for_log "$WORK/thseed.log" 'listening on port' 30 "$TH_PID" ||
	fail "thorrent seeder did not start"
grep -q "listening on port $TH_PORT" "$WORK/thseed.log" ||
	fail "thorrent seeder is not on port $TH_PORT"

# --- the view in tmux -------------------------------------------------------

# The runner records thorrent's PID (exec keeps it), then its exit status,
# and echoes a line the test looks for once the terminal is back.
cat >"$WORK/run_tui.sh" <<EOF
export TERM=xterm-256color LANG=C.UTF-8
sh -c 'echo \$\$ >"\$0"; shift; exec "\$@"' "$WORK/tui.pid" _ \
    "$THORRENT" --no-dht --no-upnp --no-natpmp --no-lsd --path "$WORK/dl" --port "$(free_port)" \
    --peer 127.0.0.1:$LT_PORT --peer 127.0.0.1:$TH_PORT \
    --seed-ratio -1 --log info "$WORK/t.torrent"
rc=\$?
echo "EXIT=\$rc" >"$WORK/exit.txt"
echo "tui-runner: thorrent exited with status \$rc"
sleep 30
EOF
tm new-session -d -s "$SESS" -x 120 -y 40 "bash $WORK/run_tui.sh" ||
	fail "tmux new-session failed"
SOCK_PATH=$(tm display -p -t "$SESS" '#{socket_path}')
wait_for_file "$WORK/tui.pid" 10 || fail "thorrent did not start in tmux"
TUI_PID=$(cat "$WORK/tui.pid")
log "thorrent view running as pid $TUI_PID in tmux -L $SOCK"
T0=$(date +%s)

wait_screen "$NAME" 15 || tui_fail "the torrent name never appeared"
tm send-keys -t "$SESS" 1

# Watch the download: progress must rise, and while peers are connected
# the peers pane must show both seeders by address and client name.
first=
last=
rose=0
seen_lt=0
seen_th=0
seen_addr=0
for i in $(seq 1 300); do
	cap
	tui_alive || tui_fail "thorrent died during the download"
	pct=$(header_pct)
	if [ -n "$pct" ]; then
		[ -n "$first" ] || { first=$pct; log "first progress: $pct%"; }
		if [ -n "$last" ] && awk -v a="$last" -v b="$pct" \
		    'BEGIN { exit !(b > a) }'; then
			rose=1
		fi
		last=$pct
	fi
	# A peer's row: its address and its client name.
	rows=$(printf '%s\n' "$LAST_CAP" | sed -n '4,$p' |
	    grep '127\.0\.0\.1')
	[ -n "$rows" ] && { seen_addr=1; snap peers; }
	printf '%s\n' "$rows" | grep -qi 'libtorrent' && seen_lt=1
	printf '%s\n' "$rows" | grep -qi 'thorrent' && seen_th=1
	if [ "$pct" = "100.0" ]; then
		break
	fi
	[ $(($(date +%s) - T0)) -lt 60 ] || break
	sleep 0.2
done
log "progress went from ${first:-?}% to ${last:-?}%"
[ -n "$first" ] || tui_fail "no NN.N% in the header"
[ "$rose" -eq 1 ] || tui_fail "progress never rose (${first}% .. ${last}%)"
[ "$last" = "100.0" ] || tui_fail "download not complete after 60 s"
[ "$seen_addr" -eq 1 ] || tui_fail "peers pane never listed 127.0.0.1"
[ "$seen_lt" -eq 1 ] || tui_fail "peers pane never named libtorrent"
[ "$seen_th" -eq 1 ] || tui_fail "peers pane never named thorrent"
log "peers pane showed 127.0.0.1, libtorrent and thorrent"

# The data, byte for byte (bounded wait: the last write may trail the
# screen by a loop pass).
for i in $(seq 1 25); do
	diff -r "$WORK/orig/$NAME" "$WORK/dl/$NAME" >/dev/null 2>&1 && break
	sleep 0.2
done
compare_trees "$WORK/orig/$NAME" "$WORK/dl/$NAME"

# Piece map: complete, so the body must be full of had cells.
tm send-keys -t "$SESS" 2
had=0
for i in $(seq 1 25); do
	cap
	had=$(printf '%s\n' "$LAST_CAP" | sed -n '4,39p' |
	    grep -o -e '█' -e '#' | wc -l)
	[ "$had" -ge 16 ] && break
	sleep 0.2
done
snap pieces
[ "$had" -ge 16 ] || tui_fail "piece map shows no had cells (found $had)"
log "piece map shows $had had cells"

# --- resizing ----------------------------------------------------------------

resize_to 50 15
sleep 1
cap
snap 50x15
tui_alive || tui_fail "thorrent died when shrunk to 50x15"
resize_to 120 40
wait_screen "$NAME|100\.0%" 5 ||
	tui_fail "no header after resizing back to 120x40"
printf '%s\n' "$LAST_CAP" | head -n 3 | grep -Eq "$NAME|100\.0%" ||
	tui_fail "header not at the top after resizing back"
resize_to 30 8
wait_screen 'too small' 5 || tui_fail "no 'too small' notice at 30x8"
snap 30x8
tui_alive || tui_fail "thorrent died at 30x8"
resize_to 120 40
wait_screen "$NAME" 5 || tui_fail "no header after 30x8 -> 120x40"
log "resizing survived (50x15, 30x8 'too small', back to 120x40)"

# --- help overlay ------------------------------------------------------------

tm send-keys -t "$SESS" 1
sleep 0.5
cap
before=$(printf '%s\n' "$LAST_CAP" | grep -Eic 'quit|pause')
tm send-keys -t "$SESS" '?'
wait_screen 'quit' 5 || tui_fail "help overlay: no 'quit'"
wait_screen 'pause' 5 || tui_fail "help overlay: no 'pause'"
snap help
during=$(printf '%s\n' "$LAST_CAP" | grep -Eic 'quit|pause')
[ "$during" -gt "$before" ] ||
	tui_fail "help overlay adds no key lines ($before -> $during)"
tm send-keys -t "$SESS" x
after=$during
for i in $(seq 1 25); do
	sleep 0.2
	cap
	after=$(printf '%s\n' "$LAST_CAP" | grep -Eic 'quit|pause')
	[ "$after" -lt "$during" ] && break
done
[ "$after" -lt "$during" ] || tui_fail "help overlay did not close on a key"
tui_alive || tui_fail "thorrent exited on the key that closes help"
log "help overlay listed quit and pause, closed on a key"

# --- limits: 'd' halves the download limit, the header shows it -----------------

printf '%s\n' "$LAST_CAP" | head -n 3 | grep -q 'down .*(unlimited)' ||
	tui_fail "the header does not say the download is unlimited"
tm send-keys -t "$SESS" d
wait_screen 'down [^ ]+ [^ ]+ \(limit 1\.0 MiB/s\)' 5 ||
	tui_fail "after 'd' the header does not show the 1 MiB/s limit"
tm send-keys -t "$SESS" d
wait_screen 'down [^ ]+ [^ ]+ \(limit 512\.0 KiB/s\)' 5 ||
	tui_fail "after a second 'd' the header does not show 512 KiB/s"
printf '%s\n' "$LAST_CAP" | head -n 3 | grep -Eq 'up [^ ]+ [^ ]+( \(unlimited\))?  ' ||
	tui_fail "the upload limit changed with 'd'"
snap limit
# The log pane shows the change at the default level.
tm send-keys -t "$SESS" 4
wait_screen 'download limit set to 512\.0 KiB/s' 5 ||
	tui_fail "the log pane does not show the limit change"
tm send-keys -t "$SESS" D D 1
wait_screen 'down [^ ]+ [^ ]+ \(limit 2\.0 MiB/s\)' 5 ||
	tui_fail "'D' twice does not double the limit twice"
log "limits: 'd' and 'D' change the header's download limit and are logged"

# --- line mode: stdout not a terminal ------------------------------------------

"$THORRENT" --no-dht --no-upnp --no-natpmp --no-lsd --path "$WORK/dl2" --port "$(free_port)" \
    --peer "127.0.0.1:$LT_PORT" --peer "127.0.0.1:$TH_PORT" \
    --seed-ratio 0 --log warn "$WORK/t.torrent" \
    >"$WORK/line.out" 2>"$WORK/line.log" </dev/null &
LINE_PID=$!
PIDS+=("$LINE_PID")
wait_pid "$LINE_PID" 60
[ "$WAIT_RC" -eq 124 ] && fail "line-mode download did not finish in 60 s"
[ "$WAIT_RC" -eq 0 ] || fail "line-mode download exited $WAIT_RC"
grep -Eq '^thorrent: +[0-9]+\.[0-9]%' "$WORK/line.log" ||
	fail "line mode printed no 'thorrent: NN.N%' lines on stderr"
if grep -q "$(printf '\033')" "$WORK/line.out" "$WORK/line.log"; then
	fail "line mode wrote terminal escapes"
fi
compare_trees "$WORK/orig/$NAME" "$WORK/dl2/$NAME"
log "line mode: $(grep -Ec '^thorrent: +[0-9]+\.[0-9]%' "$WORK/line.log") progress lines"

# --- idle CPU while seeding ------------------------------------------------------

# Nothing to move: the seeders go away, the view stays at 100%.
stop_pid "$LT_PID"
stop_pid "$TH_PID"
sleep 2
tui_alive || tui_fail "thorrent died when the seeders left"
clk=$(getconf CLK_TCK)
t1=$(cpu_ticks "$TUI_PID") || tui_fail "cannot read /proc/$TUI_PID/stat"
s1=$(date +%s.%N)
sleep 10
t2=$(cpu_ticks "$TUI_PID") || tui_fail "thorrent died while idle"
s2=$(date +%s.%N)
cpu=$(awk -v d=$((t2 - t1)) -v c="$clk" -v a="$s1" -v b="$s2" \
    'BEGIN { printf "%.2f", 100 * d / c / (b - a) }')
log "idle CPU while seeding: ${cpu}% of one core ($((t2 - t1)) ticks)"
awk -v x="$cpu" 'BEGIN { exit !(x < 2.0) }' ||
	tui_fail "idle CPU ${cpu}% >= 2% of one core"

# --- quit ----------------------------------------------------------------------

tm send-keys -t "$SESS" q
for i in $(seq 1 100); do
	tui_alive || break
	sleep 0.1
done
tui_alive && tui_fail "thorrent still running 10 s after 'q'"
wait_for_file "$WORK/exit.txt" 5 || tui_fail "no exit status recorded"
st=$(cat "$WORK/exit.txt")
[ "$st" = "EXIT=0" ] || tui_fail "thorrent quit with $st"
wait_screen 'tui-runner: thorrent exited with status 0' 5 any ||
	tui_fail "the shell's line is not on the screen after quitting"
snap exited
alt=$(tm display -p -t "$SESS" '#{alternate_on}')
[ "$alt" = "0" ] || tui_fail "alternate screen still on after exit ($alt)"
TUI_PID=
log "q: exit status 0, terminal restored, $(($(date +%s) - T0)) s in tmux"
exit 0
