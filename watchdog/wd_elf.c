/*
 * wd_elf.c — reads module ELF files with libelf (see wd_elf.h). Normal
 * context, watchdog process. The files are outside input: every offset is
 * checked against what libelf returns, and a malformed file only yields
 * fewer facts.
 */
#include "wd_elf.h"

#include "debug_id.h"
#include "regfile.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void elf_init_once(void) {
  static int done;
  if (!done) {
    elf_version(EV_CURRENT);
    done = 1;
  }
}

size_t cw__wd_elf_build_id_from_notes(const uint8_t *p, size_t n, uint8_t *out,
                                      size_t cap) {
  size_t off = 0;
  while (off + 12 <= n) {
    uint32_t namesz, descsz, type;
    memcpy(&namesz, p + off, 4);
    memcpy(&descsz, p + off + 4, 4);
    memcpy(&type, p + off + 8, 4);
    off += 12;
    size_t name_pad = ((size_t)namesz + 3) & ~(size_t)3;
    size_t desc_pad = ((size_t)descsz + 3) & ~(size_t)3;
    if (name_pad > n - off || desc_pad > n - off - name_pad)
      return 0;
    if (type == NT_GNU_BUILD_ID && namesz == 4 &&
        memcmp(p + off, "GNU", 4) == 0 && descsz > 0) {
      size_t len = descsz < cap ? descsz : cap;
      memcpy(out, p + off + name_pad, len);
      return len;
    }
    off += name_pad + desc_pad;
  }
  return 0;
}

static size_t build_id_from_elf(Elf *elf, uint8_t *out, size_t cap) {
  size_t phnum;
  if (elf_getphdrnum(elf, &phnum) == 0) {
    for (size_t i = 0; i < phnum; i++) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf, (int)i, &ph) == NULL || ph.p_type != PT_NOTE)
        continue;
      Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
                                         ELF_T_NHDR);
      if (d == NULL || d->d_buf == NULL)
        continue;
      size_t n = cw__wd_elf_build_id_from_notes(d->d_buf, d->d_size, out, cap);
      if (n > 0)
        return n;
    }
  }
  /* No program headers with the note (e.g. a separate debug file): try
   * the sections. */
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE)
      continue;
    Elf_Data *d = elf_rawdata(scn, NULL);
    if (d == NULL || d->d_buf == NULL)
      continue;
    size_t n = cw__wd_elf_build_id_from_notes(d->d_buf, d->d_size, out, cap);
    if (n > 0)
      return n;
  }
  return 0;
}

size_t cw__wd_elf_build_id_fd(int fd, uint8_t *out, size_t cap) {
  elf_init_once();
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (elf == NULL)
    return 0;
  size_t n = elf_kind(elf) == ELF_K_ELF ? build_id_from_elf(elf, out, cap) : 0;
  elf_end(elf);
  return n;
}

static int sym_cmp(const void *a, const void *b) {
  const wd_elf_sym_t *x = a, *y = b;
  if (x->addr != y->addr)
    return x->addr < y->addr ? -1 : 1;
  /* Of aliases: the sized one, then the global one, then the one that had
   * no version ("__libc_start_main" over "__libc_start_main_impl" and
   * "__libc_start_main@GLIBC_2.2.5"). */
  if (x->size != y->size)
    return x->size > y->size ? -1 : 1;
  if (x->local != y->local)
    return x->local - y->local; /* the exported name of a function */
  if (x->versioned != y->versioned)
    return x->versioned - y->versioned;
  /* glibc's internal aliases ("__GI___clone3" for "__clone3") last, then
   * the shorter name. */
  int xg = strncmp(x->name, "__GI_", 5) == 0;
  int yg = strncmp(y->name, "__GI_", 5) == 0;
  if (xg != yg)
    return xg - yg;
  size_t xl = strlen(x->name), yl = strlen(y->name);
  if (xl != yl)
    return xl < yl ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Sorts syms into sym_cmp's order. On the crash path, before the report
 * is committed: qsort with sym_cmp took 0.85 ms for libc's 6800 function
 * symbols, most of it comparing addresses. So the addresses are
 * radix-sorted (a byte per pass, skipping the bytes all symbols share;
 * stable), and only runs of aliases at one address go through sym_cmp. */
static void sort_symbols(wd_elf_sym_t *syms, size_t n) {
  if (n < 2)
    return;
  wd_elf_sym_t *tmp = malloc(n * sizeof(*tmp));
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
  wd_elf_sym_t *src = syms, *dst = tmp;
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
    wd_elf_sym_t *t = src;
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
      wd_elf_sym_t x = syms[k];
      size_t m = k;
      for (; m > i && sym_cmp(&syms[m - 1], &x) > 0; m--)
        syms[m] = syms[m - 1];
      syms[m] = x;
    }
    i = j;
  }
}

