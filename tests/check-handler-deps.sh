#!/bin/sh
# check-handler-deps.sh LIBCRASHWATCH.so — the app-side library must link
# libc and pthread only: no libcurl, libdw, libelf or libunwind, neither as
# a DT_NEEDED entry nor as an undefined symbol (dlsym and dladdr1 are
# libc's since glibc 2.34: no libdl); it exports only cw_* plus the libc
# functions it interposes on purpose (handler/intercept.c, threads.c); and
# it is bound at load time.
#
# With a second argument LIBCRASHWATCH.a: the static library's global
# symbols are the cw_* API too (its internals are localized).
set -eu
lib=$1
static=${2:-}
status=0
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for n in $needed; do
  case $n in
    libc.so.*|libpthread.so.*|ld-linux*|libasan.so.*|libubsan.so.*) ;;
    libdl.so.*) echo "$lib: needs $n (dlsym must come from libc)" >&2; status=1 ;;
    *) echo "$lib: needs $n (libc/pthread only)" >&2; status=1 ;;
  esac
done
bad=$(nm -D --undefined-only "$lib" | awk '{print $NF}' |
      grep -E '^(curl_|dwfl_|dwarf_|elf_|elf32_|elf64_|gelf_|_U[PL]|unw_|_Ux86_64|inflate|deflate)' || true)
if [ -n "$bad" ]; then
  echo "$lib: undefined symbols from forbidden libraries:" >&2
  echo "$bad" >&2
  status=1
fi
# The crash path must not go through the lazy-binding resolver (it takes
# locks): the library is linked with -z now.
if ! readelf -d "$lib" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW'; then
  echo "$lib: not linked with -z now (lazy binding on the crash path)" >&2
  status=1
fi
# The interposed functions, exactly these (docs/signals.md).
interposed='^(sigaction|signal|bsd_signal|sysv_signal|__sysv_signal|sigset|pthread_create)$'
for f in sigaction signal sysv_signal __sysv_signal sigset pthread_create; do
  if ! nm -D --defined-only "$lib" | awk '{print $3}' | grep -qx "$f"; then
    echo "$lib: does not interpose $f" >&2
    status=1
  fi
done
exports=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRW]/ {print $3}' |
          grep -Ev "$interposed" | grep -v '^cw_' | grep -v '^_' || true)
if [ -n "$exports" ]; then
  echo "$lib: exports symbols outside the cw_ namespace:" >&2
  echo "$exports" >&2
  status=1
fi
if [ -n "$static" ]; then
  leaked=$(nm --defined-only "$static" 2>/dev/null |
           awk 'NF == 3 && $2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^cw_' || true)
  if [ -n "$leaked" ]; then
    echo "$static: global symbols outside the cw_ API:" >&2
    echo "$leaked" >&2
    status=1
  fi
fi
[ $status -eq 0 ] && echo "$lib: libc/pthread only; exports only cw_* and the interposed libc functions; bind now${static:+; $static: only cw_* global}"
exit $status
