/*
 * elf_syms.c — function symbols (see cw_elf.h): the one reader of
 * .symtab / .dynsym, the sorted table of a cw__elf_t and its lookups, and
 * the fast path that names a few addresses in one pass. Normal context;
 * the tables are outside input.
 */
#include "cw_elf.h"

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "elf_internal.h"

size_t cw__elf_function_symbols(Elf *elf, const uint8_t *image,
                                size_t image_size, unsigned table,
                                cw__elf_fsym_fn fn, void *ctx) {
  size_t yielded = 0;
  int native64 = gelf_getclass(elf) == ELFCLASS64 &&
                 elf_getident(elf, NULL)[EI_DATA] == ELFDATA2LSB;
  size_t entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
  if (entsize == 0)
    return 0;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != table ||
        sh.sh_entsize != entsize)
      continue;
    size_t count = sh.sh_size / entsize;
    const Elf64_Sym *raw = NULL;
    Elf_Data *d = NULL;
    if (native64 && image != NULL && sh.sh_offset <= image_size &&
        sh.sh_size <= image_size - sh.sh_offset &&
        (sh.sh_offset % _Alignof(Elf64_Sym)) == 0) {
      raw = (const Elf64_Sym *)(const void *)(image + sh.sh_offset);
    } else if ((d = elf_getdata(scn, NULL)) == NULL) {
      continue;
    }
    if (d != NULL && count > d->d_size / entsize)
      count = d->d_size / entsize;
    if (count == 0 || count > UINT32_MAX)
      continue;
    /* Names straight from the mapped string table too, when it ends with
     * a NUL (then every offset inside it starts a terminated string):
     * elf_strptr's locking and checks per symbol are a good part of the
     * load. */
    const char *strs = NULL;
    size_t strs_len = 0;
    Elf_Scn *str_scn = raw != NULL ? elf_getscn(elf, sh.sh_link) : NULL;
    GElf_Shdr ssh;
    if (str_scn != NULL && gelf_getshdr(str_scn, &ssh) != NULL &&
        ssh.sh_type == SHT_STRTAB && (ssh.sh_flags & SHF_COMPRESSED) == 0 &&
        ssh.sh_size > 0 && ssh.sh_offset <= image_size &&
        ssh.sh_size <= image_size - ssh.sh_offset &&
        image[ssh.sh_offset + ssh.sh_size - 1] == '\0') {
      strs = (const char *)image + ssh.sh_offset;
      strs_len = ssh.sh_size;
    }
    /* The STT_FILE entry a local symbol follows names its source file. */
    const char *file = NULL;
    for (size_t i = 0; i < count; i++) {
      GElf_Sym s;
      if (raw != NULL)
        s = raw[i];
      else if (gelf_getsym(d, (int)i, &s) == NULL)
        break;
      int type = GELF_ST_TYPE(s.st_info);
      if (type == STT_FILE) {
        const char *fname = strs == NULL
                                ? elf_strptr(elf, sh.sh_link, s.st_name)
                            : s.st_name < strs_len ? strs + s.st_name
                                                   : NULL;
        file = fname != NULL && fname[0] != '\0' ? fname : NULL;
        continue;
      }
      /* Filters first: most of a table is not a defined function. */
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_value == 0 ||
          s.st_shndx == SHN_UNDEF)
        continue;
      const char *name = strs == NULL ? elf_strptr(elf, sh.sh_link, s.st_name)
                         : s.st_name < strs_len ? strs + s.st_name
                                                : NULL;
      if (name == NULL || name[0] == '\0')
        continue;
      int bind = GELF_ST_BIND(s.st_info);
      cw__elf_fsym_t r = {s.st_value,   s.st_size,
                          name,         bind == STB_LOCAL ? file : NULL,
                          (uint32_t)i,  s.st_shndx,
                          (uint8_t)bind};
      yielded++;
      if (fn(ctx, &r) != 0)
        return yielded;
    }
  }
  return yielded;
}

/* ---- The sorted table ---- */

static int sym_cmp(const void *a, const void *b) {
  const cw__elf_sym_t *x = a, *y = b;
  if (x->addr != y->addr)
    return x->addr < y->addr ? -1 : 1;
  return cw__elf_alias_cmp(x->size, x->order, y->size, y->order);
}

