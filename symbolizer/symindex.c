/* symindex.c — building and searching a module's symbol index. */
#include "symindex.h"

#include <stdlib.h>
#include <string.h>

#include "crashwatch.h"
#include "cw_elf.h"

typedef struct {
  uint64_t lo, hi;
  uint32_t scope, depth;
} range_t;

typedef struct {
  const char *str;
  uint32_t hash;
  uint32_t len;
  int32_t file_id;
} intern_t;

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  char data[];
} chunk_t;

typedef struct {
  uint64_t lo, hi;
} cu_range_t;

struct symidx {
  chunk_t *chunks;
  intern_t *tab;
  size_t tab_cap, tab_len;

  const char **files;
  size_t nfiles, files_cap;

  symidx_scope_t *scopes;
  size_t nscopes, scopes_cap;

  range_t *ranges;
  size_t nranges, ranges_cap;

  symidx_seg_t *segs;
  size_t nsegs;

  symidx_row_t *rows;
  size_t nrows, rows_cap;

  symidx_sym_t *syms;
  size_t nsyms, syms_cap;

  /* The compile units' address ranges (sorted, merged by finish): a line
   * row answers only inside them, as llvm-symbolizer finds a unit first. */
  cu_range_t *cus;
  size_t ncus, cus_cap;
};

/* Grows *arr (elements of size sz) to hold one more; 0 or CW_ENOMEM. */
static int grow(void **arr, size_t *cap, size_t len, size_t sz) {
  if (len < *cap)
    return 0;
  size_t ncap = *cap ? *cap * 2 : 256;
  void *p = realloc(*arr, ncap * sz);
  if (p == NULL)
    return CW_ENOMEM;
  *arr = p;
  *cap = ncap;
  return 0;
}

symidx_t *cw__symidx_new(void) { return calloc(1, sizeof(symidx_t)); }

void cw__symidx_free(symidx_t *ix) {
  if (ix == NULL)
    return;
  for (chunk_t *c = ix->chunks; c != NULL;) {
    chunk_t *n = c->next;
    free(c);
    c = n;
  }
  free(ix->tab);
  free(ix->files);
  free(ix->scopes);
  free(ix->ranges);
  free(ix->segs);
  free(ix->rows);
  free(ix->syms);
  free(ix->cus);
  free(ix);
}

static char *arena_alloc(symidx_t *ix, size_t n) {
  chunk_t *c = ix->chunks;
  if (c == NULL || c->cap - c->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    c = malloc(sizeof(chunk_t) + cap);
    if (c == NULL)
      return NULL;
    c->next = ix->chunks;
    c->used = 0;
    c->cap = cap;
    ix->chunks = c;
  }
  char *p = c->data + c->used;
  c->used += n;
  return p;
}

static uint32_t hash_str(const char *s, size_t n) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)s[i];
    h *= 16777619u;
  }
  return h;
}

static intern_t *intern_entry(symidx_t *ix, const char *s, size_t n) {
  if (ix->tab_len * 2 >= ix->tab_cap) {
    size_t ncap = ix->tab_cap ? ix->tab_cap * 2 : 1024;
    intern_t *nt = calloc(ncap, sizeof(intern_t));
    if (nt == NULL)
      return NULL;
    for (size_t i = 0; i < ix->tab_cap; i++) {
      if (ix->tab[i].str == NULL)
        continue;
      size_t j = ix->tab[i].hash & (ncap - 1);
      while (nt[j].str != NULL)
        j = (j + 1) & (ncap - 1);
      nt[j] = ix->tab[i];
    }
    free(ix->tab);
    ix->tab = nt;
    ix->tab_cap = ncap;
  }
  uint32_t h = hash_str(s, n);
  size_t j = h & (ix->tab_cap - 1);
  while (ix->tab[j].str != NULL) {
    intern_t *e = &ix->tab[j];
    if (e->hash == h && e->len == n && memcmp(e->str, s, n) == 0)
      return e;
    j = (j + 1) & (ix->tab_cap - 1);
  }
  char *p = arena_alloc(ix, n + 1);
  if (p == NULL)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  ix->tab[j].str = p;
  ix->tab[j].hash = h;
  ix->tab[j].len = (uint32_t)n;
  ix->tab[j].file_id = -1;
  ix->tab_len++;
  return &ix->tab[j];
}

