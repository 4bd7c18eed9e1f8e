/*
 * crashprog.c — a program that initializes crashwatch and crashes in the
 * way its first argument names, through a chain of non-inlined functions
 * (crash_here < level2 < level1 < main) that the integration tests look for
 * in the report. See tests/integration/crash_tests.py.
 *
 *   crashprog MODE     null abort fpe ill bus trap segv-kill stack-main
 *                      stack-thread shlib threads50 two-threads prev-handler
 *                      no-watchdog stopped-watchdog fork-child ignored-kill
 *                      sys fsize wait-go vdso wait-stdin (null after a
 *                      line on stdin: the test changes the spool between
 *                      cw_init and the crash) daemonize daemon-closefds
 *                      workers fd-closed fd-dup2 fd-reused seccomp-watchdog
 *
 * Environment: CRASHWATCH_SPOOL etc. as for any app; CW_MARKER is the file
 * the previously installed handler writes (prev-handler).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"

#if defined(__GNUC__) && !defined(__clang__)
#define NOINLINE __attribute__((noinline, noipa))
#else
#define NOINLINE __attribute__((noinline))
#endif

int crashlib_entry(volatile int *p);

static const char *mode;
static volatile int sink;
static volatile int keep_going = 1;

static void die(const char *what) {
  fprintf(stderr, "crashprog: %s: %s\n", what, strerror(errno));
  exit(3);
}

/* SIGBUS: a mapping two pages long over a file one page long. */
static volatile char *truncated_mapping(void) {
  char path[] = "/tmp/crashprog-bus-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    die("mkstemp");
  unlink(path);
  long pg = sysconf(_SC_PAGESIZE);
  if (ftruncate(fd, pg) != 0)
    die("ftruncate");
  char *p =
      mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    die("mmap");
  return p + pg;
}

/* SIGSYS: a seccomp filter that traps uname(2). */
static void trap_uname(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
    die("seccomp");
}

NOINLINE int crash_here(int how) {
  if (strcmp(mode, "abort") == 0) {
    abort();
  } else if (strcmp(mode, "fpe") == 0) {
    /* idiv by zero in asm, so no sanitizer intercepts the division */
    int q, zero = how - how;
    __asm__ volatile("cltd\n\tidivl %1" : "=a"(q) : "r"(zero), "a"(7) : "edx");
    return q;
  } else if (strcmp(mode, "ill") == 0) {
    __asm__ volatile("ud2");
  } else if (strcmp(mode, "trap") == 0) {
    __asm__ volatile("int3");
  } else if (strcmp(mode, "bus") == 0) {
    volatile char *p = truncated_mapping();
    *p = 1;
  } else if (strcmp(mode, "sys") == 0) {
    trap_uname();
    char buf[512];
    syscall(SYS_uname, buf);
  } else if (strcmp(mode, "vdso") == 0) {
    /* glibc hands the pointer to the vDSO's clock_gettime, which faults
     * writing it: frame 0 in the vDSO. Without a vDSO the system call
     * returns EFAULT instead, and the test skips. */
    clock_gettime(CLOCK_MONOTONIC, (struct timespec *)(long)(how - how + 8));
    fprintf(stderr, "crashprog: no fault in the vDSO\n");
    exit(77);
  } else if (strcmp(mode, "segv-kill") == 0) {
    kill(getpid(), SIGSEGV); /* sent, not a fault */
  } else if (strcmp(mode, "shlib") == 0) {
    int r = crashlib_entry((volatile int *)(long)(how - how));
    sink = r; /* no tail call: crash_here stays on the stack */
    return r + 1;
  } else {
    volatile int *p = (volatile int *)(long)(how - how);
    *p = how; /* null dereference */
  }
  return how + 1;
}

NOINLINE int level2(int x) {
  int r = crash_here(x + 1);
  sink = r;
  return r + 1;
}

