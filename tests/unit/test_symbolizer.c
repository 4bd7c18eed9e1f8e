/*
 * test_symbolizer.c — the symbolizer library: the index (nesting, lines,
 * symbols), the Breakpad .sym parser, and cw_symbolizer_* on this test's own
 * executable (built with -g) and on bad files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <cmocka.h>

#include "breakpad_sym.h"
#include "crashwatch.h"
#include "symbolizer.h"
#include "symindex.h"

extern const char __executable_start[];

static char tmpdir[4096];

static const char *tmp_path(const char *name) {
  static char buf[4200];
  snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
  return buf;
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* ---- index --------------------------------------------------------- */

static void test_index_nested_ranges(void **state) {
  (void)state;
  symidx_t *ix = cw__symidx_new();
  const char *f = cw__symidx_intern(ix, "f", 1);
  const char *g = cw__symidx_intern(ix, "g", 1);
  const char *h = cw__symidx_intern(ix, "h", 1);
  const char *file = cw__symidx_intern(ix, "a.c", 3);
  int32_t sf = cw__symidx_add_scope(ix, f, -1, NULL, 0, 0, 0);
  int32_t sg = cw__symidx_add_scope(ix, g, sf, file, 10, 3, 0);
  int32_t sh = cw__symidx_add_scope(ix, h, sg, file, 20, 5, 0);
  /* f: [100,200); g inlined at [120,160) and [170,180); h in g [130,140) */
  assert_int_equal(cw__symidx_add_range(ix, 100, 200, sf, 0), 0);
  assert_int_equal(cw__symidx_add_range(ix, 170, 180, sg, 1), 0);
  assert_int_equal(cw__symidx_add_range(ix, 130, 140, sh, 2), 0);
  assert_int_equal(cw__symidx_add_range(ix, 120, 160, sg, 1), 0);
  int32_t fid = cw__symidx_file(ix, "a.c");
  cw__symidx_add_row(ix, 100, fid, 1, 0, 0, 0);
  cw__symidx_add_row(ix, 135, fid, 30, 2, 0, 0);
  cw__symidx_add_row(ix, 135, fid, 31, 2, 0,
                     0); /* the last at one address wins */
  cw__symidx_add_row(ix, 200, -1, 0, 0, 0, 1);
  cw__symidx_add_sym(ix, 100, 100, cw__symidx_intern(ix, "f.part.0", 8));
  assert_int_equal(cw__symidx_finish(ix), 0);

  symidx_frame_t fr[8];
  assert_int_equal(cw__symidx_lookup(ix, 110, fr, 8), 1);
  assert_string_equal(fr[0].function, "f");
  assert_string_equal(fr[0].symbol, "f.part.0");
  assert_int_equal(fr[0].line, 1);

  assert_int_equal(cw__symidx_lookup(ix, 135, fr, 8), 3);
  assert_string_equal(fr[0].function, "h");
  assert_int_equal(fr[0].line, 31);
  assert_string_equal(fr[1].function, "g");
  assert_int_equal(fr[1].line, 20); /* h's call site, inside g */
  assert_int_equal(fr[1].column, 5);
  assert_string_equal(fr[2].function, "f");
  assert_int_equal(fr[2].line, 10); /* g's call site, inside f */

  assert_int_equal(cw__symidx_lookup(ix, 150, fr, 8), 2); /* g again after h */
  assert_string_equal(fr[0].function, "g");
  assert_int_equal(cw__symidx_lookup(ix, 165, fr, 8), 1); /* the gap in g */
  assert_int_equal(cw__symidx_lookup(ix, 175, fr, 8), 2);
  assert_int_equal(cw__symidx_lookup(ix, 199, fr, 8), 1);
  assert_int_equal(cw__symidx_lookup(ix, 200, fr, 8), 0); /* past everything */
  assert_int_equal(cw__symidx_lookup(ix, 99, fr, 8), 0);
  cw__symidx_free(ix);
}

/* llvm-symbolizer's reading of line tables and symbol tables (issue 9
 * item 12): a row at a sequence's end address covers nothing, so the
 * padding after a function has no line; the next sequence starting right
 * there keeps its first row; an unsized symbol reaches the next symbol, not
 * its section's end; a local symbol's STT_FILE name is the file when no
 * line covers the address. */
