/*
 * report_fields.c — the plain form fields a multipart upload adds from the
 * event: its release and its tags (see report.h). Normal context.
 *
 * A small reader of event.json's top level: it walks the members, decodes
 * the string values of "release" and of the members of "tags", and skips
 * everything else. The file comes from the spool (outside input): every
 * read is bounds-checked, nesting is skipped iteratively, and anything
 * unexpected ends the walk with the fields found so far.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"
#include "report.h"

typedef struct {
  const char *s;
  size_t n, i;
} rd_t;

static void ws(rd_t *r) {
  while (r->i < r->n && strchr(" \t\r\n", r->s[r->i]) != NULL &&
         r->s[r->i] != '\0')
    r->i++;
}

static int hex4(rd_t *r, unsigned *v) {
  if (r->n - r->i < 4)
    return -1;
  *v = 0;
  for (int k = 0; k < 4; k++) {
    char c = r->s[r->i++];
    *v <<= 4;
    if (c >= '0' && c <= '9')
      *v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      *v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      *v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  return 0;
}

static void utf8(cw__buf_t *b, unsigned cp) {
  char u[4];
  cw__buf_append(b, u, cw__utf8_encode(cp, u));
}

/* The string at r->i (its opening quote) into out (when not NULL),
 * NUL-terminated; a \u0000 or lone surrogate becomes U+FFFD. -1 when it is
 * not a well-formed string. */
static int string(rd_t *r, cw__buf_t *out) {
  if (r->i >= r->n || r->s[r->i] != '"')
    return -1;
  r->i++;
  while (r->i < r->n) {
    char c = r->s[r->i++];
    if (c == '"') {
      if (out != NULL)
        cw__buf_append(out, "", 1);
      return 0;
    }
    if ((unsigned char)c < 0x20)
      return -1;
    if (c != '\\') {
      if (out != NULL)
        cw__buf_append(out, &c, 1);
      continue;
    }
    if (r->i >= r->n)
      return -1;
    c = r->s[r->i++];
    const char *esc = "\"\\/bfnrt", *dec = "\"\\/\b\f\n\r\t";
    const char *p = c != '\0' ? strchr(esc, c) : NULL;
    if (p != NULL) {
      if (out != NULL)
        cw__buf_append(out, &dec[p - esc], 1);
      continue;
    }
    unsigned cp, lo;
    if (c != 'u' || hex4(r, &cp) != 0)
      return -1;
    if (cp >= 0xd800 && cp <= 0xdbff && r->n - r->i >= 6 &&
        r->s[r->i] == '\\' && r->s[r->i + 1] == 'u') {
      size_t save = r->i;
      r->i += 2;
      if (hex4(r, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff)
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      else
        r->i = save;
    }
    if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
      cp = 0xfffd;
    if (out != NULL)
      utf8(out, cp);
  }
  return -1;
}

/* Skips one value of any kind; -1 when malformed. Containers are skipped
 * with a depth count (no recursion), their strings read whole. */
static int skip(rd_t *r) {
  size_t depth = 0;
  do {
    ws(r);
    if (r->i >= r->n)
      return -1;
    char c = r->s[r->i];
    if (c == '"') {
      if (string(r, NULL) != 0)
        return -1;
    } else if (c == '{' || c == '[') {
      depth++;
      r->i++;
    } else if (c == '}' || c == ']') {
      if (depth == 0)
        return -1;
      depth--;
      r->i++;
    } else if (c == ',' || c == ':') {
      if (depth == 0)
        return -1;
      r->i++;
    } else {
      size_t start = r->i;
      while (r->i < r->n && strchr(",:{}[]\" \t\r\n", r->s[r->i]) == NULL &&
             r->s[r->i] != '\0')
        r->i++;
      if (r->i == start)
        return -1;
    }
  } while (depth > 0);
  return 0;
}

static int reserved(const char *name) {
  return name[0] == '\0' || strncmp(name, "sentry", 6) == 0 ||
         strncmp(name, "upload_file_", 12) == 0 || strcmp(name, "release") == 0;
}

static int taken(const report_fields_t *f, const char *name) {
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->v[i].name, name) == 0)
      return 1;
  return 0;
}

