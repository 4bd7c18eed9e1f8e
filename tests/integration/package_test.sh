#!/bin/sh
# package_test.sh BUILD_DIR CPACK CC — `make package` end to end: CPack
# builds the three Debian packages from this build tree into a temp dir;
# their names, dependencies (dpkg-deb -I) and contents (dpkg-deb -c) are
# checked, with no file in two packages; then all three are unpacked into
# a scratch root (dpkg -x) and used as a user would: examples/daemon.c is
# compiled against the unpacked header and library through the packaged
# crashwatch.pc, crashes with its report in a temp spool (exit by SIGSEGV,
# exactly one report), and the packaged crashwatch reads that report and
# opens its manual page. Exits 77 (skipped) without dpkg-deb.
set -u
build=$1 cpack=$2 cc=$3
src=${CW_SOURCE_DIR:?}
command -v dpkg-deb >/dev/null 2>&1 || { echo "skip: no dpkg-deb"; exit 77; }
command -v dpkg-shlibdeps >/dev/null 2>&1 || { echo "skip: no dpkg-shlibdeps (dpkg-dev)"; exit 77; }
work=$(mktemp -d "${CW_TEST_TMP:-/tmp}/package-XXXXXX")
fail=0
bad() { echo "FAIL: $*"; fail=1; }
die() { echo "FAIL: $*"; echo "work dir kept: $work"; exit 1; }

ver=$(sed -n 's/^#define CW_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
      "$src/include/crashwatch.h" | paste -sd.)
major=${ver%%.*}
( cd "$build" && "$cpack" -G DEB -B "$work/out" ) >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; die "cpack failed"; }
lib=$(ls "$work"/out/libcrashwatch${major}_*.deb 2>/dev/null)
dev=$(ls "$work"/out/libcrashwatch-dev_*.deb 2>/dev/null)
cli=$(ls "$work"/out/crashwatch_*.deb 2>/dev/null)
[ -f "$lib" ] && [ -f "$dev" ] && [ -f "$cli" ] ||
  die "want libcrashwatch$major, libcrashwatch-dev and crashwatch .debs, got: $(ls "$work/out")"
echo "packages: $(cd "$work/out" && ls ./*.deb | tr '\n' ' ')"

field() { dpkg-deb -f "$1" "$2"; }
for deb in "$lib" "$dev" "$cli"; do
  [ "$(field "$deb" Version)" = "$ver" ] || bad "$deb: Version $(field "$deb" Version), want $ver"
  [ "$(field "$deb" Architecture)" = "$(dpkg --print-architecture)" ] ||
    bad "$deb: Architecture $(field "$deb" Architecture)"
  [ -n "$(field "$deb" Description)" ] || bad "$deb: no Description"
  dpkg-deb -I "$deb" >/dev/null || bad "dpkg-deb -I $deb failed"
done
[ "$(field "$lib" Package)" = "libcrashwatch$major" ] || bad "lib package name $(field "$lib" Package)"
field "$lib" Depends | grep -q 'libc6' || bad "libcrashwatch$major: Depends lacks libc6: $(field "$lib" Depends)"
field "$lib" Depends | grep -q 'libunwind' ||
  bad "libcrashwatch$major: Depends lacks libunwind (crashwatch-watchdog): $(field "$lib" Depends)"
field "$lib" Recommends | grep -q 'libcurl4' || bad "libcrashwatch$major: does not recommend libcurl4"
field "$dev" Depends | grep -q "libcrashwatch$major (= $ver)" ||
  bad "libcrashwatch-dev: Depends $(field "$dev" Depends), want libcrashwatch$major (= $ver)"
field "$cli" Depends | grep -q 'libcurl4' || bad "crashwatch: Depends lacks libcurl4 (upload)"
field "$cli" Depends | grep -q 'libdw1' || bad "crashwatch: Depends lacks libdw1: $(field "$cli" Depends)"
if [ -f "$src/cli/cmd_run.c" ]; then
  field "$cli" Depends | grep -q "libcrashwatch$major (= $ver)" ||
    bad "crashwatch (with run) does not depend on libcrashwatch$major (= $ver)"
else
  field "$cli" Depends | grep -q 'libcrashwatch' && bad "crashwatch depends on the library it does not link"
fi

