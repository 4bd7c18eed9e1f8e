/*
 * crash_spawn.c — the crash record's channel: the crash socket if it is
 * still ours, else a watchdog started at crash time. SIGNAL CONTEXT: every
 * function here runs inside the crash handler (same rules as crash.c; the
 * calls are checked by tests/check-signal-safe.sh).
 *
 * Two kinds of crashing process have no usable crash socket:
 *   - a forked child of the initialized process (a daemon after its double
 *     fork, a prefork server's worker): the pthread_atfork child handler
 *     closed its copy of the parent's socket, and the parent's watchdog
 *     watches the parent only (and may be gone with it);
 *   - a process whose crash socket fd was closed (close_range), replaced
 *     (dup2) or reused for another socket by the program.
 * For both, the handler starts a watchdog of its own now, with what
 * cw_init prepared (cw__respawn: command line, environment, the hops'
 * stacks): the embedded watchdog written into a fresh memfd (the image is
 * in the library's mapped memory), a new socketpair, cw__launch, and
 * PR_SET_PTRACER. Nothing is done at fork(), so covering forks costs a
 * fork() nothing, and a daemon that closed every fd is still covered.
 * The price is paid at crash time: ~0.5 MiB copied into the memfd and one
 * exec before the capture starts (about 1 ms).
 *
 * The fd check: fstat() of the fd must show a socket with the device and
 * inode the crash socket had at cw_init. A closed fd fails fstat; a dup2'd
 * file or a new socket on the same number has another inode. The record
 * (registers, addresses) is never sent to such a stranger.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cw_internal.h"
#include "scope_write.h"

cw__respawn_t cw__respawn;

/* Signal context: decimal digits of v into buf (>= 21 bytes), NUL-ended. */
static void put_num(char *buf, long v) {
  char tmp[24];
  int n = 0;
  unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
  do
    tmp[n++] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  int k = 0;
  if (v < 0)
    buf[k++] = '-';
  while (n > 0)
    buf[k++] = tmp[--n];
  buf[k] = '\0';
}

void cw__crash_say(const char *const *pieces, long num) {
  char line[512];
  size_t n = 0;
  for (; *pieces != NULL; pieces++) {
    char digits[24];
    const char *p = *pieces;
    if (p[0] == '%' && p[1] == 'd' && p[2] == '\0') {
      put_num(digits, num);
      p = digits;
    }
    for (; *p && n < sizeof(line) - 1; p++)
      line[n++] = *p;
  }
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, n);
  (void)w; /* no stderr: nothing else to tell */
}

/* Signal context: fd, moved to a number >= 3 (close-on-exec) so the
 * watchdog's dup2 onto 0 and 1 cannot hit it. -1 if fd was -1 or the move
 * failed (fd is closed then). */
static int above_stdio(int fd) {
  if (fd < 0 || fd > 2)
    return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

/* Signal context: true if fd is the crash socket cw_init made. */
static int socket_is_ours(int fd) {
  struct stat st;
  if (fd < 0 || syscall(SYS_fstat, fd, &st) != 0)
    return 0;
  return S_ISSOCK(st.st_mode) &&
         (unsigned long long)st.st_dev == cw__respawn.sock_dev &&
         (unsigned long long)st.st_ino == cw__respawn.sock_ino;
}

/* Signal context: 0 if a file of len bytes may be written, else -EFBIG.
 * The process is dying: its own RLIMIT_FSIZE soft limit is raised as far
 * as the hard one for good (a write past it would raise SIGXFSZ). */
static int fsize_allow(size_t len) {
  struct rlimit rl;
  if (syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &rl) == 0 &&
      rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < len) {
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < len)
      return -EFBIG;
    rl.rlim_cur = rl.rlim_max;
    syscall(SYS_prlimit64, 0, RLIMIT_FSIZE, &rl, NULL);
  }
  return 0;
}

/* Signal context: a memfd holding the embedded watchdog, or -errno. */
static int image_memfd(void) {
  size_t len = (size_t)(cw__watchdog_blob_end - cw__watchdog_blob_start);
  if (len == 0)
    return -ENOEXEC;
  if (fsize_allow(len) != 0)
    return -EFBIG;
  int fd = above_stdio(
      (int)syscall(SYS_memfd_create, "crashwatch-watchdog", MFD_CLOEXEC));
  if (fd < 0)
    return -errno;
  const unsigned char *p = cw__watchdog_blob_start;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      return -e;
    }
    p += n;
    len -= (size_t)n;
  }
  return fd;
}

/* ---- the scope for a watchdog started now ---------------------------- */

/* Signal context: writes one slot (size bytes at src, offset off of the
 * mapping) into fd if it was ever written; a slot that changed during the
 * write, or is being written (odd counter), is marked torn in the copy.
 * The kernel's copy in pwrite is the read of a seqlock reader. */
static void slot_to_fd(int fd, const void *base, const void *src, size_t size) {
  const cw__scope_slot_hdr_t *h = src;
  off_t off = (off_t)((const char *)src - (const char *)base);
  uint32_t s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
  if (s1 == 0)
    return;
  long w = syscall(SYS_pwrite64, fd, src, size, off);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  uint32_t s2 = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
  if (w != (long)size || s1 != s2 || (s1 & 1)) {
    uint32_t torn = 1;
    syscall(SYS_pwrite64, fd, &torn, sizeof(torn), off);
  }
}

static void slots_to_fd(int fd, const void *base, const void *src, size_t size,
                        size_t n) {
  for (size_t i = 0; i < n; i++)
    slot_to_fd(fd, base, (const char *)src + i * size, size);
}