const char *cw__symidx_intern(symidx_t *ix, const char *s, size_t n) {
  intern_t *e = intern_entry(ix, s, n);
  return e ? e->str : NULL;
}

int32_t cw__symidx_file(symidx_t *ix, const char *path) {
  intern_t *e = intern_entry(ix, path, strlen(path));
  if (e == NULL)
    return -1;
  if (e->file_id >= 0)
    return e->file_id;
  if (grow((void **)&ix->files, &ix->files_cap, ix->nfiles, sizeof(char *)))
    return -1;
  ix->files[ix->nfiles] = e->str;
  e->file_id = (int32_t)ix->nfiles++;
  return e->file_id;
}

const char *cw__symidx_file_name(const symidx_t *ix, int32_t id) {
  return id >= 0 && (size_t)id < ix->nfiles ? ix->files[id] : NULL;
}

int32_t cw__symidx_add_scope(symidx_t *ix, const char *name, int32_t parent,
                             const char *call_file, uint32_t call_line,
                             uint32_t call_col, uint32_t call_discr) {
  if (grow((void **)&ix->scopes, &ix->scopes_cap, ix->nscopes,
           sizeof(symidx_scope_t)))
    return -1;
  if (parent >= (int32_t)ix->nscopes)
    parent = -1; /* parents come first: no cycles */
  symidx_scope_t *s = &ix->scopes[ix->nscopes];
  s->name = name;
  s->parent = parent;
  s->call_file = call_file;
  s->call_line = call_line;
  s->call_col = call_col;
  s->call_discr = call_discr;
  return (int32_t)ix->nscopes++;
}

int cw__symidx_add_range(symidx_t *ix, uint64_t lo, uint64_t hi, int32_t scope,
                         uint32_t depth) {
  if (hi <= lo || scope < 0)
    return 0;
  if (grow((void **)&ix->ranges, &ix->ranges_cap, ix->nranges, sizeof(range_t)))
    return CW_ENOMEM;
  ix->ranges[ix->nranges++] = (range_t){lo, hi, (uint32_t)scope, depth};
  return 0;
}

int cw__symidx_add_row(symidx_t *ix, uint64_t addr, int32_t file, uint32_t line,
                       uint32_t col, uint32_t discr, int end) {
  if (grow((void **)&ix->rows, &ix->rows_cap, ix->nrows, sizeof(symidx_row_t)))
    return CW_ENOMEM;
  /* A sequence covers [first row, end row): rows at the end address itself
   * (a zero-length row just before DW_LNE_end_sequence) cover nothing, as
   * llvm-symbolizer reads it; kept, they gave the padding after a function
   * its last line. Only this sequence's rows are dropped: they were added
   * just before, and a previous sequence stops at its own end row. */
  if (end)
    while (ix->nrows > 0 && !ix->rows[ix->nrows - 1].end &&
           ix->rows[ix->nrows - 1].addr == addr)
      ix->nrows--;
  symidx_row_t *r = &ix->rows[ix->nrows++];
  r->addr = addr;
  r->file = file < 0 ? UINT32_MAX : (uint32_t)file;
  r->line = line;
  r->col = col > UINT16_MAX ? UINT16_MAX : (uint16_t)col;
  r->discr = discr > UINT16_MAX ? UINT16_MAX : (uint16_t)discr;
  r->end = end ? 1 : 0;
  return 0;
}

