/*
 * stackwalk.c — the amd64 minidump stackwalker (see stackwalk.h).
 *
 * The three caller-finding methods follow the rules of Breakpad's
 * StackwalkerAMD64 so that, without module files, our frames agree with
 * minidump_stackwalk's: frame-pointer recovery needs an 8-aligned rbp whose
 * saved rbp and return address are on the thread's stack, a canonical return
 * address >= 4096 and a saved rbp above the new stack pointer; scanning looks
 * at 40 words above the stack pointer (160 for the context frame's caller)
 * for a value inside a module; a frame whose stack pointer does not grow, or
 * whose instruction pointer is below 4096, ends the walk. Frame pointer and
 * scan results read only the thread's own stack memory; CFI expressions may
 * dereference any memory in the dump.
 */
#include "stackwalk.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_elf.h"
#include "md_symcfi.h"
#include "regfile.h"
#include "symsrc.h"

#define SW_DEFAULT_MAX_FRAMES 1024
#define SW_SCAN_WORDS 40
#define SW_MAX_SCANNED 1024
#define SW_EXPR_STACK 64
#define SW_EXPR_STEPS 1000

typedef struct {
  int state; /* 0 not tried, 1 loaded, -1 unavailable */
  char *path;
  int fd;
  Elf *elf;
  Dwarf *dwarf;
  Dwarf_CFI *eh_cfi;  /* from .eh_frame */
  Dwarf_CFI *dbg_cfi; /* from .debug_frame */
  uint64_t bias;      /* runtime address = ELF vaddr + bias */
  const uint8_t *image;
  size_t image_size;
  GElf_Phdr *exec; /* executable PT_LOAD segments */
  size_t nexec;
  int sym_state; /* Breakpad .sym: 0 not tried, 1 loaded, -1 unavailable */
  md_symcfi_t *sym;
} sw_module_t;

struct cw__stackwalker {
  const cw__md_t *md;
  cw__sw_options_t opts;
  sw_module_t *mods;
  size_t nmods;
  /* The thread being walked: its stack memory. */
  uint64_t stack_lo;
  const uint8_t *stack;
  size_t stack_len;
};

const char *cw__sw_trust_name(cw__sw_trust_t t) {
  switch (t) {
  case CW_SW_TRUST_CONTEXT:
    return "context";
  case CW_SW_TRUST_CFI:
    return "cfi";
  case CW_SW_TRUST_FP:
    return "fp";
  case CW_SW_TRUST_SCAN:
    return "scan";
  default:
    return "none";
  }
}

const char *cw__sw_trust_description(cw__sw_trust_t t) {
  switch (t) {
  case CW_SW_TRUST_CONTEXT:
    return "given as instruction pointer in context";
  case CW_SW_TRUST_CFI:
    return "call frame info";
  case CW_SW_TRUST_FP:
    return "previous frame's frame pointer";
  case CW_SW_TRUST_SCAN:
    return "stack scanning";
  default:
    return "unknown";
  }
}

int cw__sw_new(const cw__md_t *md, const cw__sw_options_t *opts,
               cw__stackwalker_t **out) {
  *out = NULL;
  cw__stackwalker_t *sw = calloc(1, sizeof(*sw));
  if (sw == NULL)
    return CW_ENOMEM;
  sw->md = md;
  if (opts != NULL)
    sw->opts = *opts;
  if (sw->opts.max_frames == 0)
    sw->opts.max_frames = SW_DEFAULT_MAX_FRAMES;
  sw->nmods = cw__md_module_count(md);
  sw->mods = calloc(sw->nmods ? sw->nmods : 1, sizeof(*sw->mods));
  if (sw->mods == NULL) {
    free(sw);
    return CW_ENOMEM;
  }
  for (size_t i = 0; i < sw->nmods; i++)
    sw->mods[i].fd = -1;
  elf_version(EV_CURRENT);
  *out = sw;
  return 0;
}

static void module_unload_sym(sw_module_t *m) {
  cw__md_symcfi_close(m->sym);
  m->sym = NULL;
}

