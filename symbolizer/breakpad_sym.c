/* breakpad_sym.c — Breakpad .sym parser into a symbol index. */
#include "breakpad_sym.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashwatch.h"
#include "regfile.h"

/* FILE and INLINE_ORIGIN numbers index dense tables; dump_syms numbers them
 * from 0, so a huge number is a corrupt file, not a big one. */
#define MAX_NUMBER (1u << 22)
#define MAX_INLINE_DEPTH 64

typedef struct {
  const char *p, *end; /* the rest of the current line */
} tok_t;

typedef struct {
  symidx_t *ix;
  const char *path;
  size_t lineno;
  char *err;
  size_t errlen;
  uint64_t bias;
  int32_t *files; /* FILE number -> file id */
  size_t nfiles;
  const char **origins; /* INLINE_ORIGIN number -> name */
  size_t norigins;
  int32_t func;    /* current FUNC scope, -1 before the first */
  uint64_t fn_end; /* end of the current FUNC */
  int32_t inl[MAX_INLINE_DEPTH];
  size_t ninl;
  uint64_t run_end; /* end of the last line record (for end rows) */
  int have_run;
} parser_t;

static int fail(parser_t *ps, const char *what) {
  snprintf(ps->err, ps->errlen, "%s:%zu: %s", ps->path, ps->lineno, what);
  return CW_EFORMAT;
}

static int oom(parser_t *ps) {
  snprintf(ps->err, ps->errlen, "%s:%zu: out of memory", ps->path, ps->lineno);
  return CW_ENOMEM;
}

static void skip_sp(tok_t *t) {
  while (t->p < t->end && (*t->p == ' ' || *t->p == '\t'))
    t->p++;
}

/* Next space-separated word; 0 if none. */
static int word(tok_t *t, const char **w, size_t *n) {
  skip_sp(t);
  const char *s = t->p;
  while (t->p < t->end && *t->p != ' ' && *t->p != '\t')
    t->p++;
  *w = s;
  *n = (size_t)(t->p - s);
  return *n > 0;
}

/* The rest of the line, trimmed of trailing blanks; 0 if empty. */
static int rest(tok_t *t, const char **w, size_t *n) {
  skip_sp(t);
  const char *e = t->end;
  while (e > t->p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
    e--;
  *w = t->p;
  *n = (size_t)(e - t->p);
  return *n > 0;
}

static int hex(tok_t *t, uint64_t *v) {
  const char *w;
  size_t n;
  if (!word(t, &w, &n) || n > 16)
    return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    char c = w[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return 0;
    x = x << 4 | (uint64_t)d;
  }
  *v = x;
  return 1;
}

static int dec(tok_t *t, uint64_t *v) {
  const char *w;
  size_t n;
  if (!word(t, &w, &n) || n > 19)
    return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (w[i] < '0' || w[i] > '9')
      return 0;
    x = x * 10 + (uint64_t)(w[i] - '0');
  }
  *v = x;
  return 1;
}

static int is_word(tok_t *t, const char *kw) {
  tok_t save = *t;
  const char *w;
  size_t n;
  if (word(t, &w, &n) && n == strlen(kw) && memcmp(w, kw, n) == 0)
    return 1;
  *t = save;
  return 0;
}

