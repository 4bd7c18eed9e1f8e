/*
 * main.c — crashwatch-watchdog: the server loop of the watchdog process.
 * Normal context (a separate process the crash cannot corrupt).
 *
 * Started by libcrashwatch at cw_init() with the watchdog's end of the crash
 * socket (AF_UNIX SOCK_SEQPACKET) and the app's settings on the command
 * line. Idle, it blocks in recv() and touches nothing else, so its resident
 * set stays small. For each valid crash record it calls cw__wd_handle_crash(),
 * which captures the app and releases it through release_ack(); whatever
 * happens the app gets exactly one ack, so it never waits for the timeout
 * because capture failed. It exits when the app's end of the socket closes
 * (the app exited or called cw_shutdown()).
 *
 * Usage: crashwatch-watchdog --fd N --pid PID --spool DIR [--summary-fd FD]
 *        [--include-environ] [--no-summary] [--release-early]
 *        [--release R] [--environment E] [--program NAME] [--dsn DSN]
 *        [--upload-pending]
 *        [--upload-at-exit]
 *        [--spool-limits REPORTS,BYTES,AGE_S,FAILED] [--scope-fd N]
 *        crashwatch-watchdog --upload --spool DIR [--lock-fd N]
 * The second form is the upload mode (upload_auto.h), which the watchdog
 * and its idle stage start detached.
 * After each report it commits, the watchdog applies the spool's limits
 * (cw__spool_prune: oldest first, never the report just written, never a
 * locked one), so the spool stays bounded with no server at all; without
 * --spool-limits they are the defaults with CRASHWATCH_SPOOL_MAX_* on top.
 * The library passes the DSN as $CRASHWATCH_WATCHDOG_DSN rather than
 * --dsn, so it does not show in ps. The embedded watchdog is exec()d by its
 * idle stage (handler/wd_idle.c) when the first crash record is pending,
 * with the same command line plus `--image-fd N` (this executable's fd,
 * close-on-exec by then; accepted and ignored here).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "crash_record.h"
#include "event_request.h"
#include "signals.h"
#include "spool.h"
#include "crashwatch.h"
#include "upload_auto.h"
#include "upload_spawn.h"
#include "wd_capture.h"
#include "workers.h"

typedef struct {
  int fd;
  int sent;
} ack_state_t;

static int log_fd = STDERR_FILENO;

/* One line to the app's stderr, written with a single write() so it is not
 * interleaved with the app's own output. */
static void log_line(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
  char line[PATH_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n > sizeof(line) - 2)
    n = (int)sizeof(line) - 2;
  line[n++] = '\n';
  ssize_t w = write(log_fd, line, (size_t)n);
  (void)w;
}

static void send_ack(ack_state_t *st, int status) {
  if (st->sent)
    return;
  st->sent = 1;
  cw__crash_ack_t ack = {.magic = CW_CRASH_ACK_MAGIC, .status = status};
  ssize_t n;
  do
    n = send(st->fd, &ack, sizeof(ack), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
}

static void release_ack(void *ctx, int status) { send_ack(ctx, status); }

static int parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

/* "REPORTS,BYTES,AGE_S,FAILED" as cw__spawn_watchdog writes it. */
static int parse_limits(const char *s, spool_limits_t *l) {
  long long v[4];
  char *end;
  for (int i = 0; i < 4; i++) {
    errno = 0;
    v[i] = strtoll(s, &end, 10);
    if (errno != 0 || end == s || v[i] < (i == 3 ? -1 : 0) ||
        *end != (i == 3 ? '\0' : ','))
      return -1;
    s = end + 1;
  }
  l->max_reports = (long)v[0];
  l->max_bytes = v[1];
  l->max_age_ms = (int64_t)v[2] * 1000;
  l->failed_max = (long)v[3];
  return 0;
}

static void prune_log(void *ctx, const char *line) {
  (void)ctx;
  log_line("crashwatch: %s", line);
}

/* Keeps the spool within its limits now that the report at path is
 * committed (and unlocked); that report itself is never pruned. */
static void prune_spool(const wd_config_t *cfg, const spool_limits_t *lim,
                        const char *path) {
  const char *slash = strrchr(path, '/');
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  spool_prune_stats_t st;
  cw__spool_prune(cfg->spool_dir, lim, slash ? slash + 1 : path,
                  (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, prune_log,
                  NULL, &st);
}

/* The largest scope mapping taken (the app's is about 2 MiB at most). */
#define SCOPE_MAP_MAX (64u << 20)

/* Maps the app's scope memfd read-only into cfg (--scope-fd) and closes
 * the fd, so no child of the watchdog inherits it. A file that is not a
 * plausible scope is left out: the reader checks the contents. The memfd
 * is sealed against shrinking (handler/scope_map.c), so reading it never
 * faults. */
static void map_scope(wd_config_t *cfg, long fd) {
  if (fd < 0)
    return;
  struct stat st;
  if (fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      (unsigned long long)st.st_size <= SCOPE_MAP_MAX) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, (int)fd, 0);
    if (p != MAP_FAILED) {
      cfg->scope_map = p;
      cfg->scope_len = (size_t)st.st_size;
    }
  }
  close((int)fd);
}