static void module_unload(sw_module_t *m) {
  if (m->dwarf != NULL)
    dwarf_end(m->dwarf); /* also frees dbg_cfi */
  if (m->eh_cfi != NULL)
    dwarf_cfi_end(m->eh_cfi);
  if (m->elf != NULL)
    elf_end(m->elf);
  if (m->fd >= 0)
    close(m->fd);
  free(m->exec);
  free(m->path);
  md_symcfi_t *sym = m->sym;
  int sym_state = m->sym_state;
  memset(m, 0, sizeof(*m));
  m->fd = -1;
  m->sym = sym; /* the .sym is independent of the ELF */
  m->sym_state = sym_state;
}

void cw__sw_free(cw__stackwalker_t *sw) {
  if (sw == NULL)
    return;
  for (size_t i = 0; i < sw->nmods; i++) {
    module_unload_sym(&sw->mods[i]);
    module_unload(&sw->mods[i]);
  }
  free(sw->mods);
  free(sw);
}

/* Opens the module's ELF through the caller's callback, once. */
static sw_module_t *module_get(cw__stackwalker_t *sw, long idx) {
  if (idx < 0 || (size_t)idx >= sw->nmods)
    return NULL;
  sw_module_t *m = &sw->mods[idx];
  if (m->state != 0)
    return m->state > 0 ? m : NULL;
  m->state = -1;
  if (sw->opts.find_module_file == NULL)
    return NULL;
  const cw__md_module_t *info = cw__md_module(sw->md, (size_t)idx);
  const char *path = sw->opts.find_module_file(sw->opts.ctx, info);
  if (path == NULL)
    return NULL;
  /* The path comes from a callback fed by the dump: never block on it. */
  m->fd = cw__open_regular(path, 0, NULL);
  if (m->fd < 0) {
    m->fd = -1;
    goto fail;
  }
  m->elf = elf_begin(m->fd, ELF_C_READ_MMAP, NULL);
  if (m->elf == NULL || elf_kind(m->elf) != ELF_K_ELF)
    goto fail;
  /* A file with another build-id is never used (the one build-id reader:
   * elf/include/cw_elf.h). */
  if (info->build_id_len > 0 &&
      !cw__elf_build_id_matches(m->elf, info->build_id, info->build_id_len))
    goto fail;
  size_t nph = 0;
  if (elf_getphdrnum(m->elf, &nph) != 0)
    goto fail;
  int have_first = 0;
  uint64_t first_vaddr = 0;
  m->exec = calloc(nph ? nph : 1, sizeof(GElf_Phdr));
  if (m->exec == NULL)
    goto fail;
  for (size_t i = 0; i < nph; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(m->elf, (int)i, &ph) == NULL || ph.p_type != PT_LOAD)
      continue;
    if (!have_first) {
      first_vaddr = ph.p_vaddr & ~(uint64_t)0xfff;
      have_first = 1;
    }
    if (ph.p_flags & PF_X)
      m->exec[m->nexec++] = ph;
  }
  if (!have_first)
    goto fail;
  m->bias = info->base - first_vaddr;
  m->image = (const uint8_t *)elf_rawfile(m->elf, &m->image_size);
  if (!sw->opts.no_cfi) {
    m->eh_cfi = dwarf_getcfi_elf(m->elf);
    /* .debug_frame comes through libdw, which inflates every compressed
     * debug section in full: not from a file over the inflate limit. */
    char why[64 + 4096];
    if (cw__symsrc_elf_check_inflate(m->elf, path, why, sizeof(why)) == 0)
      m->dwarf = dwarf_begin_elf(m->elf, DWARF_C_READ, NULL);
    if (m->dwarf != NULL)
      m->dbg_cfi = dwarf_getcfi(m->dwarf);
  }
  m->path = strdup(path);
  m->state = 1;
  return m;
fail:
  module_unload(m);
  m->state = -1;
  return NULL;
}

const char *cw__sw_module_file(cw__stackwalker_t *sw, size_t i) {
  sw_module_t *m = module_get(sw, (long)i);
  return m && m->path ? m->path : "";
}