/* A copy of name[0..n) owned by e (for names cut at their version). */
static const char *keep_name(wd_elf_t *e, const char *name, size_t n) {
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

/* One function symbol as a table holds it: name uncut (it may carry
 * "@VERSION"). */
typedef struct {
  uint64_t addr, size;
  const char *name;
  uint8_t local;
} raw_sym_t;

/* Called per function symbol; returns nonzero to stop the scan. */
typedef int (*sym_fn_t)(void *ctx, const raw_sym_t *s);

/* Passes the function symbols of one kind of symbol table to fn; returns
 * how many. Reads the Elf64_Sym array straight from the mapped file when
 * it is native (little-endian, 64-bit): libelf's per-symbol conversion
 * costs more than the rest of the report for libc's thousands of symbols.
 */
static size_t scan_symbols(Elf *elf, const uint8_t *image, size_t image_size,
                           Elf64_Word want, sym_fn_t fn, void *ctx) {
  size_t yielded = 0;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != want ||
        sh.sh_entsize != sizeof(Elf64_Sym))
      continue;
    size_t count = sh.sh_size / sizeof(Elf64_Sym);
    const Elf64_Sym *raw = NULL;
    Elf_Data *d = NULL;
    if (image != NULL && sh.sh_offset <= image_size &&
        sh.sh_size <= image_size - sh.sh_offset &&
        (sh.sh_offset % _Alignof(Elf64_Sym)) == 0 &&
        elf_getident(elf, NULL)[EI_DATA] == ELFDATA2LSB) {
      raw = (const Elf64_Sym *)(const void *)(image + sh.sh_offset);
    } else if ((d = elf_getdata(scn, NULL)) == NULL) {
      continue;
    }
    if (d != NULL && count > d->d_size / sizeof(Elf64_Sym))
      count = d->d_size / sizeof(Elf64_Sym);
    /* A table claiming more symbols than a file can hold is malformed
     * (count is already bounded by the file size for the raw case). */
    if (count == 0 || count > SIZE_MAX / sizeof(wd_elf_sym_t))
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
    for (size_t i = 0; i < count; i++) {
      GElf_Sym s;
      if (raw != NULL)
        s = raw[i];
      else if (gelf_getsym(d, (int)i, &s) == NULL)
        break;
      int type = GELF_ST_TYPE(s.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_value == 0 ||
          s.st_shndx == SHN_UNDEF)
        continue;
      const char *name = strs == NULL ? elf_strptr(elf, sh.sh_link, s.st_name)
                         : s.st_name < strs_len ? strs + s.st_name
                                                : NULL;
      if (name == NULL || name[0] == '\0')
        continue;
      raw_sym_t r = {s.st_value, s.st_size, name,
                     (uint8_t)(GELF_ST_BIND(s.st_info) == STB_LOCAL)};
      yielded++;
      if (fn(ctx, &r) != 0)
        return yielded;
    }
  }
  return yielded;
}

/* Appends a symbol to e->syms (grown by doubling). */
static int append_symbol(void *ctx, const raw_sym_t *r) {
  wd_elf_t *e = ctx;
  if (e->nsyms == e->syms_cap) {
    size_t ncap = e->syms_cap ? e->syms_cap * 2 : 1024;
    if (ncap > SIZE_MAX / sizeof(wd_elf_sym_t))
      return 1;
    wd_elf_sym_t *syms = realloc(e->syms, ncap * sizeof(*syms));
    if (syms == NULL)
      return 1;
    e->syms = syms;
    e->syms_cap = ncap;
  }
  const char *name = r->name;
  /* "memcpy@GLIBC_2.14" is shown as "memcpy". */
  int versioned = strchr(name, '@') != NULL;
  if (versioned) {
    name = keep_name(e, name, strcspn(name, "@"));
    if (name == NULL)
      return 0;
  }
  e->syms[e->nsyms++] =
      (wd_elf_sym_t){r->addr, r->size, name, r->local, (uint8_t)versioned};
  return 0;
}

/* Appends the function symbols of one kind of symbol table. */
static void load_symbols(wd_elf_t *e, Elf *elf, const uint8_t *image,
                         size_t image_size, Elf64_Word want) {
  scan_symbols(elf, image, image_size, want, append_symbol, e);
}

