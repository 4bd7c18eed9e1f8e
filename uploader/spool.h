/*
 * spool.h — the local outbox of reports (normal context).
 *
 * Layout: <spool>/<event_id>/ holds event.json, minidump.dmp and any other
 * attachment files. A report is written in <spool>/.tmp-<event_id>/ and
 * renamed into place only when every file is complete and fsync'd, so a
 * reader never sees a half-written report, and a crash mid-write leaves only
 * a .tmp- directory that listing skips. Directories are 0700, files 0600.
 *
 * The writer side (begin/write/commit) is used by the watchdog; the reader
 * side (list, lock, remove) by the uploader.
 */
#ifndef CW_SPOOL_H
#define CW_SPOOL_H

#include <stddef.h>

#define SPOOL_EVENT_FILE "event.json"
#define SPOOL_MINIDUMP_FILE "minidump.dmp"
#define SPOOL_TMP_PREFIX ".tmp-"

/* Creates dir and its parents (0700) if missing and checks that it is a
 * writable directory. On failure returns a CW_E* code and, if err is not
 * NULL, a message naming the path and the problem. */
int spool_ensure_dir(const char *dir, char *err, size_t errlen);

/* A report being written. Owned by the caller until commit or abort, which
 * free it. */
typedef struct spool_report spool_report_t;

/* Starts <spool>/.tmp-<event_id>/. event_id is 32 lowercase hex digits. */
int spool_report_begin(const char *spool_dir, const char *event_id,
                       spool_report_t **out);
/* Writes all len bytes of data to fd, fsyncs it and closes it (always, even
 * on failure). Returns 0 or a negative CW_E* code. The one write loop of
 * the spool's writers (report files, state files, event.json rewrites). */
int spool_write_fd(int fd, const void *data, size_t len);

/* Writes one whole file (0600) into the report and fsyncs it. name is a plain
 * file name, no slashes. */
int spool_report_write_file(spool_report_t *r, const char *name,
                            const void *data, size_t len);
/* Opens a file of the report for streaming writes; the caller writes,
 * fsyncs and closes the returned fd. */
int spool_report_open_file(spool_report_t *r, const char *name, int *fd_out);
/* The report's temporary directory (valid until commit/abort). */
const char *spool_report_tmp_path(const spool_report_t *r);
/* Makes the report durable and visible as <spool>/<event_id>/: fsyncs the
 * directory, renames it into place, fsyncs the spool. Frees r either way. */
int spool_report_commit(spool_report_t *r, char *final_path, size_t cap);
/* Removes the temporary directory and frees r. NULL is fine. */
void spool_report_abort(spool_report_t *r);

/* True if name is a committed report directory name (32 hex digits). */
int spool_is_report_name(const char *name);

/* Lists committed reports, oldest first (by directory mtime, then name).
 * *ids is an array of *n malloc'd strings; free with spool_list_free. */
int spool_list(const char *spool_dir, char ***ids, size_t *n);
void spool_list_free(char **ids, size_t n);

/* ---- Reader side (the uploader; spool_reader.c) ----------------------
 *
 * Rules of the spool for readers:
 *  - <spool>/<event_id>/ (32 hex digits) is a committed report. A reader
 *    locks it with flock() on the directory itself before touching it, so
 *    two uploaders never send the same report at once; the lock dies with
 *    the process (kill -9 included).
 *  - <spool>/.tmp-* is a report being written. It is never uploaded. One
 *    whose directory and files have not changed for SPOOL_STALE_TMP_SECONDS
 *    belongs to a writer that died; the uploader moves it to failed/ with the
 *    reason, never deletes it silently.
 *  - <spool>/failed/<name>/ is a report the uploader gave up on, with the
 *    reason in <spool>/failed/<name>.reason. Never retried; pruned by age and
 *    count like the outbox.
 *  - <spool>/.trash-<name>/ is a report being deleted (delivered or
 *    pruned); any uploader may finish deleting it.
 *  - <spool>/.state/ holds the uploader's state: <event_id>.retry (attempts,
 *    next attempt) and ratelimits. Losing it (disk full) costs only extra
 *    attempts, never a report: reports leave the spool only after a 2xx.
 */
#define SPOOL_FAILED_DIR "failed"
#define SPOOL_STATE_DIR ".state"
#define SPOOL_RATELIMITS_FILE "ratelimits"
#define SPOOL_STALE_TMP_SECONDS 3600
#define SPOOL_TRASH_PREFIX ".trash-"

/* Writes data to path through path.tmp-<pid>, fsync and rename, so readers
 * see the old or the new content, never a mix. */
int spool_write_atomic(const char *path, const void *data, size_t len);

/* Locks <spool>/<id>/ for this process (non-blocking). Returns 0 and the
 * lock's fd (close it with spool_unlock), CW_EBUSY if another process holds
 * it, CW_ENOENT if the report is gone (delivered by someone else). */
int spool_lock(const char *spool_dir, const char *id, int *fd_out);
void spool_unlock(int fd);

/* Deletes a report directory and its files (the caller holds the lock).
 * The directory is first renamed to <spool>/.trash-<name>, so it vanishes
 * atomically; spool_empty_trash finishes deletions a crash interrupted. */
int spool_remove_report(const char *spool_dir, const char *name);
void spool_empty_trash(const char *spool_dir);

/* Moves <spool>/<name> to <spool>/failed/<name> (a numeric suffix if that
 * exists) and writes the reason next to it. */
int spool_quarantine(const char *spool_dir, const char *name,
                     const char *reason);

/* Total size in bytes of the regular files of <spool>/<name>. */
long long spool_report_bytes(const char *spool_dir, const char *name);

/* Lists entries of dir whose names start with prefix ("" for all, skipping
 * "." and ".."), oldest first by mtime. Free with spool_list_free. */
int spool_list_prefix(const char *dir, const char *prefix, char ***names,
                      size_t *n);

/* Per-report retry state in <spool>/.state/<id>.retry. */
typedef struct {
  int attempts;
  long long next_ms; /* not before this time (ms since epoch) */
  char last_error[256];
} spool_retry_t;

/* Missing state reads as zero attempts. */
int spool_retry_load(const char *spool_dir, const char *id, spool_retry_t *st);
int spool_retry_save(const char *spool_dir, const char *id,
                     const spool_retry_t *st);
void spool_retry_remove(const char *spool_dir, const char *id);

#endif