/* Sorts syms into sym_cmp's order. On the crash path, before the report
 * is committed: qsort with sym_cmp took 0.85 ms for libc's 6800 function
 * symbols, most of it comparing addresses. So the addresses are
 * radix-sorted (a byte per pass, skipping the bytes all symbols share;
 * stable), and only runs of aliases at one address go through sym_cmp. */
static void sort_symbols(cw__elf_sym_t *syms, size_t n) {
  if (n < 2)
    return;
  cw__elf_sym_t *tmp = malloc(n * sizeof(*tmp));
  if (tmp == NULL) {
    qsort(syms, n, sizeof(*syms), sym_cmp);
    return;
  }
  /* The eight bytes' histograms in one pass. */
  size_t hist[8][256]; /* 16 KiB of stack */
  memset(hist, 0, sizeof(hist));
  for (size_t i = 0; i < n; i++)
    for (unsigned b = 0; b < 8; b++)
      hist[b][(syms[i].addr >> (8 * b)) & 0xff]++;
  cw__elf_sym_t *src = syms, *dst = tmp;
  for (unsigned b = 0; b < 8; b++) {
    unsigned shift = 8 * b;
    size_t *count = hist[b];
    if (count[(src[0].addr >> shift) & 0xff] == n)
      continue; /* every symbol has this byte: the order stands */
    size_t pos = 0;
    for (size_t d = 0; d < 256; d++) {
      size_t c = count[d];
      count[d] = pos;
      pos += c;
    }
    for (size_t i = 0; i < n; i++)
      dst[count[(src[i].addr >> shift) & 0xff]++] = src[i];
    cw__elf_sym_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != syms)
    memcpy(syms, src, n * sizeof(*syms));
  free(tmp);
  /* Aliases: a handful at one address, put in sym_cmp's order in place
   * (a malformed file's long runs by qsort, never quadratically). */
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && syms[j].addr == syms[i].addr)
      j++;
    if (j - i > 16) {
      qsort(syms + i, j - i, sizeof(*syms), sym_cmp);
      i = j;
      continue;
    }
    for (size_t k = i + 1; k < j; k++) {
      cw__elf_sym_t x = syms[k];
      size_t m = k;
      for (; m > i && sym_cmp(&syms[m - 1], &x) > 0; m--)
        syms[m] = syms[m - 1];
      syms[m] = x;
    }
    i = j;
  }
}

/* name[0..n) by the name rule: the table's own string when nothing is cut,
 * else a copy owned by e. NULL on OOM. */
static const char *shown_name(cw__elf_t *e, const char *name, size_t n) {
  if (name[n] == '\0')
    return name;
  char **nn = realloc(e->names, (e->nnames + 1) * sizeof(*nn));
  if (nn == NULL)
    return NULL;
  e->names = nn;
  char *copy = strndup(name, n);
  if (copy == NULL)
    return NULL;
  nn[e->nnames++] = copy;
  return copy;
}

/* Appends a symbol to e->syms (grown by doubling). */
static int append_symbol(void *ctx, const cw__elf_fsym_t *r) {
  cw__elf_t *e = ctx;
  if (e->nsyms == e->syms_cap) {
    size_t ncap = e->syms_cap ? e->syms_cap * 2 : 1024;
    if (ncap > SIZE_MAX / sizeof(cw__elf_sym_t))
      return 1;
    cw__elf_sym_t *syms = realloc(e->syms, ncap * sizeof(*syms));
    if (syms == NULL)
      return 1;
    e->syms = syms;
    e->syms_cap = ncap;
  }
  const char *name = shown_name(e, r->name, cw__elf_name_len(r->name));
  if (name == NULL)
    return 0;
  e->syms[e->nsyms++] = (cw__elf_sym_t){r->addr, r->size, name, r->order};
  return 0;
}

/* The tables a cw__elf_t names addresses from, in order of preference:
 * .symtab, the debug file's .symtab, .dynsym (exported functions only).
 * Passes the first that has function symbols to fn. */
static size_t scan_tables(cw__elf_t *e, cw__elf_fsym_fn fn, void *ctx) {
  size_t n = cw__elf_function_symbols(e->elf, e->image, e->image_size,
                                      SHT_SYMTAB, fn, ctx);
  if (n == 0) {
    cw__elf_open_debug(e);
    if (e->debug_elf != NULL) {
      size_t sz = 0;
      const uint8_t *img = (const uint8_t *)elf_rawfile(e->debug_elf, &sz);
      n = cw__elf_function_symbols(e->debug_elf, img, img ? sz : 0, SHT_SYMTAB,
                                   fn, ctx);
    }
  }
  if (n == 0)
    n = cw__elf_function_symbols(e->elf, e->image, e->image_size, SHT_DYNSYM,
                                 fn, ctx);
  return n;
}

