# bench_events: the caller's cost of cw_capture_message, the pause of
# cw_capture_dump at 6 and 64 threads, events per second into the spool
# (issue 11; bench/events.sh runs it).
add_executable(bench_events ${CMAKE_CURRENT_LIST_DIR}/events.c)
target_link_libraries(bench_events PRIVATE crashwatch Threads::Threads)
