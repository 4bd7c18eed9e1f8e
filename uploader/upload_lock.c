/* upload_lock.c — the spool's uploader lock and kick marker; see
 * upload_lock.h. libc only (the watchdog links it). */
#include "upload_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "spool.h"

static int neg_errno(void) { return errno > 0 ? -errno : CW_EIO; }

/* <spool>/.state/<name>; creates .state/ (0700) when asked. */
static int state_path(const char *spool, const char *name, int create_dir,
                      char *out, size_t cap) {
  if ((size_t)snprintf(out, cap, "%s/" SPOOL_STATE_DIR, spool) >= cap)
    return CW_ERANGE;
  if (create_dir) {
    /* 0700 whatever the umask, never through a symbolic link. */
    int fd = cw__spool_open_subdir(spool, SPOOL_STATE_DIR);
    if (fd < 0)
      return fd;
    close(fd);
  }
  if ((size_t)snprintf(out, cap, "%s/" SPOOL_STATE_DIR "/%s", spool, name) >=
      cap)
    return CW_ERANGE;
  return 0;
}

int cw__upload_kick(const char *spool_dir) {
  char p[PATH_MAX];
  int rc = state_path(spool_dir, UPLOAD_KICK_FILE, 1, p, sizeof(p));
  if (rc != 0)
    return rc;
  int fd =
      open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
  if (fd < 0)
    return neg_errno();
  close(fd);
  return 0;
}

int cw__upload_kick_take(const char *spool_dir) {
  char p[PATH_MAX];
  if (state_path(spool_dir, UPLOAD_KICK_FILE, 0, p, sizeof(p)) != 0)
    return 0;
  return unlink(p) == 0;
}

int cw__upload_kick_present(const char *spool_dir) {
  char p[PATH_MAX];
  struct stat st;
  if (state_path(spool_dir, UPLOAD_KICK_FILE, 0, p, sizeof(p)) != 0)
    return 0;
  return fstatat(AT_FDCWD, p, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static pid_t read_holder(int fd) {
  char buf[24];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  long v = strtol(buf, NULL, 10);
  return v > 0 && v < INT_MAX ? (pid_t)v : 0;
}

void cw__upload_lock_adopt(int fd) {
  char buf[24];
  int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
  if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) < 0) {
    /* Only used in messages. */
  }
}

int cw__upload_lock_try(const char *spool_dir, int wait, pid_t *holder) {
  if (holder != NULL)
    *holder = 0;
  char p[PATH_MAX];
  int rc = state_path(spool_dir, UPLOAD_LOCK_FILE, 1, p, sizeof(p));
  if (rc != 0)
    return rc;
  int fd =
      open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
  if (fd < 0)
    return neg_errno();
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return CW_ESPOOL;
  }
  while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    int e = errno;
    if (e == EWOULDBLOCK) {
      if (holder != NULL)
        *holder = read_holder(fd);
      close(fd);
      return CW_EBUSY;
    }
    close(fd);
    return e == EINTR ? CW_EINTR : -e;
  }
  cw__upload_lock_adopt(fd);
  return fd;
}

int cw__upload_lock_relock(int fd) {
  if (flock(fd, LOCK_EX | LOCK_NB) != 0)
    return CW_EBUSY;
  cw__upload_lock_adopt(fd);
  return 0;
}

void cw__upload_lock_release(int fd) {
  if (fd >= 0)
    flock(fd, LOCK_UN);
}
