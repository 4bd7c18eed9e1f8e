# The Breakpad .sym parser (symbolizer/breakpad_sym.c).
cw_add_fuzzer(fuzz_breakpad_sym SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_breakpad_sym.c
  LIBS cw_symbolizer cw_common)
