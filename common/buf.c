#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashwatch.h"

void cw__buf_free(cw__buf_t *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

int cw__buf_reserve(cw__buf_t *b, size_t n) {
  if (b->oom)
    return CW_ENOMEM;
  if (n <= b->cap - b->len)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < n) {
    if (cap > SIZE_MAX / 2) {
      b->oom = 1;
      return CW_ENOMEM;
    }
    cap *= 2;
  }
  uint8_t *p = realloc(b->data, cap);
  if (p == NULL) {
    b->oom = 1;
    return CW_ENOMEM;
  }
  b->data = p;
  b->cap = cap;
  return 0;
}

void cw__buf_append(cw__buf_t *b, const void *data, size_t n) {
  if (n == 0 || cw__buf_reserve(b, n) != 0)
    return;
  memcpy(b->data + b->len, data, n);
  b->len += n;
}

void cw__buf_append_str(cw__buf_t *b, const char *s) {
  cw__buf_append(b, s, strlen(s));
}

void cw__buf_vprintf(cw__buf_t *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0 || cw__buf_reserve(b, (size_t)n + 1) != 0)
    return;
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void cw__buf_printf(cw__buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cw__buf_vprintf(b, fmt, ap);
  va_end(ap);
}

size_t cw__buf_append_zeros(cw__buf_t *b, size_t n) {
  size_t off = b->len;
  if (cw__buf_reserve(b, n) != 0)
    return off;
  memset(b->data + b->len, 0, n);
  b->len += n;
  return off;
}

const char *cw__buf_cstr(cw__buf_t *b) {
  if (cw__buf_reserve(b, 1) != 0)
    return NULL;
  b->data[b->len] = '\0';
  return (const char *)b->data;
}
