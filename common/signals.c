#include "signals.h"

#include <stddef.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *cw__signal_name(int signo) {
  static const char *const names[] = {
      NULL,      "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",    "SIGTRAP",
      "SIGABRT", "SIGBUS",  "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV",
      "SIGUSR2", "SIGPIPE", "SIGALRM",   "SIGTERM", "SIGSTKFLT", "SIGCHLD",
      "SIGCONT", "SIGSTOP", "SIGTSTP",   "SIGTTIN", "SIGTTOU",   "SIGURG",
      "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",  "SIGIO",
      "SIGPWR",  "SIGSYS"};
  return signo > 0 && (size_t)signo < COUNT(names) ? names[signo] : NULL;
}

const char *cw__si_code_name(int signo, int code) {
  /* Codes that mean the same for every signal: who sent it. */
  switch (code) {
  case 0:
    return "SI_USER";
  case 0x80:
    return "SI_KERNEL";
  case -1:
    return "SI_QUEUE";
  case -2:
    return "SI_TIMER";
  case -3:
    return "SI_MESGQ";
  case -4:
    return "SI_ASYNCIO";
  case -5:
    return "SI_SIGIO";
  case -6:
    return "SI_TKILL";
  default:
    break;
  }
  static const char *const segv[] = {
      NULL,           "SEGV_MAPERR", "SEGV_ACCERR",  "SEGV_BNDERR",
      "SEGV_PKUERR",  "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR",
      "SEGV_MTEAERR", "SEGV_MTESERR"};
  static const char *const bus[] = {
      NULL,         "BUS_ADRALN",    "BUS_ADRERR",
      "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"};
  static const char *const ill[] = {
      NULL,         "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
      "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"};
  static const char *const fpe[] = {NULL,         "FPE_INTDIV",  "FPE_INTOVF",
                                    "FPE_FLTDIV", "FPE_FLTOVF",  "FPE_FLTUND",
                                    "FPE_FLTRES", "FPE_FLTINV",  "FPE_FLTSUB",
                                    "FPE_FLTUNK", "FPE_CONDTRAP"};
  static const char *const trap[] = {NULL,          "TRAP_BRKPT",  "TRAP_TRACE",
                                     "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK"};
#define PICK(tab)                                                              \
  return code > 0 && (size_t)code < COUNT(tab) ? tab[code] : NULL
  switch (signo) {
  case 11: /* SIGSEGV */
    PICK(segv);
  case 7: /* SIGBUS */
    PICK(bus);
  case 4: /* SIGILL */
    PICK(ill);
  case 8: /* SIGFPE */
    PICK(fpe);
  case 5: /* SIGTRAP */
    PICK(trap);
  case 31: /* SIGSYS */
    return code == 1 ? "SYS_SECCOMP" : NULL;
  default:
    return NULL;
  }
#undef PICK
}
