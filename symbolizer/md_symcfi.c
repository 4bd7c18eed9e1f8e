/*
 * md_symcfi.c — Breakpad STACK CFI records (see md_symcfi.h).
 *
 * The text is kept whole (mapped or copied) and indexed by its INIT lines;
 * every parse of a line is bounded by the line's end, so a record cut off
 * anywhere, or a file without a final newline, cannot be read past.
 */
#include "md_symcfi.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "regfile.h"

#define SYMCFI_STACK 32
#define SYMCFI_MAX_RULES 24

typedef struct {
  uint64_t addr, size;
  size_t line; /* offset of the INIT line */
} symcfi_init_t;

struct md_symcfi {
  const char *text;
  size_t len;
  void *map;
  char *copy;
  symcfi_init_t *inits;
  size_t ninit;
};

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
  if (err != NULL && errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* [p, end) of the line starting at off. */
static const char *line_end(const md_symcfi_t *c, size_t off) {
  const char *nl = memchr(c->text + off, '\n', c->len - off);
  return nl ? nl : c->text + c->len;
}

static int starts(const char *p, const char *end, const char *word) {
  size_t n = strlen(word);
  return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* Parses a hex number at *p (bounded by end); advances past it. */
static int hex(const char **p, const char *end, uint64_t *v) {
  const char *s = *p;
  uint64_t x = 0;
  int digits = 0;
  while (s < end && isxdigit((unsigned char)*s)) {
    if (digits++ >= 16)
      return -1;
    int d = isdigit((unsigned char)*s)
                ? *s - '0'
                : (tolower((unsigned char)*s) - 'a' + 10);
    x = x << 4 | (uint64_t)d;
    s++;
  }
  if (digits == 0 || (s < end && *s != ' ' && *s != '\r'))
    return -1;
  while (s < end && *s == ' ')
    s++;
  *p = s;
  *v = x;
  return 0;
}

static int cmp_init(const void *a, const void *b) {
  const symcfi_init_t *x = a, *y = b;
  return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int symcfi_index(md_symcfi_t *c, const char *module_id, char *err,
                        size_t errlen, const char *name) {
  size_t cap = 0, lineno = 0;
  for (size_t off = 0; off < c->len;) {
    const char *p = c->text + off, *end = line_end(c, off);
    size_t next = (size_t)(end - c->text) + 1;
    lineno++;
    if (lineno == 1 && module_id != NULL) {
      /* MODULE os arch id name */
      const char *q = p;
      int field = 0;
      const char *id = NULL, *id_end = NULL;
      if (!starts(p, end, "MODULE "))
        return fail(err, errlen, CW_EFORMAT, "%s:1: expected a MODULE line",
                    name);
      while (q < end && field < 4) {
        while (q < end && *q == ' ')
          q++;
        const char *w = q;
        while (q < end && *q != ' ' && *q != '\r')
          q++;
        if (++field == 4) {
          id = w;
          id_end = q;
        }
      }
      if (id == NULL || (size_t)(id_end - id) != strlen(module_id) ||
          strncasecmp(id, module_id, (size_t)(id_end - id)) != 0)
        return fail(err, errlen, CW_EBUILDID,
                    "%s:1: MODULE id %.*s is not the module's %s", name,
                    id ? (int)(id_end - id) : 0, id ? id : "", module_id);
    }
    if (starts(p, end, "STACK CFI INIT ")) {
      const char *q = p + 15;
      uint64_t addr, size;
      if (hex(&q, end, &addr) != 0 || hex(&q, end, &size) != 0)
        return fail(err, errlen, CW_EFORMAT,
                    "%s:%zu: malformed STACK CFI INIT record", name, lineno);
      if (c->ninit == cap) {
        cap = cap ? cap * 2 : 256;
        symcfi_init_t *n = realloc(c->inits, cap * sizeof(*n));
        if (n == NULL)
          return fail(err, errlen, CW_ENOMEM, "out of memory");
        c->inits = n;
      }
      c->inits[c->ninit++] = (symcfi_init_t){addr, size, off};
    }
    off = next;
  }
  if (c->ninit > 1)
    qsort(c->inits, c->ninit, sizeof(*c->inits), cmp_init);
  return 0;
}

int cw__md_symcfi_open_buffer(const char *data, size_t len,
                              const char *module_id, md_symcfi_t **out,
                              char *err, size_t errlen) {
  *out = NULL;
  md_symcfi_t *c = calloc(1, sizeof(*c));
  if (c == NULL || (c->copy = malloc(len ? len : 1)) == NULL) {
    free(c);
    return fail(err, errlen, CW_ENOMEM, "out of memory");
  }
  if (len)
    memcpy(c->copy, data, len);
  c->text = c->copy;
  c->len = len;
  int rc = symcfi_index(c, module_id, err, errlen, "<buffer>");
  if (rc != 0) {
    cw__md_symcfi_close(c);
    return rc;
  }
  *out = c;
  return 0;
}

int cw__md_symcfi_open(const char *path, const char *module_id,
                       md_symcfi_t **out, char *err, size_t errlen) {
  *out = NULL;
  const char *kind = NULL;
  int fd = cw__open_regular(path, 0, &kind);
  if (fd == CW_REGFILE_NOT_REGULAR)
    return fail(err, errlen, CW_EINVAL, "%s: not a regular file (%s)", path,
                kind);
  if (fd < 0)
    return fail(err, errlen, errno == ENOENT ? CW_ENOENT : CW_EIO, "%s: %s",
                path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return fail(err, errlen, CW_EIO, "%s: %s", path, strerror(errno));
  }
  md_symcfi_t *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    close(fd);
    return fail(err, errlen, CW_ENOMEM, "out of memory");
  }
  if (st.st_size > 0) {
    c->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (c->map == MAP_FAILED) {
      close(fd);
      free(c);
      return fail(err, errlen, CW_EIO, "%s: cannot map", path);
    }
    c->text = c->map;
  }
  close(fd);
  c->len = (size_t)st.st_size;
  int rc = symcfi_index(c, module_id, err, errlen, path);
  if (rc != 0) {
    cw__md_symcfi_close(c);
    return rc;
  }
  *out = c;
  return 0;
}

void cw__md_symcfi_close(md_symcfi_t *c) {
  if (c == NULL)
    return;
  if (c->map != NULL && c->map != MAP_FAILED)
    munmap(c->map, c->len);
  free(c->copy);
  free(c->inits);
  free(c);
}

size_t cw__md_symcfi_count(const md_symcfi_t *c) { return c->ninit; }

/* ---- rules ------------------------------------------------------------- */

enum { REG_CFA = -2, REG_RA = -3, REG_BAD = -1 };

static int reg_number(const char *w, size_t n) {
  static const char *const names[MD_SYMCFI_NREGS] = {
      "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8",
      "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rip"};
  if (n == 4 && memcmp(w, ".cfa", 4) == 0)
    return REG_CFA;
  if (n == 3 && memcmp(w, ".ra", 3) == 0)
    return REG_RA;
  if (n > 0 && *w == '$') {
    w++;
    n--;
  }
  for (int i = 0; i < MD_SYMCFI_NREGS; i++)
    if (strlen(names[i]) == n && memcmp(names[i], w, n) == 0)
      return i;
  return REG_BAD;
}

typedef struct {
  int reg;
  const char *expr, *end;
} rule_t;

/* Adds the "REG: expr REG: expr" rules of [p, end) to rules (later ones
 * replace earlier ones for the same register). */
static int parse_rules(const char *p, const char *end, rule_t *rules,
                       size_t *n) {
  rule_t *cur = NULL;
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\r'))
      p++;
    const char *w = p;
    while (p < end && *p != ' ' && *p != '\r')
      p++;
    if (w == p)
      break;
    if (p[-1] == ':') {
      int reg = reg_number(w, (size_t)(p - w - 1));
      if (reg == REG_BAD)
        return -1;
      size_t k = 0;
      while (k < *n && rules[k].reg != reg)
        k++;
      if (k == *n) {
        if (*n == SYMCFI_MAX_RULES)
          return -1;
        (*n)++;
      }
      cur = &rules[k];
      cur->reg = reg;
      cur->expr = p;
      cur->end = p;
    } else {
      if (cur == NULL)
        return -1;
      cur->end = p;
    }
  }
  return 0;
}

static int eval(const rule_t *r, const uint64_t *regs, uint32_t valid,
                uint64_t cfa, int have_cfa, md_symcfi_read_fn read, void *ctx,
                uint64_t *out) {
  uint64_t st[SYMCFI_STACK];
  size_t sp = 0;
  const char *p = r->expr;
  while (p < r->end) {
    while (p < r->end && *p == ' ')
      p++;
    const char *w = p;
    while (p < r->end && *p != ' ')
      p++;
    size_t n = (size_t)(p - w);
    if (n == 0)
      break;
    if (n == 1 && strchr("+-*/%@", *w) != NULL) {
      if (sp < 2)
        return -1;
      uint64_t b = st[--sp], a = st[sp - 1], v;
      switch (*w) {
      case '+':
        v = a + b;
        break;
      case '-':
        v = a - b;
        break;
      case '*':
        v = a * b;
        break;
      case '/':
        if (b == 0)
          return -1;
        v = a / b;
        break;
      case '%':
        if (b == 0)
          return -1;
        v = a % b;
        break;
      default: /* '@': align down to a power of two */
        if (b == 0 || (b & (b - 1)) != 0)
          return -1;
        v = a & ~(b - 1);
        break;
      }
      st[sp - 1] = v;
      continue;
    }
    if (n == 1 && *w == '^') {
      if (sp < 1 || read(ctx, st[sp - 1], &st[sp - 1]) != 0)
        return -1;
      continue;
    }
    uint64_t v;
    if (isdigit((unsigned char)*w) || (*w == '-' && n > 1)) {
      char num[32];
      if (n >= sizeof(num))
        return -1;
      memcpy(num, w, n);
      num[n] = '\0';
      char *e;
      errno = 0;
      long long x = strtoll(num, &e, 10);
      if (*e != '\0' || errno != 0)
        return -1;
      v = (uint64_t)x;
    } else {
      int reg = reg_number(w, n);
      if (reg == REG_CFA && have_cfa)
        v = cfa;
      else if (reg >= 0 && (valid & (1u << reg)))
        v = regs[reg];
      else
        return -1;
    }
    if (sp == SYMCFI_STACK)
      return -1;
    st[sp++] = v;
  }
  if (sp != 1)
    return -1;
  *out = st[0];
  return 0;
}

int cw__md_symcfi_unwind(const md_symcfi_t *c, uint64_t pc,
                         const uint64_t *regs, uint32_t valid,
                         md_symcfi_read_fn read, void *ctx, uint64_t *out_regs,
                         uint32_t *out_valid) {
  size_t lo = 0, hi = c->ninit;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->inits[mid].addr <= pc)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return -1;
  const symcfi_init_t *in = &c->inits[lo - 1];
  if (pc - in->addr >= in->size)
    return -1;
  rule_t rules[SYMCFI_MAX_RULES];
  size_t nrules = 0;
  const char *end = line_end(c, in->line);
  const char *p = c->text + in->line + 15;
  uint64_t skip;
  if (hex(&p, end, &skip) != 0 || hex(&p, end, &skip) != 0 ||
      parse_rules(p, end, rules, &nrules) != 0)
    return -1;
  /* The delta records after INIT, in address order, up to pc. */
  for (size_t off = (size_t)(end - c->text) + 1; off < c->len;) {
    const char *q = c->text + off, *qe = line_end(c, off);
    if (!starts(q, qe, "STACK CFI ") || starts(q, qe, "STACK CFI INIT "))
      break;
    q += 10;
    uint64_t addr;
    if (hex(&q, qe, &addr) != 0)
      return -1;
    if (addr > pc)
      break;
    if (parse_rules(q, qe, rules, &nrules) != 0)
      return -1;
    off = (size_t)(qe - c->text) + 1;
  }
  const rule_t *cfa_rule = NULL, *ra_rule = NULL;
  for (size_t i = 0; i < nrules; i++) {
    if (rules[i].reg == REG_CFA)
      cfa_rule = &rules[i];
    else if (rules[i].reg == REG_RA)
      ra_rule = &rules[i];
  }
  uint64_t cfa, ra;
  if (cfa_rule == NULL || ra_rule == NULL ||
      eval(cfa_rule, regs, valid, 0, 0, read, ctx, &cfa) != 0 ||
      eval(ra_rule, regs, valid, cfa, 1, read, ctx, &ra) != 0)
    return -1;
  memset(out_regs, 0, MD_SYMCFI_NREGS * sizeof(uint64_t));
  *out_valid = 0;
  static const int callee_saved[] = {3, 6, 12, 13, 14, 15};
  for (size_t i = 0; i < sizeof(callee_saved) / sizeof(callee_saved[0]); i++) {
    int r = callee_saved[i];
    if (valid & (1u << r)) {
      out_regs[r] = regs[r];
      *out_valid |= 1u << r;
    }
  }
  for (size_t i = 0; i < nrules; i++) {
    int r = rules[i].reg;
    uint64_t v;
    if (r < 0)
      continue;
    if (eval(&rules[i], regs, valid, cfa, 1, read, ctx, &v) == 0) {
      out_regs[r] = v;
      *out_valid |= 1u << r;
    } else {
      *out_valid &= ~(1u << r);
    }
  }
  out_regs[7] = cfa; /* rsp */
  out_regs[16] = ra; /* rip */
  *out_valid |= 1u << 7 | 1u << 16;
  return 0;
}