/* ---- memory ------------------------------------------------------------ */

static int stack_read64(const cw__stackwalker_t *sw, uint64_t addr,
                        uint64_t *v) {
  if (addr < sw->stack_lo || addr - sw->stack_lo > sw->stack_len ||
      sw->stack_len - (addr - sw->stack_lo) < 8)
    return -1;
  memcpy(v, sw->stack + (addr - sw->stack_lo), 8);
  return 0;
}

static int any_read(const cw__stackwalker_t *sw, uint64_t addr, void *out,
                    size_t n) {
  if (n == 8 && stack_read64(sw, addr, out) == 0)
    return 0;
  return cw__md_read_memory(sw->md, addr, out, n);
}

/* ---- frames ------------------------------------------------------------ */

#define BIT(r) (1u << (r))

/* Fills ip, sp and the module from the registers; the module is the one
 * holding lookup_pc (ip - 1 for a return address). */
static void frame_fill(cw__stackwalker_t *sw, cw__sw_frame_t *f, int exact) {
  f->ip = f->regs[CW_SW_RIP];
  f->sp = f->regs[CW_SW_RSP];
  f->lookup_pc = exact ? f->ip : f->ip - 1;
  f->module_index = cw__md_module_for_address(sw->md, f->lookup_pc);
  f->module_offset = 0;
  if (f->module_index >= 0)
    f->module_offset =
        f->ip - cw__md_module(sw->md, (size_t)f->module_index)->base;
}

static int is_canonical(uint64_t p) {
  return p <= 0x7fffffffffffull || p >= 0xffff800000000000ull;
}

/* Breakpad's TerminateWalk: an instruction pointer in the first page, or a
 * stack pointer that does not grow, ends the walk. */
static int terminate(uint64_t caller_ip, uint64_t caller_sp, uint64_t callee_sp,
                     int first) {
  if (caller_ip < 4096)
    return 1;
  return first ? caller_sp < callee_sp : caller_sp <= callee_sp;
}

/* The DWARF expression evaluator's stack. */
typedef struct {
  uint64_t v[SW_EXPR_STACK];
  size_t n;
} expr_stack_t;

static int expr_push(expr_stack_t *st, uint64_t v) {
  if (st->n >= SW_EXPR_STACK)
    return -1;
  st->v[st->n++] = v;
  return 0;
}

/* The binary operators: x OP b, both popped, the result pushed. Returns 1
 * with *r, 0 if a is not one, -1 for a division by zero or overflow. */
static int expr_binop(unsigned a, uint64_t x, uint64_t b, uint64_t *r) {
  int64_t sx = (int64_t)x, sb = (int64_t)b;
  switch (a) {
  case DW_OP_plus:
    *r = x + b;
    return 1;
  case DW_OP_minus:
    *r = x - b;
    return 1;
  case DW_OP_mul:
    *r = x * b;
    return 1;
  case DW_OP_and:
    *r = x & b;
    return 1;
  case DW_OP_or:
    *r = x | b;
    return 1;
  case DW_OP_xor:
    *r = x ^ b;
    return 1;
  case DW_OP_shl:
    *r = b >= 64 ? 0 : x << b;
    return 1;
  case DW_OP_shr:
    *r = b >= 64 ? 0 : x >> b;
    return 1;
  case DW_OP_shra:
    *r = (uint64_t)(b >= 64 ? (sx < 0 ? -1 : 0) : sx >> b);
    return 1;
  case DW_OP_div:
    if (b == 0 || (sx == INT64_MIN && sb == -1))
      return -1;
    *r = (uint64_t)(sx / sb);
    return 1;
  case DW_OP_mod:
    if (b == 0)
      return -1;
    *r = x % b;
    return 1;
  case DW_OP_eq:
    *r = sx == sb;
    return 1;
  case DW_OP_ne:
    *r = sx != sb;
    return 1;
  case DW_OP_lt:
    *r = sx < sb;
    return 1;
  case DW_OP_le:
    *r = sx <= sb;
    return 1;
  case DW_OP_gt:
    *r = sx > sb;
    return 1;
  case DW_OP_ge:
    *r = sx >= sb;
    return 1;
  default:
    return 0;
  }
}

