# The configuration file, $XDG_CONFIG_HOME/thorrent/config: its values
# apply, the command line overrides them, and a bad line (unknown key,
# bad value) stops thorrent with status 1 and one line naming the file
# and the line number.  No network: the data is complete on disk, so
# each run checks it, reaches the seed ratio 0 and exits.
. "$(dirname "$0")/lib.sh"
require_subject

CFG="$WORK/xdg/thorrent/config"
DATA="$WORK/data"
mkdir -p "$WORK/xdg/thorrent" "$DATA" "$WORK/state" || fail "mkdir"
head -c 100000 /dev/urandom >"$DATA/f.bin"
"$THORRENT" create -o "$WORK/t.torrent" "$DATA/f.bin" >/dev/null ||
	fail "thorrent create"
export XDG_CONFIG_HOME="$WORK/xdg"

# run NAME ARGS...: thorrent with the test's usual switches; output in
# $WORK/NAME.log, status in RC.
run() {
	local name=$1
	shift
	timeout 60 "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd \
	    --no-lsd --state-dir "$WORK/state" "$@" >"$WORK/$name.log" 2>&1
	RC=$?
}

# one_line NAME PATTERN: the log is exactly one line and matches.
one_line() {
	local n
	n=$(wc -l <"$WORK/$1.log")
	[ "$n" -eq 1 ] || fail "$1: $n lines on stderr, want 1"
	grep -q -- "$2" "$WORK/$1.log" ||
		fail "$1: '$2' not in: $(cat "$WORK/$1.log")"
}

P1=$(free_port)
P2=$(free_port)

# 1. Values apply: the log level, the port and the seed ratio (0: exit
#    once complete) all come from the file.
cat >"$CFG" <<CFGEOF
# thorrent configuration for config_file.sh
log = info

port = $P1
seed-ratio = "0"
path = $DATA
CFGEOF
run apply "$WORK/t.torrent"
[ "$RC" -eq 0 ] || fail "apply: status $RC"
grep -q "listening on port $P1\$" "$WORK/apply.log" ||
	fail "apply: the port from the file was not used"
grep -q "info: complete" "$WORK/apply.log" ||
	fail "apply: log = info did not apply"
grep -q "4 options read from $CFG" "$WORK/apply.log" ||
	fail "apply: no log line naming the file"
log "values from the file apply"

# 2. The command line overrides the file.
run override --port "$P2" --log warn "$WORK/t.torrent"
[ "$RC" -eq 0 ] || fail "override: status $RC"
grep -q "listening on port" "$WORK/override.log" &&
	fail "override: --log warn did not override log = info"
run override2 --port "$P2" "$WORK/t.torrent"
grep -q "listening on port $P2\$" "$WORK/override2.log" ||
	fail "override: --port did not override port = $P1"
log "the command line overrides the file"

# 3. A bad value: status 1, one line, file and line number.
printf 'log = info\n\nmax-peers = abc\n' >"$CFG"
run badvalue --path "$DATA" "$WORK/t.torrent"
[ "$RC" -eq 1 ] || fail "badvalue: status $RC, want 1"
one_line badvalue "$CFG:3: --max-peers wants a number"

# 4. An unknown key likewise.
printf '# comment\nmax-pears = 3\n' >"$CFG"
run unknown --path "$DATA" "$WORK/t.torrent"
[ "$RC" -eq 1 ] || fail "unknown: status $RC, want 1"
one_line unknown "$CFG:2: unknown option 'max-pears'"

# 5. A switch with a value that is not a boolean.
printf 'no-dht = perhaps\n' >"$CFG"
run badflag --path "$DATA" "$WORK/t.torrent"
[ "$RC" -eq 1 ] || fail "badflag: status $RC, want 1"
one_line badflag "$CFG:1: "

# 6. --no-config skips the broken file; --help works despite it.
run noconfig --no-config --seed-ratio 0 --path "$DATA" "$WORK/t.torrent"
[ "$RC" -eq 0 ] || fail "noconfig: status $RC"
"$THORRENT" --help >/dev/null 2>&1 || fail "--help fails with a bad config"

# 7. --config FILE reads that file; a missing one is an error.
printf 'seed-ratio = 0\nport = %s\nlog = info\n' "$P2" >"$WORK/other.conf"
run explicit --config "$WORK/other.conf" --path "$DATA" "$WORK/t.torrent"
[ "$RC" -eq 0 ] || fail "explicit: status $RC"
grep -q "listening on port $P2\$" "$WORK/explicit.log" ||
	fail "explicit: --config FILE not read"
run missing --config "$WORK/nonexistent.conf" "$WORK/t.torrent"
[ "$RC" -eq 1 ] || fail "missing: status $RC, want 1"
one_line missing "nonexistent.conf"

# 8. No file at all is fine, and a bad command-line value is still bad
#    usage (status 2), not a configuration error.
rm -f "$CFG"
run nofile --seed-ratio 0 --path "$DATA" "$WORK/t.torrent"
[ "$RC" -eq 0 ] || fail "nofile: status $RC"
run badarg --max-peers abc "$WORK/t.torrent"
[ "$RC" -eq 2 ] || fail "badarg: status $RC, want 2"
log "PASS"
