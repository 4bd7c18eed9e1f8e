/*
 * md_pid.h — the crashed process's id from a minidump's MiscInfo stream,
 * without parsing the rest: for `crashwatch list` (every report of a
 * spool) and the delivery journal. Normal context. The dump is outside
 * input: every offset is bounds-checked (fuzz/fuzz_md_pid.c).
 */
#ifndef CW_MD_PID_H
#define CW_MD_PID_H

#include <stddef.h>
#include <stdint.h>

/* From a dump in memory (len bytes). Returns 0 and *pid, CW_EFORMAT (not
 * a minidump, or a stream out of bounds) or CW_ENOENT (no MiscInfo with a
 * process id). */
int cw__md_peek_pid(const void *data, size_t len, uint32_t *pid);

/* The same from an open file, reading only the header, the directory and
 * that stream (pread). CW_EIO for a read error. */
int cw__md_peek_pid_fd(int fd, uint32_t *pid);

#endif
