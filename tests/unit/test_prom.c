/* test_prom.c — the Prometheus text exposition writer (common/prom.c):
 * families, escaping, refusal of malformed documents, atomic replacement. */
#include <dirent.h>
#include <math.h>
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

#include "crashwatch.h"
#include "prom.h"

static void test_prom_families_and_values(void **state) {
  (void)state;
  cw__prom_t p;
  cw__prom_init(&p);
  assert_int_equal(cw__prom_metric(&p, CW_PROM_REPORTS_PENDING, CW_PROM_GAUGE,
                                   "Reports waiting.", 3),
                   0);
  assert_int_equal(cw__prom_family(&p, CW_PROM_UPLOADS, CW_PROM_COUNTER,
                                   "Upload attempts by result."),
                   0);
  cw__prom_label_t ok = {"result", "ok"};
  cw__prom_label_t rl = {"result", "rate_limited"};
  assert_int_equal(cw__prom_sample(&p, CW_PROM_UPLOADS, &ok, 1, 12), 0);
  assert_int_equal(cw__prom_sample(&p, CW_PROM_UPLOADS, &rl, 1, 0), 0);
  assert_int_equal(cw__prom_metric(&p, "x_ratio", CW_PROM_GAUGE, "", 0.25), 0);
  assert_int_equal(
      cw__prom_metric(&p, "x_big", CW_PROM_GAUGE, "h", 1764600000123.0), 0);
  assert_int_equal(cw__prom_metric(&p, "x_nan", CW_PROM_GAUGE, "h", NAN), 0);
  assert_string_equal(
      cw__prom_text(&p),
      "# HELP crashwatch_reports_pending Reports waiting.\n"
      "# TYPE crashwatch_reports_pending gauge\n"
      "crashwatch_reports_pending 3\n"
      "# HELP crashwatch_uploads_total Upload attempts by result.\n"
      "# TYPE crashwatch_uploads_total counter\n"
      "crashwatch_uploads_total{result=\"ok\"} 12\n"
      "crashwatch_uploads_total{result=\"rate_limited\"} 0\n"
      "# HELP x_ratio \n"
      "# TYPE x_ratio gauge\n"
      "x_ratio 0.25\n"
      "# HELP x_big h\n# TYPE x_big gauge\nx_big 1764600000123\n"
      "# HELP x_nan h\n# TYPE x_nan gauge\nx_nan NaN\n");
  cw__prom_free(&p);
}

static void test_prom_escapes_label_values_and_help(void **state) {
  (void)state;
  cw__prom_t p;
  cw__prom_init(&p);
  assert_int_equal(cw__prom_family(&p, "m", CW_PROM_GAUGE,
                                   "back\\slash \"quoted\"\nsecond line"),
                   0);
  cw__prom_label_t l[2] = {{"a", "x\"y\\z\nw"}, {"b", "}{,="}};
  assert_int_equal(cw__prom_sample(&p, "m", l, 2, -1), 0);
  assert_string_equal(cw__prom_text(&p),
                      "# HELP m back\\\\slash \"quoted\"\\nsecond line\n"
                      "# TYPE m gauge\n"
                      "m{a=\"x\\\"y\\\\z\\nw\",b=\"}{,=\"} -1\n");
  cw__prom_free(&p);
}

