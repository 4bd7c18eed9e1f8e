#!/bin/sh
# install_consumers.sh BUILD_DIR CMAKE CC — installs crashwatch into a
# temporary prefix and builds examples/daemon.c the three ways a user
# would: pkg-config (shared), libcrashwatch.a directly, and CMake's
# find_package(crashwatch) (shared and static). Each binary must run from
# the installed tree alone (the watchdog embedded in the library) and leave
# exactly one report when it crashes, dying by SIGSEGV.
set -eu
build=$1 cmake=$2 cc=$3
src=${CW_SOURCE_DIR:?}
work=$(mktemp -d "${CW_TEST_TMP:-/tmp}/install-XXXXXX")
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }

run_crash() { # name binary
  spool=$work/spool-$1
  # Through a pipe: cat sees EOF only when the watchdog (which holds the
  # app's stderr) has exited, i.e. once the report is committed.
  { rc=0
    CRASHWATCH_SPOOL=$spool "$2" --threads 2 || rc=$?
    echo "exit-status $rc"; } 2>&1 | cat >"$work/$1.out"
  rc=$(sed -n 's/^exit-status //p' "$work/$1.out")
  [ $rc -eq 139 ] || { cat "$work/$1.out"; fail "$1: exit status $rc, want 139 (SIGSEGV)"; }
  n=$(find "$spool" -mindepth 1 -maxdepth 1 -type d ! -name '.tmp-*' | wc -l)
  [ "$n" -eq 1 ] || fail "$1: $n reports in $spool, want 1"
  [ -s "$(find "$spool" -name minidump.dmp | head -n 1)" ] || fail "$1: no minidump"
  echo "ok: $1"
}

pc="env PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config"
# shellcheck disable=SC2046
"$cc" -o "$work/pc-shared" "$src/examples/daemon.c" $($pc --cflags --libs crashwatch) -lpthread
run_crash pc-shared "$work/pc-shared"

"$cc" -o "$work/static" "$src/examples/daemon.c" -I"$prefix/include" \
  "$prefix/lib/libcrashwatch.a" -lpthread
nm "$work/static" | grep -q ' T cw_init$' || fail "static: cw_init not linked in"
run_crash static "$work/static"

mkdir -p "$work/proj"
cat >"$work/proj/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(crashwatch REQUIRED)
add_executable(d_shared $src/examples/daemon.c)
target_link_libraries(d_shared crashwatch::crashwatch)
add_executable(d_static $src/examples/daemon.c)
target_link_libraries(d_static crashwatch::crashwatch_static)
CM
"$cmake" -S "$work/proj" -B "$work/proj/b" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; fail "find_package(crashwatch) configure"; }
"$cmake" --build "$work/proj/b" >>"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; fail "find_package(crashwatch) build"; }
run_crash cmake-shared "$work/proj/b/d_shared"
run_crash cmake-static "$work/proj/b/d_static"
rm -rf "$work"
