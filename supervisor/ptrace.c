/*
 * ptrace.c — ptrace mode: the supervisor traces the program and every
 * process and thread it starts (PTRACE_SEIZE, TRACECLONE/FORK/VFORK,
 * EXITKILL), passes every signal on, and at the delivery stop of a crash
 * signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS) —
 * before the program's own handler can run — captures the process
 * (normal context, in the supervisor).
 *
 * Composing with the capture code (watchdog/ptrace_capture.c), which
 * seizes every thread itself: a thread has one tracer, so the supervisor
 * lets go of the process without letting it run, and the watchdog takes
 * it exactly as it takes a process whose handler called it:
 *   1. at T's delivery stop of S: read T's siginfo and registers (the
 *      fault's own context: nothing ran since) into a crash record;
 *   2. detach T injecting SIGSTOP: T starts a group stop, every other
 *      thread of the process traps in it; detach each of them too. An
 *      untraced thread in a group stop stays stopped (the kernel puts it
 *      back into the stop at detach), so the whole process stays frozen,
 *      untraced;
 *   3. cw__sup_wd_capture(): crashwatch-watchdog seizes, copies, detaches
 *      (the threads fall back into the group stop), commits the report and
 *      acks;
 *   4. seize every thread again, end the group stop (SIGCONT, whose
 *      delivery is then suppressed: the program never sees it), and let S
 *      take its course: a fault the thread will raise again by re-running
 *      the faulting instruction (SIGSEGV, SIGBUS, SIGILL, SIGFPE from the
 *      kernel) is simply re-run, so the program's own handler gets the
 *      real siginfo; any other S is sent again with tgkill. That second
 *      delivery is passed on untouched: the program's handler runs, or the
 *      default action kills it, and its exit status is what it would have
 *      been.
 * The capture code is unchanged and has one protocol; the price is that
 * the watchdog runs as a separate process (an exec per crash, tens of ms),
 * which the supervisor, that would otherwise load libunwind and libdw into
 * every `crashwatch` command, does not mind.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "sup_internal.h"

typedef struct {
  pid_t tid;
  int pass_sig; /* a captured crash signal: pass its next delivery on */
} task_t;

#define MAX_HELPERS 64

struct cw__sup_tracer {
  const cw__sup_config_t *cfg;
  task_t *tasks;
  size_t ntasks, cap;
  pid_t helpers[MAX_HELPERS]; /* watchdogs started, not yet reaped */
  size_t nhelpers;
  pid_t sigcont_tgid[16]; /* processes whose next SIGCONT from us is ours */
};

static int is_crash_signal(int s) {
  return s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE ||
         s == SIGABRT || s == SIGTRAP || s == SIGSYS;
}

static task_t *task_find(cw__sup_tracer_t *t, pid_t tid) {
  for (size_t i = 0; i < t->ntasks; i++)
    if (t->tasks[i].tid == tid)
      return &t->tasks[i];
  return NULL;
}

static task_t *task_add(cw__sup_tracer_t *t, pid_t tid) {
  task_t *k = task_find(t, tid);
  if (k != NULL)
    return k;
  if (t->ntasks == t->cap) {
    size_t nc = t->cap ? t->cap * 2 : 16;
    task_t *n = realloc(t->tasks, nc * sizeof(*n));
    if (n == NULL)
      return NULL;
    t->tasks = n;
    t->cap = nc;
  }
  k = &t->tasks[t->ntasks++];
  *k = (task_t){.tid = tid};
  return k;
}

void cw__sup_tracer_gone(cw__sup_tracer_t *t, pid_t tid) {
  for (size_t i = 0; i < t->ntasks; i++)
    if (t->tasks[i].tid == tid) {
      t->tasks[i] = t->tasks[--t->ntasks];
      return;
    }
  for (size_t i = 0; i < t->nhelpers; i++)
    if (t->helpers[i] == tid) {
      t->helpers[i] = t->helpers[--t->nhelpers];
      return;
    }
}

