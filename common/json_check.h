/*
 * json_check.h — JSON syntax check (libc only, no allocation).
 *
 * Decides whether a byte string is one JSON value (RFC 8259 syntax) with
 * nothing but whitespace around it. Used by the uploader on every spooled
 * event.json before sending it, and by the app-side library on the JSON
 * arguments of the scope setters (cw_set_extra, cw_set_context, breadcrumb
 * data), so both sides agree on what valid JSON is.
 *
 * Contract:
 *  - Allocates nothing (no heap; a fixed 128-byte nesting stack on the
 *    caller's stack), makes no system call, keeps no state between calls:
 *    it is thread-safe, reentrant, and async-signal-safe.
 *  - Iterative: input nesting never grows the C stack.
 *  - Reads exactly s[0..n); NUL bytes are data (refused outside strings and,
 *    being control characters, inside them too). s need not be
 *    NUL-terminated.
 *  - Numbers, literals and escapes are checked for syntax only (a number's
 *    magnitude and a \u escape naming a lone surrogate are accepted).
 *  - Bytes >= 0x80 inside strings are accepted as they are unless
 *    CW__JSON_CHECK_UTF8 is given; outside strings they are refused.
 */
#ifndef CW_COMMON_JSON_CHECK_H
#define CW_COMMON_JSON_CHECK_H

#include <stddef.h>

/* flags */
#define CW__JSON_CHECK_ANY 0x0    /* any JSON value */
#define CW__JSON_CHECK_OBJECT 0x1 /* the value must be an object ({...}) */
#define CW__JSON_CHECK_UTF8                                                    \
  0x2 /* strings must be well-formed UTF-8                                     \
         (no overlong forms, no surrogates,                                    \
         nothing above U+10FFFF) */

/* Nesting limits: max_depth counts containers ("[]" and "{}" are depth 1,
 * "[[1]]" depth 2; a scalar alone is depth 0). 0 selects the default;
 * values above CW__JSON_CHECK_MAX_DEPTH are lowered to it. */
#define CW__JSON_CHECK_DEFAULT_DEPTH 128
#define CW__JSON_CHECK_MAX_DEPTH 1024

/*
 * Checks s[0..n). Returns 0 when it is valid under flags and max_depth;
 * otherwise CW_EFORMAT, with the offset of the first byte found wrong in
 * *err_off (n for a truncated input) and a static English description in
 * *what ("expected ':'", "nesting too deep", "not a JSON object"...).
 * err_off and what may be NULL.
 */
int cw__json_check(const char *s, size_t n, unsigned flags, unsigned max_depth,
                   size_t *err_off, const char **what);

#endif
