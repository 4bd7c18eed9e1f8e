# bench_capture: fault->report and fault->exit for 1/6/16/128 threads,
# cw_init time, watchdog idle RSS, minidump size (bench/capture.sh runs it).
add_executable(bench_capture ${CMAKE_CURRENT_LIST_DIR}/capture.c)
target_link_libraries(bench_capture PRIVATE crashwatch Threads::Threads)
