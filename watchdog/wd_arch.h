/*
 * wd_arch.h — the per-architecture register set of the watchdog (x86-64
 * here; another architecture gets its own wd_arch_<arch>.c beside it).
 * Normal context, watchdog process.
 */
#ifndef CW_WD_ARCH_H
#define CW_WD_ARCH_H

#include <stdint.h>
#include <sys/user.h>

#include "crash_record.h"
#include "minidump_format.h"

#if !defined(__x86_64__)
#error "crashwatch watchdog: only x86-64 registers are implemented"
#endif

typedef struct {
  struct user_regs_struct gp;   /* PTRACE_GETREGS layout */
  struct user_fpregs_struct fp; /* PTRACE_GETFPREGS: the FXSAVE image */
  int has_fp;
} wd_regs_t;

/* The crashing thread's registers from the record's ucontext. seg, when not
 * NULL, supplies what the ucontext lacks (ds, es, ss, fs_base, gs_base). */
void cw__wd_regs_from_crash_context(const cw__crash_context_t *ctx,
                                    const wd_regs_t *seg, wd_regs_t *out);
void cw__wd_regs_to_md_context(const wd_regs_t *r, md_context_amd64_t *out);
/* The inverse, for readers and tests. */
void cw__wd_regs_from_md_context(const md_context_amd64_t *c, wd_regs_t *out);

uint64_t cw__wd_regs_pc(const wd_regs_t *r);
uint64_t cw__wd_regs_sp(const wd_regs_t *r);
uint64_t cw__wd_regs_fp(const wd_regs_t *r);

/* Value of libunwind's register number regnum (UNW_X86_64_*); returns 0 or
 * -1 when the register is not one of the general ones. */
int cw__wd_regs_get_unw(const wd_regs_t *r, int regnum, uint64_t *val);

/* Bytes below SP that leaf functions may use without moving SP. */
#define WD_RED_ZONE 128u

#endif
