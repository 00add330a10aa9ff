# German from the build tree, as the README promises on a fresh Debian
# 12 (whose only locales are C, C.utf8 and POSIX): LANGUAGE=de with
# LANG=C.UTF-8 translates the binary in the build folder, which uses the
# catalogues make built beside it (locale/de/LC_MESSAGES), and
# --version says so.  A copy of the binary elsewhere does not look
# there: it names the configured (installed) directory.
# tests/release/install.sh checks the installed catalogue.

. "$(dirname "$0")/lib.sh"
require_subject

"$THORRENT" --version >"$WORK/version.txt" 2>&1 || fail "--version fails"
grep -q '^features:.* NLS' "$WORK/version.txt" ||
	skip "built without NLS (--disable-nls)"
builddir=$(cd "$(dirname "$THORRENT")" && pwd -P)
[ -f "$builddir/locale/de/LC_MESSAGES/thorrent.mo" ] ||
	fail "make did not build $builddir/locale/de/LC_MESSAGES/thorrent.mo"
grep -qx "catalogues: $builddir/locale (the build tree's)" \
    "$WORK/version.txt" ||
	fail "--version does not name the build tree's catalogues: $(grep catalogues "$WORK/version.txt")"

de() {
	env -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 LANGUAGE=de "$@"
}
de "$THORRENT" --help >"$WORK/help.de" 2>&1
grep -q '^Aufruf: thorrent' "$WORK/help.de" ||
	fail "LANGUAGE=de LANG=C.UTF-8: --help is not German: $(head -n 1 "$WORK/help.de")"
de "$THORRENT" --log loud x.torrent >"$WORK/err.de" 2>&1
grep -q 'unbekannte Protokollstufe' "$WORK/err.de" ||
	fail "an error line is not German: $(cat "$WORK/err.de")"
de "$THORRENT" --version | grep -q "^Kataloge: $builddir/locale" ||
	fail "--version is not German or names no catalogue"
log "build tree: German help and errors, catalogues in $builddir/locale"

# A copy elsewhere (as an installed one would be) ignores the build tree.
mkdir -p "$WORK/bin"
cp "$THORRENT" "$WORK/bin/thorrent"
"$WORK/bin/thorrent" --version >"$WORK/copy.txt" 2>&1
line=$(grep '^catalogues: ' "$WORK/copy.txt")
case "$line" in
"catalogues: $builddir/locale"*|*"build tree"*)
	fail "a copy outside the build tree uses its catalogues: $line" ;;
"catalogues: /"*) ;;
*) fail "the copy's --version names no catalogue directory: $line" ;;
esac
log "a copy elsewhere: $line"
exit 0
