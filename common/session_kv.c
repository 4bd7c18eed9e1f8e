/* session_kv.c — session marker and update lines; see session_kv.h. */
#include "session_kv.h"

#include <stdio.h>
#include <string.h>

int cw__session_sid_ok(const char *s) {
  if (s == NULL || strlen(s) != 36)
    return 0;
  for (int i = 0; i < 36; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return 0;
  }
  return 1;
}

void cw__session_kv(char *buf, size_t cap, size_t *len, const char *k,
                    const char *v) {
  if (v == NULL || v[0] == '\0' || *len >= cap)
    return;
  for (const char *c = v; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      return;
  int n = snprintf(buf + *len, cap - *len, "%s=%s\n", k, v);
  if (n > 0 && (size_t)n < cap - *len)
    *len += (size_t)n;
  else
    buf[*len] = '\0'; /* a line that does not fit is left out whole */
}

void cw__session_kv_num(char *buf, size_t cap, size_t *len, const char *k,
                        long long v) {
  char num[32];
  snprintf(num, sizeof(num), "%lld", v);
  cw__session_kv(buf, cap, len, k, num);
}
