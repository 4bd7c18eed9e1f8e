/* spool.c — the writer side of the spool (begin, write, commit, abort),
 * removing a tree without following links, and the sorted listings. See
 * the rules in spool.h. Normal context. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "spool_internal.h"
#include "workers.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* Everything the writer needs is opened at begin: a commit or an abort
 * needs no new file descriptor, so a process at its RLIMIT_NOFILE still
 * cleans up after itself. */
/* Files written but not yet synced: the commit syncs them together. */
#define SPOOL_PENDING_MAX 16

struct spool_report {
  int spool_fd; /* the spool directory */
  int dir_fd;   /* .tmp-<id>, opened O_NOFOLLOW right after mkdirat */
  int pending[SPOOL_PENDING_MAX]; /* written files, owned, synced at commit */
  size_t npending;
  char id[33];
  char tmp_name[sizeof(SPOOL_TMP_PREFIX) + 32];
  char spool[PATH_MAX];
  char tmp[PATH_MAX];
};

static int neg_errno(void) { return errno ? -errno : CW_EIO; }

int cw__spool_is_report_name(const char *name) {
  size_t i;
  for (i = 0; name[i]; i++) {
    char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return 0;
  }
  return i == 32;
}

/* Renames without replacing anything (a committed report, or whatever
 * someone left at the name); falls back to renameat where the file system
 * lacks RENAME_NOREPLACE, refusing an existing target first. */