static void test_prom_refuses_malformed_documents(void **state) {
  (void)state;
  static const char *bad_names[] = {"", "1abc", "a-b", "a b", "é", NULL};
  for (int i = 0; bad_names[i]; i++) {
    cw__prom_t p;
    cw__prom_init(&p);
    assert_int_equal(cw__prom_family(&p, bad_names[i], CW_PROM_GAUGE, "h"),
                     CW_EINVAL);
    assert_null(cw__prom_text(&p));
    cw__prom_free(&p);
  }
  cw__prom_t p;
  /* A sample before any family, or of another family. */
  cw__prom_init(&p);
  assert_int_equal(cw__prom_sample(&p, "m", NULL, 0, 1), CW_EINVAL);
  cw__prom_free(&p);
  cw__prom_init(&p);
  assert_int_equal(cw__prom_family(&p, "m", CW_PROM_GAUGE, "h"), 0);
  assert_int_equal(cw__prom_sample(&p, "n", NULL, 0, 1), CW_EINVAL);
  cw__prom_free(&p);
  /* The same family twice. */
  cw__prom_init(&p);
  assert_int_equal(cw__prom_metric(&p, "m", CW_PROM_GAUGE, "h", 1), 0);
  assert_int_equal(cw__prom_metric(&p, "m_b", CW_PROM_GAUGE, "h", 1), 0);
  assert_int_equal(cw__prom_family(&p, "m", CW_PROM_GAUGE, "h"), CW_EINVAL);
  assert_null(cw__prom_text(&p));
  cw__prom_free(&p);
  /* Label names: reserved prefix, bad characters, duplicates. */
  static const char *bad_labels[] = {"__x", "a:b", "9", "", NULL};
  for (int i = 0; bad_labels[i]; i++) {
    cw__prom_init(&p);
    assert_int_equal(cw__prom_family(&p, "m", CW_PROM_GAUGE, "h"), 0);
    cw__prom_label_t l = {bad_labels[i], "v"};
    assert_int_equal(cw__prom_sample(&p, "m", &l, 1, 1), CW_EINVAL);
    cw__prom_free(&p);
  }
  cw__prom_init(&p);
  assert_int_equal(cw__prom_family(&p, "m", CW_PROM_GAUGE, "h"), 0);
  cw__prom_label_t dup[2] = {{"a", "1"}, {"a", "2"}};
  assert_int_equal(cw__prom_sample(&p, "m", dup, 2, 1), CW_EINVAL);
  cw__prom_free(&p);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char buf[4096];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static int entries(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

static void test_prom_write_file_replaces_atomically(void **state) {
  (void)state;
  const char *root = getenv("CW_TEST_TMP");
  char dir[512];
  snprintf(dir, sizeof(dir), "%s/test_prom.XXXXXX", root ? root : "/tmp");
  assert_non_null(mkdtemp(dir));
  char path[600];
  snprintf(path, sizeof(path), "%s/crashwatch.prom", dir);
  mode_t old = umask(077);
  cw__prom_t p;
  cw__prom_init(&p);
  cw__prom_metric(&p, "m", CW_PROM_GAUGE, "h", 1);
  assert_int_equal(cw__prom_write_file(&p, path), 0);
  cw__prom_free(&p);
  assert_string_equal(slurp(path), "# HELP m h\n# TYPE m gauge\nm 1\n");
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  /* Readable by the collector's user whatever the umask. */
  assert_int_equal(st.st_mode & 0777, 0644);
  ino_t first = st.st_ino;
  /* A second write replaces the file (a new inode: rename, not rewrite). */
  cw__prom_init(&p);
  cw__prom_metric(&p, "m", CW_PROM_GAUGE, "h", 2);
  assert_int_equal(cw__prom_write_file(&p, path), 0);
  cw__prom_free(&p);
  assert_string_equal(slurp(path), "# HELP m h\n# TYPE m gauge\nm 2\n");
  assert_int_equal(lstat(path, &st), 0);
  assert_true(st.st_ino != first);
  assert_int_equal(entries(dir), 1); /* no temporary file left behind */
  /* An invalid document leaves the file as it was. */
  cw__prom_init(&p);
  cw__prom_family(&p, "bad name", CW_PROM_GAUGE, "h");
  assert_int_equal(cw__prom_write_file(&p, path), CW_EINVAL);
  cw__prom_free(&p);
  assert_string_equal(slurp(path), "# HELP m h\n# TYPE m gauge\nm 2\n");
  /* A directory that does not exist: an error, nothing created. */
  char missing[700];
  snprintf(missing, sizeof(missing), "%s/nope/x.prom", dir);
  cw__prom_init(&p);
  cw__prom_metric(&p, "m", CW_PROM_GAUGE, "h", 3);
  assert_int_equal(cw__prom_write_file(&p, missing), CW_EIO);
  cw__prom_free(&p);
  umask(old);
  assert_int_equal(entries(dir), 1);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prom_families_and_values),
      cmocka_unit_test(test_prom_escapes_label_values_and_help),
      cmocka_unit_test(test_prom_refuses_malformed_documents),
      cmocka_unit_test(test_prom_write_file_replaces_atomically),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
