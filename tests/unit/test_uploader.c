/* test_uploader.c — envelope and multipart encoding, report loading and the
 * JSON check, backoff, gzip, spool locks and quarantine (uploader/). */
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
#include <zlib.h>

#include "buf.h"
#include "crashwatch.h"
#include "envelope.h"
#include "multipart.h"
#include "report.h"
#include "spool.h"
#include "transport.h"
#include "upload_lock.h"
#include "upload_spawn.h"
#include "upload.h"

#define ID "0123456789abcdef0123456789abcdef"

static report_t sample(void) {
  static uint8_t dump[] = {'M', 'D', 'M', 'P', 0, '\n', 0xff};
  static uint8_t log[] = "a\nb";
  static report_file_t files[2] = {
      {"minidump.dmp", dump, sizeof(dump), 1},
      {"app.log", log, 3, 0},
  };
  report_t r;
  memset(&r, 0, sizeof(r));
  strcpy(r.event_id, ID);
  r.event_json = "{\"a\":1}";
  r.event_len = 7;
  r.files = files;
  r.nfiles = 2;
  return r;
}

static void test_envelope_exact_bytes(void **state) {
  (void)state;
  report_t r = sample();
  cw__buf_t out = CW_BUF_INIT;
  /* 2023-11-14T22:13:20.123Z */
  assert_int_equal(
      cw__envelope_encode(&r, "http://k@h/1", 1700000000123LL, &out), 0);
  static const char head[] =
      "{\"event_id\":\"" ID "\",\"dsn\":\"http://k@h/1\",\"sdk\":{\"name\":"
      "\"crashwatch\",\"version\":\"" CW_VERSION_STRING "\"},\"sent_at\":"
      "\"2023-11-14T22:13:20.123Z\"}\n"
      "{\"type\":\"event\",\"length\":7}\n{\"a\":1}\n"
      "{\"type\":\"attachment\",\"length\":7,\"filename\":\"minidump.dmp\","
      "\"attachment_type\":\"event.minidump\",\"content_type\":"
      "\"application/x-dmp\"}\n";
  size_t hl = sizeof(head) - 1;
  assert_true(out.len > hl);
  assert_memory_equal(out.data, head, hl);
  static const uint8_t dump_and_next[] = {'M', 'D',  'M',  'P',
                                          0,   '\n', 0xff, '\n'};
  assert_memory_equal(out.data + hl, dump_and_next, sizeof(dump_and_next));
  static const char tail[] =
      "{\"type\":\"attachment\",\"length\":3,\"filename\":\"app.log\","
      "\"attachment_type\":\"event.attachment\",\"content_type\":"
      "\"text/plain\"}\na\nb\n";
  assert_int_equal(out.len, hl + sizeof(dump_and_next) + sizeof(tail) - 1);
  assert_memory_equal(out.data + hl + sizeof(dump_and_next), tail,
                      sizeof(tail) - 1);
  cw__buf_free(&out);
  /* Without a DSN and files: header and one event item. */
  r.nfiles = 0;
  assert_int_equal(cw__envelope_encode(&r, NULL, 0, &out), 0);
  assert_string_equal(
      cw__buf_cstr(&out),
      "{\"event_id\":\"" ID "\",\"sdk\":{\"name\":\"crashwatch\",\"version\":"
      "\"" CW_VERSION_STRING "\"},\"sent_at\":\"1970-01-01T00:00:00.000Z\"}\n"
      "{\"type\":\"event\",\"length\":7}\n{\"a\":1}\n");
  cw__buf_free(&out);
}

