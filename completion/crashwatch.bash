# bash completion for crashwatch(1)                        -*- shell-script -*-
#
# The commands and their options come from the installed command itself
# (`crashwatch --help`, `crashwatch CMD --help`), read once per shell and
# cached, so a new command or option completes without editing this file.
# What follows an option (a directory, a file, one of a few words) is known
# here for the options that take an argument; tests/completion.cmake checks
# the result against every command's --help.

# The help of "$1" (the crashwatch being completed) for "$2" (a command, or
# empty for the list of commands), cached in _crashwatch_cache_*.
_crashwatch_help() {
  local cli=$1 cmd=$2 key
  key=_crashwatch_cache_$(printf '%s' "$cli|$cmd" | cksum | cut -d' ' -f1)
  if [[ -z ${!key+set} ]]; then
    if [[ -n $cmd ]]; then
      printf -v "$key" '%s' "$("$cli" "$cmd" --help 2>/dev/null)"
    else
      printf -v "$key" '%s' "$("$cli" --help 2>/dev/null)"
    fi
  fi
  printf '%s\n' "${!key}"
}

_crashwatch_commands() {
  _crashwatch_help "$1" "" |
    sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'
}

# The options of a command: the leading "-x, --long ARG" names of the
# help's option lines (a line indented by at most 6 spaces starting with
# "-"; descriptions are indented further), "--long=" for one written
# "--long=VALUE".
_crashwatch_options() {
  _crashwatch_help "$1" "$2" | awk '
    match($0, /^ +-/) && RLENGTH <= 7 {
      n = split($0, part, /, /)
      for (i = 1; i <= n; i++) {
        w = part[i]
        sub(/^ +/, "", w)
        sub(/[ \t].*/, "", w)
        sub(/=.*/, "=", w)
        if (w !~ /^--?[A-Za-z][A-Za-z0-9-]*=?$/)
          break
        print w
      }
    }' | sort -u
}

_crashwatch_files() { # $1: cur, $2: -d for directories only
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  if [[ ${2-} == -d ]]; then
    COMPREPLY=($(compgen -d -- "$1"))
  else
    COMPREPLY=($(compgen -f -- "$1"))
  fi
}

_crashwatch() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local cli=${COMP_WORDS[0]} cmd="" i
  cli=${cli/#\~/$HOME}
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} != -* ]]; then
      cmd=${COMP_WORDS[i]}
      break
    fi
  done

  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "--help -h --version" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$(_crashwatch_commands "$cli") help" -- "$cur"))
    fi
    return 0
  fi
  if [[ $cmd == help ]]; then
    ((COMP_CWORD == i + 1)) &&
      COMPREPLY=($(compgen -W "$(_crashwatch_commands "$cli")" -- "$cur"))
    return 0
  fi

  # After "--" (crashwatch run [options] -- PROGRAM ARGS...): a program,
  # then its arguments.
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} == -- ]]; then
      if ((COMP_CWORD == i + 1)); then
        local IFS=$'\n'
        COMPREPLY=($(compgen -c -- "$cur"))
      else
        _crashwatch_files "$cur"
      fi
      return 0
    fi
  done

  # --opt=VALUE in one word.
  if [[ $cur == --*=* ]]; then
    prev=${cur%%=*}
    cur=${cur#*=}
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_crashwatch_options "$cli" "$cmd")" -- "$cur"))
    [[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
    return 0
  fi

  # The argument of the option before the cursor.
  case $prev in
  --spool | --debug-dir | --symbols)
    _crashwatch_files "$cur" -d
    return 0
    ;;
  -e | --exe | --obj | --ca-bundle | --metrics-file)
    _crashwatch_files "$cur"
    return 0
    ;;
  --format)
    COMPREPLY=($(compgen -W "envelope minidump" -- "$cur"))
    return 0
    ;;
  --output-style)
    COMPREPLY=($(compgen -W "LLVM GNU JSON" -- "$cur"))
    return 0
    ;;
  --dsn | --url | --field | --build-id | --poll | --timeout | \
    --connect-timeout | --retry-base | --retry-cap | --max-age | \
    --max-reports | --max-bytes | --prune-age | --failed-max | --lock-fd)
    return 0 # a value only the user knows
    ;;
  esac

  # Operands: a minidump or a report directory for dump and symbolize
  # (without --exe/--build-id: with them, addresses), files otherwise.
  case $cmd in
  dump | symbolize)
    for ((i = 1; i < COMP_CWORD; i++)); do
      case ${COMP_WORDS[i]} in -e | --exe | --obj | --build-id | --exe=* | --obj=* | --build-id=*) return 0 ;; esac
    done
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.dmp' -- "$cur"))
    ;;
  *)
    _crashwatch_files "$cur"
    ;;
  esac
  return 0
}
complete -F _crashwatch crashwatch