int cw__symidx_add_cu_range(symidx_t *ix, uint64_t lo, uint64_t hi) {
  if (hi <= lo)
    return 0;
  if (grow((void **)&ix->cus, &ix->cus_cap, ix->ncus, sizeof(cu_range_t)))
    return CW_ENOMEM;
  ix->cus[ix->ncus++] = (cu_range_t){lo, hi};
  return 0;
}

static int cmp_cu(const void *a, const void *b) {
  const cu_range_t *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int in_cu(const symidx_t *ix, uint64_t addr) {
  if (ix->ncus == 0)
    return 1; /* no unit ranges known (Breakpad, odd producers): no filter */
  size_t lo = 0, hi = ix->ncus;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->cus[mid].lo <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo > 0 && addr < ix->cus[lo - 1].hi;
}

int cw__symidx_add_elf_sym(symidx_t *ix, uint64_t lo, uint64_t size,
                           const char *name, uint32_t order, const char *file,
                           int unsized) {
  if (grow((void **)&ix->syms, &ix->syms_cap, ix->nsyms, sizeof(symidx_sym_t)))
    return CW_ENOMEM;
  ix->syms[ix->nsyms++] =
      (symidx_sym_t){lo, size, name, file, order, unsized ? 1 : 0};
  return 0;
}

int cw__symidx_add_sym(symidx_t *ix, uint64_t lo, uint64_t size,
                       const char *name) {
  return cw__symidx_add_elf_sym(ix, lo, size, name, (uint32_t)ix->nsyms, NULL,
                                0);
}

static int cmp_range(const void *a, const void *b) {
  const range_t *x = a, *y = b;
  if (x->lo != y->lo)
    return x->lo < y->lo ? -1 : 1;
  if (x->hi != y->hi)
    return x->hi > y->hi ? -1 : 1; /* the enclosing range first */
  if (x->depth != y->depth)
    return x->depth < y->depth ? -1 : 1;
  return x->scope < y->scope ? -1 : x->scope > y->scope;
}

static int cmp_sym(const void *a, const void *b) {
  const symidx_sym_t *x = a, *y = b;
  if (x->lo != y->lo)
    return x->lo < y->lo ? -1 : 1;
  /* Aliases by the one alias rule (elf/include/cw_elf.h), the one naming the
   * address last: lookups take the last symbol starting at or below an
   * address. An unsized symbol's size (extended to its section's end here)
   * counts as 0, as its st_size was. */
  return -cw__elf_alias_cmp(x->unsized ? 0 : x->size, x->order,
                            y->unsized ? 0 : y->size, y->order);
}

static int row_before(const symidx_row_t *x, const symidx_row_t *y) {
  if (x->addr != y->addr)
    return x->addr < y->addr;
  return x->end > y->end; /* an end row gives way to a row starting there */
}

/* Stable merge sort: rows at one address keep the line program's order, so
 * the last of them answers, as in LLVM. */
static int sort_rows(symidx_t *ix) {
  size_t n = ix->nrows;
  int sorted = 1;
  for (size_t i = 1; i < n && sorted; i++)
    if (row_before(&ix->rows[i], &ix->rows[i - 1]))
      sorted = 0;
  if (sorted)
    return 0;
  symidx_row_t *tmp = malloc(n * sizeof(*tmp));
  if (tmp == NULL)
    return CW_ENOMEM;
  symidx_row_t *src = ix->rows, *dst = tmp;
  for (size_t w = 1; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n;
      size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        dst[k++] = row_before(&src[j], &src[i]) ? src[j++] : src[i++];
      while (i < mid)
        dst[k++] = src[i++];
      while (j < hi)
        dst[k++] = src[j++];
    }
    symidx_row_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != ix->rows) {
    memcpy(ix->rows, src, n * sizeof(*tmp));
  }
  free(tmp);
  return 0;
}

static int emit_seg(symidx_seg_t *segs, size_t *n, uint64_t lo, uint64_t hi,
                    uint32_t scope) {
  if (hi <= lo)
    return 0;
  if (*n > 0 && segs[*n - 1].hi == lo && segs[*n - 1].scope == scope) {
    segs[*n - 1].hi = hi;
    return 0;
  }
  segs[(*n)++] = (symidx_seg_t){lo, hi, scope};
  return 0;
}

