# The structure of src/ (tools/layers-check): no call cycle between
# files, no function over 100 lines, no .c file over 900 (but the uTP
# and DHT engines), no I/O in the core, descriptors only in the
# transport layer, phases changed only through their doors, nothing in
# src/cmd writing session, torrent or peer fields.  Exit 77 (skip) when
# ctags or python3 is missing; ./bootstrap installs both.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
for tool in ctags python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "layers: $tool not installed (./bootstrap installs it)" >&2
		exit 77
	fi
done
exec python3 "$top/tools/layers-check" --top 10 "$top/src"