/* The operators that only rearrange the stack. Returns 1 if op was one
 * (done), 0 if not, -1 on a stack too short or too deep. */
static int expr_stack_op(expr_stack_t *st, const Dwarf_Op *op) {
  uint64_t *v = st->v, t;
  size_t n = st->n;
  switch (op->atom) {
  case DW_OP_dup:
    return n < 1 || expr_push(st, v[n - 1]) != 0 ? -1 : 1;
  case DW_OP_drop:
    if (n < 1)
      return -1;
    st->n--;
    return 1;
  case DW_OP_over:
    return n < 2 || expr_push(st, v[n - 2]) != 0 ? -1 : 1;
  case DW_OP_pick:
    return op->number >= n || expr_push(st, v[n - 1 - op->number]) != 0 ? -1
                                                                        : 1;
  case DW_OP_swap:
    if (n < 2)
      return -1;
    t = v[n - 1];
    v[n - 1] = v[n - 2];
    v[n - 2] = t;
    return 1;
  case DW_OP_rot:
    if (n < 3)
      return -1;
    t = v[n - 1];
    v[n - 1] = v[n - 2];
    v[n - 2] = v[n - 3];
    v[n - 3] = t;
    return 1;
  default:
    return 0;
  }
}

/* The operators that replace the top of the stack (dereference included).
 * Returns 1 if op was one (done), 0 if not, -1 on failure. */
static int expr_unary_op(cw__stackwalker_t *sw, expr_stack_t *st,
                         const Dwarf_Op *op) {
  switch (op->atom) {
  case DW_OP_deref:
  case DW_OP_plus_uconst:
  case DW_OP_neg:
  case DW_OP_not:
  case DW_OP_abs:
    break;
  default:
    return 0;
  }
  if (st->n < 1)
    return -1;
  uint64_t *top = &st->v[st->n - 1];
  switch (op->atom) {
  case DW_OP_deref: {
    uint64_t v;
    if (any_read(sw, *top, &v, 8) != 0)
      return -1;
    *top = v;
    break;
  }
  case DW_OP_plus_uconst:
    *top += op->number;
    break;
  case DW_OP_neg:
    *top = (uint64_t)(-(int64_t)*top);
    break;
  case DW_OP_not:
    *top = ~*top;
    break;
  default: /* DW_OP_abs */
    if ((int64_t)*top < 0)
      *top = (uint64_t)(-(int64_t)*top);
    break;
  }
  return 1;
}

/* The operators that push a constant, a register plus an offset, or the
 * CFA. Returns 1 if op was one (done), 0 if not, -1 on failure (an unknown
 * register, no CFA yet, a full stack). */
static int expr_push_op(expr_stack_t *st, const Dwarf_Op *op,
                        const cw__sw_frame_t *f, uint64_t cfa, int have_cfa) {
  unsigned a = op->atom;
  if (a >= DW_OP_lit0 && a <= DW_OP_lit31)
    return expr_push(st, a - DW_OP_lit0) != 0 ? -1 : 1;
  if (a >= DW_OP_breg0 && a <= DW_OP_breg31) {
    unsigned r = a - DW_OP_breg0;
    if (r >= CW_SW_NREGS || !(f->valid & BIT(r)))
      return -1;
    return expr_push(st, f->regs[r] + (uint64_t)(int64_t)op->number) ? -1 : 1;
  }
  switch (a) {
  case DW_OP_bregx:
    if (op->number >= CW_SW_NREGS || !(f->valid & BIT(op->number)))
      return -1;
    return expr_push(st, f->regs[op->number] + (uint64_t)(int64_t)op->number2)
               ? -1
               : 1;
  case DW_OP_call_frame_cfa:
    return !have_cfa || expr_push(st, cfa) != 0 ? -1 : 1;
  case DW_OP_addr:
  case DW_OP_const1u:
  case DW_OP_const2u:
  case DW_OP_const4u:
  case DW_OP_const8u:
  case DW_OP_constu:
    return expr_push(st, op->number) != 0 ? -1 : 1;
  case DW_OP_const1s:
  case DW_OP_const2s:
  case DW_OP_const4s:
  case DW_OP_const8s:
  case DW_OP_consts:
    return expr_push(st, (uint64_t)(int64_t)op->number) != 0 ? -1 : 1;
  default:
    return 0;
  }
}

