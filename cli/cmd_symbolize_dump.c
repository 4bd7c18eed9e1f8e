/*
 * cmd_symbolize_dump.c — `crashwatch symbolize DUMP|REPORT_DIR`: the
 * minidump mode of the symbolize command (cmd_symbolize.c has the address
 * mode and the options). Walks every thread of a minidump (ours,
 * Crashpad's or Breakpad's) from the dump's own registers and memory,
 * crashing thread first, and symbolizes each frame, like
 * minidump_stackwalk; text or --json.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "crashwatch.h"
#include "demangle.h"
#include "json.h"
#include "minidump.h"
#include "signals.h"
#include "stackwalk.h"
#include "symbolizer.h"

typedef struct {
  cw__symbolizer_t *s;
  const cw__md_t *md;
  cw__sym_module_t **mods; /* per module index, opened lazily */
  int *tried;
  size_t nmods;
  int warned;
} dump_ctx_t;

/* The vDSO, as our watchdog ("linux-vdso.so.1"), Breakpad
 * ("linux-gate.so") and /proc/PID/maps ("[vdso]") name it. */
static int is_vdso(const cw__md_module_t *m) {
  const char *b = m->basename ? m->basename : m->name;
  return b != NULL &&
         (strcmp(b, "linux-vdso.so.1") == 0 ||
          strcmp(b, "linux-gate.so") == 0 ||
          strcmp(b, "linux-gate.so.1") == 0 || strcmp(b, "[vdso]") == 0);
}

/* The vDSO has no file to find: our minidumps carry its image in the memory
 * list. Opened from there (with the module's build-id checked), its symbol
 * table names its frames, and where no symbol covers an address the
 * nearest preceding function of the section does, as in the watchdog.
 * NULL when the dump does not hold the whole image. */
static cw__sym_module_t *dump_vdso_module(dump_ctx_t *c,
                                          const cw__md_module_t *m) {
  if (m->size == 0 || m->size > CW_SYM_IMAGE_MAX)
    return NULL;
  uint8_t *img = malloc((size_t)m->size);
  if (img == NULL)
    return NULL;
  cw__sym_module_t *mod = NULL;
  if (cw__md_read_memory(c->md, m->base, img, (size_t)m->size) == 0) {
    int rc = cw__symbolizer_open_image(
        c->s, m->basename ? m->basename : m->name, img, (size_t)m->size,
        m->build_id_len ? m->build_id : NULL, m->build_id_len, &mod);
    if (rc != 0)
      mod = NULL;
  }
  free(img);
  return mod;
}

/* The symbolizer's module for minidump module i (NULL when nothing found);
 * problems are printed once per module. */
static cw__sym_module_t *dump_module(dump_ctx_t *c, size_t i) {
  if (i >= c->nmods)
    return NULL;
  if (c->tried[i])
    return c->mods[i];
  c->tried[i] = 1;
  const cw__md_module_t *m = cw__md_module(c->md, i);
  cw__sym_module_t *mod = NULL;
  int rc = cw__symbolizer_open(c->s, m->name && *m->name ? m->name : NULL,
                               m->build_id_len ? m->build_id : NULL,
                               m->build_id_len, &mod);
  if (rc != 0 && rc != CW_ENOSYMBOL)
    mod = NULL;
  if ((mod == NULL || strcmp(cw__sym_module_source(mod), "none") == 0) &&
      is_vdso(m)) {
    cw__sym_module_t *img = dump_vdso_module(c, m);
    if (img != NULL)
      mod = img;
  }
  c->mods[i] = mod;
  return mod;
}

static const char *dump_find_module(void *ctx, const cw__md_module_t *m) {
  dump_ctx_t *c = ctx;
  for (size_t i = 0; i < c->nmods; i++) {
    if (cw__md_module(c->md, i) != m)
      continue;
    cw__sym_module_t *mod = dump_module(c, i);
    if (mod == NULL || strcmp(cw__sym_module_source(mod), "breakpad") == 0)
      return NULL;
    /* An ELF with the dump's build-id: the module, else its debug file
     * (which keeps .debug_frame). */
    const char *p = cw__sym_module_path(mod);
    if (p != NULL && access(p, R_OK) == 0)
      return p;
    if (strcmp(cw__sym_module_source(mod), "dwarf") == 0)
      return cw__sym_module_debug_file(mod);
    return NULL;
  }
  return NULL;
}

