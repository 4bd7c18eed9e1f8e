# The JSON reader of `crashwatch list` / `show` and the delivery journal
# (common/json_read.c): spooled event.json files and journal lines are
# outside input.
cw_add_fuzzer(fuzz_json_read SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_json_read.c
  LIBS cw_common cw_errors)
# The process id peek of `crashwatch list` and the journal
# (common/md_pid.c): spooled minidumps are outside input.
cw_add_fuzzer(fuzz_md_pid SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_md_pid.c
  LIBS cw_common cw_errors)
