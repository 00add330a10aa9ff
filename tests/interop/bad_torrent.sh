# Malformed .torrent files: thorrent must refuse each with exit status 1,
# exactly one line on stderr, and nothing created in the download dir;
# `thorrent info` must refuse them too.  A missing file likewise.
. "$(dirname "$0")/lib.sh"
require_libtorrent
require_subject

B="$WORK/bad"
mkdir -p "$B"
"$PY" - "$B" <<'PYEOF' || fail "could not write the bad torrents"
import os, sys
import libtorrent as lt

out = sys.argv[1]

def enc(x):
    return lt.bencode(x)

def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

H = b"\x11" * 20
def single(length, plen, npieces, name=b"file.bin", extra=None):
    info = {b"name": name, b"piece length": plen, b"length": length,
            b"pieces": H * npieces}
    if extra:
        info.update(extra)
    return {b"announce": b"http://127.0.0.1:1/announce", b"info": info}

def multi(files, plen, npieces, name=b"dir"):
    return {b"announce": b"http://127.0.0.1:1/announce",
            b"info": {b"name": name, b"piece length": plen,
                      b"pieces": H * npieces,
                      b"files": [{b"length": l, b"path": p}
                                 for l, p in files]}}

good = enc(single(100000, 32768, 4))
write("good.torrent", good)
write("truncated.torrent", good[: len(good) // 2])
write("truncated_end.torrent", good[:-1])
write("not_bencode.torrent", b"this is not a torrent file\n")
write("empty.torrent", b"")
write("dotdot_path.torrent",
      enc(multi([(1000, [b"ok.bin"]), (1000, [b"..", b"evil.bin"])],
                32768, 1)))
write("dotdot_nested.torrent",
      enc(multi([(1000, [b"sub", b"..", b"..", b"evil.bin"])], 32768, 1)))
write("dotdot_name.torrent", enc(single(1000, 32768, 1, name=b"..")))
# pieces not a multiple of 20 bytes
t = single(100000, 32768, 4)
t[b"info"][b"pieces"] = H * 3 + H[:19]
write("pieces_19.torrent", enc(t))
t = single(100000, 32768, 4)
t[b"info"][b"pieces"] = H * 4 + b"\x00"
write("pieces_81.torrent", enc(t))
# wrong number of hashes for the length
write("pieces_count.torrent", enc(single(100000, 32768, 1)))
write("piece_length_0.torrent", enc(single(100000, 0, 4)))
write("negative_length.torrent", enc(single(-5, 32768, 1)))
write("no_info.torrent", enc({b"announce": b"http://127.0.0.1:1/announce"}))
PYEOF

# Self-check: libtorrent must reject the structurally broken ones, so a
# pass below cannot come from a torrent that is in fact valid.
for f in truncated truncated_end not_bencode empty pieces_19 pieces_81 \
    pieces_count piece_length_0 negative_length no_info; do
	if "$PY" -c 'import sys, libtorrent as lt
lt.torrent_info(sys.argv[1])' "$B/$f.torrent" 2>/dev/null; then
		fail "harness: libtorrent accepts $f.torrent"
	fi
done
"$PY" -c 'import sys, libtorrent as lt
lt.torrent_info(sys.argv[1])' "$B/good.torrent" ||
	fail "harness: libtorrent rejects good.torrent"

if [ "$DOWNLOADER" != thorrent ]; then
	log "DOWNLOADER=$DOWNLOADER: bad torrents generated and checked only"
	exit 0
fi

"$THORRENT" info "$B/good.torrent" >"$WORK/good_info.log" 2>&1 ||
	fail "thorrent info rejects a valid torrent"

nfail=0
n=0
check_bad() {
	local t=$1 name d err rc lines
	name=$(basename "$t" .torrent)
	d="$WORK/dl_$name"
	err="$WORK/err_$name.txt"
	n=$((n + 1))
	timeout 20 "$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --path "$d" "$t" >/dev/null 2>"$err"
	rc=$?
	lines=$(wc -l <"$err")
	if [ "$rc" -ne 1 ]; then
		log "$name: exit status $rc, want 1"
		nfail=$((nfail + 1))
	elif [ "$lines" -ne 1 ] || [ "$(wc -c <"$err")" -le 1 ]; then
		log "$name: $lines stderr lines, want exactly 1:"
		head -n 5 "$err" >&2
		nfail=$((nfail + 1))
	elif [ -e "$d" ] && [ -n "$(ls -A "$d")" ]; then
		log "$name: created files in $d: $(ls -A "$d" | head -n 3)"
		nfail=$((nfail + 1))
	else
		log "$name: ok ($(cat "$err"))"
	fi
	timeout 20 "$THORRENT" info "$t" >/dev/null 2>"$WORK/info_$name.txt"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		log "info $name: exit status $rc, want 1"
		nfail=$((nfail + 1))
	fi
}

for t in "$B"/*.torrent; do
	[ "$(basename "$t")" = good.torrent ] && continue
	check_bad "$t"
done
check_bad "$B/does_not_exist.torrent"

[ "$nfail" -eq 0 ] || fail "$nfail check(s) failed over $n bad inputs"
log "all $n bad inputs rejected"
exit 0
