/* test_minidump_reader.c — the minidump reader on third-party fixtures
 * (Breakpad's and Crashpad's Linux dumps) and on damaged copies of them
 * (run with --fixtures: CTest's test_minidump_reader_fixtures, skipped
 * without them, tests/cw_fixtures.h), and on dumps built here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "cw_fixtures.h"
#include "minidump.h"
#include "signals.h"

static char fixtures[4096];

static void fixture(const char *rel, char *out, size_t n) {
  snprintf(out, n, "%s/%s", fixtures, rel);
}

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc((size_t)n);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return p;
}

static void test_reader_breakpad_fixture(void **state) {
  (void)state;
  char path[4200], err[256];
  fixture("breakpad/linux_null_dereference.dmp", path, sizeof(path));
  cw__md_t *md = NULL;
  assert_int_equal(cw__md_open_file(path, &md, err, sizeof(err)), 0);
  assert_int_equal(cw__md_error_count(md), 0);
  assert_int_equal(cw__md_stream_count(md), 13);

  const cw__md_system_t *si = cw__md_system_info(md);
  assert_non_null(si);
  assert_string_equal(cw__md_arch_name(si->raw.processor_architecture),
                      "amd64");
  assert_string_equal(si->cpu_info, "family 6 model 63 stepping 2");
  assert_string_equal(si->csd_version,
                      "Linux 3.13.0-53-generic #89-Ubuntu SMP Wed May 20 "
                      "10:34:39 UTC 2015 x86_64");
  assert_string_equal(si->vendor, "GenuineIntel");

  const cw__md_exception_t *e = cw__md_exception(md);
  assert_non_null(e);
  assert_int_equal(e->code, 11);
  assert_string_equal(cw__signal_name((int)e->code), "SIGSEGV");
  assert_int_equal(e->address, 0);
  assert_int_equal(cw__md_thread_index(md, e->tid), 0);

  assert_int_equal(cw__md_thread_count(md), 1);
  const cw__md_thread_t *t = cw__md_thread(md, 0);
  assert_int_equal(t->cpu, CW_MD_CPU_AMD64);
  const md_context_amd64_t *c = cw__md_thread_amd64(md, 0, err, sizeof(err));
  assert_non_null(c);
  assert_int_equal(c->rip, 0x401f26);
  assert_int_equal(c->rsp, 0x7fffbf0d7f10);
  assert_int_equal(t->stack_size, 12288);

  assert_int_equal(cw__md_module_count(md), 8);
  const cw__md_module_t *m = cw__md_module(md, 0);
  assert_string_equal(m->basename, "driver");
  assert_int_equal(m->base, 0x400000);
  assert_int_equal(m->base + m->size - 1, 0x416fff);
  assert_string_equal(m->breakpad_id, "014F7B7CB88E7675C28A362BD5A8961F0");
  assert_int_equal(m->cv_signature, MD_CVINFOPDB70_SIGNATURE);
  assert_int_equal(cw__md_module_for_address(md, 0x401f26), 0);
  assert_int_equal(cw__md_module_for_address(md, 0x417000), -1);

  /* The stack reads back through the memory lookup, across its end fails. */
  uint64_t word;
  assert_int_equal(cw__md_read_memory(md, c->rsp, &word, 8), 0);
  assert_int_equal(
      cw__md_read_memory(md, t->stack_start + t->stack_size - 4, &word, 8),
      CW_ENOENT);

  size_t len;
  const uint8_t *cmd = cw__md_stream_data(md, MD_LINUX_CMD_LINE, &len);
  assert_non_null(cmd);
  assert_memory_equal(cmd, "./driver", 8);
  size_t nauxv;
  const cw__md_auxv_t *auxv = cw__md_auxv(md, &nauxv);
  assert_int_equal(nauxv, 304 / 16);
  int saw_pagesz = 0;
  for (size_t i = 0; i < nauxv; i++)
    if (auxv[i].type == 6 /* AT_PAGESZ */)
      saw_pagesz = auxv[i].value == 4096;
  assert_true(saw_pagesz);
  const cw__md_dso_debug_t *dso = cw__md_dso_debug(md);
  assert_non_null(dso);
  assert_true(dso->count > 0);
  cw__md_close(md);
}

