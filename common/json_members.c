/*
 * json_members.c — walking the top-level members of a JSON object text
 * (see json_members.h). Iterative: nesting depth never grows the C stack.
 */
#include "json_members.h"

#include <string.h>

#include "crashwatch.h"

static int is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const char *s, size_t n, size_t i) {
  while (i < n && is_ws(s[i]))
    i++;
  return i;
}

/* s[i] is '"': the index just past the closing quote, or n + 1 if the
 * string does not end. */
static size_t skip_string(const char *s, size_t n, size_t i) {
  for (i++; i < n; i++) {
    if (s[i] == '\\')
      i++;
    else if (s[i] == '"')
      return i + 1;
  }
  return n + 1;
}

/* A value starting at i: the index just past it, or n + 1 if it is
 * malformed or does not end. Containers are matched by counting brackets
 * outside strings (the syntax inside them is the caller's concern). */
static size_t skip_value(const char *s, size_t n, size_t i) {
  if (i >= n)
    return n + 1;
  char c = s[i];
  if (c == '"')
    return skip_string(s, n, i);
  if (c == '{' || c == '[') {
    size_t depth = 0;
    while (i < n) {
      c = s[i];
      if (c == '"') {
        i = skip_string(s, n, i);
        if (i > n)
          return n + 1;
        continue;
      }
      if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']') {
        if (depth == 0)
          return n + 1;
        if (--depth == 0)
          return i + 1;
      }
      i++;
    }
    return n + 1;
  }
  if (c == ',' || c == '}' || c == ']' || c == ':' || is_ws(c))
    return n + 1;
  /* A number or a literal: up to the next delimiter. */
  while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i]))
    i++;
  return i;
}

void cw__json_iter_init(cw__json_iter_t *it, const char *s, size_t n) {
  it->s = s;
  it->n = s != NULL ? n : 0;
  it->pos = 0;
  it->state = 0;
}

int cw__json_iter_next(cw__json_iter_t *it, const char **key, size_t *kn,
                       const char **val, size_t *vn) {
  const char *s = it->s;
  size_t n = it->n;
  size_t i = it->pos;
  if (it->state == 2)
    return 0;
  if (it->state == 0) {
    i = skip_ws(s, n, i);
    if (i >= n || s[i] != '{')
      goto bad;
    i = skip_ws(s, n, i + 1);
    it->state = 1;
    if (i < n && s[i] == '}') {
      it->state = 2;
      it->pos = i + 1;
      return 0;
    }
  } else {
    i = skip_ws(s, n, i);
    if (i < n && s[i] == '}') {
      it->state = 2;
      it->pos = i + 1;
      return 0;
    }
    if (i >= n || s[i] != ',')
      goto bad;
    i = skip_ws(s, n, i + 1);
  }
  if (i >= n || s[i] != '"')
    goto bad;
  size_t kend = skip_string(s, n, i);
  if (kend > n)
    goto bad;
  *key = s + i + 1;
  *kn = kend - i - 2;
  i = skip_ws(s, n, kend);
  if (i >= n || s[i] != ':')
    goto bad;
  i = skip_ws(s, n, i + 1);
  size_t vend = skip_value(s, n, i);
  if (vend > n)
    goto bad;
  *val = s + i;
  *vn = vend - i;
  it->pos = vend;
  return 1;
bad:
  it->state = 2;
  return CW_EFORMAT;
}

int cw__json_key_is(const char *key, size_t kn, const char *name) {
  size_t l = strlen(name);
  return kn == l && memcmp(key, name, l) == 0;
}

int cw__json_member(const char *s, size_t n, const char *name, const char **val,
                    size_t *vn) {
  cw__json_iter_t it;
  cw__json_iter_init(&it, s, n);
  const char *k;
  size_t kn;
  int rc;
  while ((rc = cw__json_iter_next(&it, &k, &kn, val, vn)) == 1)
    if (cw__json_key_is(k, kn, name))
      return 0;
  return rc == 0 ? CW_ENOENT : rc;
}
