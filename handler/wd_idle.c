/*
 * wd_idle.c — the watchdog's idle stage: a freestanding program (no libc,
 * raw system calls, built with -nostdlib -static) embedded in libcrashwatch
 * next to the real watchdog.
 *
 * cw_init() starts this program instead of the full watchdog. It gets the
 * same command line plus `--image-fd N`, an fd of the full watchdog's
 * executable (a memfd). It waits for the crash socket to become readable
 * without reading it: when the app closes its end (exit, cw_shutdown) it
 * exits; when a crash record arrives it exec()s the full watchdog in place
 * (same pid, so PR_SET_PTRACER still names it; same fds), which then reads
 * the record and captures as usual. An idle app thus pays for a few pages
 * instead of a dynamically linked process with libunwind, libelf, liblzma
 * and libz loaded, and nothing is initialized before the first crash.
 *
 * If that exec fails, every record gets an error ack at once, so the app
 * dies without waiting for its ack timeout.
 *
 * With --upload-pending (cw_init had a DSN or an upload URL), it first
 * delivers what an earlier run left in the spool, off the app's clock: if
 * the spool holds a report, it kicks the spool's uploader and tries its lock
 * (uploader/upload_lock.h; a running uploader takes the work), then starts
 * the full watchdog's upload mode detached (double fork, setsid), handing
 * it the locked descriptor: `crashwatch-upload --upload --spool DIR
 * --lock-fd N`. The DSN is in the environment, never in argv.
 * With --upload-at-exit (a DSN and a release: the app leaves its session's
 * update in the spool at its end), it does the same once the app's end of
 * the socket has closed.
 */
#include <asm/unistd.h>
#include <stddef.h>
#include <stdint.h>

#include "crash_record.h"

#define K_POLLIN 0x1
#define K_MSG_PEEK 0x2
#define K_MSG_DONTWAIT 0x40
#define K_MSG_NOSIGNAL 0x4000
#define K_AT_EMPTY_PATH 0x1000
#define K_F_SETFD 2
#define K_FD_CLOEXEC 1
#define K_EINTR 4
#define K_EAGAIN 11
#define K_PR_SET_NAME 15
#define K_SIGHUP 1
#define K_SIGINT 2
#define K_SIGTERM 15
#define K_SIG_BLOCK 0
#define K_CW_EWATCHDOG (-4010) /* crashwatch.h's CW_EWATCHDOG */
#define K_O_RDONLY 0
#define K_O_WRONLY 1
#define K_O_RDWR 2
#define K_O_CREAT 0100
#define K_O_NONBLOCK 04000
#define K_O_DIRECTORY 0200000
#define K_O_NOFOLLOW 0400000
#define K_O_CLOEXEC 02000000
#define K_LOCK_EX 2
#define K_LOCK_NB 4
#define K_SIGCHLD 17
#define K_AT_FDCWD (-100)
#define K_PATH_MAX 4096

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define SYS3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static void __attribute__((noreturn)) sys_exit(int code) {
  for (;;)
    sys6(__NR_exit_group, code, 0, 0, 0, 0, 0);
}

static int str_eq(const char *a, const char *b) {
  while (*a && *a == *b)
    a++, b++;
  return *a == *b;
}

/* A non-negative decimal int, or -1. */
static int parse_fd(const char *s) {
  long v = 0;
  if (s == NULL || *s == '\0')
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 1000000000L)
      return -1;
    v = v * 10 + (*s - '0');
  }
  return (int)v;
}

/* dst = a + b (+ c), or 0 if it does not fit. */
static int join(char *dst, const char *a, const char *b, const char *c) {
  unsigned long n = 0;
  for (const char *parts[3] = {a, b, c}, **p = parts; p < parts + 3; p++)
    for (const char *q = *p; q && *q; q++) {
      if (n + 1 >= K_PATH_MAX)
        return 0;
      dst[n++] = *q;
    }
  dst[n] = '\0';
  return 1;
}

/* A committed report's name: 32 lowercase hex digits
 * (cw__spool_is_report_name). */
static int is_report_name(const char *s) {
  int n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
      return 0;
  return n == 32;
}