/* Turns nested ranges into non-overlapping segments naming the innermost
 * scope. Well-formed DWARF nests an inlined instance inside its caller;
 * a range that pokes out of its enclosing one is clipped to it. */
static int flatten(symidx_t *ix) {
  size_t n = ix->nranges;
  if (n == 0)
    return 0;
  qsort(ix->ranges, n, sizeof(range_t), cmp_range);
  /* Each range opens at most one segment and closes at most one more. */
  ix->segs = malloc((2 * n + 1) * sizeof(symidx_seg_t));
  range_t *stack = malloc((n + 1) * sizeof(range_t));
  if (ix->segs == NULL || stack == NULL) {
    free(stack);
    return CW_ENOMEM;
  }
  size_t ns = 0, depth = 0;
  uint64_t cur = 0;
  for (size_t i = 0; i <= n; i++) {
    uint64_t lo = i < n ? ix->ranges[i].lo : UINT64_MAX;
    while (depth > 0 && stack[depth - 1].hi <= lo) {
      range_t *t = &stack[depth - 1];
      if (cur < t->hi) {
        emit_seg(ix->segs, &ns, cur, t->hi, t->scope);
        cur = t->hi;
      }
      depth--;
    }
    if (i == n)
      break;
    range_t r = ix->ranges[i];
    if (depth > 0) {
      range_t *t = &stack[depth - 1];
      if (cur < r.lo)
        emit_seg(ix->segs, &ns, cur, r.lo, t->scope);
      if (r.hi > t->hi)
        r.hi = t->hi;
    }
    if (cur < r.lo)
      cur = r.lo;
    stack[depth++] = r;
  }
  free(stack);
  free(ix->ranges);
  ix->ranges = NULL;
  ix->nranges = ix->ranges_cap = 0;
  ix->nsegs = ns;
  if (ns > 0) {
    symidx_seg_t *p = realloc(ix->segs, ns * sizeof(symidx_seg_t));
    if (p != NULL)
      ix->segs = p;
  }
  return 0;
}

int cw__symidx_finish(symidx_t *ix) {
  int rc = flatten(ix);
  if (rc != 0)
    return rc;
  rc = sort_rows(ix);
  if (rc != 0)
    return rc;
  if (ix->nsyms > 0)
    qsort(ix->syms, ix->nsyms, sizeof(symidx_sym_t), cmp_sym);
  if (ix->ncus > 0) {
    qsort(ix->cus, ix->ncus, sizeof(cu_range_t), cmp_cu);
    size_t n = 0;
    for (size_t i = 0; i < ix->ncus; i++) {
      if (n > 0 && ix->cus[i].lo <= ix->cus[n - 1].hi) {
        if (ix->cus[i].hi > ix->cus[n - 1].hi)
          ix->cus[n - 1].hi = ix->cus[i].hi;
      } else {
        ix->cus[n++] = ix->cus[i];
      }
    }
    ix->ncus = n;
  }
  /* An unsized symbol (assembly: frame_dummy, _init) reaches the next
   * symbol, as llvm-symbolizer has it, but never past its section's end
   * (there llvm-symbolizer goes on: every PLT entry would be "_init"). */
  for (size_t i = 0, next = 0; i < ix->nsyms; i++) {
    if (!ix->syms[i].unsized)
      continue;
    if (next <= i)
      next = i + 1;
    while (next < ix->nsyms && ix->syms[next].lo <= ix->syms[i].lo)
      next++;
    if (next < ix->nsyms &&
        ix->syms[next].lo - ix->syms[i].lo < ix->syms[i].size)
      ix->syms[i].size = ix->syms[next].lo - ix->syms[i].lo;
  }
  /* The intern table is only needed while building. */
  free(ix->tab);
  ix->tab = NULL;
  ix->tab_cap = ix->tab_len = 0;
  return 0;
}

