/*
 * event_json.c — the Sentry event for a capture, and the human summary.
 * Normal context, watchdog process; pure serialisation of a wd_capture_t
 * (after cw__wd_unwind_all) — nothing here reads the crashed process.
 *
 * Sentry wants stack frames oldest first, the reverse of unwind order.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "debug_id.h"
#include "json.h"
#include "signals.h"
#include "wd_capture.h"
#include "wd_scope.h"

const char *cw__wd_signal_name(int signo) {
  const char *name = cw__signal_name(signo);
  return name != NULL ? name : "SIGNAL";
}

const char *cw__wd_signal_description(int signo) {
  switch (signo) {
  case SIGSEGV:
    return "Segmentation fault";
  case SIGBUS:
    return "Bus error";
  case SIGILL:
    return "Illegal instruction";
  case SIGFPE:
    return "Floating-point exception";
  case SIGABRT:
    return "Aborted";
  case SIGTRAP:
    return "Trace/breakpoint trap";
  case SIGSYS:
    return "Bad system call";
  default:
    return "Fatal signal";
  }
}

const char *cw__wd_si_code_name(int signo, int code) {
  const char *name = cw__si_code_name(signo, code);
  return name != NULL ? name : "UNKNOWN";
}

static int is_system_path(const char *p) {
  static const char *const dirs[] = {"/lib/", "/lib64/", "/usr/lib/",
                                     "/usr/lib64/", "/usr/libexec/"};
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
    if (strncmp(p, dirs[i], strlen(dirs[i])) == 0)
      return 1;
  return strcmp(p, WD_VDSO_NAME) == 0;
}

/* Address used to look a frame up: a return address points after the
 * call, possibly past the end of a noreturn function. */
static uint64_t lookup_addr(const wd_frame_t *f, size_t index) {
  return index > 0 && f->ip > 0 ? f->ip - 1 : f->ip;
}

