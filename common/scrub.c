/*
 * scrub.c — scrubbing the scope's values by key (see scrub.h). Normal
 * context.
 *
 * cw__scrub_json() is a recursive-descent JSON parser that writes as it
 * reads, into a buffer of its own: only a text that parsed completely is
 * copied into the caller's writer, so a malformed one leaves nothing of
 * itself in the event. A filtered member's value is still parsed (in skip
 * mode, writing nothing), so the text is checked whole.
 */
#include "scrub.h"

#include <string.h>

#include "buf.h"
#include "utf8.h"
#include "crashwatch.h"

static char lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void add_key(cw__scrub_t *s, const char *k, size_t n) {
  while (n > 0 && (*k == ' ' || *k == '\t'))
    k++, n--;
  while (n > 0 && (k[n - 1] == ' ' || k[n - 1] == '\t'))
    n--;
  if (n == 0 || n > CW_SCRUB_MAX_KEY_LEN || s->nkeys >= CW_SCRUB_MAX_KEYS)
    return;
  for (size_t i = 0; i < n; i++)
    s->keys[s->nkeys][i] = lower(k[i]);
  s->keys[s->nkeys][n] = '\0';
  s->nkeys++;
}

static void add_list(cw__scrub_t *s, const char *list) {
  while (list != NULL && *list != '\0') {
    const char *comma = strchr(list, ',');
    size_t n = comma ? (size_t)(comma - list) : strlen(list);
    add_key(s, list, n);
    list = comma ? comma + 1 : NULL;
  }
}

void cw__scrub_init(cw__scrub_t *s, int use_defaults, const char *extra) {
  s->nkeys = 0;
  if (use_defaults)
    add_list(s, CW_SCRUB_DEFAULT_KEYS);
  add_list(s, extra);
}

int cw__scrub_key_matches(const cw__scrub_t *s, const char *key, size_t n) {
  for (size_t k = 0; k < s->nkeys; k++) {
    const char *pat = s->keys[k];
    size_t m = strlen(pat);
    for (size_t i = 0; m <= n && i <= n - m; i++) {
      size_t t = 0;
      while (t < m && lower(key[i + t]) == pat[t])
        t++;
      if (t == m)
        return 1;
    }
  }
  return 0;
}

/* ---- the re-emitting parser ---------------------------------------- */

typedef struct {
  const char *s;
  size_t n, i;
  const cw__scrub_t *sc;
  cw__buf_t str; /* the string being decoded */
  const char *what;
  size_t err_off;
} parser_t;

static int fail(parser_t *p, const char *what) {
  if (p->what == NULL) {
    p->what = what;
    p->err_off = p->i;
  }
  return CW_EFORMAT;
}

static void skip_ws(parser_t *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
                         p->s[p->i] == '\n' || p->s[p->i] == '\r'))
    p->i++;
}

static int hex4(parser_t *p, unsigned *out) {
  if (p->n - p->i < 4)
    return fail(p, "truncated \\u escape");
  unsigned v = 0;
  for (int k = 0; k < 4; k++) {
    char c = p->s[p->i + (size_t)k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return fail(p, "bad hex digit in \\u escape");
  }
  p->i += 4;
  *out = v;
  return 0;
}

static void put_utf8(cw__buf_t *b, unsigned cp) {
  char u[4];
  cw__buf_append(b, u, cw__utf8_encode(cp, u));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0], cp, min;
  size_t len;
  if (c < 0x80)
    return 1;
  if ((c & 0xe0) == 0xc0)
    len = 2, min = 0x80, cp = c & 0x1f;
  else if ((c & 0xf0) == 0xe0)
    len = 3, min = 0x800, cp = c & 0x0f;
  else if ((c & 0xf8) == 0xf0)
    len = 4, min = 0x10000, cp = c & 0x07;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

/* Appends s[0..n) with each invalid UTF-8 byte as U+FFFD, so that the
 * writer copies the result as it is and a second scrub changes nothing. */
static void append_utf8(cw__buf_t *b, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    size_t l;
    while (i < n && (l = utf8_len(u + i, n - i)) > 0)
      i += l;
    cw__buf_append(b, s + start, i - start);
    if (i < n) {
      cw__buf_append(b, "\xef\xbf\xbd", 3);
      i++;
    }
  }
}

/* Decodes the string at p->i (at its opening quote) into p->str. A lone
 * surrogate escape and each invalid UTF-8 byte become U+FFFD. */
static int string(parser_t *p) {
  p->str.len = 0;
  p->i++; /* the quote */
  for (;;) {
    size_t start = p->i;
    while (p->i < p->n && p->s[p->i] != '"' && p->s[p->i] != '\\' &&
           (unsigned char)p->s[p->i] >= 0x20)
      p->i++;
    append_utf8(&p->str, p->s + start, p->i - start);
    if (p->i >= p->n)
      return fail(p, "unterminated string");
    char c = p->s[p->i];
    if (c == '"') {
      p->i++;
      return 0;
    }
    if (c != '\\')
      return fail(p, "control character in string");
    p->i++;
    if (p->i >= p->n)
      return fail(p, "unterminated string");
    c = p->s[p->i++];
    const char *simple = strchr("\"\\/bfnrt", c);
    if (c != '\0' && simple != NULL) {
      static const char dec[] = "\"\\/\b\f\n\r\t";
      cw__buf_append(&p->str, &dec[simple - "\"\\/bfnrt"], 1);
      continue;
    }
    if (c != 'u') {
      p->i--;
      return fail(p, "bad escape in string");
    }
    unsigned cp;
    if (hex4(p, &cp) != 0)
      return CW_EFORMAT;
    if (cp >= 0xd800 && cp <= 0xdbff && p->n - p->i >= 6 &&
        p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
      size_t save = p->i;
      unsigned lo;
      p->i += 2;
      if (hex4(p, &lo) != 0)
        return CW_EFORMAT;
      if (lo >= 0xdc00 && lo <= 0xdfff)
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      else
        p->i = save; /* lone high surrogate; lo is read on its own */
    }
    put_utf8(&p->str, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
  }
}

static int digits(parser_t *p) {
  size_t start = p->i;
  while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
    p->i++;
  return p->i > start ? 0 : fail(p, "digit expected");
}

static int number(parser_t *p, cw__json_t *j) {
  size_t start = p->i;
  if (p->s[p->i] == '-')
    p->i++;
  if (p->i < p->n && p->s[p->i] == '0')
    p->i++;
  else if (digits(p) != 0)
    return CW_EFORMAT;
  if (p->i < p->n && p->s[p->i] == '.') {
    p->i++;
    if (digits(p) != 0)
      return CW_EFORMAT;
  }
  if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
    p->i++;
    if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
      p->i++;
    if (digits(p) != 0)
      return CW_EFORMAT;
  }
  if (j != NULL)
    cw__json_raw(j, p->s + start, p->i - start);
  return 0;
}

