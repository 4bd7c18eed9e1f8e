/* test_crash_record.c — how the in-process handler encodes a crash: a real
 * child initializes crashwatch with a stand-in watchdog that saves the raw
 * record (tests/progs/record_watchdog.c), then faults at a known address in
 * a known function; the record must carry exactly that crash. */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash_record.h"
#include "crashwatch.h"

#define FAULT_ADDR ((uintptr_t)0x7a5a0)

static char workdir[PATH_MAX];

static int setup(void **state) {
  (void)state;
  const char *root = getenv("CW_TEST_TMP");
  snprintf(workdir, sizeof(workdir), "%s/crashrec-XXXXXX",
           root && *root ? root : "/tmp");
  return mkdtemp(workdir) ? 0 : -1;
}

__attribute__((noinline)) static void fault_here(void) {
  /* A store to an unmapped page: SIGSEGV, SEGV_MAPERR, si_addr known. */
  *(volatile int *)FAULT_ADDR = 42;
  __asm__ volatile("" ::: "memory");
}

/* Runs a child that crashes (or, with how == 'k', is killed by a sent
 * SIGABRT) and returns the saved record. */
static void crash_child(char how, cw__crash_record_t *rec, ssize_t *len,
                        pid_t *child, int *status) {
  char out[PATH_MAX + 16], spool[PATH_MAX + 16];
  snprintf(out, sizeof(out), "%s/record-%c", workdir, how);
  snprintf(spool, sizeof(spool), "%s/spool", workdir);
  unlink(out);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* cmocka catches crash signals to report a failed test; the child must
     * crash like a plain program (crashwatch would chain to cmocka's). */
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
      signal(sigs[i], SIG_DFL);
    setenv("CRASHWATCH_WATCHDOG", CW_RECORD_WATCHDOG, 1);
    setenv("CW_RECORD_OUT", out, 1);
    setenv("CRASHWATCH_SPOOL", spool, 1);
    setenv("CRASHWATCH_ACK_TIMEOUT_MS", "20000", 1);
    if (cw_init(NULL) != 0)
      _exit(99);
    if (how == 'k')
      kill(getpid(), SIGABRT);
    else
      fault_here();
    _exit(98);
  }
  assert_int_equal(waitpid(pid, status, 0), pid);
  *child = pid;
  int fd = open(out, O_RDONLY);
  assert_true(fd >= 0);
  memset(rec, 0, sizeof(*rec));
  *len = read(fd, rec, sizeof(*rec));
  close(fd);
}

static void test_record_of_a_fault(void **state) {
  (void)state;
  cw__crash_record_t rec;
  ssize_t len;
  pid_t child;
  int status;
  struct timespec before;
  clock_gettime(CLOCK_REALTIME, &before);
  crash_child('f', &rec, &len, &child, &status);
  /* The process still died by its own signal. */
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGSEGV);
  /* One whole record of this protocol version. */
  assert_int_equal(len, (ssize_t)sizeof(cw__crash_record_t));
  assert_int_equal(rec.magic, CW_CRASH_RECORD_MAGIC);
  assert_int_equal(rec.version, CW_CRASH_RECORD_VERSION);
  assert_int_equal(rec.size, sizeof(cw__crash_record_t));
  /* The crash itself. */
  assert_int_equal(rec.signo, SIGSEGV);
  assert_int_equal(rec.si_code, SEGV_MAPERR);
  assert_int_equal(rec.fault_addr, FAULT_ADDR);
  assert_int_equal(rec.pid, child);
  assert_int_equal(rec.tid, child); /* the main thread crashed */
  assert_int_equal(rec.sender_pid, 0);
  /* The faulting context, not the handler's: RIP is inside fault_here
   * (the child is a fork of this process, so addresses match), RSP is on
   * the main stack, not the alternate signal stack. */
  uint64_t rip = rec.context.gregs[REG_RIP];
  uintptr_t fn = (uintptr_t)&fault_here;
  assert_in_range(rip, fn, fn + 64);
  uint64_t rsp = rec.context.gregs[REG_RSP];
  assert_true(rsp != 0);
  assert_true(rec.handler_sp != 0);
  uint64_t d =
      rsp > rec.handler_sp ? rsp - rec.handler_sp : rec.handler_sp - rsp;
  assert_true(d > 64 * 1024); /* handler ran on its own stack */
  assert_int_equal(rec.context.gregs[REG_ERR] & 2, 2); /* a write fault */
  assert_int_equal(rec.context.has_fpregs, 1);
  /* FXSAVE image: MXCSR at byte 24 holds its power-on default 0x1f80 in a
   * program that never touched it. */
  uint32_t mxcsr;
  memcpy(&mxcsr, rec.context.fpregs + 24, sizeof(mxcsr));
  assert_int_equal(mxcsr & 0xffc0, 0x1f80 & 0xffc0);
  assert_true(rec.ucontext_addr != 0);
  /* Timestamps from the moment of the crash. */
  uint64_t t0 =
      (uint64_t)before.tv_sec * 1000000000u + (uint64_t)before.tv_nsec;
  assert_true(rec.time_realtime_ns >= t0);
  assert_true(rec.time_realtime_ns < t0 + 60ull * 1000000000u);
  assert_true(rec.time_monotonic_ns != 0);
}

static void test_record_of_a_sent_signal(void **state) {
  (void)state;
  cw__crash_record_t rec;
  ssize_t len;
  pid_t child;
  int status;
  crash_child('k', &rec, &len, &child, &status);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGABRT);
  assert_int_equal(len, (ssize_t)sizeof(cw__crash_record_t));
  assert_int_equal(rec.signo, SIGABRT);
  assert_int_equal(rec.si_code, SI_USER);
  assert_int_equal(rec.sender_pid, child); /* it sent the signal itself */
  assert_int_equal(rec.fault_addr, 0);
  assert_int_equal(rec.pid, child);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_record_of_a_fault),
      cmocka_unit_test(test_record_of_a_sent_signal),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
