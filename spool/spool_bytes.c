/* spool_bytes.c — how many bytes a report (or failed/ entry) takes, and how
 * recently it changed: the one byte count of the spool, for the uploader's
 * reader side (cw__spool_report_bytes) and pruning (spool_prune.c). Its own
 * file so that a user of either does not pull in the other. Normal
 * context. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "spool_internal.h"

int64_t cw__spool_mtime_ms(const struct stat *st) {
  return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

long long cw__spool_bytes_at(int dir_fd, const char *name, int64_t *newest) {
  int fd = cw__spool_open_subdir_at(dir_fd, name);
  if (fd < 0)
    return 0;
  struct stat st;
  if (newest != NULL && fstat(fd, &st) == 0)
    *newest = cw__spool_mtime_ms(&st);
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return 0;
  }
  long long total = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    /* "." is the directory itself (not a regular file, and its mtime is
     * already counted); ".." is outside it. */
    if (strcmp(e->d_name, "..") == 0 ||
        fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    if (S_ISREG(st.st_mode))
      total += st.st_size;
    if (newest != NULL && cw__spool_mtime_ms(&st) > *newest)
      *newest = cw__spool_mtime_ms(&st);
  }
  closedir(d);
  return total;
}

long long cw__spool_report_bytes(const char *spool_dir, const char *name) {
  int sfd = cw__spool_open_dir(spool_dir, 0);
  if (sfd < 0)
    return 0;
  long long total = cw__spool_bytes_at(sfd, name, NULL);
  close(sfd);
  return total;
}
