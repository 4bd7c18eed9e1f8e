# Tests of common/: buffer, JSON writer, build-id/debug-id vectors.
cw_add_unit_test(test_common SOURCES unit/test_common.c LIBS cw_common crashwatch_static)