static void test_reader_crashpad_fixture(void **state) {
  (void)state;
  char path[4200], err[256];
  fixture("crashpad/sentry_example_segv.dmp", path, sizeof(path));
  cw__md_t *md = NULL;
  assert_int_equal(cw__md_open_file(path, &md, err, sizeof(err)), 0);
  assert_int_equal(cw__md_error_count(md), 0);
  assert_int_equal(cw__md_thread_count(md), 2);
  const cw__md_exception_t *e = cw__md_exception(md);
  assert_int_equal(e->flags, 1);
  assert_string_equal(cw__si_code_name((int)e->code, (int)e->flags),
                      "SEGV_MAPERR");
  assert_int_equal(e->address, 1);
  const cw__md_module_t *m = cw__md_module(md, 0);
  assert_string_equal(m->basename, "sentry_example");
  assert_int_equal(m->cv_signature, MD_CVINFOELF_SIGNATURE);
  assert_int_equal(m->build_id_len, 20);
  assert_string_equal(m->breakpad_id, "01A085D078CF9C85B6A885EA4E9A78600");
  assert_int_equal(strlen(m->code_id), 40);
  assert_int_equal(strlen(m->debug_id), 36);
  assert_non_null(cw__md_crashpad_info(md));
  assert_non_null(cw__md_misc_info(md));
  /* Crashpad writes no /proc text streams; absence is not an error. */
  size_t len;
  assert_null(cw__md_stream_data(md, MD_LINUX_MAPS, &len));
  cw__md_close(md);
}

/* A damaged stream is reported with its name and offset, the rest reads. */
static void test_reader_damaged_streams(void **state) {
  (void)state;
  char path[4200], err[256];
  fixture("breakpad/linux_null_dereference.dmp", path, sizeof(path));
  size_t len;
  uint8_t *data = slurp(path, &len);
  /* Thread list at 0xc0: set its count to 5000. */
  uint32_t big = 5000;
  memcpy(data + 0xc0, &big, 4);
  cw__md_t *md = NULL;
  assert_int_equal(cw__md_open_buffer(data, len, &md, err, sizeof(err)), 0);
  assert_int_equal(cw__md_error_count(md), 1);
  assert_non_null(strstr(cw__md_errors(md),
                         "thread list stream at offset 0xc0: count 5000 "
                         "needs 240004 bytes, stream has 52"));
  assert_int_equal(cw__md_thread_count(md), 0);
  assert_int_equal(cw__md_module_count(md), 8);
  cw__md_close(md);
  free(data);

  /* A module name RVA past the end of the file. */
  data = slurp(path, &len);
  uint32_t far = 0x7fffff00;
  /* Module list at 0x36c8: count, then modules; name RVA at +20. */
  memcpy(data + 0x36c8 + 4 + 20, &far, 4);
  assert_int_equal(cw__md_open_buffer(data, len, &md, err, sizeof(err)), 0);
  assert_non_null(strstr(cw__md_errors(md), "offset 0x7fffff00"));
  assert_string_equal(cw__md_module(md, 0)->name, "");
  cw__md_close(md);
  free(data);
}

static void test_reader_bad_header(void **state) {
  (void)state;
  char path[4200], err[256];
  fixture("breakpad/linux_null_dereference.dmp", path, sizeof(path));
  size_t len;
  uint8_t *data = slurp(path, &len);
  cw__md_t *md = NULL;
  assert_int_equal(cw__md_open_buffer(data, 20, &md, err, sizeof(err)),
                   CW_ETRUNC);
  assert_null(md);
  assert_non_null(strstr(err, "header at offset 0x0"));

  assert_int_equal(cw__md_open_buffer(data, 100, &md, err, sizeof(err)),
                   CW_ETRUNC);
  assert_non_null(strstr(err, "stream directory at offset 0x20"));

  data[0] = 'X';
  assert_int_equal(cw__md_open_buffer(data, len, &md, err, sizeof(err)),
                   CW_EFORMAT);
  assert_non_null(strstr(err, "signature"));
  free(data);

  assert_int_equal(cw__md_open_file("/nonexistent.dmp", &md, err, sizeof(err)),
                   CW_ENOENT);
}

