/*
 * elf_internal.h — what the files of elf/ share and nothing else sees.
 */
#ifndef CW_ELF_INTERNAL_H
#define CW_ELF_INTERNAL_H

#include "cw_elf.h"

/* Opens the separate debug file of e by build-id under
 * CW_ELF_SYSTEM_DEBUG_DIR into e->debug_elf (once; accepted only if its
 * build-id matches). */
void cw__elf_open_debug(cw__elf_t *e);
/* Frees the loaded symbol table and the fast path's answers. */
void cw__elf_free_symbols(cw__elf_t *e);

#endif
