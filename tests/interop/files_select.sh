# File selection against a real seeder: libtorrent seeds four files;
# thorrent downloads only files 1 and 3 (--files 1,3).  The selected
# files must be byte-identical; an unselected file may exist only
# because a piece it shares with a selected file was written, and then
# holds zeros everywhere outside such shared pieces.  The progress lines
# count the selection's bytes (its pieces), never the whole torrent's.
# A selection naming
# a file the torrent lacks is refused with exit status 1, one line
# naming --files, and nothing written.
. "$(dirname "$0")/lib.sh"
require_libtorrent
[ "$DOWNLOADER" = thorrent ] || skip "--files is thorrent's option"
require_subject

# Sizes are not multiples of the 32 KiB piece size, so pieces straddle
# every file boundary.  libtorrent chooses the file order, so the check
# below takes order, offsets and piece size from the torrent itself.
P="$WORK/seed/payload"
mkdir -p "$P" || fail "mkdir $P"
head -c 100001 /dev/urandom >"$P/a_one.bin"
head -c 70000 /dev/urandom >"$P/b_two.bin"
head -c 150003 /dev/urandom >"$P/c_three.bin"
head -c 40000 /dev/urandom >"$P/d_four.bin"
make_torrent "$P" "$WORK/t.torrent" "http://127.0.0.1:9/announce"

LT_PORT=$(free_port)
start_lt_seeder lt "$WORK/t.torrent" "$WORK/seed" "$LT_PORT"
wait_for_log "$WORK/lt.log" '^ready' 60 "$LAST_PID" ||
	fail "libtorrent seeder not ready"

SUBJECT_OPTS=(--files 1,3)
run_subject_download dl "$WORK/t.torrent" "$WORK/dl" 120 "$LT_PORT"

"$PY" - "$WORK/t.torrent" "$WORK/seed" "$WORK/dl" 0,2 <<'PYEOF' ||
import os, sys
import libtorrent as lt

tor, seed, dl, sel = sys.argv[1:5]
sel = {int(x) for x in sel.split(",")}
ti = lt.torrent_info(tor)
fs = ti.files()
plen = ti.piece_length()
nfiles = fs.num_files()
if nfiles != 4:
    sys.exit("torrent has %d files, not 4" % nfiles)

def span(i):
    """Pieces file i overlaps (none when empty)."""
    off, size = fs.file_offset(i), fs.file_size(i)
    if size == 0:
        return set()
    return set(range(off // plen, (off + size - 1) // plen + 1))

wanted = set()
for i in sel:
    wanted |= span(i)
bad = []
for i in range(nfiles):
    rel = fs.file_path(i)
    a, b = os.path.join(seed, rel), os.path.join(dl, rel)
    with open(a, "rb") as f:
        orig = f.read()
    if i in sel:
        if not os.path.isfile(b):
            bad.append("selected %s missing" % rel)
            continue
        with open(b, "rb") as f:
            if f.read() != orig:
                bad.append("selected %s differs" % rel)
        print("file %d %s: identical" % (i + 1, rel))
        continue
    if not os.path.exists(b):
        print("file %d %s: absent" % (i + 1, rel))
        continue
    shared = span(i) & wanted
    if not shared:
        bad.append("unselected %s exists but shares no piece" % rel)
        continue
    with open(b, "rb") as f:
        got = f.read()
    if len(got) > len(orig):
        bad.append("unselected %s is %d bytes, longer than %d" %
                   (rel, len(got), len(orig)))
        continue
    got = got + b"\0" * (len(orig) - len(got))
    off = fs.file_offset(i)
    for k in range(len(orig)):
        inside = (off + k) // plen in shared
        if inside and got[k] != orig[k]:
            bad.append("%s byte %d of a shared piece is wrong" % (rel, k))
            break
        if not inside and got[k] != 0:
            bad.append("%s byte %d outside the shared pieces %s is "
                       "not zero" % (rel, k, sorted(shared)))
            break
    print("file %d %s: present, shares pieces %s, zero elsewhere" %
          (i + 1, rel, sorted(shared)))
if bad:
    sys.exit("; ".join(bad))
PYEOF
	fail "selected download is wrong"

# Line mode: "NN.N% DONE/TOTAL" where TOTAL is the selection's pieces.
"$PY" - "$WORK/t.torrent" 0,2 "$WORK/dl.log" <<'PYEOF' ||
import re, sys
import libtorrent as lt

tor, sel, log = sys.argv[1:4]
sel = {int(x) for x in sel.split(",")}
ti = lt.torrent_info(tor)
fs, plen = ti.files(), ti.piece_length()
want = set()
for i in sel:
    off, size = fs.file_offset(i), fs.file_size(i)
    want |= set(range(off // plen, (off + size - 1) // plen + 1))
wanted = sum(ti.piece_size(p) for p in want)

def human(v):
    # As the view and the line mode print sizes (ui/bar.c).
    if v < 1024:
        return "%u B" % v
    d, units = v / 1024.0, ["KiB", "MiB", "GiB", "TiB"]
    u = 0
    while d >= 1023.95 and u + 1 < len(units):
        d /= 1024.0
        u += 1
    return "%.1f %s" % (d, units[u])

totals = re.findall(r"^thorrent: +[0-9.]+% [^/]+/([0-9.]+ [KMGT]?i?B) ",
                    open(log).read(), re.M)
if not totals:
    sys.exit("no progress line in %s" % log)
if set(totals) != {human(wanted)}:
    sys.exit("progress totals %s, want the selection's %s (the torrent "
             "is %s)" % (sorted(set(totals)), human(wanted),
                         human(ti.total_size())))
print("progress lines count %s of %s" % (human(wanted),
                                         human(ti.total_size())))
PYEOF
	fail "line mode counts more than the selection"

# An index past the last file: refused, one line, nothing written.
mkdir -p "$WORK/dl2"
"$THORRENT" --no-tui --no-dht --no-upnp --no-natpmp --no-lsd --path "$WORK/dl2" --port "$(free_port)" \
    --seed-ratio 0 --peer "127.0.0.1:$LT_PORT" --files 9 \
    "$WORK/t.torrent" >"$WORK/bad.out" 2>"$WORK/bad.err" </dev/null
rc=$?
[ "$rc" -eq 1 ] || fail "--files 9: exit status $rc, want 1"
[ "$(wc -l <"$WORK/bad.err")" -eq 1 ] ||
	fail "--files 9: want one line on stderr: $(cat "$WORK/bad.err")"
grep -q -- '--files' "$WORK/bad.err" ||
	fail "--files 9: message does not name --files: $(cat "$WORK/bad.err")"
[ -s "$WORK/bad.out" ] && fail "--files 9: wrote to stdout"
[ -z "$(ls -A "$WORK/dl2")" ] ||
	fail "--files 9: wrote $(ls -A "$WORK/dl2")"
log "--files 9 refused: $(cat "$WORK/bad.err")"
exit 0
