/*
 * wd_capture.h — what the watchdog copies out of a crashed process, and the
 * layers that work on it (normal context, watchdog process).
 *
 * The layers are separate so each can be tested alone:
 *   cw__wd_capture_process()  reads a live, crashed process (ptrace, /proc);
 *   cw__wd_unwind_all()       unwinds every thread from the captured data only;
 *   cw__wd_symbolize_all()    names the frames from the modules' debug info;
 *   cw__wd_minidump_write()   serialises a capture into a minidump;
 *   cw__wd_event_json()       serialises it into a Sentry event;
 *   cw__wd_summary_write()    prints the crashing thread's stack.
 * The capture owns every buffer it points to; cw__wd_capture_free() releases
 * them, the symbolizer and its strings, and closes the module files.
 *
 * Private to watchdog/ (and its tests); other folders call capture.h.
 */
#ifndef CW_WD_CAPTURE_H
#define CW_WD_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "json.h"
#include "crash_record.h"
#include "wd_arch.h"

/* How a frame's registers were found, best first. */
enum {
  WD_TRUST_CONTEXT = 0, /* the thread's own registers */
  WD_TRUST_CFI = 1,     /* DWARF call frame information */
  WD_TRUST_FP = 2,      /* frame-pointer chain */
};

typedef struct {
  uint64_t ip; /* return address (or the PC for frame 0) */
  uint64_t sp;
  int trust;
  /* Source frames from the debug info (cw__wd_symbolize_all): nsrc entries of
   * wd_capture_t.srcs from index src, the innermost inlined function first
   * and the real (out-of-line) function last. nsrc 0: not symbolized, the
   * ELF symbol tables name the frame (cw__wd_symbolize). */
  uint32_t src;
  uint32_t nsrc;
} wd_frame_t;

/* One source-level frame. The strings belong to the capture's symbolizer
 * (wd_capture_t.symbolizer) and live until cw__wd_capture_free(). */
typedef struct {
  const char *function; /* NULL when the debug info does not name it */
  const char *file;     /* NULL when unknown */
  uint32_t line;        /* 0 when unknown */
  uint32_t column;      /* 0 when unknown */
} wd_src_t;

/* What cw__wd_symbolize_all() did (wd_capture_t.symbolize_state). */
enum {
  WD_SYMBOLIZE_NOT_RUN = 0,   /* not (yet) run: symbol-table names only */
  WD_SYMBOLIZE_DONE = 1,      /* every module needed was read in time */
  WD_SYMBOLIZE_TIMED_OUT = 2, /* the budget ran out before some module */
  WD_SYMBOLIZE_DISABLED = 3,  /* budget 0: not attempted */
};

typedef struct {
  pid_t tid;
  char name[17]; /* /proc/PID/task/TID/comm, without the newline */
  int regs_ok;   /* 0 if the thread could not be stopped or read */
  wd_regs_t regs;
  int stack_region; /* index into wd_capture_t.regions, or -1 */
  wd_frame_t *frames;
  size_t nframes;
  int unwind_complete; /* CFI marked the outermost frame: nothing lost */
  int stack_budget;    /* WD_STACK_*: what the total stack budget did */
} wd_thread_t;

/* What the total stack budget (wd_capture_opts_t.total_stack_cap) did to a
 * thread's stack copy (wd_thread_t.stack_budget). The crashing thread's
 * stack is taken first, so the budget never reaches it. */
enum {
  WD_STACK_KEPT = 0,      /* as much as the per-thread cap allows */
  WD_STACK_OMITTED = 1,   /* none: the budget was spent (the minidump's
                             stack descriptor is empty) */
  WD_STACK_SHORTENED = 2, /* cut to what was left of the budget */
};

/* A copied range of the process's memory. */
typedef struct {
  uint64_t start;
  size_t len;
  uint8_t *data;
} wd_region_t;

typedef struct cw__elf cw__elf_t; /* lazily loaded ELF facts (wd_elf.h) */

typedef struct {
  uint64_t base; /* lowest mapping of the file */
  uint64_t size; /* up to the end of its last mapping */
  uint64_t offset_at_base;
  char *path;        /* as /proc/PID/maps names it, " (deleted)" stripped */
  int fd;            /* the file, opened while the process lived; -1 if not */
  uint8_t *image;    /* a file-less module's bytes (the vDSO), or NULL */
  size_t image_size; /* (unwinding, naming; in the minidump memory list) */
  uint8_t build_id[64];
  size_t build_id_len; /* 0 if none was found */
  cw__elf_t *elf;      /* loaded on demand by cw__wd_module_elf() */
  int elf_cached;      /* elf is the module cache's (module_cache.c) */
} wd_module_t;

