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
  int sock = -1, image = -1, log_fd = -1;
  for (int i = 1; i + 1 < argc; i++) {
    if (str_eq(argv[i], "--fd"))
      sock = parse_fd(argv[i + 1]);
    else if (str_eq(argv[i], "--image-fd"))
      image = parse_fd(argv[i + 1]);
    else if (str_eq(argv[i], "--summary-fd"))
      log_fd = parse_fd(argv[i + 1]);
  }
  if (sock < 0 || image < 0)
    sys_exit(2);
  SYS3(__NR_prctl, K_PR_SET_NAME, "crashwatch-wd", 0);

  /* SIGTERM, SIGINT, SIGHUP (a service or container being stopped): with
   * no crash pending they end this stage (default action) while it waits
   * in ppoll; otherwise they stay blocked, and pending across the exec,
   * so the full watchdog finishes the report before they take effect. */
  unsigned long stop_sigs = (1ul << (K_SIGHUP - 1)) | (1ul << (K_SIGINT - 1)) |
                            (1ul << (K_SIGTERM - 1));
  unsigned long waiting;
  sys6(__NR_rt_sigprocmask, K_SIG_BLOCK, (long)&stop_sigs, (long)&waiting, 8,
       0, 0);
  waiting &= ~stop_sigs;

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
    if (r <= 0)
      sys_exit(0); /* EOF or ECONNRESET: the app is gone */
    break;
  }
  SYS3(__NR_fcntl, image, K_F_SETFD, K_FD_CLOEXEC);
  long err = sys6(__NR_execveat, image, (long)"", (long)argv, (long)envp,
                  K_AT_EMPTY_PATH, 0);
  log_exec_failure(log_fd, err);
  for (;;) {
    cw_crash_record_t rec;
    long n = sys6(__NR_recvfrom, sock, (long)&rec, sizeof(rec), 0, 0, 0);
    if (n == -K_EINTR)
      continue;
    if (n <= 0)
      sys_exit(n == 0 ? 0 : 1);
    cw_crash_ack_t ack = {.magic = CW_CRASH_ACK_MAGIC,
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
