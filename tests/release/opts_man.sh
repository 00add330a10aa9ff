# The option table (thorrent --help, made from src/cmd/opts.c) and the
# OPTIONS section of thorrent(1) name the same options: an option added
# to one and not the other fails here.  Runs the built program.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
page=$top/man/thorrent.1
prog=${THORRENT:-./thorrent}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/thorrent-opts-man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp XDG_CONFIG_HOME=$tmp/config XDG_STATE_HOME=$tmp/state

LC_ALL=C "$prog" --help 2>&1 |
    sed -n 's/^  \(-h, \)\{0,1\}--\([a-z0-9-]*\).*/\2/p' | sort -u >"$tmp/help"
# The man page's OPTIONS section up to the subcommands' own options:
# every "\-\-name" at the start of a .B/.BI/.BR line.
sed -n '/^\.SH OPTIONS/,/^\.SS /p' "$page" |
    grep -E '^\.(B|BI|BR) ' | grep -o '\\-\\-[a-z0-9\\-]*' |
    sed 's/\\-/-/g; s/^--//' | sort -u >"$tmp/man"
if [ ! -s "$tmp/help" ] || [ ! -s "$tmp/man" ]; then
	echo "opts_man: found no options (help: $(wc -l <"$tmp/help")," \
	    "man: $(wc -l <"$tmp/man"))" >&2
	exit 1
fi
if ! diff -u "$tmp/help" "$tmp/man" >"$tmp/diff"; then
	echo "opts_man: --help (-) and thorrent(1) OPTIONS (+) differ:" >&2
	cat "$tmp/diff" >&2
	exit 1
fi
echo "opts_man: $(wc -l <"$tmp/help") options, the same in --help and" \
    "thorrent(1)"
