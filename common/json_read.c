/* json_read.c — the JSON reader into a tree; see json_read.h. Normal
 * context. Recursive descent whose depth is bounded by CW__JV_MAX_DEPTH. */
#include "json_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crashwatch.h"
#include "utf8.h"

typedef struct {
  const char *s;
  size_t n, i;
  const char *what; /* the first error */
  size_t at;
  int oom;
} rd_t;

static int bad(rd_t *r, const char *what) {
  if (r->what == NULL) {
    r->what = what;
    r->at = r->i;
  }
  return -1;
}

static void ws(rd_t *r) {
  while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' ||
                         r->s[r->i] == '\r' || r->s[r->i] == '\n'))
    r->i++;
}

static int hex4(rd_t *r, unsigned *v) {
  if (r->n - r->i < 4)
    return bad(r, "truncated \\u escape");
  *v = 0;
  for (int k = 0; k < 4; k++) {
    char c = r->s[r->i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (unsigned)(c - 'A' + 10);
    else
      return bad(r, "bad hex digit in a \\u escape");
    *v = (*v << 4) | d;
    r->i++;
  }
  return 0;
}

/* The string at r->i (its opening quote), decoded into a new C string. */
static int string(rd_t *r, char **out, size_t *len) {
  if (r->i >= r->n || r->s[r->i] != '"')
    return bad(r, "expected a string");
  r->i++;
  cw__buf_t b = CW_BUF_INIT;
  for (;;) {
    if (r->i >= r->n) {
      cw__buf_free(&b);
      return bad(r, "unterminated string");
    }
    size_t start = r->i;
    unsigned char c = (unsigned char)r->s[r->i];
    if (c == '"') {
      r->i++;
      break;
    }
    if (c < 0x20) {
      cw__buf_free(&b);
      return bad(r, "control character in a string");
    }
    if (c != '\\') {
      /* Raw bytes must be UTF-8: one code point at a time. */
      size_t k = 1;
      if (c >= 0x80) {
        size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (want == 0 || r->n - r->i < want ||
            !cw__utf8_valid(r->s + r->i, want)) {
          cw__buf_free(&b);
          return bad(r, "invalid UTF-8 in a string");
        }
        k = want;
      }
      cw__buf_append(&b, r->s + r->i, k);
      r->i += k;
      continue;
    }
    r->i++;
    if (r->i >= r->n) {
      cw__buf_free(&b);
      return bad(r, "unterminated escape");
    }
    char e = r->s[r->i++];
    const char *esc = "\"\\/bfnrt", *dec = "\"\\/\b\f\n\r\t";
    const char *p = e != '\0' ? strchr(esc, e) : NULL;
    if (p != NULL) {
      cw__buf_append(&b, &dec[p - esc], 1);
      continue;
    }
    unsigned cp, lo;
    if (e != 'u') {
      r->i = start;
      cw__buf_free(&b);
      return bad(r, "bad escape");
    }
    if (hex4(r, &cp) != 0) {
      cw__buf_free(&b);
      return -1;
    }
    if (cp >= 0xd800 && cp <= 0xdbff && r->n - r->i >= 6 &&
        r->s[r->i] == '\\' && r->s[r->i + 1] == 'u') {
      size_t save = r->i;
      r->i += 2;
      if (hex4(r, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else {
        r->what = NULL; /* not a pair: the next escape is read on its own */
        r->i = save;
      }
    }
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
      cp = 0xfffd;
    char u[4];
    cw__buf_append(&b, u, cw__utf8_encode(cp, u));
  }
  if (b.oom || cw__buf_cstr(&b) == NULL) {
    cw__buf_free(&b);
    r->oom = 1;
    return bad(r, "out of memory");
  }
  *len = b.len;
  *out = (char *)b.data;
  return 0;
}

static int number(rd_t *r, double *out) {
  size_t start = r->i;
  if (r->i < r->n && r->s[r->i] == '-')
    r->i++;
  if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9')
    return bad(r, "expected a value");
  if (r->s[r->i] == '0')
    r->i++;
  else
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
      r->i++;
  if (r->i < r->n && r->s[r->i] == '.') {
    r->i++;
    if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9')
      return bad(r, "expected a digit after '.'");
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
      r->i++;
  }
  if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
    r->i++;
    if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
      r->i++;
    if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9')
      return bad(r, "expected a digit in the exponent");
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
      r->i++;
  }
  char tmp[64];
  size_t len = r->i - start;
  if (len >= sizeof(tmp)) {
    /* Long numbers are valid JSON; their value need not be exact. */
    len = sizeof(tmp) - 1;
  }
  memcpy(tmp, r->s + start, len);
  tmp[len] = '\0';
  *out = strtod(tmp, NULL);
  return 0;
}

static int literal(rd_t *r, const char *word) {
  size_t k = strlen(word);
  if (r->n - r->i < k || memcmp(r->s + r->i, word, k) != 0)
    return bad(r, "expected a value");
  r->i += k;
  return 0;
}

static int value(rd_t *r, cw__jv_t *v, int depth);

/* Appends a value (and key) to a container; -1 when out of memory. */
static cw__jv_t *grow(rd_t *r, cw__jv_t *v, size_t *cap, char *key) {
  if (v->n == *cap) {
    size_t nc = *cap ? *cap * 2 : 4;
    cw__jv_t *items = realloc(v->items, nc * sizeof(*items));
    if (items == NULL) {
      free(key);
      r->oom = 1;
      bad(r, "out of memory");
      return NULL;
    }
    v->items = items;
    if (v->kind == CW__JV_OBJECT) {
      char **keys = realloc(v->keys, nc * sizeof(*keys));
      if (keys == NULL) {
        free(key);
        r->oom = 1;
        bad(r, "out of memory");
        return NULL;
      }
      v->keys = keys;
    }
    *cap = nc;
  }
  cw__jv_t *slot = &v->items[v->n];
  memset(slot, 0, sizeof(*slot));
  if (v->kind == CW__JV_OBJECT)
    v->keys[v->n] = key;
  v->n++;
  return slot;
}

static int container(rd_t *r, cw__jv_t *v, int depth) {
  int object = r->s[r->i] == '{';
  char close = object ? '}' : ']';
  v->kind = object ? CW__JV_OBJECT : CW__JV_ARRAY;
  if (depth >= CW__JV_MAX_DEPTH)
    return bad(r, "nested too deeply");
  r->i++;
  ws(r);
  if (r->i < r->n && r->s[r->i] == close) {
    r->i++;
    return 0;
  }
  size_t cap = 0;
  for (;;) {
    char *key = NULL;
    if (object) {
      ws(r);
      size_t klen;
      if (string(r, &key, &klen) != 0)
        return -1;
      ws(r);
      if (r->i >= r->n || r->s[r->i] != ':') {
        free(key);
        return bad(r, "expected ':'");
      }
      r->i++;
    }
    cw__jv_t *slot = grow(r, v, &cap, key);
    if (slot == NULL || value(r, slot, depth + 1) != 0)
      return -1;
    ws(r);
    if (r->i < r->n && r->s[r->i] == ',') {
      r->i++;
      continue;
    }
    if (r->i < r->n && r->s[r->i] == close) {
      r->i++;
      return 0;
    }
    return bad(r, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static int value(rd_t *r, cw__jv_t *v, int depth) {
  ws(r);
  if (r->i >= r->n)
    return bad(r, "unexpected end of input");
  char c = r->s[r->i];
  switch (c) {
  case '{':
  case '[':
    return container(r, v, depth);
  case '"':
    v->kind = CW__JV_STRING;
    return string(r, &v->string, &v->len);
  case 't':
    v->kind = CW__JV_BOOL;
    v->boolean = 1;
    return literal(r, "true");
  case 'f':
    v->kind = CW__JV_BOOL;
    return literal(r, "false");
  case 'n':
    v->kind = CW__JV_NULL;
    return literal(r, "null");
  default:
    v->kind = CW__JV_NUMBER;
    return number(r, &v->number);
  }
}

static void clear(cw__jv_t *v) {
  free(v->string);
  for (size_t i = 0; i < v->n; i++) {
    clear(&v->items[i]);
    if (v->keys != NULL)
      free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
}

void cw__jv_free(cw__jv_t *v) {
  if (v == NULL)
    return;
  clear(v);
  free(v);
}

int cw__jv_parse(const char *s, size_t n, cw__jv_t **out, char *err,
                 size_t errlen) {
  *out = NULL;
  cw__jv_t *v = calloc(1, sizeof(*v));
  if (v == NULL)
    return CW_ENOMEM;
  rd_t r = {s, n, 0, NULL, 0, 0};
  int rc = value(&r, v, 0);
  if (rc == 0) {
    ws(&r);
    if (r.i != r.n)
      rc = bad(&r, "trailing characters after the value");
  }
  if (rc != 0) {
    if (err != NULL && errlen > 0)
      snprintf(err, errlen, "%s at offset %zu",
               r.what ? r.what : "malformed JSON", r.at);
    cw__jv_free(v);
    return r.oom ? CW_ENOMEM : CW_EFORMAT;
  }
  *out = v;
  return 0;
}

const cw__jv_t *cw__jv_get(const cw__jv_t *obj, const char *key) {
  if (obj == NULL || obj->kind != CW__JV_OBJECT)
    return NULL;
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0)
      return &obj->items[i];
  return NULL;
}

const cw__jv_t *cw__jv_path(const cw__jv_t *v, const char *path) {
  char part[128];
  while (v != NULL && *path) {
    const char *dot = strchr(path, '.');
    size_t k = dot ? (size_t)(dot - path) : strlen(path);
    if (k >= sizeof(part))
      return NULL;
    memcpy(part, path, k);
    part[k] = '\0';
    v = cw__jv_get(v, part);
    path += k + (dot ? 1 : 0);
  }
  return v;
}

const cw__jv_t *cw__jv_at(const cw__jv_t *arr, size_t i) {
  if (arr == NULL || arr->kind != CW__JV_ARRAY || i >= arr->n)
    return NULL;
  return &arr->items[i];
}

size_t cw__jv_count(const cw__jv_t *v) {
  return v != NULL && (v->kind == CW__JV_ARRAY || v->kind == CW__JV_OBJECT)
             ? v->n
             : 0;
}

const char *cw__jv_str(const cw__jv_t *v) {
  return v != NULL && v->kind == CW__JV_STRING ? v->string : NULL;
}

int cw__jv_num(const cw__jv_t *v, double *out) {
  if (v == NULL || v->kind != CW__JV_NUMBER)
    return -1;
  *out = v->number;
  return 0;
}

int cw__jv_bool(const cw__jv_t *v) {
  return v != NULL && v->kind == CW__JV_BOOL ? v->boolean : -1;
}
