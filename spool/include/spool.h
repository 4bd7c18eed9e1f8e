/*
 * spool.h — the local outbox of reports (normal context).
 *
 * Layout: <spool>/<event_id>/ holds event.json, minidump.dmp and any other
 * attachment files. A report is written in <spool>/.tmp-<event_id>/ and
 * renamed into place only when every file is complete and fsync'd, so a
 * reader never sees a half-written report, and a crash mid-write leaves only
 * a .tmp- directory that listing skips. Directories are 0700, files 0600,
 * whatever the umask.
 *
 * Trust (docs/security.md, "Who may write the spool"): a spool is used only
 * if it, its .state/ and failed/ subdirectories belong to the effective user
 * and nobody else may write them, and every directory above it belongs to
 * root or that user and is writable by no one else unless sticky (/tmp).
 * Inside the spool nothing is ever followed through a symbolic link: every
 * entry is reached relative to an open directory fd with O_NOFOLLOW /
 * AT_SYMLINK_NOFOLLOW, temporary files are created with O_CREAT|O_EXCL
 * under unpredictable names, and only regular files are opened for reading.
 *
 * The writer side (begin/write/commit) is used by the watchdog; the reader
 * side (list, lock, remove) by the uploader; both prune (spool_prune.c).
 */
#ifndef CW_SPOOL_H
#define CW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_EVENT_FILE "event.json"
#define SPOOL_MINIDUMP_FILE "minidump.dmp"
/* A release-health session update (key=value lines, uploader/session.h):
 * beside event.json in a crash report, or alone in a session-only report. */
#define SPOOL_SESSION_FILE "session"
/* Open sessions of running processes (docs/sessions.md). */
#define SPOOL_SESSIONS_DIR ".sessions"
#define SPOOL_TMP_PREFIX ".tmp-"

/* Creates dir and its missing parents (0700 whatever the umask: mkdir,
 * then fchmod), then checks it as cw__spool_check_dir does. On failure returns
 * CW_ESPOOL (CW_EINVAL for an empty or too long path) and, if err is not
 * NULL, a message naming the path and the problem. For writers (cw_init,
 * the watchdog). */
int cw__spool_ensure_dir(const char *dir, char *err, size_t errlen);

/* Checks an existing spool without creating anything: a writable
 * directory that passes the trust rule above. Returns 0; CW_ENOENT if dir
 * does not exist ("spool directory X does not exist"); CW_ESPOOL if it is
 * not a directory, not writable, or not trusted, with a message naming the
 * offending directory, its owner and its mode:
 *   spool directory /s: UNPROTECTED: /s is owned by uid 1001 with mode
 *   0777; it must be owned by uid 0 (this process's effective user) and
 *   writable by no one else
 * For readers (`crashwatch upload`), which must not create a spool. */
int cw__spool_check_dir(const char *dir, char *err, size_t errlen);

/* The message of the last spool function that failed with CW_ESPOOL in
 * this process (path, operation and errno text). Not thread-safe: one
 * writer per process (the watchdog writes one report at a time). */
const char *cw__spool_last_error(void);

/* A report being written. Owned by the caller until commit or abort, which
 * free it. */
typedef struct spool_report spool_report_t;

/* Starts <spool>/.tmp-<event_id>/. event_id is 32 lowercase hex digits. */
int cw__spool_report_begin(const char *spool_dir, const char *event_id,
                           spool_report_t **out);
/* Writes all len bytes of data to fd, fsyncs it and closes it (always, even
 * on failure). Returns 0 or a negative CW_E* code. The one write loop of
 * the spool's writers (report files, state files, event.json rewrites). */
int cw__spool_write_fd(int fd, const void *data, size_t len);

/* A process that must commit fast (the watchdog: thread creation is a good
 * part of a commit on some hosts) starts kept workers (common/workers.h,
 * cw__workers_start): a commit then syncs its files on them instead of
 * starting a thread per file. */

/* Writes one whole file (0600) into the report; the commit syncs it. name
 * is a plain file name, no slashes. */
int cw__spool_report_write_file(spool_report_t *r, const char *name,
                                const void *data, size_t len);
/* Opens a file of the report for streaming writes; the caller writes and
 * hands the fd back with cw__spool_report_close_file (or closes it itself
 * and syncs it first, if it wants it synced). */