/* One of the MD_LINUX_* text/binary streams, copied verbatim. */
typedef struct {
  uint32_t stream_type;
  uint8_t *data;
  size_t len;
} wd_blob_t;

typedef struct {
  uint64_t addr; /* l_addr */
  uint64_t ld;   /* l_ld */
  char *name;    /* l_name */
} wd_dso_t;

typedef struct {
  int present;
  uint32_t version;
  uint64_t map_addr;
  uint64_t brk;
  uint64_t ldbase;
  uint64_t dynamic; /* the main executable's _DYNAMIC */
  wd_dso_t *dsos;
  size_t ndsos;
  uint8_t *dynamic_data; /* the _DYNAMIC array, as Breakpad appends it */
  size_t dynamic_len;
} wd_dso_debug_t;

/* Facts about the machine, gathered by the watchdog (same host). */
typedef struct {
  int ncpus;
  uint32_t cpu_vendor[3];
  uint32_t cpu_version;  /* CPUID(1).EAX */
  uint32_t cpu_features; /* CPUID(1).EDX */
  uint32_t cpu_amd_ext;  /* CPUID(0x80000001).EDX when AMD */
  uint16_t cpu_level, cpu_revision;
  char sysname[65], nodename[65], release[65], version[65], machine[65];
  uint64_t mem_total;   /* bytes, from /proc/meminfo; 0 if unknown */
  char os_name[64];     /* os-release NAME, or "" */
  char os_id[64];       /* os-release ID */
  char os_version[64];  /* os-release VERSION_ID */
  char os_pretty[128];  /* os-release PRETTY_NAME */
  char os_codename[64]; /* os-release VERSION_CODENAME */
} wd_sysinfo_t;

#define WD_MAX_BLOBS 8

typedef struct {
  pid_t pid;
  int signo, si_code, si_errno;
  pid_t sender_pid;
  uint64_t fault_addr;
  pid_t crashed_tid;
  uint64_t time_realtime_ns;
  uint64_t process_start_time; /* seconds since the epoch, 0 if unknown */
  uint64_t start_ticks; /* /proc/PID/stat starttime (clock ticks after boot) */

  wd_thread_t *threads;
  size_t nthreads;
  size_t crashed_index; /* index of the crashing thread in threads */

  wd_region_t *regions;
  size_t nregions;

  wd_module_t *modules;
  size_t nmodules;

  wd_blob_t blobs[WD_MAX_BLOBS];
  size_t nblobs;

  wd_dso_debug_t dso_debug;
  wd_sysinfo_t sys;

  /* Symbolization (symbolize.c), after the release. */
  wd_src_t *srcs; /* the frames' source frames (wd_frame_t.src) */
  size_t nsrcs;
  void *symbolizer; /* cw__symbolizer_t owning the strings of srcs, or NULL */
  int symbolize_state;   /* WD_SYMBOLIZE_* */
  uint64_t symbolize_ns; /* how long it took */
  uint64_t symbolize_budget_ms;
  size_t symbolized_frames; /* frames with a function or line from DWARF */
  size_t unwound_frames;    /* all frames of all threads */

  size_t stack_budget; /* total_stack_cap in force (bytes) */

  /* Crashpad-style simple annotations for the minidump's Crashpad info
   * stream (the scope's release and tags, issue 10): nannotations
   * key/value pairs, borrowed (the caller keeps them alive while the
   * minidump is written; cw__wd_capture_free does not free them). The
   * report id is event_id (32 hex digits), when set. */
  const char *const *annotation_keys;
  const char *const *annotation_values;
  size_t nannotations;
  const char *report_id_hex;

  /* A dump of the live process (cw_capture_dump): its message (borrowed),
   * or NULL for a crash. The event then has no exception: a "message",
   * level error, and every thread's stack, the requesting one "current";
   * cw__wd_handle_dump sets signo to WD_DUMP_REQUESTED. */
  const char *live_message;
  uint64_t dropped_events; /* the app's drops since its last request */

  char *exe_path; /* /proc/PID/exe target, or NULL */
  /* From the first thread seized to the copy's end: how long the copy
   * held the process stopped (with WD_DETACH_HELD, it stays stopped until
   * cw__wd_capture_detach). */
  uint64_t pause_ns;
  char notes[256]; /* what could not be captured, for the report */
  /* The threads still stopped (WD_DETACH_HELD), for cw__wd_capture_detach;
   * private to ptrace_capture.c. */
  struct wd_seized *held;
  size_t nheld;
} wd_capture_t;

