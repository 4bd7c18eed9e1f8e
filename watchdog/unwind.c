/*
 * unwind.c — unwinds every captured thread with libunwind, from the capture
 * alone (normal context, watchdog process, after the app was released).
 *
 * libunwind's remote API is driven with our own accessors: registers come
 * from the captured thread state, memory from the captured stacks, and
 * anything else (the .eh_frame_hdr search table, .eh_frame, the code bytes
 * libunwind inspects to recognise signal trampolines) from the module's ELF
 * file at the matching file offset. find_proc_info locates the module's
 * PT_GNU_EH_FRAME and hands the binary-search table to libunwind's
 * dwarf_search_unwind_table, as perf does for its post-mortem unwinding.
 *
 * When CFI is missing or fails, one frame-pointer step is taken and
 * libunwind is re-seeded from there. Frame 0 without CFI gets a "return
 * address at SP" step first when the word at SP is verifiably its return
 * address (a frameless leaf), or when the PC is outside every module (a
 * call through a bad pointer).
 */
#include <libunwind.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wd_capture.h"
#include "wd_elf.h"

#define MAX_FRAMES 256

extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as,
                                              unw_word_t ip, unw_dyn_info_t *di,
                                              unw_proc_info_t *pi,
                                              int need_unwind_info, void *arg);

typedef struct {
  const wd_capture_t *cap;
  wd_regs_t regs;          /* the registers libunwind starts from */
  const wd_region_t *hint; /* the thread's stack copy, or NULL */
} uw_arg_t;

static wd_module_t *module_at(const wd_capture_t *cap, uint64_t addr) {
  return (wd_module_t *)cw__wd_capture_module_at(cap, addr);
}

/* Reads a word for the unwinder. Module ranges go to the file first:
 * libunwind reads .eh_frame_hdr and .eh_frame words by the thousand, they
 * are read-only, and no stack lies inside a module. Stack words come from
 * the thread's own stack copy (hint) when they can, else from any copy. */
static int read_word_hint(const wd_capture_t *cap, const wd_region_t *hint,
                          uint64_t addr, uint64_t *v) {
  wd_module_t *m = module_at(cap, addr);
  if (m != NULL && m->elf != NULL &&
      cw__elf_read_vaddr(m->elf, addr - cw__wd_elf_load_bias(m->elf, m), v,
                         8) == 0)
    return 0;
  if (hint != NULL && addr >= hint->start && addr - hint->start <= hint->len &&
      hint->len - (addr - hint->start) >= 8) {
    memcpy(v, hint->data + (addr - hint->start), 8);
    return 0;
  }
  const uint8_t *p = cw__wd_capture_memory(cap, addr, 8);
  if (p == NULL)
    return -1;
  memcpy(v, p, 8);
  return 0;
}

static int read_word(const wd_capture_t *cap, uint64_t addr, uint64_t *v) {
  return read_word_hint(cap, NULL, addr, v);
}

static int uw_find_proc_info(unw_addr_space_t as, unw_word_t ip,
                             unw_proc_info_t *pi, int need_unwind_info,
                             void *argp) {
  uw_arg_t *arg = argp;
  wd_module_t *m = module_at(arg->cap, ip);
  if (m == NULL || m->elf == NULL || m->elf->eh_frame_hdr_vaddr == 0)
    return -UNW_ENOINFO;
  uint64_t bias = cw__wd_elf_load_bias(m->elf, m);
  /* .eh_frame_hdr: version, eh_frame_ptr_enc, fde_count_enc, table_enc,
   * then eh_frame_ptr and fde_count, then the sorted (ip, fde) table.
   * Every linker emits udata4 counts and datarel|sdata4 entries; anything
   * else is left to the frame-pointer fallback. */
  uint8_t hdr[12];
  if (cw__elf_read_vaddr(m->elf, m->elf->eh_frame_hdr_vaddr, hdr,
                         sizeof(hdr)) != 0 ||
      hdr[0] != 1 || hdr[2] != 0x03 || hdr[3] != 0x3b)
    return -UNW_ENOINFO;
  uint32_t fde_count;
  memcpy(&fde_count, hdr + 8, 4);
  if ((uint64_t)fde_count * 8 + 12 > m->elf->eh_frame_hdr_size)
    return -UNW_ENOINFO;
  unw_dyn_info_t di;
  memset(&di, 0, sizeof(di));
  di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
  di.start_ip = m->base;
  di.end_ip = m->base + m->size;
  di.u.rti.segbase = bias + m->elf->eh_frame_hdr_vaddr;
  di.u.rti.table_data = di.u.rti.segbase + 12;
  di.u.rti.table_len = fde_count * 8 / sizeof(unw_word_t);
  return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi, need_unwind_info,
                                            argp);
}

