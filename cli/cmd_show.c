/* cmd_show.c — `crashwatch show ID|latest`: the whole story of one report:
 * process, signal and fault address, scope, attachments, delivery history,
 * the lldb command that opens its minidump, and every thread's stack
 * symbolized from the minidump (cmd_symbolize_dump.c). */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "crashwatch.h"
#include "read_all.h"
#include "json.h"
#include "json_read.h"
#include "report_view.h"
#include "spool.h"
#include "symbolizer.h"

/* Exit codes (documented in the help and docs/operate.md). */
#define SHOW_EXIT_OK 0
#define SHOW_EXIT_SPOOL 1
#define SHOW_EXIT_USAGE 2
#define SHOW_EXIT_NONE 3
#define SHOW_EXIT_AMBIGUOUS 4

static const char usage_text[] =
    "usage: crashwatch show ID|latest [--spool DIR] [--json] [--debug-dir "
    "DIR]...\n"
    "\n"
    "Tells the whole story of one report: time, program, pid and thread,\n"
    "signal and fault address (or the message and its level), release,\n"
    "where its delivery stands and its history (attempts, last error, rate\n"
    "limit, failure reason, the server's event id once uploaded), the scope\n"
    "(tags, user, contexts, breadcrumbs, extra), the attachments, the lldb\n"
    "command that opens the minidump, then every thread's stack symbolized\n"
    "from the minidump (crashing thread first, inline frames and file:line)\n"
    "and the modules with their build-ids.\n"
    "\n"
    "ID is an event id or any unique prefix of one (as `crashwatch list`\n"
    "prints them); `latest` is the newest report. Reports already uploaded\n"
    "are found in the spool's delivery journal (their files are gone).\n"
    "\n"
    "options:\n"
    "  --spool DIR       default $CRASHWATCH_SPOOL, else\n"
    "                    ${XDG_STATE_HOME:-~/.local/state}/crashwatch/reports\n"
    "  --json            one JSON document (the stacks as `crashwatch "
    "symbolize\n"
    "                    --json` gives them, under \"stackwalk\")\n"
    "  --debug-dir DIR   look for debug files in DIR/.build-id/ too "
    "(repeatable)\n"
    "  -h, --help        this help\n"
    "\n"
    "exit status:\n"
    "  0  shown\n"
    "  1  the spool does not exist or cannot be read\n"
    "  2  usage error (no ID, an ID that is not hex)\n"
    "  3  no report matches ID\n"
    "  4  ID is ambiguous: the candidates are listed on stderr\n";

enum { OPT_SPOOL = 256, OPT_JSON, OPT_DEBUG_DIR };

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A JSON value of the event, written back as it was read. */
static void emit(cw__json_t *j, const cw__jv_t *v) {
  switch (v->kind) {
  case CW__JV_NULL:
    cw__json_null(j);
    break;
  case CW__JV_BOOL:
    cw__json_bool(j, v->boolean);
    break;
  case CW__JV_NUMBER:
    cw__json_double(j, v->number);
    break;
  case CW__JV_STRING:
    cw__json_string_n(j, v->string, v->len);
    break;
  case CW__JV_ARRAY:
    cw__json_begin_array(j);
    for (size_t i = 0; i < v->n; i++)
      emit(j, &v->items[i]);
    cw__json_end_array(j);
    break;
  case CW__JV_OBJECT:
    cw__json_begin_object(j);
    for (size_t i = 0; i < v->n; i++) {
      cw__json_key(j, v->keys[i]);
      emit(j, &v->items[i]);
    }
    cw__json_end_object(j);
    break;
  }
}