static void test_multipart_exact_bytes(void **state) {
  (void)state;
  report_t r = sample();
  upload_field_t fields[] = {{"prod", "my\"app"}, {"ver", "1.0"}};
  cw__buf_t out = CW_BUF_INIT;
  assert_int_equal(cw__multipart_encode(&r, fields, 2, "BND", &out), 0);
  static const char part1[] =
      "--BND\r\nContent-Disposition: form-data; name=\"prod\"\r\n\r\n"
      "my\"app\r\n"
      "--BND\r\nContent-Disposition: form-data; name=\"ver\"\r\n\r\n1.0\r\n"
      "--BND\r\nContent-Disposition: form-data; name=\"sentry\"\r\n"
      "Content-Type: application/json\r\n\r\n{\"a\":1}\r\n"
      "--BND\r\nContent-Disposition: form-data; "
      "name=\"upload_file_minidump\"; filename=\"minidump.dmp\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n";
  size_t l1 = sizeof(part1) - 1;
  assert_memory_equal(out.data, part1, l1);
  static const uint8_t dump[] = {'M', 'D', 'M', 'P', 0, '\n', 0xff};
  assert_memory_equal(out.data + l1, dump, sizeof(dump));
  static const char part2[] =
      "\r\n--BND\r\nContent-Disposition: form-data; name=\"app.log\"; "
      "filename=\"app.log\"\r\nContent-Type: text/plain\r\n\r\n"
      "a\nb\r\n--BND--\r\n";
  assert_int_equal(out.len, l1 + sizeof(dump) + sizeof(part2) - 1);
  assert_memory_equal(out.data + l1 + sizeof(dump), part2, sizeof(part2) - 1);
  cw__buf_free(&out);
}

static void test_report_content_types(void **state) {
  (void)state;
  assert_string_equal(cw__report_content_type("app.log"), "text/plain");
  assert_string_equal(cw__report_content_type("A.TXT"), "text/plain");
  assert_string_equal(cw__report_content_type("event-2.json"),
                      "application/json");
  assert_string_equal(cw__report_content_type("minidump.dmp"),
                      "application/x-dmp");
  assert_string_equal(cw__report_content_type("core"),
                      "application/octet-stream");
  assert_string_equal(cw__report_content_type("x.log.gz"),
                      "application/octet-stream");
}

/* The event's release and tags as plain multipart fields, after the given
 * ones; names that are taken or reserved are left out. */
static void test_report_fields_release_and_tags(void **state) {
  (void)state;
  static const char ev[] =
      "{\"event_id\":\"x\",\"exception\":{\"values\":[{\"a\":\"}\"}]},"
      "\"release\":\"app@1.0\",\"extra\":{\"tags\":{\"no\":\"no\"}},"
      "\"tags\":{\"tenant\":\"ac\\u006de\",\"prod\":\"other\","
      "\"sentry[x]\":\"y\",\"upload_file_a\":\"b\",\"release\":\"r2\","
      "\"n\":1,\"region\":\"eu \\\"1\\\"\",\"tenant\":\"dup\"},"
      "\"level\":\"fatal\"}";
  report_t r = {.event_json = (char *)ev, .event_len = sizeof(ev) - 1};
  upload_field_t given[] = {{"prod", "myapp"}};
  report_fields_t f;
  cw__report_fields(&r, given, 1, &f);
  assert_int_equal(f.n, 4);
  assert_string_equal(f.v[0].name, "prod");
  assert_string_equal(f.v[0].value, "myapp");
  assert_string_equal(f.v[1].name, "release");
  assert_string_equal(f.v[1].value, "app@1.0");
  assert_string_equal(f.v[2].name, "tenant");
  assert_string_equal(f.v[2].value, "acme");
  assert_string_equal(f.v[3].name, "region");
  assert_string_equal(f.v[3].value, "eu \"1\"");
  cw__report_fields_free(&f);
  /* Malformed: the given fields alone (and what came before the fault). */
  static const char bad[] = "{\"release\":\"r\",\"tags\":{\"a\":";
  r.event_json = (char *)bad;
  r.event_len = sizeof(bad) - 1;
  cw__report_fields(&r, given, 1, &f);
  assert_int_equal(f.n, 2);
  cw__report_fields_free(&f);
  r.event_json = NULL;
  r.event_len = 0;
  cw__report_fields(&r, NULL, 0, &f);
  assert_int_equal(f.n, 0);
  cw__report_fields_free(&f);
}

static void test_multipart_boundary_avoids_data(void **state) {
  (void)state;
  report_t r = sample();
  char b[96];
  cw__multipart_boundary(&r, b, sizeof(b));
  assert_int_equal(strlen(b),
                   strlen("------------------------crashwatch") + 24);
  assert_null(memmem(r.event_json, r.event_len, b, strlen(b)));
}

