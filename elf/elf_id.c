/*
 * elf_id.c — an ELF file's identity (see cw_elf.h): the GNU build-id note
 * and the build-id path of separate debug files. Normal context; the
 * bytes are outside input.
 */
#include "cw_elf.h"

#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>

#include "debug_id.h"
#include "elf_note.h"

/* The build-id of the notes p[0..n) copied to out (at most cap bytes);
 * its length, 0 if none (common/elf_note.c walks the notes). */
static size_t notes_build_id(const uint8_t *p, size_t n, size_t align,
                             uint8_t *out, size_t cap) {
  size_t off, len;
  if (!cw__elf_note_build_id(p, n, align, &off, &len))
    return 0;
  size_t copied = len < cap ? len : cap;
  memcpy(out, p + off, copied);
  return copied;
}

size_t cw__elf_build_id_from_notes(const uint8_t *p, size_t n, uint8_t *out,
                                   size_t cap) {
  return notes_build_id(p, n, 4, out, cap);
}

size_t cw__elf_build_id(Elf *elf, uint8_t *out, size_t cap) {
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
      size_t n = notes_build_id(d->d_buf, d->d_size, ph.p_align == 8 ? 8 : 4,
                                out, cap);
      if (n > 0)
        return n;
    }
  }
  /* No program headers with the note (a separate debug file): the
   * sections. */
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(elf, scn)) != NULL) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE)
      continue;
    Elf_Data *d = elf_getdata(scn, NULL); /* in this host's byte order */
    if (d == NULL || d->d_buf == NULL)
      continue;
    size_t n = notes_build_id(d->d_buf, d->d_size, sh.sh_addralign == 8 ? 8 : 4,
                              out, cap);
    if (n > 0)
      return n;
  }
  return 0;
}

size_t cw__elf_build_id_fd(int fd, uint8_t *out, size_t cap) {
  elf_version(EV_CURRENT);
  Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (elf == NULL)
    return 0;
  size_t n = elf_kind(elf) == ELF_K_ELF ? cw__elf_build_id(elf, out, cap) : 0;
  elf_end(elf);
  return n;
}

int cw__elf_build_id_matches(Elf *elf, const uint8_t *id, size_t n) {
  uint8_t got[64];
  return n > 0 && n <= sizeof(got) &&
         cw__elf_build_id(elf, got, sizeof(got)) == n &&
         memcmp(got, id, n) == 0;
}

int cw__elf_build_id_path(char *out, size_t cap, const char *root,
                          const uint8_t *id, size_t n, const char *suffix) {
  if (n < 2 || n > 64)
    return -1;
  char hex[129];
  cw__hex_encode(id, n, hex);
  int len =
      snprintf(out, cap, "%s/.build-id/%.2s/%s%s", root, hex, hex + 2, suffix);
  return len < 0 || (size_t)len >= cap ? -1 : 0;
}

size_t cw__elf_name_len(const char *name) { return strcspn(name, "@"); }
