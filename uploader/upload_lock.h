/*
 * upload_lock.h — one uploader per spool (normal context, libc only).
 *
 * <spool>/.state/uploader.lock is flock()ed by the uploader delivering the
 * spool; it holds that process's pid, for messages. A starter that finds it
 * taken does not start a second uploader: it leaves the kick marker
 * <spool>/.state/uploader.kick and goes away; the holder makes one more
 * pass whenever it finds the marker before it exits. The protocol, in this
 * order, loses no report:
 *
 *   starter: commit the report; cw__upload_kick(); cw__upload_lock_try()
 *            busy -> done (the holder will see the kick)
 *   holder:  loop { cw__upload_kick_take(); one pass;
 *                   if kicked again -> loop; release;
 *                   if kicked again and cw__upload_lock_relock() -> loop;
 *                   exit }
 *
 * A kick that lands after the holder's last check is seen either by the
 * holder (it relocks) or by its starter (whose try succeeds once the holder
 * released). The lock dies with its holder (kill -9 included); the files
 * themselves are never trusted beyond "exists".
 *
 * The watchdog (libc only) and the idle stage take the lock before they
 * start an uploader, so a busy spool costs no process at all, and hand the
 * locked descriptor to the uploader they start (--lock-fd).
 */
#ifndef CW_UPLOAD_LOCK_H
#define CW_UPLOAD_LOCK_H

#include <stddef.h>
#include <sys/types.h>

#define UPLOAD_LOCK_FILE "uploader.lock"
#define UPLOAD_KICK_FILE "uploader.kick"

/* Leaves the kick marker (creating .state/ if needed). 0 or a CW_E* code. */
int cw__upload_kick(const char *spool_dir);
/* Removes the kick marker; 1 if it was there, else 0. */
int cw__upload_kick_take(const char *spool_dir);
/* 1 if the kick marker is there. */
int cw__upload_kick_present(const char *spool_dir);

/*
 * Takes the spool's uploader lock without waiting (wait = 0) or waiting for
 * it (wait = 1; a signal caught without SA_RESTART ends the wait with
 * CW_EINTR).
 * Returns the locked descriptor (close-on-exec, pid written into the file),
 * CW_EBUSY when another process holds it (*holder set to its pid when
 * known, else 0), or another CW_E* code (no .state/, permissions).
 */
int cw__upload_lock_try(const char *spool_dir, int wait, pid_t *holder);
/* Takes the lock again on a descriptor that held it: 0, or CW_EBUSY. */
int cw__upload_lock_relock(int fd);
/* Releases the lock; the descriptor stays open for cw__upload_lock_relock. */
void cw__upload_lock_release(int fd);
/* Writes the calling process's pid into the lock file (after inheriting
 * the descriptor across exec). */
void cw__upload_lock_adopt(int fd);

#endif
