/* elfsym.c — what the symbolizer reads from ELF with libelf beyond the one
 * ELF layer (elf/include/cw_elf.h, which gives build-ids and function symbols):
 * the symbol index's ELF symbols, .gnu_debuglink, load address, debug
 * section checks; plus the CRC-32 that .gnu_debuglink uses. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_elf.h"
#include "regfile.h"
#include "symsrc.h"

uint64_t cw__symsrc_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static Elf_Scn *find_section(Elf *elf, const char *name) {
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0)
    return NULL;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL)
      continue;
    const char *n = elf_strptr(elf, shstrndx, sh.sh_name);
    if (n != NULL && strcmp(n, name) == 0)
      return scn;
  }
  return NULL;
}

int cw__symsrc_elf_check_inflate(Elf *elf, const char *path, char *err,
                                 size_t errlen) {
  size_t file_size = 0;
  if (elf_rawfile(elf, &file_size) == NULL)
    file_size = 0;
  uint64_t limit = (uint64_t)file_size * SYMSRC_INFLATE_RATIO;
  if (file_size > UINT64_MAX / SYMSRC_INFLATE_RATIO)
    limit = UINT64_MAX;
  if (limit < SYMSRC_INFLATE_FLOOR)
    limit = SYMSRC_INFLATE_FLOOR;
  size_t shstrndx;
  if (elf_getshdrstrndx(elf, &shstrndx) != 0)
    return 0;
  uint64_t total = 0;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type == SHT_NOBITS)
      continue;
    const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
    if (name == NULL ||
        (strncmp(name, ".debug", 6) != 0 && strncmp(name, ".zdebug", 7) != 0))
      continue;
    uint64_t size = 0;
    if (sh.sh_flags & SHF_COMPRESSED) {
      GElf_Chdr ch;
      if (gelf_getchdr(scn, &ch) == NULL)
        continue; /* unreadable: libdw will not inflate it either */
      size = ch.ch_size;
    } else if (name[1] == 'z') {
      /* GNU style: "ZLIB", then the size as a big-endian 64-bit number. */
      Elf_Data *d = elf_rawdata(scn, NULL);
      if (d == NULL || d->d_buf == NULL || d->d_size < 12 ||
          memcmp(d->d_buf, "ZLIB", 4) != 0)
        continue;
      const uint8_t *p = (const uint8_t *)d->d_buf + 4;
      for (int i = 0; i < 8; i++)
        size = size << 8 | p[i];
    } else {
      continue;
    }
    if (size > limit - total) {
      snprintf(err, errlen,
               "%s: compressed section %s claims %llu bytes inflated, over "
               "the limit of %llu (%u times the file's %llu bytes): its DWARF "
               "is not read",
               path, name, (unsigned long long)size, (unsigned long long)limit,
               SYMSRC_INFLATE_RATIO, (unsigned long long)file_size);
      return CW_EFORMAT;
    }
    total += size;
  }
  return 0;
}

int cw__symsrc_elf_has_dwarf(Elf *elf) {
  Elf_Scn *scn = find_section(elf, ".debug_info");
  if (scn == NULL)
    scn = find_section(elf, ".zdebug_info");
  GElf_Shdr sh;
  return scn != NULL && gelf_getshdr(scn, &sh) != NULL &&
         sh.sh_type != SHT_NOBITS && sh.sh_size > 0;
}

uint64_t cw__symsrc_elf_min_exec_addr(Elf *elf) {
  uint64_t lo = 0;
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL)
      continue;
    if ((sh.sh_flags & SHF_EXECINSTR) && sh.sh_size > 0 &&
        (lo == 0 || sh.sh_addr < lo))
      lo = sh.sh_addr;
  }
  return lo;
}

uint64_t cw__symsrc_elf_load_vaddr(Elf *elf) {
  size_t n;
  if (elf_getphdrnum(elf, &n) != 0)
    return 0;
  for (size_t i = 0; i < n; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, (int)i, &ph) != NULL && ph.p_type == PT_LOAD) {
      uint64_t align = ph.p_align > 1 ? ph.p_align : 4096;
      if (align > 4096)
        align = 4096; /* mappings are page-aligned, not segment-aligned */
      return ph.p_vaddr & ~(align - 1);
    }
  }
  return 0;
}

