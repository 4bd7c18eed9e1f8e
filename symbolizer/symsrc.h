/*
 * symsrc.h — the sources a module's symbol index is built from (private to
 * symbolizer/): DWARF through libdw (dwarfidx.c), ELF symbol tables and ELF
 * facts through libelf (elfsym.c). The Breakpad .sym parser has its own
 * header, breakpad_sym.h.
 *
 * Each builder adds to an index that the caller owns and later finishes.
 * On failure a builder returns a negative CW_E* code and writes a message
 * naming the file and the problem into err (errlen bytes).
 */
#ifndef CW_SYMSRC_H
#define CW_SYMSRC_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "symindex.h"

/* Indexes functions, inlined instances and line tables of every unit.
 * Rows and ranges below min_addr (discarded code that the linker left at
 * address 0) are dropped. deadline_ns: CLOCK_MONOTONIC time after which the
 * build gives up with CW_ETIMEDOUT (0: none). */
int cw__symsrc_dwarf(symidx_t *ix, Elf *elf, const char *path,
                     uint64_t min_addr, uint64_t deadline_ns, char *err,
                     size_t errlen);

/* The raw DWARF string and line sections a line program reads. */
typedef struct {
  const uint8_t *line, *line_str, *str;
  size_t line_len, line_str_len, str_len;
} symsrc_sections_t;

/* Decodes the line program at offset off of .debug_line (lineprog.c) into
 * rows of ix, dropping sequences below min_addr. *files receives the unit's
 * file table as interned paths, indexed like DW_AT_call_file (malloc'd
 * array, caller frees; entries may be NULL). Returns 0, CW_ENOMEM, or
 * CW_EFORMAT with why set (rows decoded before the damage are kept). */
int cw__symsrc_line_program(symidx_t *ix, const symsrc_sections_t *sec,
                            uint64_t off, const char *comp_dir,
                            uint64_t min_addr, const char ***files,
                            size_t *nfiles, char *why, size_t whylen);

/* Adds the function symbols of .symtab (or of .dynsym when .symtab has
 * none), read by the one ELF layer (cw__elf_function_symbols) and named by
 * its name rule; their table order goes with them for its alias rule.
 * Returns the number added (0 is fine) or a negative code. */
int cw__symsrc_elf_symbols(symidx_t *ix, Elf *elf, const char *path, char *err,
                           size_t errlen);
/* The same from one kind of table only (SHT_SYMTAB or SHT_DYNSYM). */
int cw__symsrc_elf_table(symidx_t *ix, Elf *elf, unsigned table,
                         const char *path, char *err, size_t errlen);

/* Compressed debug sections (SHF_COMPRESSED, or GNU .zdebug_*) may inflate
 * to at most SYMSRC_INFLATE_RATIO times the size of the file holding them,
 * all together, or SYMSRC_INFLATE_FLOOR bytes if that is more: DWARF
 * compresses 3-10 fold, a zlib bomb a thousandfold. */
#define SYMSRC_INFLATE_RATIO 64u
#define SYMSRC_INFLATE_FLOOR (16u << 20)

/* Checks, from the section headers only (nothing is inflated), that the
 * compressed .debug_* / .zdebug_* sections of elf stay within the limit
 * above. 0, or CW_EFORMAT with a message naming the file, the section,
 * the size it claims and the limit: then no DWARF may be read from the
 * file (libdw inflates every debug section it opens). */
int cw__symsrc_elf_check_inflate(Elf *elf, const char *path, char *err,
                                 size_t errlen);

/* Whether the file holds DWARF (a .debug_info section with contents). */
int cw__symsrc_elf_has_dwarf(Elf *elf);
/* The lowest address of an executable section (0 if none). */
uint64_t cw__symsrc_elf_min_exec_addr(Elf *elf);
/* The page-aligned p_vaddr of the first PT_LOAD: the address a module
 * offset (runtime address - module base) counts from. */
uint64_t cw__symsrc_elf_load_vaddr(Elf *elf);
/* The .gnu_debuglink name and CRC; 0, or CW_ENOENT when there is none. */
int cw__symsrc_elf_debuglink(Elf *elf, char *name, size_t cap, uint32_t *crc);

/* CRC-32 (the one .gnu_debuglink uses) of a whole file; 0 or a code. */
int cw__symsrc_file_crc32(const char *path, uint32_t *crc);
uint32_t cw__symsrc_crc32(uint32_t crc, const uint8_t *p, size_t n);

uint64_t cw__symsrc_now_ns(void);

#endif
