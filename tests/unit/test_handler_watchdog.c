/* test_handler_watchdog.c — the watchdog executable's main loop
 * (watchdog/main.c), driven over a real socketpair: it answers every
 * record with exactly one ack (CW_EFORMAT for a malformed one, the capture
 * error when capture fails), and exits when the app's end closes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include "cw_test_support.h"

#include "crash_record.h"
#include "crashwatch.h"

typedef struct {
  pid_t pid;
  int sock;
  char dir[PATH_MAX];
  char log[PATH_MAX + 16];
} wd_t;

/* Starts the watchdog for app pid app_pid; its stderr goes to w->log. */
static void start(wd_t *w, pid_t app_pid) {
  const char *root = getenv("CW_TEST_TMP");
  snprintf(w->dir, sizeof(w->dir), "%s/wdloop-XXXXXX",
           root && *root ? root : "/tmp");
  assert_non_null(mkdtemp(w->dir));
  snprintf(w->log, sizeof(w->log), "%s/stderr", w->dir);
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
                   0);
  char fd[16], pid[16];
  snprintf(fd, sizeof(fd), "%d", sv[1]);
  snprintf(pid, sizeof(pid), "%d", (int)app_pid);
  w->pid = fork();
  assert_true(w->pid >= 0);
  if (w->pid == 0) {
    fcntl(sv[1], F_SETFD, 0);
    int log = open(w->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(log, 2);
    execl(CW_WATCHDOG_EXE, "crashwatch-watchdog", "--fd", fd, "--pid", pid,
          "--spool", w->dir, "--summary-fd", "2", (char *)NULL);
    _exit(127);
  }
  close(sv[1]);
  w->sock = sv[0];
}

/* Closes the app's end and returns the watchdog's exit status. */
static int stop(wd_t *w) {
  close(w->sock);
  int status;
  assert_int_equal(waitpid(w->pid, &status, 0), w->pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static cw__crash_record_t good_record(pid_t pid) {
  cw__crash_record_t r;
  memset(&r, 0, sizeof(r));
  r.magic = CW_CRASH_RECORD_MAGIC;
  r.version = CW_CRASH_RECORD_VERSION;
  r.size = sizeof(r);
  r.signo = SIGSEGV;
  r.si_code = 1;
  r.pid = pid;
  r.tid = pid;
  return r;
}

static void send_bytes(int sock, const void *p, size_t n) {
  assert_int_equal(send(sock, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static char *read_log(const wd_t *w) {
  static char buf[8192];
  int fd = open(w->log, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
  if (fd >= 0)
    close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

static void test_watchdog_rejects_bad_arguments(void **state) {
  (void)state;
  pid_t p = fork();
  if (p == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execl(CW_WATCHDOG_EXE, "crashwatch-watchdog", "--fd", "x", (char *)NULL);
    _exit(127);
  }
  int status;
  assert_int_equal(waitpid(p, &status, 0), p);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 2);
}

static void test_watchdog_exits_on_eof(void **state) {
  (void)state;
  wd_t w;
  start(&w, getpid());
  assert_int_equal(stop(&w), 0);
}

static void test_watchdog_acks_malformed_records(void **state) {
  (void)state;
  wd_t w;
  start(&w, getpid());
  send_bytes(w.sock, "garbage", 7);
  assert_int_equal(cw__test_recv_ack(w.sock), CW_EFORMAT);

  cw__crash_record_t r = good_record(getpid());
  r.magic = 0x12345678;
  send_bytes(w.sock, &r, sizeof(r));
  assert_int_equal(cw__test_recv_ack(w.sock), CW_EFORMAT);

  r = good_record(getpid());
  r.version = 99;
  send_bytes(w.sock, &r, sizeof(r));
  assert_int_equal(cw__test_recv_ack(w.sock), CW_EFORMAT);

  r = good_record(getpid() + 1); /* not the app it watches */
  send_bytes(w.sock, &r, sizeof(r));
  assert_int_equal(cw__test_recv_ack(w.sock), CW_EFORMAT);

  char big[sizeof(cw__crash_record_t) + 16];
  r = good_record(getpid());
  memset(big, 0, sizeof(big));
  memcpy(big, &r, sizeof(r));
  send_bytes(w.sock, big, sizeof(big));
  assert_int_equal(cw__test_recv_ack(w.sock), CW_EFORMAT);

  assert_int_equal(stop(&w), 0);
  const char *log = read_log(&w);
  assert_non_null(strstr(log, "bad magic"));
  assert_non_null(strstr(log, "unsupported version"));
  assert_non_null(strstr(log, "pid is not the app's"));
  assert_non_null(strstr(log, "wrong size"));
}

/* Capture of a process that is gone fails; the app still gets its ack,
 * with the error, and the watchdog says so on stderr. */
static void test_watchdog_acks_failed_capture(void **state) {
  (void)state;
  pid_t gone = fork();
  if (gone == 0)
    _exit(0);
  assert_int_equal(waitpid(gone, NULL, 0), gone);
  wd_t w;
  start(&w, gone);
  cw__crash_record_t r = good_record(gone);
  send_bytes(w.sock, &r, sizeof(r));
  int status = cw__test_recv_ack(w.sock);
  assert_true(status < 0);
  assert_int_equal(stop(&w), 0);
  assert_non_null(strstr(read_log(&w), "failed"));
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_watchdog_rejects_bad_arguments),
      cmocka_unit_test(test_watchdog_exits_on_eof),
      cmocka_unit_test(test_watchdog_acks_malformed_records),
      cmocka_unit_test(test_watchdog_acks_failed_capture),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
