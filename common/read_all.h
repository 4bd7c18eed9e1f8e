/*
 * read_all.h — reading an open file to its end: the one loop (EINTR
 * retried, growing buffer, a size bound) that the report readers, the CLI
 * and the supervisor had each written. Normal context.
 */
#ifndef CW_READ_ALL_H
#define CW_READ_ALL_H

#include <stddef.h>

/* Reads fd from its current offset to its end into a malloc'd buffer,
 * NUL-terminated (the NUL not counted in *len). hint: the expected size
 * (st_size), or 0; the buffer grows past it if the file did. More than
 * max bytes: CW_ERANGE. Returns 0, CW_ENOMEM, CW_ERANGE or -errno of a
 * failed read; on failure *out is NULL. fd stays open. */
int cw__read_all(int fd, size_t hint, size_t max, char **out, size_t *len);

#endif
