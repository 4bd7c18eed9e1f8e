/*
 * json.h — a small streaming JSON writer over cw__buf_t.
 *
 * The writer inserts commas itself: call cw__json_key() before each value in
 * an object, nothing before values in an array. Strings are escaped as JSON
 * requires; invalid UTF-8 bytes become U+FFFD so the output always parses.
 * Nesting depth is limited to CW_JSON_MAX_DEPTH.
 */
#ifndef CW_JSON_H
#define CW_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CW_JSON_MAX_DEPTH 32

typedef struct {
  cw__buf_t *out;
  int depth;
  int need_comma[CW_JSON_MAX_DEPTH];
  int after_key;
  int pretty;
} cw__json_t;

void cw__json_init(cw__json_t *j, cw__buf_t *out, int pretty);
void cw__json_begin_object(cw__json_t *j);
void cw__json_end_object(cw__json_t *j);
void cw__json_begin_array(cw__json_t *j);
void cw__json_end_array(cw__json_t *j);
void cw__json_key(cw__json_t *j, const char *key);
/* A key of n bytes (may hold NUL bytes, written as \u0000). */
void cw__json_key_n(cw__json_t *j, const char *key, size_t n);
void cw__json_string(cw__json_t *j, const char *s);
void cw__json_string_n(cw__json_t *j, const char *s, size_t n);
void cw__json_int(cw__json_t *j, int64_t v);
void cw__json_uint(cw__json_t *j, uint64_t v);
void cw__json_double(cw__json_t *j, double v);
void cw__json_bool(cw__json_t *j, int v);
void cw__json_null(cw__json_t *j);
/* "0x0000555555554000"-style hex string, as Sentry wants addresses. */
void cw__json_hex(cw__json_t *j, uint64_t v);
/* Inserts already-serialized JSON as one value (trusted input). */
void cw__json_raw(cw__json_t *j, const char *json, size_t n);

/* Writes s escaped, with quotes, to out (no writer state). */
void cw__json_escape(cw__buf_t *out, const char *s, size_t n);

#endif