/* A report directory holds minidump.dmp (or some other *.dmp). */
static int dump_path(const char *arg, char *out, size_t cap) {
  struct stat st;
  if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(out, cap, "%s", arg);
    return 0;
  }
  snprintf(out, cap, "%s/minidump.dmp", arg);
  if (access(out, R_OK) == 0)
    return 0;
  DIR *d = opendir(arg);
  struct dirent *e;
  int found = -1;
  while (d != NULL && (e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n > 4 && strcmp(e->d_name + n - 4, ".dmp") == 0) {
      snprintf(out, cap, "%s/%s", arg, e->d_name);
      found = 0;
      break;
    }
  }
  if (d != NULL)
    closedir(d);
  return found;
}

/* The dump's module of a walked frame (or NULL) and the frame's symbols,
 * innermost inlined function first; returns how many (0: unknown). */
static int dump_frame_lookup(dump_ctx_t *c, const cw__sw_frame_t *f,
                             const cw__md_module_t **m_out, cw__sym_frame_t *fr,
                             size_t cap) {
  const cw__md_module_t *m = f->module_index >= 0
                                 ? cw__md_module(c->md, (size_t)f->module_index)
                                 : NULL;
  cw__sym_module_t *mod =
      f->module_index >= 0 ? dump_module(c, (size_t)f->module_index) : NULL;
  *m_out = m;
  if (mod == NULL || m == NULL)
    return 0;
  int n = cw__sym_lookup(mod, cw__sym_module_vaddr(mod, f->lookup_pc - m->base),
                         0, fr, cap);
  return n > 0 ? n : 0;
}

static void dump_frame_json(cw__json_t *j, dump_ctx_t *c,
                            const cw__sw_frame_t *f, size_t index) {
  const cw__md_module_t *m;
  cw__sym_frame_t fr[64];
  int n = dump_frame_lookup(c, f, &m, fr, 64);
  for (int k = 0; k < (n > 0 ? n : 1); k++) {
    cw__json_begin_object(j);
    cw__json_key(j, "index");
    cw__json_uint(j, index + (size_t)k);
    cw__json_key(j, "ip");
    cw__json_hex(j, f->ip);
    cw__json_key(j, "trust");
    cw__json_string(j, k + 1 < n ? "inline" : cw__sw_trust_name(f->trust));
    cw__json_key(j, "module");
    if (m != NULL) {
      cw__json_string(j, m->basename ? m->basename : m->name);
      cw__json_key(j, "module_offset");
      cw__json_hex(j, f->ip - m->base);
    } else {
      cw__json_null(j);
    }
    if (n > 0) {
      char dbuf[1024];
      cw__json_key(j, "function");
      if (fr[k].function)
        cw__json_string(j,
                        cw__cli_demangle(fr[k].function, dbuf, sizeof(dbuf)));
      else
        cw__json_null(j);
      cw__json_key(j, "file");
      if (fr[k].file)
        cw__json_string(j, fr[k].file);
      else
        cw__json_null(j);
      cw__json_key(j, "line");
      cw__json_uint(j, fr[k].line);
      cw__json_key(j, "inlined");
      cw__json_bool(j, fr[k].inlined);
    }
    cw__json_end_object(j);
  }
}

/* Prints one walked frame (and its inlined callees first) as
 * minidump_stackwalk does; returns how many numbered frames it printed. */
static size_t dump_frame_text(dump_ctx_t *c, const cw__sw_frame_t *f,
                              size_t index, int regs) {
  const cw__md_module_t *m;
  cw__sym_frame_t fr[64];
  int n = dump_frame_lookup(c, f, &m, fr, 64);
  const char *mname = m ? (m->basename ? m->basename : m->name) : NULL;
  char dbuf[1024];
  for (int k = 0; k < (n > 0 ? n : 1); k++) {
    printf("%2zu  ", index + (size_t)k);
    if (m == NULL)
      printf("0x%llx\n", (unsigned long long)f->ip);
    else if (n == 0 || fr[k].function == NULL)
      printf("%s + 0x%llx\n", mname, (unsigned long long)(f->ip - m->base));
    else if (fr[k].file != NULL && fr[k].line != 0)
      printf("%s!%s [%s : %u]\n", mname,
             cw__cli_demangle(fr[k].function, dbuf, sizeof(dbuf)), fr[k].file,
             fr[k].line);
    else
      printf("%s!%s\n", mname,
             cw__cli_demangle(fr[k].function, dbuf, sizeof(dbuf)));
    if (k + 1 < n) {
      printf("    Found by: inline record\n");
      continue;
    }
    if (regs) {
      static const char *names[CW_SW_NREGS] = {
          "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8",
          "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rip"};
      int col = 0;
      for (int r = 0; r < CW_SW_NREGS; r++) {
        if (!(f->valid & (1u << r)))
          continue;
        printf("%s%3s = 0x%016llx", col == 0 ? "    " : "   ", names[r],
               (unsigned long long)f->regs[r]);
        if (++col == 2) {
          printf("\n");
          col = 0;
        }
      }
      if (col != 0)
        printf("\n");
    }
    printf("    Found by: %s\n", cw__sw_trust_description(f->trust));
  }
  return (size_t)(n > 0 ? n : 1);
}

