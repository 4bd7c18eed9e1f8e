/* spool_reader.c — the uploader's side of the spool: locks, removal,
 * quarantine to failed/, retry state. See the rules in spool.h: every entry
 * is reached relative to an open directory fd without following symbolic
 * links, and every file written goes through an exclusive temporary file
 * with an unpredictable name. Normal context. */
#include "spool.h"

#include <dirent.h>
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
#include "spool_internal.h"

static int neg_errno(void) { return errno ? -errno : CW_EIO; }

int cw__spool_write_atomic_at(int dir_fd, const char *name, const void *data,
                              size_t len) {
  char tmp[NAME_MAX + 1];
  int fd = -1;
  for (int tries = 0; fd < 0 && tries < 16; tries++) {
    char rnd[17];
    cw__spool_random_hex(rnd, 8);
    /* A dot-name: report readers skip those, so a leftover (a crash right
     * here) is never sent as an attachment. */
    if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp-%s", name, rnd) >=
        sizeof(tmp))
      return CW_EINVAL;
    /* O_EXCL|O_NOFOLLOW: whatever sits at the name (a planted symbolic
     * link, a FIFO) is never opened; a clash costs another name. */
    fd = openat(dir_fd, tmp,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST)
      return neg_errno();
  }
  if (fd < 0)
    return CW_EEXIST;
  fchmod(fd, 0600);
  int rc = cw__spool_write_fd(fd, data, len);
  /* rename replaces the directory entry at name, never what a symbolic
   * link there points to. */
  if (rc == 0 && renameat(dir_fd, tmp, dir_fd, name) != 0)
    rc = neg_errno();
  if (rc != 0)
    unlinkat(dir_fd, tmp, 0);
  return rc;
}

/* Opens the directory part of path (O_NOFOLLOW, ours, private) and points
 * *base at the last component. */
static int open_parent(const char *path, char *dir, size_t cap,
                       const char **base) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    snprintf(dir, cap, ".");
    *base = path;
  } else if (slash == path) {
    snprintf(dir, cap, "/");
    *base = slash + 1;
  } else {
    if ((size_t)(slash - path) >= cap)
      return CW_EINVAL;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    *base = slash + 1;
  }
  if ((*base)[0] == '\0')
    return CW_EINVAL;
  int fd = cw__spool_open_dir(dir, 1);
  if (fd < 0)
    return cw__spool_fail(errno, "%s", dir);
  struct stat st;
  if (fstat(fd, &st) != 0 || !cw__spool_private_dir(&st)) {
    close(fd);
    return cw__spool_fail(0,
                          "%s: not a directory owned by uid %u and writable by "
                          "no one else",
                          dir, (unsigned)geteuid());
  }
  return fd;
}

int cw__spool_write_atomic(const char *path, const void *data, size_t len) {
  char dir[PATH_MAX];
  const char *base;
  int dfd = open_parent(path, dir, sizeof(dir), &base);
  if (dfd < 0)
    return dfd;
  int rc = cw__spool_write_atomic_at(dfd, base, data, len);
  close(dfd);
  return rc;
}

