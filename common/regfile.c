/* regfile.c — see regfile.h. */
#include "regfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cw__file_kind(mode_t mode) {
  if (S_ISREG(mode))
    return "a regular file";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  return "not a regular file";
}

int cw__open_regular(const char *path, int flags, const char **kind) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | flags);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    if (kind != NULL)
      *kind = cw__file_kind(st.st_mode);
    return CW_REGFILE_NOT_REGULAR;
  }
  /* Regular files ignore O_NONBLOCK; cleared anyway so the fd behaves as
   * any other for whoever reads it. */
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

int cw__path_not_regular(const char *path, const char **kind) {
  struct stat st;
  if (stat(path, &st) != 0 || S_ISREG(st.st_mode))
    return 0;
  if (kind != NULL)
    *kind = cw__file_kind(st.st_mode);
  return 1;
}
