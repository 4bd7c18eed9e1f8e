/* sigunsafe.c — a deliberately wrong "signal context" object: it calls
 * printf and malloc. handler_signal_safe_rejects checks that
 * tests/check-signal-safe.sh refuses it, so the real check can fail. */
#include <stdio.h>
#include <stdlib.h>

void cw_test_bad_handler(int signo) {
  char *p = malloc(16);
  printf("signal %d %p\n", signo, (void *)p);
  free(p);
}
