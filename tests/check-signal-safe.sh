#!/bin/sh
# check-signal-safe.sh OBJECT... — fails if a signal-context object file of
# libcrashwatch (handler/crash.c and friends) references a function that is
# not async-signal-safe. The allowlist is POSIX's async-signal-safe list
# (the subset we may use) plus compiler/sanitizer runtime entry points.
set -eu
[ $# -gt 0 ] || { echo "usage: $0 OBJECT..." >&2; exit 2; }
NM=${NM:-nm}

allowed='
__errno_location
clock_gettime
close
memcpy
memset
memmove
poll
recv
send
sigaction
sigaddset
sigemptyset
sigprocmask
pthread_sigmask
syscall
_exit
getpid
write
'
status=0
for obj in "$@"; do
  [ -f "$obj" ] || { echo "$0: no such object: $obj" >&2; exit 2; }
  for sym in $("$NM" -u "$obj" | awk '{print $NF}'); do
    sym=${sym%%@*}
    case $sym in
      # data of this library and the sanitizer/compiler runtimes
      cw__*|_GLOBAL_OFFSET_TABLE_|__asan_*|__ubsan_*|__sanitizer_*|__tsan_*|\
      __stack_chk_fail|__stack_chk_guard) continue ;;
    esac
    if ! printf '%s\n' "$allowed" | grep -qx -- "$sym"; then
      echo "$obj: calls $sym, which is not on the async-signal-safe allowlist" >&2
      status=1
    fi
  done
done
[ $status -eq 0 ] && echo "signal-context objects call only async-signal-safe functions: $*"
exit $status
