/* cmd_list.c — `crashwatch list`: one line per report of a spool, newest
 * last, with where its delivery stands (report_view.h). Reads only: no
 * lock, no change, no libcurl, no symbolizer. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "commands.h"
#include "crashwatch.h"
#include "json.h"
#include "report_view.h"

static const char usage_text[] =
    "usage: crashwatch list [--spool DIR] [--all] [--json]\n"
    "\n"
    "Lists the reports of a spool, one line each, newest last: time (UTC),\n"
    "event id, program[pid], signal (or the level of a message event), the\n"
    "top in-app frame, and where its delivery stands:\n"
    "  pending                       waiting for an uploader\n"
    "  retrying at T (N attempts failed: why)\n"
    "  rate-limited until T          the server asked to wait\n"
    "  failed: why                   in DIR/failed/, never retried\n"
    "  uploaded as ID                accepted by the server (with --all, from\n"
    "                                the spool's delivery journal)\n"
    "Nothing is changed or locked: it is safe beside a running uploader.\n"
    "`crashwatch show ID` tells the whole story of one report.\n"
    "\n"
    "options:\n"
    "  --spool DIR   default $CRASHWATCH_SPOOL, else\n"
    "                ${XDG_STATE_HOME:-~/.local/state}/crashwatch/reports\n"
    "  -a, --all     also the reports already uploaded (the journal keeps the\n"
    "                last few hundred)\n"
    "  --json        one JSON document: {\"spool\": DIR, \"reports\": [...]}\n"
    "  -h, --help    this help\n"
    "\n"
    "exit status:\n"
    "  0  listed (also when the spool holds no report)\n"
    "  1  the spool does not exist, is not a directory, or cannot be read\n"
    "  2  usage error\n";

enum { OPT_SPOOL = 256, OPT_JSON };

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_json(const char *spool, const cw__rv_t *v, size_t n) {
  cw__buf_t b = CW_BUF_INIT;
  cw__json_t j;
  cw__json_init(&j, &b, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "spool");
  cw__json_string(&j, spool);
  cw__json_key(&j, "reports");
  cw__json_begin_array(&j);
  for (size_t i = 0; i < n; i++) {
    cw__json_begin_object(&j);
    cw__rv_json_members(&j, &v[i]);
    cw__json_end_object(&j);
  }
  cw__json_end_array(&j);
  cw__json_end_object(&j);
  const char *s = cw__buf_cstr(&b);
  if (s != NULL)
    printf("%s\n", s);
  cw__buf_free(&b);
}

static void print_text(const cw__rv_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const cw__rv_t *r = &v[i];
    char t[40], who[300], what[40], state[900];
    cw__rv_time_text(r->time_ms, t, sizeof(t));
    if (r->ev.pid > 0)
      snprintf(who, sizeof(who), "%s[%lld]",
               r->ev.program[0] ? r->ev.program : "?", r->ev.pid);
    else
      snprintf(who, sizeof(who), "%s", r->ev.program[0] ? r->ev.program : "?");
    snprintf(what, sizeof(what), "%s",
             r->ev.signal[0]  ? r->ev.signal
             : r->ev.level[0] ? r->ev.level
                              : "?");
    cw__rv_state_text(r, state, sizeof(state));
    printf("%s  %-32s  %-24s %-8s %-40s  %s\n", t, r->id, who, what,
           r->ev.top_frame[0] ? r->ev.top_frame : "-", state);
  }
}

int cw__cmd_list(int argc, char **argv) {
  static const struct option opts[] = {
      {"spool", required_argument, 0, OPT_SPOOL},
      {"json", no_argument, 0, OPT_JSON},
      {"all", no_argument, 0, 'a'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  const char *spool = NULL;
  int json = 0, all = 0, c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
    switch (c) {
    case OPT_SPOOL:
      spool = optarg;
      break;
    case OPT_JSON:
      json = 1;
      break;
    case 'a':
      all = 1;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      fprintf(stderr, "crashwatch list: unknown or incomplete option '%s'\n",
              argv[optind - 1]);
      fputs(usage_text, stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "crashwatch list: unexpected argument '%s'\n",
            argv[optind]);
    return 2;
  }
  char buf[PATH_MAX];
  spool = cw__cli_default_spool(spool, buf, sizeof(buf));
  if (cw__rv_check_spool("crashwatch list", spool) != 0)
    return 1;
  /* By its real path: the directories printed (and the lldb command)
   * work from anywhere. */
  char real[PATH_MAX];
  if (realpath(spool, real) != NULL)
    spool = real;
  cw__rv_t *v;
  size_t n;
  int rc = cw__rv_collect(spool, all, now_ms(), &v, &n);
  if (rc != 0) {
    fprintf(stderr, "crashwatch list: cannot read %s: %s\n", spool,
            cw_strerror(rc));
    return 1;
  }
  if (json)
    print_json(spool, v, n);
  else
    print_text(v, n);
  free(v);
  return 0;
}