int cw__sup_tracer_is_helper(cw__sup_tracer_t *t, pid_t pid) {
  for (size_t i = 0; i < t->nhelpers; i++)
    if (t->helpers[i] == pid)
      return 1;
  return 0;
}

size_t cw__sup_tracer_helpers(const cw__sup_tracer_t *t) { return t->nhelpers; }

cw__sup_tracer_t *cw__sup_tracer_new(const cw__sup_config_t *cfg, pid_t pid) {
  cw__sup_tracer_t *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->cfg = cfg;
  if (task_add(t, pid) == NULL) {
    free(t);
    return NULL;
  }
  return t;
}

void cw__sup_tracer_free(cw__sup_tracer_t *t) {
  if (t == NULL)
    return;
  free(t->tasks);
  free(t);
}

static pid_t tgid_of(pid_t tid) {
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return tid;
  pid_t tgid = tid;
  while (fgets(buf, sizeof(buf), f) != NULL)
    if (strncmp(buf, "Tgid:", 5) == 0) {
      tgid = (pid_t)atoi(buf + 5);
      break;
    }
  fclose(f);
  return tgid;
}

/* The thread ids of process tgid (up to cap). */
static size_t list_tasks(pid_t tgid, pid_t *out, size_t cap) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
  DIR *d = opendir(path);
  if (d == NULL)
    return 0;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < cap) {
    char *end;
    long v = strtol(e->d_name, &end, 10);
    if (*end == '\0' && v > 0)
      out[n++] = (pid_t)v;
  }
  closedir(d);
  return n;
}

static uint64_t now_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* user_regs_struct into glibc's gregset order (REG_R8 ... REG_CR2). */
static void fill_context(cw__crash_context_t *c,
                         const struct user_regs_struct *r,
                         const struct user_fpregs_struct *fp, int have_fp,
                         const siginfo_t *si) {
  uint64_t *g = c->gregs;
  g[0] = r->r8;
  g[1] = r->r9;
  g[2] = r->r10;
  g[3] = r->r11;
  g[4] = r->r12;
  g[5] = r->r13;
  g[6] = r->r14;
  g[7] = r->r15;
  g[8] = r->rdi;
  g[9] = r->rsi;
  g[10] = r->rbp;
  g[11] = r->rbx;
  g[12] = r->rdx;
  g[13] = r->rax;
  g[14] = r->rcx;
  g[15] = r->rsp;
  g[16] = r->rip;
  g[17] = r->eflags;
  /* REG_CSGSFS: cs, gs, fs, ss as 16-bit fields, as the kernel packs it. */
  g[18] = (r->cs & 0xffff) | ((r->gs & 0xffff) << 16) |
          ((r->fs & 0xffff) << 32) | ((r->ss & 0xffff) << 48);
  g[19] = 0; /* REG_ERR and REG_TRAPNO: not exposed through ptrace */
  g[20] = 0;
  g[21] = 0;                                /* REG_OLDMASK */
  g[22] = (uint64_t)(uintptr_t)si->si_addr; /* REG_CR2 for a page fault */
  if (have_fp) {
    memcpy(c->fpregs, fp,
           sizeof(c->fpregs) < sizeof(*fp) ? sizeof(c->fpregs) : sizeof(*fp));
    c->has_fpregs = 1;
  }
}

/* Waits for tid's next stop (or end); 1 stopped (*st), 0 gone. */
static int wait_stop(pid_t tid, int *st) {
  for (;;) {
    pid_t r = waitpid(tid, st, __WALL);
    if (r == tid)
      return WIFSTOPPED(*st) ? 1 : 0;
    if (r < 0 && errno == EINTR)
      continue;
    return 0;
  }
}

/* A signal a thread was about to take when we froze the process, given
 * back once it runs again. */
typedef struct {
  pid_t tid;
  int sig;
} requeue_t;

/* Step 2: detaches every thread of tgid but crashed (already detached
 * into the group stop); they stay in the group stop. */