/* The minidump exception code of a requested dump (Breakpad's
 * MD_EXCEPTION_CODE_LIN_DUMP_REQUESTED, 0xFFFFFFFF), as a signo. */
#define WD_DUMP_REQUESTED (-1)

/* When a capture lets the threads it stopped go on. */
typedef enum {
  /* Once everything is copied, the module list, /proc files and link map
   * included (the default). */
  WD_DETACH_AFTER_COPY = 0,
  /* A live dump (cw_capture_dump): as soon as their registers, stacks and
   * the code at the current thread's PC are copied; the module list,
   * /proc files and link map are read after, from the running process. */
  WD_DETACH_EARLY,
  /* A crash in durable-first mode: not at all; cw__wd_capture_detach lets
   * them go (called when the report is committed, before the app is
   * released), so that letting 64 threads go is not on the way to the
   * commit. The app is dying and its crashing thread is held until then
   * anyway; Breakpad's and Crashpad's handlers hold every thread while
   * they write the dump, too. */
  WD_DETACH_HELD,
} wd_detach_t;

typedef struct {
  int force_procmem;      /* read memory through /proc/PID/mem only */
  int include_environ;    /* capture /proc/PID/environ */
  size_t stack_cap;       /* per non-crashing thread (bytes) */
  size_t crash_stack_cap; /* for the crashing thread */
  size_t total_stack_cap; /* for all stacks together */
  wd_detach_t detach;
} wd_capture_opts_t;

void cw__wd_capture_opts_default(wd_capture_opts_t *o);

/* Lets the threads a capture with WD_DETACH_HELD kept stopped go on (the
 * signals they stopped with are given back). Nothing to do otherwise, or
 * a second time; cw__wd_capture_free calls it too. */
void cw__wd_capture_detach(wd_capture_t *cap);

/* ---- memread.c ---- */

/* Copies len bytes at addr of pid into buf. Tries process_vm_readv, then
 * /proc/PID/mem when that is denied or unavailable (or always, with
 * force_procmem). Returns the number of bytes read from the start of the
 * range (short when the range crosses an unreadable page), or a negative
 * CW_E* code when nothing could be read. */
ssize_t cw__wd_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len,
                        int force_procmem);

/* ---- ptrace_capture.c ---- */

/* Seizes and stops every thread of rec->pid, copies out what the report
 * needs, and detaches. rec->context supplies the crashing thread's
 * registers. Threads that cannot be seized (already traced) stay in the
 * capture without registers; if none could be, the function returns
 * CW_EPERM with what it could read. On any failure the capture may be
 * partly filled (nthreads may be 0); free it anyway. */
int cw__wd_capture_process(const cw__crash_record_t *rec,
                           const wd_capture_opts_t *opts, wd_capture_t *cap);

/* The calling thread of an event request alone (attach_stacktrace), while
 * it waits for its ack: its registers from rec->context, its stack from
 * SP up (process_vm_readv, no ptrace stop), the module list. The caller
 * then releases it and calls cw__wd_capture_finish() and unwinds.
 * CW_ECAPTURE when the stack could not be read. */
int cw__wd_capture_caller(const cw__crash_record_t *rec,
                          const wd_capture_opts_t *opts, wd_capture_t *cap);

/* After the capture: opens the module ELF files (build-ids), adds the
 * host facts, /proc/cpuinfo and the release file (prefetched, if
 * cw__wd_host_prefetch was called). */
void cw__wd_capture_finish(wd_capture_t *cap);
/* Starts reading the host facts in a thread of their own, for the next
 * cw__wd_capture_finish (which joins it). Call it before a capture. */
void cw__wd_host_prefetch(void);

/* Reads the host facts now and keeps them for every later capture (a
 * resident watchdog calls it while it waits; the facts are the host's
 * as of then). After it, cw__wd_host_prefetch does nothing. */
void cw__wd_host_warm(void);

/* One line of /proc/PID/maps. */
typedef struct {
  uint64_t start, end, offset, inode;
  char perms[5];
  char dev[16];
  const char *path; /* points into the maps text; "" if anonymous */
  int deleted;      /* " (deleted)" was cut off the path */
} wd_mapping_t;

/* As much of /proc/PID/maps as is read (a capture keeps the first this
 * many bytes; the module cache skips a longer one). */
#define WD_MAPS_MAX (4u << 20)

