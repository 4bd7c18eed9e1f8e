# Tests of watchdog/ (the capture library): the minidump writer on synthetic
# captures, and capture + unwinding of real crashing child processes.

# The crashing child plays the in-process handler itself (see the source),
# built twice: with frame pointers and with -fomit-frame-pointer, so the
# CFI path and the fallback both get exercised. It is kept free of the
# sanitizers: it is the crashed process, not code under test.
foreach(variant watchdog_target watchdog_target_nofp)
  add_executable(${variant} progs/watchdog_target.c)
  target_link_libraries(${variant} PRIVATE cw_common_headers Threads::Threads)
  target_compile_options(${variant} PRIVATE -O2 -g -fno-sanitize=all)
  target_link_options(${variant} PRIVATE -fno-sanitize=all)
endforeach()
target_compile_options(watchdog_target PRIVATE -fno-omit-frame-pointer)
target_compile_options(watchdog_target_nofp PRIVATE -fomit-frame-pointer)

cw_add_unit_test(test_minidump_writer SOURCES unit/test_minidump_writer.c
  LIBS cw_capture cw_common TIMEOUT 30)

cw_add_unit_test(test_capture SOURCES unit/test_capture.c
  LIBS cw_capture cw_spool cw_common TIMEOUT 60)
target_compile_definitions(test_capture PRIVATE
  WD_TARGET="$<TARGET_FILE:watchdog_target>"
  WD_TARGET_NOFP="$<TARGET_FILE:watchdog_target_nofp>")
add_dependencies(test_capture watchdog_target watchdog_target_nofp)
