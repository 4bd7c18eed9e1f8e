/*
 * init.c — cw_init(), cw_shutdown(), cw_thread_init(), cw_reinstall():
 * validation, the alternate signal stacks and handler installation. Normal
 * context.
 *
 * cw_init() checks every setting and prepares every resource (spool, alt
 * stack, watchdog) before it installs a single handler, and undoes what it
 * did on any failure, so a failed cw_init() leaves the process as it was.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_internal.h"
#include "cw_session.h"
#include "scope_write.h"
#include "spool.h"

const int cw__signals[CW__NSIGNALS] = {SIGSEGV, SIGBUS,  SIGILL, SIGFPE,
                                       SIGABRT, SIGTRAP, SIGSYS};

cw__crash_state_t cw__crash = {.sock_fd = -1};

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t alt_key;
static int atfork_registered;

/* ---- alternate signal stacks ---------------------------------------- */

/* The program's own crash handler runs on this stack too (chain.c runs it
 * first, inside crashwatch's handler), and such handlers expect a thread's
 * stack: redis's crash report keeps a 1 MiB buffer on it for its memory
 * test. Only the pages a handler touches are ever backed by memory; the
 * rest is address space. */
#define ALT_STACK_SIZE (2u * 1024u * 1024u)

typedef struct {
  void *map;   /* guard page + stack */
  void *sp;    /* the stack itself, above the guard page */
  size_t len;  /* of map */
  stack_t old; /* the thread's previous alternate stack */
} alt_stack_t;

/* The memory of an alternate stack. The program's own crash handler runs
 * on it (chain.c), and such handlers walk /proc/self/maps: redis's crash
 * report runs a memory test over every anonymous rw mapping not named
 * "stack", which would overwrite the very frames it runs on. So the
 * mapping is a private copy-on-write view of a memfd named
 * "crashwatch-sigaltstack" (maps shows it by that name, on a device other
 * than 00:00); an anonymous mapping if memfd_create is unavailable. The
 * fd is closed at once; fork() copies the pages like any private memory. */
static void *alt_stack_map(size_t len) {
  /* A file size past RLIMIT_FSIZE would raise SIGXFSZ (and kill the
   * program): then it is anonymous memory. */
  struct rlimit fs;
  int fd = -1;
  if (getrlimit(RLIMIT_FSIZE, &fs) == 0 &&
      (fs.rlim_cur == RLIM_INFINITY || fs.rlim_cur >= (rlim_t)len))
    fd = memfd_create("crashwatch-sigaltstack", MFD_CLOEXEC);
  if (fd >= 0) {
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)len) == 0)
      p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_STACK, fd,
               0);
    close(fd);
    if (p != MAP_FAILED)
      return p;
  }
  return mmap(NULL, len, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
}

