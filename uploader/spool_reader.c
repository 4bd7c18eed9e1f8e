/* spool_reader.c — the uploader's side of the spool: locks, removal,
 * quarantine to failed/, retry state. See the rules in spool.h. */
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

static int neg_errno(void) { return errno ? -errno : CW_EIO; }

int spool_write_atomic(const char *path, const void *data, size_t len) {
  char tmp[PATH_MAX];
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid()) >=
      sizeof(tmp))
    return CW_EINVAL;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return neg_errno();
  int rc = spool_write_fd(fd, data, len);
  if (rc == 0 && rename(tmp, path) != 0)
    rc = neg_errno();
  if (rc != 0)
    unlink(tmp);
  return rc;
}

int spool_lock(const char *spool_dir, const char *id, int *fd_out) {
  char path[PATH_MAX];
  *fd_out = -1;
  if ((size_t)snprintf(path, sizeof(path), "%s/%s", spool_dir, id) >=
      sizeof(path))
    return CW_EINVAL;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? CW_ENOENT : neg_errno();
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int rc = errno == EWOULDBLOCK ? CW_EBUSY : neg_errno();
    close(fd);
    return rc;
  }
  /* The holder before us may have delivered (removed) or quarantined
   * (renamed) the directory between our open and our flock: only a lock on
   * the directory that still sits at path counts. */
  struct stat a, b;
  if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino ||
      a.st_dev != b.st_dev || a.st_nlink == 0) {
    close(fd);
    return CW_ENOENT;
  }
  *fd_out = fd;
  return 0;
}

void spool_unlock(int fd) {
  if (fd >= 0)
    close(fd);
}

static int remove_tree(const char *spool_dir, const char *name);

int spool_remove_report(const char *spool_dir, const char *name) {
  /* Renamed out of sight first, so the report disappears at once and whole:
   * a failure half-way through deleting leaves a .trash- directory for
   * spool_empty_trash, never a report with missing files. */
  char src[PATH_MAX], trash[PATH_MAX], tname[NAME_MAX + 1];
  if (strchr(name, '/') == NULL &&
      (size_t)snprintf(tname, sizeof(tname), SPOOL_TRASH_PREFIX "%s", name) <
          sizeof(tname) &&
      (size_t)snprintf(src, sizeof(src), "%s/%s", spool_dir, name) <
          sizeof(src) &&
      (size_t)snprintf(trash, sizeof(trash), "%s/%s", spool_dir, tname) <
          sizeof(trash)) {
    if (rename(src, trash) == 0)
      return remove_tree(spool_dir, tname);
    if (errno == ENOENT)
      return 0;
  }
  return remove_tree(spool_dir, name);
}

void spool_empty_trash(const char *spool_dir) {
  char **names;
  size_t n;
  if (spool_list_prefix(spool_dir, SPOOL_TRASH_PREFIX, &names, &n) != 0)
    return;
  for (size_t i = 0; i < n; i++)
    remove_tree(spool_dir, names[i]);
  spool_list_free(names, n);
}

static int remove_tree(const char *spool_dir, const char *name) {
  char dir[PATH_MAX];
  if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", spool_dir, name) >=
      sizeof(dir))
    return CW_EINVAL;
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : neg_errno();
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
        sizeof(path))
      continue;
    if (unlink(path) != 0 && errno != ENOENT) {
      /* A report never has subdirectories, but a hand-made one might. */
      if (errno == EISDIR) {
        char sub[PATH_MAX];
        snprintf(sub, sizeof(sub), "%s/%s", name, e->d_name);
        remove_tree(spool_dir, sub);
      } else if (rc == 0) {
        rc = neg_errno();
      }
    }
  }
  closedir(d);
  if (rmdir(dir) != 0 && errno != ENOENT && rc == 0)
    rc = neg_errno();
  return rc;
}

