/*
 * wd_elf.c — reads module ELF files with libelf (see wd_elf.h). Normal
 * context, watchdog process. The files are outside input: every offset is
 * checked against what libelf returns, and a malformed file only yields
 * fewer facts.
 */
#include "wd_elf.h"

#include "debug_id.h"

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

size_t wd_elf_build_id_from_notes(const uint8_t *p, size_t n, uint8_t *out,
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
      size_t n = wd_elf_build_id_from_notes(d->d_buf, d->d_size, out, cap);
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
    size_t n = wd_elf_build_id_from_notes(d->d_buf, d->d_size, out, cap);
    if (n > 0)
      return n;
  }
  return 0;
}

size_t wd_elf_build_id_fd(int fd, uint8_t *out, size_t cap) {
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

/* Appends the function symbols of one symbol table. Reads the Elf64_Sym
 * array straight from the mapped file when it is native (little-endian,
 * 64-bit): libelf's per-symbol conversion costs more than the rest of the
 * report for libc's thousands of symbols. */
static void load_symbols(wd_elf_t *e, Elf *elf, const uint8_t *image,
                         size_t image_size, Elf64_Word want) {
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
    /* A table claiming more symbols than a file can hold is malformed:
     * bound the allocation (count is already bounded by the file size for
     * the raw case) and keep realloc away from 0. */
    if (count == 0 || count > (SIZE_MAX / sizeof(wd_elf_sym_t)) - e->nsyms)
      continue;
    wd_elf_sym_t *syms = realloc(e->syms, (e->nsyms + count) * sizeof(*syms));
    if (syms == NULL)
      return;
    e->syms = syms;
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
      /* "memcpy@GLIBC_2.14" is shown as "memcpy". */
      int versioned = strchr(name, '@') != NULL;
      if (versioned) {
        name = keep_name(e, name, strcspn(name, "@"));
        if (name == NULL)
          continue;
      }
      int local = GELF_ST_BIND(s.st_info) == STB_LOCAL;
      e->syms[e->nsyms++] = (wd_elf_sym_t){s.st_value, s.st_size, name,
                                           (uint8_t)local, (uint8_t)versioned};
    }
  }
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
  cw_hex_encode(e->build_id, e->build_id_len, hex);
  char path[sizeof(hex) + 64];
  snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%.2s/%s.debug", hex,
           hex + 2);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
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

static wd_elf_t *elf_open(int fd, Elf *elf);

wd_elf_t *wd_elf_open(int fd) {
  if (fd < 0)
    return NULL;
  elf_init_once();
  return elf_open(fd, elf_begin(fd, ELF_C_READ_MMAP, NULL));
}

wd_elf_t *wd_elf_open_memory(const uint8_t *image, size_t size) {
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

void wd_elf_close(wd_elf_t *e) {
  if (e == NULL)
    return;
  elf_end(e->elf);
  if (e->debug_elf != NULL)
    elf_end(e->debug_elf);
  if (e->debug_fd >= 0)
    close(e->debug_fd);
  free(e->segs);
  free(e->syms);
  for (size_t i = 0; i < e->nnames; i++)
    free(e->names[i]);
  free(e->names);
  free(e);
}

uint64_t wd_elf_load_bias(const wd_elf_t *e, const wd_module_t *m) {
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

int wd_elf_read_vaddr(const wd_elf_t *e, uint64_t vaddr, void *buf,
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

const wd_elf_sym_t *wd_elf_symbol(wd_elf_t *e, uint64_t vaddr) {
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

wd_elf_t *wd_module_elf(wd_module_t *m) {
  if (m->elf == NULL && m->fd >= 0)
    m->elf = wd_elf_open(m->fd);
  else if (m->elf == NULL && m->image != NULL)
    m->elf = wd_elf_open_memory(m->image, m->image_size);
  return m->elf;
}