static const symidx_seg_t *find_seg(const symidx_t *ix, uint64_t addr) {
  size_t lo = 0, hi = ix->nsegs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->segs[mid].lo <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || addr >= ix->segs[lo - 1].hi)
    return NULL;
  return &ix->segs[lo - 1];
}

static const symidx_row_t *find_row(const symidx_t *ix, uint64_t addr) {
  size_t lo = 0, hi = ix->nrows;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->rows[mid].addr <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || ix->rows[lo - 1].end)
    return NULL;
  return &ix->rows[lo - 1];
}

static const symidx_sym_t *find_sym(const symidx_t *ix, uint64_t addr) {
  size_t lo = 0, hi = ix->nsyms;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->syms[mid].lo <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* Walk back over a few candidates: a sized symbol that ends before addr
   * may hide an enclosing one that starts earlier. */
  for (size_t k = 0; k < 4 && lo > 0; k++, lo--) {
    const symidx_sym_t *s = &ix->syms[lo - 1];
    if (s->size == 0 || addr - s->lo < s->size)
      return s;
  }
  return NULL;
}

const symidx_sym_t *cw__symidx_sym_before(const symidx_t *ix, uint64_t addr,
                                          uint64_t min_lo) {
  size_t lo = 0, hi = ix->nsyms;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->syms[mid].lo <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* Of aliases the last in order (the one the alias rule prefers), as
   * find_sym takes. */
  if (lo == 0 || ix->syms[lo - 1].lo < min_lo)
    return NULL;
  return &ix->syms[lo - 1];
}

size_t cw__symidx_lookup(const symidx_t *ix, uint64_t addr, symidx_frame_t *out,
                         size_t cap) {
  if (cap == 0)
    return 0;
  const symidx_seg_t *seg = find_seg(ix, addr);
  const symidx_row_t *row = in_cu(ix, addr) ? find_row(ix, addr) : NULL;
  symidx_frame_t *f = &out[0];
  memset(f, 0, sizeof(*f));
  if (row != NULL) {
    f->file = row->file < ix->nfiles ? ix->files[row->file] : NULL;
    f->line = row->line;
    f->column = row->col;
    f->discriminator = row->discr;
  }
  const symidx_sym_t *sym = find_sym(ix, addr);
  if (row == NULL && sym != NULL && sym->file != NULL)
    f->file = sym->file; /* "crtstuff.c", line 0: the STT_FILE name */
  if (seg == NULL) {
    if (sym != NULL)
      f->function = f->symbol = sym->name;
    return (f->function || f->file) ? 1 : 0;
  }
  const symidx_scope_t *sc = &ix->scopes[seg->scope];
  f->function = sc->name;
  if (f->function == NULL && sym != NULL)
    f->function = sym->name;
  size_t n = 1;
  /* Bounded walk: a malformed index (cycle) must not loop forever. */
  for (size_t guard = 0; sc->parent >= 0 && n < cap && guard < 256; guard++) {
    const symidx_scope_t *p = &ix->scopes[sc->parent];
    symidx_frame_t *g = &out[n++];
    memset(g, 0, sizeof(*g));
    g->function = p->name;
    g->file = sc->call_file;
    g->line = sc->call_line;
    g->column = sc->call_col;
    g->discriminator = sc->call_discr;
    sc = p;
  }
  if (sym != NULL)
    out[n - 1].symbol = sym->name;
  return n;
}

size_t cw__symidx_nscopes(const symidx_t *ix) { return ix->nscopes; }
size_t cw__symidx_nrows(const symidx_t *ix) { return ix->nrows; }
size_t cw__symidx_nsyms(const symidx_t *ix) { return ix->nsyms; }
int cw__symidx_has_lines(const symidx_t *ix) {
  return ix->nrows > 0 || ix->nsegs > 0 || ix->nranges > 0;
}
