/*
 * cw_elf.h — crashwatch's one ELF layer (library cw_elf, folder elf/):
 * everything the watchdog and the offline symbolizer read from an ELF file
 * or image is read here, once, with one set of rules:
 *
 *   - identity: the GNU build-id (one note parser, for files, images and
 *     note segments copied out of a process) and where a separate debug
 *     file lives by build-id (ROOT/.build-id/xx/rest.debug: one path rule,
 *     one "the build-ids match" check);
 *   - layout: PT_LOAD segments, PT_GNU_EH_FRAME, reads by link-time address
 *     and the load bias of a mapping;
 *   - function symbols: one reader of .symtab / .dynsym (STT_FUNC and
 *     STT_GNU_IFUNC with an address), ONE alias rule (cw__elf_alias_cmp)
 *     and ONE name rule (cw__elf_name_len), a sorted table with lookups,
 *     the nearest preceding function of an executable section (the vDSO
 *     rule), and the watchdog's fast path: the names of a few addresses in
 *     one pass over the table, without loading or sorting it.
 *
 * The symbolizer builds its own index (symbolizer/symindex.h) from
 * cw__elf_function_symbols() and orders aliases with cw__elf_alias_cmp();
 * the watchdog uses a cw__elf_t. So a report's event.json and `crashwatch
 * symbolize` of the same report name a frame alike.
 *
 * Context: normal (malloc, libelf), never the signal handler. The files are
 * outside input (whatever the crashed process had mapped): every offset is
 * checked against what libelf returns, and a malformed file only yields
 * fewer facts, never a crash. Not thread-safe per cw__elf_t.
 *
 * Ownership: a cw__elf_t borrows the fd or image it was opened on (the
 * caller keeps it open / alive while the cw__elf_t lives) and owns
 * everything else; names it returns live until cw__elf_close().
 */
#ifndef CW_ELF_H
#define CW_ELF_H

#include <stddef.h>
#include <stdint.h>

struct Elf; /* libelf's Elf */

/* ---- Identity ---- */

/* Parses a GNU build-id out of n bytes of ELF notes (a PT_NOTE segment or
 * SHT_NOTE section, native byte order). Returns its length (0: none), at
 * most cap bytes copied to out. */
size_t cw__elf_build_id_from_notes(const uint8_t *notes, size_t n, uint8_t *out,
                                   size_t cap);
/* The GNU build-id of an ELF file: note segments first, then note sections
 * (a separate debug file has the note only as a section). 0 if none. */
size_t cw__elf_build_id(struct Elf *elf, uint8_t *out, size_t cap);
/* The same for the ELF file on fd (borrowed); 0 if none or not ELF. */
size_t cw__elf_build_id_fd(int fd, uint8_t *out, size_t cap);

/* The system's root of separate debug files. */
#define CW_ELF_SYSTEM_DEBUG_DIR "/usr/lib/debug"
/* ROOT/.build-id/xx/rest<suffix> for build-id id[0..n) into out (cap
 * bytes): suffix ".debug" for a debug file, "" for the binary itself, as
 * gdb, elfutils and the distributions lay them out. 0, or -1 when the id
 * is shorter than 2 or longer than 64 bytes or the path does not fit. */
int cw__elf_build_id_path(char *out, size_t cap, const char *root,
                          const uint8_t *id, size_t n, const char *suffix);
/* Whether elf's build-id is id[0..n) (n > 0). */
int cw__elf_build_id_matches(struct Elf *elf, const uint8_t *id, size_t n);

/* ---- Function symbols: the rules ---- */

/* The alias rule. Of the function symbols at one address, the one with
 * the largest st_size names it; of equal sizes, the one later in its symbol
 * table (the higher index). This is llvm-symbolizer's choice (a stable sort
 * on address and size keeping the last), so `crashwatch symbolize` agrees
 * with it, and the watchdog with both: in the vDSO, "__vdso_clock_gettime"
 * (index 9) over its weak alias "clock_gettime" (index 1), but
 * "gettimeofday" (index 5) over "__vdso_gettimeofday" (index 2). Returns <0
 * when (size_a, order_a) names the address rather than (size_b, order_b),
 * >0 for the contrary, 0 for the same symbol. */
static inline int cw__elf_alias_cmp(uint64_t size_a, uint32_t order_a,
                                    uint64_t size_b, uint32_t order_b) {
  if (size_a != size_b)
    return size_a > size_b ? -1 : 1;
  if (order_a != order_b)
    return order_a > order_b ? -1 : 1;
  return 0;
}

/* The name rule: a symbol is shown without its symbol version ("memcpy"
 * for "memcpy@@GLIBC_2.14" in a .symtab; .dynsym names carry none), as the
 * watchdog always showed them. llvm-symbolizer prints such a .symtab name
 * whole: the one place the two differ (no test program has one). Returns
 * the length of the name to show. */
size_t cw__elf_name_len(const char *name);

/* One function symbol as its table holds it. */
typedef struct {
  uint64_t addr, size; /* st_value, st_size */
  const char *name;    /* uncut (may end in "@VERSION"), in the file */
  const char *file;    /* a local symbol's STT_FILE name, or NULL */
  uint32_t order;      /* its index in the table (the alias rule) */
  uint32_t shndx;      /* st_shndx */
  uint8_t bind;        /* STB_* */
} cw__elf_fsym_t;

