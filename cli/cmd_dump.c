/*
 * cmd_dump.c — `crashwatch dump FILE.dmp [--json]`: what a minidump holds
 * (streams, system, exception, threads with their key registers and stack
 * ranges, modules with their build-ids), read with symbolizer/minidump.h.
 *
 * Exit status: 0 when the dump reads cleanly, 1 when it cannot be opened or
 * any stream is damaged (what was readable is still printed, the errors go
 * to stderr and into "errors" of the JSON), 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "json.h"
#include "minidump.h"
#include "regfile.h"
#include "signals.h"
#include "stackwalk.h"

static void usage(FILE *out) {
  fputs("usage: crashwatch dump FILE.dmp|REPORT_DIR [--json] [--stack] "
        "[--cfi]\n"
        "                       [--symbols DIR]\n"
        "\n"
        "Lists the streams, system info, exception, threads (tid, name,\n"
        "rip/rsp/rbp, captured stack) and modules (range, build-id, debug "
        "id) of a\nminidump. A report directory stands for its "
        "minidump.dmp.\n"
        "\n"
        "options:\n"
        "  --json         prints the same as JSON\n"
        "  --stack        also unwinds each thread from the dump's memory "
        "(frame\n"
        "                 pointers and stack scanning, no module files) and "
        "lists\n"
        "                 the frames\n"
        "  --cfi          implies --stack; also uses CFI from the module "
        "files at\n"
        "                 the paths the dump recorded, when their build-ids "
        "match\n"
        "  --symbols DIR  implies --stack; also uses the STACK CFI records "
        "of a\n"
        "                 Breakpad symbol store (DIR/NAME/ID/NAME.sym)\n"
        "  -h, --help     this help\n"
        "\n"
        "exit status:\n"
        "  0  the dump was read completely\n"
        "  1  the file cannot be opened, is not a minidump, or is damaged "
        "(what\n"
        "     could be read is printed, the damage goes to stderr)\n"
        "  2  usage error\n",
        out);
}

static const char *stream_label(uint32_t type, char *buf, size_t n) {
  const char *name = cw__md_stream_name(type);
  if (name != NULL)
    return name;
  snprintf(buf, n, "unknown");
  return buf;
}

/* The crashing thread's index, or -1. */
static long crash_index(const cw__md_t *md) {
  const cw__md_exception_t *e = cw__md_exception(md);
  return e ? cw__md_thread_index(md, e->tid) : -1;
}

/* Registers shown for a thread: the exception context for the crashing
 * thread, like minidump_stackwalk. */
static const md_context_amd64_t *thread_ctx(const cw__md_t *md, size_t i,
                                            char *why, size_t n) {
  return cw__md_thread_amd64(md, i, why, n);
}

/* A Linux text stream as one line: NULs (cmdline) become spaces, the
 * trailing newline is dropped. */
static void text_line(const cw__md_t *md, uint32_t type, cw__buf_t *out) {
  size_t len = 0;
  const uint8_t *p = cw__md_stream_data(md, type, &len);
  for (size_t i = 0; p != NULL && i < len; i++) {
    char c = (char)p[i];
    if (c == '\0' || c == '\n')
      c = ' ';
    cw__buf_append(out, &c, 1);
  }
  while (out->len > 0 && out->data[out->len - 1] == ' ')
    out->len--;
  cw__buf_cstr(out);
}

/* --cfi: the module files at the paths the dump recorded (the walker uses
 * one only when its build-id matches). */
static int use_local_modules;

/* Whether path was already reported (each thread's walk asks again);
 * remembers it if not. */
static int warned_not_regular(const char *path) {
  static cw__buf_t seen =
      CW_BUF_INIT; /* "\npath\n" entries; lives until exit */
  char key[4100];
  snprintf(key, sizeof(key), "\n%s\n", path);
  const char *all = cw__buf_cstr(&seen);
  if (all != NULL && strstr(all, key) != NULL)
    return 1;
  cw__buf_printf(&seen, "%s", key + (seen.len > 0));
  return 0;
}

