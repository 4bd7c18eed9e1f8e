# The scope mapping's reader (issue 10): what the watchdog parses of the
# app's shared scope memory (common/scope.c).
cw_add_fuzzer(fuzz_scope SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_scope.c
  LIBS cw_common cw_errors)
