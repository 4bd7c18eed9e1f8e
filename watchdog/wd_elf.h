/*
 * wd_elf.h — the watchdog's use of the one ELF layer (elf/include/cw_elf.h): a
 * module's cw__elf_t, opened on first use, and the fast path that names
 * all of a module's frames in one pass. Normal context.
 */
#ifndef CW_WD_ELF_H
#define CW_WD_ELF_H

#include <stdint.h>

#include "cw_elf.h"
#include "wd_capture.h"

/* The module's ELF (its file, or its copied image), opened on first use,
 * or the module cache's for the same file; NULL if unavailable. Closed by
 * cw__wd_capture_free() unless it is the cache's (m->elf_cached). */
cw__elf_t *cw__wd_module_elf(wd_module_t *m);

/* The module cache (module_cache.c; cw__wd_module_cache_warm fills it):
 * the cached cw__elf_t of the file open as fd (same device, inode, size
 * and modification time), or NULL. Shared: never closed by the caller. */
cw__elf_t *cw__wd_module_cache_find(int fd);

/* The load bias of module m (run-time address minus link-time vaddr). */
static inline uint64_t cw__wd_elf_load_bias(const cw__elf_t *e,
                                            const wd_module_t *m) {
  return cw__elf_load_bias(e, m->base, m->offset_at_base);
}

/* Names, in one pass over m's symbol table (cw__elf_name_addrs), every
 * frame address of cap that lies in m (the address cw__wd_symbolize() is
 * given: ip, or ip - 1 for a return address), so that cw__elf_symbol()
 * answers those without loading and sorting the whole table. A stack
 * deeper than CW_ELF_NAME_MAX_ADDRS addresses in m takes the sorted table.
 * Once per module. */
void cw__wd_elf_name_frames(const wd_capture_t *cap, const wd_module_t *m);

#endif
