#!/bin/bash
# completion_test.sh BUILD_DIR CMAKE CRASHWATCH — bash completion as a
# user gets it: installed by cmake --install into a temporary prefix, found
# there by bash-completion's loader (XDG_DATA_DIRS), and checked against
# the help of the real command, for every command `crashwatch --help`
# lists: each completes by name, and `crashwatch CMD --<TAB>` offers every
# option of `crashwatch CMD --help`. Then the arguments of a few options
# (directories for --spool, words for --format and --output-style=,
# minidumps and report directories for dump).
set -u
build=$1 cmake=$2 cli=$3
fail=0
bad() { echo "FAIL: $*"; fail=1; }
work=$(mktemp -d "${CW_TEST_TMP:-/tmp}/completion-XXXXXX")
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >/dev/null || { echo "FAIL: install"; exit 1; }
script=$prefix/share/bash-completion/completions/crashwatch
[ -f "$script" ] || { echo "FAIL: no $script"; exit 1; }

# bash-completion's own loader finds it through XDG_DATA_DIRS.
if [ -r /usr/share/bash-completion/bash_completion ]; then
  out=$(XDG_DATA_DIRS=$prefix/share bash -c '
    source /usr/share/bash-completion/bash_completion
    __load_completion crashwatch && complete -p crashwatch' 2>&1)
  [[ $out == *"-F _crashwatch crashwatch"* ]] ||
    bad "bash-completion does not load it from $prefix/share: $out"
else
  echo "note: bash-completion not installed; loader check skipped"
fi

# shellcheck source=/dev/null
source "$script"
# complete WORD... : COMPREPLY for the command line "crashwatch WORD...",
# the cursor at the end of the last word, one per line, sorted.
complete_line() {
  COMP_WORDS=("$cli" "$@")
  COMP_CWORD=$#
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _crashwatch 2>/dev/null
  printf '%s\n' "${COMPREPLY[@]}" | sort -u
}
has() { grep -qxF -- "$2" <<<"$1"; }

cmds=$("$cli" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
[ -n "$cmds" ] || bad "no commands in crashwatch --help"
got=$(complete_line "")
for c in $cmds help; do has "$got" "$c" || bad "crashwatch <TAB> lacks $c: $got"; done
got=$(complete_line "hel")
[ "$got" = help ] || bad "crashwatch hel<TAB> gave '$got'"
got=$(complete_line help "")
for c in $cmds; do has "$got" "$c" || bad "crashwatch help <TAB> lacks $c"; done
got=$(complete_line --v)
[ "$got" = --version ] || bad "crashwatch --v<TAB> gave '$got'"

n=0
for c in $cmds; do
  help=$("$cli" "$c" --help)
  long=$(complete_line "$c" --)
  short=$(complete_line "$c" -)
  # The options of the help's option lines (indented, starting with "-"):
  # every name before the first word that is not an option.
  opts=$(awk 'match($0, /^ +-/) && RLENGTH <= 7 { n = split($0, p, /, /)
           for (i = 1; i <= n; i++) { w = p[i]; sub(/^ +/, "", w); sub(/[ =\t].*/, "", w)
             if (w !~ /^--?[A-Za-z][A-Za-z0-9-]*$/) break; print w } }' <<<"$help" | sort -u)
  [ -n "$opts" ] || bad "crashwatch $c --help has no option lines"
  for o in $opts; do
    n=$((n + 1))
    case $o in
    --*) has "$long" "$o" || has "$long" "$o=" || bad "crashwatch $c --<TAB> lacks $o" ;;
    *) has "$short" "$o" || bad "crashwatch $c -<TAB> lacks $o" ;;
    esac
  done
  # An option given earlier does not stop option completion.
  got=$(complete_line "$c" --help --he)
  has "$got" --help || bad "crashwatch $c --help --he<TAB> gave '$got'"
done
[ $n -ge 30 ] || bad "only $n options checked"

# Arguments.
mkdir -p "$work/sp/spool-a" "$work/sp/spool-b" "$work/sp/rep"
: >"$work/sp/spool-file"
: >"$work/sp/crash.dmp"
: >"$work/sp/notes.txt"
got=$(complete_line upload --spool "$work/sp/spool")
[ "$got" = "$(printf '%s\n' "$work/sp/spool-a" "$work/sp/spool-b")" ] ||
  bad "upload --spool <TAB> gave '$got' (directories only)"
got=$(complete_line upload --format "")
[ "$got" = "$(printf 'envelope\nminidump')" ] || bad "upload --format <TAB> gave '$got'"
got=$(complete_line symbolize --output-style=)
[ "$got" = "$(printf 'GNU\nJSON\nLLVM')" ] || bad "symbolize --output-style=<TAB> gave '$got'"
got=$(complete_line dump "$work/sp/")
has "$got" "$work/sp/crash.dmp" && has "$got" "$work/sp/rep" ||
  bad "dump <TAB> lacks the minidump or the report directory: $got"
has "$got" "$work/sp/notes.txt" && bad "dump <TAB> offers a non-minidump file"
got=$(complete_line symbolize --exe "$work/sp/no")
[ "$got" = "$work/sp/notes.txt" ] || bad "symbolize --exe <TAB> gave '$got'"
got=$(complete_line upload --dsn "")
[ -z "$got" ] || bad "upload --dsn <TAB> offered '$got'"

if [ $fail -ne 0 ]; then echo "work dir kept: $work"; exit 1; fi
rm -rf "$work"
echo "ok: completion of $(wc -w <<<"$cmds") commands, $n options"