static const char *local_module(void *ctx, const cw__md_module_t *m) {
  (void)ctx;
  if (m->name[0] != '/')
    return NULL;
  /* The dump names the path: a FIFO or device there is refused (the
   * walker's own open never blocks either), and said once per module. */
  const char *kind = NULL;
  if (cw__path_not_regular(m->name, &kind)) {
    if (!warned_not_regular(m->name))
      fprintf(stderr,
              "crashwatch dump: %s: not a regular file (%s), not "
              "used for CFI\n",
              m->name, kind);
    return NULL;
  }
  return m->name;
}

/* --symbols DIR: a Breakpad symbol store (NAME/ID/NAME.sym) whose STACK CFI
 * records the walker may use. */
static const char *symbols_dir;
static char sym_path[4096];

static const char *store_sym(void *ctx, const cw__md_module_t *m) {
  (void)ctx;
  const char *name = m->pdb_name ? m->pdb_name : m->basename;
  if (name[0] == '\0' || m->breakpad_id[0] == '\0')
    return NULL;
  /* Breakpad names the .sym after the module without a ".pdb" suffix. */
  size_t n = strlen(name);
  if (n > 4 && strcasecmp(name + n - 4, ".pdb") == 0)
    n -= 4;
  snprintf(sym_path, sizeof(sym_path), "%s/%s/%s/%.*s.sym", symbols_dir, name,
           m->breakpad_id, (int)n, name);
  return access(sym_path, R_OK) == 0 ? sym_path : NULL;
}

/* Unwinds thread i: frame pointers and scanning, plus CFI with --cfi. */
static cw__sw_frame_t *walk(const cw__md_t *md, size_t i, size_t *n, char *err,
                            size_t errlen) {
  cw__stackwalker_t *sw = NULL;
  cw__sw_frame_t *f = NULL;
  cw__sw_options_t o = {0};
  if (use_local_modules)
    o.find_module_file = local_module;
  if (symbols_dir != NULL)
    o.find_module_sym = store_sym;
  *n = 0;
  if (cw__sw_new(md, &o, &sw) != 0) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (cw__sw_walk_thread(sw, i, &f, n, err, errlen) != 0)
    f = NULL;
  cw__sw_free(sw);
  return f;
}

static void print_frames(const cw__md_t *md, size_t i) {
  char err[256];
  size_t n;
  cw__sw_frame_t *f = walk(md, i, &n, err, sizeof(err));
  if (f == NULL) {
    printf("     (no stack: %s)\n", err);
    return;
  }
  for (size_t k = 0; k < n; k++) {
    const cw__md_module_t *m =
        f[k].module_index >= 0 ? cw__md_module(md, (size_t)f[k].module_index)
                               : NULL;
    if (m != NULL)
      printf("     #%-3zu 0x%016llx %s + 0x%llx (%s)\n", k,
             (unsigned long long)f[k].ip, m->basename,
             (unsigned long long)f[k].module_offset,
             cw__sw_trust_name(f[k].trust));
    else
      printf("     #%-3zu 0x%016llx (%s)\n", k, (unsigned long long)f[k].ip,
             cw__sw_trust_name(f[k].trust));
  }
  free(f);
}