static void uw_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi,
                               void *arg) {
  /* dwarf_search_unwind_table allocates from libunwind's own pool and
   * frees it there. */
}

static int uw_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dilap,
                                     void *arg) {
  return -UNW_ENOINFO;
}

static int uw_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *valp,
                         int write, void *argp) {
  uw_arg_t *arg = argp;
  if (write)
    return -UNW_EREADONLYREG;
  uint64_t v;
  if (read_word_hint(arg->cap, arg->hint, addr, &v) != 0)
    return -UNW_EINVAL;
  *valp = v;
  return 0;
}

static int uw_access_reg(unw_addr_space_t as, unw_regnum_t regnum,
                         unw_word_t *valp, int write, void *argp) {
  uw_arg_t *arg = argp;
  if (write)
    return -UNW_EREADONLYREG;
  uint64_t v;
  if (cw__wd_regs_get_unw(&arg->regs, regnum, &v) != 0)
    return -UNW_EBADREG;
  *valp = v;
  return 0;
}

static int uw_access_fpreg(unw_addr_space_t as, unw_regnum_t regnum,
                           unw_fpreg_t *fpvalp, int write, void *arg) {
  return -UNW_EBADREG;
}

static int uw_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg) {
  return -UNW_EINVAL;
}

static int uw_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
                            size_t len, unw_word_t *offp, void *arg) {
  return -UNW_ENOINFO; /* names come from cw__wd_symbolize() */
}

static unw_accessors_t uw_accessors = {
    .find_proc_info = uw_find_proc_info,
    .put_unwind_info = uw_put_unwind_info,
    .get_dyn_info_list_addr = uw_get_dyn_info_list_addr,
    .access_mem = uw_access_mem,
    .access_reg = uw_access_reg,
    .access_fpreg = uw_access_fpreg,
    .resume = uw_resume,
    .get_proc_name = uw_get_proc_name,
};

static int push(wd_thread_t *th, size_t *cap, uint64_t ip, uint64_t sp,
                int trust) {
  if (th->nframes == *cap) {
    size_t ncap = *cap ? *cap * 2 : 32;
    wd_frame_t *f = realloc(th->frames, ncap * sizeof(*f));
    if (f == NULL)
      return -1;
    th->frames = f;
    *cap = ncap;
  }
  th->frames[th->nframes++] = (wd_frame_t){.ip = ip, .sp = sp, .trust = trust};
  return 0;
}

static int read_bytes(const wd_capture_t *cap, uint64_t addr, void *out,
                      size_t n) {
  const uint8_t *p = cw__wd_capture_memory(cap, addr, n);
  if (p != NULL) {
    memcpy(out, p, n);
    return 0;
  }
  wd_module_t *m = module_at(cap, addr);
  if (m == NULL || m->elf == NULL)
    return -1;
  return cw__elf_read_vaddr(m->elf, addr - cw__wd_elf_load_bias(m->elf, m), out,
                            n);
}

/* Frame 0 without CFI, in a function that may not have pushed a frame yet
 * (a leaf, or shrink-wrapped code): the return address is at SP if the
 * word there points just after a direct call to this very function. A PC
 * outside every module (a call through a bad pointer) takes the word at SP
 * if it points into a module. */
static int leaf_step(const wd_capture_t *cap, uint64_t ip, uint64_t sp,
                     uint64_t fp, uint64_t out[3]) {
  uint64_t ret;
  if (read_word(cap, sp, &ret) != 0 || module_at(cap, ret) == NULL)
    return -1;
  const wd_module_t *m = module_at(cap, ip);
  if (m != NULL) {
    uint8_t call[5];
    if (m->elf == NULL || read_bytes(cap, ret - 5, call, 5) != 0 ||
        call[0] != 0xe8)
      return -1;
    int32_t rel;
    memcpy(&rel, call + 1, 4);
    uint64_t target = ret + (uint64_t)(int64_t)rel;
    uint64_t bias = cw__wd_elf_load_bias(m->elf, m);
    const cw__elf_sym_t *sym = cw__elf_symbol(m->elf, ip - bias);
    if (sym == NULL || target != sym->addr + bias)
      return -1;
  }
  out[0] = ret;
  out[1] = sp + 8;
  out[2] = fp;
  return 0;
}

