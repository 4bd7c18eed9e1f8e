/*
 * upload_auto.h — the upload mode of the watchdog executable (normal
 * context): what runs when the watchdog starts a detached copy of itself
 * after a crash, or when the idle stage delivers what an earlier run left
 * in the spool.
 *
 *   crashwatch-upload --upload --spool DIR [--lock-fd N]
 *
 * The target comes from the environment only (never argv):
 * CRASHWATCH_WATCHDOG_DSN (the DSN the app resolved: cw_options_set_dsn or
 * SENTRY_DSN), CRASHWATCH_UPLOAD_URL and CRASHWATCH_UPLOAD_FORMAT, with the
 * precedence of cw__upload_config_target(). It makes one exclusive delivery
 * (cw__upload_run_exclusive: passes until no kick is left), logging errors
 * only, to stderr (the app's). libcurl is dlopen()ed; without it the reports
 * stay in the spool and one line says why.
 */
#ifndef CW_UPLOAD_AUTO_H
#define CW_UPLOAD_AUTO_H

/* argv[1] is "--upload". Returns the process's exit status (that of
 * `crashwatch upload`). */
int cw__upload_auto_main(int argc, char **argv);

#endif