int cw__symsrc_elf_debuglink(Elf *elf, char *name, size_t cap, uint32_t *crc) {
  Elf_Scn *scn = find_section(elf, ".gnu_debuglink");
  if (scn == NULL)
    return CW_ENOENT;
  Elf_Data *d = elf_getdata(scn, NULL);
  if (d == NULL || d->d_size < 5)
    return CW_EFORMAT;
  const char *s = d->d_buf;
  size_t len = strnlen(s, d->d_size);
  if (len == 0 || len >= cap || len == d->d_size)
    return CW_EFORMAT;
  memcpy(name, s, len + 1);
  size_t crc_off = (len + 4) & ~(size_t)3;
  if (crc_off + 4 > d->d_size)
    return CW_EFORMAT;
  uint32_t c;
  memcpy(&c, s + crc_off, 4);
  /* The CRC is stored in the file's byte order. */
  GElf_Ehdr eh;
  if (gelf_getehdr(elf, &eh) != NULL && eh.e_ident[EI_DATA] == ELFDATA2MSB)
    c = __builtin_bswap32(c);
  *crc = c;
  return 0;
}

uint32_t cw__symsrc_crc32(uint32_t crc, const uint8_t *p, size_t n) {
  static uint32_t table[256];
  if (table[1] == 0) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  }
  crc = ~crc;
  for (size_t i = 0; i < n; i++)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

int cw__symsrc_file_crc32(const char *path, uint32_t *crc) {
  int fd = cw__open_regular(path, 0, NULL);
  if (fd == CW_REGFILE_NOT_REGULAR)
    return CW_EINVAL;
  if (fd < 0)
    return CW_ENOENT;
  uint8_t buf[65536];
  uint32_t c = 0;
  ssize_t r;
  while ((r = read(fd, buf, sizeof(buf))) > 0)
    c = cw__symsrc_crc32(c, buf, (size_t)r);
  close(fd);
  if (r < 0)
    return CW_EIO;
  *crc = c;
  return 0;
}

typedef struct {
  symidx_t *ix;
  Elf *elf;
  int added; /* or CW_ENOMEM */
} add_ctx_t;

static int add_symbol(void *ctx, const cw__elf_fsym_t *sym) {
  add_ctx_t *a = ctx;
  uint64_t size = sym->size;
  int unsized = size == 0;
  if (size == 0) {
    /* Unsized (assembly) functions reach at most to the end of their
     * section, not to every address above them. */
    GElf_Shdr sec;
    Elf_Scn *sc = elf_getscn(a->elf, sym->shndx);
    if (sc == NULL || gelf_getshdr(sc, &sec) == NULL ||
        sym->addr < sec.sh_addr || sym->addr >= sec.sh_addr + sec.sh_size)
      return 0;
    size = sec.sh_addr + sec.sh_size - sym->addr;
  }
  const char *in =
      cw__symidx_intern(a->ix, sym->name, cw__elf_name_len(sym->name));
  const char *file =
      sym->file != NULL ? cw__symidx_intern(a->ix, sym->file, strlen(sym->file))
                        : NULL;
  if (in == NULL || (sym->file != NULL && file == NULL) ||
      cw__symidx_add_elf_sym(a->ix, sym->addr, size, in, sym->order, file,
                             unsized) != 0) {
    a->added = CW_ENOMEM;
    return 1;
  }
  a->added++;
  return 0;
}

int cw__symsrc_elf_table(symidx_t *ix, Elf *elf, unsigned table,
                         const char *path, char *err, size_t errlen) {
  add_ctx_t a = {ix, elf, 0};
  size_t size = 0;
  const uint8_t *image = (const uint8_t *)elf_rawfile(elf, &size);
  cw__elf_function_symbols(elf, image, image ? size : 0, table, add_symbol, &a);
  if (a.added < 0)
    snprintf(err, errlen, "%s: out of memory reading symbols", path);
  return a.added;
}

int cw__symsrc_elf_symbols(symidx_t *ix, Elf *elf, const char *path, char *err,
                           size_t errlen) {
  int added = cw__symsrc_elf_table(ix, elf, SHT_SYMTAB, path, err, errlen);
  if (added == 0)
    added = cw__symsrc_elf_table(ix, elf, SHT_DYNSYM, path, err, errlen);
  return added;
}
