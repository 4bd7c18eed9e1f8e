#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void cw__json_init(cw__json_t *j, cw__buf_t *out, int pretty) {
  memset(j, 0, sizeof(*j));
  j->out = out;
  j->pretty = pretty;
}

static void newline(cw__json_t *j) {
  if (!j->pretty)
    return;
  cw__buf_append(j->out, "\n", 1);
  for (int i = 0; i < j->depth; i++)
    cw__buf_append(j->out, "  ", 2);
}

/* Called before every value and key: separators and indentation. */
static void before_value(cw__json_t *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->depth > 0) {
    if (j->need_comma[j->depth - 1])
      cw__buf_append(j->out, ",", 1);
    j->need_comma[j->depth - 1] = 1;
    newline(j);
  }
}

static void open(cw__json_t *j, char c) {
  before_value(j);
  cw__buf_append(j->out, &c, 1);
  if (j->depth < CW_JSON_MAX_DEPTH)
    j->need_comma[j->depth] = 0;
  j->depth++;
}

static void close_(cw__json_t *j, char c) {
  int had = j->depth > 0 && j->depth <= CW_JSON_MAX_DEPTH &&
            j->need_comma[j->depth - 1];
  if (j->depth > 0)
    j->depth--;
  if (had)
    newline(j);
  cw__buf_append(j->out, &c, 1);
}

void cw__json_begin_object(cw__json_t *j) { open(j, '{'); }
void cw__json_end_object(cw__json_t *j) { close_(j, '}'); }
void cw__json_begin_array(cw__json_t *j) { open(j, '['); }
void cw__json_end_array(cw__json_t *j) { close_(j, ']'); }

void cw__json_key(cw__json_t *j, const char *key) {
  cw__json_key_n(j, key, strlen(key));
}

void cw__json_key_n(cw__json_t *j, const char *key, size_t n) {
  before_value(j);
  cw__json_escape(j->out, key, n);
  cw__buf_append(j->out, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
  j->after_key = 1;
}

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80)
    return 1;
  if ((c & 0xe0) == 0xc0) {
    len = 2;
    min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (len > n)
    return 0;
  unsigned cp = c & (0x7f >> len);
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

void cw__json_escape(cw__buf_t *out, const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  cw__buf_append(out, "\"", 1);
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      cw__buf_append(out, esc, 2);
      i++;
    } else if (c < 0x20) {
      switch (c) {
      case '\n':
        cw__buf_append(out, "\\n", 2);
        break;
      case '\r':
        cw__buf_append(out, "\\r", 2);
        break;
      case '\t':
        cw__buf_append(out, "\\t", 2);
        break;
      default:
        cw__buf_printf(out, "\\u%04x", c);
        break;
      }
      i++;
    } else if (c < 0x80) {
      cw__buf_append(out, &s[i], 1);
      i++;
    } else {
      size_t l = utf8_len(s + i, n - i);
      if (l == 0) {
        cw__buf_append(out, "\\ufffd", 6);
        i++;
      } else {
        cw__buf_append(out, s + i, l);
        i += l;
      }
    }
  }
  cw__buf_append(out, "\"", 1);
}

void cw__json_string(cw__json_t *j, const char *s) {
  if (s == NULL) {
    cw__json_null(j);
    return;
  }
  cw__json_string_n(j, s, strlen(s));
}

void cw__json_string_n(cw__json_t *j, const char *s, size_t n) {
  before_value(j);
  cw__json_escape(j->out, s, n);
}

void cw__json_int(cw__json_t *j, int64_t v) {
  before_value(j);
  cw__buf_printf(j->out, "%" PRId64, v);
}

void cw__json_uint(cw__json_t *j, uint64_t v) {
  before_value(j);
  cw__buf_printf(j->out, "%" PRIu64, v);
}

void cw__json_double(cw__json_t *j, double v) {
  before_value(j);
  if (!isfinite(v))
    cw__buf_append(j->out, "null", 4);
  else
    cw__buf_printf(j->out, "%.17g", v);
}

void cw__json_bool(cw__json_t *j, int v) {
  before_value(j);
  cw__buf_append_str(j->out, v ? "true" : "false");
}

void cw__json_null(cw__json_t *j) {
  before_value(j);
  cw__buf_append(j->out, "null", 4);
}

void cw__json_hex(cw__json_t *j, uint64_t v) {
  before_value(j);
  cw__buf_printf(j->out, "\"0x%" PRIx64 "\"", v);
}

void cw__json_raw(cw__json_t *j, const char *json, size_t n) {
  before_value(j);
  cw__buf_append(j->out, json, n);
}