static size_t release_threads(cw__sup_tracer_t *t, pid_t tgid, pid_t crashed,
                              requeue_t *rq, size_t rqcap) {
  size_t nrq = 0;
  pid_t done[1024];
  size_t ndone = 0;
  for (int pass = 0; pass < 64; pass++) {
    pid_t tids[1024];
    size_t n = list_tasks(tgid, tids, 1024), added = 0;
    for (size_t i = 0; i < n; i++) {
      pid_t tid = tids[i];
      int known = tid == crashed;
      for (size_t j = 0; j < ndone && !known; j++)
        known = done[j] == tid;
      if (known || ndone == 1024)
        continue;
      done[ndone++] = tid;
      added++;
      int st;
      if (!wait_stop(tid, &st)) {
        cw__sup_tracer_gone(t, tid);
        continue;
      }
      int sig = WSTOPSIG(st);
      if ((st >> 16) == 0 && sig != SIGSTOP && nrq < rqcap)
        rq[nrq++] = (requeue_t){tid, sig};
      ptrace(PTRACE_DETACH, tid, 0, 0);
      cw__sup_tracer_gone(t, tid);
    }
    if (!added)
      break;
  }
  return nrq;
}

/* Step 4: traces every thread of tgid again and ends the group stop. */
static void retake_threads(cw__sup_tracer_t *t, pid_t tgid) {
  pid_t tids[1024];
  size_t n = list_tasks(tgid, tids, 1024);
  for (size_t i = 0; i < n; i++) {
    if (ptrace(PTRACE_SEIZE, tids[i], 0,
               (void *)(long)CW__SUP_PTRACE_OPTIONS) != 0) {
      tids[i] = 0;
      continue;
    }
    task_add(t, tids[i]);
  }
  /* Each seized thread traps in the group stop it is in. */
  for (size_t i = 0; i < n; i++) {
    int st;
    if (tids[i] != 0 && !wait_stop(tids[i], &st)) {
      cw__sup_tracer_gone(t, tids[i]);
      tids[i] = 0;
    }
  }
  for (size_t i = 0; i < sizeof(t->sigcont_tgid) / sizeof(t->sigcont_tgid[0]);
       i++)
    if (t->sigcont_tgid[i] == 0) {
      t->sigcont_tgid[i] = tgid;
      break;
    }
  kill(tgid, SIGCONT);
  for (size_t i = 0; i < n; i++)
    if (tids[i] != 0)
      ptrace(PTRACE_CONT, tids[i], 0, 0);
}

/* Whether a SIGCONT delivery to tgid is the one retake_threads sent
 * (and forgets it). */
static int own_sigcont(cw__sup_tracer_t *t, pid_t tgid, const siginfo_t *si) {
  if (si->si_code != SI_USER || si->si_pid != getpid())
    return 0;
  for (size_t i = 0; i < sizeof(t->sigcont_tgid) / sizeof(t->sigcont_tgid[0]);
       i++)
    if (t->sigcont_tgid[i] == tgid) {
      t->sigcont_tgid[i] = 0;
      return 1;
    }
  return 0;
}

/* A fault the thread raises again by re-running its instruction. */
static int refaults(int sig, const siginfo_t *si) {
  return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) &&
         si->si_code > 0 && si->si_code != SI_KERNEL;
}

