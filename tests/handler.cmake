# Tests of handler/ (libcrashwatch): options and init/shutdown (unit), the
# library's dependency and signal-safety checks, and the crash integration
# tests on real crashing programs (tests/progs/, tests/integration/).

cw_add_unit_test(test_handler SOURCES unit/test_handler.c
  LIBS crashwatch_static Threads::Threads cw_test_support TIMEOUT 60)
if(CW_HAVE_EMBEDDED_WATCHDOG)
  # The embedded image as a file, for the installed-image cases.
  target_compile_definitions(test_handler PRIVATE
    CW_WATCHDOG_BLOB_PATH="${PROJECT_BINARY_DIR}/handler/crashwatch-watchdog.bin")
  add_dependencies(test_handler cw_watchdog_blob)
endif()

# The scope API (issue 10), read back through the watchdog's reader
# (cw__scope_snapshot in cw_common) from the memfd found in /proc.
cw_add_unit_test(test_scope SOURCES unit/test_scope.c
  LIBS crashwatch_static cw_common Threads::Threads cw_test_support
  TIMEOUT 120)
# What a watchdog gets at a crash: the stand-in watchdog saves the scope
# memfd it is handed (the cw_init one, or the crash-time copy).
target_compile_definitions(test_scope PRIVATE
  CW_RECORD_WATCHDOG="$<TARGET_FILE:record_watchdog>")
add_dependencies(test_scope record_watchdog)

# Events besides crashes (issue 11): formatting and truncation, the sample
# rate and the per-minute cap (the objects themselves, with a fixed seed),
# the member walk of an application's event.
cw_add_unit_test(test_events SOURCES unit/test_events.c
  ${PROJECT_SOURCE_DIR}/handler/event_format.c
  ${PROJECT_SOURCE_DIR}/handler/event_limits.c
  LIBS cw_common TIMEOUT 60)
target_include_directories(test_events PRIVATE ${PROJECT_SOURCE_DIR}/handler)

# Release health on the app side (issue 11): built from the handler's
# objects so the test reaches cw__session_note_error (internal, local in
# libcrashwatch.a).
cw_add_unit_test(test_handler_session SOURCES unit/test_handler_session.c
    $<TARGET_OBJECTS:cw_handler_obj> $<TARGET_OBJECTS:cw_handler_sigctx>
    $<TARGET_OBJECTS:cw_common_sigctx> $<TARGET_OBJECTS:cw_handler_embed>
  LIBS cw_spool cw_common Threads::Threads ${CMAKE_DL_LIBS} cw_test_support
  TIMEOUT 120)
target_include_directories(test_handler_session PRIVATE
  ${PROJECT_SOURCE_DIR}/handler)

cw_add_unit_test(test_handler_watchdog SOURCES unit/test_handler_watchdog.c
  LIBS cw_common_headers cw_errors cw_test_support TIMEOUT 60)
target_compile_definitions(test_handler_watchdog PRIVATE
  CW_WATCHDOG_EXE="$<TARGET_FILE:crashwatch-watchdog>")
add_dependencies(test_handler_watchdog crashwatch-watchdog)

# The watchdog's idle stage (handler/wd_idle.c), the real executable.
if(CW_HAVE_EMBEDDED_WATCHDOG)
  cw_add_unit_test(test_wd_idle SOURCES unit/test_wd_idle.c
    LIBS cw_common_headers cw_errors cw_test_support TIMEOUT 60)
  target_compile_definitions(test_wd_idle PRIVATE
    CW_WATCHDOG_EXE="$<TARGET_FILE:crashwatch-watchdog>"
    CW_WD_IDLE_EXE="${CW_WD_IDLE_EXE}")
  add_dependencies(test_wd_idle crashwatch-watchdog cw_watchdog_blob)
endif()

cw_add_script_test(handler_signal_safe
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/check-signal-safe.sh
          $<TARGET_OBJECTS:cw_handler_sigctx>
          $<TARGET_OBJECTS:cw_common_sigctx>
          $<TARGET_OBJECTS:cw_handler_intercept>
  TIMEOUT 30)
# The checker must be able to fail: it has to refuse an object that calls
# printf and malloc.
add_library(cw_test_sigunsafe OBJECT progs/sigunsafe.c)
cw_add_script_test(handler_signal_safe_rejects
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/check-signal-safe.sh --expect-reject
          $<TARGET_OBJECTS:cw_test_sigunsafe>
  TIMEOUT 30)
cw_add_script_test(handler_libc_only
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/check-handler-deps.sh
          $<TARGET_FILE:crashwatch> $<TARGET_FILE:crashwatch_static>
  TIMEOUT 30)

# The crash programs. crashprog_O0 links the static library, crashprog_O2
# (-O2 -fomit-frame-pointer) the shared one; both call into a shared library
# for the crash-in-a-library case. UBSan stays out of the crash programs:
# its null and divide checks would turn the crashes under test into UBSan
# reports (ASan stays: the library and the programs still run under it).
add_library(cw_test_crashlib SHARED progs/crashlib.c)
target_compile_options(cw_test_crashlib PRIVATE -O2 -fomit-frame-pointer)
set_target_properties(cw_test_crashlib PROPERTIES C_VISIBILITY_PRESET default)
if(CW_SANITIZE)
  target_compile_options(cw_test_crashlib PRIVATE -fno-sanitize=undefined)
