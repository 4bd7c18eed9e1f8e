#!/bin/sh
# check-format.sh SOURCE_DIR [CLANG_FORMAT] — fails, listing the files, if
# a tracked C source or header differs from what clang-format makes of it
# with the repository's .clang-format. The tree is formatted with
# clang-format 14 (Debian 12's `clang-format` package, in the Makefile's
# PACKAGES); another major version formats some constructs differently, so
# without clang-format 14 the check is skipped (exit 77), saying why.
# `make format` rewrites the files in place.
set -eu
src=$1
cf=${2:-clang-format}
want=14

if ! command -v "$cf" >/dev/null 2>&1; then
  echo "SKIP: clang-format not found ($cf); install the Debian package" \
       "clang-format (make deps) to run the format check"
  exit 77
fi
major=$("$cf" --version | sed -n 's/.*clang-format version \([0-9][0-9]*\)\..*/\1/p')
if [ "$major" != "$want" ]; then
  echo "SKIP: $cf is version ${major:-unknown}; the tree is formatted with" \
       "clang-format $want, whose output other versions do not match"
  exit 77
fi

cd "$src"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -- '*.c' '*.h' >"$list"
else # an export without .git: every C file but build trees
  find . -path './build*' -prune -o \( -name '*.c' -o -name '*.h' \) \
       -type f -print | sed 's|^\./||' | sort >"$list"
fi
n=$(wc -l <"$list")
[ "$n" -gt 0 ] || { echo "no C sources found under $src" >&2; exit 2; }

bad=$(tr '\n' '\0' <"$list" |
      xargs -0 "$cf" --style=file --dry-run --Werror 2>&1 |
      sed -n 's/^\(.*\):[0-9][0-9]*:[0-9][0-9]*: error: .*clang-format-violations.*/\1/p' |
      sort -u)
if [ -n "$bad" ]; then
  echo "FAIL: not formatted with $cf ($(echo "$bad" | wc -l) of $n files):"
  echo "$bad" | sed 's/^/  /'
  echo "run \`make format\` (or: clang-format -i FILE...) and commit the result"
  exit 1
fi
echo "ok: $n C files formatted as .clang-format says ($cf $major)"
