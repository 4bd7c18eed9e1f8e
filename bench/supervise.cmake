# bench/supervise.py: what `crashwatch run` costs (preload and ptrace
# modes) on a short program's start and run, ptrace mode on a
# signal-heavy program, and the crash -> report -> restart cycle.
# supervise_prog stands for somebody else's program: no sanitizers, and a
# -static copy for ptrace mode's usual case.
foreach(v bench_supervise_prog bench_supervise_prog_static)
  add_executable(${v} ${CMAKE_CURRENT_LIST_DIR}/supervise_prog.c)
  target_compile_options(${v} PRIVATE -O2 -g -fno-sanitize=all)
  target_link_options(${v} PRIVATE -fno-sanitize=all)
endforeach()
target_link_options(bench_supervise_prog_static PRIVATE -static)