int spool_quarantine(const char *spool_dir, const char *name,
                     const char *reason) {
  char failed[PATH_MAX], src[PATH_MAX], dst[PATH_MAX], rpath[PATH_MAX + 8];
  if ((size_t)snprintf(failed, sizeof(failed), "%s/" SPOOL_FAILED_DIR,
                       spool_dir) >= sizeof(failed) ||
      (size_t)snprintf(src, sizeof(src), "%s/%s", spool_dir, name) >=
          sizeof(src))
    return CW_EINVAL;
  if (mkdir(failed, 0700) != 0 && errno != EEXIST)
    return neg_errno();
  /* A leading ".tmp-" is dropped so the quarantined name is plain. */
  const char *base = name;
  if (strncmp(base, SPOOL_TMP_PREFIX, strlen(SPOOL_TMP_PREFIX)) == 0)
    base += strlen(SPOOL_TMP_PREFIX);
  for (int i = 0; i < 1000; i++) {
    int w = i == 0 ? snprintf(dst, sizeof(dst), "%s/%s", failed, base)
                   : snprintf(dst, sizeof(dst), "%s/%s.%d", failed, base, i);
    if (w < 0 || (size_t)w >= sizeof(dst))
      return CW_EINVAL;
    struct stat st;
    if (lstat(dst, &st) == 0)
      continue;
    /* The reason goes first: a crash between the two steps leaves a stray
     * reason file, never a failed report without one. */
    snprintf(rpath, sizeof(rpath), "%s.reason", dst);
    size_t rlen = strlen(reason);
    char *text = malloc(rlen + 2);
    if (text == NULL)
      return CW_ENOMEM;
    memcpy(text, reason, rlen);
    text[rlen] = '\n';
    int rc = spool_write_atomic(rpath, text, rlen + 1);
    free(text);
    if (rc != 0)
      return rc;
    if (rename(src, dst) != 0) {
      rc = neg_errno();
      unlink(rpath);
      return rc;
    }
    return 0;
  }
  return CW_EEXIST;
}

long long spool_report_bytes(const char *spool_dir, const char *name) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/%s", spool_dir, name);
  DIR *d = opendir(dir);
  if (d == NULL)
    return 0;
  long long total = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode))
      total += st.st_size;
  }
  closedir(d);
  return total;
}

static int retry_path(const char *spool_dir, const char *id, char *out,
                      size_t cap) {
  return (size_t)snprintf(out, cap, "%s/" SPOOL_STATE_DIR "/%s.retry",
                          spool_dir, id) >= cap
             ? CW_EINVAL
             : 0;
}

int spool_retry_load(const char *spool_dir, const char *id, spool_retry_t *st) {
  memset(st, 0, sizeof(*st));
  char path[PATH_MAX];
  if (retry_path(spool_dir, id, path, sizeof(path)) != 0)
    return CW_EINVAL;
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return errno == ENOENT ? 0 : neg_errno();
  char line[400];
  while (fgets(line, sizeof(line), f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "attempts ", 9) == 0)
      st->attempts = atoi(line + 9);
    else if (strncmp(line, "next_ms ", 8) == 0)
      st->next_ms = atoll(line + 8);
    else if (strncmp(line, "last_error ", 11) == 0)
      snprintf(st->last_error, sizeof(st->last_error), "%s", line + 11);
  }
  fclose(f);
  if (st->attempts < 0)
    st->attempts = 0;
  return 0;
}

int spool_retry_save(const char *spool_dir, const char *id,
                     const spool_retry_t *st) {
  char dir[PATH_MAX], path[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s/" SPOOL_STATE_DIR, spool_dir);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return neg_errno();
  if (retry_path(spool_dir, id, path, sizeof(path)) != 0)
    return CW_EINVAL;
  char text[512];
  char err[256];
  snprintf(err, sizeof(err), "%s", st->last_error);
  for (char *p = err; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  int n =
      snprintf(text, sizeof(text), "attempts %d\nnext_ms %lld\nlast_error %s\n",
               st->attempts, st->next_ms, err);
  return spool_write_atomic(path, text, (size_t)n);
}

void spool_retry_remove(const char *spool_dir, const char *id) {
  char path[PATH_MAX];
  if (retry_path(spool_dir, id, path, sizeof(path)) == 0)
    unlink(path);
}
