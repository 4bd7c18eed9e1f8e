/*
 * cmd_symbolize.c — `crashwatch symbolize`: addresses of a binary to
 * functions, files, lines and inline chains (symbolizer/symbolizer.h).
 *
 *   crashwatch symbolize --exe BIN [options] [ADDR...]
 *   crashwatch symbolize --build-id ID --debug-dir DIR [options] [ADDR...]
 *
 * Without ADDR arguments the addresses are read from stdin, one per line,
 * and each answer is flushed before the next read would block, so another
 * program can drive it line by line as it drives llvm-symbolizer.
 *
 * Exit status: 0 when every address resolved, 1 when some did not or a
 * debug file was missing, mismatched or corrupt (the reason is on stderr),
 * 2 for a usage error.
 */
#include <errno.h>
#include <dirent.h>
#include <dlfcn.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "crashwatch.h"
#include "debug_id.h"
#include "json.h"
#include "minidump.h"
#include "signals.h"
#include "stackwalk.h"
#include "symbolizer.h"

enum { STYLE_LLVM, STYLE_GNU, STYLE_JSON };

typedef struct {
  cw__sym_module_t *mod; /* NULL when the module could not be opened */
  int style;
  int module_offset;
  int return_address;
  int inlines;
  int print_address;
  int demangle; /* -1: the style's default (LLVM yes, GNU no) */
  size_t unresolved;
  size_t count;
  cw__json_t json;
  cw__buf_t jbuf;
} run_t;

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: crashwatch symbolize DUMP|REPORT_DIR [--debug-dir DIR]... "
      "[--json]\n"
      "       crashwatch symbolize --exe BIN [options] [ADDR...]\n"
      "       crashwatch symbolize --build-id ID --debug-dir DIR [options] "
      "[ADDR...]\n"
      "\n"
      "With a minidump (ours, Crashpad's or Breakpad's, or a report "
      "directory):\nwalks every thread from the dump's own registers and "
      "memory (CFI of the\nmodules found by build-id, frame pointers, stack "
      "scanning), crashing\nthread first, and symbolizes each frame, like "
      "minidump_stackwalk.\n"
      "\n"
      "Prints function, file:line:column and the chain of inlined functions\n"
      "(innermost first) for each address; addresses are hex (0x optional),\n"
      "from the arguments or else from stdin, one per line. Addresses are "
      "the\nmodule's ELF virtual addresses, as llvm-symbolizer and addr2line "
      "take them\n(for a PIE or shared object: the offset from its load "
      "base).\n"
      "\n"
      "  -e, --exe, --obj BIN   the module (ELF file, or a Breakpad .sym "
      "file)\n"
      "  --build-id ID          the module's build-id (hex): find the file by "
      "it,\n"
      "                         or refuse files whose build-id differs\n"
      "  --debug-dir DIR        look for DIR/.build-id/xx/rest.debug, "
      "debuglink\n"
      "                         targets and DIR/NAME/ID/NAME.sym "
      "(repeatable;\n"
      "                         /usr/lib/debug and debuginfod are searched "
      "too)\n"
      "  --module-offset        addresses are offsets from the module's "
      "first\n"
      "                         mapping (minidump/maps style), not ELF "
      "addresses\n"
      "  --return-address       addresses are return addresses: look up "
      "ADDR-1\n"
      "  --output-style=LLVM|GNU|JSON\n"
      "                         LLVM (default) like llvm-symbolizer; GNU like\n"
      "                         addr2line -f -i; JSON like --json\n"
      "  --json                 one JSON document with every address\n"
      "  --no-inlines           only the outermost function per address\n"
      "  --print-address        print each address before its frames\n"
      "  -C, --demangle         demangle C++ names (default but for GNU)\n"
      "  --no-demangle          print names as in the symbol tables\n"
      "  -f, -i                 accepted for addr2line compatibility\n"
      "\n"
      "Exit status: 0 all resolved, 1 some unresolved or a debug file "
      "missing,\nmismatched or corrupt, 2 usage error.\n");
}

