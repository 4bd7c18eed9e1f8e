/*
 * sym_main.c — the symbolizer's test program (with sym_util.c and
 * sym_inline.h). Built by tests/integration/symbolize_test.py at -O0/-O2,
 * DWARF 4/5, with and without frame pointers. Run, it prints the module
 * offset of a return address into main, for --return-address checks.
 */
#include <stdint.h>
#include <stdio.h>

#include "sym_inline.h"

int sym_util_work(int x);
int sym_util_leafonly(int x);
extern void *sym_return_address;
extern const char __executable_start[];

static __attribute__((noinline)) int sym_local(int x) {
  SYM_MARK(local);                  /* MARK:local */
  return sym_soft(x) + sym_leaf(x); /* CALL:local_leaf */
}

int main(int argc, char **argv) {
  (void)argv;
  int v = sym_util_work(argc); /* CALL:main_work */
  v += sym_util_leafonly(v);
  v += sym_local(argc);
  SYM_MARK(main); /* MARK:main */
  printf("ret %lx\n", (unsigned long)((uintptr_t)sym_return_address -
                                      (uintptr_t)__executable_start));
  return v == 12345;
}
