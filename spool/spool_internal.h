/*
 * spool_internal.h — helpers the spool's files share (private to
 * spool/spool*.c; normal context).
 */
#ifndef CW_SPOOL_INTERNAL_H
#define CW_SPOOL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Records "<message>: <strerror(e)>" (e = 0: the message alone) for
 * cw__spool_last_error() and returns CW_ESPOOL. */
int cw__spool_fail(int e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Opens a directory by path (following symbolic links: the spool's own path
 * was checked by cw__spool_check_dir) or, with nofollow, refusing a symbolic
 * link as its last component. -1 with errno on failure. */
int cw__spool_open_dir(const char *path, int nofollow);

/* Opens the entry name of dir_fd as a directory, never following a
 * symbolic link. -1 with errno (ELOOP or ENOTDIR for a symbolic link). */
int cw__spool_open_subdir_at(int dir_fd, const char *name);

/* True if st is a directory this process may trust inside the spool:
 * owned by the effective user and writable by no one else. */
int cw__spool_private_dir(const struct stat *st);

/* Fills out with 2 * nbytes lowercase hex digits from getrandom(), or from
 * the clock, pid and a counter when no entropy is available (names made
 * from it are always created exclusively, so a guessed name costs a retry,
 * never a file). nbytes <= 16. */
void cw__spool_random_hex(char *out, size_t nbytes);

/* renameat2(RENAME_NOREPLACE), or a check and renameat where the file
 * system lacks it. -1 with errno (EEXIST if to exists). */
int cw__spool_rename_noreplace(int from_fd, const char *from, int to_fd,
                               const char *to);

/* cw__spool_list (prefix NULL) or cw__spool_list_prefix on an open directory,
 * which stays open. */
int cw__spool_list_at(int dir_fd, const char *prefix, char ***names, size_t *n);

/* st's modification time in ms since the epoch. */
int64_t cw__spool_mtime_ms(const struct stat *st);

/* Bytes of the regular files in the directory name of dir_fd (0 if it is
 * not a real directory: a symbolic link is never followed) and, if newest
 * is not NULL, the newest mtime of it and its entries (spool_bytes.c). */
long long cw__spool_bytes_at(int dir_fd, const char *name, int64_t *newest);

#endif
