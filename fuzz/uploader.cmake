# Uploader parsers of outside input: the DSN / upload URL (from users and
# the environment) and the rate-limit headers (from servers).
cw_add_fuzzer(fuzz_dsn SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_dsn.c
  LIBS cw_common cw_errors)
cw_add_fuzzer(fuzz_ratelimit SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_ratelimit.c
  LIBS cw_uploader cw_errors)
# Log-line redaction (server bodies and libcurl trace lines are outside
# input).
cw_add_fuzzer(fuzz_redact SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_redact.c
  LIBS cw_uploader cw_errors)
# The spool's session file (issue 11: anything that can write the spool
# wrote it).
cw_add_fuzzer(fuzz_session SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_session.c
  LIBS cw_uploader cw_errors)
# A session marker the library reads back from the spool at the next start
# (issue 11), checked against the uploader's session parser.
cw_add_fuzzer(fuzz_session_marker
  SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_session_marker.c
  LIBS cw_uploader cw_errors)
foreach(t fuzz_session_marker fuzz_session_marker_libfuzzer)
  if(TARGET ${t})
    target_sources(${t} PRIVATE ${PROJECT_SOURCE_DIR}/handler/session_marker.c)
    target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/handler)
  endif()
endforeach()
