# bench_chain: the cost of staying in the chain — pthread_create with and
# without the per-thread alternate stack, and SIGSEGVs recovered in the
# program's own handler with and without crashwatch (bench/chain.sh).
add_executable(bench_chain ${CMAKE_CURRENT_LIST_DIR}/chain.c)
target_compile_options(bench_chain PRIVATE -O2)
target_compile_definitions(bench_chain PRIVATE CW_BENCH_WITH_CRASHWATCH)
target_link_libraries(bench_chain PRIVATE crashwatch Threads::Threads)
add_executable(bench_chain_plain ${CMAKE_CURRENT_LIST_DIR}/chain.c)
target_compile_options(bench_chain_plain PRIVATE -O2)
target_link_libraries(bench_chain_plain PRIVATE Threads::Threads)
