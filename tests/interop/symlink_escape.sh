# Symlinks planted in the download directory must not lead thorrent out
# of it: for the torrent's top-level directory, a directory inside it, a
# file inside it, and a single-file torrent's file, each pointing outside,
# thorrent must refuse with exit status 1 and a line naming the symlink,
# and must leave what lies outside untouched.  An honest seeder is given
# as --peer, so a thorrent that went ahead would really write data.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject
[ "$DOWNLOADER" = thorrent ] || skip "checks thorrent's own refusal"

make_payload "$WORK/seed/payload"
make_torrent "$WORK/seed/payload" "$WORK/multi.torrent" \
    "http://127.0.0.1:$(free_port)/announce"
mkdir -p "$WORK/single"
head -c 300000 /dev/urandom >"$WORK/single/file.bin"
make_torrent "$WORK/single/file.bin" "$WORK/single.torrent" \
    "http://127.0.0.1:$(free_port)/announce"

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/multi.torrent" "$WORK/seed" "$LT_PORT"
wait_for_log "$WORK/lt.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder (multi) not ready"
LT2_PORT=$(free_port)
start_lt_seeder lt2 "$WORK/single.torrent" "$WORK/single" "$LT2_PORT"
wait_for_log "$WORK/lt2.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder (single) not ready"

OUT="$WORK/outside"

# snapshot: a listing with sizes and hashes of everything outside.
snapshot() {
	(cd "$OUT" && find . -printf '%y %p %s\n' | sort &&
	    find . -type f -exec sha1sum {} + | sort)
}

# attempt NAME TORRENT PORT: thorrent must refuse within 30 s.
attempt() {
	local name=$1 t=$2 port=$3 before after
	before=$(snapshot)
	start_bg "$name" "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --log info \
	    --path "$WORK/$name" --port "$(free_port)" --seed-ratio 0 \
	    --peer "127.0.0.1:$port" "$t"
	wait_pid "$LAST_PID" 30
	[ "$WAIT_RC" -eq 124 ] && fail "$name: still running after 30 s"
	[ "$WAIT_RC" -eq 1 ] || fail "$name: exit status $WAIT_RC, wanted 1"
	grep -Eiq 'symlink|refus' "$WORK/$name.log" ||
		fail "$name: no line about the symlink"
	after=$(snapshot)
	[ "$before" = "$after" ] || fail "$name: wrote outside the download dir"
	log "$name: refused: $(grep -Ei 'symlink|refus' "$WORK/$name.log" |
	    head -n 1)"
}

# 1. The torrent's top-level directory is a symlink to an empty dir.
mkdir -p "$OUT/top" "$WORK/top_dir"
ln -s "$OUT/top" "$WORK/top_dir/payload"
attempt top_dir "$WORK/multi.torrent" "$LT_PORT"

# 2. A directory inside it is a symlink.
mkdir -p "$OUT/sub" "$WORK/sub_dir/payload"
ln -s "$OUT/sub" "$WORK/sub_dir/payload/sub"
attempt sub_dir "$WORK/multi.torrent" "$LT_PORT"

# 3. A file inside it is a symlink to a file outside.
head -c 1000001 /dev/urandom >"$OUT/victim_alpha.bin"
mkdir -p "$WORK/inner_file/payload"
ln -s "$OUT/victim_alpha.bin" "$WORK/inner_file/payload/alpha.bin"
attempt inner_file "$WORK/multi.torrent" "$LT_PORT"

# 4. A single-file torrent's file is a symlink to a file outside (with
# the same size, so nothing about it looks wrong but the link).
head -c 300000 /dev/urandom >"$OUT/victim_single.bin"
mkdir -p "$WORK/single_file"
ln -s "$OUT/victim_single.bin" "$WORK/single_file/file.bin"
attempt single_file "$WORK/single.torrent" "$LT2_PORT"

# 5. A dangling symlink for the single file: open(O_CREAT) would follow
# it and create the target outside.
mkdir -p "$WORK/dangling"
ln -s "$OUT/created_by_thorrent.bin" "$WORK/dangling/file.bin"
attempt dangling "$WORK/single.torrent" "$LT2_PORT"
[ -e "$OUT/created_by_thorrent.bin" ] &&
	fail "dangling: created a file outside"

# The same layout without links downloads fine (the refusals above were
# about the links, not the torrents).
run_subject_download plain "$WORK/single.torrent" "$WORK/plain" 60 \
    "$LT2_PORT"
cmp "$WORK/single/file.bin" "$WORK/plain/file.bin" ||
	fail "plain download differs"
exit 0
