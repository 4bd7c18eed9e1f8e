/* test_json_read.c — the JSON reader of list/show and the journal
 * (common/json_read.c): values, escapes, lookups, refusals with offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crashwatch.h"
#include "json_read.h"

static cw__jv_t *parse(const char *s) {
  cw__jv_t *v = NULL;
  char err[128];
  assert_int_equal(cw__jv_parse(s, strlen(s), &v, err, sizeof(err)), 0);
  return v;
}

static void test_json_read_values_and_lookups(void **state) {
  (void)state;
  cw__jv_t *v = parse(" {\"a\": {\"b\": [1, -2.5e2, true, false, null, "
                      "\"x\\\"\\\\\\n\\u00e9\\ud83d\\ude00\"]}, \"a\": 7,"
                      " \"e\": {}} ");
  const cw__jv_t *arr = cw__jv_path(v, "a.b");
  assert_int_equal(cw__jv_count(arr), 6);
  double d;
  assert_int_equal(cw__jv_num(cw__jv_at(arr, 0), &d), 0);
  assert_true(d == 1.0);
  assert_int_equal(cw__jv_num(cw__jv_at(arr, 1), &d), 0);
  assert_true(d == -250.0);
  assert_int_equal(cw__jv_bool(cw__jv_at(arr, 2)), 1);
  assert_int_equal(cw__jv_bool(cw__jv_at(arr, 3)), 0);
  assert_int_equal(cw__jv_at(arr, 4)->kind, CW__JV_NULL);
  assert_string_equal(cw__jv_str(cw__jv_at(arr, 5)),
                      "x\"\\\n\xc3\xa9\xf0\x9f\x98\x80");
  assert_null(cw__jv_at(arr, 6));
  assert_null(cw__jv_str(cw__jv_at(arr, 0)));
  assert_null(cw__jv_path(v, "a.c"));
  assert_null(cw__jv_path(v, "a.b.c"));
  assert_int_equal(cw__jv_count(cw__jv_get(v, "e")), 0);
  cw__jv_free(v);
  /* \u0000 and a lone surrogate never cut a C string. */
  v = parse("\"a\\u0000b\\ud800c\"");
  assert_string_equal(cw__jv_str(v), "a\xef\xbf\xbd"
                                     "b\xef\xbf\xbd"
                                     "c");
  assert_int_equal(v->len, strlen(v->string));
  cw__jv_free(v);
}

static void test_json_read_refuses_with_offset(void **state) {
  (void)state;
  static const struct {
    const char *s;
    const char *err;
  } bad[] = {
      {"", "unexpected end of input at offset 0"},
      {"{\"a\":1,}", "expected a string at offset 7"},
      {"[1 2]", "expected ',' or ']' at offset 3"},
      {"01", "trailing characters after the value at offset 1"},
      {"\"\\x\"", "bad escape at offset 1"},
      {"\"\xc3\"", "invalid UTF-8 in a string at offset 1"},
      {"\"a\nb\"", "control character in a string at offset 2"},
      {"{\"a\" 1}", "expected ':' at offset 5"},
      {"tru", "expected a value at offset 0"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cw__jv_t *v = (cw__jv_t *)1;
    char err[128];
    assert_int_equal(
        cw__jv_parse(bad[i].s, strlen(bad[i].s), &v, err, sizeof(err)),
        CW_EFORMAT);
    assert_null(v);
    assert_string_equal(err, bad[i].err);
  }
  /* Nesting past the limit is refused, at the limit accepted. */
  char deep[2 * CW__JV_MAX_DEPTH + 8];
  size_t k = 0;
  for (int i = 0; i < CW__JV_MAX_DEPTH; i++)
    deep[k++] = '[';
  for (int i = 0; i < CW__JV_MAX_DEPTH; i++)
    deep[k++] = ']';
  cw__jv_t *v;
  assert_int_equal(cw__jv_parse(deep, k, &v, NULL, 0), 0);
  cw__jv_free(v);
  memmove(deep + 1, deep, k);
  deep[0] = '[';
  deep[++k] = ']';
  k++;
  assert_int_equal(cw__jv_parse(deep, k, &v, NULL, 0), CW_EFORMAT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_read_values_and_lookups),
      cmocka_unit_test(test_json_read_refuses_with_offset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