static void ensure_symbols(cw__elf_t *e) {
  if (e->syms_loaded)
    return;
  e->syms_loaded = 1;
  scan_tables(e, append_symbol, e);
  sort_symbols(e->syms, e->nsyms);
}

/* ---- The fast path: naming a few addresses in one pass ----
 *
 * One pass over the table finds, for every address at once, exactly what
 * cw__elf_symbol() would answer from the sorted table: among the
 * NAME_GROUPS highest symbol addresses at or below it (the groups that
 * lookup walks back over), the highest one holding a sized symbol that
 * covers it (or, for the nearest group only, an unsized symbol), and of
 * that group's qualifying aliases the first by the alias rule. */

#define NAME_GROUPS 4

/* A candidate: what the alias rule and the name rule need. */
typedef struct {
  uint64_t addr, size;
  const char *name; /* uncut */
  size_t len;       /* of the shown name */
  uint32_t order;
  uint8_t set;
} cand_t;

typedef struct {
  uint64_t gaddr;
  cand_t cov; /* the first sized alias here covering the address */
  cand_t any; /* the first covering or unsized alias here */
} group_t;

typedef struct {
  uint64_t vaddr;
  uint64_t floor; /* the lowest group's address once all are taken */
  group_t g[NAME_GROUPS];
  int ng;
} want_t;

typedef struct {
  want_t *w; /* sorted by vaddr, distinct */
  size_t n;
} batch_t;

typedef struct {
  uint64_t vaddr;
  int found;
  cw__elf_sym_t sym;
} named_t;

typedef struct {
  named_t *v; /* sorted by vaddr */
  size_t n;
} named_set_t;

static int cand_before(const cand_t *x, const cand_t *y) {
  return cw__elf_alias_cmp(x->size, x->order, y->size, y->order) < 0;
}

