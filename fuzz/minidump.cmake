# Fuzz targets of the minidump reader and the stackwalker.
cw_add_fuzzer(fuzz_minidump SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_minidump.c
  LIBS cw_symbolizer cw_common)
cw_add_fuzzer(fuzz_stackwalk SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_stackwalk.c
  LIBS cw_symbolizer cw_common)
cw_add_fuzzer(fuzz_symcfi SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_symcfi.c
  LIBS cw_symbolizer cw_common)
