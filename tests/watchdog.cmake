# Tests of watchdog/ (the capture library): the minidump writer on synthetic
# captures, and capture + unwinding of real crashing child processes.

# The crashing child plays the in-process handler itself (see the source),
# built three ways: with frame pointers, with -fomit-frame-pointer (CFI
# only), and with frame pointers but no unwind tables at all (the
# frame-pointer fallback). It is kept free of the sanitizers: it is the
# crashed process, not code under test.
foreach(variant watchdog_target watchdog_target_nofp watchdog_target_nocfi)
  add_executable(${variant} progs/watchdog_target.c)
  target_link_libraries(${variant} PRIVATE cw_common_headers Threads::Threads)
  target_compile_options(${variant} PRIVATE -O2 -g -fno-sanitize=all)
  target_link_options(${variant} PRIVATE -fno-sanitize=all)
endforeach()
target_compile_options(watchdog_target PRIVATE -fno-omit-frame-pointer)
target_compile_options(watchdog_target_nofp PRIVATE -fomit-frame-pointer)
target_compile_options(watchdog_target_nocfi PRIVATE -fno-omit-frame-pointer
  -mno-omit-leaf-frame-pointer -fno-asynchronous-unwind-tables -fno-unwind-tables)

# Read back with the format structs, and round-tripped through the
# symbolizer's reader.
cw_add_unit_test(test_minidump_writer SOURCES unit/test_minidump_writer.c
  LIBS cw_capture cw_symbolizer cw_common cw_errors TIMEOUT 30)

cw_add_unit_test(test_capture SOURCES unit/test_capture.c
  LIBS cw_capture cw_symbolizer cw_elf cw_spool cw_common TIMEOUT 180)
target_compile_definitions(test_capture PRIVATE
  WD_TARGET_SRC="${CMAKE_CURRENT_SOURCE_DIR}/progs/watchdog_target.c"
  WD_TARGET="$<TARGET_FILE:watchdog_target>"
  WD_TARGET_NOFP="$<TARGET_FILE:watchdog_target_nofp>"
  WD_TARGET_NOCFI="$<TARGET_FILE:watchdog_target_nocfi>")
add_dependencies(test_capture watchdog_target watchdog_target_nofp
  watchdog_target_nocfi)

# One crash through cw__wd_handle_crash(), then the dump is read by lldb: the
# threads, the crashing thread, the module UUIDs (= build-ids) and the
# crashing thread's backtrace must come out right; the dump's size for a
# 6-thread process is printed and held to the 64 KiB budget.
add_executable(watchdog_capture_one progs/watchdog_capture_one.c)
target_link_libraries(watchdog_capture_one PRIVATE cw_capture cw_spool cw_common
                      cw_test_internals)
find_program(CW_LLDB lldb)
if(CW_LLDB)
  foreach(variant watchdog_target watchdog_target_nofp)
    cw_add_script_test(watchdog_lldb_${variant}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/progs/watchdog_lldb_check.py
              $<TARGET_FILE:watchdog_capture_one> $<TARGET_FILE:${variant}>
              ${CW_LLDB}
      TIMEOUT 120)
  endforeach()
endif()

# The scope in the event and the attachments of a report (issue 10).
cw_add_unit_test(test_wd_scope SOURCES unit/test_wd_scope.c
  LIBS cw_capture cw_spool cw_common cw_errors TIMEOUT 60)
