/* json_check.c — JSON syntax check; see json_check.h. Plain loops over the
 * input only (no libc calls), so it is safe in any context. */
#include "json_check.h"

#include <stdint.h>

#include "crashwatch.h"

typedef struct {
  const char *s;
  size_t n, i;
  unsigned flags;
  const char *what;
} jc_t;

static int jc_fail(jc_t *c, const char *what) {
  c->what = what;
  return -1;
}

static void jc_ws(jc_t *c) {
  while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' ||
                         c->s[c->i] == '\n' || c->s[c->i] == '\r'))
    c->i++;
}

static int is_hex(char h) {
  return (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
         (h >= 'A' && h <= 'F');
}

static int byte_at(const jc_t *c, size_t k) {
  return k < c->n ? (unsigned char)c->s[k] : -1;
}

/* One UTF-8 sequence starting at c->i (a byte >= 0x80); advances past it.
 * Well-formed per RFC 3629: no overlong forms, no surrogates, <= U+10FFFF. */
static int jc_utf8(jc_t *c) {
  int b = byte_at(c, c->i);
  int lo = 0x80, hi = 0xBF, more;
  if (b >= 0xC2 && b <= 0xDF) {
    more = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    more = 2;
    if (b == 0xE0)
      lo = 0xA0;
    else if (b == 0xED)
      hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    more = 3;
    if (b == 0xF0)
      lo = 0x90;
    else if (b == 0xF4)
      hi = 0x8F;
  } else {
    return jc_fail(c, "invalid UTF-8 in string");
  }
  for (int k = 1; k <= more; k++) {
    int x = byte_at(c, c->i + (size_t)k);
    if (x < (k == 1 ? lo : 0x80) || x > (k == 1 ? hi : 0xBF)) {
      c->i += (size_t)k;
      return jc_fail(c, x < 0 ? "truncated UTF-8 in string"
                              : "invalid UTF-8 in string");
    }
  }
  c->i += (size_t)more + 1;
  return 0;
}

/* The escape after a backslash, c->i on the character after it. */
static int jc_escape(jc_t *c) {
  char e = c->s[c->i];
  if (e == 'u') {
    for (size_t k = 1; k <= 4; k++) {
      if (c->i + k >= c->n)
        return jc_fail(c, "truncated \\u escape");
      if (!is_hex(c->s[c->i + k]))
        return jc_fail(c, "bad \\u escape");
    }
    c->i += 5;
    return 0;
  }
  if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
      e == 'r' || e == 't') {
    c->i++;
    return 0;
  }
  return jc_fail(c, "bad escape in string");
}

/* A string, c->i on its opening quote. */
static int jc_string(jc_t *c) {
  c->i++;
  while (c->i < c->n) {
    unsigned char ch = (unsigned char)c->s[c->i];
    if (ch == '"') {
      c->i++;
      return 0;
    }
    if (ch < 0x20)
      return jc_fail(c, "control character in string");
    if (ch == '\\') {
      c->i++;
      if (c->i >= c->n)
        break;
      if (jc_escape(c) != 0)
        return -1;
    } else if (ch >= 0x80 && (c->flags & CW__JSON_CHECK_UTF8)) {
      if (jc_utf8(c) != 0)
        return -1;
    } else {
      c->i++;
    }
  }
  return jc_fail(c, "unterminated string");
}

static int jc_digits(jc_t *c) {
  size_t start = c->i;
  while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
    c->i++;
  return c->i > start ? 0 : -1;
}

static int jc_number(jc_t *c) {
  if (c->s[c->i] == '-')
    c->i++;
  if (c->i < c->n && c->s[c->i] == '0')
    c->i++;
  else if (jc_digits(c) != 0)
    return jc_fail(c, "bad number");
  if (c->i < c->n && c->s[c->i] == '.') {
    c->i++;
    if (jc_digits(c) != 0)
      return jc_fail(c, "bad number fraction");
  }
  if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
    c->i++;
    if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
      c->i++;
    if (jc_digits(c) != 0)
      return jc_fail(c, "bad number exponent");
  }
  return 0;
}

static int jc_literal(jc_t *c) {
  static const char *const lits[] = {"true", "false", "null"};
  for (int k = 0; k < 3; k++) {
    size_t l = 0;
    while (lits[k][l] != '\0' && c->i + l < c->n &&
           c->s[c->i + l] == lits[k][l])
      l++;
    if (lits[k][l] == '\0') {
      c->i += l;
      return 0;
    }
  }
  return jc_fail(c, "unexpected character");
}