static int batch_symbol(void *ctx, const cw__elf_fsym_t *r) {
  batch_t *b = ctx;
  size_t lo = 0, hi = b->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (b->w[mid].vaddr < r->addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  cand_t c;
  int made = 0;
  for (size_t i = lo; i < b->n; i++) {
    want_t *w = &b->w[i];
    if (r->addr < w->floor)
      continue; /* below the groups the lookup would walk */
    group_t *g = NULL;
    int lowest = 0;
    for (int k = 0; k < w->ng; k++) {
      if (w->g[k].gaddr == r->addr) {
        g = &w->g[k];
        break;
      }
      if (w->g[k].gaddr < w->g[lowest].gaddr)
        lowest = k;
    }
    if (g == NULL) {
      if (w->ng < NAME_GROUPS)
        g = &w->g[w->ng++];
      else if (r->addr > w->g[lowest].gaddr)
        g = &w->g[lowest];
      else
        continue;
      memset(g, 0, sizeof(*g));
      g->gaddr = r->addr;
      if (w->ng == NAME_GROUPS) {
        w->floor = w->g[0].gaddr;
        for (int k = 1; k < NAME_GROUPS; k++)
          if (w->g[k].gaddr < w->floor)
            w->floor = w->g[k].gaddr;
      }
    }
    int covers = r->size > 0 && w->vaddr - r->addr < r->size;
    if (r->size > 0 && !covers)
      continue;
    if (!made) {
      c = (cand_t){r->addr,  r->size, r->name, cw__elf_name_len(r->name),
                   r->order, 1};
      made = 1;
    }
    if (covers && (!g->cov.set || cand_before(&c, &g->cov)))
      g->cov = c;
    if (!g->any.set || cand_before(&c, &g->any))
      g->any = c;
  }
  return 0;
}

void cw__elf_name_addrs(cw__elf_t *e, const uint64_t *a, size_t n) {
  if (e->named_tried || e->syms_loaded || n == 0 || n > CW_ELF_NAME_MAX_ADDRS)
    return;
  e->named_tried = 1;
  batch_t b = {calloc(n, sizeof(want_t)), n};
  named_set_t *set = calloc(1, sizeof(*set));
  named_t *v = calloc(n, sizeof(*v));
  if (b.w == NULL || set == NULL || v == NULL) {
    free(b.w);
    free(set);
    free(v);
    return;
  }
  for (size_t i = 0; i < n; i++)
    b.w[i].vaddr = a[i];
  scan_tables(e, batch_symbol, &b); /* the tables ensure_symbols() loads */
  size_t nv = 0;
  for (size_t i = 0; i < n; i++) {
    want_t *w = &b.w[i];
    /* Nearest group first. */
    for (int x = 1; x < w->ng; x++)
      for (int y = x; y > 0 && w->g[y - 1].gaddr < w->g[y].gaddr; y--) {
        group_t t = w->g[y];
        w->g[y] = w->g[y - 1];
        w->g[y - 1] = t;
      }
    const cand_t *win = NULL;
    for (int k = 0; k < w->ng && win == NULL; k++) {
      const cand_t *c = k == 0 ? &w->g[k].any : &w->g[k].cov;
      if (c->set)
        win = c;
    }
    named_t *out = &v[nv];
    out->vaddr = w->vaddr;
    out->found = win != NULL;
    if (win != NULL) {
      const char *name = shown_name(e, win->name, win->len);
      if (name == NULL)
        continue; /* not kept: this address takes the full table */
      out->sym = (cw__elf_sym_t){win->addr, win->size, name, win->order};
    }
    nv++;
  }
  free(b.w);
  set->v = v;
  set->n = nv;
  e->named = set;
}

static const named_t *named_lookup(const cw__elf_t *e, uint64_t vaddr) {
  const named_set_t *set = e->named;
  size_t lo = 0, hi = set->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (set->v[mid].vaddr < vaddr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < set->n && set->v[lo].vaddr == vaddr ? &set->v[lo] : NULL;
}

void cw__elf_free_symbols(cw__elf_t *e) {
  free(e->syms);
  if (e->named != NULL) {
    free(((named_set_t *)e->named)->v);
    free(e->named);
  }
  for (size_t i = 0; i < e->nnames; i++)
    free(e->names[i]);
  free(e->names);
}

/* ---- Lookups ---- */

/* How many symbols start at or below vaddr. */
static size_t upper_bound(const cw__elf_t *e, uint64_t vaddr) {
  size_t lo = 0, hi = e->nsyms;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (e->syms[mid].addr <= vaddr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

const cw__elf_sym_t *cw__elf_symbol(cw__elf_t *e, uint64_t vaddr) {
  if (!e->syms_loaded && e->named != NULL) {
    const named_t *hit = named_lookup(e, vaddr);
    if (hit != NULL)
      return hit->found ? &hit->sym : NULL;
  }
  ensure_symbols(e);
  /* syms[0..i) start at or below vaddr. Walk back a few address groups
   * for the nearest symbol covering vaddr, taking the first (preferred)
   * alias of each group. */
  size_t i = upper_bound(e, vaddr);
  for (int groups = 0; i > 0 && groups < NAME_GROUPS; groups++) {
    size_t first = i - 1;
    while (first > 0 && e->syms[first - 1].addr == e->syms[i - 1].addr)
      first--;
    for (size_t k = first; k < i; k++) {
      const cw__elf_sym_t *s = &e->syms[k];
      if (s->size > 0 ? vaddr - s->addr < s->size : groups == 0)
        return s; /* unsized: assume it runs to the next symbol */
    }
    i = first;
  }
  return NULL;
}

const cw__elf_sym_t *cw__elf_symbol_preceding(cw__elf_t *e, uint64_t vaddr) {
  /* The executable section holding vaddr bounds the search: a symbol of
   * another section (or below .text) never names code it does not hold. */
  uint64_t sec_lo = 0;
  int in_exec = 0;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type == SHT_NOBITS ||
        (sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) !=
            (SHF_ALLOC | SHF_EXECINSTR))
      continue;
    if (vaddr >= sh.sh_addr && vaddr - sh.sh_addr < sh.sh_size) {
      sec_lo = sh.sh_addr;
      in_exec = 1;
      break;
    }
  }
  if (!in_exec)
    return NULL;
  ensure_symbols(e);
  size_t lo = upper_bound(e, vaddr);
  if (lo == 0 || e->syms[lo - 1].addr < sec_lo)
    return NULL;
  /* The preferred alias: the first of its address group. */
  size_t first = lo - 1;
  while (first > 0 && e->syms[first - 1].addr == e->syms[lo - 1].addr)
    first--;
  return &e->syms[first];
}
