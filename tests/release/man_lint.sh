# thorrent(1) must be clean: no message from mandoc -Tlint (which checks
# style too) and no warning from groff -ww with the man macros.  Exit 77
# (skip) when a checker is missing; ./bootstrap installs both.
set -u
page=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/man/thorrent.1
status=0
for tool in mandoc groff; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "man_lint: $tool not installed (./bootstrap installs it)" >&2
		exit 77
	fi
done
out=$(mandoc -Tlint "$page" 2>&1)
if [ -n "$out" ]; then
	printf 'man_lint: mandoc -Tlint:\n%s\n' "$out" >&2
	status=1
fi
out=$(groff -ww -man -z "$page" 2>&1)
if [ -n "$out" ]; then
	printf 'man_lint: groff -ww:\n%s\n' "$out" >&2
	status=1
fi
[ "$status" -eq 0 ] && echo "man_lint: $page is clean"
exit "$status"