/* One frame-pointer step from (sp, fp): the caller's ip, sp and fp. */
static int fp_step(const wd_capture_t *cap, uint64_t sp, uint64_t fp,
                   uint64_t out[3]) {
  uint64_t saved_fp, ret;
  if (fp <= sp || fp - sp > (64u << 20) || (fp & 7) != 0 ||
      read_word(cap, fp, &saved_fp) != 0 || read_word(cap, fp + 8, &ret) != 0)
    return -1;
  if (ret == 0 || module_at(cap, ret) == NULL)
    return -1;
  out[0] = ret;
  out[1] = fp + 16;
  out[2] = saved_fp;
  return 0;
}

/* has_cfi's answers for this capture: the threads of a process mostly
 * stop at the same few PCs (a futex wait in libc), and the table search
 * and FDE parse behind one answer are not in libunwind's cache. */
#define CFI_MEMO 32
typedef struct {
  uint64_t ip[CFI_MEMO];
  unsigned char has[CFI_MEMO];
  size_t n, next;
} cfi_memo_t;

/* Whether the module has an FDE for ip. (unw_get_proc_info() cannot say:
 * it invents a one-byte range when there is none.) */
static int has_cfi(unw_addr_space_t as, uw_arg_t *arg, cfi_memo_t *memo,
                   uint64_t ip) {
  for (size_t i = 0; i < memo->n; i++)
    if (memo->ip[i] == ip)
      return memo->has[i];
  int has = 0;
  if (module_at(arg->cap, ip) != NULL) {
    unw_proc_info_t pi;
    memset(&pi, 0, sizeof(pi));
    has = uw_find_proc_info(as, ip, &pi, 0, arg) == 0;
  }
  size_t slot = memo->n < CFI_MEMO ? memo->n++ : memo->next++ % CFI_MEMO;
  memo->ip[slot] = ip;
  memo->has[slot] = (unsigned char)has;
  return has;
}

static void unwind_thread(unw_addr_space_t as, const wd_capture_t *cap,
                          cfi_memo_t *memo, wd_thread_t *th) {
  uw_arg_t arg = {cap, th->regs,
                  th->stack_region >= 0 ? &cap->regions[th->stack_region]
                                        : NULL};
  size_t fcap = 0;
  int trust = WD_TRUST_CONTEXT;
  while (th->nframes < MAX_FRAMES) {
    unw_cursor_t c;
    if (unw_init_remote(&c, as, &arg) != 0)
      break;
    /* Walk with CFI as far as it goes from these registers. */
    uint64_t ip = 0, sp = 0, fp = 0, next[3];
    int r = 1, leaf = 0;
    while (th->nframes < MAX_FRAMES) {
      unw_word_t w;
      unw_get_reg(&c, UNW_REG_IP, &w);
      ip = w;
      unw_get_reg(&c, UNW_REG_SP, &w);
      sp = w;
      fp = unw_get_reg(&c, UNW_X86_64_RBP, &w) == 0 ? w : 0;
      if (ip == 0 && th->nframes > 0)
        return; /* the outermost frame */
      if (th->nframes > 0) {
        const wd_frame_t *prev = &th->frames[th->nframes - 1];
        if (sp < prev->sp || (sp == prev->sp && ip == prev->ip))
          return; /* not making progress: corrupt stack */
      }
      if (push(th, &fcap, ip, sp, trust) != 0)
        return;
      /* libunwind's own guess for a frame 0 without CFI follows the frame
       * pointer, which skips the caller of a frameless leaf. */
      if (th->nframes == 1 && !has_cfi(as, &arg, memo, ip) &&
          leaf_step(cap, ip, sp, fp, next) == 0) {
        leaf = 1;
        break;
      }
      trust = WD_TRUST_CFI;
      r = unw_step(&c);
      if (r <= 0)
        break;
    }
    if (!leaf) {
      if (r == 0) {
        th->unwind_complete = 1; /* CFI says this is the end of the stack */
        return;
      }
      if (fp_step(cap, sp, fp, next) != 0)
        return;
    }
    arg.regs.gp.rip = next[0];
    arg.regs.gp.rsp = next[1];
    arg.regs.gp.rbp = next[2];
    trust = WD_TRUST_FP;
  }
}

