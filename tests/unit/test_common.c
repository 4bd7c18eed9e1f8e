/* test_common.c — buffer, JSON writer, build-id and debug-id vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "crashwatch.h"
#include "debug_id.h"
#include "json.h"
#include "json_check.h"
#include "read_all.h"
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

static void expect_json_valid(const char *s, unsigned flags, unsigned depth) {
  size_t off = 999;
  const char *what = NULL;
  if (cw__json_check(s, strlen(s), flags, depth, &off, &what) != 0)
    fail_msg("rejected %s (flags %u, depth %u) at %zu: %s", s, flags, depth,
             off, what);
}

static void expect_json_invalid(const char *s, size_t n, unsigned flags,
                                unsigned depth, size_t want_off,
                                const char *want_what) {
  size_t off = 999;
  const char *what = NULL;
  if (cw__json_check(s, n, flags, depth, &off, &what) != CW_EFORMAT ||
      off != want_off || what == NULL ||
      (want_what != NULL && strcmp(what, want_what) != 0))
    fail_msg("\"%s\" (flags %u): off %zu (want %zu), %s (want %s)", s, flags,
             off, want_off, what ? what : "(null)",
             want_what ? want_what : "any");
}

static void test_json_check_syntax(void **state) {
  (void)state;
  static const char *good[] = {
      "{}",
      " {\"a\":[1,-2.5e+3,true,false,null,\"\\u00e9\\n\"]} ",
      "[]",
      "\"s\"",
      "0",
      "{\"a\":{\"b\":{}}}",
      "[[],{},[{}]]",
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    expect_json_valid(good[i], CW__JSON_CHECK_ANY, 0);
  static const struct {
    const char *s;
    size_t off;
  } bad[] = {
      {"", 0},         {"{", 1},         {"{\"a\" 1}", 5}, {"{\"a\":1,}", 7},
      {"[1 2]", 3},    {"\"\\x\"", 2},   {"01", 1},        {"{} x", 3},
      {"\"a\nb\"", 2}, {"[1.]", 3},      {"tru", 0},       {"\"\\u12\"", 2},
      {"[1,]", 3},     {"{\"a\":1]", 6}, {"[}", 1},        {"  ", 2},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    expect_json_invalid(bad[i].s, strlen(bad[i].s), CW__JSON_CHECK_ANY, 0,
                        bad[i].off, NULL);
  /* Only n bytes are read: a valid prefix of a longer string is checked as
   * it is, and NUL bytes are data. */
  expect_json_invalid("{}", 1, CW__JSON_CHECK_ANY, 0, 1, NULL);
  expect_json_invalid("\"a\0b\"", 5, CW__JSON_CHECK_ANY, 0, 2,
                      "control character in string");
  /* The out-parameters are optional. */
  assert_int_equal(cw__json_check("[", 1, 0, 0, NULL, NULL), CW_EFORMAT);
  assert_int_equal(cw__json_check("[]", 2, 0, 0, NULL, NULL), 0);
}

static void test_json_check_object_flag(void **state) {
  (void)state;
  expect_json_valid(" {\"topic\":\"t\",\"partition\":3} ",
                    CW__JSON_CHECK_OBJECT, 0);
  expect_json_invalid("[1]", 3, CW__JSON_CHECK_OBJECT, 0, 0,
                      "not a JSON object");
  expect_json_invalid("  \"s\"", 5, CW__JSON_CHECK_OBJECT, 0, 2,
                      "not a JSON object");
  expect_json_invalid("", 0, CW__JSON_CHECK_OBJECT, 0, 0, "not a JSON object");
  expect_json_invalid("{\"a\":1} {}", 10, CW__JSON_CHECK_OBJECT, 0, 8,
                      "trailing data after the JSON value");
  expect_json_valid("[1]", CW__JSON_CHECK_ANY, 0);
}

static void test_json_check_depth_limit(void **state) {
  (void)state;
  char s[2 * CW__JSON_CHECK_MAX_DEPTH + 8];
  /* depth d = d nested arrays; accepted up to the limit, refused past it at
   * the offset of the first container too many. */
  static const unsigned limits[] = {1, 2, 5, 128, CW__JSON_CHECK_MAX_DEPTH};
  for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
    unsigned d = limits[k];
    memset(s, '[', d);
    memset(s + d, ']', d);
    s[2 * d] = '\0';
    expect_json_valid(s, CW__JSON_CHECK_ANY, d);
    memset(s, '[', d + 1);
    memset(s + d + 1, ']', d + 1);
    s[2 * d + 2] = '\0';
    expect_json_invalid(s, strlen(s), CW__JSON_CHECK_ANY, d, d,
                        "nesting too deep");
  }
  /* 0 is the default (128); larger limits are lowered to the maximum. */
  memset(s, '[', 128);
  memset(s + 128, ']', 128);
  s[256] = '\0';
  expect_json_valid(s, CW__JSON_CHECK_ANY, 0);
  memset(s, '[', 129);
  memset(s + 129, ']', 129);
  s[258] = '\0';
  expect_json_invalid(s, 258, CW__JSON_CHECK_ANY, 0, 128, "nesting too deep");
  expect_json_valid(s, CW__JSON_CHECK_ANY, 129);
  size_t d = CW__JSON_CHECK_MAX_DEPTH + 1;
  memset(s, '[', d);
  memset(s + d, ']', d);
  expect_json_invalid(s, 2 * d, CW__JSON_CHECK_ANY, 100000,
                      CW__JSON_CHECK_MAX_DEPTH, "nesting too deep");
  /* Objects count like arrays; a scalar alone has depth 0. */
  expect_json_valid("{\"a\":{\"b\":1}}", CW__JSON_CHECK_OBJECT, 2);
  expect_json_invalid("{\"a\":{\"b\":{}}}", 13, CW__JSON_CHECK_ANY, 2, 10,
                      "nesting too deep");
  /* Very deep input is refused without recursion (no stack overflow). */
  static char deep[1 << 20];
  memset(deep, '[', sizeof(deep));
  expect_json_invalid(deep, sizeof(deep), CW__JSON_CHECK_ANY, 0, 128,
                      "nesting too deep");
}