static const char *trust_name(int trust) {
  return trust == WD_TRUST_CONTEXT ? "context"
         : trust == WD_TRUST_CFI   ? "cfi"
                                   : "fp";
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* One Sentry frame. src is NULL for a frame named by the symbol table
 * only; otherwise the source frame, and inlined says whether it was
 * inlined into the frame listed before it. */
static void frame_json(cw__json_t *j, const wd_frame_t *f, const wd_module_t *m,
                       const char *symtab_name, const wd_src_t *src,
                       int inlined) {
  cw__json_begin_object(j);
  cw__json_key(j, "instruction_addr");
  cw__json_hex(j, f->ip);
  if (m != NULL) {
    cw__json_key(j, "package");
    cw__json_string(j, m->path);
    cw__json_key(j, "image_addr");
    cw__json_hex(j, m->base);
  }
  const char *fn = src ? src->function : symtab_name;
  if (fn == NULL && src != NULL && !inlined)
    fn = symtab_name;
  if (fn != NULL) {
    cw__json_key(j, "function");
    cw__json_string(j, fn);
  }
  /* The out-of-line function's ELF symbol, as Sentry's symbolicator
   * reports it next to the source-level name. */
  if (src != NULL && !inlined && symtab_name != NULL) {
    cw__json_key(j, "symbol");
    cw__json_string(j, symtab_name);
  }
  /* Sentry's filename is the short name, abs_path the full one; a path
   * the compiler recorded relative (libc's "./csu/...") has no abs_path. */
  if (src != NULL && src->file != NULL) {
    int abs = src->file[0] == '/';
    cw__json_key(j, "filename");
    cw__json_string(j, abs ? base_name(src->file) : src->file);
    if (abs) {
      cw__json_key(j, "abs_path");
      cw__json_string(j, src->file);
    }
  }
  if (src != NULL && src->line > 0) {
    cw__json_key(j, "lineno");
    cw__json_uint(j, src->line);
    if (src->column > 0) {
      cw__json_key(j, "colno");
      cw__json_uint(j, src->column);
    }
  }
  cw__json_key(j, "in_app");
  cw__json_bool(j, m != NULL && !is_system_path(m->path));
  cw__json_key(j, "trust");
  cw__json_string(j, trust_name(f->trust));
  if (inlined) {
    /* Inlined frames repeat the instruction address of the frame they
     * were inlined into, as Sentry's processed native events have them;
     * the flag says so outright. */
    cw__json_key(j, "data");
    cw__json_begin_object(j);
    cw__json_key(j, "inlined");
    cw__json_bool(j, 1);
    cw__json_end_object(j);
  }
  cw__json_end_object(j);
}

/* Which threads' stacks the total stack budget left out of the report (or
 * cut short): their thread ids, so a reader knows an empty stack is the
 * budget's doing, and the budget. Nothing when it cut nothing. */
static void stack_budget_json(cw__json_t *j, const wd_capture_t *cap) {
  size_t n[3] = {0, 0, 0};
  for (size_t i = 0; i < cap->nthreads; i++)
    n[cap->threads[i].stack_budget % 3]++;
  if (n[WD_STACK_OMITTED] == 0 && n[WD_STACK_SHORTENED] == 0)
    return;
  static const struct {
    int kind;
    const char *key;
  } lists[] = {{WD_STACK_OMITTED, "crashwatch.stacks_omitted"},
               {WD_STACK_SHORTENED, "crashwatch.stacks_shortened"}};
  for (size_t l = 0; l < 2; l++) {
    if (n[lists[l].kind] == 0)
      continue;
    cw__json_key(j, lists[l].key);
    cw__json_begin_array(j);
    for (size_t i = 0; i < cap->nthreads; i++)
      if (cap->threads[i].stack_budget == lists[l].kind)
        cw__json_uint(j, (uint64_t)cap->threads[i].tid);
    cw__json_end_array(j);
  }
  cw__json_key(j, "crashwatch.stacks_omitted_count");
  cw__json_uint(j, n[WD_STACK_OMITTED]);
  cw__json_key(j, "crashwatch.stack_budget_bytes");
  cw__json_uint(j, cap->stack_budget);
}

static void frames_json(cw__json_t *j, const wd_capture_t *cap,
                        const wd_thread_t *th) {
  cw__json_key(j, "frames");
  cw__json_begin_array(j);
  /* Oldest first; a frame's inlined functions follow it, outermost to
   * innermost, so the innermost one sits closest to the crash. */
  for (size_t k = th->nframes; k-- > 0;) {
    const wd_frame_t *f = &th->frames[k];
    const wd_module_t *m;
    uint64_t off;
    char nbuf[WD_FRAME_NAME_BUF];
    const char *fn = cw__wd_symbolize_frame(cap, lookup_addr(f, k), &m, &off,
                                            nbuf, sizeof(nbuf));
    if (f->nsrc == 0 || f->src + (size_t)f->nsrc > cap->nsrcs) {
      frame_json(j, f, m, fn, NULL, 0);
      continue;
    }
    for (size_t s = f->nsrc; s-- > 0;)
      frame_json(j, f, m, fn, &cap->srcs[f->src + s], s + 1 < f->nsrc);
  }
  cw__json_end_array(j);
}

static void registers_json(cw__json_t *j, const wd_regs_t *r) {
  const struct {
    const char *name;
    uint64_t v;
  } regs[] = {
      {"rax", r->gp.rax}, {"rbx", r->gp.rbx}, {"rcx", r->gp.rcx},
      {"rdx", r->gp.rdx}, {"rsi", r->gp.rsi}, {"rdi", r->gp.rdi},
      {"rbp", r->gp.rbp}, {"rsp", r->gp.rsp}, {"r8", r->gp.r8},
      {"r9", r->gp.r9},   {"r10", r->gp.r10}, {"r11", r->gp.r11},
      {"r12", r->gp.r12}, {"r13", r->gp.r13}, {"r14", r->gp.r14},
      {"r15", r->gp.r15}, {"rip", r->gp.rip},
  };
  cw__json_key(j, "registers");
  cw__json_begin_object(j);
  for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
    cw__json_key(j, regs[i].name);
    cw__json_hex(j, regs[i].v);
  }
  cw__json_end_object(j);
}

static void stacktrace_json(cw__json_t *j, const wd_capture_t *cap,
                            const wd_thread_t *th, int with_regs) {
  cw__json_begin_object(j);
  frames_json(j, cap, th);
  if (with_regs)
    registers_json(j, &th->regs);
  cw__json_end_object(j);
}