static void print_text(const cw__md_t *md, const char *file, int stack) {
  const md_header_t *h = cw__md_header(md);
  printf("%s: minidump version 0x%08x, %zu streams, flags 0x%llx, "
         "time %u\n\n",
         file, h->version, cw__md_stream_count(md),
         (unsigned long long)h->flags, h->time_date_stamp);

  printf("Streams:\n  %-20s %-12s %10s %10s\n", "name", "type", "size",
         "offset");
  for (size_t i = 0; i < cw__md_stream_count(md); i++) {
    const cw__md_stream_t *s = cw__md_stream(md, i);
    char buf[16];
    printf("  %-20s 0x%-10x %10u 0x%08x\n",
           stream_label(s->type, buf, sizeof(buf)), s->type, s->size, s->rva);
  }

  const cw__md_system_t *si = cw__md_system_info(md);
  if (si != NULL) {
    printf("\nSystem:\n  OS: %s %u.%u.%u %s\n  CPU: %s %s%s%s, %u CPU%s\n",
           cw__md_os_name(si->raw.platform_id), si->raw.major_version,
           si->raw.minor_version, si->raw.build_number, si->csd_version,
           cw__md_arch_name(si->raw.processor_architecture), si->cpu_info,
           si->vendor[0] ? ", " : "", si->vendor, si->raw.number_of_processors,
           si->raw.number_of_processors == 1 ? "" : "s");
  }
  const cw__md_misc_t *mi = cw__md_misc_info(md);
  if (mi != NULL && (mi->flags1 & MD_MISCINFO_FLAGS1_PROCESS_ID))
    printf("  Process: pid %u\n", mi->process_id);
  cw__buf_t line = CW_BUF_INIT;
  text_line(md, MD_LINUX_CMD_LINE, &line);
  if (line.len > 0)
    printf("  Command line: %s\n", (const char *)line.data);
  cw__buf_free(&line);

  /* Crashpad simple annotations: Crashpad's own, or the release and tags
   * crashwatch writes there (issue 10). */
  const cw__md_crashpad_t *cp = cw__md_crashpad_info(md);
  if (cp != NULL && cp->simple_count > 0) {
    printf("\nAnnotations:\n");
    for (size_t i = 0; i < cp->simple_count; i++)
      printf("  %s = %s\n", cp->simple[i].key, cp->simple[i].value);
  }

  const cw__md_exception_t *e = cw__md_exception(md);
  if (e != NULL) {
    const char *sig = cw__signal_name((int)e->code);
    const char *code = cw__si_code_name((int)e->code, (int)e->flags);
    printf("\nException:\n  signal %s (%u), si_code %s (%d), address "
           "0x%llx, thread %u",
           sig ? sig : "?", e->code, code ? code : "?", (int)e->flags,
           (unsigned long long)e->address, e->tid);
    long ci = crash_index(md);
    if (ci >= 0)
      printf(" (index %ld)", ci);
    printf("\n");
  }

  printf("\nThreads (%zu):\n", cw__md_thread_count(md));
  long ci = crash_index(md);
  for (size_t i = 0; i < cw__md_thread_count(md); i++) {
    const cw__md_thread_t *t = cw__md_thread(md, i);
    printf("  %2zu tid %-7u %-16s%s\n", i, t->tid, t->name ? t->name : "",
           (long)i == ci ? " (crashed)" : "");
    char why[128];
    const md_context_amd64_t *c = thread_ctx(md, i, why, sizeof(why));
    if (c != NULL)
      printf("     rip 0x%016llx  rsp 0x%016llx  rbp 0x%016llx\n",
             (unsigned long long)c->rip, (unsigned long long)c->rsp,
             (unsigned long long)c->rbp);
    else
      printf("     (%s)\n", why);
    if (t->stack_size > 0)
      printf("     stack 0x%016llx-0x%016llx (%u bytes)\n",
             (unsigned long long)t->stack_start,
             (unsigned long long)(t->stack_start + t->stack_size),
             t->stack_size);
    else
      printf("     stack not captured\n");
    if (stack)
      print_frames(md, i);
  }

  printf("\nModules (%zu):\n", cw__md_module_count(md));
  for (size_t i = 0; i < cw__md_module_count(md); i++) {
    const cw__md_module_t *m = cw__md_module(md, i);
    printf("  0x%012llx-0x%012llx %s\n", (unsigned long long)m->base,
           (unsigned long long)(m->base + m->size - (m->size ? 1 : 0)),
           m->basename);
    if (m->code_id[0])
      printf("     build-id %s\n", m->code_id);
    if (m->debug_id[0])
      printf("     debug-id %s (breakpad %s)\n", m->debug_id, m->breakpad_id);
    if (m->pdb_name != NULL)
      printf("     pdb %s\n", m->pdb_name);
    printf("     path %s\n", m->name);
  }
  printf("\nMemory ranges: %zu\n", cw__md_memory_count(md));
}

