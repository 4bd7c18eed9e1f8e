/*
 * regfile.h — opening a file that outside input names (a module path from a
 * minidump or the command line, a debug file found by build-id or
 * debuglink, a Breakpad .sym file, a minidump) for reading, without ever
 * blocking on it. Normal context.
 *
 * open(2) of a FIFO for reading waits for a writer, forever if none comes,
 * and a read from a character device may never return: a symbolizer or a
 * stackwalker handed such a path (by a hostile dump, or a planted file in a
 * debug directory) must refuse it at once rather than hang. Paths are
 * followed through symlinks: the build-id tree (.build-id/xx/rest.debug)
 * and most library names are symlinks by design; what is refused is any
 * file that is not regular once reached.
 */
#ifndef CW_REGFILE_H
#define CW_REGFILE_H

#include <sys/types.h>

/* Returned by cw__open_regular() for a file that is not a regular file. */
#define CW_REGFILE_NOT_REGULAR (-2)

/*
 * Opens path read-only with O_CLOEXEC | O_NONBLOCK | O_NOCTTY (| flags),
 * then fstat()s it and keeps it only if it is a regular file; the blocking
 * mode is restored before returning. Returns the fd; -1 with errno set
 * (open or fstat failed); or CW_REGFILE_NOT_REGULAR with *kind (if kind is
 * not NULL) naming what the file is: "a FIFO", "a directory", "a socket",
 * "a character device", "a block device", "not a regular file".
 */
int cw__open_regular(const char *path, int flags, const char **kind);

/* What a file of this mode is, for messages ("a FIFO", ...); "a regular
 * file" for one. */
const char *cw__file_kind(mode_t mode);

/* Whether path names something other than a regular file (following
 * symlinks), for callers that only hand a path on: 1 with *kind set, else 0
 * (regular, or cannot be looked at: the later open says why). */
int cw__path_not_regular(const char *path, const char **kind);

#endif