/* The crash: signal, code, address and thread, as a JSON "crash" member or
 * minidump_stackwalk's two text lines. */
static void crash_json(cw__json_t *j, const cw__md_exception_t *e) {
  const char *sig = cw__signal_name((int)e->code);
  const char *code = cw__si_code_name((int)e->code, (int)e->flags);
  char reason[128];
  snprintf(reason, sizeof(reason), "%s / %s", sig ? sig : "?",
           code ? code : "?");
  cw__json_key(j, "crash");
  cw__json_begin_object(j);
  cw__json_key(j, "reason");
  cw__json_string(j, reason);
  cw__json_key(j, "address");
  cw__json_hex(j, e->address);
  cw__json_key(j, "tid");
  cw__json_uint(j, e->tid);
  cw__json_end_object(j);
}

static void crash_text(const cw__md_exception_t *e) {
  const char *sig = cw__signal_name((int)e->code);
  const char *code = cw__si_code_name((int)e->code, (int)e->flags);
  printf("Crash reason:  %s / %s\nCrash address: 0x%llx\n\n", sig ? sig : "?",
         code ? code : "?", (unsigned long long)e->address);
}

/* One walked thread: an element of the JSON "threads" array, or its text
 * block. why is the walk's error when wrc != 0. */
static void thread_json(cw__json_t *j, dump_ctx_t *c, size_t ti, int crashed,
                        const cw__sw_frame_t *frames, size_t count, int wrc,
                        const char *why) {
  const cw__md_thread_t *t = cw__md_thread(c->md, ti);
  cw__json_begin_object(j);
  cw__json_key(j, "index");
  cw__json_uint(j, ti);
  cw__json_key(j, "tid");
  cw__json_uint(j, t->tid);
  cw__json_key(j, "crashed");
  cw__json_bool(j, crashed);
  if (wrc != 0) {
    cw__json_key(j, "error");
    cw__json_string(j, why);
  }
  cw__json_key(j, "frames");
  cw__json_begin_array(j);
  for (size_t k = 0; k < count; k++)
    dump_frame_json(j, c, &frames[k], k);
  cw__json_end_array(j);
  cw__json_end_object(j);
}

static void thread_text(dump_ctx_t *c, size_t ti, int crashed,
                        const cw__sw_frame_t *frames, size_t count, int wrc,
                        const char *why) {
  printf("Thread %zu%s\n", ti, crashed ? " (crashed)" : "");
  if (wrc != 0)
    printf("    (%s)\n", why);
  size_t idx = 0;
  for (size_t k = 0; k < count; k++)
    idx += dump_frame_text(c, &frames[k], idx, k == 0);
  printf("\n");
}

/* Every thread, the crashing one first, then the others in dump order. */
static void walk_threads(cw__stackwalker_t *sw, dump_ctx_t *c, long crashed,
                         cw__json_t *j) {
  size_t nthreads = cw__md_thread_count(c->md);
  for (long pass = -1; pass < (long)nthreads; pass++) {
    if (pass < 0 ? crashed < 0 : pass == crashed)
      continue;
    size_t ti = pass < 0 ? (size_t)crashed : (size_t)pass;
    cw__sw_frame_t *frames = NULL;
    size_t count = 0;
    char why[256] = "";
    int wrc = cw__sw_walk_thread(sw, ti, &frames, &count, why, sizeof(why));
    if (j != NULL)
      thread_json(j, c, ti, (long)ti == crashed, frames, count, wrc, why);
    else
      thread_text(c, ti, (long)ti == crashed, frames, count, wrc, why);
    free(frames);
  }
}