static void copy_field(char *dst, size_t cap, const char *s, size_t n) {
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

/* Closes a run of line records with an end row so an address past it does
 * not inherit its line. */
static int close_run(parser_t *ps) {
  if (!ps->have_run)
    return 0;
  ps->have_run = 0;
  return cw__symidx_add_row(ps->ix, ps->run_end, -1, 0, 0, 0, 1);
}

static int grow_table(void **tab, size_t *n, size_t need, size_t elt,
                      int fill) {
  if (need <= *n)
    return 0;
  size_t nn = *n ? *n : 64;
  while (nn < need)
    nn *= 2;
  void *p = realloc(*tab, nn * elt);
  if (p == NULL)
    return CW_ENOMEM;
  memset((char *)p + *n * elt, fill, (nn - *n) * elt);
  *tab = p;
  *n = nn;
  return 0;
}

static int rec_file(parser_t *ps, tok_t *t) {
  uint64_t num;
  const char *name;
  size_t n;
  if (!dec(t, &num) || num >= MAX_NUMBER)
    return fail(ps, "FILE record: bad or too large file number");
  if (!rest(t, &name, &n))
    return fail(ps, "FILE record: missing file name");
  if (grow_table((void **)&ps->files, &ps->nfiles, num + 1, sizeof(int32_t),
                 0xff))
    return oom(ps);
  char buf[4096];
  copy_field(buf, sizeof(buf), name, n);
  int32_t id = cw__symidx_file(ps->ix, buf);
  if (id < 0)
    return oom(ps);
  ps->files[num] = id;
  return 0;
}

static int rec_origin(parser_t *ps, tok_t *t) {
  uint64_t num;
  const char *name;
  size_t n;
  if (!dec(t, &num) || num >= MAX_NUMBER)
    return fail(ps, "INLINE_ORIGIN record: bad or too large origin number");
  if (!rest(t, &name, &n))
    return fail(ps, "INLINE_ORIGIN record: missing name");
  if (grow_table((void **)&ps->origins, &ps->norigins, num + 1, sizeof(char *),
                 0))
    return oom(ps);
  ps->origins[num] = cw__symidx_intern(ps->ix, name, n);
  if (ps->origins[num] == NULL)
    return oom(ps);
  return 0;
}

static int rec_func(parser_t *ps, tok_t *t) {
  uint64_t addr, size, psize;
  const char *name;
  size_t n;
  is_word(t, "m"); /* "multiple": several names folded to one address */
  if (!hex(t, &addr))
    return fail(ps, "FUNC record: bad address");
  if (!hex(t, &size))
    return fail(ps, "FUNC record: bad size");
  if (!hex(t, &psize))
    return fail(ps, "FUNC record: bad parameter size");
  if (!rest(t, &name, &n))
    return fail(ps, "FUNC record: missing name");
  if (close_run(ps) != 0)
    return oom(ps);
  const char *in = cw__symidx_intern(ps->ix, name, n);
  int32_t id = in ? cw__symidx_add_scope(ps->ix, in, -1, NULL, 0, 0, 0) : -1;
  if (id < 0)
    return oom(ps);
  uint64_t lo = addr + ps->bias;
  if (cw__symidx_add_range(ps->ix, lo, lo + size, id, 0) != 0)
    return oom(ps);
  ps->func = id;
  ps->fn_end = lo + size;
  ps->ninl = 0;
  return 0;
}

static int rec_inline(parser_t *ps, tok_t *t) {
  uint64_t level, line, file, origin;
  if (ps->func < 0)
    return fail(ps, "INLINE record before any FUNC");
  if (!dec(t, &level) || level > MAX_INLINE_DEPTH - 1)
    return fail(ps, "INLINE record: bad nest level");
  if (!dec(t, &line) || !dec(t, &file) || !dec(t, &origin))
    return fail(ps, "INLINE record: bad call line, file or origin");
  if (level > ps->ninl)
    return fail(ps, "INLINE record: nest level skips a level");
  if (origin >= ps->norigins || ps->origins[origin] == NULL)
    return fail(ps, "INLINE record: unknown INLINE_ORIGIN number");
  const char *call_file = NULL;
  if (file < ps->nfiles && ps->files[file] >= 0)
    call_file = cw__symidx_file_name(ps->ix, ps->files[file]);
  int32_t parent = level == 0 ? ps->func : ps->inl[level - 1];
  int32_t id = cw__symidx_add_scope(
      ps->ix, ps->origins[origin], parent, call_file,
      line > UINT32_MAX ? UINT32_MAX : (uint32_t)line, 0, 0);
  if (id < 0)
    return oom(ps);
  ps->inl[level] = id;
  ps->ninl = level + 1;
  int ranges = 0;
  for (;;) {
    uint64_t addr, size;
    skip_sp(t);
    if (t->p >= t->end || *t->p == '\r')
      break;
    if (!hex(t, &addr) || !hex(t, &size))
      return fail(ps, "INLINE record: bad address range");
    uint64_t lo = addr + ps->bias;
    if (cw__symidx_add_range(ps->ix, lo, lo + size, id, (uint32_t)level + 1) !=
        0)
      return oom(ps);
    ranges++;
  }
  if (ranges == 0)
    return fail(ps, "INLINE record: no address range");
  return 0;
}

static int rec_public(parser_t *ps, tok_t *t) {
  uint64_t addr, psize;
  const char *name;
  size_t n;
  is_word(t, "m");
  if (!hex(t, &addr))
    return fail(ps, "PUBLIC record: bad address");
  if (!hex(t, &psize))
    return fail(ps, "PUBLIC record: bad parameter size");
  if (!rest(t, &name, &n))
    return fail(ps, "PUBLIC record: missing name");
  const char *in = cw__symidx_intern(ps->ix, name, n);
  if (in == NULL || cw__symidx_add_sym(ps->ix, addr + ps->bias, 0, in) != 0)
    return oom(ps);
  return 0;
}

static int rec_line(parser_t *ps, tok_t *t) {
  uint64_t addr, size, line, file;
  if (ps->func < 0)
    return fail(ps, "line record before any FUNC");
  if (!hex(t, &addr) || !hex(t, &size) || !dec(t, &line) || !dec(t, &file))
    return fail(ps, "line record: expected ADDRESS SIZE LINE FILE");
  skip_sp(t);
  if (t->p < t->end && *t->p != '\r')
    return fail(ps, "line record: unexpected text after the file number");
  int32_t fid = file < ps->nfiles ? ps->files[file] : -1;
  uint64_t lo = addr + ps->bias;
  if (ps->have_run && ps->run_end != lo && close_run(ps) != 0)
    return oom(ps);
  if (cw__symidx_add_row(ps->ix, lo, fid,
                         line > UINT32_MAX ? UINT32_MAX : (uint32_t)line, 0, 0,
                         0) != 0)
    return oom(ps);
  ps->run_end = lo + size;
  ps->have_run = 1;
  return 0;
}

int cw__bpsym_parse(symidx_t *ix, const char *data, size_t len, uint64_t bias,
                    bpsym_module_t *mod, const char *path, char *err,
                    size_t errlen) {
  parser_t ps = {.ix = ix,
                 .path = path ? path : "<sym>",
                 .err = err,
                 .errlen = errlen,
                 .bias = bias,
                 .func = -1};
  if (mod != NULL)
    memset(mod, 0, sizeof(*mod));
  int rc = 0, saw_module = 0;
  const char *p = data, *end = data + len;
  while (p < end && rc == 0) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    ps.lineno++;
    tok_t t = {p, le};
    p = nl ? nl + 1 : end;
    if (memchr(t.p, '\0', (size_t)(le - t.p)) != NULL) {
      rc = fail(&ps, "NUL byte in a text file");
      break;
    }
    skip_sp(&t);
    if (t.p == t.end || (t.end - t.p == 1 && *t.p == '\r'))
      continue;
    if (ps.lineno == 1) {
      if (!is_word(&t, "MODULE")) {
        rc = fail(&ps, "not a Breakpad symbol file (no MODULE record)");
        break;
      }
      const char *w[3];
      size_t n[3], nn;
      const char *name;
      if (!word(&t, &w[0], &n[0]) || !word(&t, &w[1], &n[1]) ||
          !word(&t, &w[2], &n[2]) || !rest(&t, &name, &nn)) {
        rc = fail(&ps, "MODULE record: expected OS ARCH ID NAME");
        break;
      }
      if (mod != NULL) {
        copy_field(mod->os, sizeof(mod->os), w[0], n[0]);
        copy_field(mod->arch, sizeof(mod->arch), w[1], n[1]);
        copy_field(mod->id, sizeof(mod->id), w[2], n[2]);
        copy_field(mod->name, sizeof(mod->name), name, nn);
      }
      saw_module = 1;
      continue;
    }
    if (is_word(&t, "FILE"))
      rc = rec_file(&ps, &t);
    else if (is_word(&t, "INLINE_ORIGIN"))
      rc = rec_origin(&ps, &t);
    else if (is_word(&t, "FUNC"))
      rc = rec_func(&ps, &t);
    else if (is_word(&t, "INLINE"))
      rc = rec_inline(&ps, &t);
    else if (is_word(&t, "PUBLIC"))
      rc = rec_public(&ps, &t);
    else if (is_word(&t, "STACK") || is_word(&t, "INFO"))
      continue;
    else if (is_word(&t, "MODULE"))
      rc = fail(&ps, "a second MODULE record");
    else
      rc = rec_line(&ps, &t);
  }
  if (rc == 0 && !saw_module) {
    ps.lineno = 0;
    rc = fail(&ps, "empty file, no MODULE record");
  }
  if (rc == 0 && close_run(&ps) != 0)
    rc = oom(&ps);
  free(ps.files);
  free(ps.origins);
  return rc;
}

int cw__bpsym_load(symidx_t *ix, const char *path, uint64_t bias,
                   bpsym_module_t *mod, char *err, size_t errlen) {
  const char *kind = NULL;
  int fd = cw__open_regular(path, 0, &kind);
  if (fd == CW_REGFILE_NOT_REGULAR) {
    snprintf(err, errlen, "%s: not a regular file (%s)", path, kind);
    return CW_EINVAL;
  }
  FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
  if (f == NULL) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    snprintf(err, errlen, "%s: %s", path, strerror(e));
    return e == ENOENT ? CW_ENOENT : CW_EIO;
  }
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      char *nb = realloc(buf, cap);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return CW_ENOMEM;
      }
      buf = nb;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0)
      break;
  }
  int ioerr = ferror(f);
  fclose(f);
  if (ioerr) {
    free(buf);
    snprintf(err, errlen, "%s: read error", path);
    return CW_EIO;
  }
  int rc = cw__bpsym_parse(ix, buf, len, bias, mod, path, err, errlen);
  free(buf);
  return rc;
}