static void test_backoff_doubles_caps_and_jitters(void **state) {
  (void)state;
  assert_int_equal(cw__upload_backoff_ms(1, 1000, 60000, 0.0), 500);
  assert_int_equal(cw__upload_backoff_ms(1, 1000, 60000, 0.999999), 999);
  assert_int_equal(cw__upload_backoff_ms(2, 1000, 60000, 0.0), 1000);
  assert_int_equal(cw__upload_backoff_ms(3, 1000, 60000, 0.0), 2000);
  assert_int_equal(cw__upload_backoff_ms(7, 1000, 60000, 0.0), 30000);
  assert_int_equal(cw__upload_backoff_ms(8, 1000, 60000, 0.0), 30000);
  assert_int_equal(cw__upload_backoff_ms(1000000, 1000, 60000, 0.5), 45000);
  assert_int_equal(cw__upload_backoff_ms(0, 1000, 60000, 0.0), 500);
  assert_int_equal(cw__upload_backoff_ms(5, 0, 60000, 0.7), 0);
  for (int a = 1; a < 80; a++) {
    int64_t d = cw__upload_backoff_ms(a, 5000, 3600000, 0.3);
    assert_true(d >= 2500 && d <= 3600000);
  }
}

static void test_gzip_roundtrip(void **state) {
  (void)state;
  char in[10000];
  for (size_t i = 0; i < sizeof(in); i++)
    in[i] = (char)("abcabcabd"[i % 9]);
  cw__buf_t gz = CW_BUF_INIT;
  assert_int_equal(cw__gzip_compress(in, sizeof(in), &gz), 0);
  assert_true(gz.len < sizeof(in) / 10);
  assert_int_equal(gz.data[0], 0x1f); /* gzip magic */
  assert_int_equal(gz.data[1], 0x8b);
  z_stream z;
  memset(&z, 0, sizeof(z));
  assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
  char out[12000];
  z.next_in = gz.data;
  z.avail_in = (uInt)gz.len;
  z.next_out = (Bytef *)out;
  z.avail_out = sizeof(out);
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  assert_int_equal(z.total_out, sizeof(in));
  assert_memory_equal(out, in, sizeof(in));
  inflateEnd(&z);
  cw__buf_free(&gz);
}

static char spool_dir[512];

static int setup_spool(void **state) {
  (void)state;
  const char *tmp = getenv("CW_TEST_TMP");
  snprintf(spool_dir, sizeof(spool_dir), "%s/test_uploader-%d",
           tmp ? tmp : "/tmp", (int)getpid());
  char err[256];
  return cw__spool_ensure_dir(spool_dir, err, sizeof(err));
}

