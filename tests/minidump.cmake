# Tests of the minidump reader, the stackwalker and `crashwatch dump`
# (symbolizer/minidump.c, symbolizer/stackwalk.c, cli/cmd_dump.c).
# Third-party dumps with minidump_stackwalk's output are not in the
# repository (CW_FIXTURES_DIR, the top CMakeLists.txt): the tests on them
# are the *_fixtures ones and dump_fixtures, label "fixtures", and skip
# without them.

cw_add_unit_test(test_minidump_reader SOURCES unit/test_minidump_reader.c
  LIBS cw_symbolizer cw_common TIMEOUT 60 FIXTURES)

# Walks a ptrace-stopped child of its own; the chain's functions are
# exported so dladdr() can name the frames.
cw_add_unit_test(test_stackwalk SOURCES unit/test_stackwalk.c
  LIBS cw_symbolizer cw_common PkgConfig::LIBDW PkgConfig::LIBELF ${CMAKE_DL_LIBS}
  TIMEOUT 60 LABELS ptrace FIXTURES)
set_target_properties(test_stackwalk PROPERTIES ENABLE_EXPORTS ON)

# `crashwatch dump --json --stack` against minidump_stackwalk -m on every
# fixture, then truncated/corrupted copies (exit 1 naming an offset).
cw_add_script_test(dump_fixtures
  COMMAND ${Python3_EXECUTABLE}
          ${CMAKE_CURRENT_SOURCE_DIR}/integration/fixtures_compare.py
          $<TARGET_FILE:crashwatch_cli> ${CW_TEST_TMP}
  TIMEOUT 300 LABELS fixtures)
# 300 s: about 20 s of CPU in the sanitized build (hundreds of dumps of
# damaged copies), but 166 s of wall time were seen on the shared 2-core
# machine at a load of 16, past the 120 s it had.
set_tests_properties(dump_fixtures PROPERTIES SKIP_RETURN_CODE 77)

# crashwatch's own minidumps (the watchdog's capture library, targets built
# with and without frame pointers) walked from the dump alone, with CFI from
# the module files and without.
cw_add_script_test(dump_own_minidumps
  COMMAND ${Python3_EXECUTABLE}
          ${CMAKE_CURRENT_SOURCE_DIR}/integration/fixtures_own_dumps.py
          $<TARGET_FILE:crashwatch_cli> $<TARGET_FILE:watchdog_capture_one>
          $<TARGET_FILE:watchdog_target> $<TARGET_FILE:watchdog_target_nofp>
  TIMEOUT 120 LABELS ptrace)