static int parse_addr(const char *s, uint64_t *out) {
  while (*s == ' ' || *s == '\t')
    s++;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    s += 2;
  if (*s == '\0')
    return -1;
  uint64_t v = 0;
  int digits = 0;
  for (; *s != '\0'; s++) {
    char c = *s;
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      break;
    if (++digits > 16)
      return -1;
    v = v << 4 | (uint64_t)d;
  }
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
    s++;
  if (*s != '\0')
    return -1;
  *out = v;
  return 0;
}

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

/* libstdc++'s demangler, loaded when first needed (NULL if unavailable: the
 * names then stay mangled). */
static cxa_demangle_fn demangler(void) {
  static int tried;
  static cxa_demangle_fn fn;
  if (!tried) {
    tried = 1;
    void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
    if (h != NULL)
      *(void **)&fn = dlsym(h, "__cxa_demangle");
  }
  return fn;
}

/* "_ZNK2ns3BoxIiE3getEi.isra.0" -> "ns::Box<int>::get(int) const (.isra.0)",
 * as llvm-symbolizer writes clones. Returns name itself when it is not a
 * mangled C++ name. */
static const char *demangle(const char *name, char *buf, size_t cap) {
  if (name == NULL || strncmp(name, "_Z", 2) != 0)
    return name;
  cxa_demangle_fn fn = demangler();
  if (fn == NULL)
    return name;
  char base[1024];
  const char *dot = strchr(name, '.');
  size_t n = dot ? (size_t)(dot - name) : strlen(name);
  if (n >= sizeof(base))
    return name;
  memcpy(base, name, n);
  base[n] = '\0';
  int status = 0;
  char *d = fn(base, NULL, NULL, &status);
  if (d == NULL || status != 0) {
    free(d);
    return name;
  }
  if (dot != NULL)
    snprintf(buf, cap, "%s (%s)", d, dot);
  else
    snprintf(buf, cap, "%s", d);
  free(d);
  return buf;
}

static void print_frames(run_t *r, const char *input, uint64_t addr, int ok) {
  cw__sym_frame_t fr[64];
  int n = 0;
  if (ok && r->mod != NULL) {
    uint64_t va = r->module_offset ? cw__sym_module_vaddr(r->mod, addr) : addr;
    n = cw__sym_lookup(r->mod, va,
                       r->return_address ? CW_SYM_RETURN_ADDRESS : 0, fr, 64);
    if (n < 0)
      n = 0;
  }
  r->count++;
  if (n == 0 || (n == 1 && fr[0].function == NULL && fr[0].file == NULL))
    r->unresolved++;
  if (n > 0 && !r->inlines) {
    /* The real function, at the line the address itself is on. */
    fr[0].function = fr[n - 1].function;
    fr[0].symbol = fr[n - 1].symbol;
    fr[0].inlined = 0;
    n = 1;
  }
  if (r->style == STYLE_JSON) {
    cw__json_t *j = &r->json;
    cw__json_begin_object(j);
    if (ok) {
      cw__json_key(j, "address");
      cw__json_hex(j, addr);
    } else {
      cw__json_key(j, "input");
      cw__json_string(j, input);
      cw__json_key(j, "error");
      cw__json_string(j, "not a hex address");
    }
    cw__json_key(j, "frames");
    cw__json_begin_array(j);
    char jbuf[1024];
    for (int i = 0; i < n; i++) {
      cw__json_begin_object(j);
      cw__json_key(j, "function");
      if (fr[i].function)
        cw__json_string(j, r->demangle
                               ? demangle(fr[i].function, jbuf, sizeof(jbuf))
                               : fr[i].function);
      else
        cw__json_null(j);
      if (fr[i].symbol) {
        cw__json_key(j, "symbol");
        cw__json_string(j, fr[i].symbol);
      }
      cw__json_key(j, "file");
      if (fr[i].file)
        cw__json_string(j, fr[i].file);
      else
        cw__json_null(j);
      cw__json_key(j, "line");
      cw__json_uint(j, fr[i].line);
      cw__json_key(j, "column");
      cw__json_uint(j, fr[i].column);
      if (fr[i].discriminator) {
        cw__json_key(j, "discriminator");
        cw__json_uint(j, fr[i].discriminator);
      }
      cw__json_key(j, "inlined");
      cw__json_bool(j, fr[i].inlined);
      cw__json_end_object(j);
    }
    cw__json_end_array(j);
    cw__json_end_object(j);
    return;
  }
  if (r->print_address) {
    if (ok)
      printf("0x%" PRIx64 "\n", addr);
    else
      printf("%s\n", input);
  }
  if (n == 0) {
    if (r->style == STYLE_GNU)
      fputs("??\n??:0\n", stdout);
    else
      fputs("??\n??:0:0\n\n", stdout);
    return;
  }
  char dbuf[1024];
  for (int i = 0; i < n; i++) {
    const char *fn = fr[i].function ? fr[i].function : "??";
    const char *file = fr[i].file ? fr[i].file : "??";
    /* llvm-symbolizer names the real function by its ELF symbol. */
    if (r->style == STYLE_LLVM && fr[i].symbol != NULL)
      fn = fr[i].symbol;
    if (r->demangle)
      fn = demangle(fn, dbuf, sizeof(dbuf));
    if (r->style == STYLE_GNU) {
      if (fr[i].file == NULL)
        printf("%s\n??:%s\n", fn, fr[i].function ? "?" : "0");
      else if (fr[i].line == 0)
        printf("%s\n%s:?\n", fn, file);
      else if (fr[0].discriminator)
        /* addr2line repeats the address's own discriminator on every frame
         * of the inline chain. */
        printf("%s\n%s:%u (discriminator %u)\n", fn, file, fr[i].line,
               fr[0].discriminator);
      else
        printf("%s\n%s:%u\n", fn, file, fr[i].line);
    } else {
      printf("%s\n%s:%u:%u\n", fn, file, fr[i].line, fr[i].column);
    }
  }
  if (r->style == STYLE_LLVM)
    putchar('\n');
}