int cw__spool_report_open_file(spool_report_t *r, const char *name,
                               int *fd_out);
/* Gives a written file of the report (fd from cw__spool_report_open_file)
 * to the report: the commit syncs all such files and the directory at
 * once (concurrently, so the kernel can serve them with one journal
 * commit) and closes them; an abort closes them. Returns 0 or a CW_E*
 * code (a file past the 16 the commit takes is synced and closed here). */
int cw__spool_report_close_file(spool_report_t *r, int fd);
/* The report's temporary directory (valid until commit/abort). */
const char *cw__spool_report_tmp_path(const spool_report_t *r);
/* Locks the report directory the way cw__spool_lock does (flock, blocking) and
 * returns a new fd holding the lock, or a CW_E* code. The lock is on the
 * directory itself, so it follows it through the commit's rename. */
int cw__spool_report_lock(spool_report_t *r);
/* Makes the report durable and visible as <spool>/<event_id>/: fsyncs its
 * files and the directory (concurrently), renames it into place, fsyncs
 * the spool. Frees r either way. */
int cw__spool_report_commit(spool_report_t *r, char *final_path, size_t cap);
/* Removes the temporary directory and frees r. NULL is fine. */
void cw__spool_report_abort(spool_report_t *r);

/* True if name is a committed report directory name (32 hex digits). */
int cw__spool_is_report_name(const char *name);

/* Lists committed reports, oldest first (by directory mtime, then name):
 * real directories with report names (a symbolic link is not a report).
 * *ids is an array of *n malloc'd strings; free with cw__spool_list_free. */
int cw__spool_list(const char *spool_dir, char ***ids, size_t *n);
void cw__spool_list_free(char **ids, size_t n);

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

/* Writes data to path through a new file .<name>.tmp-<16 random hex digits>
 * (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), fsync and rename, so readers see the
 * old or the new content, never a mix. The directory of path is opened with
 * O_NOFOLLOW and must belong to this process's effective user and be
 * writable by no one else (CW_ESPOOL otherwise). */
int cw__spool_write_atomic(const char *path, const void *data, size_t len);
/* The same relative to the open directory dir_fd; name has no slash. */
int cw__spool_write_atomic_at(int dir_fd, const char *name, const void *data,
                              size_t len);

/* Reads the regular file path (at most cap - 1 bytes, NUL-terminated)
 * without following a symbolic link or opening anything but a regular
 * file. Returns the length, CW_ENOENT, CW_EFORMAT (not a regular file) or
 * another CW_E* code. For the small state files. */
long cw__spool_read_small(const char *path, char *buf, size_t cap);

/* Opens <spool>/<name> (.state, failed), creating it 0700 if missing, as a
 * directory fd (O_NOFOLLOW) that belongs to this process's effective user
 * and is writable by no one else. Returns the fd or CW_ESPOOL (message in
 * cw__spool_last_error). */
int cw__spool_open_subdir(const char *spool_dir, const char *name);

/* Removes the entry name of the directory dir_fd and, if it is a real
 * directory, everything in it; a symbolic link (or any other non-directory)
 * is unlinked itself, never followed. */
int cw__spool_remove_tree_at(int dir_fd, const char *name);

/* Locks <spool>/<id>/ for this process (non-blocking). Returns 0 and the
 * lock's fd (close it with cw__spool_unlock), CW_EBUSY if another process holds
 * it, CW_ENOENT if the report is gone (delivered by someone else) or is not
 * a real directory (a symbolic link is never opened; pruning moves it to
 * failed/). */
int cw__spool_lock(const char *spool_dir, const char *id, int *fd_out);
void cw__spool_unlock(int fd);

/* Deletes a report directory and its files (the caller holds the lock).
 * The directory is first renamed to <spool>/.trash-<name>, so it vanishes
 * atomically; cw__spool_empty_trash finishes deletions a crash interrupted.
 * A symbolic link at name is removed itself; its target is never touched. */
int cw__spool_remove_report(const char *spool_dir, const char *name);
void cw__spool_empty_trash(const char *spool_dir);

/* Moves <spool>/<name> to <spool>/failed/<name> (a numeric suffix if that
 * exists) and writes the reason next to it. Whatever <spool>/<name> is (a
 * symbolic link included), the entry itself is moved, never its target. */
