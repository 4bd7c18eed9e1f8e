/*
 * json.h — a small streaming JSON writer over cw_buf_t.
 *
 * The writer inserts commas itself: call cw_json_key() before each value in
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
  cw_buf_t *out;
  int depth;
  int need_comma[CW_JSON_MAX_DEPTH];
  int after_key;
  int pretty;
} cw_json_t;

void cw_json_init(cw_json_t *j, cw_buf_t *out, int pretty);
void cw_json_begin_object(cw_json_t *j);
void cw_json_end_object(cw_json_t *j);
void cw_json_begin_array(cw_json_t *j);
void cw_json_end_array(cw_json_t *j);
void cw_json_key(cw_json_t *j, const char *key);
void cw_json_string(cw_json_t *j, const char *s);
void cw_json_string_n(cw_json_t *j, const char *s, size_t n);
void cw_json_int(cw_json_t *j, int64_t v);
void cw_json_uint(cw_json_t *j, uint64_t v);
void cw_json_double(cw_json_t *j, double v);
void cw_json_bool(cw_json_t *j, int v);
void cw_json_null(cw_json_t *j);
/* "0x0000555555554000"-style hex string, as Sentry wants addresses. */
void cw_json_hex(cw_json_t *j, uint64_t v);
/* Inserts already-serialized JSON as one value (trusted input). */
void cw_json_raw(cw_json_t *j, const char *json, size_t n);

/* Writes s escaped, with quotes, to out (no writer state). */
void cw_json_escape(cw_buf_t *out, const char *s, size_t n);

#endif