/* Parses /proc/PID/maps text in place (paths point into it); *out is
 * malloc'd. Returns the number of mappings. */
size_t cw__wd_parse_maps(char *text, wd_mapping_t **out);

/* Opens the file behind mapping m of process pid (read-only): through
 * /proc/PID/map_files, the very file even if deleted or in another mount
 * namespace, else by its path unless it was deleted. -1 if neither. */
int cw__wd_open_mapped(pid_t pid, const wd_mapping_t *m);

/* Opens every file the process pid maps executable and loads its symbol
 * table, kept for the watchdog's life (module_cache.c): a later capture
 * of pid names its frames from them. Returns how many modules the cache
 * holds. A resident watchdog calls it while it waits. */
size_t cw__wd_module_cache_warm(pid_t pid);

/* Reads the host facts into sys (no process needed). */
void cw__wd_sysinfo_read(wd_sysinfo_t *sys);

/* Adds a copy of [start, start+len) to the capture; returns its index or a
 * negative CW_E* code. Used by capture and by tests building captures. */
int cw__wd_capture_add_region(wd_capture_t *cap, uint64_t start,
                              const void *data, size_t len);
/* Adds a copy of a blob stream. */
int cw__wd_capture_add_blob(wd_capture_t *cap, uint32_t type, const void *data,
                            size_t len);

void cw__wd_capture_free(wd_capture_t *cap);

/* The captured bytes at [addr, addr+len), or NULL if not all captured. */
const uint8_t *cw__wd_capture_memory(const wd_capture_t *cap, uint64_t addr,
                                     size_t len);
/* The module containing addr, or NULL. */
const wd_module_t *cw__wd_capture_module_at(const wd_capture_t *cap,
                                            uint64_t addr);

/* ---- unwind.c ---- */

/* Unwinds every thread from the captured registers and memory and the
 * module files (never the live process). Frames go to thread->frames. */
void cw__wd_unwind_all(wd_capture_t *cap);

/* Set on the thread running cw__wd_unwind_all while it runs. libunwind
 * blocks every signal around each step's cache lookup (two sigprocmask()
 * calls a frame), so that a signal handler unwinding on the same thread
 * cannot deadlock on its lock; the watchdog never unwinds in a handler,
 * and those calls were half of the unwinding's time on the VMs measured
 * (a system call costs about 1 us there). The watchdog executable's
 * sigprocmask() (watchdog/main.c) skips them while this is set; other
 * programs linking the capture code keep libc's. */
extern __thread int cw__wd_unwinding;

/* Cuts each completely unwound thread's stack copy a little (slack bytes)
 * above its outermost frame: what lies beyond (the thread descriptor and
 * TLS, or argv/envp/auxv on the main thread) serves no stackwalker and
 * would double a small daemon's minidump. */
void cw__wd_trim_stacks(wd_capture_t *cap, size_t slack);

/* ---- symbolize.c ---- */

/* The budget when CRASHWATCH_SYMBOLIZE_BUDGET_MS is not set. */
#define WD_SYMBOLIZE_BUDGET_MS_DEFAULT 2000

/* The symbolization budget in milliseconds: CRASHWATCH_SYMBOLIZE_BUDGET_MS
 * (0 disables symbolization), else WD_SYMBOLIZE_BUDGET_MS_DEFAULT. A value
 * that is not a number up to 600000 is ignored (the default applies). */
long cw__wd_symbolize_budget_ms(void);

/*
 * Names every unwound frame of every thread (the crashing thread first)
 * from its module's debug information — function, file, line, column and
 * the inlined functions — through symbolizer/ (the module file itself, a
 * separate debug file found by build-id or .gnu_debuglink, a Breakpad
 * store; never debuginfod). Runs after the release, on the capture only.
 *
 * Module files: the file the capture kept open (wd_module_t.fd, opened
 * through /proc/PID/map_files while the process lived) — by its path when
 * that path still names the same file, else as /proc/self/fd/N — and the
 * captured build-id is passed so a file that was replaced is refused.
 *
 * deadline_ns (CLOCK_MONOTONIC, cw__symbolizer_now_ns(); 0 = none): past
 * it no further module is read; modules already indexed keep answering,
 * and frames of the others keep their symbol-table names. Fills
 * wd_frame_t.src/nsrc, cap->srcs, cap->symbolizer and the symbolize_*
 * fields (state DONE or TIMED_OUT). Returns the number of frames named
 * from debug info.
 */
size_t cw__wd_symbolize_all(wd_capture_t *cap, uint64_t deadline_ns);

/* ---- minidump_writer.c ---- */