/* A value on one line, for text output. */
static void one_line(const cw__jv_t *v, char *out, size_t cap) {
  if (v->kind == CW__JV_STRING) {
    snprintf(out, cap, "%s", v->string);
  } else {
    cw__buf_t b = CW_BUF_INIT;
    cw__json_t j;
    cw__json_init(&j, &b, 0);
    emit(&j, v);
    const char *s = cw__buf_cstr(&b);
    snprintf(out, cap, "%s", s ? s : "");
    cw__buf_free(&b);
  }
  for (char *p = out; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
}

static int is_hex(const char *s) {
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      return 0;
  return 1;
}

/* The report a query names, or an exit code. The spool's entry of an id
 * wins over its journal line (delivered but not yet removed), which is
 * kept as history. */
static int resolve(const char *q, cw__rv_t *v, size_t n, cw__rv_t *out) {
  if (n == 0)
    return SHOW_EXIT_NONE;
  if (strcmp(q, "latest") == 0) {
    *out = v[n - 1];
  } else {
    size_t qlen = strlen(q);
    const char *match = NULL;
    int distinct = 0;
    for (size_t i = 0; i < n; i++)
      if (strncmp(v[i].id, q, qlen) == 0 &&
          (match == NULL || strcmp(match, v[i].id) != 0)) {
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
          seen =
              strncmp(v[k].id, q, qlen) == 0 && strcmp(v[k].id, v[i].id) == 0;
        if (!seen) {
          distinct++;
          match = v[i].id;
        }
      }
    if (distinct == 0)
      return SHOW_EXIT_NONE;
    if (distinct > 1) {
      fprintf(stderr,
              "crashwatch show: '%s' is ambiguous; it starts %d reports:\n", q,
              distinct);
      for (size_t i = 0; i < n; i++) {
        if (strncmp(v[i].id, q, qlen) != 0)
          continue;
        char t[40], st[600];
        cw__rv_time_text(v[i].time_ms, t, sizeof(t));
        cw__rv_state_text(&v[i], st, sizeof(st));
        fprintf(stderr, "  %s  %s  %s  %s\n", v[i].id, t,
                v[i].ev.program[0] ? v[i].ev.program : "?", st);
      }
      return SHOW_EXIT_AMBIGUOUS;
    }
    int found = 0;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(v[i].id, match) != 0)
        continue;
      if (!found ||
          (out->state == CW__RV_UPLOADED && v[i].state != CW__RV_UPLOADED)) {
        cw__journal_entry_t keep = out->journal;
        int had = found && out->has_journal;
        *out = v[i];
        if (had && !out->has_journal) {
          out->journal = keep;
          out->has_journal = 1;
        }
      } else if (v[i].has_journal && !out->has_journal) {
        out->journal = v[i].journal;
        out->has_journal = 1;
      }
      found = 1;
    }
  }
  /* The journal may remember an id still in the spool. */
  for (size_t i = 0; i < n && !out->has_journal; i++)
    if (v[i].has_journal && strcmp(v[i].id, out->id) == 0) {
      out->journal = v[i].journal;
      out->has_journal = 1;
    }
  return 0;
}

/* The report's event.json, parsed (NULL when gone or unreadable). */
static cw__jv_t *load_event(const cw__rv_t *r) {
  if (r->dir[0] == '\0')
    return NULL;
  int dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return NULL;
  int fd = openat(dfd, SPOOL_EVENT_FILE,
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  close(dfd);
  if (fd < 0)
    return NULL;
  struct stat st;
  cw__jv_t *ev = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size < 64 * 1024 * 1024) {
    char *text;
    size_t got;
    if (cw__read_all(fd, (size_t)st.st_size, 64 * 1024 * 1024, &text, &got) ==
        0)
      cw__jv_parse(text, got, &ev, NULL, 0);
    free(text);
  }
  close(fd);
  return ev;
}

typedef struct {
  char name[256];
  long long size;
  int regular;
} attachment_t;

/* The report's files but event.json: its attachments (the minidump first,
 * as the uploader sends them). */
