/*
 * symbolize.c — function, file, line and inlined functions for every
 * unwound frame, from the modules' debug information through symbolizer/.
 * Normal context, watchdog process, after the app was released: nothing
 * here reads the crashed process, and a time budget bounds the work.
 *
 * The frames' symbol-table names (cw__wd_symbolize) stay the fallback: a frame
 * whose module has no debug information, could not be read in time, or
 * whose file was replaced since the crash keeps nsrc 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crashwatch.h"
#include "symbolizer.h"
#include "wd_capture.h"
#include "wd_elf.h"

/* Longest inline chain kept per address (innermost frames win). */
#define MAX_CHAIN 16

long cw__wd_symbolize_budget_ms(void) {
  const char *v = secure_getenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS");
  if (v == NULL || *v == '\0')
    return WD_SYMBOLIZE_BUDGET_MS_DEFAULT;
  char *end;
  errno = 0;
  long ms = strtol(v, &end, 10);
  if (errno != 0 || *end != '\0' || ms < 0 || ms > 600000)
    return WD_SYMBOLIZE_BUDGET_MS_DEFAULT;
  return ms;
}

typedef struct {
  cw__sym_module_t *mod; /* NULL: no answers from this module */
  int tried;
} mod_state_t;

/* The path to hand the symbolizer for m, in buf; NULL when the module
 * cannot be symbolized (no file: the vDSO; or nothing proves which file it
 * was). The path itself is preferred when it still names the file that
 * was mapped, because separate debug files are searched next to it
 * (.gnu_debuglink); otherwise the descriptor kept from the capture. */
