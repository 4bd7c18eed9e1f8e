/* sym_util.c — second file of the symbolizer's test program. */
#include "sym_inline.h"

volatile int sym_sink;
void *sym_return_address;

__attribute__((noinline)) int sym_util_work(int x) {
  sym_return_address = __builtin_return_address(0);
  int r = sym_mid(x); /* CALL:util_mid */
  SYM_MARK(util);     /* MARK:util */
  sym_sink = r;
  return r + 7 + sym_soft(x);
}

__attribute__((noinline)) int sym_util_leafonly(int x) {
  int r = sym_leaf(x); /* CALL:util_leaf */
  return r + 2;
}
