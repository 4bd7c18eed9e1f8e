/* crashlib.c — a shared library that crashes, for the crash-in-a-library
 * integration test. */
#if defined(__GNUC__) && !defined(__clang__)
#define CW_NOINLINE __attribute__((noinline, noipa))
#else
#define CW_NOINLINE __attribute__((noinline))
#endif

CW_NOINLINE int crashlib_fault(volatile int *p) {
  *p = 42; /* p is NULL */
  return *p + 1;
}

__attribute__((visibility("default"))) CW_NOINLINE int
crashlib_entry(volatile int *p) {
  int r = crashlib_fault(p);
  return r + 1;
}