/* A string, a number or a literal, c->i on its first character. */
static int jc_scalar(jc_t *c) {
  char ch = c->s[c->i];
  if (ch == '"')
    return jc_string(c);
  if (ch == '-' || (ch >= '0' && ch <= '9'))
    return jc_number(c);
  return jc_literal(c);
}

/* An object member's key and colon, c->i before the key. */
static int jc_key(jc_t *c) {
  jc_ws(c);
  if (c->i >= c->n || c->s[c->i] != '"')
    return jc_fail(c, "expected a string key");
  if (jc_string(c) != 0)
    return -1;
  jc_ws(c);
  if (c->i >= c->n || c->s[c->i] != ':')
    return jc_fail(c, "expected ':'");
  c->i++;
  return 0;
}

/* The nesting stack: one bit per open container, set for an object. */
typedef struct {
  uint8_t bits[CW__JSON_CHECK_MAX_DEPTH / 8];
  unsigned depth, max;
} jc_stack_t;

static int top_is_object(const jc_stack_t *st) {
  unsigned d = st->depth - 1;
  return (st->bits[d / 8] >> (d % 8)) & 1;
}

/* Opens the container at c->i. Returns 1 if it was empty (and is closed
 * again), 0 if a value (after a key, for an object) comes next, -1. */
static int jc_open(jc_t *c, jc_stack_t *st) {
  int obj = c->s[c->i] == '{';
  if (st->depth >= st->max)
    return jc_fail(c, "nesting too deep");
  unsigned d = st->depth++;
  st->bits[d / 8] = (uint8_t)((st->bits[d / 8] & ~(1u << (d % 8))) |
                              ((unsigned)obj << (d % 8)));
  c->i++;
  jc_ws(c);
  if (c->i < c->n && c->s[c->i] == (obj ? '}' : ']')) {
    c->i++;
    st->depth--;
    return 1;
  }
  return obj ? jc_key(c) : 0;
}

/* After a value inside containers: closes finished containers. Returns 0
 * when another value follows (after its key, in an object), 1 when the
 * outermost container is closed, -1. */
static int jc_after_value(jc_t *c, jc_stack_t *st) {
  while (st->depth > 0) {
    int obj = top_is_object(st);
    jc_ws(c);
    if (c->i >= c->n)
      return jc_fail(c, "unexpected end of input");
    if (c->s[c->i] == ',') {
      c->i++;
      return obj ? jc_key(c) : 0;
    }
    if (c->s[c->i] != (obj ? '}' : ']'))
      return jc_fail(c, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    c->i++;
    st->depth--;
  }
  return 1;
}

/* One complete value from c->i, containers included. */
static int jc_value(jc_t *c, unsigned max_depth) {
  jc_stack_t st = {{0}, 0, max_depth};
  for (;;) {
    jc_ws(c);
    if (c->i >= c->n)
      return jc_fail(c, "unexpected end of input");
    int r;
    if (c->s[c->i] == '{' || c->s[c->i] == '[') {
      r = jc_open(c, &st);
      if (r < 0)
        return -1;
      if (r == 0)
        continue; /* the container's first value */
    } else if (jc_scalar(c) != 0) {
      return -1;
    }
    r = jc_after_value(c, &st);
    if (r != 0)
      return r < 0 ? -1 : 0;
  }
}

int cw__json_check(const char *s, size_t n, unsigned flags, unsigned max_depth,
                   size_t *err_off, const char **what) {
  if (max_depth == 0)
    max_depth = CW__JSON_CHECK_DEFAULT_DEPTH;
  if (max_depth > CW__JSON_CHECK_MAX_DEPTH)
    max_depth = CW__JSON_CHECK_MAX_DEPTH;
  jc_t c = {s, n, 0, flags, NULL};
  jc_ws(&c);
  if ((flags & CW__JSON_CHECK_OBJECT) && (c.i >= n || s[c.i] != '{')) {
    c.what = "not a JSON object";
  } else if (jc_value(&c, max_depth) == 0) {
    jc_ws(&c);
    if (c.i == n)
      return 0;
    c.what = "trailing data after the JSON value";
  }
  if (err_off != NULL)
    *err_off = c.i;
  if (what != NULL)
    *what = c.what;
  return CW_EFORMAT;
}
