# Tests of the symbolizer's address half (symbolizer/symbolizer.h,
# breakpad_sym.h, symindex.h) and of `crashwatch symbolize --exe`.
cw_add_unit_test(test_symbolizer SOURCES unit/test_symbolizer.c
  LIBS cw_symbolizer cw_common crashwatch_static TIMEOUT 60)
# The unit test symbolizes its own functions: keep its debug info whatever
# the build type.
target_compile_options(test_symbolizer PRIVATE -g)

# Integration: test programs (tests/progs/sym_*) built at -O0/-O2, DWARF 4/5,
# with and without frame pointers, split by build-id and debuglink, Breakpad
# stores, output formats, bad input.
foreach(s variants buildid debuglink breakpad formats badinput debuginfod bomb)
  cw_add_script_test(symbolize_${s}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/symbolize_test.py ${s}
    TIMEOUT 180 LABELS symbolizer ENV "CC=${CMAKE_C_COMPILER}")
endforeach()

# Agreement with llvm-symbolizer and addr2line on 3000 random addresses of
# this repository's own code built at -O2 -g (>= 99.5% asserted).
cw_add_script_test(symbolize_compare
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/symbolize_compare.py 3000
  TIMEOUT 180 LABELS symbolizer ENV "CC=${CMAKE_C_COMPILER}")
set_tests_properties(symbolize_compare PROPERTIES SKIP_RETURN_CODE 77)

# Issue 9 item 12: every instruction address (objdump -d) of the test
# programs (sym_* in C and C++ at -O0/-O2, DWARF 4 and 5; crashprog_O0/O2)
# symbolized exactly as llvm-symbolizer does, but for the two documented
# differences (tests/integration/symbolize_every_insn.py).
set(_cw_every_env "CC=${CMAKE_C_COMPILER}"
    "CW_CRASHPROG_DIR=$<TARGET_FILE_DIR:crashprog_O2>")
cw_add_script_test(symbolize_every_insn
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/symbolize_every_insn.py
  TIMEOUT 300 LABELS symbolizer ENV ${_cw_every_env})
set_tests_properties(symbolize_every_insn PROPERTIES SKIP_RETURN_CODE 77)

# Minidump mode on the third-party fixtures (CW_FIXTURES_DIR; exit 77:
# absent).
cw_add_script_test(symbolize_dump
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/symbolize_test.py dump
  TIMEOUT 120 LABELS symbolizer fixtures)
set_tests_properties(symbolize_dump PROPERTIES SKIP_RETURN_CODE 77)

# End to end: a real crash (crashprog_O0, from tests/handler.cmake) captured
# by crashwatch, then `crashwatch symbolize REPORT_DIR` against the live
# unwind in event.json.
cw_add_script_test(symbolize_report
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/symbolize_test.py report
  TIMEOUT 120 LABELS symbolizer ptrace
  ENV "CW_CRASHPROG=$<TARGET_FILE:crashprog_O0>")
set_tests_properties(symbolize_report PROPERTIES SKIP_RETURN_CODE 77)
# A crash inside the vDSO: named in event.json and, from the image the
# minidump carries, by `crashwatch symbolize REPORT_DIR`.
cw_add_script_test(symbolize_vdso
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/symbolize_test.py vdso
  TIMEOUT 120 LABELS symbolizer ptrace
  ENV "CW_CRASHPROG=$<TARGET_FILE:crashprog_O0>")
set_tests_properties(symbolize_vdso PROPERTIES SKIP_RETURN_CODE 77)
# Issue 9 item 7: FIFOs as modules, debug files, .sym files and dumps.
cw_add_script_test(symbolize_fifo
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/symbolize_test.py fifo
  TIMEOUT 180 LABELS symbolizer ptrace
  ENV "CW_CRASHPROG=$<TARGET_FILE:crashprog_O0>" "CC=${CMAKE_C_COMPILER}")