int cw__spool_quarantine(const char *spool_dir, const char *name,
                         const char *reason);

/* Total size in bytes of the regular files of <spool>/<name> (0 if it is
 * not a real directory). The spool's one byte count (spool_bytes.c), which
 * pruning uses too. */
long long cw__spool_report_bytes(const char *spool_dir, const char *name);

/* Lists entries of dir whose names start with prefix ("" for all, skipping
 * "." and ".."), oldest first by mtime. Free with cw__spool_list_free. */
int cw__spool_list_prefix(const char *dir, const char *prefix, char ***names,
                          size_t *n);

/* Per-report retry state in <spool>/.state/<id>.retry. */
typedef struct {
  int attempts;
  long long next_ms; /* not before this time (ms since epoch) */
  char last_error[256];
} spool_retry_t;

/* Missing state reads as zero attempts. */
int cw__spool_retry_load(const char *spool_dir, const char *id,
                         spool_retry_t *st);
int cw__spool_retry_save(const char *spool_dir, const char *id,
                         const spool_retry_t *st);
void cw__spool_retry_remove(const char *spool_dir, const char *id);

/* ---- Limits (spool_limits.c, spool_prune.c) ----------------------------
 *
 * The spool stays bounded with or without a server: the watchdog prunes
 * after each report it commits, the uploader before each pass. */

/* Defaults (docs/upload.md, include/crashwatch.h). */
#define SPOOL_DEFAULT_MAX_REPORTS 100
#define SPOOL_DEFAULT_MAX_BYTES (256LL * 1024 * 1024)
#define SPOOL_DEFAULT_MAX_AGE_S (30LL * 24 * 3600)
#define SPOOL_DEFAULT_FAILED_MAX 50

typedef struct {
  long max_reports;    /* reports in the outbox; 0: no limit */
  long long max_bytes; /* bytes of reports in the outbox; 0: no limit */
  int64_t max_age_ms;  /* age of a report or failed entry; 0: no limit */
  long failed_max;     /* entries in failed/; -1: no limit */
} spool_limits_t;

/* The defaults above. */
void cw__spool_limits_default(spool_limits_t *l);

/* Overrides l with CRASHWATCH_SPOOL_MAX_REPORTS, CRASHWATCH_SPOOL_MAX_BYTES,
 * CRASHWATCH_SPOOL_MAX_AGE (seconds) and CRASHWATCH_SPOOL_FAILED_MAX where
 * set (secure_getenv: ignored in a setuid/setcap process). Returns 0, or
 * CW_EINVAL with a message naming the variable (l keeps the valid ones). */
int cw__spool_limits_from_env(spool_limits_t *l, char *err, size_t errlen);

/* Sets the variables above from l, for a process started from here. */
void cw__spool_limits_to_env(const spool_limits_t *l);

typedef struct {
  int pruned;      /* reports and failed/ entries deleted */
  int quarantined; /* moved to failed/: not a directory, stale .tmp-,
                      larger than max_bytes alone */
  int errors;      /* entries that could not be handled */
} spool_prune_stats_t;

/* Receives one log line (no newline) per action. */
typedef void (*spool_log_fn)(void *ctx, const char *line);

/*
 * Applies the limits to <spool>, oldest first, one log line per action:
 *  - an entry with a report name that is not a real directory (a symbolic
 *    link, a file, a FIFO) moves to failed/ as it is, never followed;
 *  - a .tmp- directory unchanged for SPOOL_STALE_TMP_SECONDS moves to
 *    failed/ ("incomplete report");
 *  - a report larger than max_bytes on its own moves to failed/ (it could
 *    never fit, and is not deleted undelivered);
 *  - then reports older than max_age_ms, beyond max_reports, or beyond
 *    max_bytes in total are deleted, oldest first;
 *  - failed/ entries older than max_age_ms or beyond failed_max are
 *    deleted, oldest first.
 * A report locked by another process (being sent or written) is never
 * touched, and neither is keep (the report just written; NULL for none).
 * now_ms is the current time in ms since the epoch. log may be NULL.
 */
void cw__spool_prune(const char *spool_dir, const spool_limits_t *lim,
                     const char *keep, int64_t now_ms, spool_log_fn log,
                     void *log_ctx, spool_prune_stats_t *st);

#endif
