#!/bin/sh
# version_test.sh LIBCRASHWATCH.so CRASHWATCH_CLI BUILD_DIR HEADER — the
# version has one source, the CW_VERSION_* macros of include/crashwatch.h:
# the shared library's SONAME (libcrashwatch.so.MAJOR) and real file name
# (libcrashwatch.so.MAJOR.MINOR.PATCH), crashwatch.pc's Version, the CMake
# package's version file and `crashwatch --version` (cw_version()) all say
# the same.
set -eu
lib=$1
cli=$2
build=$3
header=$4
status=0
fail() { echo "FAIL: $*" >&2; status=1; }

macro() { sed -n "s/^#define CW_VERSION_$1 \\([0-9][0-9]*\\)\$/\\1/p" "$header"; }
major=$(macro MAJOR)
minor=$(macro MINOR)
patch=$(macro PATCH)
[ -n "$major" ] && [ -n "$minor" ] && [ -n "$patch" ] ||
  { echo "FAIL: no CW_VERSION_MAJOR/MINOR/PATCH in $header" >&2; exit 1; }
v=$major.$minor.$patch
echo "header: $v"

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libcrashwatch.so.$major" ] ||
  fail "SONAME is '$soname', want libcrashwatch.so.$major"
real=$(basename "$(readlink -f "$lib")")
[ "$real" = "libcrashwatch.so.$v" ] ||
  fail "the library's file is $real, want libcrashwatch.so.$v"

pcv=$(sed -n 's/^Version: *//p' "$build/crashwatch.pc")
[ "$pcv" = "$v" ] || fail "crashwatch.pc says Version: '$pcv'"
if command -v pkg-config >/dev/null 2>&1; then
  pkv=$(PKG_CONFIG_PATH=$build pkg-config --modversion crashwatch)
  [ "$pkv" = "$v" ] || fail "pkg-config --modversion crashwatch says '$pkv'"
fi

grep -q "set(PACKAGE_VERSION \"$v\")" "$build/crashwatchConfigVersion.cmake" ||
  fail "crashwatchConfigVersion.cmake does not say $v"

out=$("$cli" --version)
[ "$out" = "crashwatch $v" ] || fail "crashwatch --version says '$out'"

[ $status -eq 0 ] && echo "ok: $v everywhere"
exit $status
