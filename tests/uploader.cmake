# Tests of the uploader: DSN parsing (common/dsn.c, shared with the handler),
# rate limits, envelope/multipart encoding, spool, and the loopback
# collector-driven integration tests.
cw_add_unit_test(test_dsn SOURCES unit/test_dsn.c LIBS cw_common crashwatch_static)

# Integration: the real `crashwatch upload` against the loopback collector.
foreach(s envelope multipart config permanent retry down_then_up kill9
          ratelimit corrupt tls two_uploaders diskfull prune max_age)
  cw_add_script_test(upload_${s}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/upload_test.py ${s}
    TIMEOUT 90 LABELS uploader)
endforeach()
