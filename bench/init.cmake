# bench_init: cw_init() in a fresh process with a new spool directory, as
# the peers harness measures it (bench/init.sh runs it).
add_executable(bench_init ${CMAKE_CURRENT_LIST_DIR}/init.c)
target_link_libraries(bench_init PRIVATE crashwatch)