NOINLINE int level1(int x) {
  int r = level2(x + 1);
  sink = r;
  return r + 1;
}

/* Unbounded recursion with a real frame each time. */
NOINLINE int overflow_recurse(int depth) {
  volatile char pad[512];
  pad[0] = (char)depth;
  pad[511] = (char)depth;
  int r = keep_going ? overflow_recurse(depth + 1) : 0;
  return r + pad[0] + pad[511];
}

static void *stack_thread(void *arg) {
  (void)arg;
  if (cw_thread_init() != 0)
    fprintf(stderr, "cw_thread_init: %s\n", cw_last_error());
  overflow_recurse(0);
  return NULL;
}

static pthread_barrier_t barrier;

/* Threads that just wait, so the capture has many threads to stop. */
static void *idle_thread(void *arg) {
  (void)arg;
  cw_thread_init();
  pthread_barrier_wait(&barrier);
  for (;;)
    pause();
  return NULL;
}

NOINLINE void *crashing_worker(void *arg) {
  cw_thread_init();
  pthread_barrier_wait(&barrier);
  sink = level1((int)(long)arg);
  return NULL;
}

static void prev_handler(int signo) {
  const char *path = getenv("CW_MARKER");
  if (path != NULL) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      char msg[32];
      int n = snprintf(msg, sizeof(msg), "signal %d\n", signo);
      ssize_t w = write(fd, msg, (size_t)n);
      (void)w;
      close(fd);
    }
  }
}

/* The watchdog: the process whose command line names crashwatch-watchdog
 * and says --pid <our pid>; 0 if there is none now. */
static pid_t find_watchdog(void) {
  char want[32];
  snprintf(want, sizeof(want), "%d", (int)getpid());
  DIR *d = opendir("/proc");
  if (d == NULL)
    die("opendir /proc");
  struct dirent *e;
  pid_t found = 0;
  while (found == 0 && (e = readdir(d)) != NULL) {
    int pid = atoi(e->d_name);
    if (pid <= 0 || pid == getpid())
      continue;
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
      continue;
    buf[n] = '\0';
    if (strstr(buf, "crashwatch-watchdog") == NULL)
      continue;
    for (char *p = buf; p < buf + n; p += strlen(p) + 1)
      if (strcmp(p, "--pid") == 0 && p + strlen(p) + 1 < buf + n &&
          strcmp(p + strlen(p) + 1, want) == 0)
        found = pid;
  }
  closedir(d);
  return found;
}

/* The watchdog, looked for up to 2 s: right after cw_init() it may still
 * be finishing its exec, and its /proc/PID/cmdline reads empty for that
 * moment. Exits 4 if there is none. */
static pid_t wait_watchdog(void) {
  for (int i = 0; i < 1000; i++) {
    pid_t wd = find_watchdog();
    if (wd > 0)
      return wd;
    usleep(2000);
  }
  fprintf(stderr, "crashprog: no watchdog found\n");
  exit(4);
}

/* SIGKILL: waits until the watchdog is dead. SIGSTOP: leaves it stopped
 * and says so. */
static void signal_watchdog(int sig) {
  pid_t pid = wait_watchdog();
  kill(pid, sig);
  if (sig == SIGSTOP) {
    printf("watchdog stopped %d\n", (int)pid);
    return;
  }
  /* Wait until it is gone or a zombie: its socket is closed by then. */
  for (;;) {
    char path[64], st[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      break;
    ssize_t n = read(fd, st, sizeof(st) - 1);
    close(fd);
    if (n <= 0)
      break;
    st[n] = '\0';
    char *rp = strrchr(st, ')');
    if (rp != NULL && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'))
      break;
    usleep(1000);
  }
  if (sig == SIGKILL)
    printf("watchdog killed\n");
}

/* The number of threads of the watchdog, or -1 if there is none. */
static int watchdog_threads(void) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", (int)wait_watchdog());
  DIR *t = opendir(path);
  if (t == NULL)
    return -1;
  int threads = 0;
  struct dirent *te;
  while ((te = readdir(t)) != NULL)
    threads += te->d_name[0] != '.';
  closedir(t);
  return threads;
}

/* The crash socket: the process's only AF_UNIX socket fd, or -1. */
static int crash_socket_fd(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    die("opendir /proc/self/fd");
  int found = -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[300], link[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0)
      continue;
    link[n] = '\0';
    if (strncmp(link, "socket:", 7) == 0)
      found = atoi(e->d_name);
  }
  closedir(d);
  return found;
}

