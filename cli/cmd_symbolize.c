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
 *
 * With a minidump or report directory instead of --exe / --build-id, the
 * minidump mode runs (cmd_symbolize_dump.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "commands.h"
#include "demangle.h"
#include "crashwatch.h"
#include "debug_id.h"
#include "json.h"
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
      "  -h, --help             this help\n"
      "\n"
      "exit status:\n"
      "  0  every address resolved (a minidump: it was walked)\n"
      "  1  some addresses did not resolve, or the module (--exe) or a "
      "debug file\n"
      "     is missing, mismatched or corrupt; a minidump that cannot be "
      "read\n"
      "  2  usage error\n");
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

/* Looks addr up into fr[0..64) (innermost first); counts it, and counts it
 * unresolved when nothing names it. Returns the number of frames. */
static int lookup_frames(run_t *r, uint64_t addr, int ok, cw__sym_frame_t *fr) {
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
  return n;
}

/* One element of the JSON "addresses" array. */
static void frames_json(run_t *r, const char *input, uint64_t addr, int ok,
                        const cw__sym_frame_t *fr, int n) {
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
      cw__json_string(
          j, r->demangle ? cw__cli_demangle(fr[i].function, jbuf, sizeof(jbuf))
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
}

/* llvm-symbolizer's or addr2line's text for one address. */
static void frames_text(run_t *r, const char *input, uint64_t addr, int ok,
                        const cw__sym_frame_t *fr, int n) {
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
      fn = cw__cli_demangle(fn, dbuf, sizeof(dbuf));
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

static void print_frames(run_t *r, const char *input, uint64_t addr, int ok) {
  cw__sym_frame_t fr[64];
  int n = lookup_frames(r, addr, ok, fr);
  if (r->style == STYLE_JSON)
    frames_json(r, input, addr, ok, fr, n);
  else
    frames_text(r, input, addr, ok, fr, n);
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

/* What the command line names besides the run's settings. */
typedef struct {
  const char *exe, *build_id_hex;
  int help; /* --help: print the usage and stop */
} args_t;

/* Parses the options into r, a and s (--debug-dir). Returns 0, or 2 after
 * printing what is wrong. Stops at --help. */
static int parse_options(int argc, char **argv, cw__symbolizer_t *s, run_t *r,
                         args_t *a) {
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
  int c, rc = 0;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "e:fiCh", opts, NULL)) != -1) {
    switch (c) {
    case 'e':
      a->exe = optarg;
      break;
    case O_BUILD_ID:
      a->build_id_hex = optarg;
      break;
    case O_DEBUG_DIR:
      if (cw__symbolizer_add_debug_dir(s, optarg) != 0) {
        fprintf(stderr, "crashwatch symbolize: bad --debug-dir '%s'\n", optarg);
        rc = 2;
      }
      break;
    case O_MODULE_OFFSET:
      r->module_offset = 1;
      break;
    case O_RETURN:
      r->return_address = 1;
      break;
    case O_STYLE:
      if (strcasecmp(optarg, "LLVM") == 0)
        r->style = STYLE_LLVM;
      else if (strcasecmp(optarg, "GNU") == 0)
        r->style = STYLE_GNU;
      else if (strcasecmp(optarg, "JSON") == 0)
        r->style = STYLE_JSON;
      else {
        fprintf(stderr,
                "crashwatch symbolize: --output-style must be LLVM, GNU or "
                "JSON, not '%s'\n",
                optarg);
        rc = 2;
      }
      break;
    case O_JSON:
      r->style = STYLE_JSON;
      break;
    case O_NO_INLINES:
      r->inlines = 0;
      break;
    case O_PRINT_ADDRESS:
      r->print_address = 1;
      break;
    case 'C':
    case O_DEMANGLE:
      r->demangle = 1;
      break;
    case O_NO_DEMANGLE:
      r->demangle = 0;
      break;
    case 'f':
    case 'i':
      break;
    case 'h':
    case O_HELP:
      a->help = 1;
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
  return rc;
}

/* Opens the module named by exe and/or the build-id into r->mod; says on
 * stderr why it could not, or what is wrong with its debug files.
 * *orc is cw__symbolizer_open's result. Returns 1 when there is a problem
 * with the module's files, else 0. */
static int open_module(cw__symbolizer_t *s, run_t *r, const char *exe,
                       const uint8_t *id, int idlen, int *orc) {
  *orc = cw__symbolizer_open(s, exe, idlen > 0 ? id : NULL,
                             idlen > 0 ? (size_t)idlen : 0, &r->mod);
  int file_problem = 0;
  if (*orc != 0) {
    fprintf(stderr, "crashwatch symbolize: %s\n", cw__symbolizer_last_error(s));
    file_problem = 1;
  }
  if (r->mod != NULL && *cw__sym_module_warnings(r->mod) != '\0') {
    const char *w = cw__sym_module_warnings(r->mod);
    while (*w != '\0') {
      const char *nl = strchr(w, '\n');
      int len = nl ? (int)(nl - w) : (int)strlen(w);
      fprintf(stderr, "crashwatch symbolize: %.*s\n", len, w);
      w += len + (nl != NULL);
    }
    file_problem = 1;
  }
  return file_problem;
}

/* The JSON document's members before the "addresses" array (left open):
 * the module, its build-id, where its symbols come from, the error. */
static void json_begin(run_t *r, cw__symbolizer_t *s, const char *exe,
                       int orc) {
  cw__json_init(&r->json, &r->jbuf, 0);
  cw__json_begin_object(&r->json);
  cw__json_key(&r->json, "module");
  const char *mp = r->mod ? cw__sym_module_path(r->mod) : exe;
  if (mp)
    cw__json_string(&r->json, mp);
  else
    cw__json_null(&r->json);
  if (r->mod != NULL) {
    const uint8_t *bid;
    size_t bl = cw__sym_module_build_id(r->mod, &bid);
    char hex[129];
    cw__hex_encode(bid, bl, hex);
    cw__json_key(&r->json, "build_id");
    cw__json_string(&r->json, hex);
    cw__json_key(&r->json, "source");
    cw__json_string(&r->json, cw__sym_module_source(r->mod));
    cw__json_key(&r->json, "debug_file");
    if (cw__sym_module_debug_file(r->mod))
      cw__json_string(&r->json, cw__sym_module_debug_file(r->mod));
    else
      cw__json_null(&r->json);
  }
  if (orc != 0) {
    cw__json_key(&r->json, "error");
    cw__json_string(&r->json, cw__symbolizer_last_error(s));
  }
  cw__json_key(&r->json, "addresses");
  cw__json_begin_array(&r->json);
}

int cw__cmd_symbolize(int argc, char **argv) {
  run_t r = {.style = STYLE_LLVM, .inlines = 1, .demangle = -1};
  cw__symbolizer_t *s = cw__symbolizer_new(0);
  if (s == NULL) {
    fprintf(stderr, "crashwatch symbolize: out of memory\n");
    return 1;
  }
  args_t a = {NULL, NULL, 0};
  int rc = parse_options(argc, argv, s, &r, &a);
  if (a.help) {
    usage(stdout);
    cw__symbolizer_free(s);
    return 0;
  }
  if (r.demangle < 0)
    r.demangle = r.style != STYLE_GNU; /* as llvm-symbolizer / addr2line */
  uint8_t id[64];
  int idlen = 0;
  if (rc == 0 && a.build_id_hex != NULL) {
    idlen = cw__hex_decode(a.build_id_hex, id, sizeof(id));
    if (idlen <= 0) {
      fprintf(stderr, "crashwatch symbolize: --build-id '%s' is not hex\n",
              a.build_id_hex);
      rc = 2;
    }
  }
  if (rc == 0 && a.exe == NULL && a.build_id_hex == NULL) {
    if (optind + 1 == argc) {
      rc = cw__cmd_symbolize_dump(s, argv[optind], r.style == STYLE_JSON);
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

  int orc;
  int file_problem = open_module(s, &r, a.exe, id, idlen, &orc);
  if (r.style == STYLE_JSON)
    json_begin(&r, s, a.exe, orc);
  if (r.mod == NULL) {
    /* No module (a missing or unreadable --exe, a build-id found nowhere):
     * no address can resolve, so none is read or printed as "??"; the
     * reason is on stderr and in the JSON document's "error". */
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
    return 1;
  }

  if (optind < argc) {
    for (int i = optind; i < argc; i++) {
      uint64_t addr;
      int ok = parse_addr(argv[i], &addr) == 0;
      if (!ok)
        fprintf(stderr, "crashwatch symbolize: '%s' is not a hex address\n",
                argv[i]);
      print_frames(&r, argv[i], addr, ok);
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