/* ---- warming up while the app runs ----
 *
 * A resident watchdog that has waited WARM_AFTER_MS without a request
 * does, once, the work every crash would otherwise start with: it reads
 * the host facts, starts the spool's sync threads, and touches the app's
 * scope mapping and the heap and stack a capture uses, so the first crash does
 * not pay for fresh pages (on virtual machines, a page the guest touches for
 * the first time can cost over 10 us). What it keeps: 1 MiB of heap and
 * 16 KiB more per thread the app has then (a capture copies up to that of
 * each stack), at most 4 MiB; the threads' stacks, a few KiB of host facts,
 * and the scope memfd's pages allocated (the size of the mapping).
 * docs/capture.md. */
#define WARM_AFTER_MS 100
#define WARM_HEAP_BASE (1u << 20)
#define WARM_HEAP_PER_THREAD (16u * 1024)
#define WARM_HEAP_MAX (4u << 20)
#define WARM_STACK_BYTES (128u * 1024)

__attribute__((noinline)) static void warm_stack(void) {
  volatile char pages[WARM_STACK_BYTES];
  for (size_t i = 0; i < sizeof(pages); i += 4096)
    pages[i] = 0;
}

/* The threads of process pid now, or 0. */
static size_t count_threads(long pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/task", pid);
  DIR *d = opendir(path);
  if (d == NULL)
    return 0;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static void warm_up(const wd_config_t *cfg, long app_pid) {
  cw__wd_host_warm();
  /* The app's scope: the pages it never wrote are holes in the memfd, and
   * the crash's first read of each would allocate it. MADV_POPULATE_READ
   * is Linux 5.14; before that, one read per page does the same. */
  if (cfg->scope_map != NULL && madvise((void *)cfg->scope_map, cfg->scope_len,
                                        MADV_POPULATE_READ) != 0) {
    const volatile char *m = cfg->scope_map;
    for (size_t i = 0; i < cfg->scope_len; i += 4096)
      (void)m[i];
  }
  /* One malloc arena for all threads: what the workers' jobs allocate
   * (the capture's table of thread names) then comes from the heap warmed
   * below, not from a new arena's fresh pages (about 12 us each here; a
   * 340 KiB minidump buffer built on a worker, tried, took ~80 of them). */
  mallopt(M_ARENA_MAX, 1);
  cw__workers_start(3);
  /* The app's modules, with their symbol tables loaded: the crash names
   * its frames from them instead of reading the tables then. */
  cw__wd_module_cache_warm((pid_t)app_pid);
  /* The heap's top is kept (not given back below twice the reserve), and
   * allocations below twice the reserve come from it, not from fresh
   * mmaps. */
  size_t heap = WARM_HEAP_BASE + WARM_HEAP_PER_THREAD * count_threads(app_pid);
  if (heap > WARM_HEAP_MAX)
    heap = WARM_HEAP_MAX;
  mallopt(M_TRIM_THRESHOLD, (int)(2 * heap));
  mallopt(M_MMAP_THRESHOLD, (int)(2 * heap));
  volatile char *p = malloc(heap);
  if (p != NULL) {
    for (size_t i = 0; i < heap; i += 4096)
      p[i] = 0;
    free((void *)p);
  }
  warm_stack();
}

static void usage(void) {
  fprintf(stderr, "usage: crashwatch-watchdog --fd N --pid PID --spool DIR "
                  "[--summary-fd FD] [--include-environ] [--no-summary] "
                  "[--release-early] "
                  "[--release R] [--environment E] [--program NAME] "
                  "[--dsn DSN]\n"
                  "Started by libcrashwatch; not meant to be run by hand.\n");
}

/* Checks what the app sent. Returns NULL if the record is usable, else
 * what is wrong with it. */
static const char *validate(const cw__crash_record_t *rec, ssize_t n,
                            int truncated, pid_t app_pid) {
  if (truncated || n != (ssize_t)sizeof(*rec))
    return "wrong size";
  if (rec->magic != CW_CRASH_RECORD_MAGIC)
    return "bad magic";
  if (rec->version != CW_CRASH_RECORD_VERSION)
    return "unsupported version";
  if (rec->size != sizeof(*rec))
    return "size field does not match";
  if (rec->pid != app_pid)
    return "pid is not the app's";
  if (rec->tid <= 0)
    return "bad thread id";
  if (rec->signo <= 0 || rec->signo >= NSIG)
    return "bad signal number";
  return NULL;
}

/* With a DSN or an upload URL, starts the upload of the spool now that the
 * report is committed and unlocked (cw__wd_handle_crash has returned): a
 * detached copy of this executable in upload mode (upload_auto.h; it
 * dlopen()s libcurl) through /proc/self/exe (the idle stage closed the
 * image memfd at exec), or the CLI named by CRASHWATCH_CLI. If an uploader is
 * already delivering this spool it is kicked instead (CW_EBUSY): one
 * uploader per spool. Without one the report simply stays in the spool for
 * a later `crashwatch upload`; nothing is lost. */
static void start_upload(const wd_config_t *cfg) {
  const char *url = secure_getenv("CRASHWATCH_UPLOAD_URL");
  if (url != NULL && url[0] == '\0')
    url = NULL;
  if (cfg->dsn == NULL && url == NULL)
    return;
  const char *cli = secure_getenv("CRASHWATCH_CLI");
  int rc = (cli != NULL && cli[0] != '\0')
               ? cw__upload_spawn_exec(cli, cfg->spool_dir, cfg->dsn, url)
               : cw__upload_spawn_self(-1, cfg->spool_dir, cfg->dsn, url);
  if (rc != 0 && rc != CW_EBUSY)
    log_line("crashwatch: could not start the uploader (%s); the report "
             "stays in %s for `crashwatch upload`",
             cw_strerror(rc), cfg->spool_dir);
}

/* The app's RLIMIT_FSIZE is inherited, but it was set for the app's own
 * files, not for a report: raise the soft limit as far as the hard one
 * goes, and take a write past what is left as an error (EFBIG) instead of
 * a SIGXFSZ that would kill the watchdog mid-report. */
static void own_file_size_limit(void) {
  struct rlimit rl;
  signal(SIGXFSZ, SIG_IGN);
  if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_FSIZE, &rl);
  }
}

