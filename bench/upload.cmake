# bench_upload: reports/second drained by `crashwatch upload` into the
# loopback collector (1,000 small reports; 100 with 1 MB minidumps) and the
# gzip ratio. Figures only, never a test (bench/upload.sh).
add_custom_target(bench_upload
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/upload.sh ${CMAKE_BINARY_DIR}
  DEPENDS crashwatch_cli
  USES_TERMINAL)
