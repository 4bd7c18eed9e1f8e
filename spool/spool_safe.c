/* spool_safe.c — who may write the spool: the trust rule (owner and mode of
 * the spool, its .state/ and failed/, and every directory above it),
 * creating a spool that obeys it whatever the umask, and the helpers the
 * spool's files share to never follow a symbolic link. See spool.h and
 * docs/security.md. Normal context. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "spool.h"
#include "spool_internal.h"

static char last_error[PATH_MAX + 256];

const char *cw__spool_last_error(void) { return last_error; }

int cw__spool_fail(int e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(last_error, sizeof(last_error), fmt, ap);
  va_end(ap);
  if (e != 0 && n >= 0 && (size_t)n < sizeof(last_error))
    snprintf(last_error + n, sizeof(last_error) - (size_t)n, ": %s",
             strerror(e));
  return CW_ESPOOL;
}

int cw__spool_open_dir(const char *path, int nofollow) {
  return open(path,
              O_RDONLY | O_DIRECTORY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
}

int cw__spool_open_subdir_at(int dir_fd, const char *name) {
  return openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int cw__spool_private_dir(const struct stat *st) {
  return S_ISDIR(st->st_mode) && st->st_uid == geteuid() &&
         (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

void cw__spool_random_hex(char *out, size_t nbytes) {
  static unsigned counter;
  unsigned char r[16];
  if (nbytes > sizeof(r))
    nbytes = sizeof(r);
  if (getrandom(r, nbytes, GRND_NONBLOCK) != (ssize_t)nbytes) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long v = (unsigned long long)ts.tv_nsec ^
                           ((unsigned long long)getpid() << 32) ^
                           ((unsigned long long)++counter << 48);
    for (size_t k = 0; k < nbytes; k++)
      r[k] = (unsigned char)(v >> ((k % 8) * 8)) ^ (unsigned char)(k * 131);
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t k = 0; k < nbytes; k++) {
    out[2 * k] = hex[r[k] >> 4];
    out[2 * k + 1] = hex[r[k] & 15];
  }
  out[2 * nbytes] = '\0';
}

/* ---- The trust rule --------------------------------------------------- */

static int unprotected(char *err, size_t errlen, const char *dir,
                       const char *which, const struct stat *st,
                       const char *rule) {
  if (err != NULL)
    snprintf(err, errlen,
             "spool directory %s: UNPROTECTED: %s is owned by uid %u with "
             "mode %04o; %s",
             dir, which, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777),
             rule);
  return CW_ESPOOL;
}

static int check_private(char *err, size_t errlen, const char *dir,
                         const char *which, const struct stat *st) {
  if (cw__spool_private_dir(st))
    return 0;
  char rule[160];
  snprintf(rule, sizeof(rule),
           "it must be owned by uid %u (this process's effective user) and "
           "writable by no one else",
           (unsigned)geteuid());
  return unprotected(err, errlen, dir, which, st, rule);
}

/* Every directory above the spool: owned by root or the effective user, and
 * writable by no one else unless sticky (then no one else can rename or
 * remove what is ours in it, as in /tmp). */
static int check_ancestors(char *err, size_t errlen, const char *dir,
                           const char *real) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s", real);
  for (;;) {
    char *slash = strrchr(path, '/');
    if (slash == NULL)
      return 0;
    if (slash == path) {
      if (path[1] == '\0')
        return 0; /* "/" was checked last round */
      path[1] = '\0';
    } else {
      *slash = '\0';
    }
    struct stat st;
    if (stat(path, &st) != 0) {
      if (err != NULL)
        snprintf(err, errlen, "spool directory %s: cannot check %s: %s", dir,
                 path, strerror(errno));
      return CW_ESPOOL;
    }
    int owner_ok = st.st_uid == 0 || st.st_uid == geteuid();
    int write_ok =
        (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 || (st.st_mode & S_ISVTX) != 0;
    if (!owner_ok || !write_ok) {
      char rule[200];
      snprintf(rule, sizeof(rule),
               "every directory above the spool must be owned by root or "
               "uid %u and writable by no one else unless sticky",
               (unsigned)geteuid());
      char which[PATH_MAX + 16];
      snprintf(which, sizeof(which), "its parent %s", path);
      return unprotected(err, errlen, dir, which, &st, rule);
    }
  }
}