static void test_index_sequence_end_and_symbol_extents(void **state) {
  (void)state;
  symidx_t *ix = cw__symidx_new();
  int32_t fid = cw__symidx_file(ix, "a.c");
  /* Sequence 1: [100, 120), its last row at 120 itself (zero length). */
  cw__symidx_add_row(ix, 100, fid, 5, 1, 0, 0);
  cw__symidx_add_row(ix, 110, fid, 6, 1, 0, 0);
  cw__symidx_add_row(ix, 120, fid, 7, 1, 0, 0);
  cw__symidx_add_row(ix, 120, -1, 0, 0, 0, 1);
  /* Sequence 2 starts where sequence 3 ends: [140, 150) then [150, 160). */
  cw__symidx_add_row(ix, 150, fid, 20, 1, 0, 0);
  cw__symidx_add_row(ix, 160, -1, 0, 0, 0, 1);
  cw__symidx_add_row(ix, 140, fid, 10, 1, 0, 0);
  cw__symidx_add_row(ix, 150, -1, 0, 0, 0, 1);
  /* Symbols: sized f [100,120); unsized g at 200 in a section to 400,
   * followed by h at 250; unsized local k at 300 from "k.c". */
  const char *kc = cw__symidx_intern(ix, "k.c", 3);
  cw__symidx_add_elf_sym(ix, 100, 20, cw__symidx_intern(ix, "f", 1), 0, NULL,
                         0);
  cw__symidx_add_elf_sym(ix, 200, 200, cw__symidx_intern(ix, "g", 1), 1, NULL,
                         1);
  cw__symidx_add_elf_sym(ix, 250, 10, cw__symidx_intern(ix, "h", 1), 2, NULL,
                         0);
  cw__symidx_add_elf_sym(ix, 300, 100, cw__symidx_intern(ix, "k", 1), 3, kc, 1);
  assert_int_equal(cw__symidx_finish(ix), 0);
  symidx_frame_t fr[4];
  assert_int_equal(cw__symidx_lookup(ix, 115, fr, 4), 1);
  assert_int_equal(fr[0].line, 6);
  /* 120: the end of sequence 1, and no symbol: nothing at all. */
  assert_int_equal(cw__symidx_lookup(ix, 120, fr, 4), 0);
  assert_int_equal(cw__symidx_lookup(ix, 125, fr, 4), 0);
  assert_int_equal(cw__symidx_lookup(ix, 145, fr, 4), 1);
  assert_int_equal(fr[0].line, 10);
  assert_int_equal(cw__symidx_lookup(ix, 150, fr, 4), 1); /* sequence 2's row */
  assert_int_equal(fr[0].line, 20);
  assert_int_equal(cw__symidx_lookup(ix, 160, fr, 4), 0);
  /* g runs to h, not to its section's end. */
  assert_int_equal(cw__symidx_lookup(ix, 240, fr, 4), 1);
  assert_string_equal(fr[0].function, "g");
  assert_int_equal(cw__symidx_lookup(ix, 255, fr, 4), 1);
  assert_string_equal(fr[0].function, "h");
  assert_int_equal(cw__symidx_lookup(ix, 270, fr, 4), 0); /* past h: not g */
  /* k: last in its section, runs to its end; its file from STT_FILE. */
  assert_int_equal(cw__symidx_lookup(ix, 399, fr, 4), 1);
  assert_string_equal(fr[0].function, "k");
  assert_string_equal(fr[0].file, "k.c");
  assert_int_equal(fr[0].line, 0);
  assert_int_equal(cw__symidx_lookup(ix, 400, fr, 4), 0);
  cw__symidx_free(ix);

  /* Compile unit ranges: a row past the unit's end answers nothing. */
  ix = cw__symidx_new();
  fid = cw__symidx_file(ix, "a.c");
  cw__symidx_add_row(ix, 100, fid, 5, 1, 0, 0);
  cw__symidx_add_row(ix, 130, fid, 6, 1, 0, 0);
  cw__symidx_add_row(ix, 140, -1, 0, 0, 0, 1);
  assert_int_equal(cw__symidx_add_cu_range(ix, 100, 126), 0);
  assert_int_equal(cw__symidx_add_cu_range(ix, 120, 128), 0); /* merged */
  assert_int_equal(cw__symidx_finish(ix), 0);
  assert_int_equal(cw__symidx_lookup(ix, 127, fr, 4), 1);
  assert_int_equal(fr[0].line, 5);
  assert_int_equal(cw__symidx_lookup(ix, 128, fr, 4), 0); /* padding */
  assert_int_equal(cw__symidx_lookup(ix, 135, fr, 4), 0);
  cw__symidx_free(ix);
}

