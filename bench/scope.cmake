# bench_scope: ns per call of the scope API, 1 and 2 threads (issue 10;
# bench/scope.sh runs it).
add_executable(bench_scope ${CMAKE_CURRENT_LIST_DIR}/scope.c)
target_link_libraries(bench_scope PRIVATE crashwatch Threads::Threads)
