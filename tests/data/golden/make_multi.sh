#!/bin/sh
# Regenerate multi.torrent and its expected "info" output.  Only needed
# when the fixture itself must change: the output is committed, and the
# golden test checks thorrent against it.  Usage (from the source tree):
#   THORRENT=/path/to/thorrent sh tests/data/golden/make_multi.sh [OUTDIR]
# OUTDIR defaults to this directory; tests/interop/info_golden.sh passes a
# scratch one to check that "create" still makes the same bytes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
# The golden files hold the untranslated strings.
LC_ALL=C.UTF-8 LANGUAGE=
export LC_ALL LANGUAGE
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Fixed contents and a fixed date make the torrent byte-for-byte
# reproducible.  The names exercise UTF-8 (kept) and the comment an
# ANSI escape (shown as \x1b).
mkdir -p "$tmp/golden-multi/docs" "$tmp/golden-multi/data"
printf 'thorrent golden fixture\n' > "$tmp/golden-multi/README"
printf 'caf\303\251\n' > "$tmp/golden-multi/docs/caf$(printf '\303\251').txt"
printf '\346\274\242\345\255\227\n' > "$tmp/golden-multi/docs/$(printf '\346\274\242\345\255\227')"
: > "$tmp/golden-multi/docs/empty"
i=0
while [ $i -lt 2500 ]; do
	printf 'line %05d of the golden payload\n' $i
	i=$((i + 1))
done > "$tmp/golden-multi/data/lines.txt"

esc=$(printf '\033')
SOURCE_DATE_EPOCH=1700000000 "$THORRENT" create \
    -o "$out/multi.torrent" \
    -t http://127.0.0.1:6969/announce \
    -t udp://127.0.0.1:6969 \
    --piece-size 16K \
    --comment "golden ${esc}[31mfixture${esc}[0m" \
    "$tmp/golden-multi" >/dev/null
"$THORRENT" info "$out/multi.torrent" > "$out/multi.info.txt"
"$THORRENT" info --json "$out/multi.torrent" > "$out/multi.info.json"
