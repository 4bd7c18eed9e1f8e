/*
 * breakpad_sym.h — a parser of Breakpad symbol files (.sym), as written by
 * dump_syms: MODULE, INFO, FILE, INLINE_ORIGIN, FUNC, INLINE, line and
 * PUBLIC records (STACK records are skipped). The records become a symbol
 * index (symindex.h) answering the same lookups as DWARF.
 *
 * The input is outside data: every malformed record is refused with an
 * error naming the file, the line number and what is wrong; nothing in the
 * input can make the parser crash or run out of bounds.
 */
#ifndef CW_BREAKPAD_SYM_H
#define CW_BREAKPAD_SYM_H

#include <stddef.h>
#include <stdint.h>

#include "symindex.h"

typedef struct {
  char os[32];
  char arch[32];
  char id[64];    /* Breakpad module id, e.g. "BBA6FA10...0" (with age) */
  char name[256]; /* module file name */
} bpsym_module_t;

/*
 * Parses data[0..len) (need not be NUL-terminated) into ix (the caller
 * finishes and frees it). bias is added to every address (the .sym file
 * counts from the module's load address; pass the ELF's load vaddr to get
 * ELF virtual addresses, or 0). mod receives the MODULE record (may be
 * NULL). path is used in messages only. Returns 0, or CW_EFORMAT /
 * CW_ENOMEM with err set ("PATH:LINE: problem").
 */
int cw__bpsym_parse(symidx_t *ix, const char *data, size_t len, uint64_t bias,
                    bpsym_module_t *mod, const char *path, char *err,
                    size_t errlen);

/* Reads and parses a .sym file. */
int cw__bpsym_load(symidx_t *ix, const char *path, uint64_t bias,
                   bpsym_module_t *mod, char *err, size_t errlen);

#endif