/* Serialises cap into out (signature left 0; see cw__wd_minidump_write). */
int cw__wd_minidump_build(const wd_capture_t *cap, cw__buf_t *out);
/* Writes the minidump to fd (at offset 0): everything with a zero
 * signature, then the signature, so a torn file never carries the MDMP
 * signature. It does not sync: the caller does (the spool's commit). */
int cw__wd_minidump_write(const wd_capture_t *cap, int fd);

/* ---- event_json.c ---- */

/* Sentry event JSON for the capture; event_id is 32 lowercase hex digits.
 * Frames symbolized from debug info carry function, filename, abs_path,
 * lineno and colno, and "symbol" (the ELF symbol); each inlined function is
 * a frame of its own with the same instruction_addr and
 * "data":{"inlined":true}, listed after the function it was inlined into
 * (oldest first, so the innermost sits closest to the crash). extra holds
 * crashwatch.symbolize ("done", "timed out", "disabled"),
 * crashwatch.symbolize_us, _budget_ms, _timed_out and symbolized_frames /
 * unwound_frames once symbolization ran; and when the total stack budget
 * cut anything, crashwatch.stacks_omitted / stacks_shortened (the thread
 * ids), stacks_omitted_count and stack_budget_bytes. */
int cw__wd_event_json(const wd_capture_t *cap, const char *event_id,
                      const char *release, const char *environment,
                      cw__buf_t *out);
/* The same with the app's scope merged in (wd_scope.h: tags, user,
 * contexts incl. trace, breadcrumbs, fingerprint, level, transaction,
 * dist, server_name, extras, the attachments' fate); scope NULL: none, as
 * cw__wd_event_json. */
struct wd_event_scope;
int cw__wd_event_json_scope(const wd_capture_t *cap, const char *event_id,
                            const char *release, const char *environment,
                            const struct wd_event_scope *scope, cw__buf_t *out);
/* Pieces of the event for other events (event_message.c): contexts.os
 * and contexts.device (each a key and its object), "threads" (every
 * thread; the "current" one with its registers) and "debug_meta". */
void cw__wd_os_context_json(cw__json_t *j, const wd_sysinfo_t *s);
void cw__wd_device_context_json(cw__json_t *j, const wd_sysinfo_t *s);
void cw__wd_threads_json(cw__json_t *j, const wd_capture_t *cap);
void cw__wd_debug_meta_json(cw__json_t *j, const wd_capture_t *cap);

/* Human summary: signal, address, the crashing thread's frames, report
 * (its path; with uploading, its id and that it went to the uploader, which
 * prints the outcome). One line per frame, innermost first:
 *   #N 0xADDR function (file:line:column) [module+0xoffset]
 * with a frame's inlined functions on lines of their own before it (same
 * #N and address, marked "(inlined)"); frames not symbolized from debug
 * info show the symbol-table name and no source position. */
void cw__wd_summary_write(const wd_capture_t *cap, int fd, const char *report,
                          int uploading);

/* Symbol lookup: function name containing addr (NULL if unknown) and the
 * module offset. name is valid while cap lives. In the vDSO, an address no
 * symbol covers takes the nearest preceding function symbol of its
 * executable section (cw__elf_symbol_preceding). */
const char *cw__wd_symbolize(const wd_capture_t *cap, uint64_t addr,
                             const wd_module_t **mod_out, uint64_t *off_out);

/* The name the vDSO module has in captures (and minidumps, events). */
#define WD_VDSO_NAME "linux-vdso.so.1"
/* Whether m is the vDSO (no file, named WD_VDSO_NAME). */
int cw__wd_module_is_vdso(const wd_module_t *m);

/* The name a report gives the frame at addr: cw__wd_symbolize()'s, and for an
 * address in the vDSO that nothing names, "linux-vdso.so.1+0x<addr - the
 * vDSO's base>" written into buf (buflen bytes; 48 is plenty), so that
 * such a frame is never nameless. Returns the borrowed name, buf, or NULL
 * (outside the vDSO, unknown). */
#define WD_FRAME_NAME_BUF 48
const char *cw__wd_symbolize_frame(const wd_capture_t *cap, uint64_t addr,
                                   const wd_module_t **mod_out,
                                   uint64_t *off_out, char *buf, size_t buflen);

/* Signal and si_code names ("SIGSEGV", "SEGV_MAPERR"); never NULL. */
const char *cw__wd_signal_name(int signo);
const char *cw__wd_signal_description(int signo);
const char *cw__wd_si_code_name(int signo, int code);

#endif
