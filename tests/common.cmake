# Tests of common/: buffer, JSON writer, build-id/debug-id vectors.
cw_add_unit_test(test_common SOURCES unit/test_common.c LIBS cw_common crashwatch_static)
# Scrubbing the scope's values by key (issue 10).
cw_add_unit_test(test_scrub SOURCES unit/test_scrub.c LIBS cw_common crashwatch_static)
# The Prometheus text exposition writer of the metrics files (issue 13).
cw_add_unit_test(test_prom SOURCES unit/test_prom.c LIBS cw_common cw_errors)
# The JSON reader of `crashwatch list` / `show` and the journal (issue 13).
cw_add_unit_test(test_json_read SOURCES unit/test_json_read.c LIBS cw_common cw_errors)