static size_t attachments(const cw__rv_t *r, attachment_t *out, size_t cap) {
  if (r->dir[0] == '\0')
    return 0;
  int dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return 0;
  DIR *d = fdopendir(dfd);
  if (d == NULL) {
    close(dfd);
    return 0;
  }
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < cap) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, SPOOL_EVENT_FILE) == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    attachment_t *a = &out[n++];
    snprintf(a->name, sizeof(a->name), "%s", e->d_name);
    a->size = (long long)st.st_size;
    a->regular = S_ISREG(st.st_mode);
    if (strcmp(a->name, SPOOL_MINIDUMP_FILE) == 0 && n > 1) {
      attachment_t t = out[0];
      out[0] = *a;
      *a = t;
    }
  }
  closedir(d);
  return n;
}

static int has_minidump(const attachment_t *a, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(a[i].name, SPOOL_MINIDUMP_FILE) == 0 && a[i].regular)
      return 1;
  return 0;
}

/* The shell command that opens the minidump in lldb (its minidump
 * plugin: `lldb --core FILE`), the path single-quoted for a shell. */
static void lldb_command(const cw__rv_t *r, char *out, size_t cap) {
  cw__buf_t b = CW_BUF_INIT;
  cw__buf_append_str(&b, "lldb --core '");
  for (const char *p = r->dir; *p; p++) {
    if (*p == '\'')
      cw__buf_append_str(&b, "'\\''");
    else
      cw__buf_append(&b, p, 1);
  }
  cw__buf_append_str(&b, "/" SPOOL_MINIDUMP_FILE "'");
  const char *s = cw__buf_cstr(&b);
  snprintf(out, cap, "%s", s ? s : "");
  cw__buf_free(&b);
}

static const char *const scope_keys[] = {
    "tags",        "user",        "contexts",    "breadcrumbs",
    "extra",       "fingerprint", "transaction", "server_name",
    "environment", "release",     "dist",        NULL};

static void history_text(const cw__rv_t *r) {
  char t[40];
  printf("\ndelivery history\n");
  int any = 0;
  if (r->attempts > 0) {
    cw__rv_time_text(r->next_ms, t, sizeof(t));
    printf("  %d failed attempt%s; last error: %s; next attempt at %s\n",
           r->attempts, r->attempts == 1 ? "" : "s", r->last_error, t);
    any = 1;
  }
  if (r->state == CW__RV_RATE_LIMITED) {
    cw__rv_time_text(r->limited_until_ms, t, sizeof(t));
    printf("  rate limited by the server until %s\n", t);
    any = 1;
  }
  if (r->state == CW__RV_FAILED) {
    printf("  given up: %s\n", r->reason);
    any = 1;
  }
  if (r->has_journal) {
    cw__rv_time_text(r->journal.time_ms, t, sizeof(t));
    printf("  uploaded at %s to %s (HTTP %ld) as %s\n", t, r->journal.server,
           r->journal.status,
           r->journal.server_event_id[0] ? r->journal.server_event_id
                                         : r->journal.event_id);
    any = 1;
  }
  if (!any)
    printf("  not sent yet\n");
}

