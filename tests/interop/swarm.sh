#!/bin/bash
# thorrent swarm: one seeder and eight leechers on loopback must all
# complete with data identical to the payload, and leave a summary, one
# log and one JSON Lines trace per peer, and a merged trace, all of whose
# lines parse.
. "$(dirname "$0")/lib.sh"

require_subject
[ "$DOWNLOADER" = thorrent ] || skip "swarm runs thorrent only"

OUT="$WORK/out"
start=$(date +%s)
"$THORRENT" swarm --seeders 1 --leechers 8 --size 8M --piece-size 32K \
    --max-up 4M --time-limit 240 --out "$OUT" >"$WORK/swarm.log" 2>&1
rc=$?
cat "$WORK/swarm.log" >&2
[ "$rc" -eq 0 ] || fail "thorrent swarm exited with status $rc"
log "swarm finished in $(($(date +%s) - start))s"

[ -s "$OUT/summary.txt" ] || fail "no summary.txt"
grep -Eq '^leechers complete +8 / 8, data verified 8 / 8$' \
    "$OUT/summary.txt" || fail "summary does not report 8 verified leechers"
grep -Eq '^completion \(s\) +min [0-9.]+ +median [0-9.]+ +max [0-9.]+$' \
    "$OUT/summary.txt" || fail "summary has no completion line"
grep -Eq '^piece spread \(s\) +[0-9.]+$' "$OUT/summary.txt" ||
	fail "summary has no piece spread line"
# The seeders' exit lines give their upload counts (their logs).
grep -Eq '^seeder upload \(logs\) +[0-9]+ bytes' "$OUT/summary.txt" ||
	fail "summary has no seeder upload from the logs"
grep -q 'leechers complete' "$WORK/swarm.log" ||
	fail "summary not printed on stdout"
[ "$(grep -c ' verified$' "$OUT/summary.txt")" -eq 8 ] ||
	fail "not every leecher's data is marked verified"

# One trace and one log per peer, named after the peer.
for p in seed0 leech0 leech1 leech2 leech3 leech4 leech5 leech6 leech7; do
	[ -s "$OUT/peer-$p.jsonl" ] || fail "no trace for $p"
	[ -s "$OUT/peer-$p.log" ] || fail "no log for $p"
done
n=$(ls "$OUT"/peer-*.jsonl | wc -l)
[ "$n" -eq 9 ] || fail "expected 9 traces, found $n"
[ -s "$OUT/merged.jsonl" ] || fail "no merged trace"
for p in leech0 leech1 leech2 leech3 leech4 leech5 leech6 leech7; do
	grep -qx 'thorrent: info: complete' "$OUT/peer-$p.log" ||
		fail "$p never logged complete"
done

# Every line of every trace is a JSON object with a numeric t and an ev;
# the merged trace is in time order and every leecher verified every
# piece in it.
"$PY" - "$OUT" <<'EOF' || fail "trace check failed"
import glob, json, os, sys
out = sys.argv[1]
for path in sorted(glob.glob(os.path.join(out, "*.jsonl"))):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                ev = json.loads(line)
            except ValueError:
                sys.exit("%s:%d: not JSON: %r" % (path, n, line[:80]))
            if not isinstance(ev, dict) or not isinstance(ev.get("t"), int) \
                    or not isinstance(ev.get("ev"), str):
                sys.exit("%s:%d: no t or ev" % (path, n))
npieces = 8 * 1024 * 1024 // 32768
last, got = None, {}
with open(os.path.join(out, "merged.jsonl")) as f:
    for line in f:
        ev = json.loads(line)
        if last is not None and ev["t"] < last:
            sys.exit("merged trace out of order at t=%d" % ev["t"])
        last = ev["t"]
        if ev["ev"] == "hash_ok" and ev["src"].startswith("leech"):
            got.setdefault(ev["src"], set()).add(ev["index"])
for i in range(8):
    have = len(got.get("leech%d" % i, ()))
    if have != npieces:
        sys.exit("leech%d verified %d of %d pieces" % (i, have, npieces))
EOF

# Every child has an address of its own, in a /24 of its own, and a seed
# of its own; the seeder saw the leechers at those addresses.
"$PY" - "$OUT" <<'EOF' || fail "peers.tsv check failed"
import hashlib, os, sys
out = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "peers.tsv"))
        if not l.startswith("#")]
head, rows = rows[0], rows[1:]
col = {n: i for i, n in enumerate(head)}
for c in ("addr", "seed", "gap_us"):
    if c not in col:
        sys.exit("peers.tsv has no %s column" % c)
addrs = [r[col["addr"]] for r in rows]
nets = {a.rsplit(".", 1)[0] for a in addrs}
if len(nets) != len(rows) or not all(a.startswith("127.") for a in addrs):
    sys.exit("addresses not one per /24 on loopback: %r" % addrs)
for r in rows:
    want = "0x" + hashlib.sha1(("1/" + r[col["name"]]).encode()).hexdigest()[:16]
    if r[col["seed"]] != want:
        sys.exit("%s runs with seed %s, not %s" % (r[0], r[col["seed"]], want))
    if r[col["role"]] == "leecher" and int(r[col["gap_us"]]) < 0:
        sys.exit("%s has no gap" % r[0])
seen = open(os.path.join(out, "peer-seed0.log")).read()
for r in rows[1:]:
    if "peer %s:" % r[col["addr"]] not in seen:
        sys.exit("the seeder never saw %s at %s" % (r[0], r[col["addr"]]))
EOF
grep -Eq '^longest gap \(s\) +[0-9.]+ \(leech[0-9]+, from [0-9.]+ s\)$' \
    "$OUT/summary.txt" || fail "summary has no longest gap line"

# The figures script reads the folder.
"$PY" "$TOP_SRCDIR/tools/swarm-figures" "$OUT" >"$WORK/figures.txt" 2>&1 ||
	fail "swarm-figures failed: $(cat "$WORK/figures.txt")"
cat "$WORK/figures.txt" >&2
grep -Eq "^$OUT +rarest +1 +[0-9]+% leech[0-9]+ of [0-9]+ " \
    "$WORK/figures.txt" || fail "swarm-figures printed no row for $OUT"

if [ -x "$TOP_SRCDIR/tools/plot-trace" ] && command -v gnuplot >/dev/null; then
	"$TOP_SRCDIR/tools/plot-trace" "$OUT" >&2 || fail "plot-trace failed"
	[ -s "$OUT/completion.png" ] && [ -s "$OUT/availability.png" ] ||
		fail "plot-trace made no PNG"
else
	log "gnuplot not installed; plot-trace not tried"
fi

# The temporary payload and the leechers' copies are gone.
grep -Eo '/tmp/thorrent-swarm\.[A-Za-z0-9]+' "$WORK/swarm.log" | sort -u |
while read -r d; do
	[ ! -e "$d" ] || fail "temporary directory $d left behind"
done || exit 1
log "swarm: 8 leechers verified; traces parse"
exit 0
