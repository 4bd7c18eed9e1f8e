# `crashwatch run` (supervisor/, cli/cmd_run.c; docs/supervisor.md).

# The program under supervision knows nothing of crashwatch, and stands
# for somebody else's binary: never sanitized, built dynamically linked and
# with -static (ptrace mode's case).
foreach(v run_target run_target_static)
  add_executable(${v} progs/run_target.c)
  target_compile_options(${v} PRIVATE -g -O1 -fno-omit-frame-pointer
                         -fno-sanitize=all)
  target_link_options(${v} PRIVATE -fno-sanitize=all)
endforeach()
target_link_options(run_target_static PRIVATE -static)

foreach(c preload ptrace entry pid1 badinput upload restart hook metrics)
  cw_add_script_test(run_${c}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_test.py
            ${c} --cli $<TARGET_FILE:crashwatch_cli>
            --target $<TARGET_FILE:run_target>
            --static $<TARGET_FILE:run_target_static>
    TIMEOUT 240 LABELS "supervisor;crash;ptrace")
  set_tests_properties(run_${c} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()
# The preload library and the watchdog must be built for `run` to find
# them in the build tree.
add_dependencies(run_target crashwatch_preload crashwatch-watchdog)

cw_add_unit_test(test_supervisor SOURCES unit/test_supervisor.c
  LIBS cw_supervisor cw_common cw_errors LABELS supervisor)
