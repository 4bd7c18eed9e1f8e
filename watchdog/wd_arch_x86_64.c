/*
 * wd_arch_x86_64.c — x86-64 registers: the ucontext in the crash record,
 * ptrace's user_regs_struct, the minidump's MDRawContextAMD64 and
 * libunwind's register numbers. Normal context, watchdog process.
 */
#include "wd_arch.h"

#include <string.h>
#include <sys/ucontext.h>

#include <libunwind.h>

void cw__wd_regs_from_crash_context(const cw__crash_context_t *ctx,
                                    const wd_regs_t *seg, wd_regs_t *out) {
  memset(out, 0, sizeof(*out));
  if (seg != NULL)
    out->gp = seg->gp; /* segments and bases: unchanged by the signal */
  const uint64_t *g = ctx->gregs;
  out->gp.r8 = g[REG_R8];
  out->gp.r9 = g[REG_R9];
  out->gp.r10 = g[REG_R10];
  out->gp.r11 = g[REG_R11];
  out->gp.r12 = g[REG_R12];
  out->gp.r13 = g[REG_R13];
  out->gp.r14 = g[REG_R14];
  out->gp.r15 = g[REG_R15];
  out->gp.rdi = g[REG_RDI];
  out->gp.rsi = g[REG_RSI];
  out->gp.rbp = g[REG_RBP];
  out->gp.rbx = g[REG_RBX];
  out->gp.rdx = g[REG_RDX];
  out->gp.rax = g[REG_RAX];
  out->gp.rcx = g[REG_RCX];
  out->gp.rsp = g[REG_RSP];
  out->gp.rip = g[REG_RIP];
  out->gp.eflags = g[REG_EFL];
  out->gp.orig_rax = (uint64_t)-1;
  /* REG_CSGSFS packs cs, gs, fs and (since Linux 4.8) ss, 16 bits each. */
  uint64_t csgsfs = g[REG_CSGSFS];
  out->gp.cs = csgsfs & 0xffff;
  if (seg == NULL) {
    out->gp.gs = (csgsfs >> 16) & 0xffff;
    out->gp.fs = (csgsfs >> 32) & 0xffff;
    out->gp.ss = (csgsfs >> 48) & 0xffff;
  }
  if (ctx->has_fpregs) {
    static_assert(sizeof(out->fp) == sizeof(ctx->fpregs), "fxsave size");
    memcpy(&out->fp, ctx->fpregs, sizeof(out->fp));
    out->has_fp = 1;
  } else if (seg != NULL && seg->has_fp) {
    out->fp = seg->fp;
    out->has_fp = 1;
  }
}

void cw__wd_regs_to_md_context(const wd_regs_t *r, md_context_amd64_t *c) {
  memset(c, 0, sizeof(*c));
  c->context_flags = MD_CONTEXT_AMD64_FULL | MD_CONTEXT_AMD64_SEGMENTS;
  c->cs = (uint16_t)r->gp.cs;
  c->ds = (uint16_t)r->gp.ds;
  c->es = (uint16_t)r->gp.es;
  c->fs = (uint16_t)r->gp.fs;
  c->gs = (uint16_t)r->gp.gs;
  c->ss = (uint16_t)r->gp.ss;
  c->eflags = (uint32_t)r->gp.eflags;
  c->rax = r->gp.rax;
  c->rcx = r->gp.rcx;
  c->rdx = r->gp.rdx;
  c->rbx = r->gp.rbx;
  c->rsp = r->gp.rsp;
  c->rbp = r->gp.rbp;
  c->rsi = r->gp.rsi;
  c->rdi = r->gp.rdi;
  c->r8 = r->gp.r8;
  c->r9 = r->gp.r9;
  c->r10 = r->gp.r10;
  c->r11 = r->gp.r11;
  c->r12 = r->gp.r12;
  c->r13 = r->gp.r13;
  c->r14 = r->gp.r14;
  c->r15 = r->gp.r15;
  c->rip = r->gp.rip;
  if (r->has_fp) {
    static_assert(sizeof(c->flt_save) == sizeof(r->fp), "fxsave size");
    memcpy(&c->flt_save, &r->fp, sizeof(c->flt_save));
    c->mx_csr = r->fp.mxcsr;
  } else {
    c->context_flags &= ~(MD_CONTEXT_AMD64_FLOATING_POINT & ~MD_CONTEXT_AMD64);
  }
}

