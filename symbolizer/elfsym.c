/* elfsym.c — what the symbolizer reads from ELF with libelf: function
 * symbols, build-id, .gnu_debuglink, load address; plus the CRC-32 that
 * .gnu_debuglink uses. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
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

int symsrc_elf_check_inflate(Elf *elf, const char *path, char *err,
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

/* The GNU build-id note among the notes of d, copied to out (at most cap
 * bytes); returns its length, or 0 when d has none. */
static int note_build_id(Elf_Data *d, uint8_t *out, size_t cap) {
  size_t off = 0, name_off, desc_off;
  GElf_Nhdr nh;
  while (off < d->d_size &&
         (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
        memcmp((char *)d->d_buf + name_off, "GNU", 4) == 0) {
      size_t n = nh.n_descsz < cap ? nh.n_descsz : cap;
      memcpy(out, (char *)d->d_buf + desc_off, n);
      return (int)n;
    }
  }
  return 0;
}

int cw__symsrc_elf_build_id(Elf *elf, uint8_t *out, size_t cap) {
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE)
      continue;
    Elf_Data *d = elf_getdata(scn, NULL);
    if (d == NULL)
      continue;
    int n = note_build_id(d, out, cap);
    if (n > 0)
      return n;
  }
  /* Stripped of section headers: look through the program headers. */
  size_t np;
  if (elf_getphdrnum(elf, &np) != 0)
    return 0;
  for (size_t i = 0; i < np; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, (int)i, &ph) == NULL || ph.p_type != PT_NOTE)
      continue;
    Elf_Data *d =
        elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
    if (d == NULL)
      continue;
    int n = note_build_id(d, out, cap);
    if (n > 0)
      return n;
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

static int add_symtab(symidx_t *ix, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh) {
  Elf_Data *d = elf_getdata(scn, NULL);
  if (d == NULL || sh->sh_entsize == 0)
    return 0;
  size_t n = sh->sh_size / sh->sh_entsize;
  int added = 0;
  /* The STT_FILE entry a local symbol follows names its source file. */
  const char *file = NULL;
  for (size_t i = 1; i < n; i++) {
    GElf_Sym sym;
    if (gelf_getsym(d, (int)i, &sym) == NULL)
      break;
    int type = GELF_ST_TYPE(sym.st_info);
    if (type == STT_FILE) {
      const char *fn = elf_strptr(elf, sh->sh_link, sym.st_name);
      file = fn != NULL && *fn != '\0' ? cw__symidx_intern(ix, fn, strlen(fn))
                                       : NULL;
      continue;
    }
    if ((type != STT_FUNC && type != STT_GNU_IFUNC) ||
        sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
      continue;
    const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
    if (name == NULL || *name == '\0')
      continue;
    uint64_t size = sym.st_size;
    int unsized = size == 0;
    if (size == 0) {
      /* Unsized (assembly) functions reach at most to the end of their
       * section, not to every address above them. */
      GElf_Shdr sec;
      Elf_Scn *sc = elf_getscn(elf, sym.st_shndx);
      if (sc == NULL || gelf_getshdr(sc, &sec) == NULL ||
          sym.st_value < sec.sh_addr ||
          sym.st_value >= sec.sh_addr + sec.sh_size)
        continue;
      size = sec.sh_addr + sec.sh_size - sym.st_value;
    }
    const char *in = cw__symidx_intern(ix, name, strlen(name));
    if (in == NULL ||
        symidx_add_elf_sym(
            ix, sym.st_value, size, in, GELF_ST_BIND(sym.st_info) != STB_GLOBAL,
            GELF_ST_BIND(sym.st_info) == STB_LOCAL ? file : NULL, unsized) != 0)
      return CW_ENOMEM;
    added++;
  }
  return added;
}

int cw__symsrc_elf_symbols(symidx_t *ix, Elf *elf, const char *path, char *err,
                           size_t errlen) {
  Elf_Scn *symtab = NULL, *dynsym = NULL, *scn = NULL;
  GElf_Shdr sh_sym, sh_dyn, sh;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    if (gelf_getshdr(scn, &sh) == NULL)
      continue;
    if (sh.sh_type == SHT_SYMTAB && symtab == NULL) {
      symtab = scn;
      sh_sym = sh;
    } else if (sh.sh_type == SHT_DYNSYM && dynsym == NULL) {
      dynsym = scn;
      sh_dyn = sh;
    }
  }
  int rc = 0;
  if (symtab != NULL)
    rc = add_symtab(ix, elf, symtab, &sh_sym);
  else if (dynsym != NULL)
    rc = add_symtab(ix, elf, dynsym, &sh_dyn);
  if (rc < 0)
    snprintf(err, errlen, "%s: out of memory reading symbols", path);
  return rc;
}