/* Where DW_OP_skip / DW_OP_bra at ops[i] jumps: the index of the target
 * op, nops for a jump past the end (the expression ends), or -1 for a
 * target that is not an op boundary. */
static long expr_jump(const Dwarf_Op *ops, size_t nops, size_t i) {
  /* Operand: signed 2-byte offset from the end of this op (3 bytes). */
  uint64_t target =
      ops[i].offset + 3 + (uint64_t)(int64_t)(int16_t)ops[i].number;
  size_t k = 0;
  while (k < nops && ops[k].offset != target)
    k++;
  if (k == nops)
    return target > ops[nops - 1].offset ? (long)nops : -1;
  return (long)k;
}

/* Evaluates a DWARF expression from libdw (CFI subset plus arithmetic). */
static int eval_expr(cw__stackwalker_t *sw, const Dwarf_Op *ops, size_t nops,
                     const cw__sw_frame_t *f, uint64_t cfa, int have_cfa,
                     uint64_t *result, int *is_value) {
  expr_stack_t st;
  st.n = 0;
  *is_value = 0;
  size_t steps = 0;
  for (size_t i = 0; i < nops; i++) {
    if (++steps > SW_EXPR_STEPS)
      return -1;
    const Dwarf_Op *op = &ops[i];
    unsigned a = op->atom;
    int done = expr_push_op(&st, op, f, cfa, have_cfa);
    if (done == 0)
      done = expr_stack_op(&st, op);
    if (done == 0)
      done = expr_unary_op(sw, &st, op);
    if (done < 0)
      return -1;
    if (done > 0 || a == DW_OP_nop)
      continue;
    uint64_t r;
    if (expr_binop(a, 0, 1, &r) != 0) { /* a binary operator */
      if (st.n < 2)
        return -1;
      uint64_t b = st.v[--st.n];
      if (expr_binop(a, st.v[st.n - 1], b, &r) < 0)
        return -1;
      st.v[st.n - 1] = r;
      continue;
    }
    if (a == DW_OP_skip || a == DW_OP_bra) {
      if (a == DW_OP_bra) {
        if (st.n < 1)
          return -1;
        if (st.v[--st.n] == 0)
          continue;
      }
      long k = expr_jump(ops, nops, i);
      if (k < 0)
        return -1;
      if ((size_t)k == nops)
        break;           /* jump to the end */
      i = (size_t)k - 1; /* the loop's i++ lands on k */
      continue;
    }
    if (a == DW_OP_stack_value) {
      *is_value = 1;
      break;
    }
    return -1; /* registers as locations, TLS, pieces: not for CFI */
  }
  if (st.n == 0)
    return -1;
  *result = st.v[st.n - 1];
  return 0;
}