/* Symbols are loaded on the first lookup: most modules of a process never
 * appear in a stack. */
/* The separate debug file of a stripped module, found the way gdb and
 * the distributions lay them out: /usr/lib/debug/.build-id/ab/cdef.debug.
 * Accepted only if its build-id matches. */
static void open_debug_file(wd_elf_t *e) {
  if (e->build_id_len < 2)
    return;
  char hex[2 * sizeof(e->build_id) + 1];
  cw__hex_encode(e->build_id, e->build_id_len, hex);
  char path[sizeof(hex) + 64];
  snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex,
           hex + 2);
  int fd = cw__open_regular(path, 0, NULL); /* never a FIFO, never blocking */
  if (fd < 0)
    return;
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  uint8_t id[64];
  if (elf == NULL || elf_kind(elf) != ELF_K_ELF ||
      gelf_getclass(elf) != ELFCLASS64 ||
      build_id_from_elf(elf, id, sizeof(id)) != e->build_id_len ||
      memcmp(id, e->build_id, e->build_id_len) != 0) {
    if (elf != NULL)
      elf_end(elf);
    close(fd);
    return;
  }
  e->debug_elf = elf;
  e->debug_fd = fd;
}

/* Symbols are loaded on the first lookup: most modules of a process never
 * appear in a stack. .symtab, else the debug file's .symtab, else .dynsym
 * (exported functions only). */
static void ensure_symbols(wd_elf_t *e) {
  if (e->syms_loaded)
    return;
  e->syms_loaded = 1;
  load_symbols(e, e->elf, e->image, e->image_size, SHT_SYMTAB);
  if (e->nsyms == 0) {
    if (e->debug_elf == NULL)
      open_debug_file(e);
    if (e->debug_elf != NULL) {
      size_t n = 0;
      const uint8_t *img = (const uint8_t *)elf_rawfile(e->debug_elf, &n);
      load_symbols(e, e->debug_elf, img, img ? n : 0, SHT_SYMTAB);
    }
  }
  if (e->nsyms == 0)
    load_symbols(e, e->elf, e->image, e->image_size, SHT_DYNSYM);
  sort_symbols(e->syms, e->nsyms);
}

/* ---- Naming the frames' addresses without the whole table ----
 *
 * On the crash path, before the report is committed, only a few dozen
 * addresses need a name, while loading and sorting libc's symbols took
 * ~0.5 ms. One pass over the table finds, for every such address at once,
 * exactly what cw__wd_elf_symbol() would answer from the sorted table: among
 * the NAME_GROUPS highest symbol addresses at or below it (the groups that
 * lookup walks back over), the highest one holding a sized symbol that
 * covers it (or, for the nearest group only, an unsized symbol), and of
 * that group's qualifying aliases the first in sym_cmp's order. */

#define NAME_GROUPS 4
#define NAME_MAX_ADDRS 64 /* more: the sorted table is cheaper */

/* A symbol as sym_cmp sees it: its name cut at '@'. */
typedef struct {
  uint64_t addr, size;
  const char *name; /* uncut */
  size_t len;       /* of the cut name */
  uint8_t local, versioned, set;
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
  wd_elf_sym_t sym;
} named_t;

typedef struct {
  named_t *v; /* sorted by vaddr */
  size_t n;
} named_set_t;

/* sym_cmp's order among aliases at one address, on cut names. */
static int cand_cmp(const cand_t *x, const cand_t *y) {
  if (x->size != y->size)
    return x->size > y->size ? -1 : 1;
  if (x->local != y->local)
    return x->local - y->local;
  if (x->versioned != y->versioned)
    return x->versioned - y->versioned;
  int xg = x->len >= 5 && memcmp(x->name, "__GI_", 5) == 0;
  int yg = y->len >= 5 && memcmp(y->name, "__GI_", 5) == 0;
  if (xg != yg)
    return xg - yg;
  if (x->len != y->len)
    return x->len < y->len ? -1 : 1;
  return memcmp(x->name, y->name, x->len);
}

static int batch_symbol(void *ctx, const raw_sym_t *r) {
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
      size_t len = strcspn(r->name, "@");
      c = (cand_t){r->addr, r->size,  r->name,
                   len,     r->local, (uint8_t)(r->name[len] == '@'),
                   1};
      made = 1;
    }
    if (covers && (!g->cov.set || cand_cmp(&c, &g->cov) < 0))
      g->cov = c;
    if (!g->any.set || cand_cmp(&c, &g->any) < 0)
      g->any = c;
  }
  return 0;
}