long cw__spool_read_small(const char *path, char *buf, size_t cap) {
  if (cap == 0)
    return CW_EINVAL;
  buf[0] = '\0';
  struct stat st;
  /* Look first: a FIFO or a device is never opened (opening a FIFO can
   * block, a tty can become our controlling terminal). */
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? CW_ENOENT : neg_errno();
  if (!S_ISREG(st.st_mode))
    return CW_EFORMAT;
  int fd =
      open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT  ? CW_ENOENT
           : errno == ELOOP ? CW_EFORMAT
                            : neg_errno();
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return CW_EFORMAT;
  }
  size_t got = 0;
  while (got + 1 < cap) {
    ssize_t n = read(fd, buf + got, cap - 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = '\0';
  return (long)got;
}

int cw__spool_lock(const char *spool_dir, const char *id, int *fd_out) {
  *fd_out = -1;
  if (strchr(id, '/') != NULL)
    return CW_EINVAL;
  int sfd = cw__spool_open_dir(spool_dir, 0);
  if (sfd < 0)
    return errno == ENOENT ? CW_ENOENT : neg_errno();
  int fd = cw__spool_open_subdir_at(sfd, id);
  if (fd < 0) {
    int e = errno;
    close(sfd);
    /* A symbolic link or a file where a report should be is not a report:
     * skipped here, moved to failed/ by cw__spool_prune. */
    return e == ENOENT || e == ELOOP || e == ENOTDIR ? CW_ENOENT : -e;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int rc = errno == EWOULDBLOCK ? CW_EBUSY : neg_errno();
    close(fd);
    close(sfd);
    return rc;
  }
  /* The holder before us may have delivered (removed) or quarantined
   * (renamed) the directory between our open and our flock: only a lock on
   * the directory that still sits at its name counts. */
  struct stat a, b;
  int same = fstat(fd, &a) == 0 &&
             fstatat(sfd, id, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
             a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_nlink != 0;
  close(sfd);
  if (!same) {
    close(fd);
    return CW_ENOENT;
  }
  *fd_out = fd;
  return 0;
}

void cw__spool_unlock(int fd) {
  if (fd >= 0)
    close(fd);
}

int cw__spool_remove_report(const char *spool_dir, const char *name) {
  if (strchr(name, '/') != NULL)
    return CW_EINVAL;
  int sfd = cw__spool_open_dir(spool_dir, 0);
  if (sfd < 0)
    return errno == ENOENT ? 0 : neg_errno();
  /* Renamed out of sight first, so the report disappears at once and whole:
   * a failure half-way through deleting leaves a .trash- directory for
   * cw__spool_empty_trash, never a report with missing files. rename moves the
   * entry itself: a symbolic link stays a link, its target untouched. */
  char tname[NAME_MAX + 1];
  int rc;
  if ((size_t)snprintf(tname, sizeof(tname), SPOOL_TRASH_PREFIX "%s", name) <
          sizeof(tname) &&
      renameat(sfd, name, sfd, tname) == 0)
    rc = cw__spool_remove_tree_at(sfd, tname);
  else if (errno == ENOENT)
    rc = 0;
  else
    rc = cw__spool_remove_tree_at(sfd, name);
  close(sfd);
  return rc;
}

void cw__spool_empty_trash(const char *spool_dir) {
  int sfd = cw__spool_open_dir(spool_dir, 0);
  if (sfd < 0)
    return;
  char **names;
  size_t n;
  if (cw__spool_list_at(sfd, SPOOL_TRASH_PREFIX, &names, &n) == 0) {
    for (size_t i = 0; i < n; i++)
      cw__spool_remove_tree_at(sfd, names[i]);
    cw__spool_list_free(names, n);
  }
  close(sfd);
}

int cw__spool_quarantine(const char *spool_dir, const char *name,
                         const char *reason) {
  if (strchr(name, '/') != NULL)
    return CW_EINVAL;
  int ffd = cw__spool_open_subdir(spool_dir, SPOOL_FAILED_DIR);
  if (ffd < 0)
    return ffd;
  int sfd = cw__spool_open_dir(spool_dir, 0);
  if (sfd < 0) {
    int rc = neg_errno();
    close(ffd);
    return rc;
  }
  /* A leading ".tmp-" is dropped so the quarantined name is plain. */
  const char *base = name;
  if (strncmp(base, SPOOL_TMP_PREFIX, strlen(SPOOL_TMP_PREFIX)) == 0)
    base += strlen(SPOOL_TMP_PREFIX);
  size_t rlen = strlen(reason);
  char *text = malloc(rlen + 2);
  if (text == NULL) {
    close(ffd);
    close(sfd);
    return CW_ENOMEM;
  }
  memcpy(text, reason, rlen);
  text[rlen] = '\n';
  int rc = CW_EEXIST;
  for (int i = 0; i < 1000; i++) {
    char dst[NAME_MAX + 1], rname[NAME_MAX + 1];
    int w = i == 0 ? snprintf(dst, sizeof(dst), "%s", base)
                   : snprintf(dst, sizeof(dst), "%s.%d", base, i);
    if (w < 0 || (size_t)w + 7 >= sizeof(dst)) {
      rc = CW_EINVAL;
      break;
    }
    snprintf(rname, sizeof(rname), "%s.reason", dst);
    struct stat st;
    if (fstatat(ffd, dst, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
        fstatat(ffd, rname, &st, AT_SYMLINK_NOFOLLOW) == 0)
      continue;
    /* The reason goes first: a crash between the two steps leaves a stray
     * reason file, never a failed report without one. */
    rc = cw__spool_write_atomic_at(ffd, rname, text, rlen + 1);
    if (rc != 0)
      break;
    if (cw__spool_rename_noreplace(sfd, name, ffd, dst) == 0)
      break;
    rc = errno == EEXIST ? CW_EEXIST : neg_errno();
    unlinkat(ffd, rname, 0);
    if (rc != CW_EEXIST)
      break;
  }
  free(text);
  close(ffd);
  close(sfd);
  return rc;
}

static int retry_name(const char *id, char *out, size_t cap) {
  if (strchr(id, '/') != NULL)
    return CW_EINVAL;
  return (size_t)snprintf(out, cap, "%s.retry", id) >= cap ? CW_EINVAL : 0;
}

int cw__spool_retry_load(const char *spool_dir, const char *id,
                         spool_retry_t *st) {
  memset(st, 0, sizeof(*st));
  char path[PATH_MAX], name[NAME_MAX + 1];
  if (retry_name(id, name, sizeof(name)) != 0 ||
      (size_t)snprintf(path, sizeof(path), "%s/" SPOOL_STATE_DIR "/%s",
                       spool_dir, name) >= sizeof(path))
    return CW_EINVAL;
  char text[1024];
  long n = cw__spool_read_small(path, text, sizeof(text));
  if (n == CW_ENOENT)
    return 0;
  if (n < 0)
    return (int)n;
  for (char *line = text; line != NULL && *line;) {
    char *nl = strchr(line, '\n');
    if (nl != NULL)
      *nl = '\0';
    if (strncmp(line, "attempts ", 9) == 0)
      st->attempts = atoi(line + 9);
    else if (strncmp(line, "next_ms ", 8) == 0)
      st->next_ms = atoll(line + 8);
    else if (strncmp(line, "last_error ", 11) == 0)
      snprintf(st->last_error, sizeof(st->last_error), "%s", line + 11);
    line = nl != NULL ? nl + 1 : NULL;
  }
  if (st->attempts < 0)
    st->attempts = 0;
  return 0;
}

int cw__spool_retry_save(const char *spool_dir, const char *id,
                         const spool_retry_t *st) {
  char name[NAME_MAX + 1];
  if (retry_name(id, name, sizeof(name)) != 0)
    return CW_EINVAL;
  int dfd = cw__spool_open_subdir(spool_dir, SPOOL_STATE_DIR);
  if (dfd < 0)
    return dfd;
  char text[512];
  char err[256];
  snprintf(err, sizeof(err), "%s", st->last_error);
  for (char *p = err; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  int n =
      snprintf(text, sizeof(text), "attempts %d\nnext_ms %lld\nlast_error %s\n",
               st->attempts, st->next_ms, err);
  int rc = cw__spool_write_atomic_at(dfd, name, text, (size_t)n);
  close(dfd);
  return rc;
}

void cw__spool_retry_remove(const char *spool_dir, const char *id) {
  char path[PATH_MAX], name[NAME_MAX + 1];
  if (retry_name(id, name, sizeof(name)) != 0 ||
      (size_t)snprintf(path, sizeof(path), "%s/" SPOOL_STATE_DIR, spool_dir) >=
          sizeof(path))
    return;
  int dfd = cw__spool_open_dir(path, 1);
  if (dfd < 0)
    return;
  unlinkat(dfd, name, 0);
  close(dfd);
}