/* A range poking out of its parent is clipped, never breaks the order. */
static void test_index_malformed_nesting(void **state) {
  (void)state;
  symidx_t *ix = cw__symidx_new();
  int32_t a = cw__symidx_add_scope(ix, cw__symidx_intern(ix, "a", 1), -1, NULL,
                                   0, 0, 0);
  int32_t b =
      cw__symidx_add_scope(ix, cw__symidx_intern(ix, "b", 1), a, NULL, 0, 0, 0);
  int32_t c = cw__symidx_add_scope(ix, cw__symidx_intern(ix, "c", 1), -1, NULL,
                                   0, 0, 0);
  cw__symidx_add_range(ix, 10, 20, a, 0);
  cw__symidx_add_range(ix, 15, 40, b, 1);
  cw__symidx_add_range(ix, 18, 30, c, 0); /* overlaps both */
  cw__symidx_add_range(ix, 50, 50, c, 0); /* empty */
  assert_int_equal(cw__symidx_finish(ix), 0);
  symidx_frame_t fr[4];
  for (uint64_t x = 0; x < 60; x++)
    (void)cw__symidx_lookup(ix, x, fr, 4);
  assert_int_equal(cw__symidx_lookup(ix, 16, fr, 4), 2);
  assert_string_equal(fr[0].function, "b");
  cw__symidx_free(ix);
}

/* ---- Breakpad .sym ----------------------------------------------------- */

static const char good_sym[] =
    "MODULE Linux x86_64 BBA6FA10B8AAB33D00000000000000000 linux_inline\n"
    "INFO CODE_ID 10FAA6BBAAB83DB3\n"
    "FILE 0 linux_inline.cpp\n"
    "FILE 1 a.cpp\n"
    "FILE 2 b.cpp\n"
    "INLINE_ORIGIN 0 bar()\n"
    "INLINE_ORIGIN 1 foo()\n"
    "FUNC 1000 100 0 main\n"
    "INLINE 0 42 0 1 1010 40\n"
    "INLINE 1 39 1 0 1020 10\n"
    "1000 10 40 0\n"
    "1010 10 38 1\n"
    "1020 10 30 2\n"
    "1030 d0 43 0\n"
    "FUNC m 2000 10 0 other\n"
    "2000 8 7 0\n"
    "STACK CFI INIT 1000 100 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
    "PUBLIC 3000 0 public_sym\r\n";

static void test_bpsym_parse_and_lookup(void **state) {
  (void)state;
  symidx_t *ix = cw__symidx_new();
  bpsym_module_t mod;
  char err[256] = "";
  assert_int_equal(cw__bpsym_parse(ix, good_sym, strlen(good_sym), 0, &mod,
                                   "t.sym", err, sizeof(err)),
                   0);
  assert_string_equal(mod.os, "Linux");
  assert_string_equal(mod.arch, "x86_64");
  assert_string_equal(mod.id, "BBA6FA10B8AAB33D00000000000000000");
  assert_string_equal(mod.name, "linux_inline");
  assert_int_equal(cw__symidx_finish(ix), 0);

  symidx_frame_t fr[8];
  assert_int_equal(cw__symidx_lookup(ix, 0x1025, fr, 8), 3);
  assert_string_equal(fr[0].function, "bar()");
  assert_string_equal(fr[0].file, "b.cpp");
  assert_int_equal(fr[0].line, 30);
  assert_string_equal(fr[1].function, "foo()");
  assert_string_equal(fr[1].file, "a.cpp");
  assert_int_equal(fr[1].line, 39);
  assert_string_equal(fr[2].function, "main");
  assert_string_equal(fr[2].file, "linux_inline.cpp");
  assert_int_equal(fr[2].line, 42);

  assert_int_equal(cw__symidx_lookup(ix, 0x1005, fr, 8), 1);
  assert_int_equal(fr[0].line, 40);
  assert_int_equal(cw__symidx_lookup(ix, 0x2004, fr, 8), 1);
  assert_string_equal(fr[0].function, "other");
  assert_int_equal(fr[0].line, 7);
  /* Past the last line record of "other": function, no line. */
  assert_int_equal(cw__symidx_lookup(ix, 0x200c, fr, 8), 1);
  assert_null(fr[0].file);
  assert_int_equal(cw__symidx_lookup(ix, 0x3004, fr, 8), 1);
  assert_string_equal(fr[0].function, "public_sym");
  cw__symidx_free(ix);
}