/* Every truncation of a fixture opens or fails cleanly, and never reads
 * outside the buffer (the sanitizer build checks the reads). */
static void test_reader_every_truncation(void **state) {
  (void)state;
  char path[4200], err[256];
  fixture("crashpad/sentry_example_segv.dmp", path, sizeof(path));
  size_t len;
  uint8_t *data = slurp(path, &len);
  int failed = 0, damaged = 0;
  for (size_t cut = 0; cut < len; cut += 7) {
    cw__md_t *md = NULL;
    int rc = cw__md_open_buffer(data, cut, &md, err, sizeof(err));
    if (rc != 0) {
      assert_non_null(strstr(err, "offset"));
      failed++;
      continue;
    }
    if (cw__md_error_count(md) > 0)
      damaged++;
    for (size_t i = 0; i < cw__md_thread_count(md); i++)
      cw__md_thread_amd64(md, i, err, sizeof(err));
    cw__md_close(md);
  }
  assert_true(failed > 0);
  assert_true(damaged > 0);
  free(data);
}

/* ---- a small synthetic dump: header, directory, then streams ---------- */

typedef struct {
  uint8_t b[8192];
  size_t len;
  md_directory_t dir[16];
  uint32_t n;
} synth_t;

static uint32_t put(synth_t *s, const void *p, size_t n) {
  assert_true(s->len + n <= sizeof(s->b));
  uint32_t at = (uint32_t)s->len;
  memcpy(s->b + s->len, p, n);
  s->len += n;
  return at;
}

static uint32_t put_u32(synth_t *s, uint32_t v) { return put(s, &v, 4); }

static uint32_t put_utf16(synth_t *s, const uint16_t *u, uint32_t units) {
  uint32_t at = put_u32(s, units * 2);
  put(s, u, units * 2);
  uint16_t z = 0;
  put(s, &z, 2);
  return at;
}

static void stream(synth_t *s, uint32_t type, uint32_t rva, uint32_t size) {
  s->dir[s->n++] = (md_directory_t){type, {size, rva}};
}

static void synth_begin(synth_t *s) {
  memset(s, 0, sizeof(*s));
  s->len = sizeof(md_header_t) + 16 * sizeof(md_directory_t);
}

static cw__md_t *synth_open(synth_t *s) {
  md_header_t h = {MD_HEADER_SIGNATURE,
                   MD_HEADER_VERSION,
                   s->n,
                   sizeof(md_header_t),
                   0,
                   0,
                   0};
  memcpy(s->b, &h, sizeof(h));
  memcpy(s->b + sizeof(h), s->dir, s->n * sizeof(md_directory_t));
  cw__md_t *md = NULL;
  char err[256];
  assert_int_equal(cw__md_open_buffer(s->b, s->len, &md, err, sizeof(err)), 0);
  return md;
}

/* Contexts of other CPUs are recognised and reported, never misread. */
static void test_reader_other_cpus(void **state) {
  (void)state;
  static const struct {
    uint32_t flags, size;
    cw__md_cpu_t cpu;
    const char *name;
  } cases[] = {
      {0x0001003f, 716, CW_MD_CPU_X86, "x86"},
      {0x40000002, 368, CW_MD_CPU_ARM, "arm"},
      {0x00400002, 912, CW_MD_CPU_ARM64, "arm64"},
  };
  for (size_t c = 0; c < 3; c++) {
    synth_t s;
    synth_begin(&s);
    uint8_t ctx[1232] = {0};
    memcpy(ctx, &cases[c].flags, 4);
    uint32_t crva = put(&s, ctx, cases[c].size);
    md_thread_t t = {0};
    t.thread_id = 42;
    t.thread_context = (md_location_t){cases[c].size, crva};
    uint32_t rva = put_u32(&s, 1);
    put(&s, &t, sizeof(t));
    stream(&s, MD_THREAD_LIST_STREAM, rva, 4 + sizeof(t));
    cw__md_t *md = synth_open(&s);
    assert_int_equal(cw__md_error_count(md), 0);
    assert_int_equal(cw__md_thread(md, 0)->cpu, cases[c].cpu);
    assert_false(cw__md_thread(md, 0)->has_amd64);
    char err[256];
    assert_null(cw__md_thread_amd64(md, 0, err, sizeof(err)));
    char want[64];
    snprintf(want, sizeof(want), "unsupported CPU %s", cases[c].name);
    assert_non_null(strstr(err, want));
    cw__md_close(md);
  }
}

