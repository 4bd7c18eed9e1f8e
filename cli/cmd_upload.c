/* cmd_upload.c — `crashwatch upload`: deliver spooled reports to Sentry
 * (envelopes) or to a Breakpad-style collector (multipart). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "crashwatch.h"
#include "spool.h"
#include "upload.h"
#include "upload_metrics.h"

static const char usage_text[] =
    "usage: crashwatch upload [--spool DIR] [--dsn DSN | --url URL --format "
    "minidump]\n"
    "                         [--once | --watch] [--verbose | --quiet] "
    "[options]\n"
    "\n"
    "Delivers the reports in the spool, deleting each one only after the "
    "server\n"
    "accepted it (HTTP 2xx). Permanent refusals (413, other 4xx) and corrupt "
    "reports\n"
    "move to DIR/failed/ with the reason in DIR/failed/<id>.reason.\n"
    "\n"
    "target:\n"
    "  --dsn DSN             Sentry DSN; reports go as envelopes to\n"
    "                        {path}/api/{project}/envelope/ ($SENTRY_DSN)\n"
    "  --url URL             Breakpad-style collector "
    "($CRASHWATCH_UPLOAD_URL);\n"
    "                        with --dsn, overrides the envelope endpoint\n"
    "  --format F            envelope (default with a DSN) or minidump\n"
    "                        (multipart: upload_file_minidump + sentry "
    "fields)\n"
    "                        ($CRASHWATCH_UPLOAD_FORMAT)\n"
    "                        A target flag makes the environment's targets\n"
    "                        ignored. With a DSN and an URL (flags, or both\n"
    "                        variables), envelopes go to the URL with the\n"
    "                        DSN's key; --format minidump sends multipart.\n"
    "                        Prefer the variables: a command line is visible\n"
    "                        to every user (ps).\n"
    "  --field NAME=VALUE    extra multipart field (repeatable), e.g. "
    "prod=myapp\n"
    "  --gzip                gzip the multipart body (envelopes always are)\n"
    "spool:\n"
    "  --spool DIR           default $CRASHWATCH_SPOOL, else\n"
    "                        ${XDG_STATE_HOME:-~/.local/state}/crashwatch/"
    "reports\n"
    "mode:\n"
    "  --once                one delivery, then exit (the default; not\n"
    "                        together with --watch); if another\n"
    "                        uploader is delivering the spool, leave it the\n"
    "                        work and exit 4 at once\n"
    "  --watch               keep delivering until SIGTERM/SIGINT (waits for\n"
    "                        a running uploader of the spool to finish)\n"
    "  --lock-fd N           internal: the spool's uploader lock, inherited\n"
    "  --poll S              --watch: longest sleep between passes (60)\n"
    "  --metrics-file PATH   after each pass (--watch) or at the end "
    "(--once),\n"
    "                        write the spool's metrics in Prometheus text\n"
    "                        format to PATH, atomically (for node_exporter's\n"
    "                        textfile collector; see docs/operate.md)\n"
    "transport:\n"
    "  --ca-bundle FILE      trust these CAs instead of the system store\n"
    "  --connect-timeout S   connect timeout in seconds (10)\n"
    "  --timeout S           whole-request timeout in seconds (120)\n"
    "                        proxies: http_proxy, https_proxy, no_proxy\n"
    "retries and pruning:\n"
    "  --retry-base S        first retry delay (5); doubles, with jitter\n"
    "  --retry-cap S         longest retry delay (3600)\n"
    "  --max-age S           failing reports older than this go to failed/ "
    "(604800)\n"
    "  --max-reports N       keep at most N reports (100;\n"
    "                        $CRASHWATCH_SPOOL_MAX_REPORTS)\n"
    "  --max-bytes N         keep at most N bytes of reports (268435456;\n"
    "                        $CRASHWATCH_SPOOL_MAX_BYTES); a report larger\n"
    "                        than N on its own moves to failed/\n"
    "  --prune-age S         delete reports and failed/ entries older than "
    "this\n"
    "                        (2592000; $CRASHWATCH_SPOOL_MAX_AGE)\n"
    "  --failed-max N        keep at most N entries in failed/ (50;\n"
    "                        $CRASHWATCH_SPOOL_FAILED_MAX)\n"
    "output:\n"
    "  -v, --verbose         every decision; twice: libcurl trace too\n"
    "  -q, --quiet           errors only\n"
    "  -h, --help            this help\n"
    "\n"
    "exit status:\n"
    "  0  every report that was due is delivered (or there was none)\n"
    "  1  the spool is unusable: it does not exist (it is never created\n"
    "     here), is not a directory, is not writable, is not trusted (owned\n"
    "     by another user or writable by group/others), or an I/O error\n"
    "  2  usage error: bad option, DSN or URL, no target, --once with "
    "--watch\n"
    "  3  some reports were refused or corrupt and moved to failed/\n"
    "  4  some reports are still waiting: server unreachable, 5xx, rate\n"
    "     limited, or handed to another uploader (retry later)\n";

static volatile int stop_flag;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static int parse_seconds(const char *opt, const char *v, int64_t *ms) {
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (errno != 0 || end == v || *end != '\0' || !(d >= 0) || d > 1e9) {
    fprintf(stderr,
            "crashwatch upload: %s: \"%s\" is not a number of seconds\n", opt,
            v);
    return -1;
  }
  *ms = (int64_t)llround(d * 1000.0);
  return 0;
}

static int parse_count(const char *opt, const char *v, long long *out) {
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || n < 0) {
    fprintf(stderr, "crashwatch upload: %s: \"%s\" is not a count\n", opt, v);
    return -1;
  }
  *out = n;
  return 0;
}

enum {
  OPT_SPOOL = 256,
  OPT_DSN,
  OPT_URL,
  OPT_FORMAT,
  OPT_FIELD,
  OPT_GZIP,
  OPT_ONCE,
  OPT_WATCH,
  OPT_POLL,
  OPT_CA,
  OPT_CTIMEOUT,
  OPT_TIMEOUT,
  OPT_RBASE,
  OPT_RCAP,
  OPT_MAXAGE,
  OPT_MAXREP,
  OPT_MAXBYTES,
  OPT_PRUNEAGE,
  OPT_FAILEDMAX,
  OPT_LOCKFD,
  OPT_METRICS,
};

int cw__cmd_upload(int argc, char **argv) {
  static const struct option opts[] = {
      {"spool", required_argument, 0, OPT_SPOOL},
      {"dsn", required_argument, 0, OPT_DSN},
      {"url", required_argument, 0, OPT_URL},
      {"format", required_argument, 0, OPT_FORMAT},
      {"field", required_argument, 0, OPT_FIELD},
      {"gzip", no_argument, 0, OPT_GZIP},
      {"once", no_argument, 0, OPT_ONCE},
      {"watch", no_argument, 0, OPT_WATCH},
      {"poll", required_argument, 0, OPT_POLL},
      {"ca-bundle", required_argument, 0, OPT_CA},
      {"connect-timeout", required_argument, 0, OPT_CTIMEOUT},
      {"timeout", required_argument, 0, OPT_TIMEOUT},
      {"retry-base", required_argument, 0, OPT_RBASE},
      {"retry-cap", required_argument, 0, OPT_RCAP},
      {"max-age", required_argument, 0, OPT_MAXAGE},
      {"max-reports", required_argument, 0, OPT_MAXREP},
      {"max-bytes", required_argument, 0, OPT_MAXBYTES},
      {"prune-age", required_argument, 0, OPT_PRUNEAGE},
      {"failed-max", required_argument, 0, OPT_FAILEDMAX},
      {"lock-fd", required_argument, 0, OPT_LOCKFD},
      {"metrics-file", required_argument, 0, OPT_METRICS},
      {"verbose", no_argument, 0, 'v'},
      {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  cw__upload_config_t cfg;
  cw__upload_config_init(&cfg);
  /* The spool's limits from the environment (the watchdog passes the app's
   * this way); the flags below win. */
  spool_limits_t lim = {cfg.max_reports, cfg.max_bytes, cfg.prune_age_ms,
                        cfg.failed_max};
  char lerr[256];
  if (cw__spool_limits_from_env(&lim, lerr, sizeof(lerr)) != 0) {
    fprintf(stderr, "crashwatch upload: %s\n", lerr);
    return CW_UPLOAD_EXIT_USAGE;
  }
  cfg.max_reports = lim.max_reports;
  cfg.max_bytes = lim.max_bytes;
  cfg.prune_age_ms = lim.max_age_ms;
  cfg.failed_max = lim.failed_max;
  const char *dsn = NULL, *url = NULL, *format = NULL, *spool = NULL;
  int watch = 0, once = 0, verbose = 0, quiet = 0, lock_fd = -1;
  char err[512];
  int64_t ms;
  long long n;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
    switch (c) {
    case OPT_SPOOL:
      spool = optarg;
      break;
    case OPT_DSN:
      dsn = optarg;
      break;
    case OPT_URL:
      url = optarg;
      break;
    case OPT_FORMAT:
      format = optarg;
      break;
    case OPT_FIELD:
      if (cw__upload_config_add_field(&cfg, optarg, err, sizeof(err)) != 0) {
        fprintf(stderr, "crashwatch upload: --field: %s\n", err);
        return CW_UPLOAD_EXIT_USAGE;
      }
      break;
    case OPT_GZIP:
      cfg.gzip = 1;
      break;
    case OPT_ONCE:
      once = 1;
      break;
    case OPT_WATCH:
      watch = 1;
      break;
    case OPT_POLL:
      if (parse_seconds("--poll", optarg, &ms) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.poll_ms = ms;
      break;
    case OPT_CA:
      cfg.ca_bundle = optarg;
      break;
    case OPT_CTIMEOUT:
      if (parse_seconds("--connect-timeout", optarg, &ms) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.connect_timeout_ms = (long)ms;
      break;
    case OPT_TIMEOUT:
      if (parse_seconds("--timeout", optarg, &ms) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.timeout_ms = (long)ms;
      break;
    case OPT_RBASE:
      if (parse_seconds("--retry-base", optarg, &ms) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.retry_base_ms = ms;
      break;
    case OPT_RCAP:
      if (parse_seconds("--retry-cap", optarg, &ms) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.retry_cap_ms = ms;
      break;
    case OPT_MAXAGE:
      if (parse_seconds("--max-age", optarg, &ms) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.max_age_ms = ms;
      break;
    case OPT_PRUNEAGE:
      if (parse_seconds("--prune-age", optarg, &ms) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.prune_age_ms = ms;
      break;
    case OPT_MAXREP:
      if (parse_count("--max-reports", optarg, &n) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.max_reports = (long)n;
      break;
    case OPT_MAXBYTES:
      if (parse_count("--max-bytes", optarg, &n) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.max_bytes = n;
      break;
    case OPT_FAILEDMAX:
      if (parse_count("--failed-max", optarg, &n) != 0)
        return CW_UPLOAD_EXIT_USAGE;
      cfg.failed_max = (long)n;
      break;
    case OPT_LOCKFD:
      if (parse_count("--lock-fd", optarg, &n) != 0 || n > INT_MAX)
        return CW_UPLOAD_EXIT_USAGE;
      lock_fd = (int)n;
      break;
    case OPT_METRICS:
      if (optarg[0] == '\0') {
        fprintf(stderr, "crashwatch upload: --metrics-file needs a path\n");
        return CW_UPLOAD_EXIT_USAGE;
      }
      cfg.metrics_file = optarg;
      break;
    case 'v':
      verbose++;
      break;
    case 'q':
      quiet = 1;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      fprintf(stderr, "crashwatch upload: unknown or incomplete option '%s'\n",
              argv[optind - 1]);
      fputs(usage_text, stderr);
      return CW_UPLOAD_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "crashwatch upload: unexpected argument '%s'\n",
            argv[optind]);
    return CW_UPLOAD_EXIT_USAGE;
  }
  if (once && watch) {
    fprintf(stderr, "crashwatch upload: --once and --watch exclude each "
                    "other: --once delivers and exits, --watch keeps "
                    "delivering\n");
    return CW_UPLOAD_EXIT_USAGE;
  }
  /* A target flag makes the environment's targets ignored (so --dsn alone
   * never picks up a stray CRASHWATCH_UPLOAD_URL); both variables together
   * follow the same rule as both flags (cw__upload_config_target). */
  if (dsn == NULL && url == NULL) {
    dsn = getenv("SENTRY_DSN");
    url = getenv("CRASHWATCH_UPLOAD_URL");
  }
  if (format == NULL)
    format = getenv("CRASHWATCH_UPLOAD_FORMAT");
  if (cw__upload_config_target(&cfg, dsn, url, format, err, sizeof(err)) != 0) {
    fprintf(stderr, "crashwatch upload: --format: %s\n", err);
    return CW_UPLOAD_EXIT_USAGE;
  }
  if (cfg.nfields > 0 && cfg.format != CW_UPLOAD_MINIDUMP) {
    fprintf(stderr, "crashwatch upload: --field needs --format minidump\n");
    return CW_UPLOAD_EXIT_USAGE;
  }
  char spool_buf[PATH_MAX];
  cfg.spool_dir = cw__cli_default_spool(spool, spool_buf, sizeof(spool_buf));
  /* The spool is checked (docs/security.md) and then used by its resolved
   * path, so a symbolic link on the way cannot be swapped in between. */
  char spool_real[PATH_MAX];
  if (cfg.spool_dir != NULL && realpath(cfg.spool_dir, spool_real) != NULL)
    cfg.spool_dir = spool_real;
  cfg.verbosity = quiet     ? CW_UPLOAD_QUIET
                  : verbose ? CW_UPLOAD_VERBOSE
                            : CW_UPLOAD_NORMAL;
  cfg.curl_verbose = verbose > 1;
  /* Started by the watchdog (CRASHWATCH_CLI), which hands over the spool's
   * lock: say what became of each report, as its own upload mode does. */
  cfg.outcomes = lock_fd >= 0;
  int rc = cw__upload_config_check(&cfg, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "crashwatch upload: %s\n", err);
    return rc == CW_ESPOOL ? CW_UPLOAD_EXIT_SPOOL : CW_UPLOAD_EXIT_USAGE;
  }
  cw__upload_stats_t st;
  if (watch) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    rc = cw__upload_watch(&cfg, &stop_flag, &st);
  } else {
    rc = cw__upload_run_exclusive(&cfg, lock_fd, &st);
    if (rc == 0 && cfg.metrics_file != NULL) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      int mrc = cw__upload_metrics_write(cfg.metrics_file, cfg.spool_dir, &st,
                                         (int64_t)ts.tv_sec * 1000 +
                                             ts.tv_nsec / 1000000);
      if (mrc != 0)
        fprintf(stderr,
                "crashwatch upload: cannot write the metrics file %s: %s\n",
                cfg.metrics_file,
                mrc == CW_EIO ? strerror(errno) : cw_strerror(mrc));
    }
  }
  if (rc == CW_ESPOOL)
    return CW_UPLOAD_EXIT_SPOOL;
  if (rc != 0)
    return CW_UPLOAD_EXIT_USAGE;
  if (!quiet && !st.handed_off &&
      (verbose || st.delivered + st.failed + st.pending > 0))
    fprintf(stderr,
            "crashwatch upload: %d delivered, %d failed, %d pending, %d "
            "pruned\n",
            st.delivered, st.failed, st.pending, st.pruned);
  return cw__upload_exit_code(&st);
}
