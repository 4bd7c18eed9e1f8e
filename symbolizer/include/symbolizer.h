/*
 * symbolizer.h — addresses to functions, files, lines and inline chains.
 *
 * A cw__symbolizer_t holds search settings (debug dirs, time budget) and a
 * cache of modules. Opening a module finds its debug information by build-id
 * (the file itself, DIR/.build-id/xx/rest.debug under each debug dir and
 * /usr/lib/debug, .gnu_debuglink with its CRC checked, debuginfod when
 * DEBUGINFOD_URLS is set, Breakpad stores DIR/NAME/ID/NAME.sym), falling
 * back to the ELF symbol tables, and indexes it once; lookups are binary
 * searches in that index. A file whose build-id differs from the module's
 * is never used.
 *
 * Addresses are ELF virtual addresses of the module (what llvm-symbolizer and
 * addr2line take: for a PIE or shared object, the offset from its load base;
 * for a fixed-address executable, the runtime address).
 * cw__sym_module_vaddr() converts an offset from the module's mapping base
 * (as minidumps and /proc/PID/maps give) into one.
 *
 * Context: normal (malloc, files). Not thread-safe: one handle per thread.
 * Ownership: modules and every string in a result belong to the symbolizer
 * and live until cw__symbolizer_free().
 */
#ifndef CW_SYMBOLIZER_H
#define CW_SYMBOLIZER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cw__symbolizer cw__symbolizer_t;
typedef struct cw__sym_module cw__sym_module_t;

/* Flags of cw__symbolizer_new(). */
#define CW_SYM_NO_SYSTEM_DIRS 0x1u /* do not search /usr/lib/debug */
#define CW_SYM_NO_DEBUGINFOD 0x2u  /* never ask debuginfod */

/* NULL on out-of-memory. */
cw__symbolizer_t *cw__symbolizer_new(unsigned flags);
/* Frees the handle, its modules and all strings it returned. NULL is ok. */
void cw__symbolizer_free(cw__symbolizer_t *s);

/* Adds a debug directory root, searched before /usr/lib/debug in the order
 * added: DIR/.build-id/xx/rest.debug, DIR/<debuglink name>, and Breakpad's
 * DIR/NAME/ID/NAME.sym. The string is copied. */
int cw__symbolizer_add_debug_dir(cw__symbolizer_t *s, const char *dir);

/* Time budget: after `deadline_ns` (CLOCK_MONOTONIC, see
 * cw__symbolizer_now_ns()) opening a new module fails with CW_ETIMEDOUT
 * instead of reading files; modules already open keep answering. 0 turns
 * the budget off. */
void cw__symbolizer_set_deadline(cw__symbolizer_t *s, uint64_t deadline_ns);
uint64_t cw__symbolizer_now_ns(void);

/* The message of the last failure ("PATH: what is wrong"); "" if none.
 * Valid until the next call on s. */
const char *cw__symbolizer_last_error(const cw__symbolizer_t *s);

/*
 * Opens (or returns the cached) module.
 *   path:     the module file, or NULL to find it by build-id in the debug
 *             dirs (DIR/.build-id/xx/rest, then rest.debug). A Breakpad
 *             .sym file may be given as path too. With a build-id, a path
 *             that does not exist here (a dump from another machine) is
 *             noted in the warnings and the module is looked up by build-id.
 *   build_id: the module's GNU build-id as the crash saw it, or NULL/0 to
 *             trust the file's own. When given, a file with another build-id
 *             is refused (CW_EBUILDID, message names both ids).
 * On success *out is valid until cw__symbolizer_free(). A module with no
 * symbols at all still opens (lookups answer nothing) but returns
 * CW_ENOSYMBOL with *out set, so the caller can report why.
 * Errors: CW_ENOENT (no such file and none found by build-id), CW_EFORMAT
 * (not ELF / corrupt .sym), CW_ETRUNC (truncated ELF), CW_EBUILDID,
 * CW_ETIMEDOUT, CW_ENOMEM, CW_EINVAL. Results, failures included, are
 * cached per (path, build-id): asking again costs nothing (a CW_ETIMEDOUT
 * is not cached). Damaged DWARF does not fail the open: what could be read
 * is indexed and cw__sym_module_warnings() says what was wrong.
 */