static void json_regs(cw__json_t *j, const md_context_amd64_t *c) {
  static const char *const names[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi",
                                      "rbp", "rsp", "r8",  "r9",  "r10", "r11",
                                      "r12", "r13", "r14", "r15", "rip"};
  uint64_t v[] = {c->rax, c->rbx, c->rcx, c->rdx, c->rsi, c->rdi,
                  c->rbp, c->rsp, c->r8,  c->r9,  c->r10, c->r11,
                  c->r12, c->r13, c->r14, c->r15, c->rip};
  cw__json_begin_object(j);
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    cw__json_key(j, names[i]);
    cw__json_hex(j, v[i]);
  }
  cw__json_key(j, "eflags");
  cw__json_hex(j, c->eflags);
  cw__json_end_object(j);
}

static void json_frames(cw__json_t *j, const cw__md_t *md, size_t i) {
  char err[256];
  size_t n;
  cw__sw_frame_t *f = walk(md, i, &n, err, sizeof(err));
  cw__json_key(j, "frames");
  cw__json_begin_array(j);
  for (size_t k = 0; f != NULL && k < n; k++) {
    cw__json_begin_object(j);
    cw__json_key(j, "ip");
    cw__json_hex(j, f[k].ip);
    cw__json_key(j, "sp");
    cw__json_hex(j, f[k].sp);
    cw__json_key(j, "trust");
    cw__json_string(j, cw__sw_trust_name(f[k].trust));
    cw__json_key(j, "module_index");
    cw__json_int(j, f[k].module_index);
    if (f[k].module_index >= 0) {
      cw__json_key(j, "module");
      cw__json_string(j,
                      cw__md_module(md, (size_t)f[k].module_index)->basename);
      cw__json_key(j, "module_offset");
      cw__json_hex(j, f[k].module_offset);
    }
    cw__json_end_object(j);
  }
  cw__json_end_array(j);
  if (f == NULL) {
    cw__json_key(j, "frames_error");
    cw__json_string(j, err);
  }
  free(f);
}