static void test_json_check_utf8_flag(void **state) {
  (void)state;
  static const char *good[] = {
      "\"caf\xc3\xa9\"",  "\"\xe2\x82\xac\"",     "\"\xf0\x9f\x98\x80\"",
      "\"\xef\xbf\xbf\"", "\"\xf4\x8f\xbf\xbf\"", "{\"\xc3\xa9\":1}",
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    expect_json_valid(good[i], CW__JSON_CHECK_UTF8, 0);
  static const struct {
    const char *s;
    size_t off;
  } bad[] = {
      {"\"\x80\"", 1},             /* lone continuation byte */
      {"\"\xc0\xaf\"", 1},         /* overlong '/' */
      {"\"\xe0\x80\xaf\"", 2},     /* overlong, 3 bytes */
      {"\"\xed\xa0\x80\"", 2},     /* surrogate U+D800 */
      {"\"\xf4\x90\x80\x80\"", 2}, /* above U+10FFFF */
      {"\"\xf5\x80\x80\x80\"", 1}, /* no such lead byte */
      {"\"\xc3(\"", 2},            /* missing continuation */
      {"\"\xe2\x82", 3},           /* truncated */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    expect_json_invalid(bad[i].s, strlen(bad[i].s), CW__JSON_CHECK_UTF8, 0,
                        bad[i].off, NULL);
    /* Without the flag, bytes inside strings are not judged. */
    if (bad[i].s[strlen(bad[i].s) - 1] == '"')
      expect_json_valid(bad[i].s, CW__JSON_CHECK_ANY, 0);
  }
  /* Outside strings, non-ASCII is refused either way. */
  expect_json_invalid("[\xc3\xa9]", 4, CW__JSON_CHECK_ANY, 0, 1,
                      "unexpected character");
}

/* Writes n bytes of a known pattern into a pipe from a child (a pipe has
 * no size to hint, and a read returns at most what is buffered) and
 * returns the read end. */
static int pattern_pipe(size_t n) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t c = fork();
  assert_true(c >= 0);
  if (c == 0) {
    close(p[0]);
    for (size_t i = 0; i < n; i++) {
      char b = (char)('a' + i % 26);
      if (write(p[1], &b, 1) != 1)
        _exit(1);
    }
    _exit(0);
  }
  close(p[1]);
  return p[0];
}

/* cw__read_all: the whole file whatever the hint, NUL-terminated; exactly
 * max bytes is fine, one more is CW_ERANGE; an empty file is "". */
static void test_read_all_bounds(void **state) {
  (void)state;
  struct {
    size_t n, hint, max;
    int rc;
  } cases[] = {{0, 0, 100, 0},        {1000, 0, 5000, 0},
               {1000, 10, 1000, 0},   {1001, 2000, 1000, CW_ERANGE},
               {5000, 5000, 5000, 0}, {10, 0, 0, CW_ERANGE},
               {0, 0, 0, 0}};
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    int fd = pattern_pipe(cases[k].n);
    char *buf = (char *)1;
    size_t len = 99;
    int rc = cw__read_all(fd, cases[k].hint, cases[k].max, &buf, &len);
    close(fd);
    while (wait(NULL) > 0) {
    }
    assert_int_equal(rc, cases[k].rc);
    if (rc != 0) {
      assert_null(buf);
      continue;
    }
    assert_int_equal(len, cases[k].n);
    assert_int_equal(buf[len], '\0');
    for (size_t i = 0; i < len; i++)
      assert_int_equal(buf[i], 'a' + i % 26);
    free(buf);
  }
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
      cmocka_unit_test(test_json_check_syntax),
      cmocka_unit_test(test_json_check_object_flag),
      cmocka_unit_test(test_json_check_depth_limit),
      cmocka_unit_test(test_json_check_utf8_flag),
      cmocka_unit_test(test_read_all_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
