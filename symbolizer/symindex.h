/*
 * symindex.h — the in-memory index one module's symbols are answered from
 * (private to symbolizer/).
 *
 * Every source of symbols (DWARF through libdw, a Breakpad .sym file, an ELF
 * symbol table) is turned into the same three sorted arrays once, when the
 * module is first used; a lookup is then three binary searches and never
 * touches the file again:
 *   - segments: non-overlapping address ranges, each naming the innermost
 *     function scope (a subprogram or an inlined instance) covering it;
 *     a scope knows its parent, so the inline chain is a walk up;
 *   - rows: the line table, sorted by address, with end-of-sequence rows;
 *   - symbols: ELF symbols, for addresses no DWARF function covers.
 * Strings (names, file paths) live in an arena owned by the index and are
 * interned, so a name shared by many inlined instances is stored once.
 *
 * Building: cw__symidx_new(), then symidx_add_* in any order, then
 * cw__symidx_finish() (sorts, flattens nested ranges); cw__symidx_free()
 * releases everything. Not thread-safe while building; lookups after finish()
 * only read and may run concurrently.
 */
#ifndef CW_SYMINDEX_H
#define CW_SYMINDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *name;      /* function name, NULL when unknown */
  const char *call_file; /* where this inlined scope was called from */
  int32_t parent;        /* enclosing scope, -1 for an outermost function */
  uint32_t call_line;
  uint32_t call_col;
  uint32_t call_discr;
} symidx_scope_t;

typedef struct {
  uint64_t lo, hi; /* [lo, hi) */
  uint32_t scope;
} symidx_seg_t;

typedef struct {
  uint64_t addr;
  uint32_t file; /* index into files[] */
  uint32_t line;
  uint16_t col;
  uint16_t discr;
  uint8_t end; /* end of a sequence: no line from here on */
} symidx_row_t;

typedef struct {
  uint64_t lo, size;
  const char *name;
  const char *file; /* a local symbol's STT_FILE name, or NULL */
  uint32_t order;   /* index in its symbol table (or order added): of
                       aliases, the largest size, then the highest order
                       names the address (cw__elf_alias_cmp) */
  uint8_t unsized;  /* no st_size: size runs to the section's end, cut at
                       the next symbol by cw__symidx_finish() */
} symidx_sym_t;

/* One resolved frame; strings are borrowed from the index. */
typedef struct {
  const char *function; /* NULL: unknown */
  const char *file;     /* NULL: unknown */
  const char *symbol;   /* outermost frame: the ELF symbol there, or NULL */
  uint32_t line, column, discriminator;
} symidx_frame_t;

typedef struct symidx symidx_t;

symidx_t *cw__symidx_new(void);
void cw__symidx_free(symidx_t *ix);

/* Interns s (n bytes, not necessarily NUL-terminated); NULL on OOM. */
const char *cw__symidx_intern(symidx_t *ix, const char *s, size_t n);
/* Interns a file path and returns its id, or -1 on OOM. */
int32_t cw__symidx_file(symidx_t *ix, const char *path);
/* The path of a file id, or NULL. */
const char *cw__symidx_file_name(const symidx_t *ix, int32_t id);

/* Returns the new scope's id, or -1 on OOM. name/call_file must already be
 * interned (or NULL). */
int32_t cw__symidx_add_scope(symidx_t *ix, const char *name, int32_t parent,
                             const char *call_file, uint32_t call_line,
                             uint32_t call_col, uint32_t call_discr);
/* A range [lo, hi) of scope, nested depth levels deep (0 = function). */
int cw__symidx_add_range(symidx_t *ix, uint64_t lo, uint64_t hi, int32_t scope,
                         uint32_t depth);
int cw__symidx_add_row(symidx_t *ix, uint64_t addr, int32_t file, uint32_t line,
                       uint32_t col, uint32_t discr, int end);
/* A symbol without a table (a Breakpad PUBLIC record): its order is the
 * order added. */
int cw__symidx_add_sym(symidx_t *ix, uint64_t lo, uint64_t size,
                       const char *name);
/* A compile unit's address range [lo, hi): once any is added, line rows
 * answer only for addresses inside one (llvm-symbolizer looks the unit up
 * first: padding after a unit's last function has no line even when its
 * line sequence runs on). */
int cw__symidx_add_cu_range(symidx_t *ix, uint64_t lo, uint64_t hi);
/* An ELF symbol: order its index in its symbol table (which alias names
 * an address: elf/include/cw_elf.h); file is the STT_FILE name preceding a
 * local symbol in its table (interned, or NULL), given as the frame's file when
 * no line table covers the address (as llvm-symbolizer and addr2line do);
 * unsized: the symbol had no st_size and size reaches its section's end,
 * to be cut at the next symbol's start. */
int cw__symidx_add_elf_sym(symidx_t *ix, uint64_t lo, uint64_t size,
                           const char *name, uint32_t order, const char *file,
                           int unsized);

/* Sorts and flattens; 0 or CW_ENOMEM. */
int cw__symidx_finish(symidx_t *ix);

/* Frames for addr, innermost first, at most cap; returns how many (0 when
 * nothing at all is known about addr). */
size_t cw__symidx_lookup(const symidx_t *ix, uint64_t addr, symidx_frame_t *out,
                         size_t cap);

/* The symbol with the highest start address at or below addr (of aliases,
 * the one a lookup prefers), whether or not it covers addr; NULL when none
 * starts at or above min_lo. For modules named by nearest preceding
 * function (the vDSO). */
const symidx_sym_t *cw__symidx_sym_before(const symidx_t *ix, uint64_t addr,
                                          uint64_t min_lo);

/* Counts, for reports and tests. */
size_t cw__symidx_nscopes(const symidx_t *ix);
size_t cw__symidx_nrows(const symidx_t *ix);
size_t cw__symidx_nsyms(const symidx_t *ix);
/* Whether any function ranges or rows are present (debug info). */
int cw__symidx_has_lines(const symidx_t *ix);

#endif