void cw__wd_regs_from_md_context(const md_context_amd64_t *c, wd_regs_t *r) {
  memset(r, 0, sizeof(*r));
  r->gp.cs = c->cs;
  r->gp.ds = c->ds;
  r->gp.es = c->es;
  r->gp.fs = c->fs;
  r->gp.gs = c->gs;
  r->gp.ss = c->ss;
  r->gp.eflags = c->eflags;
  r->gp.rax = c->rax;
  r->gp.rcx = c->rcx;
  r->gp.rdx = c->rdx;
  r->gp.rbx = c->rbx;
  r->gp.rsp = c->rsp;
  r->gp.rbp = c->rbp;
  r->gp.rsi = c->rsi;
  r->gp.rdi = c->rdi;
  r->gp.r8 = c->r8;
  r->gp.r9 = c->r9;
  r->gp.r10 = c->r10;
  r->gp.r11 = c->r11;
  r->gp.r12 = c->r12;
  r->gp.r13 = c->r13;
  r->gp.r14 = c->r14;
  r->gp.r15 = c->r15;
  r->gp.rip = c->rip;
  uint32_t fpflag = MD_CONTEXT_AMD64_FLOATING_POINT & ~MD_CONTEXT_AMD64;
  if (c->context_flags & fpflag) {
    memcpy(&r->fp, &c->flt_save, sizeof(r->fp));
    r->has_fp = 1;
  }
}

uint64_t cw__wd_regs_pc(const wd_regs_t *r) { return r->gp.rip; }
uint64_t cw__wd_regs_sp(const wd_regs_t *r) { return r->gp.rsp; }
uint64_t cw__wd_regs_fp(const wd_regs_t *r) { return r->gp.rbp; }

int cw__wd_regs_get_unw(const wd_regs_t *r, int regnum, uint64_t *val) {
  switch (regnum) {
  case UNW_X86_64_RAX:
    *val = r->gp.rax;
    return 0;
  case UNW_X86_64_RDX:
    *val = r->gp.rdx;
    return 0;
  case UNW_X86_64_RCX:
    *val = r->gp.rcx;
    return 0;
  case UNW_X86_64_RBX:
    *val = r->gp.rbx;
    return 0;
  case UNW_X86_64_RSI:
    *val = r->gp.rsi;
    return 0;
  case UNW_X86_64_RDI:
    *val = r->gp.rdi;
    return 0;
  case UNW_X86_64_RBP:
    *val = r->gp.rbp;
    return 0;
  case UNW_X86_64_RSP:
    *val = r->gp.rsp;
    return 0;
  case UNW_X86_64_R8:
    *val = r->gp.r8;
    return 0;
  case UNW_X86_64_R9:
    *val = r->gp.r9;
    return 0;
  case UNW_X86_64_R10:
    *val = r->gp.r10;
    return 0;
  case UNW_X86_64_R11:
    *val = r->gp.r11;
    return 0;
  case UNW_X86_64_R12:
    *val = r->gp.r12;
    return 0;
  case UNW_X86_64_R13:
    *val = r->gp.r13;
    return 0;
  case UNW_X86_64_R14:
    *val = r->gp.r14;
    return 0;
  case UNW_X86_64_R15:
    *val = r->gp.r15;
    return 0;
  case UNW_X86_64_RIP:
    *val = r->gp.rip;
    return 0;
  default:
    return -1;
  }
}