/* A daemon's start: fork, the parent exits, the child starts a session
 * and forks again, the grandchild is the daemon (and returns). */
static void daemonize(void) {
  pid_t c = fork();
  if (c < 0)
    die("fork");
  if (c > 0) {
    printf("parent exits\n");
    _exit(0);
  }
  if (setsid() < 0)
    die("setsid");
  c = fork();
  if (c < 0)
    die("fork");
  if (c > 0)
    _exit(0);
  printf("daemon pid %d\n", (int)getpid());
}

/* A prefork server: 8 workers, the 3rd and 6th crash, the others exit. */
static int workers(void) {
  pid_t pids[8];
  for (int i = 0; i < 8; i++) {
    pids[i] = fork();
    if (pids[i] < 0)
      die("fork");
    if (pids[i] == 0) {
      if (i == 2 || i == 5) {
        mode = "null";
        sink = level1(i);
      }
      usleep(100 * 1000);
      _exit(0);
    }
  }
  for (int i = 0; i < 8; i++) {
    int status;
    while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR) {
    }
    printf("worker %d status %s %d\n", (int)pids[i],
           WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  }
  return 0;
}

/* A seccomp filter the watchdog inherits: ptrace(2) kills the process
 * that calls it (the app never does; the watchdog does to capture). */