static int teardown_spool(void **state) {
  (void)state;
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void write_report(const char *id, const char *event) {
  spool_report_t *r;
  assert_int_equal(cw__spool_report_begin(spool_dir, id, &r), 0);
  if (event != NULL)
    assert_int_equal(
        cw__spool_report_write_file(r, "event.json", event, strlen(event)), 0);
  assert_int_equal(cw__spool_report_write_file(r, "minidump.dmp", "MDMP", 4),
                   0);
  assert_int_equal(cw__spool_report_write_file(r, "b.txt", "b", 1), 0);
  assert_int_equal(cw__spool_report_commit(r, NULL, 0), 0);
}

static void test_report_load_and_lock(void **state) {
  (void)state;
  write_report(ID, "{\"event_id\":\"" ID "\"}");
  report_t r;
  char err[256];
  assert_int_equal(cw__report_load(spool_dir, ID, &r, err, sizeof(err)), 0);
  assert_int_equal(r.nfiles, 2);
  assert_string_equal(r.files[0].name, "minidump.dmp"); /* minidump first */
  assert_true(r.files[0].is_minidump);
  assert_string_equal(r.files[1].name, "b.txt");
  cw__report_free(&r);

  /* A second lock on the same report is refused, even in-process (flock
   * belongs to the open file description). */
  int fd1, fd2;
  assert_int_equal(cw__spool_lock(spool_dir, ID, &fd1), 0);
  assert_int_equal(cw__spool_lock(spool_dir, ID, &fd2), CW_EBUSY);
  cw__spool_unlock(fd1);
  assert_int_equal(cw__spool_lock(spool_dir, ID, &fd2), 0);
  /* Quarantine while holding the lock; the report is then gone. */
  assert_int_equal(cw__spool_quarantine(spool_dir, ID, "because"), 0);
  cw__spool_unlock(fd2);
  assert_int_equal(cw__spool_lock(spool_dir, ID, &fd1), CW_ENOENT);
  char p[700];
  snprintf(p, sizeof(p), "%s/failed/" ID ".reason", spool_dir);
  FILE *f = fopen(p, "r");
  assert_non_null(f);
  char line[64] = "";
  assert_non_null(fgets(line, sizeof(line), f));
  fclose(f);
  assert_string_equal(line, "because\n");
  /* The same id failing again gets a suffix instead of clobbering. */
  write_report(ID, "{}");
  assert_int_equal(cw__spool_quarantine(spool_dir, ID, "again"), 0);
  snprintf(p, sizeof(p), "%s/failed/" ID ".1/event.json", spool_dir);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
}

static void test_report_load_rejects_corrupt(void **state) {
  (void)state;
  const char *id = "ffffffffffffffffffffffffffffffff";
  write_report(id, NULL);
  report_t r;
  char err[256];
  assert_int_equal(cw__report_load(spool_dir, id, &r, err, sizeof(err)),
                   CW_EFORMAT);
  assert_string_equal(err, "missing event.json");
  cw__report_free(&r);
  assert_int_equal(cw__spool_remove_report(spool_dir, id), 0);
  write_report(id, "{\"a\":}");
  assert_int_equal(cw__report_load(spool_dir, id, &r, err, sizeof(err)),
                   CW_EFORMAT);
  assert_string_equal(err, "event.json: invalid JSON at offset 5: unexpected "
                           "character");
  cw__report_free(&r);
  assert_int_equal(cw__spool_remove_report(spool_dir, id), 0);
  write_report(id, " [1]");
  assert_int_equal(cw__report_load(spool_dir, id, &r, err, sizeof(err)),
                   CW_EFORMAT);
  assert_string_equal(err, "event.json: invalid JSON at offset 1: not a JSON "
                           "object");
  cw__report_free(&r);
  assert_int_equal(cw__spool_remove_report(spool_dir, id), 0);
  assert_int_equal(cw__report_load(spool_dir, id, &r, err, sizeof(err)),
                   CW_ENOENT);
  cw__report_free(&r);
}

static void test_remove_is_atomic_and_trash_is_emptied(void **state) {
  (void)state;
  write_report(ID, "{}");
  assert_int_equal(cw__spool_remove_report(spool_dir, ID), 0);
  char p[700];
  struct stat st;
  snprintf(p, sizeof(p), "%s/" ID, spool_dir);
  assert_int_not_equal(stat(p, &st), 0);
  snprintf(p, sizeof(p), "%s/" SPOOL_TRASH_PREFIX ID, spool_dir);
  assert_int_not_equal(stat(p, &st), 0);
  /* A deletion a crash interrupted: the next pass finishes it. */
  assert_int_equal(mkdir(p, 0700), 0);
  char f[800];
  snprintf(f, sizeof(f), "%s/minidump.dmp", p);
  FILE *fp = fopen(f, "w");
  assert_non_null(fp);
  fclose(fp);
  cw__spool_empty_trash(spool_dir);
  assert_int_not_equal(stat(p, &st), 0);
  /* Removing what is already gone is not an error. */
  assert_int_equal(cw__spool_remove_report(spool_dir, ID), 0);
}

static void test_retry_state_roundtrip(void **state) {
  (void)state;
  spool_retry_t st = {3, 1234567890123LL, "HTTP 500\nsecond line"}, back;
  assert_int_equal(cw__spool_retry_save(spool_dir, ID, &st), 0);
  assert_int_equal(cw__spool_retry_load(spool_dir, ID, &back), 0);
  assert_int_equal(back.attempts, 3);
  assert_int_equal(back.next_ms, 1234567890123LL);
  assert_string_equal(back.last_error, "HTTP 500 second line");
  cw__spool_retry_remove(spool_dir, ID);
  assert_int_equal(cw__spool_retry_load(spool_dir, ID, &back), 0);
  assert_int_equal(back.attempts, 0);
}

static void test_config_fields_and_check(void **state) {
  (void)state;
  cw__upload_config_t cfg;
  cw__upload_config_init(&cfg);
  char err[256];
  assert_int_equal(
      cw__upload_config_add_field(&cfg, "prod=a=b", err, sizeof(err)), 0);
  assert_string_equal(cfg.fields[0].name, "prod");
  assert_string_equal(cfg.fields[0].value, "a=b");
  assert_int_equal(cw__upload_config_add_field(&cfg, "=x", err, sizeof(err)),
                   CW_EINVAL);
  assert_int_equal(
      cw__upload_config_add_field(&cfg, "sentry=x", err, sizeof(err)),
      CW_EINVAL);
  assert_non_null(strstr(err, "reserved"));
  cfg.spool_dir = spool_dir;
  cfg.dsn = "https://key@sentry.example.com/12";
  assert_int_equal(cw__upload_config_check(&cfg, err, sizeof(err)), 0);
  cfg.dsn = "https://sentry.example.com/12";
  assert_int_equal(cw__upload_config_check(&cfg, err, sizeof(err)), CW_EDSN);
  cfg.format = CW_UPLOAD_MINIDUMP;
  cfg.dsn = NULL;
  cfg.url = "http//x";
  assert_int_equal(cw__upload_config_check(&cfg, err, sizeof(err)), CW_EURL);
}

/* Issue 9.6: one precedence rule for a DSN and an URL. */
static void test_config_target_precedence(void **state) {
  (void)state;
  cw__upload_config_t cfg;
  cw__upload_config_init(&cfg);
  char err[256];
  const char *dsn = "https://key@sentry.example.com/12";
  const char *url = "https://relay.example/x";
  assert_int_equal(
      cw__upload_config_target(&cfg, dsn, NULL, NULL, err, sizeof(err)), 0);
  assert_int_equal(cfg.format, CW_UPLOAD_ENVELOPE);
  assert_ptr_equal(cfg.url, NULL);
  assert_int_equal(
      cw__upload_config_target(&cfg, NULL, url, NULL, err, sizeof(err)), 0);
  assert_int_equal(cfg.format, CW_UPLOAD_MINIDUMP);
  assert_ptr_equal(cfg.dsn, NULL);
  /* Both: envelopes with the DSN's key to the URL (what failed with "no
   * target" before). */
  assert_int_equal(
      cw__upload_config_target(&cfg, dsn, url, "", err, sizeof(err)), 0);
  assert_int_equal(cfg.format, CW_UPLOAD_ENVELOPE);
  assert_string_equal(cfg.dsn, dsn);
  assert_string_equal(cfg.url, url);
  cfg.spool_dir = spool_dir;
  assert_int_equal(cw__upload_config_check(&cfg, err, sizeof(err)), 0);
  assert_int_equal(
      cw__upload_config_target(&cfg, dsn, url, "minidump", err, sizeof(err)),
      0);
  assert_int_equal(cfg.format, CW_UPLOAD_MINIDUMP);
  assert_int_equal(cw__upload_config_check(&cfg, err, sizeof(err)), 0);
  /* Empty strings are absent; an unknown format is refused. */
  assert_int_equal(
      cw__upload_config_target(&cfg, "", url, NULL, err, sizeof(err)), 0);
  assert_int_equal(cfg.format, CW_UPLOAD_MINIDUMP);
  assert_int_equal(
      cw__upload_config_target(&cfg, dsn, NULL, "zip", err, sizeof(err)),
      CW_EINVAL);
  assert_non_null(strstr(err, "zip"));
}

/* Issue 8.8: the spool's uploader lock and kick marker. */
static void test_uploader_lock_and_kick(void **state) {
  (void)state;
  pid_t holder = -1;
  int fd = cw__upload_lock_try(spool_dir, 0, &holder);
  assert_true(fd >= 0);
  assert_int_equal(holder, 0);
  /* A second open file description, even in this process, is refused and
   * told who holds it. */
  assert_int_equal(cw__upload_lock_try(spool_dir, 0, &holder), CW_EBUSY);
  assert_int_equal(holder, getpid());
  assert_int_equal(cw__upload_kick_present(spool_dir), 0);
  assert_int_equal(cw__upload_kick(spool_dir), 0);
  assert_int_equal(cw__upload_kick_present(spool_dir), 1);
  assert_int_equal(cw__upload_kick_take(spool_dir), 1);
  assert_int_equal(cw__upload_kick_take(spool_dir), 0);
  /* A starter that finds the lock taken starts nothing and leaves a kick. */
  assert_int_equal(cw__upload_lock_for_spawn(spool_dir), CW_EBUSY);
  assert_int_equal(cw__upload_kick_present(spool_dir), 1);
  cw__upload_config_t cfg;
  cw__upload_config_init(&cfg);
  cfg.spool_dir = spool_dir;
  cfg.dsn = "http://key@127.0.0.1:9/1";
  cfg.verbosity = CW_UPLOAD_QUIET;
  cw__upload_stats_t st;
  assert_int_equal(cw__upload_run_exclusive(&cfg, -1, &st), 0);
  assert_int_equal(st.handed_off, 1);
  assert_int_equal(st.holder, getpid());
  assert_int_equal(cw__upload_exit_code(&st), CW_UPLOAD_EXIT_PENDING);
  /* Released and relocked on the same descriptor. */
  cw__upload_lock_release(fd);
  int fd2 = cw__upload_lock_try(spool_dir, 0, NULL);
  assert_true(fd2 >= 0);
  assert_int_equal(cw__upload_lock_relock(fd), CW_EBUSY);
  close(fd2);
  assert_int_equal(cw__upload_lock_relock(fd), 0);
  close(fd);
  /* Free again: an exclusive run takes it, consumes the kick, passes (an
   * empty spool) and lets go. */
  assert_int_equal(cw__upload_run_exclusive(&cfg, -1, &st), 0);
  assert_int_equal(st.handed_off, 0);
  assert_int_equal(cw__upload_kick_present(spool_dir), 0);
  fd = cw__upload_lock_try(spool_dir, 0, NULL);
  assert_true(fd >= 0);
  close(fd);
}

static void test_exit_codes(void **state) {
  (void)state;
  cw__upload_stats_t st;
  memset(&st, 0, sizeof(st));
  assert_int_equal(cw__upload_exit_code(&st), CW_UPLOAD_EXIT_OK);
  st.failed = 1;
  assert_int_equal(cw__upload_exit_code(&st), CW_UPLOAD_EXIT_FAILED);
  st.pending = 1;
  assert_int_equal(cw__upload_exit_code(&st), CW_UPLOAD_EXIT_PENDING);
  memset(&st, 0, sizeof(st));
  st.io_errors = 1;
  assert_int_equal(cw__upload_exit_code(&st), CW_UPLOAD_EXIT_SPOOL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_envelope_exact_bytes),
      cmocka_unit_test(test_multipart_exact_bytes),
      cmocka_unit_test(test_report_content_types),
      cmocka_unit_test(test_report_fields_release_and_tags),
      cmocka_unit_test(test_multipart_boundary_avoids_data),
      cmocka_unit_test(test_backoff_doubles_caps_and_jitters),
      cmocka_unit_test(test_gzip_roundtrip),
      cmocka_unit_test_setup_teardown(test_report_load_and_lock, setup_spool,
                                      teardown_spool),
      cmocka_unit_test_setup_teardown(test_report_load_rejects_corrupt,
                                      setup_spool, teardown_spool),
      cmocka_unit_test_setup_teardown(
          test_remove_is_atomic_and_trash_is_emptied, setup_spool,
          teardown_spool),
      cmocka_unit_test_setup_teardown(test_retry_state_roundtrip, setup_spool,
                                      teardown_spool),
      cmocka_unit_test_setup_teardown(test_config_fields_and_check, setup_spool,
                                      teardown_spool),
      cmocka_unit_test_setup_teardown(test_config_target_precedence,
                                      setup_spool, teardown_spool),
      cmocka_unit_test_setup_teardown(test_uploader_lock_and_kick, setup_spool,
                                      teardown_spool),
      cmocka_unit_test(test_exit_codes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