endif()
foreach(v O0 O2)
  add_executable(crashprog_${v} progs/crashprog.c)
  # Line tables in every build type, so the crash tests check the
  # watchdog's file:line symbolization everywhere.
  target_compile_options(crashprog_${v} PRIVATE -g)
  if(v STREQUAL "O0")
    target_compile_options(crashprog_${v} PRIVATE -O0 -fno-omit-frame-pointer)
    target_link_libraries(crashprog_${v} PRIVATE crashwatch_static)
  else()
    target_compile_options(crashprog_${v} PRIVATE -O2 -fomit-frame-pointer)
    target_link_libraries(crashprog_${v} PRIVATE crashwatch)
  endif()
  target_link_libraries(crashprog_${v} PRIVATE cw_test_crashlib
                        Threads::Threads)
  if(CW_SANITIZE)
    target_compile_options(crashprog_${v} PRIVATE -fno-sanitize=undefined)
  endif()
endforeach()

if(CW_HAVE_EMBEDDED_WATCHDOG)
  set(_cw_crash_cases null abort fpe ill bus trap sys segv-kill stack-main
      stack-thread shlib threads50 two-threads prev-handler no-watchdog
      stopped-watchdog fork-child environ ignored-kill fsize pidns pidns-early
      term-watchdog term-idle term-idle-lazy lazy-segv lazy-threads50 daemonize daemon-closefds workers workers-nocover fd-closed
      fd-dup2 fd-reused seccomp-watchdog vdso warm)
  set(_cw_crash_cases_O0 null abort fpe stack-thread shlib two-threads)
  foreach(v O2 O0)
    if(v STREQUAL "O0")
      set(_cases ${_cw_crash_cases_O0})
    else()
      set(_cases ${_cw_crash_cases})
    endif()
    foreach(c ${_cases})
      # lldb's reading of each dump (0.5 s a case) is an outside check of
      # the format: the sanitized run keeps it for the main-thread and
      # 50-thread dumps only, and the plain run does it for every case.
      set(_lldb)
      if(CW_SANITIZE AND NOT c MATCHES "^(null|threads50)$")
        set(_lldb --no-lldb)
      endif()
      cw_add_script_test(crash_${v}_${c}
        COMMAND ${Python3_EXECUTABLE}
                ${CMAKE_CURRENT_SOURCE_DIR}/integration/crash_tests.py
                --prog $<TARGET_FILE:crashprog_${v}> --case ${c}
                --cli $<TARGET_FILE:crashwatch_cli> ${_lldb}
        TIMEOUT 120 LABELS crash ptrace)
      # 77: the case needs what this machine lacks (root for unshare --pid)
      set_tests_properties(crash_${v}_${c} PROPERTIES SKIP_RETURN_CODE 77)
    endforeach()
  endforeach()
endif()

# Staying in the chain (docs/signals.md): chainprog installs its own crash
# handlers after cw_init() (redis-like), recovers in them (JVM-like), or
# uses a raw rt_sigaction; it links the shared library, which interposes
# sigaction() and pthread_create().
add_executable(chainprog progs/chainprog.c)
target_compile_options(chainprog PRIVATE -g -O2)
target_link_libraries(chainprog PRIVATE crashwatch Threads::Threads)
if(CW_SANITIZE)
  target_compile_options(chainprog PRIVATE -fno-sanitize=undefined)
endif()
if(CW_HAVE_EMBEDDED_WATCHDOG)
  foreach(c reraise reraise-thread resethand handler-overflow abort-dfl abort-ign abort-returns
          raise-abrt segv-dfl recover recover-ctx raw-syscall raw-reinstall
          stack-pthread
          no-intercept)
    cw_add_script_test(chain_${c}
      COMMAND ${Python3_EXECUTABLE}
              ${CMAKE_CURRENT_SOURCE_DIR}/integration/chain_tests.py
              --prog $<TARGET_FILE:chainprog> --case ${c}
      TIMEOUT 120 LABELS crash ptrace chain)
  endforeach()
  # A setuid-root copy of chainprog run by a user created for the test
  # ignores CRASHWATCH_* from the environment (skips when not root).
  cw_add_script_test(handler_setuid_ignores_env
    COMMAND ${Python3_EXECUTABLE}
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/secure_test.py
            --prog $<TARGET_FILE:chainprog>
    TIMEOUT 120 LABELS crash ptrace)
  set_tests_properties(handler_setuid_ignores_env PROPERTIES
                       SKIP_RETURN_CODE 77)
endif()

