/*
 * md_symcfi.h — the STACK CFI records of a Breakpad .sym file, for the
 * stackwalker (normal context).
 *
 * Only "STACK CFI INIT addr size rules" and the "STACK CFI addr rules" lines
 * after it are read; everything else in the file (FUNC, line records, STACK
 * WIN) is skipped. Rules are Breakpad's postfix expressions, e.g.
 *   STACK CFI INIT 1000 2c .cfa: $rsp 8 + .ra: .cfa -8 + ^
 *   STACK CFI 1001 .cfa: $rsp 16 + $rbp: .cfa -16 + ^
 * The file is mapped and indexed once (address-sorted INIT records); a
 * lookup parses only the lines of the one INIT record that covers the
 * address. Malformed records are errors naming the file and line.
 */
#ifndef CW_SYMBOLIZER_MD_SYMCFI_H
#define CW_SYMBOLIZER_MD_SYMCFI_H

#include <stddef.h>
#include <stdint.h>

typedef struct md_symcfi md_symcfi_t;

/* Register numbers are the stackwalker's (DWARF x86-64: 0 rax .. 16 rip). */
#define MD_SYMCFI_NREGS 17

/* Reads 8 bytes at addr; 0 on success. */
typedef int (*md_symcfi_read_fn)(void *ctx, uint64_t addr, uint64_t *out);

/* Opens path. When module_id is not NULL, the MODULE line's identifier must
 * equal it (Breakpad form, case-insensitive) or the open fails with
 * CW_EBUILDID. err gets a message on failure. */
int cw__md_symcfi_open(const char *path, const char *module_id,
                       md_symcfi_t **out, char *err, size_t errlen);
/* Parses a buffer (copied); for tests and fuzzing. */
int cw__md_symcfi_open_buffer(const char *data, size_t len,
                              const char *module_id, md_symcfi_t **out,
                              char *err, size_t errlen);
void cw__md_symcfi_close(md_symcfi_t *c);
size_t cw__md_symcfi_count(const md_symcfi_t *c); /* INIT records */

/* Unwinds one frame: pc is the module-relative address to look up, regs /
 * valid the callee's registers (bit r of valid set when regs[r] is known).
 * On success (0) out_regs / out_valid hold the caller's registers: rip from
 * .ra, rsp from .cfa, the rules' registers, and the callee-saved registers
 * (rbx, rbp, r12-r15) carried over when no rule names them. -1 when no
 * record covers pc or a rule cannot be evaluated. */
int cw__md_symcfi_unwind(const md_symcfi_t *c, uint64_t pc,
                         const uint64_t *regs, uint32_t valid,
                         md_symcfi_read_fn read, void *ctx, uint64_t *out_regs,
                         uint32_t *out_valid);

#endif
