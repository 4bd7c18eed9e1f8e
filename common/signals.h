/*
 * signals.h — names of Linux signals and of their si_code values.
 *
 * Numbered as Linux numbers them (the same on x86-64 and arm64), not taken
 * from this machine's <signal.h>, so a minidump written elsewhere decodes the
 * same. Static strings; NULL when the number has no name.
 */
#ifndef CW_SIGNALS_H
#define CW_SIGNALS_H

/* "SIGSEGV" for 11. */
const char *cw__signal_name(int signo);
/* "SEGV_MAPERR" for (11, 1), "SI_USER" for (any, 0)... */
const char *cw__si_code_name(int signo, int code);

#endif
