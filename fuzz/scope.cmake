# The scope's app-written JSON (extra, contexts, breadcrumb data) as the
# watchdog re-emits it with scrubbed values (issue 10).
cw_add_fuzzer(fuzz_scrub_json SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_scrub_json.c
  LIBS cw_uploader cw_common cw_errors)
