/*
 * utf8.h — bounded UTF-8 helpers for the scope (issue 10): truncating a
 * string on a character boundary with a marker (the writer,
 * handler/scope*.c) and checking or repairing text read back from the
 * mapping (the reader, common/scope.c).
 *
 * Async-signal-safe: no allocation, no locks, no libc calls but memcpy
 * (cw_add_breadcrumb uses them and is async-signal-safe).
 */
#ifndef CW_UTF8_H
#define CW_UTF8_H

#include <stddef.h>

/* The marker a truncated string ends with: U+2026 HORIZONTAL ELLIPSIS. */
#define CW__UTF8_TRUNC_MARK "\xe2\x80\xa6"
#define CW__UTF8_TRUNC_MARK_LEN 3

/* Copies src (len bytes) into dst (cap >= 8 bytes), NUL-terminated. If it
 * does not fit in cap - 1 bytes, it is cut on a UTF-8 character boundary
 * and ends with the marker, within cap - 1 bytes. Returns the bytes
 * written, NUL excluded. */
size_t cw__utf8_copy_trunc(char *dst, size_t cap, const char *src, size_t len);

/* Bytes of the longest prefix of s[0, n) that ends on a character
 * boundary when the string is cut at n. */
size_t cw__utf8_boundary(const char *s, size_t n);

/* 1 if s[0, n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF),
 * else 0. */
int cw__utf8_valid(const char *s, size_t n);

/* Copies s[0, n) into dst (cap bytes), each invalid byte replaced by
 * U+FFFD, NUL-terminated; stops early (on a character boundary) rather
 * than overflow. cap >= 3 * n + 1 always suffices. Returns the bytes
 * written, NUL excluded. */
size_t cw__utf8_sanitize(char *dst, size_t cap, const char *s, size_t n);

/* Encodes the code point cp (<= U+10FFFF) into out; returns its length,
 * 1 to 4. */
size_t cw__utf8_encode(unsigned cp, char out[4]);

#endif