/* On a terminal, a progress line once a long input has taken a second;
 * returns 1 when it printed one. */
static int progress(run_t *r, uint64_t start_ns) {
  static uint64_t last;
  if (r->count % 4096 != 0)
    return 0;
  uint64_t now = cw__symbolizer_now_ns();
  if (now - start_ns < 1000000000ull || now - last < 250000000ull)
    return 0;
  last = now;
  fprintf(stderr, "\rsymbolize: %zu addresses, %zu unresolved", r->count,
          r->unresolved);
  return 1;
}

/* Reads stdin line by line; flushes stdout whenever the next read would
 * have to wait for more input. */
static int run_stdin(run_t *r) {
  char buf[65536];
  char line[512];
  size_t llen = 0;
  int tty = isatty(STDERR_FILENO), shown = 0;
  uint64_t start = cw__symbolizer_now_ns();
  for (;;) {
    if (r->style != STYLE_JSON)
      fflush(stdout);
    ssize_t got = read(STDIN_FILENO, buf, sizeof(buf));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      fprintf(stderr, "crashwatch symbolize: reading stdin: %s\n",
              strerror(errno));
      return -1;
    }
    for (ssize_t i = 0; i <= got; i++) {
      int eof_flush = got == 0 && i == 0 && llen > 0;
      if (i == got && !eof_flush)
        break;
      if (eof_flush || buf[i] == '\n') {
        line[llen] = '\0';
        llen = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
          p++;
        if (*p == '\0' || *p == '\r')
          continue;
        uint64_t a;
        int ok = parse_addr(p, &a) == 0;
        print_frames(r, p, a, ok);
        if (tty && progress(r, start))
          shown = 1;
        if (eof_flush)
          break;
      } else if (llen + 1 < sizeof(line)) {
        line[llen++] = buf[i];
      }
    }
    if (got == 0)
      break;
  }
  if (shown)
    fputs("\r\033[K", stderr); /* erase the progress line */
  return 0;
}

/* ---- minidumps ------------------------------------------------------ */

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
        cw__json_string(j, demangle(fr[k].function, dbuf, sizeof(dbuf)));
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
             demangle(fr[k].function, dbuf, sizeof(dbuf)), fr[k].file,
             fr[k].line);
    else
      printf("%s!%s\n", mname, demangle(fr[k].function, dbuf, sizeof(dbuf)));
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

