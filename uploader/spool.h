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

#endif
