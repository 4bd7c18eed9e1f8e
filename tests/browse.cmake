# The operator's view of a spool (issue 13): the metrics file of
# `crashwatch upload --watch --metrics-file`, the delivery journal,
# `crashwatch list` and `crashwatch show`, on real spools (real crashes of
# the crash test programs) delivered by the real `crashwatch upload` to the
# loopback collector, and the watchdog's summary after an automatic upload.
foreach(s metrics prom_parser_rejects list show message_level journal_bounded
          summary events list_hostile)
  cw_add_script_test(browse_${s}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/browse_test.py ${s}
    TIMEOUT 180 LABELS "uploader;browse;crash;ptrace"
    ENV "CW_CRASHPROG=$<TARGET_FILE:crashprog_O2>"
        "CW_SCOPEPROG=$<TARGET_FILE:scopeprog>"
        "CW_EVENTPROG=$<TARGET_FILE:eventprog>")
endforeach()