static int symbolize_dump(cw__symbolizer_t *s, const char *arg, int json) {
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
    free(c.mods);
    free(c.tried);
    cw__md_close(md);
    return 1;
  }
  const cw__md_exception_t *e = cw__md_exception(md);
  long crashed = e ? cw__md_thread_index(md, e->tid) : -1;
  size_t nthreads = cw__md_thread_count(md);
  cw__buf_t jb = CW_BUF_INIT;
  cw__json_t j;
  if (json) {
    cw__json_init(&j, &jb, 0);
    cw__json_begin_object(&j);
    cw__json_key(&j, "minidump");
    cw__json_string(&j, path);
    if (e != NULL) {
      const char *sig = cw__signal_name((int)e->code);
      const char *code = cw__si_code_name((int)e->code, (int)e->flags);
      char reason[128];
      snprintf(reason, sizeof(reason), "%s / %s", sig ? sig : "?",
               code ? code : "?");
      cw__json_key(&j, "crash");
      cw__json_begin_object(&j);
      cw__json_key(&j, "reason");
      cw__json_string(&j, reason);
      cw__json_key(&j, "address");
      cw__json_hex(&j, e->address);
      cw__json_key(&j, "tid");
      cw__json_uint(&j, e->tid);
      cw__json_end_object(&j);
    }
    cw__json_key(&j, "threads");
    cw__json_begin_array(&j);
  } else if (e != NULL) {
    const char *sig = cw__signal_name((int)e->code);
    const char *code = cw__si_code_name((int)e->code, (int)e->flags);
    printf("Crash reason:  %s / %s\nCrash address: 0x%llx\n\n", sig ? sig : "?",
           code ? code : "?", (unsigned long long)e->address);
  }
  /* The crashing thread first, then the others in dump order. */
  for (long pass = -1; pass < (long)nthreads; pass++) {
    size_t ti;
    if (pass < 0) {
      if (crashed < 0)
        continue;
      ti = (size_t)crashed;
    } else {
      if (pass == crashed)
        continue;
      ti = (size_t)pass;
    }
    cw__sw_frame_t *frames = NULL;
    size_t count = 0;
    char why[256] = "";
    int wrc = cw__sw_walk_thread(sw, ti, &frames, &count, why, sizeof(why));
    const cw__md_thread_t *t = cw__md_thread(md, ti);
    if (json) {
      cw__json_begin_object(&j);
      cw__json_key(&j, "index");
      cw__json_uint(&j, ti);
      cw__json_key(&j, "tid");
      cw__json_uint(&j, t->tid);
      cw__json_key(&j, "crashed");
      cw__json_bool(&j, (long)ti == crashed);
      if (wrc != 0) {
        cw__json_key(&j, "error");
        cw__json_string(&j, why);
      }
      cw__json_key(&j, "frames");
      cw__json_begin_array(&j);
      size_t idx = 0;
      for (size_t k = 0; k < count; k++) {
        dump_frame_json(&j, &c, &frames[k], idx);
        idx++;
      }
      cw__json_end_array(&j);
      cw__json_end_object(&j);
    } else {
      printf("Thread %zu%s\n", ti, (long)ti == crashed ? " (crashed)" : "");
      if (wrc != 0)
        printf("    (%s)\n", why);
      size_t idx = 0;
      for (size_t k = 0; k < count; k++)
        idx += dump_frame_text(&c, &frames[k], idx, k == 0);
      printf("\n");
    }
    free(frames);
  }
  if (json) {
    cw__json_end_array(&j);
    cw__json_key(&j, "modules");
    cw__json_begin_array(&j);
    for (size_t i = 0; i < c.nmods; i++) {
      const cw__md_module_t *m = cw__md_module(md, i);
      cw__sym_module_t *mod = c.mods[i];
      cw__json_begin_object(&j);
      cw__json_key(&j, "name");
      cw__json_string(&j, m->name ? m->name : "");
      cw__json_key(&j, "base");
      cw__json_hex(&j, m->base);
      cw__json_key(&j, "size");
      cw__json_uint(&j, m->size);
      cw__json_key(&j, "code_id");
      cw__json_string(&j, m->code_id);
      cw__json_key(&j, "debug_id");
      cw__json_string(&j, m->debug_id);
      cw__json_key(&j, "symbols");
      cw__json_string(&j, mod ? cw__sym_module_source(mod) : "none");
      cw__json_end_object(&j);
    }
    cw__json_end_array(&j);
    cw__json_end_object(&j);
    const char *o = cw__buf_cstr(&jb);
    if (o != NULL)
      printf("%s\n", o);
    cw__buf_free(&jb);
  } else {
    printf("Loaded modules:\n");
    for (size_t i = 0; i < c.nmods; i++) {
      const cw__md_module_t *m = cw__md_module(md, i);
      cw__sym_module_t *mod = c.mods[i];
      printf(
          "0x%012llx - 0x%012llx  %s  %s%s\n", (unsigned long long)m->base,
          (unsigned long long)(m->base + m->size - 1),
          m->basename ? m->basename : (m->name ? m->name : "?"), m->breakpad_id,
          mod && strcmp(cw__sym_module_source(mod), "none") != 0 ? "  (symbols)"
                                                                 : "");
    }
  }
  cw__sw_free(sw);
  free(c.mods);
  free(c.tried);
  cw__md_close(md);
  return rc;
}