static void capture(cw__sup_tracer_t *t, pid_t tid, int sig,
                    cw__sup_result_t *res) {
  siginfo_t si;
  struct user_regs_struct regs;
  struct user_fpregs_struct fp;
  memset(&si, 0, sizeof(si));
  if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) != 0 ||
      ptrace(PTRACE_GETREGS, tid, 0, &regs) != 0) {
    cw__sup_log("cannot read the crashed thread %d: %s; %s passed on "
                "without a report",
                (int)tid, strerror(errno), cw__sup_signame(sig));
    ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig);
    return;
  }
  int have_fp = ptrace(PTRACE_GETFPREGS, tid, 0, &fp) == 0;
  pid_t tgid = tgid_of(tid);
  cw__crash_record_t rec;
  memset(&rec, 0, sizeof(rec));
  rec.magic = CW_CRASH_RECORD_MAGIC;
  rec.version = CW_CRASH_RECORD_VERSION;
  rec.size = sizeof(rec);
  rec.signo = sig;
  rec.si_code = si.si_code;
  rec.si_errno = si.si_errno;
  rec.pid = tgid;
  rec.tid = tid;
  if (si.si_code <= 0)
    rec.sender_pid = si.si_pid;
  rec.fault_addr = (uint64_t)(uintptr_t)si.si_addr;
  rec.time_realtime_ns = now_ns(CLOCK_REALTIME);
  rec.time_monotonic_ns = now_ns(CLOCK_MONOTONIC);
  fill_context(&rec.context, &regs, &fp, have_fp, &si);

  /* Step 2: freeze the process untraced. */
  if (ptrace(PTRACE_DETACH, tid, 0, (void *)(long)SIGSTOP) != 0) {
    cw__sup_log("cannot hand thread %d over: %s", (int)tid, strerror(errno));
    ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig);
    return;
  }
  cw__sup_tracer_gone(t, tid);
  requeue_t rq[64];
  size_t nrq = release_threads(t, tgid, tid, rq, 64);

  /* Step 3. */
  pid_t wd = -1;
  char report[sizeof(res->report)];
  int rc = cw__sup_wd_capture(t->cfg, &rec, &wd, report, sizeof(report));
  if (wd > 0 && t->nhelpers < MAX_HELPERS)
    t->helpers[t->nhelpers++] = wd;
  res->crashes++;
  res->crash_signal = sig;
  if (rc == 0 && report[0] != '\0') {
    snprintf(res->report, sizeof(res->report), "%s", report);
    if (t->cfg->verbose)
      cw__sup_log("%s in pid %d (thread %d): report %s", cw__sup_signame(sig),
                  (int)tgid, (int)tid, report);
  } else if (rc != 0) {
    cw__sup_log("capturing the %s of pid %d failed: %s (%s)",
                cw__sup_signame(sig), (int)tgid, cw_strerror(rc),
                cw_err_name(rc));
  }

  /* Step 4: trace it again, and let the signal take its course. */
  retake_threads(t, tgid);
  task_t *k = task_add(t, tid);
  if (k != NULL)
    k->pass_sig = sig;
  if (!refaults(sig, &si))
    syscall(SYS_tgkill, tgid, tid, sig);
  for (size_t i = 0; i < nrq; i++)
    syscall(SYS_tgkill, tgid, rq[i].tid, rq[i].sig);
}

void cw__sup_tracer_stop(cw__sup_tracer_t *t, pid_t tid, int st,
                         cw__sup_result_t *res) {
  task_t *k = task_add(t, tid);
  int sig = WSTOPSIG(st);
  int event = st >> 16;
  if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK ||
      event == PTRACE_EVENT_VFORK) {
    unsigned long child = 0;
    if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) == 0 && child > 0)
      task_add(t, (pid_t)child);
    ptrace(PTRACE_CONT, tid, 0, 0);
    return;
  }
  if (event == PTRACE_EVENT_STOP) {
    /* A group stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): stay stopped
     * until SIGCONT, as without a tracer. Otherwise the first stop of a
     * new task or the notice of a SIGCONT: run. */
    if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
      ptrace(PTRACE_LISTEN, tid, 0, 0);
    else
      ptrace(PTRACE_CONT, tid, 0, 0);
    return;
  }
  if (event != 0) {
    ptrace(PTRACE_CONT, tid, 0, 0);
    return;
  }
  /* A signal-delivery stop. */
  if (k != NULL && k->pass_sig == sig) {
    k->pass_sig = 0;
    ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig);
    return;
  }
  if (is_crash_signal(sig)) {
    capture(t, tid, sig, res);
    return;
  }
  if (sig == SIGCONT) {
    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 &&
        own_sigcont(t, tgid_of(tid), &si)) {
      ptrace(PTRACE_CONT, tid, 0, 0);
      return;
    }
  }
  ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig);
}