/* Installs a fresh alternate stack on the calling thread. */
static int alt_stack_install(alt_stack_t **out) {
  long pg = sysconf(_SC_PAGESIZE);
  size_t page = pg > 0 ? (size_t)pg : 4096u;
  size_t size = ALT_STACK_SIZE;
  if ((size_t)SIGSTKSZ * 4 > size)
    size = (size_t)SIGSTKSZ * 4;
  size = (size + page - 1) / page * page;
  alt_stack_t *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return CW_ENOMEM;
  s->len = size + page;
  s->map = alt_stack_map(s->len);
  if (s->map == MAP_FAILED) {
    free(s);
    return CW_ENOMEM;
  }
  /* A guard page below the stack turns an overflow of the alternate stack
   * into a clean kill instead of silent corruption. */
  mprotect(s->map, page, PROT_NONE);
  s->sp = (char *)s->map + page;
  stack_t ss = {.ss_sp = s->sp, .ss_size = size};
  if (sigaltstack(&ss, &s->old) != 0) {
    int rc = -errno;
    munmap(s->map, s->len);
    free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* Puts back the thread's previous alternate stack and frees ours. Must run
 * on the thread that owns s, not on s itself. */
static void alt_stack_remove(alt_stack_t *s) {
  if (s == NULL)
    return;
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == s->sp) {
    if (s->old.ss_flags & SS_DISABLE) {
      stack_t off = {.ss_flags = SS_DISABLE};
      sigaltstack(&off, NULL);
    } else {
      sigaltstack(&s->old, NULL);
    }
  }
  munmap(s->map, s->len);
  free(s);
}

static void alt_key_destructor(void *p) { alt_stack_remove(p); }

static void alt_key_create(void) {
  if (pthread_key_create(&alt_key, alt_key_destructor) != 0)
    alt_key = (pthread_key_t)-1;
}

/* Gives the calling thread our alternate stack unless it has one already. */
static int thread_alt_stack(void) {
  pthread_once(&key_once, alt_key_create);
  if (alt_key == (pthread_key_t)-1)
    return cw__fail(CW_EAGAIN, "cw_thread_init: no thread-specific key");
  if (pthread_getspecific(alt_key) != NULL)
    return 0;
  alt_stack_t *s = NULL;
  int rc = alt_stack_install(&s);
  if (rc != 0)
    return cw__fail(rc, "alternate signal stack: %s", cw_strerror(rc));
  if (pthread_setspecific(alt_key, s) != 0) {
    alt_stack_remove(s);
    return cw__fail(CW_ENOMEM, "alternate signal stack: pthread_setspecific");
  }
  return 0;
}

CW_EXTERN int cw_thread_init(void) { return thread_alt_stack(); }

int cw__thread_alt_stack(void) { return thread_alt_stack(); }

/* ---- init / shutdown ----------------------------------------------- */

/* In a forked child the crash socket belongs to the parent's watchdog: the
 * child closes its copy so the watchdog sees EOF when the parent exits. */
static void atfork_child(void) {
  cw__gettid_forget();
  cw__scope_atfork_child();
  int fd = cw__crash.sock_fd;
  if (fd >= 0 && cw__crash.pid != getpid()) {
    cw__crash.sock_fd = -1;
    close(fd);
  }
}

/* Hands each signal back to the app's view of it (what it had before
 * cw_init, or installed since through the intercepted sigaction). */
static void uninstall_handlers(int n) {
  cw__chain_stop();
  for (int i = 0; i < n; i++) {
    struct sigaction cur;
    /* Leave a handler the app installed behind our back (a raw system
     * call, or interception off) alone. */
    if (cw__sys_sigaction(cw__signals[i], NULL, &cur) == 0 &&
        (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == cw__on_crash_signal)
      cw__sys_sigaction(cw__signals[i], &cw__crash.old[i], NULL);
  }
}

/* abort()'s code range, for the crash path to recognize a SIGABRT sent
 * from inside abort() (chain.c). */
static void abort_range(uintptr_t *lo, uintptr_t *hi) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  *lo = *hi = 0;
  if (dladdr1((void *)&abort, &info, (void **)&sym, RTLD_DL_SYMENT) != 0 &&
      sym != NULL && info.dli_saddr != NULL && sym->st_size > 0) {
    *lo = (uintptr_t)info.dli_saddr;
    *hi = *lo + sym->st_size;
  }
}

static int init_locked(cw_options_t *o) {
  if (cw__crash.installed && cw__crash.pid != getpid()) {
    /* A forked child initializing for itself: the parent's handlers and
     * watchdog are not its own. */
    uninstall_handlers(CW__NSIGNALS);
    int fd = cw__crash.sock_fd;
    cw__crash.sock_fd = -1;
    if (fd >= 0)
      close(fd);
    cw__crash.installed = 0;
  }
  if (cw__crash.installed)
    return cw__fail(CW_EALREADY, "cw_init: already initialized");
  if (o->env_err != 0)
    return cw__fail(o->env_err, "%s", o->env_msg);
  if (o->spool_dir == NULL)
    return cw__fail(CW_ESPOOL, "no spool directory: set CRASHWATCH_SPOOL, "
                               "XDG_STATE_HOME or HOME");
  char msg[PATH_MAX + 128];
  if (cw__spool_ensure_dir(o->spool_dir, msg, sizeof(msg)) != 0)
    return cw__fail(CW_ESPOOL, "%s", msg);
  char spool_abs[PATH_MAX];
  if (realpath(o->spool_dir, spool_abs) == NULL)
    return cw__fail(CW_ESPOOL, "spool directory %s: %s", o->spool_dir,
                    strerror(errno));
  if (o->watchdog_path != NULL &&
      faccessat(AT_FDCWD, o->watchdog_path, X_OK, AT_EACCESS) != 0)
    return cw__fail(CW_EWATCHDOG, "watchdog %s: %s", o->watchdog_path,
                    strerror(errno));

  int rc = thread_alt_stack();
  if (rc != 0)
    return rc;
  /* The scope mapping, before the watchdog that maps it too. */
  rc = cw__scope_open(o);
  if (rc != 0)
    return rc;

  /* Abnormal ends of earlier runs become updates before the watchdog's
   * idle stage looks for reports to deliver. */
  cw__session_collect(o, spool_abs);
  int sock = -1;
  pid_t wd_pid = 0;
  rc = cw__spawn_watchdog(o, spool_abs, &sock, &wd_pid);
  if (rc != 0)
    return rc; /* the alt stack stays: harmless, freed at thread exit */

  /* Everything the handler reads is written (and its pages present)
   * before the first handler goes in. */
  memset(&cw__crash.record, 0, sizeof(cw__crash.record));
  cw__crash.pid = getpid();
  cw__crash.ack_timeout_ms = o->ack_timeout_ms;
  __atomic_store_n(&cw__crash.crash_tid, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&cw__crash.sock_fd, sock, __ATOMIC_SEQ_CST);

  if (cw__interpose_resolve)
    cw__interpose_resolve();
  uintptr_t abort_lo, abort_hi;
  abort_range(&abort_lo, &abort_hi);
  cw__chain_prepare(o->intercept_signals, abort_lo, abort_hi);
  for (int i = 0; i < CW__NSIGNALS; i++) {
    /* The app's view starts as what it had; the kernel action takes its
     * mask and SA_NODEFER, since its handler runs inside ours. */
    if (cw__sys_sigaction(cw__signals[i], NULL, &cw__crash.old[i]) != 0 ||
        cw__chain_install(i) != 0) {
      int e = errno;
      uninstall_handlers(i);
      cw__crash.sock_fd = -1;
      close(sock); /* the watchdog sees EOF and exits */
      return cw__fail(-e, "sigaction(%s): %s", strsignal(cw__signals[i]),
                      strerror(e));
    }
  }
  /* Sampling, the cap and the dump signal (events.c). */
  rc = cw__events_start(o);
  if (rc != 0) {
    uninstall_handlers(CW__NSIGNALS);
    cw__crash.sock_fd = -1;
    close(sock);
    return rc;
  }
  if (!atfork_registered && pthread_atfork(NULL, NULL, atfork_child) == 0)
    atfork_registered = 1;
  __atomic_store_n(&cw__crash.installed, 1, __ATOMIC_RELEASE);
  /* Crash reporting works whatever happens to the session: a spool that
   * cannot take a session marker costs the session, not cw_init(). */
  (void)cw__session_init(o, spool_abs);
  cw__scope_go_live();
  return 0;
}

CW_EXTERN int cw_init(cw_options_t *opts) {
  pthread_mutex_lock(&init_lock);
  cw__clear_error();
  int rc;
  if (opts == NULL) {
    opts = cw_options_new();
    if (opts == NULL) {
      rc = cw__fail(CW_ENOMEM, "cw_init: out of memory");
      goto out;
    }
  }
  rc = init_locked(opts);
out:
  cw_options_free(opts);
  pthread_mutex_unlock(&init_lock);
  return rc;
}

CW_EXTERN int cw_reinstall(void) {
  pthread_mutex_lock(&init_lock);
  cw__clear_error();
  int rc = 0;
  if (!cw__crash.installed || cw__crash.pid != getpid()) {
    rc = cw__fail(CW_ENOTINIT, "cw_reinstall: crashwatch is not initialized");
    goto out;
  }
  for (int i = 0; i < CW__NSIGNALS; i++) {
    struct sigaction cur;
    if (cw__sys_sigaction(cw__signals[i], NULL, &cur) != 0) {
      rc = cw__fail(-errno, "cw_reinstall: sigaction(%s): %s",
                    strsignal(cw__signals[i]), strerror(errno));
      goto out;
    }
    int ours =
        (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == cw__on_crash_signal;
    /* A handler put in place behind our back becomes the app's view: it
     * still runs first. */
    if (!ours)
      rc = cw__chain_sigaction(i, &cur, NULL);
    else
      rc = cw__chain_install(i);
    if (rc != 0) {
      rc = cw__fail(-errno, "cw_reinstall: sigaction(%s): %s",
                    strsignal(cw__signals[i]), strerror(errno));
      goto out;
    }
  }
out:
  pthread_mutex_unlock(&init_lock);
  return rc;
}

CW_EXTERN void cw_shutdown(void) {
  pthread_mutex_lock(&init_lock);
  if (cw__crash.installed)
    cw__session_shutdown();
  cw__scope_stop();
  if (cw__crash.installed) {
    cw__events_stop();
    uninstall_handlers(CW__NSIGNALS);
    int fd = cw__crash.sock_fd;
    __atomic_store_n(&cw__crash.sock_fd, -1, __ATOMIC_SEQ_CST);
    if (fd >= 0)
      close(fd); /* the watchdog sees EOF and exits */
    cw__crash.installed = 0;
  }
  pthread_mutex_unlock(&init_lock);
}