/* Called per function symbol; nonzero stops the scan. */
typedef int (*cw__elf_fsym_fn)(void *ctx, const cw__elf_fsym_t *s);

/* Passes every function symbol (STT_FUNC, STT_GNU_IFUNC; defined, address
 * not 0, named) of elf's tables of type table (SHT_SYMTAB or SHT_DYNSYM) to
 * fn, in table order. image/image_size: the file's bytes when mapped (then
 * a native 64-bit table is read in place: libelf's per-symbol conversion
 * costs more than the rest of a report for libc's thousands of symbols), or
 * NULL. Returns how many were passed. */
size_t cw__elf_function_symbols(struct Elf *elf, const uint8_t *image,
                                size_t image_size, unsigned table,
                                cw__elf_fsym_fn fn, void *ctx);

/* ---- A module's ELF: cw__elf_t ---- */

typedef struct {
  uint64_t vaddr, offset, filesz, memsz;
} cw__elf_seg_t;

/* A function symbol of a loaded table. */
typedef struct {
  uint64_t addr, size;
  const char *name; /* by the name rule (cut at '@') */
  uint32_t order;   /* index in its table */
} cw__elf_sym_t;

typedef struct cw__elf {
  struct Elf *elf;
  int fd;               /* borrowed, or -1 (an image) */
  const uint8_t *image; /* the whole file, mapped by libelf; or NULL */
  size_t image_size;
  struct Elf *debug_elf; /* the separate debug file by build-id, or NULL */
  int debug_fd;          /* its fd, or -1 */
  int debug_tried;
  const char *debug_root; /* where to look for it; NULL:
                             CW_ELF_SYSTEM_DEBUG_DIR (tests set it
                             before the first lookup) */
  cw__elf_seg_t *segs;    /* PT_LOAD */
  size_t nsegs;
  uint64_t eh_frame_hdr_vaddr; /* 0 if none */
  uint64_t eh_frame_hdr_size;
  uint8_t build_id[64];
  size_t build_id_len;
  /* The function symbols, sorted by address and, at one address, by the
   * alias rule (the name first); loaded on the first lookup that needs
   * them: most modules of a process never appear in a stack. */
  cw__elf_sym_t *syms;
  size_t nsyms, syms_cap;
  int syms_loaded;
  char **names; /* copies owned here (names cut at '@') */
  size_t nnames;
  void *named;     /* cw__elf_name_addrs()'s answers, before any load */
  int named_tried; /* cw__elf_name_addrs() ran */
} cw__elf_t;

/* Opens the ELF file on fd (borrowed). NULL if it is not a readable 64-bit
 * ELF file. */
cw__elf_t *cw__elf_open_fd(int fd);
/* Opens an ELF image held in memory (borrowed: it must outlive the
 * cw__elf_t), such as the vDSO copied out of a process. */
cw__elf_t *cw__elf_open_memory(const uint8_t *image, size_t size);
void cw__elf_close(cw__elf_t *e);

/* The load bias of a mapping of e: run-time address minus link-time vaddr,
 * for a module whose lowest mapping starts at base and maps file offset
 * offset_at_base. */
uint64_t cw__elf_load_bias(const cw__elf_t *e, uint64_t base,
                           uint64_t offset_at_base);

/* Reads len bytes at link-time vaddr from the file. 0, or -1 when
 * [vaddr, vaddr+len) is not backed by the file. */
int cw__elf_read_vaddr(const cw__elf_t *e, uint64_t vaddr, void *buf,
                       size_t len);

/* The function symbol naming link-time vaddr, or NULL: of the symbols
 * starting at or below it (up to four addresses back), the nearest one
 * whose st_size covers it, an unsized one at the nearest address counting
 * as covering. Symbols come from .symtab, else the .symtab of the separate
 * debug file found by build-id under CW_ELF_SYSTEM_DEBUG_DIR, else
 * .dynsym: for files and images (the vDSO) alike, the order
 * cw__symbolizer_open_image() reads an image's tables in too. */
const cw__elf_sym_t *cw__elf_symbol(cw__elf_t *e, uint64_t vaddr);

/* For a module whose symbol tables name only some of its functions (the
 * vDSO exports a handful; its internal helpers have no symbol): the
 * nearest function symbol at or below vaddr within the same executable
 * section, sized or not, as Breakpad's PUBLIC records name such code. NULL
 * when vaddr lies in no executable section or no function symbol precedes
 * it there. Callers try cw__elf_symbol() first. */
const cw__elf_sym_t *cw__elf_symbol_preceding(cw__elf_t *e, uint64_t vaddr);

/* The fast path (the watchdog names a report's frames before the report is
 * committed, where loading and sorting libc's table took ~0.5 ms): names
 * the distinct, sorted link-time addresses a[0..n) (n at most
 * CW_ELF_NAME_MAX_ADDRS) in one pass over the table, so that
 * cw__elf_symbol() answers those exactly as the sorted table would,
 * without loading it. Any other address still loads the table. Once per
 * cw__elf_t (later calls do nothing), and not after the table was loaded. */
#define CW_ELF_NAME_MAX_ADDRS 64
void cw__elf_name_addrs(cw__elf_t *e, const uint64_t *a, size_t n);

#endif
