# bench_fork: fork() cost with crashwatch's fork coverage on, off, and
# without crashwatch (bench/fork.sh runs it).
add_executable(bench_fork ${CMAKE_CURRENT_LIST_DIR}/fork.c)
target_link_libraries(bench_fork PRIVATE crashwatch)
