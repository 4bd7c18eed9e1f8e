/* test_common.c — buffer, JSON writer, build-id and debug-id vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "crashwatch.h"
#include "debug_id.h"
#include "json.h"
#include "regfile.h"

static void test_debug_id_sentry_vector(void **state) {
  (void)state;
  uint8_t id[20];
  assert_int_equal(cw__hex_decode("f1c3bcc0279865fe3058404b2831d9e64135386c",
                                  id, sizeof(id)),
                   20);
  char debug_id[37];
  cw__debug_id_from_build_id(id, 20, debug_id);
  assert_string_equal(debug_id, "c0bcc3f1-9827-fe65-3058-404b2831d9e6");
  char bp[34];
  cw__breakpad_id_from_build_id(id, 20, bp);
  assert_string_equal(bp, "C0BCC3F19827FE653058404B2831D9E60");
}

static void test_debug_id_short_build_id_is_zero_padded(void **state) {
  (void)state;
  uint8_t id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  char debug_id[37];
  cw__debug_id_from_build_id(id, 8, debug_id);
  assert_string_equal(debug_id, "04030201-0605-0807-0000-000000000000");
}

static void test_hex_decode_rejects_bad_input(void **state) {
  (void)state;
  uint8_t out[4];
  assert_int_equal(cw__hex_decode("abc", out, 4), CW_EFORMAT);
  assert_int_equal(cw__hex_decode("zz", out, 4), CW_EFORMAT);
  assert_int_equal(cw__hex_decode("0011223344", out, 4), CW_ERANGE);
  char hex[9];
  assert_int_equal(cw__hex_decode("DEADbeef", out, 4), 4);
  cw__hex_encode(out, 4, hex);
  assert_string_equal(hex, "deadbeef");
}

static void test_json_writer_nesting_and_escapes(void **state) {
  (void)state;
  cw__buf_t b = CW_BUF_INIT;
  cw__json_t j;
  cw__json_init(&j, &b, 0);
  cw__json_begin_object(&j);
  cw__json_key(&j, "s");
  cw__json_string(&j, "a\"b\\c\n\x01");
  cw__json_key(&j, "bad");
  cw__json_string(&j, "x\xff y");
  cw__json_key(&j, "arr");
  cw__json_begin_array(&j);
  cw__json_int(&j, -5);
  cw__json_uint(&j, 18446744073709551615u);
  cw__json_bool(&j, 1);
  cw__json_null(&j);
  cw__json_hex(&j, 0x1000);
  cw__json_begin_object(&j);
  cw__json_end_object(&j);
  cw__json_end_array(&j);
  cw__json_end_object(&j);
  assert_string_equal(
      cw__buf_cstr(&b),
      "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"bad\":\"x\\ufffd y\",\"arr\":[-5,"
      "18446744073709551615,true,null,\"0x1000\",{}]}");
  cw__buf_free(&b);
}

static void test_buf_printf_and_zeros(void **state) {
  (void)state;
  cw__buf_t b = CW_BUF_INIT;
  for (int i = 0; i < 1000; i++)
    cw__buf_printf(&b, "%d,", i);
  size_t off = cw__buf_append_zeros(&b, 8);
  assert_int_equal(off, b.len - 8);
  assert_memory_equal(b.data, "0,1,2,", 6);
  assert_false(b.oom);
  cw__buf_free(&b);
}

static void test_strerror_names_every_code(void **state) {
  (void)state;
  assert_string_equal(cw_strerror(CW_EDSN), "malformed DSN");
  assert_string_equal(cw_err_name(CW_EINVAL), "CW_EINVAL");
  assert_string_equal(cw_strerror(-123456), "unknown error");
  assert_string_equal(cw_strerror(0), "success");
}

/* cw__open_regular: a FIFO (no writer: open(2) would block for ever), a
 * device and a directory are refused at once and named; a regular file,
 * also through a symlink, opens in blocking mode. */
static void test_open_regular_refuses_fifo_device_dir(void **state) {
  (void)state;
  char dir[] = "/tmp/cw-test-common-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char fifo[64], file[64], link[64];
  snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
  snprintf(file, sizeof(file), "%s/file", dir);
  snprintf(link, sizeof(link), "%s/link", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputs("x", f);
  fclose(f);
  assert_int_equal(symlink(file, link), 0);
  const char *kind = NULL;
  assert_int_equal(cw__open_regular(fifo, 0, &kind), CW_REGFILE_NOT_REGULAR);
  assert_string_equal(kind, "a FIFO");
  assert_int_equal(cw__open_regular("/dev/null", 0, &kind),
                   CW_REGFILE_NOT_REGULAR);
  assert_string_equal(kind, "a character device");
  assert_int_equal(cw__open_regular(dir, 0, &kind), CW_REGFILE_NOT_REGULAR);
  assert_string_equal(kind, "a directory");
  assert_int_equal(cw__path_not_regular(fifo, &kind), 1);
  assert_string_equal(kind, "a FIFO");
  assert_int_equal(cw__path_not_regular(file, &kind), 0);
  assert_int_equal(cw__path_not_regular("/nonexistent/x", &kind), 0);
  assert_int_equal(cw__open_regular("/nonexistent/x", 0, &kind), -1);
  int fd = cw__open_regular(link, 0, &kind);
  assert_true(fd >= 0);
  char c;
  assert_int_equal(read(fd, &c, 1), 1);
  assert_int_equal(c, 'x');
  assert_int_equal(close(fd), 0);
  unlink(fifo);
  unlink(link);
  unlink(file);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_debug_id_sentry_vector),
      cmocka_unit_test(test_debug_id_short_build_id_is_zero_padded),
      cmocka_unit_test(test_hex_decode_rejects_bad_input),
      cmocka_unit_test(test_json_writer_nesting_and_escapes),
      cmocka_unit_test(test_buf_printf_and_zeros),
      cmocka_unit_test(test_strerror_names_every_code),
      cmocka_unit_test(test_open_regular_refuses_fifo_device_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