static void kill_on_ptrace(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
    die("seccomp");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: crashprog MODE\n");
    return 2;
  }
  mode = argv[1];
  setvbuf(stdout, NULL, _IONBF, 0);

  if (strcmp(mode, "prev-handler") == 0) {
    /* A handler that does its work and lets the default action follow
     * (SA_RESETHAND): it runs first, then the fault re-fires into SIG_DFL
     * and is reported. (One that returned and stayed installed would loop
     * on the fault forever, with or without crashwatch.) */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = prev_handler;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
  }
  if (strcmp(mode, "ignored-kill") == 0)
    signal(SIGSEGV, SIG_IGN);
  if (strcmp(mode, "fsize") == 0) {
    /* A soft file-size limit far below the watchdog's ~500 KiB image and
     * below a minidump: cw_init and the watchdog must both cope. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0)
      die("getrlimit");
    rl.rlim_cur = 100 * 1024;
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
      die("setrlimit");
    mode = "null";
  }
  if (strcmp(mode, "seccomp-watchdog") == 0) {
    kill_on_ptrace();
    mode = "null";
  }
  int rc = cw_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "crashprog: cw_init: %s (%s)\n", cw_last_error(),
            cw_err_name(rc));
    return 3;
  }
  printf("pid %d tid %ld\n", (int)getpid(), (long)syscall(SYS_gettid));
  /* CRASHPROG_SETTLE_MS: wait that long before the mode runs (a daemon
   * whose watchdog has settled and warmed up), then say how many threads
   * the watchdog runs. */
  const char *settle = getenv("CRASHPROG_SETTLE_MS");
  if (settle != NULL) {
    usleep((useconds_t)atoi(settle) * 1000u);
    printf("watchdog threads %d\n", watchdog_threads());
    fflush(stdout);
  }
  if (strcmp(mode, "init-only") == 0)
    return 0; /* no crash: exit right after cw_init */

  if (strcmp(mode, "stack-main") == 0)
    return overflow_recurse(0);
  if (strcmp(mode, "stack-thread") == 0) {
    pthread_t t;
    pthread_create(&t, NULL, stack_thread, NULL);
    pthread_join(t, NULL);
    return 1;
  }
  if (strcmp(mode, "threads50") == 0 || strcmp(mode, "two-threads") == 0) {
    int idle = strcmp(mode, "threads50") == 0 ? 50 : 0;
    int crashers = idle ? 1 : 2;
    pthread_barrier_init(&barrier, NULL, (unsigned)(idle + crashers));
    pthread_t t;
    for (int i = 0; i < idle; i++)
      pthread_create(&t, NULL, idle_thread, NULL);
    for (int i = 0; i < crashers; i++)
      pthread_create(&t, NULL, crashing_worker, (void *)(long)i);
    for (;;)
      pause();
  }
  if (strcmp(mode, "ignored-kill") == 0) {
    /* A sent SIGSEGV stays ignored as before cw_init(); a real fault is
     * still reported. */
    kill(getpid(), SIGSEGV);
    printf("still alive after kill -SEGV\n");
    mode = "null";
  }
  if (strcmp(mode, "wait-stdin") == 0) {
    char line[16];
    if (fgets(line, sizeof(line), stdin) == NULL)
      return 5;
    mode = "null";
  }
  if (strcmp(mode, "no-watchdog") == 0) {
    signal_watchdog(SIGKILL);
    mode = "null";
  }
  if (strcmp(mode, "daemonize") == 0 || strcmp(mode, "daemon-closefds") == 0) {
    int closefds = strcmp(mode, "daemon-closefds") == 0;
    daemonize();
    if (closefds) /* every fd, stdio and the crash socket included */
      syscall(SYS_close_range, 0u, ~0u, 0u);
    mode = "null";
  }
  if (strcmp(mode, "workers") == 0)
    return workers();
  if (strcmp(mode, "fd-closed") == 0) {
    syscall(SYS_close_range, 3u, ~0u, 0u);
    mode = "null";
  }
  if (strcmp(mode, "fd-dup2") == 0) {
    int s = crash_socket_fd(), n = open("/dev/null", O_RDWR);
    if (s < 0 || n < 0 || dup2(n, s) != s)
      die("dup2 over the crash socket");
    close(n);
    mode = "null";
  }
  if (strcmp(mode, "fd-reused") == 0) {
    /* Another socket on the crash socket's number, its peer in a child
     * that reports what it receives once we are gone. */
    int s = crash_socket_fd(), sp[2];
    if (s < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) != 0)
      die("socketpair");
    pid_t c = fork();
    if (c < 0)
      die("fork");
    if (c == 0) {
      close(sp[0]);
      char buf[4096];
      long total = 0;
      ssize_t n;
      while ((n = recv(sp[1], buf, sizeof(buf), 0)) > 0 ||
             (n < 0 && errno == EINTR))
        total += n > 0 ? n : 0;
      printf("stranger received %ld bytes\n", total);
      _exit(0);
    }
    if (dup2(sp[0], s) != s)
      die("dup2");
    close(sp[0]);
    close(sp[1]);
    mode = "null";
  }
  if (strcmp(mode, "wait-go") == 0) {
    /* Crash when the test says so (a line on stdin). */
    char line[16];
    if (fgets(line, sizeof(line), stdin) == NULL)
      die("reading stdin");
    mode = "null";
  }
  if (strcmp(mode, "stopped-watchdog") == 0) {
    signal_watchdog(SIGSTOP);
    mode = "null";
  }
  if (strcmp(mode, "fork-child") == 0) {
    pid_t child = fork();
    if (child < 0)
      die("fork");
    if (child == 0) {
      mode = "null";
      sink = level1(0);
      _exit(0);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    printf("child %d status %s %d\n", (int)child,
           WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    mode = "null"; /* now the parent crashes: its report must exist */
  }
  sink = level1(argc);
  return 1;
}
