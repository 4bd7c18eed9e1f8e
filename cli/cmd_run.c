/* cmd_run.c — `crashwatch run [options] -- PROGRAM [ARGS...]`: run a program
 * that knows nothing of crashwatch under supervision (supervisor/, and
 * docs/supervisor.md): its crashes reported, signals forwarded, zombies
 * reaped, its exit status returned. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "crashwatch.h"
#include "run_session.h"
#include "run_upload.h"
#include "spool.h"
#include "supervisor.h"

static const char usage_text[] =
    "usage: crashwatch run [options] [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM (looked up in PATH), which needs no change, and reports "
    "its\n"
    "crashes in crashwatch's format into the spool; forwards SIGTERM, "
    "SIGINT,\n"
    "SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to it, reaps every "
    "zombie\n"
    "(as PID 1 of a container or as a child subreaper), and exits with its\n"
    "status. See docs/supervisor.md.\n"
    "\n"
    "capture:\n"
    "  --mode M              auto (default), preload or ptrace. preload:\n"
    "                        libcrashwatch-preload.so in LD_PRELOAD (dynamic\n"
    "                        programs; inherited by what they fork and "
    "exec).\n"
    "                        ptrace: the program is traced and captured at "
    "the\n"
    "                        crash signal's delivery, before its own "
    "handlers\n"
    "                        (static, setuid, or programs that clear\n"
    "                        LD_PRELOAD). auto: ptrace for static or "
    "setuid/\n"
    "                        setgid executables, else preload; logged\n"
    "  --spool DIR           where reports go (created 0700); default\n"
    "                        $CRASHWATCH_SPOOL, else\n"
    "                        ${XDG_STATE_HOME:-~/.local/state}/crashwatch/"
    "reports\n"
    "  --release R           release of the reports ($SENTRY_RELEASE)\n"
    "  --environment E       environment of the reports "
    "($SENTRY_ENVIRONMENT)\n"
    "  --tag KEY=VALUE       a tag on every report (repeatable)\n"
    "                        $TRACEPARENT passes to PROGRAM and into its\n"
    "                        reports' trace context\n"
    "  --no-summary          no crash summary on stderr\n"
    "  --preload FILE        the preload library ($CRASHWATCH_PRELOAD; "
    "default:\n"
    "                        the installed libcrashwatch-preload.so)\n"
    "  --watchdog FILE       crashwatch-watchdog for ptrace mode\n"
    "                        ($CRASHWATCH_WATCHDOG; default: the installed "
    "one)\n"
    "entrypoint:\n"
    "  --pgroup              start PROGRAM in its own process group and "
    "send\n"
    "                        forwarded signals to the whole group\n"
    "restarts:\n"
    "  --restart P           no (default), on-failure (non-zero exit or "
    "death by\n"
    "                        a signal) or always; never after a forwarded\n"
    "                        SIGTERM, SIGINT, SIGHUP or SIGQUIT\n"
    "  --restart-delay S     first delay before a restart (1); doubles each\n"
    "                        time, back to S after a run of at least the "
    "cap\n"
    "  --restart-delay-max S the cap of the delay (60)\n"
    "  --max-restarts N      give up after N restarts within "
    "--restart-window\n"
    "                        (0: no limit, the default)\n"
    "  --restart-window S    the window of --max-restarts (60)\n"
    "  --dedupe-window S     with restarts: a crash with the same signal and "
    "top\n"
    "                        in-app frames within S of the first makes no "
    "new\n"
    "                        report; the first report counts it and is "
    "sent\n"
    "                        when the window ends (60; 0: off)\n"
    "  --on-crash CMD        run CMD (sh -c) after each crash, without "
    "waiting\n"
    "                        for it; CRASHWATCH_REPORT, _SIGNAL,\n"
    "                        _SIGNAL_NUMBER, _PID, _EXIT_STATUS, _SUMMARY,\n"
    "                        _CRASH_COUNT in its environment; a failure is\n"
    "                        logged\n"
    "  --on-crash-timeout S  kill the hook after S seconds (30)\n"
    "  --metrics-file PATH   keep PATH up to date in Prometheus text format\n"
    "                        (crashwatch_crashes_total{signal}, "
    "_restarts_total,\n"
    "                        _reports_pending, _uploads_total{result},\n"
    "                        _last_crash_timestamp_seconds, _child_up)\n"
    "upload (after a crash, before exiting; reports stay in the spool "
    "until\n"
    "a server accepts them):\n"
    "  --dsn DSN             Sentry DSN ($SENTRY_DSN)\n"
    "  --url URL             Breakpad-style collector "
    "($CRASHWATCH_UPLOAD_URL)\n"
    "  --format F            envelope or minidump "
    "($CRASHWATCH_UPLOAD_FORMAT)\n"
    "  --upload-timeout S    longest time spent uploading before exiting "
    "(30)\n"
    "output:\n"
    "  -v, --verbose         log the mode chosen, each forwarded signal, "
    "each\n"
    "                        report\n"
    "  -h, --help            this text\n"
    "\n"
    "exit status:\n"
    "  N      PROGRAM's exit status\n"
    "  128+N  PROGRAM was killed by signal N (139: SIGSEGV), after its "
    "report\n"
    "         was written\n"
    "  2      usage error: bad option, no PROGRAM\n"
    "  125    crashwatch run itself failed (spool unusable, ptrace refused,\n"
    "         preload library or watchdog not found)\n"
    "  126    PROGRAM was found but cannot be executed\n"
    "  127    PROGRAM was not found\n";

#define EXIT_USAGE 2
#define EXIT_SELF 125

/* A helper file: the flag's, the variable's, else beside this executable
 * as installed (PREFIX/bin/crashwatch -> PREFIX/rel/name), else in the
 * build tree. NULL when none exists. */