static int u64_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Names the distinct sorted link-time addresses a[0..n) into e->named. */
static void name_addrs(wd_elf_t *e, const uint64_t *a, size_t n) {
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
  /* The tables ensure_symbols() would load, in its order. */
  size_t found = scan_symbols(e->elf, e->image, e->image_size, SHT_SYMTAB,
                              batch_symbol, &b);
  if (found == 0) {
    if (e->debug_elf == NULL)
      open_debug_file(e);
    if (e->debug_elf != NULL) {
      size_t sz = 0;
      const uint8_t *img = (const uint8_t *)elf_rawfile(e->debug_elf, &sz);
      found = scan_symbols(e->debug_elf, img, img ? sz : 0, SHT_SYMTAB,
                           batch_symbol, &b);
    }
  }
  if (found == 0)
    scan_symbols(e->elf, e->image, e->image_size, SHT_DYNSYM, batch_symbol, &b);
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
      const char *name = win->name;
      if (win->versioned && (name = keep_name(e, name, win->len)) == NULL)
        continue; /* not kept: this address takes the full table */
      out->sym = (wd_elf_sym_t){win->addr, win->size, name, win->local,
                                win->versioned};
    }
    nv++;
  }
  free(b.w);
  set->v = v;
  set->n = nv;
  e->named = set;
}

void cw__wd_elf_name_frames(const wd_capture_t *cap, const wd_module_t *m) {
  wd_elf_t *e = m->elf;
  if (e == NULL || e->frames_named || e->syms_loaded)
    return;
  e->frames_named = 1;
  uint64_t a[NAME_MAX_ADDRS];
  size_t n = 0;
  uint64_t bias = cw__wd_elf_load_bias(e, m);
  for (size_t t = 0; t < cap->nthreads; t++) {
    const wd_thread_t *th = &cap->threads[t];
    for (size_t k = 0; k < th->nframes; k++) {
      uint64_t ip = th->frames[k].ip;
      /* As cw__wd_symbolize() is asked: inside the call for return
       * addresses. */
      uint64_t addr = k > 0 && ip > 0 ? ip - 1 : ip;
      if (cw__wd_capture_module_at(cap, addr) != m)
        continue;
      uint64_t vaddr = addr - bias;
      size_t j = 0;
      while (j < n && a[j] != vaddr)
        j++;
      if (j < n)
        continue;
      if (n == NAME_MAX_ADDRS)
        return; /* a deep stack: the sorted table it is */
      a[n++] = vaddr;
    }
  }
  if (n == 0)
    return;
  qsort(a, n, sizeof(a[0]), u64_cmp);
  name_addrs(e, a, n);
}

static const named_t *named_lookup(const wd_elf_t *e, uint64_t vaddr) {
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

static wd_elf_t *elf_open(int fd, Elf *elf);

wd_elf_t *cw__wd_elf_open(int fd) {
  if (fd < 0)
    return NULL;
  elf_init_once();
  return elf_open(fd, elf_begin(fd, ELF_C_READ_MMAP, NULL));
}

wd_elf_t *cw__wd_elf_open_memory(const uint8_t *image, size_t size) {
  if (image == NULL || size == 0)
    return NULL;
  elf_init_once();
  /* elf_memory does not write to the image when only reading. */
  return elf_open(-1, elf_memory((char *)(uintptr_t)image, size));
}

static wd_elf_t *elf_open(int fd, Elf *elf) {
  if (elf == NULL)
    return NULL;
  if (elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64) {
    elf_end(elf);
    return NULL;
  }
  wd_elf_t *e = calloc(1, sizeof(*e));
  if (e == NULL) {
    elf_end(elf);
    return NULL;
  }
  e->elf = elf;
  e->fd = fd;
  e->debug_fd = -1;
  /* libelf mapped the file: unwinding reads .eh_frame words from it by the
   * thousand, which must not cost a system call each. */
  size_t image_size = 0;
  char *image = elf_rawfile(elf, &image_size);
  if (image != NULL) {
    e->image = (const uint8_t *)image;
    e->image_size = image_size;
  }
  size_t phnum;
  if (elf_getphdrnum(elf, &phnum) == 0 && phnum > 0) {
    e->segs = calloc(phnum, sizeof(*e->segs));
    for (size_t i = 0; e->segs != NULL && i < phnum; i++) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf, (int)i, &ph) == NULL)
        continue;
      if (ph.p_type == PT_LOAD)
        e->segs[e->nsegs++] =
            (wd_elf_seg_t){ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz};
      else if (ph.p_type == PT_GNU_EH_FRAME) {
        e->eh_frame_hdr_vaddr = ph.p_vaddr;
        e->eh_frame_hdr_size = ph.p_memsz;
      }
    }
  }
  e->build_id_len = build_id_from_elf(elf, e->build_id, sizeof(e->build_id));
  return e;
}

