# The one ELF layer (elf/include/cw_elf.h) on module files and vDSO images (outside
# input), as the watchdog (open, build-id, segments, symbols, the one-pass
# naming, CFI unwinding) and the symbolizer (an image from a minidump) use
# it.
cw_add_fuzzer(fuzz_elf SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_elf.c
  LIBS cw_capture cw_symbolizer cw_elf cw_common)