static char *keep(report_fields_t *f, cw__buf_t *b) {
  char *s = (char *)b->data;
  if (b->oom || s == NULL ||
      f->nstore >= sizeof(f->store) / sizeof(*f->store)) {
    cw__buf_free(b);
    return NULL;
  }
  *b = (cw__buf_t)CW_BUF_INIT;
  f->store[f->nstore++] = s;
  return s;
}

static void add(report_fields_t *f, cw__buf_t *name, cw__buf_t *value,
                int is_release) {
  /* The lengths count the terminating NUL. */
  if (f->n >= CW_REPORT_MAX_FIELDS || name->len <= 1 || value->len <= 1 ||
      name->len > 256 || value->len > 256 || name->oom || value->oom ||
      (!is_release && reserved((const char *)name->data)) ||
      taken(f, (const char *)name->data)) {
    cw__buf_free(name);
    cw__buf_free(value);
    return;
  }
  char *n = keep(f, name);
  char *v = n != NULL ? keep(f, value) : NULL;
  cw__buf_free(value);
  if (n == NULL || v == NULL)
    return;
  f->v[f->n].name = n;
  f->v[f->n].value = v;
  f->n++;
}

/* The members of the "tags" object at r->i. */
static int tags(rd_t *r, report_fields_t *f) {
  ws(r);
  if (r->i >= r->n || r->s[r->i] != '{')
    return skip(r);
  r->i++;
  ws(r);
  if (r->i < r->n && r->s[r->i] == '}') {
    r->i++;
    return 0;
  }
  for (;;) {
    ws(r);
    cw__buf_t k = CW_BUF_INIT, v = CW_BUF_INIT;
    if (string(r, &k) != 0) {
      cw__buf_free(&k);
      return -1;
    }
    ws(r);
    if (r->i >= r->n || r->s[r->i] != ':') {
      cw__buf_free(&k);
      return -1;
    }
    r->i++;
    ws(r);
    if (r->i < r->n && r->s[r->i] == '"') {
      if (string(r, &v) != 0) {
        cw__buf_free(&k);
        cw__buf_free(&v);
        return -1;
      }
      add(f, &k, &v, 0);
    } else {
      cw__buf_free(&k);
      if (skip(r) != 0)
        return -1;
    }
    ws(r);
    if (r->i < r->n && r->s[r->i] == ',') {
      r->i++;
      continue;
    }
    if (r->i < r->n && r->s[r->i] == '}') {
      r->i++;
      return 0;
    }
    return -1;
  }
}

void cw__report_fields(const report_t *rep, const upload_field_t *given,
                       size_t ngiven, report_fields_t *f) {
  memset(f, 0, sizeof(*f));
  for (size_t i = 0; i < ngiven && f->n < CW_REPORT_MAX_FIELDS; i++)
    f->v[f->n++] = given[i];
  rd_t r = {rep->event_json, rep->event_json ? rep->event_len : 0, 0};
  ws(&r);
  if (r.i >= r.n || r.s[r.i] != '{')
    return;
  r.i++;
  for (;;) {
    ws(&r);
    cw__buf_t k = CW_BUF_INIT;
    if (string(&r, &k) != 0) {
      cw__buf_free(&k);
      return;
    }
    ws(&r);
    if (r.i >= r.n || r.s[r.i] != ':') {
      cw__buf_free(&k);
      return;
    }
    r.i++;
    ws(&r);
    const char *key = (const char *)k.data;
    int rc;
    if (key != NULL && strcmp(key, "release") == 0 && r.i < r.n &&
        r.s[r.i] == '"') {
      cw__buf_t v = CW_BUF_INIT;
      rc = string(&r, &v);
      if (rc == 0)
        add(f, &k, &v, 1);
      else
        cw__buf_free(&v);
    } else if (key != NULL && strcmp(key, "tags") == 0) {
      rc = tags(&r, f);
    } else {
      rc = skip(&r);
    }
    cw__buf_free(&k);
    if (rc != 0)
      return;
    ws(&r);
    if (r.i < r.n && r.s[r.i] == ',') {
      r.i++;
      continue;
    }
    return;
  }
}

void cw__report_fields_free(report_fields_t *f) {
  for (size_t i = 0; i < f->nstore; i++)
    free(f->store[i]);
  f->nstore = 0;
  f->n = 0;
}