void cw__wd_elf_close(wd_elf_t *e) {
  if (e == NULL)
    return;
  elf_end(e->elf);
  if (e->debug_elf != NULL)
    elf_end(e->debug_elf);
  if (e->debug_fd >= 0)
    close(e->debug_fd);
  free(e->segs);
  free(e->syms);
  if (e->named != NULL) {
    free(((named_set_t *)e->named)->v);
    free(e->named);
  }
  for (size_t i = 0; i < e->nnames; i++)
    free(e->names[i]);
  free(e->names);
  free(e);
}

uint64_t cw__wd_elf_load_bias(const wd_elf_t *e, const wd_module_t *m) {
  /* The segment whose file range holds the base mapping's offset tells
   * which link-time page the base maps. */
  for (size_t i = 0; i < e->nsegs; i++) {
    const wd_elf_seg_t *s = &e->segs[i];
    uint64_t page_off = s->offset & ~(uint64_t)0xfff;
    if (m->offset_at_base >= page_off &&
        m->offset_at_base < s->offset + (s->filesz ? s->filesz : 1)) {
      uint64_t vaddr =
          (s->vaddr & ~(uint64_t)0xfff) + (m->offset_at_base - page_off);
      return m->base - vaddr;
    }
  }
  if (e->nsegs > 0)
    return m->base - (e->segs[0].vaddr & ~(uint64_t)0xfff);
  return m->base;
}

int cw__wd_elf_read_vaddr(const wd_elf_t *e, uint64_t vaddr, void *buf,
                          size_t len) {
  for (size_t i = 0; i < e->nsegs; i++) {
    const wd_elf_seg_t *s = &e->segs[i];
    if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz &&
        len <= s->filesz - (vaddr - s->vaddr)) {
      uint64_t off = s->offset + (vaddr - s->vaddr);
      if (e->image != NULL) {
        if (off > e->image_size || len > e->image_size - off)
          return -1;
        memcpy(buf, e->image + off, len);
        return 0;
      }
      if (e->fd < 0)
        return -1;
      ssize_t n = pread(e->fd, buf, len, (off_t)off);
      return n == (ssize_t)len ? 0 : -1;
    }
  }
  return -1;
}

const wd_elf_sym_t *cw__wd_elf_symbol(wd_elf_t *e, uint64_t vaddr) {
  if (!e->syms_loaded && e->named != NULL) {
    const named_t *hit = named_lookup(e, vaddr);
    if (hit != NULL)
      return hit->found ? &hit->sym : NULL;
  }
  ensure_symbols(e);
  size_t lo = 0, hi = e->nsyms;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (e->syms[mid].addr <= vaddr)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* syms[0..lo) start at or below vaddr. Walk back a few address groups
   * for the nearest symbol covering vaddr, taking the first (preferred)
   * alias of each group. */
  size_t i = lo;
  for (int groups = 0; i > 0 && groups < 4; groups++) {
    size_t first = i - 1;
    while (first > 0 && e->syms[first - 1].addr == e->syms[i - 1].addr)
      first--;
    for (size_t k = first; k < i; k++) {
      const wd_elf_sym_t *s = &e->syms[k];
      if (s->size > 0 ? vaddr - s->addr < s->size : groups == 0)
        return s; /* unsized: assume it runs to the next symbol */
    }
    i = first;
  }
  return NULL;
}

const wd_elf_sym_t *wd_elf_symbol_preceding(wd_elf_t *e, uint64_t vaddr) {
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
  size_t lo = 0, hi = e->nsyms;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (e->syms[mid].addr <= vaddr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0 || e->syms[lo - 1].addr < sec_lo)
    return NULL;
  /* The preferred alias: the first of its address group. */
  size_t first = lo - 1;
  while (first > 0 && e->syms[first - 1].addr == e->syms[lo - 1].addr)
    first--;
  return &e->syms[first];
}

wd_elf_t *cw__wd_module_elf(wd_module_t *m) {
  if (m->elf == NULL && m->fd >= 0)
    m->elf = cw__wd_elf_open(m->fd);
  else if (m->elf == NULL && m->image != NULL)
    m->elf = cw__wd_elf_open_memory(m->image, m->image_size);
  return m->elf;
}