static void scope_text(const cw__jv_t *ev) {
  printf("\nscope\n");
  int any = 0;
  const cw__jv_t *tags = cw__jv_get(ev, "tags");
  for (size_t i = 0; tags != NULL && tags->kind == CW__JV_OBJECT && i < tags->n;
       i++) {
    char v[512];
    one_line(&tags->items[i], v, sizeof(v));
    printf("  tag %s = %s\n", tags->keys[i], v);
    any = 1;
  }
  const char *one[] = {"user",        "transaction", "fingerprint",
                       "server_name", "dist",        NULL};
  for (int k = 0; one[k]; k++) {
    const cw__jv_t *x = cw__jv_get(ev, one[k]);
    if (x == NULL)
      continue;
    char v[1024];
    one_line(x, v, sizeof(v));
    printf("  %s: %s\n", one[k], v);
    any = 1;
  }
  const cw__jv_t *ctx = cw__jv_get(ev, "contexts");
  for (size_t i = 0; ctx != NULL && ctx->kind == CW__JV_OBJECT && i < ctx->n;
       i++) {
    char v[1024];
    one_line(&ctx->items[i], v, sizeof(v));
    printf("  context %s: %s\n", ctx->keys[i], v);
    any = 1;
  }
  const cw__jv_t *extra = cw__jv_get(ev, "extra");
  for (size_t i = 0;
       extra != NULL && extra->kind == CW__JV_OBJECT && i < extra->n; i++) {
    char v[512];
    one_line(&extra->items[i], v, sizeof(v));
    printf("  extra %s = %s\n", extra->keys[i], v);
    any = 1;
  }
  const cw__jv_t *crumbs = cw__jv_path(ev, "breadcrumbs.values");
  if (crumbs == NULL)
    crumbs = cw__jv_get(ev, "breadcrumbs");
  size_t nc = cw__jv_count(crumbs);
  if (nc > 0)
    printf("  breadcrumbs (%zu, oldest first):\n", nc);
  for (size_t i = 0; i < nc; i++) {
    const cw__jv_t *c = cw__jv_at(crumbs, i);
    const char *ts = cw__jv_str(cw__jv_get(c, "timestamp"));
    const char *cat = cw__jv_str(cw__jv_get(c, "category"));
    const char *lvl = cw__jv_str(cw__jv_get(c, "level"));
    const char *msg = cw__jv_str(cw__jv_get(c, "message"));
    printf("    %s %s%s%s%s %s\n", ts ? ts : "-", cat ? "[" : "",
           cat ? cat : "", cat ? "] " : "", lvl ? lvl : "", msg ? msg : "");
    any = 1;
  }
  if (!any)
    printf("  (none)\n");
}

static int show_text(cw__symbolizer_t *s, const cw__rv_t *r, const cw__jv_t *ev,
                     const attachment_t *att, size_t natt) {
  char t[40], st[900];
  cw__rv_time_text(r->time_ms, t, sizeof(t));
  cw__rv_state_text(r, st, sizeof(st));
  printf("report      %s\n", r->id);
  printf("time        %s\n", t);
  printf("program     %s", r->ev.program[0] ? r->ev.program : "?");
  if (r->ev.pid > 0)
    printf(", pid %lld", r->ev.pid);
  if (r->ev.tid > 0)
    printf(", thread %lld", r->ev.tid);
  if (r->ev.thread_name[0])
    printf(" (%s)", r->ev.thread_name);
  printf("\n");
  if (r->ev.is_crash) {
    printf("signal      %s%s%s%s at %s\n", r->ev.signal,
           r->ev.code_name[0] ? " (" : "", r->ev.code_name,
           r->ev.code_name[0] ? ")" : "",
           r->ev.fault_addr[0] ? r->ev.fault_addr : "?");
  } else if (r->ev.level[0] || r->ev.signal[0]) {
    printf("level       %s\n", r->ev.level[0] ? r->ev.level : r->ev.signal);
  }
  if (r->ev.title[0])
    printf("title       %s\n", r->ev.title);
  if (r->ev.top_frame[0])
    printf("top frame   %s\n", r->ev.top_frame);
  if (r->ev.release[0])
    printf("release     %s\n", r->ev.release);
  if (r->ev.environment[0])
    printf("environment %s\n", r->ev.environment);
  printf("state       %s\n", st);
  if (r->dir[0])
    printf("directory   %s\n", r->dir);
  history_text(r);
  if (ev != NULL)
    scope_text(ev);
  if (natt > 0) {
    printf("\nattachments\n");
    for (size_t i = 0; i < natt; i++)
      printf("  %-24s %lld bytes%s\n", att[i].name, att[i].size,
             att[i].regular ? "" : " (not a regular file: never read)");
  }
  int rc = 0;
  if (has_minidump(att, natt)) {
    char cmd[PATH_MAX + 64];
    lldb_command(r, cmd, sizeof(cmd));
    printf("\ndebug it with\n  %s\n", cmd);
    printf("\nstacks, symbolized from the minidump\n");
    fflush(stdout);
    rc = cw__symbolize_dump_to(s, r->dir, 0, NULL);
  } else if (r->state == CW__RV_UPLOADED) {
    printf("\nThe report's files left the spool when it was uploaded: find it "
           "on the server by its event id.\n");
  }
  return rc;
}