static void expect_sym_error(const char *text, const char *msg) {
  symidx_t *ix = cw__symidx_new();
  char err[256] = "";
  int rc = cw__bpsym_parse(ix, text, strlen(text), 0, NULL, "bad.sym", err,
                           sizeof(err));
  assert_int_equal(rc, CW_EFORMAT);
  if (strstr(err, msg) == NULL)
    fail_msg("error '%s' does not contain '%s'", err, msg);
  cw__symidx_free(ix);
}

static void test_bpsym_errors(void **state) {
  (void)state;
  expect_sym_error("", "bad.sym:0: empty file");
  expect_sym_error("hello\n", "bad.sym:1: not a Breakpad symbol file");
  expect_sym_error("MODULE Linux\n", "bad.sym:1: MODULE record");
  expect_sym_error("MODULE a b c d\nFUNC 10 zz 0 f\n",
                   "bad.sym:2: FUNC record: bad size");
  expect_sym_error("MODULE a b c d\n10 4 1 0\n",
                   "bad.sym:2: line record before any FUNC");
  expect_sym_error("MODULE a b c d\nFUNC 10 4 0 f\n10 4 x 0\n",
                   "bad.sym:3: line record");
  expect_sym_error("MODULE a b c d\nFILE 99999999999 x\n",
                   "bad.sym:2: FILE record");
  expect_sym_error("MODULE a b c d\nINLINE_ORIGIN 0 g\nFUNC 10 40 0 f\n"
                   "INLINE 1 3 0 0 10 4\n",
                   "bad.sym:4: INLINE record: nest level skips a level");
  expect_sym_error("MODULE a b c d\nFUNC 10 40 0 f\nINLINE 0 3 0 7 10 4\n",
                   "bad.sym:3: INLINE record: unknown INLINE_ORIGIN");
  expect_sym_error("MODULE a b c d\nINLINE_ORIGIN 0 g\nFUNC 10 40 0 f\n"
                   "INLINE 0 3 0 0\n",
                   "bad.sym:4: INLINE record: no address range");
  expect_sym_error("MODULE a b c d\nPUBLIC 10\n", "bad.sym:2: PUBLIC record");
  expect_sym_error("MODULE a b c d\nMODULE a b c d\n",
                   "bad.sym:2: a second MODULE");
  char nul[] = "MODULE a b c d\nFUNC 1\0 2 0 f\n";
  symidx_t *ix = cw__symidx_new();
  char err[256];
  assert_int_equal(cw__bpsym_parse(ix, nul, sizeof(nul) - 1, 0, NULL, "n.sym",
                                   err, sizeof(err)),
                   CW_EFORMAT);
  assert_non_null(strstr(err, "n.sym:2: NUL byte"));
  cw__symidx_free(ix);
}

/* Every prefix of a good file either parses or fails cleanly. */
static void test_bpsym_truncated(void **state) {
  (void)state;
  for (size_t n = 0; n <= strlen(good_sym); n++) {
    char *copy = malloc(n ? n : 1);
    memcpy(copy, good_sym, n);
    symidx_t *ix = cw__symidx_new();
    char err[256];
    int rc = cw__bpsym_parse(ix, copy, n, 0, NULL, "t.sym", err, sizeof(err));
    assert_true(rc == 0 || rc == CW_EFORMAT);
    if (rc == 0)
      assert_int_equal(cw__symidx_finish(ix), 0);
    cw__symidx_free(ix);
    free(copy);
  }
}

/* ---- the symbolizer on real files ------------------------------------ */

__attribute__((noinline)) int test_target_function(int x) {
  return x * 7 + 3; /* TARGET_LINE */
}

