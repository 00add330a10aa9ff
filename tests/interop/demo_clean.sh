# thorrent demo as the README's first command runs it in CI: without a
# terminal.  It must choose the plain lines, finish by itself with
# status 0 and the final "complete:" line, and leave nothing behind:
# its temporary directory gone, and nothing in the (private) home, where
# its seeders once left their resume records.

. "$(dirname "$0")/lib.sh"
require_subject

(cd "$WORK" && timeout 300 "$THORRENT" demo) >"$WORK/demo.out" \
    2>"$WORK/demo.err" </dev/null
rc=$?
[ "$rc" -eq 0 ] || fail "demo exited $rc: $(tail -n 3 "$WORK/demo.err")"
grep -Eq '^thorrent: +[0-9]+\.[0-9]% ' "$WORK/demo.err" ||
	fail "no plain progress line"
grep -q '^thorrent: complete: ' "$WORK/demo.err" ||
	fail "no final 'complete:' line"
grep -q "$(printf '\033')" "$WORK/demo.out" "$WORK/demo.err" &&
	fail "terminal escapes without a terminal"
tmp=$(sed -n 's|^demo: making a [0-9]*-file payload in \(.*\)/seed$|\1|p' \
    "$WORK/demo.out")
[ -n "$tmp" ] || fail "the demo did not say where it made its payload"
[ ! -e "$tmp" ] || fail "the demo left $tmp behind"
left=$(find "$HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$XDG_DATA_HOME" \
    "$XDG_CACHE_HOME" -mindepth 1 2>/dev/null | head -n 5)
[ -z "$left" ] || fail "the demo wrote to the home: $left"
log "demo: $(grep '^thorrent: complete: ' "$WORK/demo.err"); nothing left"
exit 0