static int rename_noreplace(int from_fd, const char *from, int to_fd,
                            const char *to) {
  if (renameat2(from_fd, from, to_fd, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -1;
  struct stat st;
  if (fstatat(to_fd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    errno = EEXIST;
    return -1;
  }
  return renameat(from_fd, from, to_fd, to);
}

int cw__spool_rename_noreplace(int from_fd, const char *from, int to_fd,
                               const char *to) {
  return rename_noreplace(from_fd, from, to_fd, to);
}

int cw__spool_report_begin(const char *spool_dir, const char *event_id,
                           spool_report_t **out) {
  *out = NULL;
  if (!cw__spool_is_report_name(event_id))
    return CW_EINVAL;
  spool_report_t *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return CW_ENOMEM;
  r->spool_fd = r->dir_fd = -1;
  snprintf(r->id, sizeof(r->id), "%s", event_id);
  snprintf(r->tmp_name, sizeof(r->tmp_name), SPOOL_TMP_PREFIX "%s", event_id);
  if ((size_t)snprintf(r->spool, sizeof(r->spool), "%s", spool_dir) >=
          sizeof(r->spool) ||
      (size_t)snprintf(r->tmp, sizeof(r->tmp), "%s/%s", spool_dir,
                       r->tmp_name) >= sizeof(r->tmp)) {
    free(r);
    return CW_EINVAL;
  }
  int rc;
  r->spool_fd = cw__spool_open_dir(spool_dir, 0);
  if (r->spool_fd < 0) {
    rc = cw__spool_fail(errno, "spool directory %s", spool_dir);
    free(r);
    return rc;
  }
  /* The watchdog re-checks the directory it writes into at every report
   * (it may have been handed to someone else since cw_init(), which
   * checked the whole rule): one fstat on the fd it is about to use, so
   * the crash path pays no path walk. */
  struct stat st;
  memset(&st, 0, sizeof(st));
  if (fstat(r->spool_fd, &st) != 0 || !cw__spool_private_dir(&st)) {
    rc = cw__spool_fail(0,
                        "spool directory %s: UNPROTECTED: owned by uid %u with "
                        "mode %04o; it must be owned by uid %u (this process's "
                        "effective user) and writable by no one else",
                        spool_dir, (unsigned)st.st_uid,
                        (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
    close(r->spool_fd);
    free(r);
    return rc;
  }
  /* The event id is 128 random bits and mkdirat never follows or reuses
   * an entry: the directory is new and ours. */
  if (mkdirat(r->spool_fd, r->tmp_name, 0700) != 0) {
    rc = cw__spool_fail(errno, "cannot create %s", r->tmp);
    close(r->spool_fd);
    free(r);
    return rc;
  }
  r->dir_fd = cw__spool_open_subdir_at(r->spool_fd, r->tmp_name);
  if (r->dir_fd < 0 || fchmod(r->dir_fd, 0700) != 0) {
    rc = cw__spool_fail(errno, "cannot open %s", r->tmp);
    if (r->dir_fd >= 0)
      close(r->dir_fd);
    unlinkat(r->spool_fd, r->tmp_name, AT_REMOVEDIR);
    close(r->spool_fd);
    free(r);
    return rc;
  }
  *out = r;
  return 0;
}

const char *cw__spool_report_tmp_path(const spool_report_t *r) {
  return r->tmp;
}

int cw__spool_report_lock(spool_report_t *r) {
  int fd = fcntl(r->dir_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return cw__spool_fail(errno, "cannot lock %s", r->tmp);
  /* A dup shares the open file description, which is what flock locks:
   * the lock lasts until this fd is closed, whatever happens to dir_fd. */
  if (flock(fd, LOCK_EX) != 0) {
    int rc = cw__spool_fail(errno, "cannot lock %s", r->tmp);
    close(fd);
    return rc;
  }
  return fd;
}

int cw__spool_report_open_file(spool_report_t *r, const char *name,
                               int *fd_out) {
  if (strchr(name, '/') != NULL || name[0] == '.' || name[0] == '\0')
    return CW_EINVAL;
  int fd = openat(r->dir_fd, name,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return cw__spool_fail(errno, "cannot create %s/%s", r->tmp, name);
  fchmod(fd, 0600); /* whatever the umask: the uploader reads it back */
  *fd_out = fd;
  return 0;
}

/* Writes all len bytes of data to fd; 0 or a negative CW_E* code. */
static int write_loop(int fd, const void *data, size_t len) {
  int rc = 0;
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = neg_errno();
      break;
    }
    p += n;
    len -= (size_t)n;
  }
  return rc;
}

int cw__spool_write_fd(int fd, const void *data, size_t len) {
  int rc = write_loop(fd, data, len);
  if (rc == 0 && fsync(fd) != 0)
    rc = neg_errno();
  if (close(fd) != 0 && rc == 0)
    rc = neg_errno();
  return rc;
}

int cw__spool_report_close_file(spool_report_t *r, int fd) {
  if (r->npending < SPOOL_PENDING_MAX) {
    r->pending[r->npending++] = fd;
    return 0;
  }
  /* More files than the commit syncs at once: this one now. */
  int rc = fsync(fd) == 0 ? 0 : neg_errno();
  if (close(fd) != 0 && rc == 0)
    rc = neg_errno();
  if (rc != 0)
    return cw__spool_fail(-rc, "cannot sync a file of %s", r->tmp);
  return 0;
}

int cw__spool_report_write_file(spool_report_t *r, const char *name,
                                const void *data, size_t len) {
  int fd;
  int rc = cw__spool_report_open_file(r, name, &fd);
  if (rc != 0)
    return rc;
  rc = write_loop(fd, data, len);
  if (rc != 0) {
    close(fd);
    return cw__spool_fail(-rc, "cannot write %s/%s", r->tmp, name);
  }
  return cw__spool_report_close_file(r, fd);
}

/* Empties the directory open as fd and closes fd. Entries are unlinked
 * where they are; a subdirectory (a report has none, a hand-made one
 * might) is entered with O_NOFOLLOW, so a symbolic link is removed itself
 * and never followed. */
static int empty_dir_fd(int fd, int depth) {
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    int rc = neg_errno();
    close(fd);
    return rc;
  }
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT)
      continue;
    if (errno != EISDIR || depth >= 8) {
      if (rc == 0)
        rc = neg_errno();
      continue;
    }
    int sub = cw__spool_open_subdir_at(dirfd(d), e->d_name);
    if (sub >= 0)
      empty_dir_fd(sub, depth + 1);
    if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT &&
        rc == 0)
      rc = neg_errno();
  }
  closedir(d);
  return rc;
}

int cw__spool_remove_tree_at(int dir_fd, const char *name) {
  int fd = cw__spool_open_subdir_at(dir_fd, name);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    if (errno == ELOOP || errno == ENOTDIR) {
      /* A symbolic link, a file, a FIFO: the entry goes, its target
       * stays. */
      if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
        return 0;
    }
    return neg_errno();
  }
  int rc = empty_dir_fd(fd, 0);
  if (unlinkat(dir_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT && rc == 0)
    rc = neg_errno();
  return rc;
}

static void close_pending(spool_report_t *r) {
  for (size_t i = 0; i < r->npending; i++)
    close(r->pending[i]);
  r->npending = 0;
}

typedef struct {
  int fd;
  int rc;
} sync_job_t;

static void sync_one(void *arg) {
  sync_job_t *j = arg;
  j->rc = fsync(j->fd) == 0 ? 0 : neg_errno();
}

static void *sync_job(void *arg) {
  sync_one(arg);
  return NULL;
}

/* Syncs the report's files and its directory, all at once. The kernel then
 * serves them with one journal commit where one at a time took one each (ext4,
 * xfs), which is most of a crash's time from fault to durable. Any order of
 * these syncs is correct: all of them finish before the rename makes the report
 * visible. Closes the files. Returns 0 or a negative errno. */
static int sync_report(spool_report_t *r) {
  sync_job_t jobs[SPOOL_PENDING_MAX];
  cw__job_t work[SPOOL_PENDING_MAX];
  for (size_t i = 0; i < r->npending; i++) {
    jobs[i] = (sync_job_t){r->pending[i], 0};
    work[i] = (cw__job_t){sync_one, &jobs[i]};
  }
  int rc;
  /* On the process's kept workers (common/workers.h) where it has them
   * and they are free: they serve one batch at a time, and a second
   * commit at once (two threads committing) starts threads of its own. */
  if (cw__workers_begin(work, r->npending)) {
    rc = fsync(r->dir_fd) == 0 ? 0 : neg_errno();
    cw__workers_finish();
  } else {
    /* A thread per file; this one syncs the directory meanwhile. */
    pthread_t th[SPOOL_PENDING_MAX];
    int started[SPOOL_PENDING_MAX];
    pthread_attr_t attr;
    int have_attr = pthread_attr_init(&attr) == 0;
    if (have_attr)
      pthread_attr_setstacksize(&attr, 64 * 1024);
    for (size_t i = 0; i < r->npending; i++) {
      started[i] = pthread_create(&th[i], have_attr ? &attr : NULL, sync_job,
                                  &jobs[i]) == 0;
      if (!started[i])
        sync_job(&jobs[i]); /* no thread: in turn */
    }
    rc = fsync(r->dir_fd) == 0 ? 0 : neg_errno();
    for (size_t i = 0; i < r->npending; i++)
      if (started[i])
        pthread_join(th[i], NULL);
    if (have_attr)
      pthread_attr_destroy(&attr);
  }
  for (size_t i = 0; i < r->npending; i++)
    if (jobs[i].rc != 0 && rc == 0)
      rc = jobs[i].rc;
  for (size_t i = 0; i < r->npending; i++)
    if (close(r->pending[i]) != 0 && rc == 0)
      rc = neg_errno();
  r->npending = 0;
  return rc;
}

static void report_free_fds(spool_report_t *r) {
  close_pending(r);
  if (r->dir_fd >= 0)
    empty_dir_fd(r->dir_fd, 0); /* closes it */
  r->dir_fd = -1;
  unlinkat(r->spool_fd, r->tmp_name, AT_REMOVEDIR);
  close(r->spool_fd);
  free(r);
}

int cw__spool_report_commit(spool_report_t *r, char *final_path, size_t cap) {
  int rc = sync_report(r);
  if (rc != 0)
    rc = cw__spool_fail(-rc, "cannot sync %s", r->tmp);
  if (rc == 0 &&
      rename_noreplace(r->spool_fd, r->tmp_name, r->spool_fd, r->id) != 0)
    rc = cw__spool_fail(errno, "cannot rename %s to %s/%s", r->tmp, r->spool,
                        r->id);
  if (rc == 0 && fsync(r->spool_fd) != 0)
    rc = cw__spool_fail(errno, "cannot sync %s", r->spool);
  if (rc == 0) {
    if (final_path != NULL)
      snprintf(final_path, cap, "%s/%s", r->spool, r->id);
    close(r->dir_fd);
    close(r->spool_fd);
    free(r);
    return 0;
  }
  /* Not committed: the temporary directory goes, unless the rename
   * happened and only the last fsync failed. */
  struct stat st;
  if (fstatat(r->spool_fd, r->tmp_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    close(r->dir_fd);
    close(r->spool_fd);
    free(r);
    return rc;
  }
  report_free_fds(r);
  return rc;
}

void cw__spool_report_abort(spool_report_t *r) {
  if (r == NULL)
    return;
  report_free_fds(r);
}

typedef struct {
  char *name;
  struct timespec mtime;
} entry_t;

static int cmp_entry(const void *a, const void *b) {
  const entry_t *x = a, *y = b;
  if (x->mtime.tv_sec != y->mtime.tv_sec)
    return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
  if (x->mtime.tv_nsec != y->mtime.tv_nsec)
    return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Which entries a listing keeps: committed report directories (real
 * directories: a symbolic link is never a report), or any entry whose name
 * starts with prefix. */
typedef struct {
  const char *prefix; /* NULL: report directories */
} list_filter_t;

static int keep_entry(DIR *d, const char *name, const list_filter_t *f,
                      struct stat *st) {
  if (f->prefix == NULL)
    return cw__spool_is_report_name(name) &&
           fstatat(dirfd(d), name, st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st->st_mode);
  return strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
         strncmp(name, f->prefix, strlen(f->prefix)) == 0 &&
         fstatat(dirfd(d), name, st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The entries of dir that f keeps, oldest first (mtime, then name). */
static int list_sorted(DIR *d, const list_filter_t *f, char ***names,
                       size_t *n) {
  entry_t *v = NULL;
  size_t len = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    if (!keep_entry(d, e->d_name, f, &st))
      continue;
    if (len == cap) {
      cap = cap ? cap * 2 : 16;
      entry_t *p = realloc(v, cap * sizeof(*v));
      if (p == NULL) {
        rc = CW_ENOMEM;
        break;
      }
      v = p;
    }
    v[len].name = strdup(e->d_name);
    if (v[len].name == NULL) {
      rc = CW_ENOMEM;
      break;
    }
    v[len].mtime = st.st_mtim;
    len++;
  }
  closedir(d);
  if (rc == 0 && len > 0) {
    qsort(v, len, sizeof(*v), cmp_entry);
    *names = malloc(len * sizeof(char *));
    if (*names == NULL)
      rc = CW_ENOMEM;
  }
  for (size_t i = 0; i < len; i++) {
    if (rc == 0)
      (*names)[i] = v[i].name;
    else
      free(v[i].name);
  }
  free(v);
  if (rc == 0)
    *n = len;
  else {
    free(*names);
    *names = NULL;
  }
  return rc;
}

int cw__spool_list(const char *spool_dir, char ***ids, size_t *n) {
  *ids = NULL;
  *n = 0;
  DIR *d = opendir(spool_dir);
  if (d == NULL)
    return neg_errno();
  list_filter_t f = {NULL};
  return list_sorted(d, &f, ids, n);
}

int cw__spool_list_prefix(const char *dir, const char *prefix, char ***names,
                          size_t *n) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : neg_errno();
  list_filter_t f = {prefix};
  return list_sorted(d, &f, names, n);
}

int cw__spool_list_at(int dir_fd, const char *prefix, char ***names,
                      size_t *n) {
  *names = NULL;
  *n = 0;
  int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return neg_errno();
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    int rc = neg_errno();
    close(fd);
    return rc;
  }
  rewinddir(d);
  list_filter_t f = {prefix};
  return list_sorted(d, &f, names, n);
}

void cw__spool_list_free(char **ids, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(ids[i]);
  free(ids);
}
