/*
 * upload_spawn.h — start a detached uploader from a process that must not
 * link libcurl (normal context, libc only).
 *
 * The watchdog is embedded into libcrashwatch and links only libc
 * dynamically. It uploads by starting a detached copy of itself in upload
 * mode (cw__upload_spawn_self: `crashwatch-upload --upload --spool DIR
 * --lock-fd N`, which dlopen()s libcurl; see upload_auto.h), or, when
 * CRASHWATCH_CLI names one, the crashwatch CLI (cw__upload_spawn_exec). Both
 * double-fork (setsid, descriptors other than stderr and the lock closed,
 * stdin/stdout on /dev/null) and return at once.
 *
 * Secrets never go on a command line (ps shows it to every user): the DSN
 * and the URL travel in the child's environment (readable only by its
 * owner and root, like its memory).
 *
 * One uploader per spool (upload_lock.h): the spool's uploader lock is
 * taken here, before anything is started, and handed to the child. If
 * another uploader holds it, that one is kicked, nothing is started, and
 * the return is CW_EBUSY.
 */
#ifndef CW_UPLOAD_SPAWN_H
#define CW_UPLOAD_SPAWN_H

/* Environment of the upload-mode child (and of the watchdog, which gets
 * the DSN from the app this way). CRASHWATCH_UPLOAD_URL and
 * CRASHWATCH_UPLOAD_FORMAT keep their user-facing names. */
#define CW_UPLOAD_DSN_ENV "CRASHWATCH_WATCHDOG_DSN"

/*
 * Runs the crashwatch CLI: `EXE upload --once --quiet --spool DIR --lock-fd
 * N` with SENTRY_DSN and CRASHWATCH_UPLOAD_URL in its environment (unset
 * when NULL). exe: a path, or a name looked up in PATH; NULL means
 * $CRASHWATCH_CLI. CW_ENOENT when none is found: nothing is started and the
 * reports stay in the spool. spool_dir required, and at least one of dsn
 * and url (both: envelopes to the URL; see cw__upload_config_target).
 * Returns 0 once the detached child exists (not when the upload is done),
 * CW_EBUSY when handed to a running uploader, or a CW_E* code from fork.
 */
int cw__upload_spawn_exec(const char *exe, const char *spool_dir,
                          const char *dsn, const char *url);

/*
 * Runs this executable again in upload mode: from image_fd (the embedded
 * watchdog's memfd) when >= 0, else /proc/self/exe. The DSN goes in
 * CRASHWATCH_WATCHDOG_DSN, the URL in CRASHWATCH_UPLOAD_URL. Returns as
 * cw__upload_spawn_exec.
 */
int cw__upload_spawn_self(int image_fd, const char *spool_dir, const char *dsn,
                          const char *url);

/*
 * Kicks the spool's uploader and tries its lock. Returns the locked
 * descriptor (close-on-exec), CW_EBUSY when another uploader holds it, or
 * -1 when no lock can be had (start anyway: per-report locks still keep
 * uploaders apart).
 */
int cw__upload_lock_for_spawn(const char *spool_dir);

/*
 * Detaches the work that follows into a grandchild: returns 0 in that
 * grandchild (new session, re-parented to init, stdin/stdout on /dev/null,
 * every descriptor above 2 closed but the nkeep in keep, where -1 entries
 * are ignored), which must end with _exit(); returns 1 in the caller once
 * the short-lived intermediate child is reaped; a negative CW_E* code if
 * fork failed.
 */
int cw__upload_detach(const int *keep, int nkeep);

#endif
