/*
 * sym_inline.h — inline helpers of the symbolizer's test program. Each
 * SYM_MARK(tag) leaves a nop under a local label cw_mark_<tag>_<n> (one per
 * copy the compiler makes), so the test finds the addresses with nm and
 * knows which source line they must map to: the line holding the
 * "MARK:<tag>" comment. "CALL:<name>" comments mark the call sites the
 * inline chain must name.
 */
#ifndef SYM_INLINE_H
#define SYM_INLINE_H

#define SYM_MARK(tag) __asm__ volatile("cw_mark_" #tag "_%=: nop" ::: "memory")

extern volatile int sym_sink;

static inline __attribute__((always_inline)) int sym_leaf(int x) {
  SYM_MARK(leaf); /* MARK:leaf */
  sym_sink = x;
  return x * 3 + 1;
}

static inline __attribute__((always_inline)) int sym_mid(int x) {
  int y = sym_leaf(x + 1); /* CALL:mid_leaf */
  SYM_MARK(mid);           /* MARK:mid */
  sym_sink = y;
  return y ^ 5;
}

/* Plain static inline: inlined at -O2, a call at -O0. */
static inline int sym_soft(int x) {
  int s = 0;
  for (int i = 0; i < x; i++)
    s += i * sym_sink;
  return s;
}

#endif
