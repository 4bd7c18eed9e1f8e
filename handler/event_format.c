/*
 * event_format.c — a message's text, formatted into the caller's bounded
 * buffer (cw_capture_message; see events_internal.h). Normal context:
 * vsnprintf.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "events_internal.h"
#include "utf8.h"

size_t cw__event_format(char *out, size_t cap, const char *fmt, va_list ap) {
  /* cap - 1 bytes of text at most; vsnprintf tells how long it would be. */
  int n = vsnprintf(out, cap, fmt, ap);
  if (n < 0) {
    out[0] = '\0';
    return 0;
  }
  if ((size_t)n < cap)
    return (size_t)n;
  size_t keep = cw__utf8_boundary(out, cap - 1 - CW__UTF8_TRUNC_MARK_LEN);
  memcpy(out + keep, CW__UTF8_TRUNC_MARK, CW__UTF8_TRUNC_MARK_LEN);
  out[keep + CW__UTF8_TRUNC_MARK_LEN] = '\0';
  return keep + CW__UTF8_TRUNC_MARK_LEN;
}