# Contents: path lists without the leading "./", files and links only.
list() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {p=$6; sub(/^\.\//, "", p); print p}' | sort; }
list "$lib" >"$work/lib.txt"; list "$dev" >"$work/dev.txt"; list "$cli" >"$work/cli.txt"
want() { grep -qx "$2" "$work/$1.txt" || bad "$1 package lacks $2"; }
want lib "usr/lib/libcrashwatch.so.$major"
want lib "usr/lib/libcrashwatch.so.$ver"
want lib "usr/libexec/crashwatch-watchdog"
want dev "usr/include/crashwatch.h"
want dev "usr/lib/libcrashwatch.so"
want dev "usr/lib/libcrashwatch.a"
want dev "usr/lib/pkgconfig/crashwatch.pc"
want dev "usr/lib/cmake/crashwatch/crashwatchConfig.cmake"
want dev "usr/lib/cmake/crashwatch/crashwatchConfigVersion.cmake"
want dev "usr/lib/cmake/crashwatch/crashwatchTargets.cmake"
want dev "usr/share/man/man3/libcrashwatch.3"
want dev "usr/share/man/man3/cw_init.3"
want cli "usr/bin/crashwatch"
want cli "usr/share/man/man1/crashwatch.1"
want cli "usr/share/bash-completion/completions/crashwatch"
for c in $("$build/cli/crashwatch" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'); do
  want cli "usr/share/man/man1/crashwatch-$c.1"
done
grep -q '^usr/share/man/man3' "$work/cli.txt" && bad "man 3 pages in the crashwatch package"
grep -q '^usr/include' "$work/lib.txt" && bad "the header in the runtime library package"
grep -Eq '^usr/lib/libcrashwatch\.(so|a)$' "$work/lib.txt" && bad "a development file in the runtime library package"
dups=$(cat "$work/lib.txt" "$work/dev.txt" "$work/cli.txt" | sort | uniq -d)
[ -z "$dups" ] || bad "files in two packages: $dups"
# What a plain install has, the packages have (nothing left in no package).
"${CMAKE:-cmake}" --install "$build" --prefix "$work/plain" >/dev/null 2>&1 || bad "cmake --install"
( cd "$work/plain" && find . ! -type d | sed 's|^\./||; s|^|usr/|' | sort ) >"$work/plain.txt"
missing=$(cat "$work/lib.txt" "$work/dev.txt" "$work/cli.txt" | sort | comm -13 - "$work/plain.txt")
[ -z "$missing" ] || bad "installed but in no package: $missing"

# Use them from a scratch root.
root=$work/root
for deb in "$lib" "$dev" "$cli"; do dpkg -x "$deb" "$root" || die "dpkg -x $deb"; done
pc="env PKG_CONFIG_PATH=$root/usr/lib/pkgconfig PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig pkg-config"
[ "$($pc --modversion crashwatch)" = "$ver" ] || bad "pkg-config --modversion: $($pc --modversion crashwatch)"
# shellcheck disable=SC2046
"$cc" -o "$work/daemon" "$src/examples/daemon.c" $($pc --cflags --libs crashwatch) -lpthread ||
  die "cannot compile against the unpacked packages"
readelf -d "$work/daemon" | grep -q "libcrashwatch.so.$major" || bad "daemon does not link libcrashwatch.so.$major"
spool=$work/spool
{ rc=0
  env -u SENTRY_DSN -u CRASHWATCH_UPLOAD_URL CRASHWATCH_SPOOL="$spool" \
    LD_LIBRARY_PATH="$root/usr/lib" "$work/daemon" --threads 2 || rc=$?
  echo "exit-status $rc"; } 2>&1 | cat >"$work/daemon.out"
rc=$(sed -n 's/^exit-status //p' "$work/daemon.out")
[ "$rc" = 139 ] || { cat "$work/daemon.out"; bad "daemon exit status $rc, want 139 (SIGSEGV)"; }
ldd_out=$(LD_LIBRARY_PATH="$root/usr/lib" ldd "$work/daemon")
echo "$ldd_out" | grep -q "$root/usr/lib/libcrashwatch.so.$major" ||
  bad "daemon did not load the unpacked library: $ldd_out"
n=$(find "$spool" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp-*' ! -name failed | wc -l)
[ "$n" -eq 1 ] || bad "$n reports in $spool, want 1"
report=$(find "$spool" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp-*' ! -name failed | head -n 1)
[ -s "$report/minidump.dmp" ] && [ -s "$report/event.json" ] || bad "report $report incomplete"
"$root/usr/bin/crashwatch" dump "$report" >"$work/dump.out" 2>&1 ||
  bad "packaged crashwatch dump: $(cat "$work/dump.out")"
grep -q "SIGSEGV" "$work/dump.out" || bad "packaged crashwatch dump does not show the SIGSEGV"
"$root/usr/bin/crashwatch" symbolize "$report" >"$work/sym.out" 2>&1
grep -q "parse_session" "$work/sym.out" || bad "packaged crashwatch symbolize lacks parse_session: $(head -20 "$work/sym.out")"
if command -v man >/dev/null 2>&1; then
  man -M "$root/usr/share/man" 3 cw_init 2>&1 | grep -q "cw_init" || bad "man 3 cw_init from the package"
  man -M "$root/usr/share/man" 1 crashwatch-upload 2>&1 | grep -q -- "--spool" || bad "man 1 crashwatch-upload from the package"
fi

if [ $fail -ne 0 ]; then echo "work dir kept: $work"; exit 1; fi
rm -rf "$work"
echo "ok: 3 packages, built against and crashed"
