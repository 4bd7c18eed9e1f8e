/*
 * elf_note.c — the GNU build-id note in a run of ELF notes (elf_note.h).
 */
#include "elf_note.h"

#include <elf.h>
#include <string.h>

int cw__elf_note_build_id(const uint8_t *p, size_t n, size_t align,
                          size_t *desc_off, size_t *desc_len) {
  size_t off = 0;
  while (off + 12 <= n) {
    uint32_t namesz, descsz, type;
    memcpy(&namesz, p + off, 4);
    memcpy(&descsz, p + off + 4, 4);
    memcpy(&type, p + off + 8, 4);
    off += 12;
    size_t name_pad = ((size_t)namesz + align - 1) & ~(align - 1);
    size_t desc_pad = ((size_t)descsz + align - 1) & ~(align - 1);
    if (name_pad < namesz || desc_pad < descsz)
      return 0; /* wrapped */
    if (name_pad > n - off || desc_pad > n - off - name_pad)
      return 0;
    if (type == NT_GNU_BUILD_ID && namesz == 4 &&
        memcmp(p + off, "GNU", 4) == 0 && descsz > 0) {
      *desc_off = off + name_pad;
      *desc_len = descsz;
      return 1;
    }
    off += name_pad + desc_pad;
  }
  return 0;
}
