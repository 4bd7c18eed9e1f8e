/*
 * log.c — the supervisor's log lines (normal context): one line per
 * event on stderr, written with one write() so that they do not mix with
 * the program's output, which shares the stream.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "signals.h"
#include "sup_internal.h"

void cw__sup_log(const char *fmt, ...) {
  char line[4096 + 256];
  int n = snprintf(line, sizeof(line), "crashwatch run: ");
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if (m < 0)
    return;
  n += m;
  if ((size_t)n > sizeof(line) - 2)
    n = (int)sizeof(line) - 2;
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}

const char *cw__sup_signame(int sig) {
  const char *s = cw__signal_name(sig);
  if (s != NULL)
    return s;
  static char buf[32];
  snprintf(buf, sizeof(buf), "signal %d", sig);
  return buf;
}
