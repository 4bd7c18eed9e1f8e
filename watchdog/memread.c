/*
 * memread.c — copies memory out of a stopped process. Normal context,
 * watchdog process.
 *
 * process_vm_readv is one system call for any length, but some systems deny
 * it (seccomp filters, old kernels, Yama/LSM policy differences);
 * /proc/PID/mem works for a ptrace attacher in those cases. Both are
 * page-granular on failure, so a range crossing an unmapped page is read up
 * to that page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crashwatch.h"
#include "wd_capture.h"

static ssize_t read_procmem(pid_t pid, uint64_t addr, void *buf, size_t len) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno ? -errno : CW_EIO;
  size_t done = 0;
  int err = 0;
  while (done < len) {
    /* Offsets above 2^63 (kernel addresses) are negative off_t: refuse. */
    if (addr + done > (uint64_t)INT64_MAX) {
      err = CW_EINVAL;
      break;
    }
    ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(addr + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      err = n < 0 ? -errno : CW_EIO;
      break;
    }
    done += (size_t)n;
  }
  close(fd);
  if (done == 0 && len > 0)
    return err ? err : CW_EIO;
  return (ssize_t)done;
}

ssize_t cw__wd_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len,
                        int force_procmem) {
  if (len == 0)
    return 0;
  if (!force_procmem) {
    size_t done = 0;
    while (done < len) {
      struct iovec local = {(char *)buf + done, len - done};
      struct iovec remote = {(void *)(uintptr_t)(addr + done), len - done};
      ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        if (errno == EPERM || errno == ENOSYS || errno == EACCES)
          break; /* denied: try /proc/PID/mem below */
        if (done > 0)
          return (ssize_t)done;
        return -errno;
      }
      if (n == 0)
        break;
      done += (size_t)n;
    }
    if (done == len)
      return (ssize_t)done;
    if (done > 0)
      return (ssize_t)done; /* hit an unreadable page */
  }
  return read_procmem(pid, addr, buf, len);
}