/* event_id, timestamp, platform, level and sdk. */
static void header_json(cw__json_t *j, const wd_capture_t *cap,
                        const char *event_id, const wd_event_scope_t *es) {
  cw__json_key(j, "event_id");
  cw__json_string(j, event_id);
  char ts[40];
  uint64_t ns = cap->time_realtime_ns;
  if (ns == 0) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
  }
  cw__wd_timestamp(ns, ts);
  cw__json_key(j, "timestamp");
  cw__json_string(j, ts);
  cw__json_key(j, "platform");
  cw__json_string(j, "native");
  /* A crash is fatal unless the app set the scope's level; a dump of the
   * live process is an error. */
  cw__json_key(j, "level");
  cw__json_string(
      j, cap->live_message != NULL
             ? "error"
             : cw__wd_level_name(es->scope != NULL ? es->scope->level : -1));
  cw__json_key(j, "sdk");
  cw__json_begin_object(j);
  cw__json_key(j, "name");
  cw__json_string(j, "crashwatch");
  cw__json_key(j, "version");
  cw__json_string(j, CW_VERSION_STRING);
  cw__json_end_object(j);
}

/*
 * The top-level members that describe the app rather than the crash:
 * today server_name (the host), release and environment (the options).
 * This is the seam for the app's scope (issue 10): its top-level members
 * (tags, user, fingerprint, transaction, dist, breadcrumbs...) are written
 * here; its extras go in extra_json() and its contexts in contexts_json(),
 * beside what the capture itself writes there.
 */
static void scope_members_json(cw__json_t *j, const wd_capture_t *cap,
                               const char *release, const char *environment,
                               const wd_event_scope_t *es) {
  const char *server =
      es->scope != NULL ? es->scope->server_name : NULL; /* the option */
  if (server == NULL && cap->sys.nodename[0])
    server = cap->sys.nodename;
  if (server != NULL) {
    cw__json_key(j, "server_name");
    cw__json_string(j, server);
  }
  if (release != NULL) {
    cw__json_key(j, "release");
    cw__json_string(j, release);
  }
  if (environment != NULL) {
    cw__json_key(j, "environment");
    cw__json_string(j, environment);
  }
  cw__wd_event_scope_members(j, es);
}

/* The exception's mechanism: a signal, its code, who sent it. */
static void mechanism_json(cw__json_t *j, const wd_capture_t *cap) {
  cw__json_key(j, "mechanism");
  cw__json_begin_object(j);
  cw__json_key(j, "type");
  cw__json_string(j, "signalhandler");
  cw__json_key(j, "handled");
  cw__json_bool(j, 0);
  cw__json_key(j, "synthetic");
  cw__json_bool(j, 1);
  cw__json_key(j, "meta");
  cw__json_begin_object(j);
  cw__json_key(j, "signal");
  cw__json_begin_object(j);
  cw__json_key(j, "number");
  cw__json_int(j, cap->signo);
  cw__json_key(j, "code");
  cw__json_int(j, cap->si_code);
  cw__json_key(j, "name");
  cw__json_string(j, cw__wd_signal_name(cap->signo));
  cw__json_key(j, "code_name");
  cw__json_string(j, cw__wd_si_code_name(cap->signo, cap->si_code));
  cw__json_end_object(j);
  cw__json_end_object(j);
  cw__json_key(j, "data");
  cw__json_begin_object(j);
  cw__json_key(j, "fault_address");
  cw__json_hex(j, cap->fault_addr);
  if (cap->sender_pid > 0) {
    cw__json_key(j, "sender_pid");
    cw__json_int(j, cap->sender_pid);
  }
  cw__json_end_object(j);
  cw__json_end_object(j);
}

/* exception.values[0]: the signal, and the crashed thread's stack with its
 * registers. */
static void exception_json(cw__json_t *j, const wd_capture_t *cap) {
  cw__json_key(j, "exception");
  cw__json_begin_object(j);
  cw__json_key(j, "values");
  cw__json_begin_array(j);
  cw__json_begin_object(j);
  cw__json_key(j, "type");
  cw__json_string(j, cw__wd_signal_name(cap->signo));
  char value[160];
  snprintf(value, sizeof(value), "%s (%s) at 0x%llx",
           cw__wd_signal_description(cap->signo),
           cw__wd_si_code_name(cap->signo, cap->si_code),
           (unsigned long long)cap->fault_addr);
  cw__json_key(j, "value");
  cw__json_string(j, value);
  cw__json_key(j, "thread_id");
  cw__json_int(j, cap->crashed_tid);
  mechanism_json(j, cap);
  if (cap->nthreads > 0) {
    cw__json_key(j, "stacktrace");
    stacktrace_json(j, cap, &cap->threads[cap->crashed_index], 1);
  }
  cw__json_end_object(j);
  cw__json_end_array(j);
  cw__json_end_object(j);
}

