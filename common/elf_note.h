/*
 * elf_note.h — the GNU build-id note in a run of ELF notes. One walker for
 * the ELF layer (elf/elf_id.c: files, debug files, a process's memory) and
 * the library (handler/spawn.c: its embedded watchdog). libc only. Normal
 * context; the bytes may be outside input, every size is checked.
 */
#ifndef CW_ELF_NOTE_H
#define CW_ELF_NOTE_H

#include <stddef.h>
#include <stdint.h>

/* Looks through the notes p[0..n) (native byte order; name and descriptor
 * each padded to align: 4, or 8 in a segment or section aligned to 8 such
 * as .note.gnu.property) for the first GNU build-id with a non-empty
 * descriptor. Returns 1 and the descriptor's offset in p and its size, or
 * 0. */
int cw__elf_note_build_id(const uint8_t *p, size_t n, size_t align,
                          size_t *desc_off, size_t *desc_len);

#endif
