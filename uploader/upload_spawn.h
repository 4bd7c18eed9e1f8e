/*
 * upload_spawn.h — start `crashwatch upload --once` detached, from a process
 * that must not link libcurl (normal context, libc only).
 *
 * The watchdog is embedded into libcrashwatch; linking the uploader into it
 * would make every app that links crashwatch load libcurl when it crashes.
 * This helper instead runs the crashwatch CLI as a detached grandchild
 * (double fork, setsid, descriptors other than stderr closed, stdin/stdout
 * on /dev/null) and returns at once. The DSN and URL travel in the child's
 * environment (SENTRY_DSN, CRASHWATCH_UPLOAD_URL), not on its command line,
 * so they do not show in ps.
 *
 * Processes that already link cw_uploader can use cw_upload_spawn_once()
 * (upload.h) instead, which needs no executable.
 */
#ifndef CW_UPLOAD_SPAWN_H
#define CW_UPLOAD_SPAWN_H

/*
 * exe: path of the crashwatch executable; NULL means $CRASHWATCH_CLI, else
 * "crashwatch" looked up in PATH, else the one installed by this build
 * (${bindir}/crashwatch). CW_ENOENT when none is found: nothing is
 * started and the reports stay in the spool. spool_dir required. Exactly one of dsn
 * (Sentry envelopes) and url (Breakpad-style multipart) should be set; with
 * both, the DSN's envelopes go to url. Returns 0 once the detached child
 * exists (not when the upload is done), or a CW_E* code from fork.
 */
int cw_upload_spawn_exec(const char *exe, const char *spool_dir,
                         const char *dsn, const char *url);

/*
 * Detaches the work that follows into a grandchild: returns 0 in that
 * grandchild (new session, re-parented to init, stdin/stdout on /dev/null,
 * every descriptor above 2 closed but keep_fd, -1 for none), which must end
 * with _exit(); returns 1 in the caller once the short-lived intermediate
 * child is reaped; a negative CW_E* code if fork failed.
 */
int cw_upload_detach(int keep_fd);

#endif