/* Thread names (UTF-16 with a surrogate pair and a lone surrogate), a
 * padded thread-list count and a Memory64List. */
static void test_reader_names_and_memory64(void **state) {
  (void)state;
  synth_t s;
  synth_begin(&s);
  uint8_t ctx[1232] = {0};
  uint32_t flags = MD_CONTEXT_AMD64_FULL;
  memcpy(ctx + offsetof(md_context_amd64_t, context_flags), &flags, 4);
  uint32_t crva = put(&s, ctx, sizeof(ctx));
  md_thread_t t = {0};
  t.thread_id = 7;
  t.thread_context = (md_location_t){sizeof(ctx), crva};
  uint32_t rva = put_u32(&s, 1);
  put_u32(&s, 0); /* padding some writers add after the count */
  put(&s, &t, sizeof(t));
  stream(&s, MD_THREAD_LIST_STREAM, rva, 8 + sizeof(t));

  /* "w\u00e9\U0001F600" then a lone high surrogate. */
  static const uint16_t name[] = {'w', 0xe9, 0xd83d, 0xde00, 0xd800};
  uint32_t nrva = put_utf16(&s, name, 5);
  md_thread_name_t tn = {7, nrva};
  rva = put_u32(&s, 1);
  put(&s, &tn, sizeof(tn));
  stream(&s, MD_THREAD_NAME_LIST_STREAM, rva, 4 + sizeof(tn));

  uint8_t data[48];
  for (int i = 0; i < 48; i++)
    data[i] = (uint8_t)i;
  uint32_t drva = put(&s, data, 48);
  uint64_t hdr[2] = {2, drva};
  uint64_t ranges[4] = {0x1000, 16, 0x2000, 32};
  rva = put(&s, hdr, sizeof(hdr));
  put(&s, ranges, sizeof(ranges));
  stream(&s, MD_MEMORY_64_LIST_STREAM, rva, sizeof(hdr) + sizeof(ranges));

  cw__md_t *md = synth_open(&s);
  assert_string_equal(cw__md_errors(md), "");
  assert_int_equal(cw__md_thread_count(md), 1);
  assert_string_equal(cw__md_thread(md, 0)->name,
                      "w\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd");
  assert_true(cw__md_thread(md, 0)->has_amd64);
  assert_int_equal(cw__md_memory_count(md), 2);
  uint8_t got[4];
  assert_int_equal(cw__md_read_memory(md, 0x2004, got, 4), 0);
  assert_int_equal(got[0], 20); /* second range starts at data[16] */
  assert_int_equal(cw__md_read_memory(md, 0x100e, got, 4), CW_ENOENT);
  cw__md_close(md);

  /* The same Memory64List claiming more ranges than the stream holds. */
  hdr[0] = 1000000;
  memcpy(s.b + rva, hdr, sizeof(hdr));
  md = synth_open(&s);
  assert_non_null(strstr(cw__md_errors(md), "memory64 list stream at offset"));
  assert_non_null(strstr(cw__md_errors(md), "count 1000000"));
  assert_int_equal(cw__md_memory_count(md), 0);
  cw__md_close(md);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--fixtures") == 0) {
    if (fixtures_minidumps_dir(fixtures, sizeof(fixtures)) != 0)
      return FIXTURES_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_breakpad_fixture),
        cmocka_unit_test(test_reader_crashpad_fixture),
        cmocka_unit_test(test_reader_damaged_streams),
        cmocka_unit_test(test_reader_bad_header),
        cmocka_unit_test(test_reader_every_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reader_other_cpus),
      cmocka_unit_test(test_reader_names_and_memory64),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