static int target_line(void) {
  char path[4200];
  snprintf(path, sizeof(path), "%s/tests/unit/test_symbolizer.c",
           getenv("CW_SOURCE_DIR") ? getenv("CW_SOURCE_DIR") : ".");
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  char line[512];
  int n = 0, found = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    n++;
    if (strstr(line, "/* TARGET_"
                     "LINE */") != NULL)
      found = n;
  }
  fclose(f);
  return found;
}

static void test_open_self_and_lookup(void **state) {
  (void)state;
  cw__symbolizer_t *s = cw__symbolizer_new(CW_SYM_NO_DEBUGINFOD);
  cw__sym_module_t *m = NULL;
  int rc = cw__symbolizer_open(s, "/proc/self/exe", NULL, 0, &m);
  assert_int_equal(rc, 0);
  assert_string_equal(cw__sym_module_source(m), "dwarf");
  const uint8_t *id;
  assert_true(cw__sym_module_build_id(m, &id) >= 16);

  /* Cached: the same module comes back. */
  cw__sym_module_t *m2 = NULL;
  assert_int_equal(cw__symbolizer_open(s, "/proc/self/exe", NULL, 0, &m2), 0);
  assert_ptr_equal(m, m2);

  uint64_t off = (uint64_t)((uintptr_t)&test_target_function -
                            (uintptr_t)__executable_start);
  uint64_t va = cw__sym_module_vaddr(m, off);
  cw__sym_frame_t fr[8];
  int n = cw__sym_lookup(m, va, 0, fr, 8);
  assert_true(n >= 1);
  assert_string_equal(fr[n - 1].function, "test_target_function");
  assert_non_null(fr[0].file);
  assert_non_null(strstr(fr[0].file, "test_symbolizer.c"));
  int want = target_line();
  assert_true(want > 0);
  /* The function's first address is its opening line or the body's. */
  assert_true(fr[0].line == (uint32_t)want || fr[0].line == (uint32_t)want - 1);
  assert_int_equal(fr[n - 1].inlined, 0);

  /* A return address just past the function's first byte still maps into
   * it when looked up as a return address. */
  n = cw__sym_lookup(m, va + 1, CW_SYM_RETURN_ADDRESS, fr, 8);
  assert_true(n >= 1);
  assert_string_equal(fr[n - 1].function, "test_target_function");

  /* cap 1 keeps the innermost frame. */
  assert_int_equal(cw__sym_lookup(m, va, 0, fr, 1), 1);
  /* Nothing mapped at 1. */
  assert_int_equal(cw__sym_lookup(m, 1, 0, fr, 8), 0);
  cw__symbolizer_free(s);
}

static void test_open_build_id_mismatch(void **state) {
  (void)state;
  cw__symbolizer_t *s = cw__symbolizer_new(CW_SYM_NO_DEBUGINFOD);
  uint8_t wrong[20];
  memset(wrong, 0xab, sizeof(wrong));
  cw__sym_module_t *m = NULL;
  int rc = cw__symbolizer_open(s, "/proc/self/exe", wrong, sizeof(wrong), &m);
  assert_int_equal(rc, CW_EBUILDID);
  assert_null(m);
  const char *e = cw__symbolizer_last_error(s);
  assert_non_null(strstr(e, "/proc/self/exe: build-id "));
  assert_non_null(strstr(e, "does not match module's abababab"));
  cw__symbolizer_free(s);
}