/* threads.values: every thread; the crashed one without a stack (the
 * exception carries it). */
void cw__wd_threads_json(cw__json_t *j, const wd_capture_t *cap) {
  cw__json_key(j, "threads");
  cw__json_begin_object(j);
  cw__json_key(j, "values");
  cw__json_begin_array(j);
  for (size_t i = 0; i < cap->nthreads; i++) {
    const wd_thread_t *th = &cap->threads[i];
    int is_current = i == cap->crashed_index;
    int is_crashed = is_current && cap->live_message == NULL;
    cw__json_begin_object(j);
    cw__json_key(j, "id");
    cw__json_int(j, th->tid);
    if (th->name[0]) {
      cw__json_key(j, "name");
      cw__json_string(j, th->name);
    }
    cw__json_key(j, "crashed");
    cw__json_bool(j, is_crashed);
    cw__json_key(j, "current");
    cw__json_bool(j, is_current);
    if (!is_crashed) {
      cw__json_key(j, "stacktrace");
      stacktrace_json(j, cap, th, is_current);
    }
    cw__json_end_object(j);
  }
  cw__json_end_array(j);
  cw__json_end_object(j);
}

/* debug_meta.images: one ELF image per module, with its build-id as
 * code_id and the Breakpad/Sentry debug_id derived from it. */
void cw__wd_debug_meta_json(cw__json_t *j, const wd_capture_t *cap) {
  cw__json_key(j, "debug_meta");
  cw__json_begin_object(j);
  cw__json_key(j, "images");
  cw__json_begin_array(j);
  for (size_t i = 0; i < cap->nmodules; i++) {
    const wd_module_t *m = &cap->modules[i];
    cw__json_begin_object(j);
    cw__json_key(j, "type");
    cw__json_string(j, "elf");
    if (m->build_id_len > 0) {
      char hex[2 * sizeof(m->build_id) + 1];
      cw__hex_encode(m->build_id, m->build_id_len, hex);
      cw__json_key(j, "code_id");
      cw__json_string(j, hex);
      char did[37];
      cw__debug_id_from_build_id(m->build_id, m->build_id_len, did);
      cw__json_key(j, "debug_id");
      cw__json_string(j, did);
    }
    cw__json_key(j, "image_addr");
    cw__json_hex(j, m->base);
    cw__json_key(j, "image_size");
    cw__json_uint(j, m->size);
    cw__json_key(j, "code_file");
    cw__json_string(j, m->path);
    cw__json_end_object(j);
  }
  cw__json_end_array(j);
  cw__json_end_object(j);
}

/* Symbolization after the release (absent from the report committed
 * before it ran). */
static void symbolize_extra_json(cw__json_t *j, const wd_capture_t *cap) {
  if (cap->symbolize_state == WD_SYMBOLIZE_NOT_RUN)
    return;
  static const char *const states[] = {"not run", "done", "timed out",
                                       "disabled"};
  cw__json_key(j, "crashwatch.symbolize");
  cw__json_string(j, states[cap->symbolize_state & 3]);
  cw__json_key(j, "crashwatch.symbolize_budget_ms");
  cw__json_uint(j, cap->symbolize_budget_ms);
  cw__json_key(j, "crashwatch.symbolize_timed_out");
  cw__json_bool(j, cap->symbolize_state == WD_SYMBOLIZE_TIMED_OUT);
  if (cap->symbolize_state != WD_SYMBOLIZE_DISABLED) {
    cw__json_key(j, "crashwatch.symbolize_us");
    cw__json_uint(j, cap->symbolize_ns / 1000);
    cw__json_key(j, "crashwatch.symbolized_frames");
    cw__json_uint(j, cap->symbolized_frames);
    cw__json_key(j, "crashwatch.unwound_frames");
    cw__json_uint(j, cap->unwound_frames);
  }
}

