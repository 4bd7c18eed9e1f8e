/* default_spool.c — which spool a crashwatch command works on when
 * --spool is not given: the same rule as the library's cw_init() (see
 * handler/options.c). Normal context. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"

const char *cw__cli_default_spool(const char *given, char *buf, size_t cap) {
  if (given != NULL)
    return given;
  const char *s = getenv("CRASHWATCH_SPOOL");
  if (s != NULL && s[0] != '\0')
    return s;
  const char *x = getenv("XDG_STATE_HOME");
  if (x != NULL && x[0] == '/') {
    snprintf(buf, cap, "%s/crashwatch/reports", x);
    return buf;
  }
  const char *h = getenv("HOME");
  if (h == NULL || h[0] == '\0')
    return NULL;
  snprintf(buf, cap, "%s/.local/state/crashwatch/reports", h);
  return buf;
}