static int show_json(cw__symbolizer_t *s, const cw__rv_t *r, const cw__jv_t *ev,
                     const attachment_t *att, size_t natt) {
  cw__buf_t b = CW_BUF_INIT;
  cw__json_t j;
  cw__json_init(&j, &b, 0);
  cw__json_begin_object(&j);
  cw__rv_json_members(&j, r);
  cw__json_key(&j, "code_name");
  cw__json_string(&j, r->ev.code_name);
  cw__json_key(&j, "fault_address");
  if (r->ev.fault_addr[0])
    cw__json_string(&j, r->ev.fault_addr);
  else
    cw__json_null(&j);
  cw__json_key(&j, "thread_name");
  cw__json_string(&j, r->ev.thread_name);
  cw__json_key(&j, "history");
  cw__json_begin_object(&j);
  cw__json_key(&j, "attempts");
  cw__json_int(&j, r->attempts);
  cw__json_key(&j, "last_error");
  if (r->last_error[0])
    cw__json_string(&j, r->last_error);
  else
    cw__json_null(&j);
  cw__json_key(&j, "uploaded");
  if (r->has_journal) {
    cw__json_begin_object(&j);
    cw__json_key(&j, "time_ms");
    cw__json_int(&j, r->journal.time_ms);
    cw__json_key(&j, "server_event_id");
    cw__json_string(&j, r->journal.server_event_id);
    cw__json_key(&j, "server");
    cw__json_string(&j, r->journal.server);
    cw__json_key(&j, "status");
    cw__json_int(&j, r->journal.status);
    cw__json_end_object(&j);
  } else {
    cw__json_null(&j);
  }
  cw__json_end_object(&j);
  cw__json_key(&j, "scope");
  cw__json_begin_object(&j);
  for (int k = 0; ev != NULL && scope_keys[k]; k++) {
    const cw__jv_t *x = cw__jv_get(ev, scope_keys[k]);
    if (x == NULL)
      continue;
    cw__json_key(&j, scope_keys[k]);
    emit(&j, x);
  }
  cw__json_end_object(&j);
  cw__json_key(&j, "attachments");
  cw__json_begin_array(&j);
  for (size_t i = 0; i < natt; i++) {
    cw__json_begin_object(&j);
    cw__json_key(&j, "name");
    cw__json_string(&j, att[i].name);
    cw__json_key(&j, "size");
    cw__json_int(&j, att[i].size);
    cw__json_key(&j, "regular");
    cw__json_bool(&j, att[i].regular);
    cw__json_end_object(&j);
  }
  cw__json_end_array(&j);
  int rc = 0;
  cw__json_key(&j, "lldb");
  if (has_minidump(att, natt)) {
    char cmd[PATH_MAX + 64];
    lldb_command(r, cmd, sizeof(cmd));
    cw__json_string(&j, cmd);
    cw__buf_t walk = CW_BUF_INIT;
    rc = cw__symbolize_dump_to(s, r->dir, 1, &walk);
    cw__json_key(&j, "stackwalk");
    const char *w = cw__buf_cstr(&walk);
    if (w != NULL && walk.len > 0)
      cw__json_raw(&j, w, walk.len);
    else
      cw__json_null(&j);
    cw__buf_free(&walk);
  } else {
    cw__json_null(&j);
    cw__json_key(&j, "stackwalk");
    cw__json_null(&j);
  }
  cw__json_end_object(&j);
  const char *o = cw__buf_cstr(&b);
  if (o != NULL)
    printf("%s\n", o);
  cw__buf_free(&b);
  return rc;
}

