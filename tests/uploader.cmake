# Tests of the uploader: DSN parsing (common/dsn.c, shared with the handler),
# rate limits, envelope/multipart encoding, spool, and the loopback
# collector-driven integration tests.
cw_add_unit_test(test_dsn SOURCES unit/test_dsn.c LIBS cw_common crashwatch_static)
