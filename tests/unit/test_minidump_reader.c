/* test_minidump_reader.c — the minidump reader on third-party fixtures
 * (Breakpad's and Crashpad's Linux dumps) and on damaged copies of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "minidump.h"

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
  cw_md_t *md = NULL;
  assert_int_equal(cw_md_open_file(path, &md, err, sizeof(err)), 0);
  assert_int_equal(cw_md_error_count(md), 0);
  assert_int_equal(cw_md_stream_count(md), 13);

  const cw_md_system_t *si = cw_md_system_info(md);
  assert_non_null(si);
  assert_string_equal(cw_md_arch_name(si->raw.processor_architecture), "amd64");
  assert_string_equal(si->cpu_info, "family 6 model 63 stepping 2");
  assert_string_equal(si->csd_version,
                      "Linux 3.13.0-53-generic #89-Ubuntu SMP Wed May 20 "
                      "10:34:39 UTC 2015 x86_64");
  assert_string_equal(si->vendor, "GenuineIntel");

  const cw_md_exception_t *e = cw_md_exception(md);
  assert_non_null(e);
  assert_int_equal(e->code, 11);
  assert_string_equal(cw_md_signal_name(e->code), "SIGSEGV");
  assert_int_equal(e->address, 0);
  assert_int_equal(cw_md_thread_index(md, e->tid), 0);

  assert_int_equal(cw_md_thread_count(md), 1);
  const cw_md_thread_t *t = cw_md_thread(md, 0);
  assert_int_equal(t->cpu, CW_MD_CPU_AMD64);
  const md_context_amd64_t *c = cw_md_thread_amd64(md, 0, err, sizeof(err));
  assert_non_null(c);
  assert_int_equal(c->rip, 0x401f26);
  assert_int_equal(c->rsp, 0x7fffbf0d7f10);
  assert_int_equal(t->stack_size, 12288);

  assert_int_equal(cw_md_module_count(md), 8);
  const cw_md_module_t *m = cw_md_module(md, 0);
  assert_string_equal(m->basename, "driver");
  assert_int_equal(m->base, 0x400000);
  assert_int_equal(m->base + m->size - 1, 0x416fff);
  assert_string_equal(m->breakpad_id, "014F7B7CB88E7675C28A362BD5A8961F0");
  assert_int_equal(m->cv_signature, MD_CVINFOPDB70_SIGNATURE);
  assert_int_equal(cw_md_module_for_address(md, 0x401f26), 0);
  assert_int_equal(cw_md_module_for_address(md, 0x417000), -1);

  /* The stack reads back through the memory lookup, across its end fails. */
  uint64_t word;
  assert_int_equal(cw_md_read_memory(md, c->rsp, &word, 8), 0);
  assert_int_equal(
      cw_md_read_memory(md, t->stack_start + t->stack_size - 4, &word, 8),
      CW_ENOENT);

  size_t len;
  const uint8_t *cmd = cw_md_stream_data(md, MD_LINUX_CMD_LINE, &len);
  assert_non_null(cmd);
  assert_memory_equal(cmd, "./driver", 8);
  const cw_md_dso_debug_t *dso = cw_md_dso_debug(md);
  assert_non_null(dso);
  assert_true(dso->count > 0);
  cw_md_close(md);
}