/* One CFI step from frame f. Returns 0 with *caller filled. */
static int step_cfi(cw__stackwalker_t *sw, const cw__sw_frame_t *f, int first,
                    int f_is_signal, cw__sw_frame_t *caller,
                    int *caller_signal) {
  sw_module_t *m = module_get(sw, f->module_index);
  if (m == NULL || (m->eh_cfi == NULL && m->dbg_cfi == NULL))
    return -1;
  uint64_t pc = f->ip - ((first || f_is_signal) ? 0 : 1);
  uint64_t rel = pc - m->bias;
  Dwarf_Frame *fr = NULL;
  if (m->eh_cfi == NULL || dwarf_cfi_addrframe(m->eh_cfi, rel, &fr) != 0) {
    fr = NULL;
    if (m->dbg_cfi == NULL || dwarf_cfi_addrframe(m->dbg_cfi, rel, &fr) != 0)
      return -1;
  }
  int rc = -1;
  Dwarf_Op *ops;
  size_t nops;
  uint64_t cfa;
  int is_value;
  if (dwarf_frame_cfa(fr, &ops, &nops) != 0 || nops == 0 ||
      eval_expr(sw, ops, nops, f, 0, 0, &cfa, &is_value) != 0)
    goto out;
  bool signalp = false;
  int ra = dwarf_frame_info(fr, NULL, NULL, &signalp);
  if (ra < 0 || ra >= CW_SW_NREGS)
    goto out;
  memset(caller, 0, sizeof(*caller));
  for (int r = 0; r < CW_SW_NREGS; r++) {
    Dwarf_Op mem[3];
    if (dwarf_frame_register(fr, r, mem, &ops, &nops) != 0)
      continue;
    if (nops == 0) {
      if (ops == NULL && (f->valid & BIT(r))) { /* same value */
        caller->regs[r] = f->regs[r];
        caller->valid |= BIT(r);
      }
      continue; /* ops == mem: undefined */
    }
    uint64_t v;
    if (eval_expr(sw, ops, nops, f, cfa, 1, &v, &is_value) != 0)
      continue;
    if (!is_value && any_read(sw, v, &v, 8) != 0)
      continue;
    caller->regs[r] = v;
    caller->valid |= BIT(r);
  }
  /* The caller's rsp is the CFA (the x86-64 ABI's definition) unless the
   * CFI says otherwise; its rip is the return address column. */
  if (!(caller->valid & BIT(CW_SW_RSP))) {
    caller->regs[CW_SW_RSP] = cfa;
    caller->valid |= BIT(CW_SW_RSP);
  }
  if (ra != CW_SW_RIP) {
    if (!(caller->valid & BIT(ra)))
      goto out;
    caller->regs[CW_SW_RIP] = caller->regs[ra];
    caller->valid |= BIT(CW_SW_RIP);
  }
  if (!(caller->valid & BIT(CW_SW_RIP)))
    goto out; /* return address undefined: the outermost frame */
  caller->trust = CW_SW_TRUST_CFI;
  *caller_signal = signalp;
  rc = 0;
out:
  free(fr);
  return rc;
}

static int sym_read(void *ctx, uint64_t addr, uint64_t *out) {
  return any_read(ctx, addr, out, 8);
}

/* One step with the STACK CFI of the module's Breakpad .sym file. */
static int step_symcfi(cw__stackwalker_t *sw, const cw__sw_frame_t *f,
                       int first, cw__sw_frame_t *caller) {
  if (sw->opts.find_module_sym == NULL || f->module_index < 0 ||
      (size_t)f->module_index >= sw->nmods)
    return -1;
  sw_module_t *m = &sw->mods[f->module_index];
  const cw__md_module_t *info = cw__md_module(sw->md, (size_t)f->module_index);
  if (m->sym_state == 0) {
    m->sym_state = -1;
    const char *path = sw->opts.find_module_sym(sw->opts.ctx, info);
    char err[256];
    if (path != NULL &&
        cw__md_symcfi_open(path,
                           info->breakpad_id[0] ? info->breakpad_id : NULL,
                           &m->sym, err, sizeof(err)) == 0)
      m->sym_state = 1;
  }
  if (m->sym_state != 1)
    return -1;
  uint64_t pc = f->ip - (first ? 0 : 1) - info->base;
  memset(caller, 0, sizeof(*caller));
  if (cw__md_symcfi_unwind(m->sym, pc, f->regs, f->valid, sym_read, sw,
                           caller->regs, &caller->valid) != 0)
    return -1;
  caller->trust = CW_SW_TRUST_CFI;
  return 0;
}