/* Signal context: true if fd is still the scope's memfd. */
static int scope_fd_is_ours(int fd) {
  struct stat st;
  return fd >= 0 && syscall(SYS_fstat, fd, &st) == 0 &&
         (uint64_t)st.st_dev == cw__scope.fd_dev &&
         (uint64_t)st.st_ino == cw__scope.fd_ino;
}

int cw__scope_crash_fd(int pid, int *owned) {
  *owned = 0;
  cw__scope_map_t *m = __atomic_load_n(&cw__scope.map, __ATOMIC_ACQUIRE);
  if (m == NULL)
    return -1;
  if (pid == cw__crash.pid && scope_fd_is_ours(cw__scope.fd))
    return cw__scope.fd;
  size_t len = cw__scope.len;
  if (fsize_allow(len) != 0)
    return -1;
  int fd = above_stdio(
      (int)syscall(SYS_memfd_create, "crashwatch-scope", MFD_CLOEXEC));
  if (fd < 0)
    return -1;
  if (syscall(SYS_ftruncate, fd, (off_t)len) != 0 ||
      syscall(SYS_pwrite64, fd, m, offsetof(cw__scope_map_t, config), 0) !=
          (long)offsetof(cw__scope_map_t, config)) {
    close(fd);
    return -1;
  }
  slot_to_fd(fd, m, &m->config, sizeof(m->config));
  slot_to_fd(fd, m, &m->level, sizeof(m->level));
  slot_to_fd(fd, m, &m->transaction, sizeof(m->transaction));
  slot_to_fd(fd, m, &m->trace, sizeof(m->trace));
  slot_to_fd(fd, m, &m->user, sizeof(m->user));
  slot_to_fd(fd, m, &m->fingerprint, sizeof(m->fingerprint));
  slots_to_fd(fd, m, m->tags, sizeof(m->tags[0]), CW__SCOPE_NTAGS);
  slots_to_fd(fd, m, m->extra, sizeof(m->extra[0]), CW__SCOPE_NEXTRA);
  slots_to_fd(fd, m, m->contexts, sizeof(m->contexts[0]), CW__SCOPE_NCONTEXTS);
  slots_to_fd(fd, m, m->attachments, sizeof(m->attachments[0]),
              CW__SCOPE_NATTACH);
  slots_to_fd(fd, m, CW__SCOPE_CRUMBS(m), sizeof(cw__scope_crumb_slot_t),
              cw__scope.ncrumbs);
  *owned = 1;
  return fd;
}

/* Signal context: starts a watchdog for process pid. Returns the app's
 * end of its crash socket, or -errno. */
static int start_watchdog(int pid) {
  cw__respawn_t *r = &cw__respawn;
  /* The summary goes to stderr if there is one (checked before this
   * function opens anything that could take fd 2). */
  int has_stderr = fcntl(STDERR_FILENO, F_GETFD) >= 0;
  r->summary_str[0] = has_stderr ? '2' : '-';
  r->summary_str[1] = has_stderr ? '\0' : '1';
  r->summary_str[2] = '\0';

  int exe_fd = -1, sv[2] = {-1, -1}, devnull = -1, rc;
  if (r->path == NULL) {
    exe_fd = image_memfd();
    if (exe_fd < 0)
      return exe_fd;
  }
  /* The report still carries the scope: its memfd, or a copy of it. */
  int scope_owned = 0;
  int scope_fd = cw__scope_crash_fd(pid, &scope_owned);
  put_num(r->scope_str, scope_fd);
  if (syscall(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) !=
      0) {
    rc = -errno;
    goto out;
  }
  sv[0] = above_stdio(sv[0]);
  sv[1] = above_stdio(sv[1]);
  if (sv[0] < 0 || sv[1] < 0) {
    rc = -EMFILE;
    goto out;
  }
  devnull = above_stdio(
      (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC));
  put_num(r->fd_str, sv[1]);
  put_num(r->pid_str, pid);
  r->argv[r->image_arg] = NULL; /* the watchdog itself, no start-up pass */
  cw__launch_t c = {.path = r->path,
                    .exe_fd = exe_fd,
                    .wd_sock = sv[1],
                    .image_fd = -1,
                    .scope_fd = scope_fd,
                    .devnull = devnull,
                    .argv = r->argv,
                    .envp = r->envp,
                    .stacks = r->stacks};
  int exec_errno;
  rc = cw__launch(&c, &exec_errno);
  if (rc > 0) {
    /* Yama (ptrace_scope 1): name the watchdog as our tracer; EINVAL
     * without Yama is fine. */
    syscall(SYS_prctl, PR_SET_PTRACER, (unsigned long)rc, 0, 0, 0);
    rc = sv[0];
    sv[0] = -1;
  }
out:
  if (exe_fd >= 0)
    close(exe_fd);
  if (scope_owned)
    close(scope_fd);
  if (devnull >= 0)
    close(devnull);
  if (sv[0] >= 0)
    close(sv[0]);
  if (sv[1] >= 0)
    close(sv[1]); /* the watchdog has its copy */
  return rc;
}

int cw__crash_channel(int pid) {
  if (!cw__respawn.ready)
    return pid == cw__crash.pid ? cw__crash.sock_fd : -1;
  int fd = -1;
  if (pid == cw__crash.pid) {
    fd = cw__crash.sock_fd;
    if (fd >= 0 && socket_is_ours(fd))
      return fd;
    static const char *const msg[] = {
        "crashwatch: the crash socket (fd ", "%d",
        ") was closed or replaced by the program; starting a watchdog now",
        NULL};
    cw__crash_say(msg, fd);
  } else if (!cw__respawn.cover_forks) {
    return -1;
  }
  fd = start_watchdog(pid);
  if (fd < 0) {
    static const char *const msg[] = {
        "crashwatch: no crash report: could not start a watchdog (errno ", "%d",
        ")", NULL};
    cw__crash_say(msg, -fd);
    return -1;
  }
  return fd;
}
