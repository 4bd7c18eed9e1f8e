# bench_session: what release health adds to cw_init() and cw_shutdown()
# (bench/session.sh runs it).
add_executable(bench_session ${CMAKE_CURRENT_LIST_DIR}/session.c)
target_link_libraries(bench_session PRIVATE crashwatch)