/* Checks an event request. NULL if usable, else what is wrong. */
static const char *validate_request(const cw__event_req_t *r, ssize_t n,
                                    int truncated, pid_t app_pid) {
  if (truncated || n < (ssize_t)sizeof(*r))
    return "wrong size";
  if (r->version != CW_EVENT_REQ_VERSION || r->size != sizeof(*r))
    return "unsupported version";
  if (r->record_len != 0 && r->record_len != sizeof(cw__crash_record_t))
    return "bad record length";
  if ((size_t)n != sizeof(*r) + r->record_len + r->payload_len)
    return "payload length does not match";
  if ((r->kind == CW__REQ_DUMP || (r->flags & CW__REQ_STACKTRACE)) &&
      r->record_len == 0)
    return "no registers";
  if (r->pid != app_pid)
    return "pid is not the app's";
  if (r->tid <= 0)
    return "bad thread id";
  if (r->kind == CW__REQ_MESSAGE || r->kind == CW__REQ_DUMP)
    return r->payload_len <= CW__REQ_MESSAGE_MAX ? NULL : "message too long";
  if (r->kind == CW__REQ_EVENT)
    return r->payload_len <= CW__REQ_EVENT_MAX ? NULL : "event too long";
  return "unknown kind";
}

static void send_event_ack(int fd, uint64_t seq, int status) {
  cw__event_ack_t ack = {
      .magic = CW_EVENT_ACK_MAGIC, .status = status, .seq = seq};
  ssize_t n;
  do
    n = send(fd, &ack, sizeof(ack), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
}

typedef struct {
  int fd;
  uint64_t seq;
  int sent;
} event_ack_state_t;

static void release_event(void *ctx, int status) {
  event_ack_state_t *st = ctx;
  if (st->sent)
    return;
  st->sent = 1;
  send_event_ack(st->fd, st->seq, status);
}

/* The limits and the upload, after a report is committed (report is its
 * path, or "" when none was). */
static void after_report(const wd_config_t *cfg, const spool_limits_t *limits,
                         const char *report) {
  if (report[0] == '\0')
    return;
  /* Pruning lists and stats the whole spool: after every one of a burst
   * of events that would make each report cost more than the last. At
   * most once a second for events (the limits may be overshot by one
   * second's events meanwhile); a crash's report always prunes. */
  static struct timespec last;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (last.tv_sec == 0 || now.tv_sec - last.tv_sec >= 2 ||
      (now.tv_sec - last.tv_sec) * 1000000000L + now.tv_nsec - last.tv_nsec >=
          1000000000L) {
    prune_spool(cfg, limits, report);
    last = now;
  }
  start_upload(cfg);
}

/* Events with the caller's stack whose callers are released: each is
 * finished (unwinding, symbolization, the report) by a child of the
 * watchdog, so that the loop answers the next caller at once instead of
 * after this one's symbolization. At most FINISHERS_MAX at a time. */
#define FINISHERS_MAX 2
static int finishers;

static void reap_finishers(int block) {
  while (finishers > 0) {
    pid_t r = waitpid(-1, NULL, block ? 0 : WNOHANG);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return;
    finishers--;
    block = 0;
  }
}

/* 1 if a child took the job (the parent's copy is freed); 0 if both
 * finishers are busy (or fork failed): the caller finishes it. */
static int finish_in_child(const wd_config_t *cfg, const spool_limits_t *limits,
                           wd_event_job_t *j, int sock) {
  reap_finishers(0);
  if (finishers >= FINISHERS_MAX)
    return 0;
  pid_t pid = fork();
  if (pid < 0)
    return 0;
  if (pid == 0) {
    close(sock); /* the loop's alone */
    char report[PATH_MAX] = "";
    int rc = cw__wd_event_finish(cfg, j, 1, report, sizeof(report));
    if (rc != 0)
      log_line("crashwatch: an event was not written: %s (%s)", cw_strerror(rc),
               cw_err_name(rc));
    after_report(cfg, limits, report);
    _exit(0);
  }
  finishers++;
  cw__wd_event_job_free(j);
  return 1;
}

/* A message, an event or a dump (issue 11): the report, then the same
 * after-commit work as a crash's (limits, upload). A request that waits
 * (a dump, attach_stacktrace) gets exactly one ack. */
static void serve_request(const wd_config_t *cfg, const spool_limits_t *limits,
                          const cw__event_req_t *req, ssize_t n, int truncated,
                          pid_t app_pid, int fd) {
  int waits = req->kind == CW__REQ_DUMP || (req->flags & CW__REQ_STACKTRACE);
  event_ack_state_t ack = {.fd = fd, .seq = req->seq};
  const char *bad = validate_request(req, n, truncated, app_pid);
  if (bad != NULL) {
    log_line("crashwatch-watchdog: ignoring an event request (%zd bytes): %s",
             n, bad);
    if (waits && n >= (ssize_t)sizeof(*req))
      release_event(&ack, CW_EFORMAT);
    return;
  }
  /* The message: NUL-terminated for the dump's event (there is room: the
   * buffer is one byte larger than the largest request). */
  const cw__crash_record_t *rec =
      req->record_len ? (const cw__crash_record_t *)(req + 1) : NULL;
  char *payload = (char *)(req + 1) + req->record_len;
  char report[PATH_MAX] = "";
  int rc;
  if (req->kind == CW__REQ_DUMP) {
    char msg[CW__REQ_MESSAGE_MAX + 64];
    if (req->payload_len > 0)
      snprintf(msg, sizeof(msg), "%.*s", (int)req->payload_len, payload);
    else if (req->flags & CW__REQ_FROM_SIGNAL)
      snprintf(msg, sizeof(msg), "Dump requested by signal %s",
               cw__signal_name(rec->signo) != NULL ? cw__signal_name(rec->signo)
                                                   : "?");
    else
      snprintf(msg, sizeof(msg), "Dump requested");
    rc = cw__wd_handle_dump(cfg, req, rec, msg, release_event, &ack, report,
                            sizeof(report));
  } else if (req->flags & CW__REQ_STACKTRACE) {
    /* The caller is released once its stack is copied; a child does the
     * rest (finish_in_child). */
    wd_event_job_t *j =
        cw__wd_event_begin(cfg, req, rec, payload, release_event, &ack);
    if (j != NULL && finish_in_child(cfg, limits, j, fd))
      return;
    /* Both finishers busy: written here at once, the frames named from
     * the symbol tables only (no DWARF), so the next caller does not wait
     * for a symbolization. */
    rc = j != NULL ? cw__wd_event_finish(cfg, j, 0, report, sizeof(report))
                   : CW_ENOMEM;
  } else {
    rc = cw__wd_handle_event(cfg, req, rec, payload, release_event, &ack,
                             report, sizeof(report));
  }
  if (waits)
    release_event(&ack, rc); /* in case it returned before releasing */
  if (rc != 0)
    log_line("crashwatch: the %s of pid %d was not written: %s (%s)%s%s",
             req->kind == CW__REQ_DUMP ? "dump" : "event", (int)req->pid,
             cw_strerror(rc), cw_err_name(rc), rc == CW_ESPOOL ? ": " : "",
             rc == CW_ESPOOL ? cw__spool_last_error() : "");
  after_report(cfg, limits, report);
}

/* libunwind's sigprocmask() calls while this thread unwinds a capture are
 * skipped (cw__wd_unwinding, wd_capture.h: two a frame, each a system call,
 * half of the unwinding's time on the VMs measured). This definition takes
 * the place of libc's for libunwind, linked statically into the embedded
 * watchdog and dynamically into the installed one (the executable's
 * definition comes first in symbol lookup); libc's own calls are internal
 * and keep theirs. Everything else goes to pthread_sigmask(), which does
 * what sigprocmask() does. */
__attribute__((visibility("default"))) int
sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  if (cw__wd_unwinding) {
    if (old != NULL)
      sigemptyset(old); /* given back to the matching call, skipped too */
    return 0;
  }
  int e = pthread_sigmask(how, set, old);
  if (e != 0) {
    errno = e;
    return -1;
  }
  return 0;
}