static void test_open_errors(void **state) {
  (void)state;
  cw__symbolizer_t *s =
      cw__symbolizer_new(CW_SYM_NO_DEBUGINFOD | CW_SYM_NO_SYSTEM_DIRS);
  cw__sym_module_t *m = NULL;
  assert_int_equal(cw__symbolizer_open(s, tmp_path("missing"), NULL, 0, &m),
                   CW_ENOENT);
  assert_non_null(strstr(cw__symbolizer_last_error(s), "missing: "));

  write_file(tmp_path("text"), "not elf at all\n", 15);
  assert_int_equal(cw__symbolizer_open(s, tmp_path("text"), NULL, 0, &m),
                   CW_EFORMAT);
  assert_non_null(strstr(cw__symbolizer_last_error(s), "text: not an ELF"));

  /* The first 4 KiB of this executable: headers promise more. */
  FILE *f = fopen("/proc/self/exe", "rb");
  assert_non_null(f);
  char head[4096];
  assert_int_equal(fread(head, 1, sizeof(head), f), sizeof(head));
  fclose(f);
  write_file(tmp_path("trunc"), head, sizeof(head));
  int rc = cw__symbolizer_open(s, tmp_path("trunc"), NULL, 0, &m);
  assert_true(rc == CW_ETRUNC || rc == CW_EFORMAT);
  assert_non_null(strstr(cw__symbolizer_last_error(s), "trunc: "));

  /* Neither path nor build-id. */
  assert_int_equal(cw__symbolizer_open(s, NULL, NULL, 0, &m), CW_EINVAL);
  /* A build-id nobody has. */
  uint8_t id[20] = {1, 2, 3};
  assert_int_equal(cw__symbolizer_open(s, NULL, id, sizeof(id), &m), CW_ENOENT);
  assert_non_null(strstr(cw__symbolizer_last_error(s), "no file with build-id "
                                                       "0102030000"));
  cw__symbolizer_free(s);
}

static void test_deadline(void **state) {
  (void)state;
  cw__symbolizer_t *s = cw__symbolizer_new(CW_SYM_NO_DEBUGINFOD);
  cw__symbolizer_set_deadline(s, cw__symbolizer_now_ns() - 1);
  cw__sym_module_t *m = NULL;
  assert_int_equal(cw__symbolizer_open(s, "/proc/self/exe", NULL, 0, &m),
                   CW_ETIMEDOUT);
  assert_null(m);
  /* Not cached: with time again it opens. */
  cw__symbolizer_set_deadline(s, 0);
  assert_int_equal(cw__symbolizer_open(s, "/proc/self/exe", NULL, 0, &m), 0);
  cw__symbolizer_free(s);
}

static void test_sym_file_as_module(void **state) {
  (void)state;
  write_file(tmp_path("m.sym"), good_sym, strlen(good_sym));
  cw__symbolizer_t *s = cw__symbolizer_new(CW_SYM_NO_DEBUGINFOD);
  cw__sym_module_t *m = NULL;
  assert_int_equal(cw__symbolizer_open(s, tmp_path("m.sym"), NULL, 0, &m), 0);
  assert_string_equal(cw__sym_module_source(m), "breakpad");
  cw__sym_frame_t fr[4];
  assert_int_equal(cw__sym_lookup(m, 0x1025, 0, fr, 4), 3);
  assert_int_equal(fr[0].inlined, 1);
  assert_int_equal(fr[2].inlined, 0);
  assert_string_equal(fr[2].function, "main");
  cw__symbolizer_free(s);
}

/* ---- modules from memory (the vDSO) ------------------------------- */

/* A copy of this process's vDSO with gaps cut the way kernel 6.18's has
 * them: the lowest function (and its aliases) moved up 16 bytes, so .text
 * begins with code no symbol precedes, and the highest-ending one cut 16
 * bytes short, so code follows it that no symbol covers. */
typedef struct {
  uint8_t *img;
  size_t size;
  uint64_t first_addr, last_end, text_lo;
} gapped_vdso_t;