static void test_reader_crashpad_fixture(void **state) {
  (void)state;
  char path[4200], err[256];
  fixture("crashpad/sentry_example_segv.dmp", path, sizeof(path));
  cw_md_t *md = NULL;
  assert_int_equal(cw_md_open_file(path, &md, err, sizeof(err)), 0);
  assert_int_equal(cw_md_error_count(md), 0);
  assert_int_equal(cw_md_thread_count(md), 2);
  const cw_md_exception_t *e = cw_md_exception(md);
  assert_int_equal(e->flags, 1);
  assert_string_equal(cw_md_si_code_name(e->code, e->flags), "SEGV_MAPERR");
  assert_int_equal(e->address, 1);
  const cw_md_module_t *m = cw_md_module(md, 0);
  assert_string_equal(m->basename, "sentry_example");
  assert_int_equal(m->cv_signature, MD_CVINFOELF_SIGNATURE);
  assert_int_equal(m->build_id_len, 20);
  assert_string_equal(m->breakpad_id, "01A085D078CF9C85B6A885EA4E9A78600");
  assert_int_equal(strlen(m->code_id), 40);
  assert_int_equal(strlen(m->debug_id), 36);
  assert_non_null(cw_md_crashpad_info(md));
  assert_non_null(cw_md_misc_info(md));
  /* Crashpad writes no /proc text streams; absence is not an error. */
  size_t len;
  assert_null(cw_md_stream_data(md, MD_LINUX_MAPS, &len));
  cw_md_close(md);
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
  cw_md_t *md = NULL;
  assert_int_equal(cw_md_open_buffer(data, len, &md, err, sizeof(err)), 0);
  assert_int_equal(cw_md_error_count(md), 1);
  assert_non_null(strstr(cw_md_errors(md),
                         "thread list stream at offset 0xc0: count 5000 "
                         "needs 240004 bytes, stream has 52"));
  assert_int_equal(cw_md_thread_count(md), 0);
  assert_int_equal(cw_md_module_count(md), 8);
  cw_md_close(md);
  free(data);

  /* A module name RVA past the end of the file. */
  data = slurp(path, &len);
  uint32_t far = 0x7fffff00;
  /* Module list at 0x36c8: count, then modules; name RVA at +20. */
  memcpy(data + 0x36c8 + 4 + 20, &far, 4);
  assert_int_equal(cw_md_open_buffer(data, len, &md, err, sizeof(err)), 0);
  assert_non_null(strstr(cw_md_errors(md), "offset 0x7fffff00"));
  assert_string_equal(cw_md_module(md, 0)->name, "");
  cw_md_close(md);
  free(data);
}

static void test_reader_bad_header(void **state) {
  (void)state;
  char path[4200], err[256];
  fixture("breakpad/linux_null_dereference.dmp", path, sizeof(path));
  size_t len;
  uint8_t *data = slurp(path, &len);
  cw_md_t *md = NULL;
  assert_int_equal(cw_md_open_buffer(data, 20, &md, err, sizeof(err)),
                   CW_ETRUNC);
  assert_null(md);
  assert_non_null(strstr(err, "header at offset 0x0"));

  assert_int_equal(cw_md_open_buffer(data, 100, &md, err, sizeof(err)),
                   CW_ETRUNC);
  assert_non_null(strstr(err, "stream directory at offset 0x20"));

  data[0] = 'X';
  assert_int_equal(cw_md_open_buffer(data, len, &md, err, sizeof(err)),
                   CW_EFORMAT);
  assert_non_null(strstr(err, "signature"));
  free(data);

  assert_int_equal(cw_md_open_file("/nonexistent.dmp", &md, err, sizeof(err)),
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
    cw_md_t *md = NULL;
    int rc = cw_md_open_buffer(data, cut, &md, err, sizeof(err));
    if (rc != 0) {
      assert_non_null(strstr(err, "offset"));
      failed++;
      continue;
    }
    if (cw_md_error_count(md) > 0)
      damaged++;
    for (size_t i = 0; i < cw_md_thread_count(md); i++)
      cw_md_thread_amd64(md, i, err, sizeof(err));
    cw_md_close(md);
  }
  assert_true(failed > 0);
  assert_true(damaged > 0);
  free(data);
}

int main(void) {
  const char *src = getenv("CW_SOURCE_DIR");
  const char *fx = getenv("CW_FIXTURES");
  if (fx != NULL)
    snprintf(fixtures, sizeof(fixtures), "%s", fx);
  else
    snprintf(fixtures, sizeof(fixtures), "%s/../shared/fixtures/minidumps",
             src ? src : ".");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reader_breakpad_fixture),
      cmocka_unit_test(test_reader_crashpad_fixture),
      cmocka_unit_test(test_reader_damaged_streams),
      cmocka_unit_test(test_reader_bad_header),
      cmocka_unit_test(test_reader_every_truncation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