/* The exec that started this process put every signal the app caught back
 * to its default action, but one the app ignored is still ignored here: a
 * SIGTERM ignored would keep the watchdog from ending when a stop comes
 * (it unblocks the stop signals after a report for that), a SIGCHLD
 * ignored would lose the uploaders' exit statuses. The launching child
 * used to reset all 64 before the exec, while cw_init() waited for it
 * (about 80 us on the test VM); here it is off the app's clock. */
static void default_ignored_signals(void) {
  for (int s = 1; s < NSIG; s++) {
    struct sigaction sa;
    if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa) != 0)
      continue; /* glibc's own two and invalid numbers fail */
    if (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN)
      signal(s, SIG_DFL);
  }
}

int main(int argc, char **argv) {
  default_ignored_signals();
  if (argc > 1 && strcmp(argv[1], "--upload") == 0)
    return cw__upload_auto_main(argc, argv);
  long fd = -1, pid = -1, summary_fd = -1, image_fd = -1, scope_fd = -1;
  int upload_pending = 0, upload_at_exit = 0;
  wd_config_t cfg = {.summary_fd = -1, .print_summary = 1};
  spool_limits_t limits;
  cw__spool_limits_default(&limits);
  cw__spool_limits_from_env(&limits, NULL, 0);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = 1;
    if (strcmp(a, "--fd") == 0 && v)
      takes = parse_int(v, 0, INT_MAX, &fd) == 0 ? 2 : -1;
    else if (strcmp(a, "--pid") == 0 && v)
      takes = parse_int(v, 1, INT_MAX, &pid) == 0 ? 2 : -1;
    else if (strcmp(a, "--summary-fd") == 0 && v)
      takes = parse_int(v, -1, INT_MAX, &summary_fd) == 0 ? 2 : -1;
    else if (strcmp(a, "--scope-fd") == 0 && v)
      takes = parse_int(v, -1, INT_MAX, &scope_fd) == 0 ? 2 : -1;
    else if (strcmp(a, "--image-fd") == 0 && v)
      takes = parse_int(v, 0, INT_MAX, &image_fd) == 0 ? 2 : -1;
    else if (strcmp(a, "--spool") == 0 && v)
      cfg.spool_dir = v, takes = 2;
    else if (strcmp(a, "--release") == 0 && v)
      cfg.release = v, takes = 2;
    else if (strcmp(a, "--environment") == 0 && v)
      cfg.environment = v, takes = 2;
    else if (strcmp(a, "--program") == 0 && v)
      cfg.program = v, takes = 2;
    else if (strcmp(a, "--dsn") == 0 && v)
      cfg.dsn = v, takes = 2;
    else if (strcmp(a, "--spool-limits") == 0 && v)
      takes = parse_limits(v, &limits) == 0 ? 2 : -1;
    else if (strcmp(a, "--include-environ") == 0)
      cfg.include_environ = 1;
    else if (strcmp(a, "--no-summary") == 0)
      cfg.print_summary = 0;
    else if (strcmp(a, "--release-early") == 0)
      cfg.release_early = 1;
    else if (strcmp(a, "--upload-pending") == 0)
      upload_pending = 1;
    else if (strcmp(a, "--upload-at-exit") == 0)
      upload_at_exit = 1;
    else
      takes = -1;
    if (takes < 0) {
      fprintf(stderr, "crashwatch-watchdog: bad argument '%s'\n", a);
      usage();
      return 2;
    }
    i += takes - 1;
  }
  if (fd < 0 || pid <= 0 || cfg.spool_dir == NULL) {
    usage();
    return 2;
  }
  if (cfg.dsn == NULL) {
    /* The library's own channel (handler/spawn.c), read even in a secure
     * execution: a setuid app starts the watchdog with an environment of
     * its own making, this variable alone. Settings a user could put in
     * the environment are read with secure_getenv. */
    const char *d = getenv("CRASHWATCH_WATCHDOG_DSN");
    if (d != NULL && *d)
      cfg.dsn = d;
  }
  map_scope(&cfg, scope_fd);
  /* "memfd:crashwatc..." otherwise; this is what ps and top show. */
  prctl(PR_SET_NAME, "crashwatch-wd", 0, 0, 0);
  cfg.summary_fd = (int)summary_fd;
  if (summary_fd >= 0)
    log_fd = (int)summary_fd;
  signal(SIGPIPE, SIG_IGN);
  own_file_size_limit();
  /* SIGTERM, SIGINT and SIGHUP (a service or container being stopped) are
   * blocked, while waiting for a crash record too: a stop signals the
   * whole cgroup, and the app may still crash while it shuts down, so the
   * watchdog ends when the app closes its end. One that comes in while a
   * report is being written waits until the report is finished, then ends
   * the watchdog (default action). They come blocked through the exec
   * (handler/launch.c, or the lazy watchdog's idle stage), so one sent
   * while this process was starting is kept pending too. */
  sigset_t stop_sigs;
  sigemptyset(&stop_sigs);
  sigaddset(&stop_sigs, SIGTERM);
  sigaddset(&stop_sigs, SIGINT);
  sigaddset(&stop_sigs, SIGHUP);
  sigset_t waiting; /* the mask while idle: stop signals kept blocked */
  sigprocmask(SIG_BLOCK, &stop_sigs, &waiting);
  sigaddset(&waiting, SIGTERM);
  sigaddset(&waiting, SIGINT);
  sigaddset(&waiting, SIGHUP);
  /* An uploader started from here prunes with the app's limits too. */
  cw__spool_limits_to_env(&limits);
  const char *up_url = secure_getenv("CRASHWATCH_UPLOAD_URL");
  cfg.uploading = cfg.dsn != NULL || (up_url != NULL && up_url[0] != '\0');
  /* Started directly (CRASHWATCH_WATCHDOG, no idle stage): deliver what an
   * earlier run left in the spool. The idle stage does this itself and
   * passes --image-fd when it execs us for a crash. */
  if (upload_pending && image_fd < 0)
    start_upload(&cfg);

  int warmed = 0;
  for (;;) {
    /* A crash record or an event request (event_request.h), whichever is
     * larger, and one byte more, so an oversized datagram is caught. */
    static union {
      cw__crash_record_t rec;
      cw__event_req_t req;
      char bytes[CW__REQ_MAX_DATAGRAM + 1];
    } u;
    struct iovec iov = {.iov_base = u.bytes, .iov_len = sizeof(u.bytes)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    struct pollfd pfd = {.fd = (int)fd, .events = POLLIN};
    const struct timespec warm_after = {0, WARM_AFTER_MS * 1000000L};
    int ready = ppoll(&pfd, 1, warmed ? NULL : &warm_after, &waiting);
    if (ready < 0 && errno != EINTR) {
      log_line("crashwatch-watchdog: poll: %s", strerror(errno));
      return 1;
    }
    if (ready == 0 && !warmed) {
      warmed = 1;
      warm_up(&cfg, pid);
      continue;
    }
    reap_finishers(0);
    ssize_t n = recvmsg((int)fd, &mh, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      reap_finishers(1); /* what the app asked for is written first */
      /* The app is gone; what it left at its end (its session's update,
       * docs/sessions.md) is delivered now. */
      if (upload_at_exit)
        start_upload(&cfg);
      return 0;
    }
    if (n < 0) {
      if (errno == ECONNRESET)
        return 0;
      log_line("crashwatch-watchdog: recv: %s", strerror(errno));
      return 1;
    }
    if (n >= (ssize_t)sizeof(uint32_t) && u.req.magic == CW_EVENT_REQ_MAGIC) {
      serve_request(&cfg, &limits, &u.req, n, (mh.msg_flags & MSG_TRUNC) != 0,
                    (pid_t)pid, (int)fd);
      continue;
    }
    ack_state_t ack = {.fd = (int)fd};
    const char *bad =
        validate(&u.rec, n, (mh.msg_flags & MSG_TRUNC) != 0, (pid_t)pid);
    if (bad != NULL) {
      log_line("crashwatch-watchdog: ignoring a crash record (%zd bytes): %s",
               n, bad);
      send_ack(&ack, CW_EFORMAT);
      continue;
    }
    char report[PATH_MAX] = "";
    int rc = cw__wd_handle_crash(&cfg, &u.rec, release_ack, &ack, report,
                                 sizeof(report));
    send_ack(&ack, rc); /* in case capture returned without releasing */
    /* With the summary on, the capture's summary already ends with the
     * report's path; otherwise say where it is in one line. */
    if (rc == 0 && !(cfg.print_summary && cfg.summary_fd >= 0))
      log_line("crashwatch: crash report (signal %d in thread %d) written to "
               "%s",
               (int)u.rec.signo, (int)u.rec.tid, report);
    else if (rc == CW_ESPOOL)
      log_line("crashwatch: the crash of pid %d was captured but not "
               "written: %s (%s): %s",
               (int)u.rec.pid, cw_strerror(rc), cw_err_name(rc),
               cw__spool_last_error());
    else if (rc != 0)
      log_line("crashwatch: capturing the crash of pid %d failed: %s (%s)",
               (int)u.rec.pid, cw_strerror(rc), cw_err_name(rc));
    /* The spool's limits, now that the report is committed and unlocked
     * (never the report just written). */
    if (report[0] != '\0')
      prune_spool(&cfg, &limits, report);
    /* A stop signal that came during the capture ends the watchdog here,
     * with the report finished. */
    sigprocmask(SIG_UNBLOCK, &stop_sigs, NULL);
    if (report[0] != '\0')
      start_upload(&cfg);
    sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
  }
}
