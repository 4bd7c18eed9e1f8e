# The scope's app-written JSON (extra, contexts, breadcrumb data) as the
# watchdog re-emits it with scrubbed values (issue 10).
cw_add_fuzzer(fuzz_scrub_json SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_scrub_json.c
  LIBS cw_uploader cw_common cw_errors)
# The release and tags a multipart upload reads out of a spooled event.json.
cw_add_fuzzer(fuzz_report_fields SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_report_fields.c
  LIBS cw_uploader cw_common cw_errors)
# An application's event (cw_capture_event, issue 11) as the watchdog walks
# its members and merges it with the scope.
cw_add_fuzzer(fuzz_app_event SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_app_event.c
  LIBS cw_capture cw_common cw_errors)