static void print_json(const cw__md_t *md, const char *file, int stack) {
  cw__buf_t out = CW_BUF_INIT;
  cw__json_t j;
  cw__json_init(&j, &out, 1);
  cw__json_begin_object(&j);
  cw__json_key(&j, "file");
  cw__json_string(&j, file);
  const md_header_t *h = cw__md_header(md);
  cw__json_key(&j, "header");
  cw__json_begin_object(&j);
  cw__json_key(&j, "version");
  cw__json_uint(&j, h->version);
  cw__json_key(&j, "stream_count");
  cw__json_uint(&j, h->stream_count);
  cw__json_key(&j, "time_date_stamp");
  cw__json_uint(&j, h->time_date_stamp);
  cw__json_key(&j, "flags");
  cw__json_hex(&j, h->flags);
  cw__json_end_object(&j);

  cw__json_key(&j, "streams");
  cw__json_begin_array(&j);
  for (size_t i = 0; i < cw__md_stream_count(md); i++) {
    const cw__md_stream_t *s = cw__md_stream(md, i);
    char buf[16];
    cw__json_begin_object(&j);
    cw__json_key(&j, "type");
    cw__json_uint(&j, s->type);
    cw__json_key(&j, "name");
    cw__json_string(&j, stream_label(s->type, buf, sizeof(buf)));
    cw__json_key(&j, "size");
    cw__json_uint(&j, s->size);
    cw__json_key(&j, "offset");
    cw__json_uint(&j, s->rva);
    cw__json_end_object(&j);
  }
  cw__json_end_array(&j);

  const cw__md_system_t *si = cw__md_system_info(md);
  if (si != NULL) {
    cw__json_key(&j, "system_info");
    cw__json_begin_object(&j);
    cw__json_key(&j, "os");
    cw__json_string(&j, cw__md_os_name(si->raw.platform_id));
    cw__json_key(&j, "platform_id");
    cw__json_uint(&j, si->raw.platform_id);
    char ver[64];
    snprintf(ver, sizeof(ver), "%u.%u.%u", si->raw.major_version,
             si->raw.minor_version, si->raw.build_number);
    cw__json_key(&j, "os_version");
    cw__json_string(&j, ver);
    cw__json_key(&j, "csd_version");
    cw__json_string(&j, si->csd_version);
    cw__json_key(&j, "cpu_arch");
    cw__json_string(&j, cw__md_arch_name(si->raw.processor_architecture));
    cw__json_key(&j, "cpu_info");
    cw__json_string(&j, si->cpu_info);
    cw__json_key(&j, "cpu_vendor");
    cw__json_string(&j, si->vendor);
    cw__json_key(&j, "cpu_count");
    cw__json_uint(&j, si->raw.number_of_processors);
    cw__json_end_object(&j);
  }
  const cw__md_misc_t *mi = cw__md_misc_info(md);
  if (mi != NULL) {
    cw__json_key(&j, "misc_info");
    cw__json_begin_object(&j);
    cw__json_key(&j, "flags1");
    cw__json_hex(&j, mi->flags1);
    if (mi->flags1 & MD_MISCINFO_FLAGS1_PROCESS_ID) {
      cw__json_key(&j, "process_id");
      cw__json_uint(&j, mi->process_id);
    }
    if (mi->flags1 & MD_MISCINFO_FLAGS1_PROCESS_TIMES) {
      cw__json_key(&j, "process_create_time");
      cw__json_uint(&j, mi->process_create_time);
    }
    cw__json_end_object(&j);
  }
  cw__buf_t line = CW_BUF_INIT;
  text_line(md, MD_LINUX_CMD_LINE, &line);
  if (line.len > 0) {
    cw__json_key(&j, "command_line");
    cw__json_string(&j, (const char *)line.data);
  }
  cw__buf_free(&line);

  long ci = crash_index(md);
  const cw__md_exception_t *e = cw__md_exception(md);
  if (e != NULL) {
    cw__json_key(&j, "exception");
    cw__json_begin_object(&j);
    const char *sig = cw__signal_name((int)e->code);
    const char *code = cw__si_code_name((int)e->code, (int)e->flags);
    cw__json_key(&j, "signal");
    cw__json_uint(&j, e->code);
    cw__json_key(&j, "signal_name");
    if (sig)
      cw__json_string(&j, sig);
    else
      cw__json_null(&j);
    cw__json_key(&j, "si_code");
    cw__json_int(&j, (int32_t)e->flags);
    cw__json_key(&j, "si_code_name");
    if (code)
      cw__json_string(&j, code);
    else
      cw__json_null(&j);
    cw__json_key(&j, "address");
    cw__json_hex(&j, e->address);
    cw__json_key(&j, "thread_id");
    cw__json_uint(&j, e->tid);
    cw__json_key(&j, "thread_index");
    cw__json_int(&j, ci);
    cw__json_end_object(&j);
  }

  cw__json_key(&j, "threads");
  cw__json_begin_array(&j);
  for (size_t i = 0; i < cw__md_thread_count(md); i++) {
    const cw__md_thread_t *t = cw__md_thread(md, i);
    cw__json_begin_object(&j);
    cw__json_key(&j, "tid");
    cw__json_uint(&j, t->tid);
    cw__json_key(&j, "name");
    if (t->name)
      cw__json_string(&j, t->name);
    else
      cw__json_null(&j);
    cw__json_key(&j, "crashed");
    cw__json_bool(&j, (long)i == ci);
    char why[128];
    const md_context_amd64_t *c = thread_ctx(md, i, why, sizeof(why));
    cw__json_key(&j, "cpu");
    cw__json_string(&j, cw__md_cpu_name(t->cpu));
    cw__json_key(&j, "registers");
    if (c != NULL)
      json_regs(&j, c);
    else
      cw__json_null(&j);
    if (c == NULL) {
      cw__json_key(&j, "context_error");
      cw__json_string(&j, why);
    }
    cw__json_key(&j, "stack_start");
    cw__json_hex(&j, t->stack_start);
    cw__json_key(&j, "stack_size");
    cw__json_uint(&j, t->stack_size);
    if (stack)
      json_frames(&j, md, i);
    cw__json_end_object(&j);
  }
  cw__json_end_array(&j);

  cw__json_key(&j, "modules");
  cw__json_begin_array(&j);
  for (size_t i = 0; i < cw__md_module_count(md); i++) {
    const cw__md_module_t *m = cw__md_module(md, i);
    cw__json_begin_object(&j);
    cw__json_key(&j, "name");
    cw__json_string(&j, m->name);
    cw__json_key(&j, "base");
    cw__json_hex(&j, m->base);
    cw__json_key(&j, "size");
    cw__json_uint(&j, m->size);
    cw__json_key(&j, "end");
    cw__json_hex(&j, m->base + m->size);
    cw__json_key(&j, "code_id");
    cw__json_string(&j, m->code_id);
    cw__json_key(&j, "debug_id");
    cw__json_string(&j, m->debug_id);
    cw__json_key(&j, "breakpad_id");
    cw__json_string(&j, m->breakpad_id);
    if (m->pdb_name) {
      cw__json_key(&j, "pdb_name");
      cw__json_string(&j, m->pdb_name);
    }
    cw__json_end_object(&j);
  }
  cw__json_end_array(&j);

  cw__json_key(&j, "memory_ranges");
  cw__json_uint(&j, cw__md_memory_count(md));

  cw__json_key(&j, "errors");
  cw__json_begin_array(&j);
  const char *errs = cw__md_errors(md);
  while (*errs) {
    const char *nl = strchr(errs, '\n');
    size_t n = nl ? (size_t)(nl - errs) : strlen(errs);
    cw__json_string_n(&j, errs, n);
    errs += n + (nl != NULL);
  }
  cw__json_end_array(&j);
  cw__json_end_object(&j);
  const char *s = cw__buf_cstr(&out);
  if (s != NULL)
    printf("%s\n", s);
  cw__buf_free(&out);
}