/* extra: what the capture itself saw (how long the app was held, what
 * could not be read, what the stack budget left out, how symbolization
 * went), under crashwatch.* keys. */
static void extra_json(cw__json_t *j, const wd_capture_t *cap,
                       const wd_event_scope_t *es) {
  cw__json_key(j, "extra");
  cw__json_begin_object(j);
  cw__wd_event_scope_extra(j, es); /* the app's, and the attachments */
  if (cap->dropped_events > 0) {
    cw__json_key(j, "crashwatch.dropped_events");
    cw__json_uint(j, cap->dropped_events);
  }
  cw__json_key(j, "crashwatch.capture_pause_us");
  cw__json_uint(j, cap->pause_ns / 1000);
  if (cap->notes[0]) {
    cw__json_key(j, "crashwatch.capture_notes");
    cw__json_string(j, cap->notes);
  }
  stack_budget_json(j, cap);
  symbolize_extra_json(j, cap);
  cw__json_end_object(j);
}

/* contexts.os: uname(2) and /etc/os-release. */
void cw__wd_os_context_json(cw__json_t *j, const wd_sysinfo_t *s) {
  cw__json_key(j, "os");
  cw__json_begin_object(j);
  cw__json_key(j, "type");
  cw__json_string(j, "os");
  cw__json_key(j, "name");
  cw__json_string(j, s->sysname[0] ? s->sysname : "Linux");
  if (s->release[0]) {
    char ver[65];
    size_t n = strspn(s->release, "0123456789.");
    snprintf(ver, sizeof(ver), "%.*s", (int)n, s->release);
    cw__json_key(j, "version");
    cw__json_string(j, ver);
    cw__json_key(j, "kernel_version");
    cw__json_string(j, s->release);
    cw__json_key(j, "build");
    cw__json_string(j, s->version);
  }
  /* Sentry's flat distribution fields, from /etc/os-release. */
  if (s->os_id[0] || s->os_name[0]) {
    cw__json_key(j, "distribution_name");
    cw__json_string(j, s->os_id[0] ? s->os_id : s->os_name);
  }
  if (s->os_version[0]) {
    cw__json_key(j, "distribution_version");
    cw__json_string(j, s->os_version);
  }
  if (s->os_pretty[0]) {
    cw__json_key(j, "distribution_pretty_name");
    cw__json_string(j, s->os_pretty);
  }
  cw__json_end_object(j);
}

/* contexts.device: architecture, CPUs, memory. */
void cw__wd_device_context_json(cw__json_t *j, const wd_sysinfo_t *s) {
  cw__json_key(j, "device");
  cw__json_begin_object(j);
  cw__json_key(j, "type");
  cw__json_string(j, "device");
  cw__json_key(j, "arch");
  cw__json_string(j, s->machine[0] ? s->machine : "x86_64");
  cw__json_key(j, "processor_count");
  cw__json_int(j, s->ncpus);
  if (s->mem_total) {
    cw__json_key(j, "memory_size");
    cw__json_uint(j, s->mem_total);
  }
  cw__json_end_object(j);
}

/* contexts: the trace and the app's (event_scope.c), then os and device,
 * unless the app set a context of that name itself. */
static void contexts_json(cw__json_t *j, const wd_capture_t *cap,
                          const wd_event_scope_t *es) {
  cw__json_key(j, "contexts");
  cw__json_begin_object(j);
  cw__wd_event_scope_contexts(j, es);
  if (!cw__wd_event_scope_has_context(es, "os"))
    cw__wd_os_context_json(j, &cap->sys);
  if (!cw__wd_event_scope_has_context(es, "device"))
    cw__wd_device_context_json(j, &cap->sys);
  cw__json_end_object(j);
}

int cw__wd_event_json(const wd_capture_t *cap, const char *event_id,
                      const char *release, const char *environment,
                      cw__buf_t *out) {
  return cw__wd_event_json_scope(cap, event_id, release, environment, NULL,
                                 out);
}

