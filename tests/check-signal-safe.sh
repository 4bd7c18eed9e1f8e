#!/bin/sh
# check-signal-safe.sh OBJECT... — fails if a signal-context object file of
# libcrashwatch (handler/crash.c and friends) references a function that is
# not async-signal-safe. The allowlist is POSIX's async-signal-safe list
# (the subset we may use; strlen and strnlen joined it in POSIX.1-2008
# TC2) plus compiler/sanitizer runtime entry points.
#
# check-signal-safe.sh --expect-reject OBJECT... — the self-test: succeeds
# only if the check refuses the objects for calling malloc and printf.
set -eu
if [ "${1:-}" = "--expect-reject" ]; then
  shift
  rc=0
  out=$(sh "$0" "$@" 2>&1) || rc=$?
  echo "$out"
  if [ $rc -eq 1 ] && echo "$out" | grep -q "calls malloc" &&
     echo "$out" | grep -q "calls printf"; then
    echo "self-test: the check refused the unsafe object, as it must"
    exit 0
  fi
  echo "self-test: the check did not refuse the unsafe object (status $rc)" >&2
  exit 1
fi
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
__sigaction
sigaddset
sigemptyset
sigfillset
sigismember
sigpending
sigprocmask
pthread_sigmask
syscall
_exit
getpid
write
read
fcntl
clone
strlen
strnlen
'
status=0
# CTest passes $<TARGET_OBJECTS:...> of several objects as one
# ;-separated argument.
for obj in $(printf '%s\n' "$@" | tr ';' ' '); do
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
