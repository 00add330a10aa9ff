# What a newcomer types wrong, and what thorrent says: one line naming
# the program as "thorrent" (not its path) and the thing that was wrong,
# with the usage status 2, or a clear answer with status 0.
#
# - an unknown option, an option without its value;
# - two torrent files (one line, not the whole help);
# - a missing torrent file (its name once, not twice);
# - demo --help (0, like the other subcommands), demo with an argument;
# - create -t with a tracker URL no client can announce to;
# - --help shows create's whole usage, --port 0 and the note log level.

. "$(dirname "$0")/lib.sh"
require_subject

# run NAME WANT_STATUS ARGS...: stdout to NAME.out, stderr to NAME.err.
run() {
	local name=$1 want=$2 rc
	shift 2
	(cd "$WORK" && "$THORRENT" "$@") >"$WORK/$name.out" \
	    2>"$WORK/$name.err" </dev/null
	rc=$?
	[ "$rc" -eq "$want" ] ||
		fail "$name: exit status $rc, want $want: $(cat "$WORK/$name.err")"
}

# lines NAME N: stderr has exactly N lines.
lines() {
	local n
	n=$(wc -l <"$WORK/$1.err")
	[ "$n" -eq "$2" ] || fail "$1: $n lines on stderr, want $2: $(cat "$WORK/$1.err")"
}

has() {
	grep -qF -- "$2" "$WORK/$1.$3" ||
		fail "$1: no '$2' in std$3: $(cat "$WORK/$1.$3")"
}

run bogus 2 --bogus
lines bogus 2
has bogus "thorrent: unknown option '--bogus'" err
grep -q "$THORRENT" "$WORK/bogus.err" && fail "bogus: the binary's path shown"
run noval 2 --port
has noval "thorrent: option '--port' needs a value" err
grep -q "$THORRENT" "$WORK/noval.err" && fail "noval: the binary's path shown"

: >"$WORK/a.torrent"
: >"$WORK/b.torrent"
run two 2 --no-tui a.torrent b.torrent
lines two 2
has two "thorrent: one torrent at a time, not both 'a.torrent' and 'b.torrent'" err
grep -q 'usage:' "$WORK/two.err" && fail "two: the whole help was printed"

run missing 1 --no-tui --no-dht --no-upnp --no-natpmp --no-lsd nosuch.torrent
lines missing 1
[ "$(grep -o 'nosuch\.torrent' "$WORK/missing.err" | wc -l)" -eq 1 ] ||
	fail "missing: the name is not said exactly once: $(cat "$WORK/missing.err")"

run demohelp 0 demo --help
has demohelp "usage: thorrent demo" out
run demoarg 2 demo now
has demoarg "thorrent: demo: takes no arguments, not 'now'" err

mkdir -p "$WORK/payload"
echo hello >"$WORK/payload/f.txt"
run ftp 2 create -t ftp://tracker.example.org/announce -o "$WORK/x.torrent" \
    "$WORK/payload"
lines ftp 1
has ftp "a tracker is an http://, https:// or udp:// URL, not 'ftp://tracker.example.org/announce'" err
[ ! -e "$WORK/x.torrent" ] || fail "ftp: a torrent was written"
run udp 0 create -t udp://tracker.example.org:6969 -o "$WORK/u.torrent" \
    "$WORK/payload"

run help 0 --help
has help "thorrent create [-o OUT] [-t URL]... [-w URL]... [--private]" out
has help "[--piece-size N] [--comment TEXT] PATH" out
has help "0: any free port" out
has help "error, warn, note, info or debug (default note" out
log "option errors, two torrents, a missing file, demo --help, create -t ftp://, --help: as they should be"
exit 0
