#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"

struct spool_report {
  char spool[PATH_MAX];
  char tmp[PATH_MAX];
  char final_[PATH_MAX];
};

static int neg_errno(void) { return errno ? -errno : CW_EIO; }

static int fsync_path(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return neg_errno();
  int rc = fsync(fd) == 0 ? 0 : neg_errno();
  close(fd);
  return rc;
}

int spool_ensure_dir(const char *dir, char *err, size_t errlen) {
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
      if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        int rc = neg_errno();
        if (err)
          snprintf(err, errlen, "spool directory %s: cannot create %s: %s", dir,
                   path, strerror(errno));
        return rc;
      }
      *p = saved;
      if (saved == '\0')
        break;
    }
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    if (err)
      snprintf(err, errlen, "spool directory %s: not a directory", dir);
    return CW_ENOTDIR;
  }
  /* The effective ids decide (a setuid program writes as its owner), not
   * the real ones access() would use. */
  if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0) {
    int rc = neg_errno();
    if (err)
      snprintf(err, errlen, "spool directory %s: not writable: %s", dir,
               strerror(errno));
    return rc;
  }
  return 0;
}

int spool_is_report_name(const char *name) {
  size_t i;
  for (i = 0; name[i]; i++) {
    char c = name[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return 0;
  }
  return i == 32;
}

int spool_report_begin(const char *spool_dir, const char *event_id,
                       spool_report_t **out) {
  *out = NULL;
  if (!spool_is_report_name(event_id))
    return CW_EINVAL;
  spool_report_t *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return CW_ENOMEM;
  if ((size_t)snprintf(r->spool, sizeof(r->spool), "%s", spool_dir) >=
          sizeof(r->spool) ||
      (size_t)snprintf(r->tmp, sizeof(r->tmp), "%s/" SPOOL_TMP_PREFIX "%s",
                       spool_dir, event_id) >= sizeof(r->tmp) ||
      (size_t)snprintf(r->final_, sizeof(r->final_), "%s/%s", spool_dir,
                       event_id) >= sizeof(r->final_)) {
    free(r);
    return CW_EINVAL;
  }
  if (mkdir(r->tmp, 0700) != 0) {
    int rc = neg_errno();
    free(r);
    return rc;
  }
  *out = r;
  return 0;
}

const char *spool_report_tmp_path(const spool_report_t *r) { return r->tmp; }

int spool_report_open_file(spool_report_t *r, const char *name, int *fd_out) {
  char path[PATH_MAX];
  if (strchr(name, '/') != NULL || name[0] == '.' ||
      (size_t)snprintf(path, sizeof(path), "%s/%s", r->tmp, name) >=
          sizeof(path))
    return CW_EINVAL;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return neg_errno();
  *fd_out = fd;
  return 0;
}

int spool_write_fd(int fd, const void *data, size_t len) {
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
  if (rc == 0 && fsync(fd) != 0)
    rc = neg_errno();
  if (close(fd) != 0 && rc == 0)
    rc = neg_errno();
  return rc;
}

int spool_report_write_file(spool_report_t *r, const char *name,
                            const void *data, size_t len) {
  int fd;
  int rc = spool_report_open_file(r, name, &fd);
  if (rc != 0)
    return rc;
  return spool_write_fd(fd, data, len);
}

static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      char path[PATH_MAX];
      if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
          sizeof(path))
        unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

int spool_report_commit(spool_report_t *r, char *final_path, size_t cap) {
  int rc = fsync_path(r->tmp);
  if (rc == 0 && rename(r->tmp, r->final_) != 0)
    rc = neg_errno();
  if (rc == 0)
    rc = fsync_path(r->spool);
  if (rc == 0 && final_path != NULL)
    snprintf(final_path, cap, "%s", r->final_);
  if (rc != 0 && access(r->tmp, F_OK) == 0)
    remove_tree(r->tmp);
  free(r);
  return rc;
}

void spool_report_abort(spool_report_t *r) {
  if (r == NULL)
    return;
  remove_tree(r->tmp);
  free(r);
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

/* Which entries a listing keeps: committed report directories (symlinks
 * followed, as stat does), or any entry whose name starts with prefix. */
typedef struct {
  const char *prefix; /* NULL: report directories */
} list_filter_t;

static int keep_entry(DIR *d, const char *name, const list_filter_t *f,
                      struct stat *st) {
  if (f->prefix == NULL)
    return spool_is_report_name(name) && fstatat(dirfd(d), name, st, 0) == 0 &&
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

int spool_list(const char *spool_dir, char ***ids, size_t *n) {
  *ids = NULL;
  *n = 0;
  DIR *d = opendir(spool_dir);
  if (d == NULL)
    return neg_errno();
  list_filter_t f = {NULL};
  return list_sorted(d, &f, ids, n);
}

int spool_list_prefix(const char *dir, const char *prefix, char ***names,
                      size_t *n) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : neg_errno();
  list_filter_t f = {prefix};
  return list_sorted(d, &f, names, n);
}

void spool_list_free(char **ids, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(ids[i]);
  free(ids);
}
