/*
 * buf.h — a growable byte buffer for normal (not signal) context.
 *
 * The buffer owns its memory; cw__buf_free() releases it. After an allocation
 * failure the buffer remembers it (b->oom) and ignores further appends, so a
 * caller can append many pieces and check once at the end.
 */
#ifndef CW_BUF_H
#define CW_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t *data;
  size_t len;
  size_t cap;
  int oom;
} cw__buf_t;

#define CW_BUF_INIT                                                            \
  { NULL, 0, 0, 0 }

void cw__buf_free(cw__buf_t *b);
/* Makes room for n more bytes; returns 0 or CW_ENOMEM. */
int cw__buf_reserve(cw__buf_t *b, size_t n);
void cw__buf_append(cw__buf_t *b, const void *data, size_t n);
void cw__buf_append_str(cw__buf_t *b, const char *s);
void cw__buf_printf(cw__buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cw__buf_vprintf(cw__buf_t *b, const char *fmt, va_list ap);
/* Appends n zero bytes and returns their offset (for later patching). */
size_t cw__buf_append_zeros(cw__buf_t *b, size_t n);
/* NUL-terminates without counting the terminator in len; returns data as a
 * C string, or NULL after an allocation failure. */
const char *cw__buf_cstr(cw__buf_t *b);

#endif