int cw__cmd_dump(int argc, char **argv) {
  const char *file = NULL;
  int json = 0, stack = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else if (strcmp(argv[i], "--stack") == 0) {
      stack = 1;
    } else if (strcmp(argv[i], "--cfi") == 0) {
      stack = 1;
      use_local_modules = 1;
    } else if (strcmp(argv[i], "--symbols") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "crashwatch dump: --symbols needs a directory\n");
        return 2;
      }
      stack = 1;
      symbols_dir = argv[++i];
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "crashwatch dump: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    } else if (file == NULL) {
      file = argv[i];
    } else {
      fprintf(stderr, "crashwatch dump: one file at a time\n");
      usage(stderr);
      return 2;
    }
  }
  if (file == NULL) {
    usage(stderr);
    return 2;
  }
  /* A report directory (<spool>/<event_id>/) stands for its minidump. */
  char dir_dump[4096];
  struct stat st;
  if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(dir_dump, sizeof(dir_dump), "%s/minidump.dmp", file);
    file = dir_dump;
  }
  cw__md_t *md = NULL;
  char err[512];
  if (cw__md_open_file(file, &md, err, sizeof(err)) != 0) {
    fprintf(stderr, "crashwatch dump: %s: %s\n", file, err);
    return 1;
  }
  if (json)
    print_json(md, file, stack);
  else
    print_text(md, file, stack);
  int rc = 0;
  if (cw__md_error_count(md) > 0) {
    fprintf(stderr, "crashwatch dump: %s: damaged:\n%s", file,
            cw__md_errors(md));
    rc = 1;
  }
  fflush(stdout);
  cw__md_close(md);
  return rc;
}
