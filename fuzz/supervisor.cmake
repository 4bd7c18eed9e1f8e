# `crashwatch run`'s reader of report events (supervisor/event_sig.c):
# a report directory is not the supervisor's own writing.
cw_add_fuzzer(fuzz_event_sig SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_event_sig.c
  LIBS cw_supervisor cw_errors)
