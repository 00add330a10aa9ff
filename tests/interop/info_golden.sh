#!/bin/bash
# Golden test for "thorrent info" and "thorrent create": the committed
# fixture tests/data/golden/multi.torrent must describe itself exactly as
# the committed multi.info.txt and multi.info.json say, byte for byte
# (that includes the escaped ANSI sequence in its comment), and
# make_multi.sh must still create the very same torrent.  Also checks the
# exit statuses of a bad file (1) and of bad usage (2), the one-line
# refusal of a duplicate key in the info dictionary (golden), and the
# warning for an announce-list of 100,000 URLs.
# Exit 0 pass, 1 fail.  No network.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
THORRENT=${THORRENT:-$PWD/thorrent}
GOLDEN=$TOP_SRCDIR/tests/data/golden
WORK=$(mktemp -d "${TMPDIR:-/tmp}/thorrent-info-golden.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
# A home of its own, as every test has (lib.sh does the same).
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/xdg-config"
export XDG_STATE_HOME="$WORK/xdg-state"
mkdir -p "$HOME"

status=0
fail() {
	echo "info_golden: FAIL: $*" >&2
	status=1
}

# A fixed locale: the golden files hold the untranslated strings.
export LC_ALL=C.UTF-8 LANGUAGE=

"$THORRENT" info "$GOLDEN/multi.torrent" >"$WORK/out.txt" 2>"$WORK/err" ||
	fail "info exited $?: $(cat "$WORK/err")"
diff -u "$GOLDEN/multi.info.txt" "$WORK/out.txt" >&2 ||
	fail "text output differs"

"$THORRENT" info --json "$GOLDEN/multi.torrent" >"$WORK/out.json" \
    2>"$WORK/err" || fail "info --json exited $?: $(cat "$WORK/err")"
diff -u "$GOLDEN/multi.info.json" "$WORK/out.json" >&2 ||
	fail "JSON output differs"

# Options may also follow the file name.
"$THORRENT" info "$GOLDEN/multi.torrent" --json >"$WORK/out2.json" \
    2>/dev/null && cmp -s "$GOLDEN/multi.info.json" "$WORK/out2.json" ||
	fail "info FILE --json differs"

# create: same recipe, same bytes (piece hashing across file
# boundaries, key order, tiers, the escaped comment stored raw).
mkdir -p "$WORK/regen"
if THORRENT=$THORRENT sh "$GOLDEN/make_multi.sh" "$WORK/regen" \
    2>"$WORK/err"; then
	for f in multi.torrent multi.info.txt multi.info.json; do
		cmp "$GOLDEN/$f" "$WORK/regen/$f" >&2 ||
			fail "create made a different $f"
	done
else
	fail "make_multi.sh failed: $(cat "$WORK/err")"
fi

# A truncated torrent: exit 1 and exactly one line on stderr.
head -c 100 "$GOLDEN/multi.torrent" >"$WORK/cut.torrent"
"$THORRENT" info "$WORK/cut.torrent" >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 1 ] || fail "truncated torrent: exit $rc, want 1"
[ "$(wc -l <"$WORK/err")" -eq 1 ] ||
	fail "truncated torrent: want one line on stderr, got: $(cat "$WORK/err")"
grep -q "^thorrent: .*cut.torrent: " "$WORK/err" ||
	fail "truncated torrent: message does not name the file"
[ -s "$WORK/out" ] && fail "truncated torrent: something on stdout"

# The same key twice in the info dictionary (two "name"s): two clients
# could read two different torrents under one info-hash.  Exit 1 and
# exactly the one line of the golden file, naming the second key's byte.
(cd "$TOP_SRCDIR/tests/data" &&
    "$THORRENT" info info_duplicate_key.torrent) >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 1 ] || fail "duplicate key: exit $rc, want 1"
diff -u "$GOLDEN/info_duplicate_key.err" "$WORK/err" >&2 ||
	fail "duplicate key: stderr differs from the golden line"
[ -s "$WORK/out" ] && fail "duplicate key: something on stdout"

# An announce-list of 100,000 URLs is cut to the first 256 with one
# warning, not refused.
/usr/bin/python3 - "$WORK/many.torrent" <<'PYEOF' ||
import sys
def s(b):
    return str(len(b)).encode() + b":" + b
tiers = b"".join(b"l" + s(b"http://127.0.0.1:%d/announce" % (1 + i % 60000))
                 + b"e" for i in range(100000))
info = (b"d" + s(b"length") + b"i10e" + s(b"name") + s(b"a") +
        s(b"piece length") + b"i16384e" + s(b"pieces") + s(b"\0" * 20) + b"e")
open(sys.argv[1], "wb").write(b"d" + s(b"announce-list") + b"l" + tiers +
                              b"e" + s(b"info") + info + b"e")
PYEOF
	fail "cannot write the 100,000-tracker torrent"
"$THORRENT" info "$WORK/many.torrent" >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 0 ] || fail "100,000 trackers: exit $rc, want 0: $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/err")" -eq 1 ] &&
    grep -q "many.torrent: warning: 99744 trackers past the first 256 ignored$" \
    "$WORK/err" ||
	fail "100,000 trackers: want one warning line, got: $(cat "$WORK/err")"
n=$(grep -c '^  tier [0-9]*: http://' "$WORK/out")
[ "$n" -eq 256 ] || fail "100,000 trackers: $n tiers listed, want 256"

# Bad usage: exit 2.
"$THORRENT" info >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "no argument: exit $rc, want 2"
"$THORRENT" info --no-such-option "$GOLDEN/multi.torrent" >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"

[ $status -eq 0 ] && echo "info_golden: ok"
exit $status
