#!/bin/sh
# After "make install": the installed program runs and reports its
# version, man renders the installed page, and the German catalogue is
# found under LANGUAGE=de.  make installcheck runs this (and so does make
# distcheck, which then checks that make uninstall leaves nothing):
#
#   install.sh DESTDIR PREFIX BINDIR MANDIR LOCALEDIR
#
# Run with no arguments, it does the whole round itself: configure with a
# temporary --prefix in a temporary build dir, make install, the checks
# above, make uninstall, and checks that no file is left in the prefix.
set -u

fail() {
	echo "install.sh: FAIL: $*" >&2
	exit 1
}

if [ $# -eq 0 ]; then
	top=$(cd "$(dirname "$0")/../.." && pwd)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/thorrent-install.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
	# The installed program runs with a home of its own.
	export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/xdg-config"
	export XDG_STATE_HOME="$tmp/xdg-state"
	mkdir -p "$HOME"
	mkdir "$tmp/build" "$tmp/prefix"
	(cd "$tmp/build" &&
	    "$top/configure" -q --prefix="$tmp/prefix" --disable-interop &&
	    make -s -j"${JOBS:-2}" >/dev/null &&
	    make -s install >/dev/null) || fail "configure, make or install"
	(cd "$tmp/build" && make -s installcheck) || exit 1
	(cd "$tmp/build" && make -s uninstall >/dev/null) ||
		fail "make uninstall"
	left=$(find "$tmp/prefix" -type f)
	[ -z "$left" ] || fail "left after make uninstall: $left"
	echo "install.sh: PASS (install, run, man, German, uninstall)"
	exit 0
fi

[ $# -eq 5 ] || fail "usage: install.sh DESTDIR PREFIX BINDIR MANDIR LOCALEDIR"
# The installed program runs with a home of its own, here too.
home=$(mktemp -d "${TMPDIR:-/tmp}/thorrent-install-home.XXXXXX") || exit 1
trap 'rm -rf "$home"' EXIT
export HOME="$home" XDG_CONFIG_HOME="$home/.config"
export XDG_STATE_HOME="$home/.local/state"
dest=$1 bindir=$3 mandir=$4 localedir=$5
bin="$dest$bindir/thorrent"
page="$dest$mandir/man1/thorrent.1"
mo="$dest$localedir/de/LC_MESSAGES/thorrent.mo"

[ -x "$bin" ] || fail "$bin not installed"
"$bin" --version | grep -q '^thorrent [0-9]' ||
	fail "$bin --version does not print the version"
"$bin" --version | grep -q 'libcurl' ||
	fail "$bin --version does not name libcurl"
[ -f "$page" ] || fail "$page not installed"
[ -f "$mo" ] || fail "$mo not installed"
if command -v man >/dev/null 2>&1; then
	MANWIDTH=80 man -l "$page" 2>/dev/null | col -b |
	    grep -q 'CONFIGURATION' || fail "man -l $page does not render"
else
	echo "install.sh: man not installed, page not rendered" >&2
fi
# The binary looks for catalogues where it was configured to be
# installed, which DESTDIR moves: only a plain install can show German.
# C.UTF-8 is a real locale on Debian; LANGUAGE is ignored under C.
if [ -z "$dest" ]; then
	LC_ALL= LANG=C.UTF-8 LANGUAGE=de "$bin" --help | grep -q 'Aufruf:' ||
		fail "LANGUAGE=de $bin --help is not in German"
fi
echo "install.sh: installed thorrent runs, man page renders, German found"
