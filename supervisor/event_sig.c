/*
 * event_sig.c — a crash's signature and one-line summary from its
 * event.json (normal context). The file is outside input (a report in a
 * spool other users' programs may have written to... and in any case
 * something this process did not write), so the reader is strict, bounded
 * and never aborts: a tiny JSON parser into a flat node array (depth 64,
 * 1 Mi nodes), then a walk to exception.values[0]: its signal
 * (mechanism.meta.signal) and its stack's frames (Sentry lists them
 * outermost first). Fuzzed by fuzz/fuzz_event_sig.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crashwatch.h"
#include "read_all.h"
#include "sup_internal.h"

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct {
  int type;
  int parent;
  int next;        /* next sibling, -1 */
  int child;       /* first child (arrays, objects), -1 */
  const char *key; /* member name (raw, unescaped bytes), or NULL */
  size_t keylen;
  const char *s; /* string (raw) or number text */
  size_t slen;
  int b;
  const char *start, *end; /* the value's text: [start, end) */
} jnode_t;

typedef struct {
  const char *p, *end;
  jnode_t *nodes;
  int n, cap;
  int depth;
} jparser_t;

#define MAX_DEPTH 64
#define MAX_NODES (1 << 20)

static void ws(jparser_t *j) {
  while (j->p < j->end &&
         (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int new_node(jparser_t *j, int type) {
  if (j->n == j->cap) {
    if (j->cap >= MAX_NODES)
      return -1;
    int nc = j->cap ? j->cap * 2 : 256;
    jnode_t *nn = realloc(j->nodes, (size_t)nc * sizeof(*nn));
    if (nn == NULL)
      return -1;
    j->nodes = nn;
    j->cap = nc;
  }
  jnode_t *x = &j->nodes[j->n];
  memset(x, 0, sizeof(*x));
  x->type = type;
  x->parent = x->next = x->child = -1;
  return j->n++;
}

/* A string's raw bytes between the quotes (escapes checked, not undone). */
static int raw_string(jparser_t *j, const char **s, size_t *len) {
  if (j->p >= j->end || *j->p != '"')
    return -1;
  const char *start = ++j->p;
  while (j->p < j->end && *j->p != '"') {
    unsigned char c = (unsigned char)*j->p;
    if (c < 0x20)
      return -1;
    if (c == '\\') {
      if (j->end - j->p < 2)
        return -1;
      char e = j->p[1];
      if (e == 'u') {
        if (j->end - j->p < 6)
          return -1;
        for (int i = 2; i < 6; i++) {
          char h = j->p[i];
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                (h >= 'A' && h <= 'F')))
            return -1;
        }
        j->p += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", e) || e == '\0')
        return -1;
      j->p += 2;
      continue;
    }
    j->p++;
  }
  if (j->p >= j->end)
    return -1;
  *s = start;
  *len = (size_t)(j->p - start);
  j->p++;
  return 0;
}

static int value(jparser_t *j);

static int container(jparser_t *j, int type) {
  if (++j->depth > MAX_DEPTH)
    return -1;
  int me = new_node(j, type);
  if (me < 0)
    return -1;
  j->p++; /* [ or { */
  ws(j);
  char close = type == J_ARR ? ']' : '}';
  int last = -1;
  if (j->p < j->end && *j->p == close) {
    j->p++;
    j->depth--;
    return me;
  }
  for (;;) {
    const char *key = NULL;
    size_t keylen = 0;
    ws(j);
    if (type == J_OBJ) {
      if (raw_string(j, &key, &keylen) != 0)
        return -1;
      ws(j);
      if (j->p >= j->end || *j->p != ':')
        return -1;
      j->p++;
      ws(j);
    }
    int c = value(j);
    if (c < 0)
      return -1;
    j->nodes[c].parent = me;
    j->nodes[c].key = key;
    j->nodes[c].keylen = keylen;
    if (last < 0)
      j->nodes[me].child = c;
    else
      j->nodes[last].next = c;
    last = c;
    ws(j);
    if (j->p >= j->end)
      return -1;
    if (*j->p == ',') {
      j->p++;
      continue;
    }
    if (*j->p == close) {
      j->p++;
      j->depth--;
      return me;
    }
    return -1;
  }
}

static int value_inner(jparser_t *j);

static int value(jparser_t *j) {
  ws(j);
  const char *start = j->p;
  int me = value_inner(j);
  if (me >= 0) {
    j->nodes[me].start = start;
    j->nodes[me].end = j->p;
  }
  return me;
}

static int value_inner(jparser_t *j) {
  if (j->p >= j->end)
    return -1;
  char c = *j->p;
  if (c == '{')
    return container(j, J_OBJ);
  if (c == '[')
    return container(j, J_ARR);
  if (c == '"') {
    int me = new_node(j, J_STR);
    if (me < 0 || raw_string(j, &j->nodes[me].s, &j->nodes[me].slen) != 0)
      return -1;
    return me;
  }
  static const struct {
    const char *lit;
    int type, b;
  } lits[] = {{"true", J_BOOL, 1}, {"false", J_BOOL, 0}, {"null", J_NULL, 0}};
  for (size_t i = 0; i < 3; i++) {
    size_t l = strlen(lits[i].lit);
    if ((size_t)(j->end - j->p) >= l && memcmp(j->p, lits[i].lit, l) == 0) {
      int me = new_node(j, lits[i].type);
      if (me < 0)
        return -1;
      j->nodes[me].b = lits[i].b;
      j->p += l;
      return me;
    }
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    const char *s = j->p;
    while (j->p < j->end && strchr("+-.eE0123456789", *j->p) != NULL &&
           *j->p != '\0')
      j->p++;
    int me = new_node(j, J_NUM);
    if (me < 0)
      return -1;
    j->nodes[me].s = s;
    j->nodes[me].slen = (size_t)(j->p - s);
    return me;
  }
  return -1;
}

static int member(const jparser_t *j, int obj, const char *key) {
  if (obj < 0 || j->nodes[obj].type != J_OBJ)
    return -1;
  size_t kl = strlen(key);
  for (int c = j->nodes[obj].child; c >= 0; c = j->nodes[c].next)
    if (j->nodes[c].keylen == kl && memcmp(j->nodes[c].key, key, kl) == 0)
      return c;
  return -1;
}

static int element(const jparser_t *j, int arr, int idx) {
  if (arr < 0 || j->nodes[arr].type != J_ARR)
    return -1;
  int c = j->nodes[arr].child;
  for (int i = 0; c >= 0 && i < idx; i++)
    c = j->nodes[c].next;
  return c;
}

/* Copies a string node into out (cap bytes), escapes kept as they are
 * except \" and \\ (function names rarely hold any), control bytes
 * dropped. */
static void copy_str(const jparser_t *j, int n, char *out, size_t cap) {
  out[0] = '\0';
  if (n < 0 || j->nodes[n].type != J_STR || cap == 0)
    return;
  size_t o = 0;
  const char *s = j->nodes[n].s;
  for (size_t i = 0; i < j->nodes[n].slen && o + 1 < cap; i++) {
    char c = s[i];
    if (c == '\\' && i + 1 < j->nodes[n].slen &&
        (s[i + 1] == '"' || s[i + 1] == '\\'))
      c = s[++i];
    if ((unsigned char)c < 0x20)
      continue;
    out[o++] = c;
  }
  out[o] = '\0';
}

/* Parses the whole of [json, json+len) into j; the root node or -1. */
static int parse_all(jparser_t *j, const char *json, size_t len) {
  memset(j, 0, sizeof(*j));
  j->p = json;
  j->end = json + len;
  int root = value(j);
  ws(j);
  if (root < 0 || j->p != j->end || j->nodes[root].type != J_OBJ)
    return -1;
  return root;
}

int cw__sup_event_set(const char *json, size_t len, const char *object,
                      const char *key, const char *raw, cw__buf_t *out) {
  jparser_t j;
  int root = parse_all(&j, json, len);
  int rc = CW_EFORMAT;
  if (root < 0)
    goto done;
  int obj = object ? member(&j, root, object) : root;
  cw__buf_t b = CW_BUF_INIT;
  if (obj >= 0 && j.nodes[obj].type != J_OBJ)
    goto done;
  if (obj < 0) {
    /* No such object yet: add it at the root, with the one member. */
    const char *at = j.nodes[root].start + 1;
    cw__buf_append(&b, json, (size_t)(at - json));
    cw__buf_printf(&b, "\"%s\":{\"%s\":%s}%s", object, key, raw,
                   j.nodes[root].child >= 0 ? "," : "");
    cw__buf_append(&b, at, (size_t)(json + len - at));
  } else {
    int old = member(&j, obj, key);
    if (old >= 0) {
      cw__buf_append(&b, json, (size_t)(j.nodes[old].start - json));
      cw__buf_append_str(&b, raw);
      cw__buf_append(&b, j.nodes[old].end,
                     (size_t)(json + len - j.nodes[old].end));
    } else {
      const char *at = j.nodes[obj].start + 1;
      cw__buf_append(&b, json, (size_t)(at - json));
      cw__buf_printf(&b, "\"%s\":%s%s", key, raw,
                     j.nodes[obj].child >= 0 ? "," : "");
      cw__buf_append(&b, at, (size_t)(json + len - at));
    }
  }
  if (b.oom) {
    cw__buf_free(&b);
    rc = CW_ENOMEM;
    goto done;
  }
  *out = b;
  rc = 0;
done:
  free(j.nodes);
  return rc;
}

int cw__sup_event_sig(const char *json, size_t len, cw__sup_event_sig_t *out) {
  memset(out, 0, sizeof(*out));
  jparser_t j;
  int root = parse_all(&j, json, len);
  int rc = CW_EFORMAT;
  if (root < 0)
    goto done;
  int exc = element(&j, member(&j, member(&j, root, "exception"), "values"), 0);
  if (exc < 0)
    goto done;
  int sig = member(
      &j,
      member(&j, member(&j, member(&j, exc, "mechanism"), "meta"), "signal"),
      "number");
  if (sig >= 0 && j.nodes[sig].type == J_NUM) {
    char num[16];
    size_t l = j.nodes[sig].slen < sizeof(num) - 1 ? j.nodes[sig].slen
                                                   : sizeof(num) - 1;
    memcpy(num, j.nodes[sig].s, l);
    num[l] = '\0';
    long v = strtol(num, NULL, 10);
    out->signo = v > 0 && v < 65 ? (int)v : 0;
  }
  int frames = member(&j, member(&j, exc, "stacktrace"), "frames");
  if (frames < 0 || j.nodes[frames].type != J_ARR) {
    rc = 0; /* a signal without a stack: a signature still */
    goto done;
  }
  /* Outermost first: walk to the end, then back through the parents'
   * order by collecting the indices. */
  int idx[4096];
  int nf = 0;
  for (int c = j.nodes[frames].child; c >= 0 && nf < 4096; c = j.nodes[c].next)
    idx[nf++] = c;
  for (int i = nf - 1; i >= 0; i--) {
    int fn = member(&j, idx[i], "function");
    if (out->top[0] == '\0')
      copy_str(&j, fn, out->top, sizeof(out->top));
    int in_app = member(&j, idx[i], "in_app");
    if (in_app < 0 || j.nodes[in_app].type != J_BOOL || !j.nodes[in_app].b)
      continue;
    if (out->nframes < CW__SUP_SIG_FRAMES) {
      copy_str(&j, fn, out->frames[out->nframes],
               sizeof(out->frames[out->nframes]));
      if (out->frames[out->nframes][0] != '\0')
        out->nframes++;
    }
  }
  rc = 0;
done:
  free(j.nodes);
  if (rc != 0)
    memset(out, 0, sizeof(*out));
  return rc;
}

int cw__sup_event_read(const char *report_dir, char **data, size_t *len) {
  *data = NULL;
  *len = 0;
  char path[4096 + 16];
  snprintf(path, sizeof(path), "%s/event.json", report_dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return CW_ENOENT;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size > 64 * 1024 * 1024) {
    close(fd);
    return CW_EFORMAT;
  }
  char *buf;
  size_t got;
  int rc = cw__read_all(fd, (size_t)st.st_size, 64 * 1024 * 1024, &buf, &got);
  close(fd);
  if (rc != 0)
    return rc == CW_ERANGE ? CW_EFORMAT : rc;
  *data = buf;
  *len = got;
  return 0;
}

int cw__sup_event_sig_file(const char *report_dir, cw__sup_event_sig_t *out) {
  memset(out, 0, sizeof(*out));
  char *buf;
  size_t got;
  int rc = cw__sup_event_read(report_dir, &buf, &got);
  if (rc != 0)
    return rc;
  rc = cw__sup_event_sig(buf, got, out);
  free(buf);
  return rc;
}

void cw__sup_event_sig_key(const cw__sup_event_sig_t *sig, char *out,
                           size_t cap) {
  int n = snprintf(out, cap, "%d", sig->signo);
  for (size_t i = 0; i < sig->nframes && n > 0 && (size_t)n < cap; i++)
    n += snprintf(out + n, cap - (size_t)n, "|%s", sig->frames[i]);
}
