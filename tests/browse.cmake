# The operator's view of a spool (issue 13): the metrics file of
# `crashwatch upload --watch --metrics-file`, the delivery journal,
# `crashwatch list` and `crashwatch show`, on real spools delivered by the
# real `crashwatch upload` to the loopback collector.
foreach(s metrics prom_parser_rejects)
  cw_add_script_test(browse_${s}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/browse_test.py ${s}
    TIMEOUT 120 LABELS "uploader;browse"
    ENV "CW_CRASHPROG=$<TARGET_FILE:crashprog_O2>")
endforeach()
