# The Breakpad .sym parser (symbolizer/breakpad_sym.c).
cw_add_fuzzer(fuzz_breakpad_sym SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_breakpad_sym.c
  LIBS cw_symbolizer cw_common
  EXTRA_CORPUS ${CW_SHARED_FIXTURES}/breakpad/symbols/linux_inline/BBA6FA10B8AAB33D00000000000000000)
# The DWARF line program decoder (symbolizer/lineprog.c).
cw_add_fuzzer(fuzz_dwarf_line SOURCE ${CMAKE_CURRENT_LIST_DIR}/fuzz_dwarf_line.c
  LIBS cw_symbolizer cw_common)
target_link_libraries(fuzz_dwarf_line PRIVATE PkgConfig::LIBELF)
