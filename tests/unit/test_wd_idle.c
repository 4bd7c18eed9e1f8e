/* test_wd_idle.c — the watchdog's idle stage (handler/wd_idle.c), run as
 * the real freestanding executable over a real socketpair: it exits when
 * the app's end closes without exec'ing anything; a pending record makes
 * it exec the image it was given (the real crashwatch-watchdog, which then
 * reads that record itself: the idle stage only peeked); and when that
 * exec fails, every record still gets one ack (CW_EWATCHDOG) at once. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
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
} idle_t;

/* Starts the idle stage with image_path's fd as --image-fd. */
static void start(idle_t *w, const char *image_path) {
  const char *root = getenv("CW_TEST_TMP");
  snprintf(w->dir, sizeof(w->dir), "%s/wdidle-XXXXXX",
           root && *root ? root : "/tmp");
  assert_non_null(mkdtemp(w->dir));
  snprintf(w->log, sizeof(w->log), "%s/stderr", w->dir);
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv),
                   0);
  int image = open(image_path, O_RDONLY); /* inherited: no O_CLOEXEC */
  assert_true(image >= 0);
  char fd[16], pid[16], img[16];
  snprintf(fd, sizeof(fd), "%d", sv[1]);
  snprintf(pid, sizeof(pid), "%d", (int)getpid());
  snprintf(img, sizeof(img), "%d", image);
  w->pid = fork();
  assert_true(w->pid >= 0);
  if (w->pid == 0) {
    fcntl(sv[1], F_SETFD, 0);
    int log = open(w->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(log, 2);
    execl(CW_WD_IDLE_EXE, "crashwatch-watchdog", "--fd", fd, "--pid", pid,
          "--spool", w->dir, "--summary-fd", "2", "--image-fd", img,
          (char *)NULL);
    _exit(127);
  }
  close(image);
  close(sv[1]);
  w->sock = sv[0];
  /* A missing ack fails the test instead of hanging it. */
  struct timeval tv = {.tv_sec = 20};
  setsockopt(w->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int stop(idle_t *w) {
  close(w->sock);
  int status;
  assert_int_equal(waitpid(w->pid, &status, 0), w->pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void read_log(const idle_t *w, char *buf, size_t len) {
  buf[0] = '\0';
  FILE *f = fopen(w->log, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, len - 1, f);
  buf[n] = '\0';
  fclose(f);
}

static void cleanup(idle_t *w) {
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
  assert_int_equal(system(cmd), 0);
}

/* A record the full watchdog refuses (wrong magic) without touching any
 * process: its CW_EFORMAT ack shows who answered. */
static void send_bad_record(int sock) {
  cw__crash_record_t r;
  memset(&r, 0, sizeof(r));
  r.magic = 0x12345678u;
  assert_int_equal(send(sock, &r, sizeof(r), MSG_NOSIGNAL), sizeof(r));
}

static void test_exits_on_close(void **state) {
  (void)state;
  idle_t w;
  start(&w, CW_WATCHDOG_EXE);
  assert_int_equal(stop(&w), 0);
  char log[4096];
  read_log(&w, log, sizeof(log));
  assert_string_equal(log, ""); /* the full watchdog never ran */
  cleanup(&w);
}

static void test_record_execs_the_watchdog(void **state) {
  (void)state;
  idle_t w;
  start(&w, CW_WATCHDOG_EXE);
  send_bad_record(w.sock);
  assert_int_equal(cw__test_recv_ack(w.sock), CW_EFORMAT);
  /* The same process now runs the full watchdog, still serving. */
  char exe[64], target[PATH_MAX];
  snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)w.pid);
  ssize_t n = readlink(exe, target, sizeof(target) - 1);
  assert_true(n > 0);
  target[n] = '\0';
  assert_non_null(strstr(target, "crashwatch-watchdog"));
  send_bad_record(w.sock);
  assert_int_equal(cw__test_recv_ack(w.sock), CW_EFORMAT);
  assert_int_equal(stop(&w), 0);
  char log[4096];
  read_log(&w, log, sizeof(log));
  assert_non_null(strstr(log, "ignoring a crash record"));
  cleanup(&w);
}

static void test_exec_failure_acks(void **state) {
  (void)state;
  idle_t w;
  start(&w, "/dev/null"); /* not executable: execveat fails (EACCES) */
  for (int i = 0; i < 2; i++) {
    send_bad_record(w.sock);
    assert_int_equal(cw__test_recv_ack(w.sock), CW_EWATCHDOG);
  }
  assert_int_equal(stop(&w), 0);
  char log[4096];
  read_log(&w, log, sizeof(log));
  char want[128];
  snprintf(want, sizeof(want), "cannot start the capture stage (errno %d)",
           EACCES);
  assert_non_null(strstr(log, want));
  cleanup(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exits_on_close),
      cmocka_unit_test(test_record_execs_the_watchdog),
      cmocka_unit_test(test_exec_failure_acks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
