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