static int step_fp(cw__stackwalker_t *sw, const cw__sw_frame_t *f,
                   cw__sw_frame_t *caller) {
  uint64_t bp = f->regs[CW_SW_RBP];
  if (bp % 8 != 0)
    return -1;
  uint64_t ip, saved_bp, unused;
  if (bp > UINT64_MAX - 16 || stack_read64(sw, bp + 8, &ip) != 0 ||
      stack_read64(sw, bp, &saved_bp) != 0)
    return -1;
  uint64_t sp = bp + 16;
  /* A return address below 4096 is accepted here and ends the walk in
   * terminate(): a zero saved return address is how a frame-pointer chain
   * says "outermost frame" (minidump_stackwalk agrees). */
  if (!is_canonical(ip))
    return -1;
  if (sp <= bp || saved_bp < sp)
    return -1;
  if (stack_read64(sw, saved_bp, &unused) != 0)
    return -1;
  *caller = *f;
  caller->regs[CW_SW_RIP] = ip;
  caller->regs[CW_SW_RSP] = sp;
  caller->regs[CW_SW_RBP] = saved_bp;
  caller->valid = BIT(CW_SW_RIP) | BIT(CW_SW_RSP) | BIT(CW_SW_RBP);
  caller->trust = CW_SW_TRUST_FP;
  return 0;
}

/* With the module's code at hand, is ip just after a call instruction in an
 * executable segment? Without it, any address in a module will do. */
static int plausible_return(cw__stackwalker_t *sw, uint64_t ip) {
  /* A return address follows its call instruction, so ip - 1 must be in the
   * module: this rejects a module's first byte (pointers to the ELF header,
   * like auxv's AT_BASE above main's frame) and accepts a call that ends
   * the module's last page. minidump_stackwalk behaves the same. */
  if (ip == 0)
    return 0;
  long idx = cw__md_module_for_address(sw->md, ip - 1);
  if (idx < 0)
    return 0;
  sw_module_t *m = module_get(sw, idx);
  if (m == NULL || m->image == NULL)
    return 1;
  uint64_t v = ip - m->bias;
  for (size_t i = 0; i < m->nexec; i++) {
    const GElf_Phdr *ph = &m->exec[i];
    if (v < ph->p_vaddr + 7 || v - ph->p_vaddr > ph->p_filesz)
      continue;
    uint64_t off = ph->p_offset + (v - ph->p_vaddr);
    if (off > m->image_size || off < 7)
      return 0;
    const uint8_t *c = m->image + off;
    if (c[-5] == 0xe8) /* call rel32 */
      return 1;
    /* call r/m64: FF /2 with 0-5 bytes of ModRM/SIB/displacement. */
    for (int k = 2; k <= 7; k++)
      if (c[-k] == 0xff && ((c[-k + 1] >> 3) & 7) == 2)
        return 1;
    return 0;
  }
  return 0;
}

static int step_scan(cw__stackwalker_t *sw, const cw__sw_frame_t *f, int first,
                     cw__sw_frame_t *caller) {
  uint64_t start = f->regs[CW_SW_RSP];
  unsigned words = first ? SW_SCAN_WORDS * 4 : SW_SCAN_WORDS;
  for (unsigned i = 0; i <= words; i++) {
    uint64_t at = start + (uint64_t)i * 8, ip;
    if (at < start || stack_read64(sw, at, &ip) != 0)
      break;
    if (!plausible_return(sw, ip))
      continue;
    *caller = *f;
    caller->regs[CW_SW_RIP] = ip;
    caller->regs[CW_SW_RSP] = at + 8;
    caller->valid = BIT(CW_SW_RIP) | BIT(CW_SW_RSP);
    caller->trust = CW_SW_TRUST_SCAN;
    /* Pass on a plausible rbp, as Breakpad does: the word below the return
     * address if the callee's rbp points there, else an unchanged rbp. */
    if (f->valid & BIT(CW_SW_RBP)) {
      uint64_t bp = f->regs[CW_SW_RBP], saved;
      if (at - 8 == bp) {
        if (stack_read64(sw, bp, &saved) == 0 && saved > at) {
          caller->regs[CW_SW_RBP] = saved;
          caller->valid |= BIT(CW_SW_RBP);
        }
      } else if (bp >= at + 8) {
        caller->valid |= BIT(CW_SW_RBP);
      }
    }
    return 0;
  }
  return -1;
}