static int literal(parser_t *p, cw__json_t *j, const char *word) {
  size_t n = strlen(word);
  if (p->n - p->i < n || memcmp(p->s + p->i, word, n) != 0)
    return fail(p, "unexpected character");
  p->i += n;
  if (j != NULL)
    cw__json_raw(j, word, n);
  return 0;
}

/* One value at p->i, written through j (NULL: checked, not written).
 * nest: containers around it inside the text. */
static int value(parser_t *p, cw__json_t *j, int nest, int flags);

static int container(parser_t *p, cw__json_t *j, int nest, int flags) {
  int is_obj = p->s[p->i] == '{';
  char close = is_obj ? '}' : ']';
  if (nest >= CW_SCRUB_MAX_PARSE_NEST)
    return fail(p, "nested too deep");
  cw__json_t *w = j;
  if (j != NULL && nest >= CW_SCRUB_MAX_NEST) {
    cw__json_string(j, CW_SCRUB_TOO_DEEP);
    w = NULL; /* checked, not written */
  }
  if (w != NULL) {
    if (is_obj)
      cw__json_begin_object(w);
    else
      cw__json_begin_array(w);
  }
  p->i++;
  skip_ws(p);
  if (p->i < p->n && p->s[p->i] == close) {
    p->i++;
  } else {
    for (;;) {
      cw__json_t *vw = w;
      if (is_obj) {
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != '"')
          return fail(p, "member name expected");
        if (string(p) != 0)
          return CW_EFORMAT;
        int filter =
            (flags & CW_SCRUB_ALL_MEMBERS) ||
            cw__scrub_key_matches(p->sc, (const char *)p->str.data, p->str.len);
        if (w != NULL) {
          cw__json_key_n(w, (const char *)p->str.data, p->str.len);
          if (filter) {
            cw__json_string(w, CW_SCRUB_FILTERED);
            vw = NULL;
          }
        }
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':')
          return fail(p, "':' expected");
        p->i++;
      }
      if (value(p, vw, nest + 1, 0) != 0)
        return CW_EFORMAT;
      skip_ws(p);
      if (p->i < p->n && p->s[p->i] == ',') {
        p->i++;
        continue;
      }
      if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        break;
      }
      return fail(p, is_obj ? "',' or '}' expected" : "',' or ']' expected");
    }
  }
  if (w != NULL) {
    if (is_obj)
      cw__json_end_object(w);
    else
      cw__json_end_array(w);
  }
  return 0;
}

static int value(parser_t *p, cw__json_t *j, int nest, int flags) {
  skip_ws(p);
  if (p->i >= p->n)
    return fail(p, "value expected");
  char c = p->s[p->i];
  switch (c) {
  case '{':
  case '[':
    return container(p, j, nest, flags);
  case '"':
    if (string(p) != 0)
      return CW_EFORMAT;
    if (j != NULL)
      cw__json_string_n(j, (const char *)p->str.data, p->str.len);
    return 0;
  case 't':
    return literal(p, j, "true");
  case 'f':
    return literal(p, j, "false");
  case 'n':
    return literal(p, j, "null");
  default:
    if (c == '-' || (c >= '0' && c <= '9'))
      return number(p, j);
    return fail(p, "unexpected character");
  }
}

int cw__scrub_json(const cw__scrub_t *s, cw__json_t *j, const char *json,
                   size_t n, int flags, size_t *err_off, const char **what) {
  parser_t p = {.s = json, .n = json != NULL ? n : 0, .sc = s};
  cw__buf_t out = CW_BUF_INIT;
  cw__json_t w;
  cw__json_init(&w, &out, 0);
  int rc = value(&p, &w, 0, flags);
  if (rc == 0) {
    skip_ws(&p);
    if (p.i < p.n)
      rc = fail(&p, "data after the value");
  }
  if (rc == 0 && (out.oom || p.str.oom))
    rc = CW_ENOMEM;
  if (rc == 0) {
    cw__json_raw(j, (const char *)out.data, out.len);
  } else {
    cw__json_string(j, rc == CW_ENOMEM ? "[out of memory]" : "[invalid JSON]");
    if (err_off != NULL)
      *err_off = p.err_off;
    if (what != NULL)
      *what = p.what != NULL ? p.what : "out of memory";
  }
  cw__buf_free(&out);
  cw__buf_free(&p.str);
  if (rc == 0 && j->out->oom)
    rc = CW_ENOMEM;
  return rc;
}