static int gapped_vdso(gapped_vdso_t *g) {
  const uint8_t *base = (const uint8_t *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
  if (base == NULL)
    return -1;
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(const void *)base;
  g->size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
  g->img = malloc(g->size);
  assert_non_null(g->img);
  memcpy(g->img, base, g->size);
  Elf64_Shdr *sh = (Elf64_Shdr *)(void *)(g->img + eh->e_shoff);
  const char *shstr = (const char *)g->img + sh[eh->e_shstrndx].sh_offset;
  Elf64_Sym *sy = NULL;
  size_t n = 0;
  for (size_t i = 0; i < eh->e_shnum; i++) {
    if (strcmp(shstr + sh[i].sh_name, ".text") == 0)
      g->text_lo = sh[i].sh_addr;
    if (sh[i].sh_type == SHT_DYNSYM) {
      sy = (Elf64_Sym *)(void *)(g->img + sh[i].sh_offset);
      n = sh[i].sh_size / sizeof(*sy);
    }
  }
  assert_non_null(sy);
  g->first_addr = UINT64_MAX;
  g->last_end = 0;
  for (size_t i = 0; i < n; i++) {
    if (ELF64_ST_TYPE(sy[i].st_info) != STT_FUNC)
      continue;
    if (sy[i].st_value < g->first_addr)
      g->first_addr = sy[i].st_value;
    if (sy[i].st_value + sy[i].st_size > g->last_end)
      g->last_end = sy[i].st_value + sy[i].st_size;
  }
  for (size_t i = 0; i < n; i++) {
    if (ELF64_ST_TYPE(sy[i].st_info) != STT_FUNC || sy[i].st_size <= 32)
      continue;
    if (sy[i].st_value == g->first_addr) {
      sy[i].st_value += 16;
      sy[i].st_size -= 16;
    }
    if (sy[i].st_value + sy[i].st_size == g->last_end)
      sy[i].st_size -= 16;
  }
  return 0;
}

/* cw__symbolizer_open_image: names from the image's own symbol table; where
 * no symbol covers an address, the nearest preceding function of its
 * section (the watchdog's rule), and nothing where none precedes it or
 * outside every executable section. */
static void test_open_image_vdso_rule(void **state) {
  (void)state;
  gapped_vdso_t g = {0};
  if (gapped_vdso(&g) != 0)
    skip();
  cw__symbolizer_t *s =
      cw__symbolizer_new(CW_SYM_NO_SYSTEM_DIRS | CW_SYM_NO_DEBUGINFOD);
  cw__sym_module_t *m = NULL;
  assert_int_equal(cw__symbolizer_open_image(s, "linux-vdso.so.1", g.img,
                                             g.size, NULL, 0, &m),
                   0);
  memset(g.img, 0, g.size); /* read during the call only */
  assert_string_equal(cw__sym_module_path(m), "linux-vdso.so.1");
  assert_string_equal(cw__sym_module_source(m), "symtab");
  cw__sym_frame_t fr[4];
  /* Covered. */
  assert_int_equal(cw__sym_lookup(m, g.first_addr + 20, 0, fr, 4), 1);
  assert_non_null(fr[0].function);
  char covered_last[64];
  assert_int_equal(cw__sym_lookup(m, g.last_end - 17, 0, fr, 4), 1);
  snprintf(covered_last, sizeof(covered_last), "%s", fr[0].function);
  /* Past the end of the last sized symbol: the preceding function. */
  assert_int_equal(cw__sym_lookup(m, g.last_end - 8, 0, fr, 4), 1);
  assert_string_equal(fr[0].function, covered_last);
  /* Before every symbol of .text: unknown (the module+offset form). */
  if (g.text_lo <= g.first_addr)
    assert_int_equal(cw__sym_lookup(m, g.first_addr + 4, 0, fr, 4), 0);
  /* The ELF header is in no executable section. */
  assert_int_equal(cw__sym_lookup(m, 0x10, 0, fr, 4), 0);
  /* Not ELF: refused. */
  cw__sym_module_t *bad = NULL;
  assert_int_equal(
      cw__symbolizer_open_image(s, "x", "MODULE x", 8, NULL, 0, &bad),
      CW_EFORMAT);
  assert_null(bad);
  cw__symbolizer_free(s);
  free(g.img);
}

int main(void) {
  const char *t = getenv("CW_TEST_TMP");
  snprintf(tmpdir, sizeof(tmpdir), "%s/test_symbolizer.%d", t ? t : "/tmp",
           (int)getpid());
  char cmd[4200];
  snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", tmpdir);
  if (system(cmd) != 0)
    return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_index_nested_ranges),
      cmocka_unit_test(test_index_sequence_end_and_symbol_extents),
      cmocka_unit_test(test_index_malformed_nesting),
      cmocka_unit_test(test_bpsym_parse_and_lookup),
      cmocka_unit_test(test_bpsym_errors),
      cmocka_unit_test(test_bpsym_truncated),
      cmocka_unit_test(test_open_self_and_lookup),
      cmocka_unit_test(test_open_build_id_mismatch),
      cmocka_unit_test(test_open_errors),
      cmocka_unit_test(test_deadline),
      cmocka_unit_test(test_sym_file_as_module),
      cmocka_unit_test(test_open_image_vdso_rule),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0)
    return 1;
  return rc;
}
