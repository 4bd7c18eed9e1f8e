# Fuzz targets of the minidump reader and the stackwalker.
set(_cw_md_fixtures ${CW_SHARED_FIXTURES}/breakpad ${CW_SHARED_FIXTURES}/crashpad)
cw_add_fuzzer(fuzz_minidump SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_minidump.c
  LIBS cw_symbolizer cw_common EXTRA_CORPUS ${_cw_md_fixtures})
cw_add_fuzzer(fuzz_stackwalk SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_stackwalk.c
  LIBS cw_symbolizer cw_common EXTRA_CORPUS ${_cw_md_fixtures})
cw_add_fuzzer(fuzz_symcfi SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_symcfi.c
  LIBS cw_symbolizer cw_common
  EXTRA_CORPUS ${CW_SHARED_FIXTURES}/breakpad/symbols/linux_inline/BBA6FA10B8AAB33D00000000000000000)