__thread int cw__wd_unwinding;

void cw__wd_unwind_all(wd_capture_t *cap) {
  for (size_t i = 0; i < cap->nmodules; i++)
    cw__wd_module_elf(&cap->modules[i]);
  unw_addr_space_t as = unw_create_addr_space(&uw_accessors, 0);
  if (as == NULL)
    return;
  /* One address space per capture, destroyed below: what libunwind caches
   * (the unwind rules per IP) holds for every thread of this capture and
   * for no other. Threads of a process mostly stop in the same few
   * functions, so this took 128 threads' unwinding from 4.0 to 1.5 ms.
   * (Debian's libunwind has no per-thread cache: UNW_CACHE_PER_THREAD
   * becomes this global one, which libunwind locks with every signal
   * blocked, see cw__wd_unwinding.) */
  unw_set_caching_policy(as, UNW_CACHE_GLOBAL);
  cfi_memo_t memo = {.n = 0};
  cw__wd_unwinding = 1;
  for (size_t i = 0; i < cap->nthreads; i++) {
    wd_thread_t *th = &cap->threads[i];
    free(th->frames);
    th->frames = NULL;
    th->nframes = 0;
    if (th->regs_ok)
      unwind_thread(as, cap, &memo, th);
  }
  cw__wd_unwinding = 0;
  unw_destroy_addr_space(as);
}

void cw__wd_trim_stacks(wd_capture_t *cap, size_t slack) {
  for (size_t i = 0; i < cap->nthreads; i++) {
    wd_thread_t *th = &cap->threads[i];
    if (!th->unwind_complete || th->nframes == 0 || th->stack_region < 0)
      continue;
    wd_region_t *r = &cap->regions[th->stack_region];
    uint64_t top = th->frames[th->nframes - 1].sp;
    if (top < r->start || top - r->start > r->len)
      continue;
    uint64_t keep = top - r->start + slack;
    keep = (keep + 15) & ~(uint64_t)15;
    if (keep < r->len)
      r->len = (size_t)keep;
  }
}

const char *cw__wd_symbolize(const wd_capture_t *cap, uint64_t addr,
                             const wd_module_t **mod_out, uint64_t *off_out) {
  const wd_module_t *m = cw__wd_capture_module_at(cap, addr);
  if (mod_out)
    *mod_out = m;
  if (m == NULL)
    return NULL;
  if (off_out)
    *off_out = addr - m->base;
  if (m->elf == NULL)
    return NULL;
  cw__wd_elf_name_frames(cap, m); /* all of m's frames in one pass, once */
  uint64_t vaddr = addr - cw__wd_elf_load_bias(m->elf, m);
  const cw__elf_sym_t *s = cw__elf_symbol(m->elf, vaddr);
  /* The vDSO exports a few functions and holds unexported helpers between
   * and after them (kernel 6.x: one before the first exported symbol,
   * others past __vdso_getrandom's end): there the nearest preceding
   * function of the section names the code, as Breakpad's PUBLIC records
   * do. Only for the vDSO: in a stripped library the preceding exported
   * function is as often a stranger as a caller. */
  if (s == NULL && cw__wd_module_is_vdso(m))
    s = cw__elf_symbol_preceding(m->elf, vaddr);
  return s ? s->name : NULL;
}

int cw__wd_module_is_vdso(const wd_module_t *m) {
  return m->fd < 0 && m->path != NULL && strcmp(m->path, WD_VDSO_NAME) == 0;
}

const char *cw__wd_symbolize_frame(const wd_capture_t *cap, uint64_t addr,
                                   const wd_module_t **mod_out,
                                   uint64_t *off_out, char *buf,
                                   size_t buflen) {
  const wd_module_t *m = NULL;
  uint64_t off = 0;
  const char *fn = cw__wd_symbolize(cap, addr, &m, &off);
  if (mod_out)
    *mod_out = m;
  if (off_out)
    *off_out = off;
  if (fn == NULL && m != NULL && cw__wd_module_is_vdso(m) && buflen > 0) {
    snprintf(buf, buflen, "%s+0x%llx", WD_VDSO_NAME,
             (unsigned long long)(addr - m->base));
    fn = buf;
  }
  return fn;
}
