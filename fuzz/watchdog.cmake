# Fuzz target of the watchdog's module ELF reading and CFI unwinding.
cw_add_fuzzer(fuzz_wd_elf SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_wd_elf.c
  LIBS cw_capture cw_symbolizer cw_common)