static const char *find_helper(const char *flag, const char *env,
                               const char *rel, const char *name,
                               const char *build_path, char *buf, size_t cap) {
  if (flag != NULL)
    return flag;
  const char *e = getenv(env);
  if (e != NULL && e[0] != '\0')
    return e;
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL) {
      *slash = '\0';
      int w =
          snprintf(buf, cap, "%.*s/../%s/%s", (int)(cap / 2), self, rel, name);
      if (w > 0 && (size_t)w < cap && access(buf, R_OK) == 0)
        return buf;
    }
  }
  if (access(build_path, R_OK) == 0)
    return build_path;
  return NULL;
}

static int parse_seconds(const char *v, long *ms) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno != 0 || end == v || *end != '\0' || !(d >= 0) || d > 1e6)
    return -1;
  *ms = (long)(d * 1000.0 + 0.5);
  return 0;
}

static void usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "crashwatch run: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(see 'crashwatch run --help')\n");
}

int cw__cmd_run(int argc, char **argv) {
  enum {
    O_MODE = 256,
    O_SPOOL,
    O_RELEASE,
    O_ENVIRONMENT,
    O_TAG,
    O_NO_SUMMARY,
    O_PRELOAD,
    O_WATCHDOG,
    O_PGROUP,
    O_DSN,
    O_URL,
    O_FORMAT,
    O_UPLOAD_TIMEOUT,
    O_RESTART,
    O_RESTART_DELAY,
    O_RESTART_DELAY_MAX,
    O_MAX_RESTARTS,
    O_RESTART_WINDOW,
    O_DEDUPE_WINDOW,
    O_ON_CRASH,
    O_ON_CRASH_TIMEOUT,
    O_METRICS_FILE,
  };
  static const struct option opts[] = {
      {"mode", required_argument, NULL, O_MODE},
      {"spool", required_argument, NULL, O_SPOOL},
      {"release", required_argument, NULL, O_RELEASE},
      {"environment", required_argument, NULL, O_ENVIRONMENT},
      {"tag", required_argument, NULL, O_TAG},
      {"no-summary", no_argument, NULL, O_NO_SUMMARY},
      {"preload", required_argument, NULL, O_PRELOAD},
      {"watchdog", required_argument, NULL, O_WATCHDOG},
      {"pgroup", no_argument, NULL, O_PGROUP},
      {"dsn", required_argument, NULL, O_DSN},
      {"url", required_argument, NULL, O_URL},
      {"format", required_argument, NULL, O_FORMAT},
      {"upload-timeout", required_argument, NULL, O_UPLOAD_TIMEOUT},
      {"restart", required_argument, NULL, O_RESTART},
      {"restart-delay", required_argument, NULL, O_RESTART_DELAY},
      {"restart-delay-max", required_argument, NULL, O_RESTART_DELAY_MAX},
      {"max-restarts", required_argument, NULL, O_MAX_RESTARTS},
      {"restart-window", required_argument, NULL, O_RESTART_WINDOW},
      {"dedupe-window", required_argument, NULL, O_DEDUPE_WINDOW},
      {"on-crash", required_argument, NULL, O_ON_CRASH},
      {"on-crash-timeout", required_argument, NULL, O_ON_CRASH_TIMEOUT},
      {"metrics-file", required_argument, NULL, O_METRICS_FILE},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  cw__sup_config_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.print_summary = 1;
  const char *spool = NULL, *preload = NULL, *watchdog = NULL;
  const char *dsn = NULL, *url = NULL, *format = NULL;
  long upload_timeout_ms = 30000;
  cw__run_session_t sess;
  memset(&sess, 0, sizeof(sess));
  cw__sup_restart_init(&sess.restart);
  sess.dedupe_window_ms = 60000;
  sess.on_crash_timeout_ms = 30000;
  optind = 1;
  opterr = 0;
  int c;
  /* "+": options end at PROGRAM, whose own options are its own. */
  while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
    switch (c) {
    case O_MODE:
      if (strcmp(optarg, "auto") == 0)
        cfg.mode = CW__SUP_AUTO;
      else if (strcmp(optarg, "preload") == 0)
        cfg.mode = CW__SUP_PRELOAD;
      else if (strcmp(optarg, "ptrace") == 0)
        cfg.mode = CW__SUP_PTRACE;
      else {
        usage_error("--mode: \"%s\" is not auto, preload or ptrace", optarg);
        return EXIT_USAGE;
      }
      break;
    case O_SPOOL:
      spool = optarg;
      break;
    case O_RELEASE:
      cfg.release = optarg;
      break;
    case O_ENVIRONMENT:
      cfg.environment = optarg;
      break;
    case O_TAG: {
      const char *eq = strchr(optarg, '=');
      if (eq == NULL || eq == optarg || strchr(optarg, '\n') != NULL) {
        usage_error("--tag: \"%s\" is not KEY=VALUE", optarg);
        return EXIT_USAGE;
      }
      if (cfg.ntags == CW__SUP_MAX_TAGS) {
        usage_error("--tag: more than %s tags", "64");
        return EXIT_USAGE;
      }
      cfg.tags[cfg.ntags++] = optarg;
      break;
    }
    case O_NO_SUMMARY:
      cfg.print_summary = 0;
      break;
    case O_PRELOAD:
      preload = optarg;
      break;
    case O_WATCHDOG:
      watchdog = optarg;
      break;
    case O_PGROUP:
      cfg.pgroup = 1;
      break;
    case O_DSN:
      dsn = optarg;
      break;
    case O_URL:
      url = optarg;
      break;
    case O_FORMAT:
      format = optarg;
      break;
    case O_UPLOAD_TIMEOUT:
      if (parse_seconds(optarg, &upload_timeout_ms) != 0) {
        usage_error("--upload-timeout: \"%s\" is not a number of seconds",
                    optarg);
        return EXIT_USAGE;
      }
      break;
    case O_RESTART:
      if (cw__sup_restart_parse_policy(optarg, &sess.restart.policy) != 0) {
        usage_error("--restart: \"%s\" is not no, on-failure or always",
                    optarg);
        return EXIT_USAGE;
      }
      break;
    case O_RESTART_DELAY:
    case O_RESTART_DELAY_MAX:
    case O_RESTART_WINDOW:
    case O_DEDUPE_WINDOW:
    case O_ON_CRASH_TIMEOUT: {
      long ms;
      if (parse_seconds(optarg, &ms) != 0) {
        usage_error("\"%s\" is not a number of seconds", optarg);
        return EXIT_USAGE;
      }
      if (c == O_RESTART_DELAY)
        sess.restart.delay_ms = ms;
      else if (c == O_RESTART_DELAY_MAX)
        sess.restart.delay_max_ms = ms;
      else if (c == O_RESTART_WINDOW)
        sess.restart.window_ms = ms;
      else if (c == O_DEDUPE_WINDOW)
        sess.dedupe_window_ms = ms;
      else
        sess.on_crash_timeout_ms = ms;
      break;
    }
    case O_MAX_RESTARTS: {
      char *end;
      errno = 0;
      long n = strtol(optarg, &end, 10);
      if (errno != 0 || end == optarg || *end != '\0' || n < 0) {
        usage_error("--max-restarts: \"%s\" is not a count", optarg);
        return EXIT_USAGE;
      }
      sess.restart.max_restarts = n;
      break;
    }
    case O_ON_CRASH:
      sess.on_crash = optarg;
      break;
    case O_METRICS_FILE:
      sess.metrics_file = optarg;
      break;
    case 'v':
      cfg.verbose = 1;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
      return EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    usage_error("%s", "no PROGRAM to run");
    return EXIT_USAGE;
  }
  if (cfg.release == NULL)
    cfg.release = getenv("SENTRY_RELEASE");
  if (cfg.environment == NULL)
    cfg.environment = getenv("SENTRY_ENVIRONMENT");

  /* The upload target is checked before the program starts: a typo in
   * the DSN must not be found only after the crash. */
  cw__run_upload_t up;
  char err[512];
  int urc = cw__run_upload_init(&up, dsn, url, format, upload_timeout_ms, err,
                                sizeof(err));
  if (urc != 0) {
    fprintf(stderr, "crashwatch run: %s\n", err);
    return EXIT_USAGE;
  }

  char resolved[PATH_MAX];
  int rrc = cw__sup_resolve(argv[optind], resolved, sizeof(resolved), err,
                            sizeof(err));
  if (rrc != 0) {
    fprintf(stderr, "crashwatch run: %s\n", err);
    return rrc;
  }
  cfg.argv = argv + optind;
  cfg.path = resolved;

  char spool_buf[PATH_MAX], spool_real[PATH_MAX];
  const char *sp = cw__cli_default_spool(spool, spool_buf, sizeof(spool_buf));
  if (sp == NULL) {
    fprintf(stderr, "crashwatch run: no spool: set --spool, "
                    "$CRASHWATCH_SPOOL or $HOME\n");
    return EXIT_SELF;
  }
  if (cw__spool_ensure_dir(sp, err, sizeof(err)) != 0) {
    fprintf(stderr, "crashwatch run: spool %s: %s\n", sp, err);
    return EXIT_SELF;
  }
  if (realpath(sp, spool_real) != NULL)
    sp = spool_real;
  cfg.spool_dir = sp;

  if (cfg.mode == CW__SUP_AUTO) {
    char why[PATH_MAX + 64];
    cfg.mode = cw__sup_pick_mode(resolved, why, sizeof(why));
    if (cfg.verbose)
      fprintf(stderr, "crashwatch run: --mode=auto: %s\n", why);
  }
  char pbuf[PATH_MAX], wbuf[PATH_MAX];
  if (cfg.mode == CW__SUP_PRELOAD) {
    cfg.preload = find_helper(preload, "CRASHWATCH_PRELOAD", CW_RUN_LIBDIR,
                              "libcrashwatch-preload.so", CW_RUN_BUILD_PRELOAD,
                              pbuf, sizeof(pbuf));
    if (cfg.preload == NULL) {
      fprintf(stderr, "crashwatch run: libcrashwatch-preload.so not found; "
                      "give --preload FILE or use --mode=ptrace\n");
      return EXIT_SELF;
    }
  } else {
    cfg.watchdog = find_helper(watchdog, "CRASHWATCH_WATCHDOG",
                               CW_RUN_LIBEXECDIR, "crashwatch-watchdog",
                               CW_RUN_BUILD_WATCHDOG, wbuf, sizeof(wbuf));
    if (cfg.watchdog == NULL || access(cfg.watchdog, X_OK) != 0) {
      fprintf(stderr, "crashwatch run: crashwatch-watchdog not found; give "
                      "--watchdog FILE\n");
      return EXIT_SELF;
    }
  }

  int sigfd = cw__sup_signals_setup();
  if (sigfd < 0) {
    fprintf(stderr, "crashwatch run: cannot set up signal handling\n");
    return EXIT_SELF;
  }
  if (sess.restart.delay_max_ms < sess.restart.delay_ms)
    sess.restart.delay_max_ms = sess.restart.delay_ms;
  sess.cfg = &cfg;
  sess.upload = &up;
  /* Every report is durable when the program is let go (committed before
   * it dies); the session delivers the spool before returning, within
   * --upload-timeout. */
  return cw__run_session(&sess, sigfd);
}
