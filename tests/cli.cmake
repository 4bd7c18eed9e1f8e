# Tests of the crashwatch command as a whole (its subcommands are tested
# with their modules: symbolizer.cmake, uploader.cmake).

# Issue 14 point 4: `dump` and `symbolize` load libc, libdw, libelf and
# their compression libraries only (never libcurl, libdebuginfod or
# libcrashwatch; LD_DEBUG=libs on a real crash's report), `upload` loads
# libcurl by dlopen, and the binary holds nothing of the app library.
cw_add_script_test(cli_loads_only_needed
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_libs_test.py
          --cli $<TARGET_FILE:crashwatch_cli> --prog $<TARGET_FILE:crashprog_O2>
  TIMEOUT 120 LABELS "cli;crash;ptrace")

# Issue 13: -h wherever --help works, `crashwatch help CMD`, every help
# lists its exit status (generic over the commands --help lists).
cw_add_script_test(cli_help
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_help_test.sh
          $<TARGET_FILE:crashwatch_cli>
  TIMEOUT 60 LABELS "cli")

# Issue 13: the CLI's rough edges (no upload target, --once --watch, a
# mistyped spool, symbolize --exe of a missing binary).
cw_add_script_test(cli_rough_edges
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli_rough_edges_test.sh
          $<TARGET_FILE:crashwatch_cli>
  TIMEOUT 60 LABELS "cli")