int cw__cmd_show(int argc, char **argv) {
  static const struct option opts[] = {
      {"spool", required_argument, 0, OPT_SPOOL},
      {"json", no_argument, 0, OPT_JSON},
      {"debug-dir", required_argument, 0, OPT_DEBUG_DIR},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  const char *spool = NULL;
  int json = 0, c;
  cw__symbolizer_t *s = cw__symbolizer_new(0);
  if (s == NULL) {
    fprintf(stderr, "crashwatch show: out of memory\n");
    return SHOW_EXIT_SPOOL;
  }
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case OPT_SPOOL:
      spool = optarg;
      break;
    case OPT_JSON:
      json = 1;
      break;
    case OPT_DEBUG_DIR:
      if (cw__symbolizer_add_debug_dir(s, optarg) != 0) {
        fprintf(stderr, "crashwatch show: bad --debug-dir '%s'\n", optarg);
        cw__symbolizer_free(s);
        return SHOW_EXIT_USAGE;
      }
      break;
    case 'h':
      fputs(usage_text, stdout);
      cw__symbolizer_free(s);
      return 0;
    default:
      fprintf(stderr, "crashwatch show: unknown or incomplete option '%s'\n",
              argv[optind - 1]);
      fputs(usage_text, stderr);
      cw__symbolizer_free(s);
      return SHOW_EXIT_USAGE;
    }
  }
  if (optind + 1 != argc) {
    fprintf(stderr, optind == argc
                        ? "crashwatch show: which report? give an event id "
                          "(or a prefix), or 'latest'\n"
                        : "crashwatch show: one report at a time\n");
    fputs(usage_text, stderr);
    cw__symbolizer_free(s);
    return SHOW_EXIT_USAGE;
  }
  char q[64];
  const char *arg = argv[optind];
  size_t alen = strlen(arg);
  for (size_t i = 0; i <= alen && i < sizeof(q); i++)
    q[i] =
        (arg[i] >= 'A' && arg[i] <= 'F') ? (char)(arg[i] - 'A' + 'a') : arg[i];
  q[sizeof(q) - 1] = '\0';
  if (strcmp(arg, "latest") != 0 && (alen == 0 || alen > 32 || !is_hex(q))) {
    fprintf(stderr,
            "crashwatch show: '%s' is not an event id (32 hex digits, or a "
            "prefix of one) nor 'latest'\n",
            arg);
    cw__symbolizer_free(s);
    return SHOW_EXIT_USAGE;
  }
  if (strcmp(arg, "latest") == 0)
    snprintf(q, sizeof(q), "latest");
  char buf[PATH_MAX];
  spool = cw__cli_default_spool(spool, buf, sizeof(buf));
  if (cw__rv_check_spool("crashwatch show", spool) != 0) {
    cw__symbolizer_free(s);
    return SHOW_EXIT_SPOOL;
  } /* By its real path: the directories printed (and the lldb command)
     * work from anywhere. */
  char real[PATH_MAX];
  if (realpath(spool, real) != NULL)
    spool = real;

  cw__rv_t *v;
  size_t n;
  int rc = cw__rv_collect(spool, 1, now_ms(), &v, &n);
  if (rc != 0) {
    fprintf(stderr, "crashwatch show: cannot read %s: %s\n", spool,
            cw_strerror(rc));
    cw__symbolizer_free(s);
    return SHOW_EXIT_SPOOL;
  }
  cw__rv_t r;
  memset(&r, 0, sizeof(r));
  rc = resolve(q, v, n, &r);
  free(v);
  if (rc == SHOW_EXIT_NONE)
    fprintf(stderr, "crashwatch show: no report in %s matches '%s'\n", spool,
            arg);
  if (rc != 0) {
    cw__symbolizer_free(s);
    return rc;
  }
  cw__jv_t *ev = load_event(&r);
  attachment_t att[64];
  size_t natt = attachments(&r, att, sizeof(att) / sizeof(att[0]));
  int wrc =
      json ? show_json(s, &r, ev, att, natt) : show_text(s, &r, ev, att, natt);
  (void)wrc; /* a damaged minidump is said on stderr; the story stands */
  cw__jv_free(ev);
  cw__symbolizer_free(s);
  return SHOW_EXIT_OK;
}
