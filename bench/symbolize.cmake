# bench_symbolize: crashwatch symbolize vs llvm-symbolizer vs addr2line on
# 20,000 addresses of SQLite (-O2 -g, fetched with npm at run time). Run it
# with `make bench` (bench/symbolize.sh) or `cmake --build B --target
# bench_symbolize`; it prints figures, it is not a test.
add_custom_target(bench_symbolize
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/symbolize.sh ${CMAKE_BINARY_DIR}
  DEPENDS crashwatch_cli
  USES_TERMINAL)