static int spool_has_report(const char *spool) {
  long dfd =
      SYS3(__NR_open, spool, K_O_RDONLY | K_O_DIRECTORY | K_O_CLOEXEC, 0);
  if (dfd < 0)
    return 0;
  static char buf[4096] __attribute__((aligned(8)));
  int found = 0;
  long n;
  while (!found && (n = SYS3(__NR_getdents64, dfd, buf, sizeof(buf))) > 0) {
    for (long off = 0; off < n;) {
      /* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
      unsigned short reclen = *(unsigned short *)(buf + off + 16);
      if (is_report_name(buf + off + 19)) {
        found = 1;
        break;
      }
      off += reclen;
    }
  }
  SYS3(__NR_close, dfd, 0, 0);
  return found;
}

static void fmt_uint(char *out, unsigned long v) {
  char d[24];
  int k = 0;
  do
    d[k++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  int n = 0;
  while (k > 0)
    out[n++] = d[--k];
  out[n] = '\0';
}

/* Closes every descriptor >= 3 but a and b (a < b). */
static void close_all_but(int a, int b) {
  if (a > 3)
    SYS3(__NR_close_range, 3, a - 1, 0);
  if (b > a + 1)
    SYS3(__NR_close_range, a + 1, b - 1, 0);
  SYS3(__NR_close_range, b + 1, ~0U, 0);
}

/* --upload-pending: see the top of the file. Never blocks for long: the
 * double fork's intermediate child exits at once. */
static void upload_pending(const char *spool, int image, char **envp) {
  static char path[K_PATH_MAX];
  if (spool == 0 || !spool_has_report(spool))
    return;
  if (!join(path, spool, "/.state", 0))
    return;
  SYS3(__NR_mkdir, path, 0700, 0);
  if (!join(path, spool, "/.state/uploader.kick", 0))
    return;
  long k = SYS3(
      __NR_open, path,
      K_O_WRONLY | K_O_CREAT | K_O_NOFOLLOW | K_O_NONBLOCK | K_O_CLOEXEC, 0600);
  if (k < 0)
    return;
  SYS3(__NR_close, k, 0, 0);
  if (!join(path, spool, "/.state/uploader.lock", 0))
    return;
  long lock = SYS3(__NR_open, path,
                   K_O_RDWR | K_O_CREAT | K_O_NOFOLLOW | K_O_NONBLOCK, 0600);
  if (lock < 0)
    return;
  if (SYS3(__NR_flock, lock, K_LOCK_EX | K_LOCK_NB, 0) != 0) {
    /* A running uploader has it, and the kick. */
    SYS3(__NR_close, lock, 0, 0);
    return;
  }
  long mid = sys6(__NR_clone, K_SIGCHLD, 0, 0, 0, 0, 0);
  if (mid == 0) {
    SYS3(__NR_setsid, 0, 0, 0);
    if (sys6(__NR_clone, K_SIGCHLD, 0, 0, 0, 0, 0) != 0)
      sys_exit(0);
    /* The detached grandchild: nothing of the watchdog's (the crash socket
     * above all) but the lock and the image. */
    int a = (int)lock < image ? (int)lock : image;
    int b = (int)lock < image ? image : (int)lock;
    close_all_but(a, b);
    static char fd_str[24];
    fmt_uint(fd_str, (unsigned long)lock);
    char *argv[] = {"crashwatch-upload", "--upload", "--spool", (char *)spool,
                    "--lock-fd",         fd_str,     0};
    sys6(__NR_execveat, image, (long)"", (long)argv, (long)envp,
         K_AT_EMPTY_PATH, 0);
    sys_exit(127);
  }
  if (mid > 0)
    while (sys6(__NR_wait4, mid, 0, 0, 0, 0, 0) == -K_EINTR)
      ;
  SYS3(__NR_close, lock, 0, 0);
}

/* "crashwatch-watchdog: cannot start the capture stage (errno N)\n" */
static void log_exec_failure(int log_fd, long err) {
  static const char head[] =
      "crashwatch-watchdog: cannot start the capture stage (errno ";
  char line[sizeof(head) + 24];
  size_t n = 0;
  for (; head[n]; n++)
    line[n] = head[n];
  char digits[20];
  int k = 0;
  unsigned long u = (unsigned long)(err < 0 ? -err : err);
  do
    digits[k++] = (char)('0' + u % 10);
  while ((u /= 10) != 0 && k < 20);
  while (k > 0)
    line[n++] = digits[--k];
  line[n++] = ')';
  line[n++] = '\n';
  if (log_fd >= 0)
    SYS3(__NR_write, log_fd, line, n);
}

/* Called from _start with the initial stack pointer (argc, argv..., NULL,
 * envp..., NULL). */
__attribute__((used, noreturn)) static void idle_main(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  int sock = -1, image = -1, log_fd = -1, pending = 0, at_exit = 0;
  const char *spool = 0;
  for (int i = 1; i < argc; i++)
    if (str_eq(argv[i], "--upload-pending"))
      pending = 1;
    else if (str_eq(argv[i], "--upload-at-exit"))
      at_exit = 1;
  for (int i = 1; i + 1 < argc; i++) {
    if (str_eq(argv[i], "--fd"))
      sock = parse_fd(argv[i + 1]);
    else if (str_eq(argv[i], "--image-fd"))
      image = parse_fd(argv[i + 1]);
    else if (str_eq(argv[i], "--summary-fd"))
      log_fd = parse_fd(argv[i + 1]);
    else if (str_eq(argv[i], "--spool"))
      spool = argv[i + 1];
  }
  if (sock < 0 || image < 0)
    sys_exit(2);
  SYS3(__NR_prctl, K_PR_SET_NAME, "crashwatch-wd", 0);
  if (pending)
    upload_pending(spool, image, envp);

  /* SIGTERM, SIGINT, SIGHUP (a service or container being stopped) stay
   * blocked here: a service stop signals the whole cgroup at once, and the
   * app may still crash while it shuts down; this stage ends when the
   * app's end of the socket closes (the app is gone), or execs the full
   * watchdog for a crash, with the signals pending across the exec so
   * it finishes the report before they take effect. */
  unsigned long stop_sigs = (1ul << (K_SIGHUP - 1)) | (1ul << (K_SIGINT - 1)) |
                            (1ul << (K_SIGTERM - 1));
  unsigned long waiting;
  sys6(__NR_rt_sigprocmask, K_SIG_BLOCK, (long)&stop_sigs, (long)&waiting, 8, 0,
       0);
  waiting |= stop_sigs;

  for (;;) {
    struct {
      int fd;
      short events, revents;
    } p = {sock, K_POLLIN, 0};
    long r = sys6(__NR_ppoll, (long)&p, 1, 0, (long)&waiting, 8, 0);
    if (r == -K_EINTR)
      continue;
    if (r < 0)
      sys_exit(1);
    /* Peek one byte: 0 is the app's end closed, > 0 a pending record that
     * the full watchdog will read. */
    char c;
    r = sys6(__NR_recvfrom, sock, (long)&c, 1, K_MSG_PEEK | K_MSG_DONTWAIT, 0,
             0);
    if (r == -K_EINTR || r == -K_EAGAIN)
      continue;
    if (r <= 0) {
      /* EOF or ECONNRESET: the app is gone. With --upload-at-exit, what it
       * left at its end (its session's update) is delivered now, as at a
       * start. */
      if (at_exit && spool)
        upload_pending(spool, image, envp);
      sys_exit(0);
    }
    break;
  }
  SYS3(__NR_fcntl, image, K_F_SETFD, K_FD_CLOEXEC);
  long err = sys6(__NR_execveat, image, (long)"", (long)argv, (long)envp,
                  K_AT_EMPTY_PATH, 0);
  log_exec_failure(log_fd, err);
  for (;;) {
    cw__crash_record_t rec;
    long n = sys6(__NR_recvfrom, sock, (long)&rec, sizeof(rec), 0, 0, 0);
    if (n == -K_EINTR)
      continue;
    if (n <= 0)
      sys_exit(n == 0 ? 0 : 1);
    cw__crash_ack_t ack = {.magic = CW_CRASH_ACK_MAGIC,
                           .status = K_CW_EWATCHDOG};
    sys6(__NR_sendto, sock, (long)&ack, sizeof(ack), K_MSG_NOSIGNAL, 0, 0);
  }
}

__asm__(".text\n"
        ".globl _start\n"
        ".type _start,@function\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call idle_main\n"
        "  hlt\n");

/* What the compiler may call for struct copies and initializers. */
void *memset(void *d, int c, size_t n) {
  unsigned char *p = d;
  while (n--)
    *p++ = (unsigned char)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--)
    *p++ = *q++;
  return d;
}
