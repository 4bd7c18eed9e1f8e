/*
 * wd_elf.h — the facts the watchdog needs from a module's ELF file: its
 * build-id, where its segments lie in the file, its .eh_frame_hdr and its
 * function symbols (.symtab, else .dynsym). Normal context.
 *
 * A wd_elf_t borrows the fd it was opened on (the caller keeps it open
 * while the wd_elf_t lives) and owns everything else.
 */
#ifndef CW_WD_ELF_H
#define CW_WD_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "wd_capture.h"

typedef struct {
  uint64_t vaddr, offset, filesz, memsz;
} wd_elf_seg_t;

typedef struct {
  uint64_t addr, size;
  const char *name; /* the string table's, or a copy cut before '@' */
  uint8_t local;    /* STB_LOCAL */
  uint8_t versioned;
} wd_elf_sym_t;

struct wd_elf {
  void *elf; /* Elf * */
  int fd;
  const uint8_t *image; /* the whole file, mapped by libelf; or NULL */
  void *debug_elf;      /* Elf * of the separate debug file, or NULL */
  int debug_fd;         /* its fd, or -1 */
  size_t image_size;
  wd_elf_seg_t *segs;
  size_t nsegs;
  uint64_t eh_frame_hdr_vaddr; /* 0 if none */
  uint64_t eh_frame_hdr_size;
  wd_elf_sym_t *syms; /* sorted by address, loaded on first lookup */
  size_t nsyms, syms_cap;
  int syms_loaded;
  char **names; /* copies owned here (versioned names, cut) */
  size_t nnames;
  void *named;      /* cw__wd_elf_name_frames()'s answers, before any load */
  int frames_named; /* cw__wd_elf_name_frames() ran */
  uint8_t build_id[64];
  size_t build_id_len;
};

/* Opens the ELF on fd (borrowed). Returns NULL if it is not a readable ELF
 * file. */
wd_elf_t *cw__wd_elf_open(int fd);
/* Opens an ELF image held in memory (borrowed: it must outlive the
 * wd_elf_t), such as the vDSO copied out of the process. */
wd_elf_t *cw__wd_elf_open_memory(const uint8_t *image, size_t size);
void cw__wd_elf_close(wd_elf_t *e);

/* The GNU build-id note of the ELF file on fd: its length (0 if none, or
 * not ELF), at most cap bytes copied. */
size_t cw__wd_elf_build_id_fd(int fd, uint8_t *out, size_t cap);

/* Parses a GNU build-id out of a note segment image (n bytes). */
size_t cw__wd_elf_build_id_from_notes(const uint8_t *notes, size_t n,
                                      uint8_t *out, size_t cap);

/* The load bias of module m (run-time address minus link-time vaddr). */
uint64_t cw__wd_elf_load_bias(const wd_elf_t *e, const wd_module_t *m);

/* Reads len bytes at link-time vaddr from the file. Returns 0 or -1 when
 * [vaddr, vaddr+len) is not backed by the file. */
int cw__wd_elf_read_vaddr(const wd_elf_t *e, uint64_t vaddr, void *buf,
                          size_t len);

/* The function symbol containing link-time vaddr, or NULL. */
const wd_elf_sym_t *cw__wd_elf_symbol(wd_elf_t *e, uint64_t vaddr);

/* For a module whose symbol tables name only some of its functions (the
 * vDSO exports a handful; its internal helpers have no symbol): the
 * nearest function symbol at or below link-time vaddr within the same
 * executable section, sized or not, as Breakpad's PUBLIC records name
 * such code. NULL when vaddr lies in no executable section or no function
 * symbol precedes it there. Callers try cw__wd_elf_symbol() first. */
const wd_elf_sym_t *wd_elf_symbol_preceding(wd_elf_t *e, uint64_t vaddr);

/* Names, in one pass over m's symbol table, every frame address of cap
 * that lies in m (the address cw__wd_symbolize() is given: ip, or ip - 1 for
 * a return address), so that cw__wd_elf_symbol() answers those without
 * loading and sorting the whole table; the same answers as the full table
 * gives. Any other address still loads the table. Once per module. */
void cw__wd_elf_name_frames(const wd_capture_t *cap, const wd_module_t *m);

/* The module's ELF (its file, or its copied image), opened on first use;
 * NULL if unavailable. */
wd_elf_t *cw__wd_module_elf(wd_module_t *m);

#endif