int cw__symbolizer_open(cw__symbolizer_t *s, const char *path,
                        const uint8_t *build_id, size_t build_id_len,
                        cw__sym_module_t **out);

/*
 * Opens a module from an ELF image held in memory rather than a file: the
 * vDSO, whose bytes a minidump's memory list carries. name is what the
 * module is called (cw__sym_module_path() returns it); the image is read
 * during the call only (it may be freed afterwards) and must be at most
 * CW_SYM_IMAGE_MAX bytes. Only symbol tables are read, as the watchdog
 * reads them (elf/include/cw_elf.h): the image's .symtab, else the .symtab of a
 * debug file found by the image's build-id (DIR/.build-id/xx/rest.debug
 * under each debug dir, then /usr/lib/debug), else the image's .dynsym.
 * When build_id is given, an image with another build-id is refused
 * (CW_EBUILDID).
 *
 * Lookups in such a module name an address that no symbol covers by the
 * nearest function symbol below it within the same executable section
 * (Breakpad's PUBLIC rule, the watchdog's rule for the vDSO): the vDSO
 * exports a few functions and holds unexported helpers between and after
 * them. An address that nothing precedes in its section stays unknown.
 *
 * Not cached: each call makes a new module, owned by s as above. Errors as
 * cw__symbolizer_open() (CW_ENOSYMBOL with *out set when the image has no
 * function symbols; CW_EFORMAT when it is not a 64-bit ELF image).
 */
#define CW_SYM_IMAGE_MAX (1u << 20)
int cw__symbolizer_open_image(cw__symbolizer_t *s, const char *name,
                              const void *image, size_t size,
                              const uint8_t *build_id, size_t build_id_len,
                              cw__sym_module_t **out);

/* One frame of a lookup. Strings are borrowed (see above). */
typedef struct {
  const char *function; /* NULL when unknown (print "??") */
  const char *file;     /* NULL when unknown */
  /* On the outermost frame: the ELF symbol covering the address (may differ
   * from function: "foo.isra.0", "foo.cold"), which llvm-symbolizer prints;
   * NULL elsewhere or when there is no symbol table. */
  const char *symbol;
  uint32_t line;   /* 0 when unknown */
  uint32_t column; /* 0 when unknown */
  uint32_t discriminator;
  int inlined; /* 1: this function was inlined into the next frame */
} cw__sym_frame_t;

/* Flags of cw__sym_lookup(). */
#define CW_SYM_RETURN_ADDRESS                                                  \
  0x1u /* addr is a return address: look up                                    \
          addr - 1, inside the call */

/* Frames for one address, the innermost inlined function first and the
 * real (out-of-line) function last. Returns how many were written (at most
 * cap; a chain longer than cap keeps its innermost frames), 0 when nothing
 * is known about addr, or a negative CW_E* code. */
int cw__sym_lookup(cw__sym_module_t *m, uint64_t addr, unsigned flags,
                   cw__sym_frame_t *frames, size_t cap);

/* Module offset (runtime address - base of the module's first mapping) to
 * ELF virtual address. */
uint64_t cw__sym_module_vaddr(const cw__sym_module_t *m, uint64_t offset);

/* Where the answers come from: "dwarf", "breakpad", "symtab" or "none". */
const char *cw__sym_module_source(const cw__sym_module_t *m);
/* The file the symbols were read from, or NULL. */
const char *cw__sym_module_debug_file(const cw__sym_module_t *m);
/* The module's path as opened (or found by build-id), or NULL. */
const char *cw__sym_module_path(const cw__sym_module_t *m);
/* Lines about files that were found but not used (build-id or CRC
 * mismatch, corrupt), one per line; "" when none. */
const char *cw__sym_module_warnings(const cw__sym_module_t *m);
/* The module's build-id; returns its length (0 if unknown). */
size_t cw__sym_module_build_id(const cw__sym_module_t *m, const uint8_t **id);

#ifdef __cplusplus
}
#endif

#endif
