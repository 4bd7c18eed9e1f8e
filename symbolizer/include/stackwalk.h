/*
 * stackwalk.h — unwinds the threads of a minidump from the dump's own
 * registers and memory (amd64), normal context only.
 *
 * For each caller frame the walker tries, in order, as Breakpad's
 * minidump_stackwalk does:
 *   1. CFI: .eh_frame / .debug_frame of the module's ELF, when the caller's
 *      find_module_file callback returns a file for that module (its
 *      build-id is checked again here), evaluated with libdw against the
 *      dump's memory and the frame's registers; else the STACK CFI records
 *      of a Breakpad .sym file from find_module_sym;
 *   2. the frame-pointer chain (rbp), checked against the thread's stack;
 *   3. stack scanning: the first word above the stack pointer that points
 *      into a module (when the module's ELF is available, it must also point
 *      into an executable segment just after a call instruction).
 * Each frame says how it was found (trust). Frames carry the module index
 * and module-relative address; symbolization is left to the symbolizer.
 *
 * Nothing read from the dump is trusted: the walk stops at max_frames, when
 * the stack pointer stops growing, or when no method finds a caller.
 */
#ifndef CW_SYMBOLIZER_STACKWALK_H
#define CW_SYMBOLIZER_STACKWALK_H

#include <stddef.h>
#include <stdint.h>

#include "minidump.h"

typedef enum {
  CW_SW_TRUST_NONE = 0,
  CW_SW_TRUST_SCAN,    /* stack scanning */
  CW_SW_TRUST_FP,      /* frame pointer */
  CW_SW_TRUST_CFI,     /* call frame information */
  CW_SW_TRUST_CONTEXT, /* the thread's registers */
} cw__sw_trust_t;

/* Registers in DWARF numbering for x86-64. */
enum {
  CW_SW_RAX = 0,
  CW_SW_RDX,
  CW_SW_RCX,
  CW_SW_RBX,
  CW_SW_RSI,
  CW_SW_RDI,
  CW_SW_RBP,
  CW_SW_RSP,
  CW_SW_R8,
  CW_SW_R9,
  CW_SW_R10,
  CW_SW_R11,
  CW_SW_R12,
  CW_SW_R13,
  CW_SW_R14,
  CW_SW_R15,
  CW_SW_RIP,
  CW_SW_NREGS
};

typedef struct {
  uint64_t ip; /* rip: the return address for callers */
  uint64_t sp; /* rsp */
  /* Address to symbolize: ip for the context frame and signal frames,
   * ip - 1 for callers (inside the call instruction). */
  uint64_t lookup_pc;
  long module_index;      /* into cw__md_module(), -1 when in no module */
  uint64_t module_offset; /* ip - module base (when module_index >= 0) */
  cw__sw_trust_t trust;
  uint64_t regs[CW_SW_NREGS];
  uint32_t valid; /* bit (1u << reg) set when regs[reg] is known */
} cw__sw_frame_t;

/* Returns the path of an ELF file for module m (with the same build-id), or
 * NULL. The string must stay valid until the walker is freed. */
typedef const char *(*cw__sw_find_module_fn)(void *ctx,
                                             const cw__md_module_t *m);

typedef struct {
  cw__sw_find_module_fn find_module_file; /* may be NULL */
  /* Path of a Breakpad .sym file for module m, or NULL (may be NULL). Its
   * STACK CFI records are used when the ELF's CFI does not cover a frame;
   * a file whose MODULE id is not m's breakpad_id is not used. */
  cw__sw_find_module_fn find_module_sym;
  void *ctx;
  unsigned max_frames; /* 0: 1024 */
  int no_scan;         /* 1: never scan the stack */
  int no_cfi;          /* 1: ignore module files' CFI */
} cw__sw_options_t;

typedef struct cw__stackwalker cw__stackwalker_t;

/* The walker borrows md, which must outlive it. opts may be NULL. */
int cw__sw_new(const cw__md_t *md, const cw__sw_options_t *opts,
               cw__stackwalker_t **out);
void cw__sw_free(cw__stackwalker_t *sw);

/* Walks thread thread_index. On success *frames (free() it) holds *count >= 1
 * frames, innermost first. Fails (CW_ENOTSUP, CW_EFORMAT) with a message
 * when the thread has no usable context (e.g. "unsupported CPU arm64"). */
int cw__sw_walk_thread(cw__stackwalker_t *sw, size_t thread_index,
                       cw__sw_frame_t **frames, size_t *count, char *err,
                       size_t errlen);

/* "context", "cfi", "fp", "scan", "none". */
const char *cw__sw_trust_name(cw__sw_trust_t t);
/* minidump_stackwalk's wording: "given as instruction pointer in context",
 * "call frame info", "previous frame's frame pointer", "stack scanning". */
const char *cw__sw_trust_description(cw__sw_trust_t t);
/* The file the walker used for module i ("" when none); for diagnostics. */
const char *cw__sw_module_file(cw__stackwalker_t *sw, size_t i);

#endif