# The installed tree works for users: pkg-config, the static archive and
# find_package(crashwatch), each binary crashing into a report. nosan: the
# installed libraries are ASan-instrumented in a sanitizer build, and a
# consumer built without -fsanitize cannot link them.
if(CW_HAVE_EMBEDDED_WATCHDOG)
  cw_add_script_test(handler_install_consumers
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/install_consumers.sh
            ${CMAKE_BINARY_DIR} ${CMAKE_COMMAND} ${CMAKE_C_COMPILER}
    TIMEOUT 120 LABELS nosan ptrace)
endif()

# `make demo` end to end: it crashes the example daemon and shows the
# crashing thread's stack by function name, in its own spool, without
# build chatter, building only its targets, ending with commands that work.
# nosan: `make demo` is the plain build's; the crash tests run the handler
# and the watchdog under the sanitizers already (and the suite's time is
# close to its 10-minute budget).
if(CW_HAVE_EMBEDDED_WATCHDOG)
  cw_add_script_test(handler_demo
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/demo_test.sh
            ${CMAKE_BINARY_DIR} ${CMAKE_COMMAND}
    TIMEOUT 240 LABELS "ptrace;nosan"
    ENV "ASAN_OPTIONS=handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0:detect_leaks=0")
endif()

# How the handler encodes a crash record, checked with a stand-in watchdog
# that saves what it receives.
add_executable(record_watchdog progs/record_watchdog.c)
target_link_libraries(record_watchdog PRIVATE cw_common_headers)
cw_add_unit_test(test_crash_record SOURCES unit/test_crash_record.c
  LIBS crashwatch cw_common_headers TIMEOUT 60)
target_compile_definitions(test_crash_record PRIVATE
  CW_RECORD_WATCHDOG="$<TARGET_FILE:record_watchdog>")
if(CW_SANITIZE)
  # The fault under test is deliberate; UBSan must not report it first.
  target_compile_options(test_crash_record PRIVATE -fno-sanitize=undefined)
endif()

# The public header's promises that hold in both libraries: cw_last_error()
# per thread (thread-local storage: initial-exec in the static archive,
# general-dynamic in the .so), cw_version() as the macros say.
cw_add_unit_test(test_api_static SOURCES unit/test_api.c
  LIBS crashwatch_static Threads::Threads TIMEOUT 30)
cw_add_unit_test(test_api_shared SOURCES unit/test_api.c
  LIBS crashwatch Threads::Threads TIMEOUT 30)
# One source for the version: SONAME, file name, crashwatch.pc, the CMake
# package and cw_version() against the header's macros.
cw_add_script_test(handler_version
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/version_test.sh
          $<TARGET_FILE:crashwatch> $<TARGET_FILE:crashwatch_cli>
          ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR}/include/crashwatch.h
  TIMEOUT 30)

# The scope in real crash reports (issue 10; tests/integration/scope_test.py):
# scopeprog fills it through the public API and crashes; the cases check
# the event, the minidump's annotations, scrubbing, the attachments and
# their upload to the loopback collector. hammer crashes 50 times (10 in a
# sanitizer build, to keep make test within its budget).
add_executable(scopeprog progs/scopeprog.c)
target_compile_options(scopeprog PRIVATE -g -O2)
target_link_libraries(scopeprog PRIVATE crashwatch Threads::Threads)
if(CW_SANITIZE)
  target_compile_options(scopeprog PRIVATE -fno-sanitize=undefined)
  set(_cw_hammer_runs 10)
else()
  set(_cw_hammer_runs 50)
endif()
if(CW_HAVE_EMBEDDED_WATCHDOG)
  foreach(c all crumbs250 hammer secret pii attach)
    cw_add_script_test(scope_${c}
      COMMAND ${Python3_EXECUTABLE}
              ${CMAKE_CURRENT_SOURCE_DIR}/integration/scope_test.py
              --prog $<TARGET_FILE:scopeprog> --case ${c}
              --cli $<TARGET_FILE:crashwatch_cli>
      ENV CW_SCOPE_HAMMER_RUNS=${_cw_hammer_runs}
      TIMEOUT 300 LABELS crash ptrace scope)
  endforeach()
endif()

# Events besides crashes (issue 11; tests/integration/events_test.py):
# eventprog sends messages, events and dumps of itself; the cases check
# the reports, the scope as of the call, the minidump of a live process
# (Breakpad's minidump_stackwalk when installed) and the upload to the
# loopback collector.
add_executable(eventprog progs/eventprog.c)
target_compile_options(eventprog PRIVATE -g -O1 -fno-omit-frame-pointer)
target_link_libraries(eventprog PRIVATE crashwatch Threads::Threads)
if(CW_HAVE_EMBEDDED_WATCHDOG)
  foreach(c message event bad dump sigdump cap sample stack upload multipart)
    cw_add_script_test(events_${c}
      COMMAND ${Python3_EXECUTABLE}
              ${CMAKE_CURRENT_SOURCE_DIR}/integration/events_test.py
              --prog $<TARGET_FILE:eventprog> --case ${c}
              --cli $<TARGET_FILE:crashwatch_cli>
      TIMEOUT 300 LABELS ptrace events)
  endforeach()
endif()