int cw__spool_check_dir(const char *dir, char *err, size_t errlen) {
  if (dir == NULL || dir[0] == '\0') {
    if (err)
      snprintf(err, errlen, "spool directory: empty path");
    return CW_EINVAL;
  }
  char real[PATH_MAX];
  if (realpath(dir, real) == NULL) {
    if (err != NULL && errno == ENOENT)
      snprintf(err, errlen, "spool directory %s does not exist", dir);
    else if (err != NULL)
      snprintf(err, errlen, "spool directory %s: %s", dir, strerror(errno));
    return errno == ENOENT ? CW_ENOENT : CW_ESPOOL;
  }
  int fd = cw__spool_open_dir(real, 1);
  if (fd < 0) {
    if (err != NULL)
      snprintf(err, errlen, "spool directory %s: %s", dir,
               errno == ENOTDIR ? "not a directory" : strerror(errno));
    return CW_ESPOOL;
  }
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st) != 0) {
    if (err != NULL)
      snprintf(err, errlen, "spool directory %s: %s", dir, strerror(errno));
    rc = CW_ESPOOL;
  }
  if (rc == 0)
    rc = check_private(err, errlen, dir, real, &st);
  static const char *const subdirs[] = {SPOOL_STATE_DIR, SPOOL_FAILED_DIR};
  for (size_t i = 0; rc == 0 && i < 2; i++) {
    struct stat sub;
    if (fstatat(fd, subdirs[i], &sub, AT_SYMLINK_NOFOLLOW) != 0)
      continue; /* made when needed */
    char which[PATH_MAX + 16];
    snprintf(which, sizeof(which), "%s/%s", real, subdirs[i]);
    if (S_ISLNK(sub.st_mode)) {
      if (err != NULL)
        snprintf(err, errlen,
                 "spool directory %s: UNPROTECTED: %s is a symbolic link; it "
                 "must be a directory owned by uid %u",
                 dir, which, (unsigned)geteuid());
      rc = CW_ESPOOL;
    } else if (S_ISDIR(sub.st_mode)) {
      rc = check_private(err, errlen, dir, which, &sub);
    }
  }
  close(fd);
  if (rc == 0)
    rc = check_ancestors(err, errlen, dir, real);
  /* The effective ids decide (a setuid program writes as its owner), not
   * the real ones access() would use. */
  if (rc == 0 && faccessat(AT_FDCWD, real, W_OK | X_OK, AT_EACCESS) != 0) {
    if (err != NULL)
      snprintf(err, errlen, "spool directory %s: not writable: %s", dir,
               strerror(errno));
    rc = CW_ESPOOL;
  }
  return rc;
}

/* mkdir, then fchmod on the directory just made: mkdir's mode is filtered
 * by the umask (0177 would give a directory nobody can enter). */
static int mkdir_private(const char *path) {
  if (mkdir(path, 0700) != 0)
    return -1;
  int fd = cw__spool_open_dir(path, 1);
  if (fd < 0)
    return -1;
  int rc = fchmod(fd, 0700);
  close(fd);
  return rc;
}

int cw__spool_ensure_dir(const char *dir, char *err, size_t errlen) {
  char path[PATH_MAX];
  if (dir == NULL || dir[0] == '\0') {
    if (err)
      snprintf(err, errlen, "spool directory: empty path");
    return CW_EINVAL;
  }
  if (strlen(dir) >= sizeof(path)) {
    if (err)
      snprintf(err, errlen, "spool directory: path too long");
    return CW_EINVAL;
  }
  strcpy(path, dir);
  /* mkdir -p, each missing component 0700. */
  for (char *p = path + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char saved = *p;
      *p = '\0';
      if (mkdir_private(path) != 0 && errno != EEXIST) {
        if (err)
          snprintf(err, errlen, "spool directory %s: cannot create %s: %s", dir,
                   path, strerror(errno));
        return CW_ESPOOL;
      }
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  int rc = cw__spool_check_dir(dir, err, errlen);
  return rc == CW_ENOENT ? CW_ESPOOL : rc;
}

int cw__spool_open_subdir(const char *spool_dir, const char *name) {
  int sfd = cw__spool_open_dir(spool_dir, 0);
  if (sfd < 0)
    return cw__spool_fail(errno, "spool directory %s", spool_dir);
  int made = mkdirat(sfd, name, 0700) == 0;
  if (!made && errno != EEXIST) {
    int e = errno;
    close(sfd);
    return cw__spool_fail(e, "cannot create %s/%s", spool_dir, name);
  }
  int fd = cw__spool_open_subdir_at(sfd, name);
  int e = errno;
  close(sfd);
  if (fd < 0)
    return cw__spool_fail(e, "%s/%s", spool_dir, name);
  struct stat st;
  memset(&st, 0, sizeof(st));
  if (made)
    fchmod(fd, 0700);
  int ok = fstat(fd, &st) == 0 && cw__spool_private_dir(&st);
  /* Ours but not enterable (made with a plain mkdir under a umask like
   * 0177 elsewhere): give the owner its access back. */
  if (ok && (st.st_mode & 0700) != 0700)
    fchmod(fd, 0700);
  if (!ok) {
    close(fd);
    return cw__spool_fail(
        0,
        "%s/%s: UNPROTECTED: owned by uid %u with mode %04o; it "
        "must be owned by uid %u and writable by no one else",
        spool_dir, name, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
        (unsigned)geteuid());
  }
  return fd;
}
