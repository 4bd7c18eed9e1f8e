/* cw_test_support.c — set-up shared by unit tests (cw_test_support.h). */
#include "cw_test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "crash_record.h"

pid_t cw__test_find_watchdog_now(void) {
  char want[32];
  snprintf(want, sizeof(want), "%d", (int)getpid());
  DIR *d = opendir("/proc");
  assert_non_null(d);
  struct dirent *e;
  pid_t found = 0;
  while ((e = readdir(d)) != NULL && found == 0) {
    int pid = atoi(e->d_name);
    if (pid <= 0)
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
    if (strcmp(buf, "crashwatch-watchdog") != 0)
      continue;
    for (char *p = buf; p < buf + n; p += strlen(p) + 1)
      if (strcmp(p, "--pid") == 0 && p + strlen(p) + 1 < buf + n &&
          strcmp(p + strlen(p) + 1, want) == 0)
        found = pid;
  }
  closedir(d);
  return found;
}

pid_t cw__test_find_watchdog(void) {
  /* cw_init() returns once the watchdog's exec has replaced its memory
   * (CLONE_VFORK), which the kernel signals before it has set up the new
   * argument area: for that moment /proc/PID/cmdline reads empty. */
  pid_t wd = 0;
  for (int i = 0; i < 1000 && (wd = cw__test_find_watchdog_now()) == 0; i++)
    usleep(2000);
  return wd;
}

void cw__test_wait_gone(pid_t pid) {
  for (;;) {
    char path[64], st[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return;
    ssize_t n = read(fd, st, sizeof(st) - 1);
    close(fd);
    if (n <= 0)
      return;
    st[n] = '\0';
    char *rp = strrchr(st, ')');
    if (rp && (rp[2] == 'Z' || rp[2] == 'X'))
      return;
    usleep(2000);
  }
}

int cw__test_recv_ack(int sock) {
  cw__crash_ack_t ack;
  ssize_t n = recv(sock, &ack, sizeof(ack), 0);
  assert_int_equal(n, sizeof(ack));
  assert_int_equal(ack.magic, CW_CRASH_ACK_MAGIC);
  return ack.status;
}
