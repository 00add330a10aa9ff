# Shared helpers for the tmux tests of the terminal view.  Sourced after
# tests/interop/lib.sh (free ports, start_bg, stop_pid, $WORK, a private
# HOME), never run.
#
# Each test drives one detached tmux session, $SESS, on a private server
# socket ($SOCK, named after the test's PID) so that it never meets the
# user's tmux or another test's; the server is killed by that socket and
# the socket file removed at exit, then lib.sh's cleanup stops the rest.
# The screen is read with capture-pane into $LAST_CAP.

# tmux is a test dependency (./bootstrap installs it); install it when we
# can, skip only when it cannot be had.
if ! command -v tmux >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		log "tmux missing, installing it"
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install \
		    -y -qq --no-install-recommends tmux >"$WORK/apt.out" 2>&1 ||
			true
	fi
	command -v tmux >/dev/null 2>&1 ||
		skip "tmux not installed and cannot be installed"
fi

SOCK="thorrent-$TEST_NAME-$$"
SESS=tui
LAST_CAP="(no capture yet)"
TUI_PID=
SOCK_PATH=
unset TMUX TMUX_PANE

tm() {
	LC_ALL=C.UTF-8 tmux -L "$SOCK" -f /dev/null "$@"
}

# The tmux server is no child of ours: kill it by its private socket,
# then let the interop harness stop the seeders and keep or remove $WORK.
tui_cleanup() {
	local rc=$?
	tm kill-server >/dev/null 2>&1
	# kill-server leaves the socket file behind.
	[ -n "$SOCK_PATH" ] && rm -f "$SOCK_PATH"
	[ -n "$TUI_PID" ] && stop_pid "$TUI_PID"
	(exit "$rc")
	_cleanup
}
trap tui_cleanup EXIT

# cap: read the visible pane into LAST_CAP (also kept in $WORK for a
# post-mortem).  CAP_JOIN=1 joins the lines the terminal wrapped, for
# tests of plain lines.
cap() {
	if [ "${CAP_JOIN:-0}" = 1 ]; then
		LAST_CAP=$(tm capture-pane -p -J -t "$SESS" 2>&1 |
		    sed 's/ *$//')
	else
		LAST_CAP=$(tm capture-pane -p -t "$SESS" 2>&1)
	fi
	printf '%s\n' "$LAST_CAP" >"$WORK/screen.txt"
}

# snap NAME: keep the last capture as snap-NAME.txt in $WORK, and in
# $TUI_SNAPDIR when set (to look at the screens of a passing run).
snap() {
	printf '%s\n' "$LAST_CAP" >"$WORK/snap-$1.txt"
	if [ -n "${TUI_SNAPDIR:-}" ]; then
		mkdir -p "$TUI_SNAPDIR" &&
			cp "$WORK/snap-$1.txt" "$TUI_SNAPDIR/"
	fi
}

tui_fail() {
	{
		echo "===== last screen capture ($(tm display -p -t "$SESS" \
		    '#{window_width}x#{window_height}' 2>/dev/null)) ====="
		printf '%s\n' "$LAST_CAP"
		echo "===== end of capture ====="
	} >&2
	fail "$*"
}

tui_alive() {
	[ -n "$TUI_PID" ] && kill -0 "$TUI_PID" 2>/dev/null
}

# wait_screen ERE TIMEOUT_S [any]: poll the screen (case-insensitive)
# until it matches; 1 on timeout, or early when thorrent is gone unless
# the third argument is "any".
wait_screen() {
	local re=$1 t=$2 any=${3:-} i
	for i in $(seq 1 $((t * 5))); do
		cap
		printf '%s\n' "$LAST_CAP" | grep -Eqi -- "$re" && return 0
		[ -n "$any" ] || tui_alive || { cap; return 1; }
		sleep 0.2
	done
	return 1
}

# tui_start NAME ENV_TERM ARGS...: run thorrent ARGS in a new detached
# session (120x40) with TERM=ENV_TERM and a UTF-8 locale; its PID goes to
# $WORK/NAME.pid (exec keeps it) and TUI_PID, its exit status to
# $WORK/NAME.exit as "EXIT=N", and the shell then prints
# "tui-runner: thorrent exited with status N" and lingers, so the last
# screen can be read.  The session is named NAME and becomes $SESS; the
# previous one is killed.
tui_start() {
	local name=$1 term=$2 a q="" old
	shift 2
	for a in "$THORRENT" "$@"; do
		q="$q $(printf '%q' "$a")"
	done
	cat >"$WORK/run-$name.sh" <<RUNEOF
export TERM=$term LANG=\${TUI_LANG:-C.UTF-8}
sh -c 'echo \$\$ >"\$0"; shift; exec "\$@"' "$WORK/$name.pid" _ $q
rc=\$?
echo "EXIT=\$rc" >"$WORK/$name.exit"
echo "tui-runner: thorrent exited with status \$rc"
sleep 60
RUNEOF
	rm -f "$WORK/$name.pid" "$WORK/$name.exit"
	# A session per run, named after it; the last one goes once the new
	# one stands (killing it first could take the server with it).
	old=$SESS
	SESS=$name
	tm new-session -d -s "$SESS" -x 120 -y 40 "bash $WORK/run-$name.sh" ||
		fail "tmux new-session failed"
	[ "$old" = "$SESS" ] || tm kill-session -t "$old" >/dev/null 2>&1
	SOCK_PATH=$(tm display -p -t "$SESS" '#{socket_path}')
	wait_for_file "$WORK/$name.pid" 10 || fail "thorrent did not start in tmux"
	TUI_PID=$(cat "$WORK/$name.pid")
	log "$name: thorrent running as pid $TUI_PID in tmux -L $SOCK"
}

# tui_wait_exit NAME TIMEOUT_S: wait for the run to end; sets TUI_RC.
tui_wait_exit() {
	local name=$1 t=$2 i
	for i in $(seq 1 $((t * 10))); do
		[ -f "$WORK/$name.exit" ] && break
		sleep 0.1
	done
	[ -f "$WORK/$name.exit" ] || tui_fail "$name: still running after ${t}s"
	TUI_RC=$(sed -n 's/^EXIT=//p' "$WORK/$name.exit")
	TUI_PID=
}