int cw__cmd_symbolize(int argc, char **argv) {
  enum {
    O_BUILD_ID = 1000,
    O_DEBUG_DIR,
    O_MODULE_OFFSET,
    O_RETURN,
    O_STYLE,
    O_JSON,
    O_NO_INLINES,
    O_PRINT_ADDRESS,
    O_DEMANGLE,
    O_NO_DEMANGLE,
    O_HELP,
  };
  static const struct option opts[] = {
      {"exe", required_argument, NULL, 'e'},
      {"obj", required_argument, NULL, 'e'},
      {"build-id", required_argument, NULL, O_BUILD_ID},
      {"debug-dir", required_argument, NULL, O_DEBUG_DIR},
      {"module-offset", no_argument, NULL, O_MODULE_OFFSET},
      {"return-address", no_argument, NULL, O_RETURN},
      {"output-style", required_argument, NULL, O_STYLE},
      {"json", no_argument, NULL, O_JSON},
      {"no-inlines", no_argument, NULL, O_NO_INLINES},
      {"print-address", no_argument, NULL, O_PRINT_ADDRESS},
      {"demangle", no_argument, NULL, O_DEMANGLE},
      {"no-demangle", no_argument, NULL, O_NO_DEMANGLE},
      {"help", no_argument, NULL, O_HELP},
      {NULL, 0, NULL, 0},
  };
  const char *exe = NULL, *build_id_hex = NULL;
  run_t r = {.style = STYLE_LLVM, .inlines = 1, .demangle = -1};
  cw__symbolizer_t *s = cw__symbolizer_new(0);
  if (s == NULL) {
    fprintf(stderr, "crashwatch symbolize: out of memory\n");
    return 1;
  }
  int c, rc = 0;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "e:fiCh", opts, NULL)) != -1) {
    switch (c) {
    case 'e':
      exe = optarg;
      break;
    case O_BUILD_ID:
      build_id_hex = optarg;
      break;
    case O_DEBUG_DIR:
      if (cw__symbolizer_add_debug_dir(s, optarg) != 0) {
        fprintf(stderr, "crashwatch symbolize: bad --debug-dir '%s'\n", optarg);
        rc = 2;
      }
      break;
    case O_MODULE_OFFSET:
      r.module_offset = 1;
      break;
    case O_RETURN:
      r.return_address = 1;
      break;
    case O_STYLE:
      if (strcasecmp(optarg, "LLVM") == 0)
        r.style = STYLE_LLVM;
      else if (strcasecmp(optarg, "GNU") == 0)
        r.style = STYLE_GNU;
      else if (strcasecmp(optarg, "JSON") == 0)
        r.style = STYLE_JSON;
      else {
        fprintf(stderr,
                "crashwatch symbolize: --output-style must be LLVM, GNU or "
                "JSON, not '%s'\n",
                optarg);
        rc = 2;
      }
      break;
    case O_JSON:
      r.style = STYLE_JSON;
      break;
    case O_NO_INLINES:
      r.inlines = 0;
      break;
    case O_PRINT_ADDRESS:
      r.print_address = 1;
      break;
    case 'C':
    case O_DEMANGLE:
      r.demangle = 1;
      break;
    case O_NO_DEMANGLE:
      r.demangle = 0;
      break;
    case 'f':
    case 'i':
      break;
    case 'h':
    case O_HELP:
      usage(stdout);
      cw__symbolizer_free(s);
      return 0;
    default:
      fprintf(stderr,
              "crashwatch symbolize: unknown or incomplete option "
              "'%s'\n",
              argv[optind - 1]);
      rc = 2;
      break;
    }
  }
  if (r.demangle < 0)
    r.demangle = r.style != STYLE_GNU; /* as llvm-symbolizer / addr2line */
  uint8_t id[64];
  int idlen = 0;
  if (rc == 0 && build_id_hex != NULL) {
    idlen = cw__hex_decode(build_id_hex, id, sizeof(id));
    if (idlen <= 0) {
      fprintf(stderr, "crashwatch symbolize: --build-id '%s' is not hex\n",
              build_id_hex);
      rc = 2;
    }
  }
  if (rc == 0 && exe == NULL && build_id_hex == NULL) {
    if (optind + 1 == argc) {
      rc = symbolize_dump(s, argv[optind], r.style == STYLE_JSON);
      cw__symbolizer_free(s);
      return rc;
    }
    usage(stderr);
    rc = 2;
  }
  if (rc != 0) {
    cw__symbolizer_free(s);
    return rc;
  }

  int orc = cw__symbolizer_open(s, exe, idlen > 0 ? id : NULL,
                                idlen > 0 ? (size_t)idlen : 0, &r.mod);
  int file_problem = 0;
  if (orc != 0) {
    fprintf(stderr, "crashwatch symbolize: %s\n", cw__symbolizer_last_error(s));
    file_problem = 1;
  }
  if (r.mod != NULL && *cw__sym_module_warnings(r.mod) != '\0') {
    const char *w = cw__sym_module_warnings(r.mod);
    while (*w != '\0') {
      const char *nl = strchr(w, '\n');
      int len = nl ? (int)(nl - w) : (int)strlen(w);
      fprintf(stderr, "crashwatch symbolize: %.*s\n", len, w);
      w += len + (nl != NULL);
    }
    file_problem = 1;
  }

  if (r.style == STYLE_JSON) {
    cw__json_init(&r.json, &r.jbuf, 0);
    cw__json_begin_object(&r.json);
    cw__json_key(&r.json, "module");
    const char *mp = r.mod ? cw__sym_module_path(r.mod) : exe;
    if (mp)
      cw__json_string(&r.json, mp);
    else
      cw__json_null(&r.json);
    if (r.mod != NULL) {
      const uint8_t *bid;
      size_t bl = cw__sym_module_build_id(r.mod, &bid);
      char hex[129];
      cw__hex_encode(bid, bl, hex);
      cw__json_key(&r.json, "build_id");
      cw__json_string(&r.json, hex);
      cw__json_key(&r.json, "source");
      cw__json_string(&r.json, cw__sym_module_source(r.mod));
      cw__json_key(&r.json, "debug_file");
      if (cw__sym_module_debug_file(r.mod))
        cw__json_string(&r.json, cw__sym_module_debug_file(r.mod));
      else
        cw__json_null(&r.json);
    }
    if (orc != 0) {
      cw__json_key(&r.json, "error");
      cw__json_string(&r.json, cw__symbolizer_last_error(s));
    }
    cw__json_key(&r.json, "addresses");
    cw__json_begin_array(&r.json);
  }

  if (optind < argc) {
    for (int i = optind; i < argc; i++) {
      uint64_t a;
      int ok = parse_addr(argv[i], &a) == 0;
      if (!ok)
        fprintf(stderr, "crashwatch symbolize: '%s' is not a hex address\n",
                argv[i]);
      print_frames(&r, argv[i], a, ok);
    }
  } else if (run_stdin(&r) != 0) {
    file_problem = 1;
  }

  if (r.style == STYLE_JSON) {
    cw__json_end_array(&r.json);
    cw__json_end_object(&r.json);
    const char *out = cw__buf_cstr(&r.jbuf);
    if (out != NULL)
      printf("%s\n", out);
    cw__buf_free(&r.jbuf);
  }
  fflush(stdout);
  cw__symbolizer_free(s);
  return (file_problem || r.unresolved > 0) ? 1 : 0;
}