static const char *module_path(const wd_module_t *m, char *buf, size_t cap) {
  if (m->image != NULL || m->path == NULL || m->path[0] != '/')
    return NULL;
  if (m->fd >= 0) {
    struct stat a, b;
    if (fstat(m->fd, &a) == 0 && stat(m->path, &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino)
      return m->path;
    snprintf(buf, cap, "/proc/self/fd/%d", m->fd);
    return buf;
  }
  /* Not opened while the process lived: the path may now hold another
   * file, which only a build-id can tell. */
  return m->build_id_len > 0 ? m->path : NULL;
}

static cw__sym_module_t *module_for(wd_capture_t *cap, size_t index,
                                    mod_state_t *st, int *timed_out) {
  mod_state_t *s = &st[index];
  if (s->tried)
    return s->mod;
  const wd_module_t *m = &cap->modules[index];
  char buf[64];
  const char *path = module_path(m, buf, sizeof(buf));
  if (path == NULL) {
    s->tried = 1;
    return NULL;
  }
  cw__sym_module_t *mod = NULL;
  int rc = cw__symbolizer_open(cap->symbolizer, path,
                               m->build_id_len ? m->build_id : NULL,
                               m->build_id_len, &mod);
  if (rc == CW_ETIMEDOUT) {
    /* Not cached by the symbolizer, and not retried here: past the
     * deadline every later open fails the same way. */
    *timed_out = 1;
    s->tried = 1;
    return NULL;
  }
  s->tried = 1;
  /* CW_ENOSYMBOL still yields a module (it answers nothing); any other
   * failure (mismatched build-id, unreadable) leaves the symtab names. */
  s->mod = (rc == 0 || rc == CW_ENOSYMBOL) ? mod : NULL;
  if (s->mod != NULL && strcmp(cw__sym_module_source(s->mod), "none") == 0)
    s->mod = NULL;
  return s->mod;
}

static int add_srcs(wd_capture_t *cap, const cw__sym_frame_t *fr, int n,
                    size_t *cap_srcs) {
  if (cap->nsrcs + (size_t)n > *cap_srcs) {
    size_t ncap = *cap_srcs ? *cap_srcs * 2 : 64;
    while (ncap < cap->nsrcs + (size_t)n)
      ncap *= 2;
    wd_src_t *p = realloc(cap->srcs, ncap * sizeof(*p));
    if (p == NULL)
      return CW_ENOMEM;
    cap->srcs = p;
    *cap_srcs = ncap;
  }
  for (int i = 0; i < n; i++)
    cap->srcs[cap->nsrcs++] =
        (wd_src_t){fr[i].function, fr[i].file, fr[i].line, fr[i].column};
  return 0;
}

/* Symbolizes one thread's frames; returns how many got source frames. */
static size_t symbolize_thread(wd_capture_t *cap, wd_thread_t *th,
                               mod_state_t *st, size_t *cap_srcs,
                               int *timed_out) {
  size_t named = 0;
  for (size_t k = 0; k < th->nframes; k++) {
    wd_frame_t *f = &th->frames[k];
    f->nsrc = 0;
    const wd_module_t *m = cw__wd_capture_module_at(cap, f->ip);
    if (m == NULL)
      continue;
    size_t index = (size_t)(m - cap->modules);
    cw__sym_module_t *mod = module_for(cap, index, st, timed_out);
    if (mod == NULL)
      continue;
    /* Link-time address: the watchdog's own load bias when it has the
     * module's program headers, else the symbolizer's from the file. */
    uint64_t vaddr = m->elf != NULL
                         ? f->ip - cw__wd_elf_load_bias(m->elf, m)
                         : cw__sym_module_vaddr(mod, f->ip - m->base);
    /* Frame 0 is the faulting (or interrupted) instruction; every other
     * frame holds a return address, which may lie past the end of a
     * noreturn call's function: look inside the call. */
    cw__sym_frame_t fr[MAX_CHAIN];
    int n = cw__sym_lookup(mod, vaddr, k > 0 ? CW_SYM_RETURN_ADDRESS : 0, fr,
                           MAX_CHAIN);
    if (n <= 0)
      continue;
    /* A bare name (a module with symbol tables only) is no better than
     * what cw__wd_symbolize() already gives. */
    int useful = n > 1;
    for (int i = 0; i < n; i++)
      useful |= fr[i].file != NULL || fr[i].line != 0;
    if (!useful)
      continue;
    if (add_srcs(cap, fr, n, cap_srcs) != 0)
      break;
    f->src = (uint32_t)(cap->nsrcs - (size_t)n);
    f->nsrc = (uint32_t)n;
    named++;
  }
  return named;
}

size_t cw__wd_symbolize_all(wd_capture_t *cap, uint64_t deadline_ns) {
  uint64_t t0 = cw__symbolizer_now_ns();
  cap->unwound_frames = 0;
  for (size_t i = 0; i < cap->nthreads; i++)
    cap->unwound_frames += cap->threads[i].nframes;
  cap->symbolized_frames = 0;
  if (cap->symbolizer == NULL)
    cap->symbolizer = cw__symbolizer_new(CW_SYM_NO_DEBUGINFOD);
  mod_state_t *st = calloc(cap->nmodules ? cap->nmodules : 1, sizeof(*st));
  int timed_out = 0;
  if (cap->symbolizer != NULL && st != NULL) {
    /* Network lookups (debuginfod) never run in the crash path: the
     * budget is for local files. */
    cw__symbolizer_set_deadline(cap->symbolizer, deadline_ns);
    size_t cap_srcs = cap->nsrcs;
    if (cap->nthreads > 0)
      cap->symbolized_frames += symbolize_thread(
          cap, &cap->threads[cap->crashed_index], st, &cap_srcs, &timed_out);
    for (size_t i = 0; i < cap->nthreads; i++)
      if (i != cap->crashed_index)
        cap->symbolized_frames +=
            symbolize_thread(cap, &cap->threads[i], st, &cap_srcs, &timed_out);
  }
  free(st);
  cap->symbolize_state = timed_out ? WD_SYMBOLIZE_TIMED_OUT : WD_SYMBOLIZE_DONE;
  cap->symbolize_ns = cw__symbolizer_now_ns() - t0;
  return cap->symbolized_frames;
}