int cw__wd_event_json_scope(const wd_capture_t *cap, const char *event_id,
                            const char *release, const char *environment,
                            const wd_event_scope_t *scope, cw__buf_t *out) {
  static const wd_event_scope_t none;
  const wd_event_scope_t *es = scope != NULL ? scope : &none;
  cw__json_t j;
  cw__json_init(&j, out, 0);
  cw__json_begin_object(&j);
  header_json(&j, cap, event_id, es);
  scope_members_json(&j, cap, release, environment, es);
  if (cap->live_message != NULL) {
    cw__json_key(&j, "message");
    cw__json_begin_object(&j);
    cw__json_key(&j, "formatted");
    cw__json_string(&j, cap->live_message);
    cw__json_end_object(&j);
  } else {
    exception_json(&j, cap);
  }
  cw__wd_threads_json(&j, cap);
  cw__wd_debug_meta_json(&j, cap);
  extra_json(&j, cap, es);
  contexts_json(&j, cap, es);
  cw__json_end_object(&j);
  cw__buf_append_str(out, "\n");
  return out->oom ? CW_ENOMEM : 0;
}

void cw__wd_summary_write(const wd_capture_t *cap, int fd, const char *report,
                          int uploading) {
  if (fd < 0)
    return;
  cw__buf_t b = CW_BUF_INIT;
  cw__buf_printf(
      &b, "crashwatch: pid %d thread %d crashed: %s (%s, %s) at 0x%llx\n",
      (int)cap->pid, (int)cap->crashed_tid, cw__wd_signal_name(cap->signo),
      cw__wd_signal_description(cap->signo),
      cw__wd_si_code_name(cap->signo, cap->si_code),
      (unsigned long long)cap->fault_addr);
  if (cap->nthreads > 0) {
    const wd_thread_t *th = &cap->threads[cap->crashed_index];
    for (size_t k = 0; k < th->nframes; k++) {
      const wd_frame_t *f = &th->frames[k];
      const wd_module_t *m;
      uint64_t off = 0;
      char nbuf[WD_FRAME_NAME_BUF];
      const char *fn = cw__wd_symbolize_frame(cap, lookup_addr(f, k), &m, &off,
                                              nbuf, sizeof(nbuf));
      if (m != NULL)
        off = f->ip - m->base;
      char where[320];
      if (m != NULL)
        snprintf(where, sizeof(where), "[%s+0x%llx]", base_name(m->path),
                 (unsigned long long)off);
      else
        snprintf(where, sizeof(where), "[?]");
      int has_src = f->nsrc > 0 && f->src + (size_t)f->nsrc <= cap->nsrcs;
      if (!has_src) {
        cw__buf_printf(&b, "  #%zu 0x%016llx %s %s\n", k,
                       (unsigned long long)f->ip, fn ? fn : "??", where);
        continue;
      }
      /* Innermost first, like the frames: inlined functions, then the
       * function they were inlined into, all at the same address. */
      for (size_t s = 0; s < f->nsrc; s++) {
        const wd_src_t *src = &cap->srcs[f->src + s];
        int inlined = s + 1 < f->nsrc;
        const char *name = src->function;
        if (name == NULL && !inlined)
          name = fn;
        cw__buf_printf(&b, "  #%zu 0x%016llx %s", k, (unsigned long long)f->ip,
                       name ? name : "??");
        if (src->file != NULL && src->line > 0 && src->column > 0)
          cw__buf_printf(&b, " (%s:%u:%u)", src->file, (unsigned)src->line,
                         (unsigned)src->column);
        else if (src->file != NULL && src->line > 0)
          cw__buf_printf(&b, " (%s:%u)", src->file, (unsigned)src->line);
        else if (src->file != NULL)
          cw__buf_printf(&b, " (%s)", src->file);
        cw__buf_printf(&b, " %s%s\n", where, inlined ? " (inlined)" : "");
      }
    }
  }
  const char *slash = report != NULL ? strrchr(report, '/') : NULL;
  if (report != NULL && uploading && slash != NULL)
    cw__buf_printf(&b, "crashwatch: report %s written to %.*s, uploading it\n",
                   slash + 1, (int)(slash - report), report);
  else if (report != NULL)
    cw__buf_printf(&b, "crashwatch: report written to %s\n", report);
  const uint8_t *p = b.data;
  size_t n = b.len;
  while (!b.oom && n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0)
      break;
    p += w;
    n -= (size_t)w;
  }
  cw__buf_free(&b);
}