static void regs_from_context(const md_context_amd64_t *c, cw__sw_frame_t *f) {
  uint64_t *r = f->regs;
  r[CW_SW_RAX] = c->rax;
  r[CW_SW_RDX] = c->rdx;
  r[CW_SW_RCX] = c->rcx;
  r[CW_SW_RBX] = c->rbx;
  r[CW_SW_RSI] = c->rsi;
  r[CW_SW_RDI] = c->rdi;
  r[CW_SW_RBP] = c->rbp;
  r[CW_SW_RSP] = c->rsp;
  r[CW_SW_R8] = c->r8;
  r[CW_SW_R9] = c->r9;
  r[CW_SW_R10] = c->r10;
  r[CW_SW_R11] = c->r11;
  r[CW_SW_R12] = c->r12;
  r[CW_SW_R13] = c->r13;
  r[CW_SW_R14] = c->r14;
  r[CW_SW_R15] = c->r15;
  r[CW_SW_RIP] = c->rip;
  f->valid = (1u << CW_SW_NREGS) - 1;
}

int cw__sw_walk_thread(cw__stackwalker_t *sw, size_t thread_index,
                       cw__sw_frame_t **frames, size_t *count, char *err,
                       size_t errlen) {
  *frames = NULL;
  *count = 0;
  char why[160];
  const cw__md_thread_t *t = cw__md_thread(sw->md, thread_index);
  if (t == NULL) {
    snprintf(err, errlen, "stackwalk: no thread %zu", thread_index);
    return CW_EINVAL;
  }
  const md_context_amd64_t *ctx =
      cw__md_thread_amd64(sw->md, thread_index, why, sizeof(why));
  if (ctx == NULL) {
    snprintf(err, errlen, "stackwalk: %s", why);
    return strstr(why, "unsupported") ? CW_ENOTSUP : CW_EFORMAT;
  }
  size_t avail = 0;
  sw->stack_lo = t->stack_start;
  sw->stack =
      t->stack_size ? cw__md_memory_at(sw->md, t->stack_start, &avail) : NULL;
  sw->stack_len =
      sw->stack ? (avail < t->stack_size ? avail : t->stack_size) : 0;

  size_t cap = 64;
  cw__sw_frame_t *out = malloc(cap * sizeof(*out));
  if (out == NULL)
    return CW_ENOMEM;
  memset(&out[0], 0, sizeof(out[0]));
  regs_from_context(ctx, &out[0]);
  out[0].trust = CW_SW_TRUST_CONTEXT;
  frame_fill(sw, &out[0], 1);
  size_t n = 1, scanned = 0;
  int last_signal = 0;
  while (n < sw->opts.max_frames) {
    const cw__sw_frame_t *last = &out[n - 1];
    cw__sw_frame_t caller;
    int found = -1, caller_signal = 0;
    if (!sw->opts.no_cfi)
      found = step_cfi(sw, last, n == 1, last_signal, &caller, &caller_signal);
    if (found != 0 && !sw->opts.no_cfi)
      found = step_symcfi(sw, last, n == 1, &caller);
    if (found != 0)
      found = step_fp(sw, last, &caller);
    if (found != 0 && !sw->opts.no_scan && scanned < SW_MAX_SCANNED) {
      found = step_scan(sw, last, n == 1, &caller);
      scanned += found == 0;
    }
    if (found != 0)
      break;
    if (terminate(caller.regs[CW_SW_RIP], caller.regs[CW_SW_RSP],
                  last->regs[CW_SW_RSP], n == 1))
      break;
    if (n == cap) {
      cw__sw_frame_t *grown = realloc(out, 2 * cap * sizeof(*out));
      if (grown == NULL)
        break; /* keep what we have */
      out = grown;
      cap *= 2;
    }
    frame_fill(sw, &caller, caller_signal);
    out[n++] = caller;
    last_signal = caller_signal;
  }
  *frames = out;
  *count = n;
  return 0;
}
