# The terminal type decides, before anything is created: on a real
# terminal (tmux) thorrent gets TERM=dumb, which cannot address the
# cursor, and then a TERM that this system does not know.
#
# - TERM=dumb: one line says why, then plain progress lines; the
#   download completes, ends with the final "complete:" line, and every
#   line on the screen is a readable "thorrent: ..." line.
# - TERM=no-such-terminal-xyz: one line naming it with the hint to
#   --no-tui, exit status 1, and neither the download folder nor the
#   state directory created.
#
# Environment: THORRENT (binary), TOP_SRCDIR (source dir).

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP_SRCDIR/tests/interop/lib.sh"
. "$TOP_SRCDIR/tests/tui/tui_lib.sh"
require_subject

# Plain lines may be longer than the window: read them joined.
CAP_JOIN=1
OFF=(--no-config --no-dht --no-upnp --no-natpmp --no-lsd)
make_payload "$WORK/seed/p"
"$THORRENT" create -o "$WORK/t.torrent" --piece-size 64K "$WORK/seed/p" \
    >"$WORK/create.log" 2>&1 || fail "thorrent create"
SEED_PORT=$(free_port)
start_bg seed "$THORRENT" --no-tui "${OFF[@]}" --path "$WORK/seed" \
    --state-dir "$WORK/seedstate" --port "$SEED_PORT" --seed-ratio -1 \
    --max-up 1M --log info "$WORK/t.torrent"
wait_for_log "$WORK/seed.log" 'resume: ' 30 "$LAST_PID" ||
	fail "the seeder did not check its data"

# --- TERM=dumb: plain lines --------------------------------------------------

tui_start dumb dumb "${OFF[@]}" --path "$WORK/dl" --port "$(free_port)" \
    --peer "127.0.0.1:$SEED_PORT" --seed-ratio 0 "$WORK/t.torrent"
wait_screen 'tui-runner: thorrent exited' 60 any ||
	tui_fail "TERM=dumb: the download did not end within 60 s"
tui_wait_exit dumb 5
snap dumb
[ "$TUI_RC" = 0 ] || tui_fail "TERM=dumb: exit status $TUI_RC"
body=$(printf '%s\n' "$LAST_CAP" | sed '/tui-runner:/,$d' | grep -v '^$')
first=$(printf '%s\n' "$body" | head -n 1)
case "$first" in
"thorrent: TERM=dumb cannot move the cursor: plain progress lines"*) ;;
*) tui_fail "TERM=dumb: the first line does not say why: $first" ;;
esac
[ "$(printf '%s\n' "$body" | grep -c 'TERM=dumb')" -eq 1 ] ||
	tui_fail "TERM=dumb: said more than once"
printf '%s\n' "$body" | grep -Eq '^thorrent: +[0-9]+\.[0-9]% ' ||
	tui_fail "TERM=dumb: no progress line"
printf '%s\n' "$body" | grep -q '^thorrent: complete: ' ||
	tui_fail "TERM=dumb: no final 'complete:' line"
bad=$(printf '%s\n' "$body" | grep -v '^thorrent: ' | head -n 3)
[ -z "$bad" ] || tui_fail "TERM=dumb: unreadable lines: $bad"
compare_trees "$WORK/seed/p" "$WORK/dl/p"
log "TERM=dumb: $(printf '%s\n' "$body" | wc -l) plain lines, download complete"

# --- an unknown TERM: one line, nothing touched -----------------------------

before=$(find "$XDG_STATE_HOME" "$WORK/dl" 2>/dev/null | sort | md5sum)
tui_start unknown no-such-terminal-xyz "${OFF[@]}" --path "$WORK/dl-unknown" \
    --state-dir "$WORK/state-unknown" --port "$(free_port)" \
    --peer "127.0.0.1:$SEED_PORT" "$WORK/t.torrent"
wait_screen 'tui-runner: thorrent exited' 15 any ||
	tui_fail "unknown TERM: thorrent did not exit"
tui_wait_exit unknown 5
snap unknown
[ "$TUI_RC" = 1 ] || tui_fail "unknown TERM: exit status $TUI_RC, want 1"
body=$(printf '%s\n' "$LAST_CAP" | sed '/tui-runner:/,$d' | grep -v '^$')
[ "$(printf '%s\n' "$body" | wc -l)" -eq 1 ] ||
	tui_fail "unknown TERM: more than one line: $body"
printf '%s\n' "$body" | grep -q 'no-such-terminal-xyz.*--no-tui' ||
	tui_fail "unknown TERM: no hint to --no-tui: $body"
[ ! -e "$WORK/dl-unknown" ] ||
	fail "unknown TERM: the download folder was created"
[ ! -e "$WORK/state-unknown" ] ||
	fail "unknown TERM: the state directory was created"
after=$(find "$XDG_STATE_HOME" "$WORK/dl" 2>/dev/null | sort | md5sum)
[ "$before" = "$after" ] || fail "unknown TERM: files changed"
log "unknown TERM: exit 1 with one line: $body"
exit 0