/* The dump's modules and where their symbols came from. */
static void modules_json(cw__json_t *j, const dump_ctx_t *c) {
  cw__json_key(j, "modules");
  cw__json_begin_array(j);
  for (size_t i = 0; i < c->nmods; i++) {
    const cw__md_module_t *m = cw__md_module(c->md, i);
    cw__sym_module_t *mod = c->mods[i];
    cw__json_begin_object(j);
    cw__json_key(j, "name");
    cw__json_string(j, m->name ? m->name : "");
    cw__json_key(j, "base");
    cw__json_hex(j, m->base);
    cw__json_key(j, "size");
    cw__json_uint(j, m->size);
    cw__json_key(j, "code_id");
    cw__json_string(j, m->code_id);
    cw__json_key(j, "debug_id");
    cw__json_string(j, m->debug_id);
    cw__json_key(j, "symbols");
    cw__json_string(j, mod ? cw__sym_module_source(mod) : "none");
    cw__json_end_object(j);
  }
  cw__json_end_array(j);
}

static void modules_text(const dump_ctx_t *c) {
  printf("Loaded modules:\n");
  for (size_t i = 0; i < c->nmods; i++) {
    const cw__md_module_t *m = cw__md_module(c->md, i);
    cw__sym_module_t *mod = c->mods[i];
    printf(
        "0x%012llx - 0x%012llx  %s  %s%s\n", (unsigned long long)m->base,
        (unsigned long long)(m->base + m->size - 1),
        m->basename ? m->basename : (m->name ? m->name : "?"), m->breakpad_id,
        mod && strcmp(cw__sym_module_source(mod), "none") != 0 ? "  (symbols)"
                                                               : "");
  }
}

/* The walk of an opened dump, printed as JSON or text; with out, the JSON
 * goes there instead of stdout. */
static void print_dump(cw__stackwalker_t *sw, dump_ctx_t *c, const char *path,
                       int json, cw__buf_t *out) {
  const cw__md_exception_t *e = cw__md_exception(c->md);
  long crashed = e ? cw__md_thread_index(c->md, e->tid) : -1;
  if (!json) {
    if (e != NULL)
      crash_text(e);
    walk_threads(sw, c, crashed, NULL);
    modules_text(c);
    return;
  }
  cw__buf_t jb = CW_BUF_INIT;
  cw__json_t j;
  cw__json_init(&j, &jb, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "minidump");
  cw__json_string(&j, path);
  if (e != NULL)
    crash_json(&j, e);
  cw__json_key(&j, "threads");
  cw__json_begin_array(&j);
  walk_threads(sw, c, crashed, &j);
  cw__json_end_array(&j);
  modules_json(&j, c);
  cw__json_end_object(&j);
  const char *o = cw__buf_cstr(&jb);
  if (o != NULL && out != NULL)
    cw__buf_append_str(out, o);
  else if (o != NULL)
    printf("%s\n", o);
  cw__buf_free(&jb);
}

int cw__cmd_symbolize_dump(cw__symbolizer_t *s, const char *arg, int json) {
  return cw__symbolize_dump_to(s, arg, json, NULL);
}

int cw__symbolize_dump_to(cw__symbolizer_t *s, const char *arg, int json,
                          cw__buf_t *out) {
  char path[4096];
  if (dump_path(arg, path, sizeof(path)) != 0) {
    fprintf(stderr, "crashwatch symbolize: %s: no minidump in this directory\n",
            arg);
    return 1;
  }
  cw__md_t *md = NULL;
  char err[512];
  if (cw__md_open_file(path, &md, err, sizeof(err)) != 0) {
    fprintf(stderr, "crashwatch symbolize: %s\n", err);
    return 1;
  }
  int rc = cw__md_error_count(md) > 0 ? 1 : 0;
  if (rc)
    fprintf(stderr, "crashwatch symbolize: %s: %s", path, cw__md_errors(md));
  dump_ctx_t c = {.s = s, .md = md, .nmods = cw__md_module_count(md)};
  c.mods = calloc(c.nmods + 1, sizeof(*c.mods));
  c.tried = calloc(c.nmods + 1, sizeof(*c.tried));
  cw__sw_options_t opts = {.find_module_file = dump_find_module, .ctx = &c};
  cw__stackwalker_t *sw = NULL;
  if (c.mods == NULL || c.tried == NULL || cw__sw_new(md, &opts, &sw) != 0) {
    fprintf(stderr, "crashwatch symbolize: %s: cannot start the stack walk\n",
            path);
    rc = 1;
  } else {
    print_dump(sw, &c, path, json, out);
  }
  cw__sw_free(sw);
  free(c.mods);
  free(c.tried);
  cw__md_close(md);
  return rc;
}
