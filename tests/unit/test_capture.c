/*
 * test_capture.c — capture, unwinding and reporting of real crashing child
 * processes (tests/progs/watchdog_target.c), through the watchdog's capture
 * library: ptrace seizing, registers from the crash record, stacks, module
 * build-ids (checked against readelf), the /proc/PID/mem fallback, libunwind
 * over the captured data, and the committed report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "crashwatch.h"
#include "debug_id.h"
#include "minidump_format.h"
#include "spool.h"
#include "symbolizer.h"
#include "wd_capture.h"
#include "wd_elf.h"
#include "workers.h"

#define NWORKERS 3

typedef struct {
  pid_t pid;
  int rec_fd, ack_fd;
  int releases, status;
  int traced_at_release; /* threads in a tracing stop when released */
  cw__crash_record_t rec;
} child_t;

/* How many of pid's threads are in a tracing stop ('t' in their stat). */
static int count_traced(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  if (d == NULL)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char sp[384], buf[512];
    snprintf(sp, sizeof(sp), "%s/%s/stat", path, e->d_name);
    FILE *f = fopen(sp, "r");
    if (f == NULL)
      continue;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *rp = strrchr(buf, ')'); /* the name may hold anything */
    n += rp != NULL && rp[1] == ' ' && rp[2] == 't';
  }
  closedir(d);
  return n;
}

static void spawn_args(const char *prog, int nthreads, const char *extra,
                       child_t *c) {
  memset(c, 0, sizeof(*c));
  int recp[2], ackp[2];
  assert_int_equal(pipe2(recp, O_CLOEXEC), 0);
  assert_int_equal(pipe2(ackp, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    fcntl(recp[1], F_SETFD, 0);
    fcntl(ackp[0], F_SETFD, 0);
    char a[16], b[16], n[16];
    snprintf(a, sizeof(a), "%d", recp[1]);
    snprintf(b, sizeof(b), "%d", ackp[0]);
    snprintf(n, sizeof(n), "%d", nthreads);
    execl(prog, prog, a, b, n, extra, (char *)NULL);
    _exit(127);
  }
  close(recp[1]);
  close(ackp[0]);
  c->pid = pid;
  c->rec_fd = recp[0];
  c->ack_fd = ackp[1];
  /* The child's handler sends its record once it has faulted. */
  size_t got = 0;
  while (got < sizeof(c->rec)) {
    ssize_t r = read(c->rec_fd, (char *)&c->rec + got, sizeof(c->rec) - got);
    if (r < 0 && errno == EINTR)
      continue;
    assert_true(r > 0);
    got += (size_t)r;
  }
  assert_int_equal(c->rec.magic, CW_CRASH_RECORD_MAGIC);
  assert_int_equal(c->rec.pid, pid);
}

static void spawn(const char *prog, int nthreads, child_t *c) {
  spawn_args(prog, nthreads, NULL, c);
}

static void release_child(void *ctx, int status) {
  child_t *c = ctx;
  c->traced_at_release = count_traced(c->pid);
  c->releases++;
  c->status = status;
  assert_int_equal(write(c->ack_fd, "k", 1), 1);
}

/* Releases (if not yet) and reaps the child; returns its wait status. */
static int finish_child(child_t *c) {
  if (c->releases == 0)
    release_child(c, 0);
  int st;
  assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
  close(c->rec_fd);
  close(c->ack_fd);
  return st;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n;
}

static void make_spool(char *out, size_t cap) {
  const char *tmp = getenv("CW_TEST_TMP");
  snprintf(out, cap, "%s/capture-XXXXXX", tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(out));
}

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)n + 1);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* The build-id readelf prints for path, as hex. */
static void readelf_build_id(const char *path, char *out, size_t cap) {
  char cmd[PATH_MAX + 64];
  snprintf(cmd, sizeof(cmd), "readelf -n '%s'", path);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  char line[512];
  out[0] = '\0';
  while (fgets(line, sizeof(line), p) != NULL) {
    char *s = strstr(line, "Build ID: ");
    if (s != NULL) {
      snprintf(out, cap, "%s", s + strlen("Build ID: "));
      out[strcspn(out, "\n ")] = '\0';
    }
  }
  pclose(p);
  assert_true(out[0] != '\0');
}

static const wd_module_t *find_module(const wd_capture_t *cap,
                                      const char *path) {
  char real[PATH_MAX];
  assert_non_null(realpath(path, real));
  for (size_t i = 0; i < cap->nmodules; i++)
    if (strcmp(cap->modules[i].path, real) == 0)
      return &cap->modules[i];
  return NULL;
}

/* Captures a crashed child (already spawned), releases it, finishes and
 * unwinds. */
static void capture_spawned(child_t *c, const wd_capture_opts_t *o,
                            wd_capture_t *cap) {
  assert_int_equal(cw__wd_capture_process(&c->rec, o, cap), 0);
  int st = finish_child(c);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGSEGV);
  cw__wd_capture_finish(cap);
  cw__wd_unwind_all(cap);
}

/* Captures a crashed child, releases it, finishes and unwinds. */
static void capture_child(const char *prog, int force_procmem, child_t *c,
                          wd_capture_t *cap) {
  spawn(prog, NWORKERS, c);
  wd_capture_opts_t o;
  cw__wd_capture_opts_default(&o);
  o.force_procmem = force_procmem;
  assert_int_equal(cw__wd_capture_process(&c->rec, &o, cap), 0);
  int st = finish_child(c);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGSEGV);
  cw__wd_capture_finish(cap);
  cw__wd_unwind_all(cap);
}

static void check_threads_modules_stacks(const char *prog, wd_capture_t *cap,
                                         const child_t *c) {
  assert_int_equal(cap->nthreads, NWORKERS + 1);
  assert_int_equal(cap->threads[cap->crashed_index].tid, c->rec.tid);
  int named = 0;
  for (size_t i = 0; i < cap->nthreads; i++) {
    const wd_thread_t *th = &cap->threads[i];
    assert_true(th->regs_ok);
    named += strncmp(th->name, "wd-worker-", 10) == 0;
    /* Every stack was copied, from below SP (red zone) upwards. */
    assert_true(th->stack_region >= 0);
    const wd_region_t *r = &cap->regions[th->stack_region];
    uint64_t sp = cw__wd_regs_sp(&th->regs);
    assert_true(r->len > 0);
    assert_true(r->start <= sp && sp < r->start + r->len);
    assert_true(sp - r->start <= WD_RED_ZONE);
  }
  assert_int_equal(named, NWORKERS);
  /* The crashing thread's registers are the fault's, not the handler's. */
  assert_int_equal(cw__wd_regs_pc(&cap->threads[cap->crashed_index].regs),
                   c->rec.context.gregs[16] /* REG_RIP */);
  assert_int_equal(cap->fault_addr, 0);

  const wd_module_t *m = find_module(cap, prog);
  assert_non_null(m);
  char want[256], got[2 * 64 + 1];
  readelf_build_id(prog, want, sizeof(want));
  assert_true(m->build_id_len > 0);
  cw__hex_encode(m->build_id, m->build_id_len, got);
  assert_string_equal(got, want);
  /* And libc, with some build-id. */
  int libc = 0;
  for (size_t i = 0; i < cap->nmodules; i++)
    libc |= strstr(cap->modules[i].path, "libc.so") != NULL &&
            cap->modules[i].build_id_len == 20;
  assert_true(libc);
  /* The vDSO has no file: its build-id is read from memory. */
  int vdso = 0;
  for (size_t i = 0; i < cap->nmodules; i++)
    vdso |= strcmp(cap->modules[i].path, "linux-vdso.so.1") == 0 &&
            cap->modules[i].fd < 0 && cap->modules[i].build_id_len > 0;
  assert_true(vdso);
  assert_true(cap->pause_ns > 0);
  /* /proc/PID/maps goes into the minidump as read: text lines (a reader
   * such as lldb finds the modules there), never the parser's cut copy. */
  int have_maps = 0;
  for (size_t i = 0; i < cap->nblobs; i++) {
    const wd_blob_t *b = &cap->blobs[i];
    if (b->stream_type != MD_LINUX_MAPS)
      continue;
    have_maps = 1;
    assert_true(b->len > 0);
    assert_null(memchr(b->data, '\0', b->len));
    assert_int_equal(b->data[b->len - 1], '\n');
    assert_non_null(memmem(b->data, b->len, "[stack]\n", 8));
  }
  assert_true(have_maps);
  /* The crashing instruction's bytes are in the capture. */
  assert_non_null(cw__wd_capture_memory(
      cap, cw__wd_regs_pc(&cap->threads[cap->crashed_index].regs), 16));
}

/* Asserts that names appear in this thread's symbolized frames in order
 * (innermost first), and returns the index of the first. */
static size_t expect_frames(const wd_capture_t *cap, const wd_thread_t *th,
                            const char *const *names, size_t n) {
  size_t want = 0, first = SIZE_MAX;
  for (size_t k = 0; k < th->nframes && want < n; k++) {
    uint64_t ip = th->frames[k].ip - (k > 0);
    const char *fn = cw__wd_symbolize(cap, ip, NULL, NULL);
    if (fn != NULL && strcmp(fn, names[want]) == 0) {
      if (want == 0)
        first = k;
      want++;
    }
  }
  if (want != n) {
    fprintf(stderr, "thread %d: found %zu of %zu expected frames:\n",
            (int)th->tid, want, n);
    for (size_t k = 0; k < th->nframes; k++) {
      const char *fn =
          cw__wd_symbolize(cap, th->frames[k].ip - (k > 0), NULL, NULL);
      fprintf(stderr, "  #%zu %#llx %s (trust %d)\n", k,
              (unsigned long long)th->frames[k].ip, fn ? fn : "??",
              th->frames[k].trust);
    }
  }
  assert_int_equal(want, n);
  return first;
}

static void check_unwind(const wd_capture_t *cap) {
  static const char *const crash[] = {"wd_crash_leaf", "wd_crash_middle",
                                      "wd_crash_outer", "main"};
  static const char *const work[] = {"wd_worker_leaf", "wd_worker_middle",
                                     "wd_worker_outer"};
  const wd_thread_t *crashed = &cap->threads[cap->crashed_index];
  assert_int_equal(expect_frames(cap, crashed, crash, 4), 0);
  for (size_t i = 0; i < cap->nthreads; i++)
    if (i != cap->crashed_index)
      expect_frames(cap, &cap->threads[i], work, 3);
  /* Every thread was unwound to its outermost frame (_start, clone3). */
  for (size_t i = 0; i < cap->nthreads; i++)
    assert_true(cap->threads[i].unwind_complete);
}

static void test_trim_stacks_keeps_every_frame(void **state) {
  (void)state;
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET, 0, &c, &cap);
  size_t before[NWORKERS + 1];
  for (size_t i = 0; i < cap.nthreads; i++)
    before[i] = cap.regions[cap.threads[i].stack_region].len;
  cw__wd_trim_stacks(&cap, 512);
  size_t total_before = 0, total_after = 0;
  for (size_t i = 0; i < cap.nthreads; i++) {
    const wd_thread_t *th = &cap.threads[i];
    const wd_region_t *r = &cap.regions[th->stack_region];
    uint64_t top = th->frames[th->nframes - 1].sp;
    assert_true(r->start + r->len >= top + 512);
    assert_true(r->start + r->len <= top + 512 + 16);
    assert_true(r->len <= before[i]);
    total_before += before[i];
    total_after += r->len;
  }
  assert_true(total_after < total_before);
  /* Unwinding the trimmed capture gives the same frames. */
  size_t n0 = cap.threads[cap.crashed_index].nframes;
  cw__wd_unwind_all(&cap);
  assert_int_equal(cap.threads[cap.crashed_index].nframes, n0);
  check_unwind(&cap);
  cw__wd_capture_free(&cap);
}

static void test_capture_child_threads_modules_stacks(void **state) {
  (void)state;
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET, 0, &c, &cap);
  check_threads_modules_stacks(WD_TARGET, &cap, &c);
  cw__wd_capture_free(&cap);
}

static void test_capture_procmem_fallback_same_result(void **state) {
  (void)state;
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET, 1, &c, &cap);
  check_threads_modules_stacks(WD_TARGET, &cap, &c);
  check_unwind(&cap);
  cw__wd_capture_free(&cap);
}

/* Threads appear and vanish while the capture seizes them: the capture
 * still finds the crashing thread and every worker, and stops all of them
 * (a thread still being created is caught by the re-listing). */
static void test_capture_with_thread_churn(void **state) {
  (void)state;
  for (int round = 0; round < 3; round++) {
    child_t c;
    spawn_args(WD_TARGET, NWORKERS, "churn", &c);
    wd_capture_t cap;
    assert_int_equal(cw__wd_capture_process(&c.rec, NULL, &cap), 0);
    int st = finish_child(&c);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSEGV);
    assert_true(cap.nthreads >= NWORKERS + 2);
    assert_int_equal(cap.threads[cap.crashed_index].tid, c.rec.tid);
    int workers = 0;
    for (size_t i = 0; i < cap.nthreads; i++)
      workers += strncmp(cap.threads[i].name, "wd-worker-", 10) == 0 &&
                 cap.threads[i].regs_ok;
    assert_int_equal(workers, NWORKERS);
    cw__wd_capture_finish(&cap);
    cw__wd_unwind_all(&cap);
    static const char *const crash[] = {"wd_crash_leaf", "wd_crash_middle"};
    assert_int_equal(
        expect_frames(&cap, &cap.threads[cap.crashed_index], crash, 2), 0);
    cw__wd_capture_free(&cap);
  }
}

/* With kept workers (the watchdog's, once warmed up) the names are read on
 * one of them while the capture stops the threads: every worker thread is
 * still named, with threads coming and going too (a name the worker missed
 * is read by the capture itself). Runs last: the workers stay. */
/* Waits up to a second for pid's threads to leave their tracing stops (a
 * detached thread is woken, then runs); returns how many are still in one. */
static int wait_untraced(pid_t pid) {
  int traced = count_traced(pid);
  for (int i = 0; i < 200 && traced > 0; i++) {
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
    traced = count_traced(pid);
  }
  return traced;
}

/* WD_DETACH_HELD (the crash path in durable-first mode): every thread stays
 * in its tracing stop after the capture returns, until
 * cw__wd_capture_detach lets them all go. */
static void test_capture_holds_threads_until_detach(void **state) {
  (void)state;
  child_t c;
  spawn(WD_TARGET, NWORKERS, &c);
  wd_capture_opts_t o;
  cw__wd_capture_opts_default(&o);
  o.detach = WD_DETACH_HELD;
  wd_capture_t cap;
  assert_int_equal(cw__wd_capture_process(&c.rec, &o, &cap), 0);
  assert_int_equal(cap.nthreads, NWORKERS + 1);
  assert_true(cap.pause_ns > 0);
  assert_int_equal(count_traced(c.pid), NWORKERS + 1);
  cw__wd_capture_detach(&cap);
  assert_null(cap.held);
  assert_int_equal(wait_untraced(c.pid), 0);
  cw__wd_capture_detach(&cap); /* a second time: nothing */
  int st = finish_child(&c);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGSEGV);
  cw__wd_capture_free(&cap);
}

/* By default the capture lets the threads go itself. */
static void test_capture_detaches_without_hold(void **state) {
  (void)state;
  child_t c;
  spawn(WD_TARGET, NWORKERS, &c);
  wd_capture_t cap;
  assert_int_equal(cw__wd_capture_process(&c.rec, NULL, &cap), 0);
  assert_null(cap.held);
  assert_int_equal(wait_untraced(c.pid), 0);
  int st = finish_child(&c);
  assert_true(WIFSIGNALED(st));
  cw__wd_capture_free(&cap);
}

static void test_capture_names_on_workers(void **state) {
  (void)state;
  assert_true(cw__workers_start(2) >= 1);
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET, 0, &c, &cap);
  check_threads_modules_stacks(WD_TARGET, &cap, &c);
  cw__wd_capture_free(&cap);
  test_capture_with_thread_churn(state);
}

static void copy_file(const char *from, const char *to, mode_t mode) {
  size_t len;
  uint8_t *data = slurp(from, &len);
  assert_non_null(data);
  FILE *f = fopen(to, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
  free(data);
  assert_int_equal(chmod(to, mode), 0);
}

/* Captures a crash of prog and unwinds it; returns whether prog's own
 * module was named from the module cache. */
static int capture_uses_cache(const char *prog) {
  child_t c;
  spawn(prog, NWORKERS, &c);
  assert_true(cw__wd_module_cache_warm(c.pid) >= 2); /* prog and libc */
  wd_capture_t cap;
  capture_spawned(&c, NULL, &cap);
  check_unwind(&cap); /* named exactly as without the cache */
  const wd_module_t *exe = find_module(&cap, prog);
  assert_non_null(exe);
  int cached = exe->elf_cached;
  size_t others = 0;
  for (size_t i = 0; i < cap.nmodules; i++)
    others += &cap.modules[i] != exe && cap.modules[i].elf_cached;
  assert_true(others >= 1); /* libc at least */
  cw__wd_capture_free(&cap);
  return cached;
}

/* The module cache (what a warmed-up watchdog fills from its app): the
 * crash names its frames from the cached, already sorted tables, exactly
 * as without them; a file changed since it was cached (here its
 * modification time) is opened anew. Runs last: the cache stays. */
static void test_capture_module_cache(void **state) {
  (void)state;
  char dir[PATH_MAX];
  make_spool(dir, sizeof(dir));
  char prog[PATH_MAX + 32];
  snprintf(prog, sizeof(prog), "%s/wd-target", dir);
  copy_file(WD_TARGET, prog, 0755);
  assert_int_equal(capture_uses_cache(prog), 1);
  struct timespec times[2] = {{0, UTIME_OMIT}, {1234567890, 0}};
  assert_int_equal(utimensat(AT_FDCWD, prog, times, 0), 0);
  /* Not warmed again: the cached entry no longer matches the file. */
  child_t c;
  spawn(prog, NWORKERS, &c);
  wd_capture_t cap;
  capture_spawned(&c, NULL, &cap);
  check_unwind(&cap);
  const wd_module_t *exe = find_module(&cap, prog);
  assert_non_null(exe);
  assert_int_equal(exe->elf_cached, 0);
  cw__wd_capture_free(&cap);
  unlink(prog);
  rmdir(dir);
}

/* A thread caught inside the vDSO (it has no file) is unwound through the
 * vDSO image copied out of the process, and the vDSO's functions are
 * named. Whether frame 0 is in the vDSO this time is chance; the frames
 * must come out right either way. */
/* Whether name is one of the function symbols of the vDSO image (its
 * .dynsym, or the .symtab of a debug file found by build-id: whatever
 * the ELF layer loads for it). */
static int vdso_has_function(const uint8_t *image, size_t size,
                             const char *name) {
  cw__elf_t *e = cw__elf_open_memory(image, size);
  assert_non_null(e);
  (void)cw__elf_symbol(e, 0); /* loads the whole table */
  int found = 0;
  for (size_t i = 0; i < e->nsyms && !found; i++)
    found = strcmp(e->syms[i].name, name) == 0;
  cw__elf_close(e);
  return found;
}

/* What holds on every kernel: a frame in the vDSO always has a name, one of
 * the vDSO's own functions or "linux-vdso.so.1+0x<offset>" (kernel 6.18 on
 * AMD puts the spinning thread in an unexported helper of clock_gettime
 * before the first exported symbol, where no symbol names it); the event
 * carries that name; the frames outside the vDSO are right and the unwind
 * is complete. Whether frame 0 is in the vDSO this time is chance. */
static void test_unwind_through_vdso(void **state) {
  (void)state;
  int in_vdso = 0;
  for (int round = 0; round < 8; round++) {
    child_t c;
    spawn_args(WD_TARGET, 1, "vdso", &c);
    wd_capture_t cap;
    capture_spawned(&c, NULL, &cap);
    const wd_module_t *vdso = NULL;
    for (size_t i = 0; i < cap.nmodules; i++)
      if (strcmp(cap.modules[i].path, "linux-vdso.so.1") == 0)
        vdso = &cap.modules[i];
    assert_non_null(vdso);
    assert_non_null(vdso->image);
    assert_non_null(vdso->elf);
    assert_true(cw__wd_module_is_vdso(vdso));
    assert_true(vdso->elf->eh_frame_hdr_vaddr != 0);
    const wd_thread_t *spin = NULL;
    for (size_t i = 0; i < cap.nthreads; i++)
      if (strcmp(cap.threads[i].name, "wd-spinner") == 0)
        spin = &cap.threads[i];
    assert_non_null(spin);
    assert_true(spin->nframes > 0);
    for (size_t k = 0; k < spin->nframes; k++) {
      uint64_t addr = spin->frames[k].ip - (k > 0);
      if (cw__wd_capture_module_at(&cap, addr) != vdso)
        continue;
      in_vdso += k == 0;
      char buf[WD_FRAME_NAME_BUF], form[64];
      const char *fn =
          cw__wd_symbolize_frame(&cap, addr, NULL, NULL, buf, sizeof(buf));
      snprintf(form, sizeof(form), "linux-vdso.so.1+0x%llx",
               (unsigned long long)(addr - vdso->base));
      if (fn == NULL || (strcmp(fn, form) != 0 &&
                         !vdso_has_function(vdso->image, vdso->image_size, fn)))
        fail_msg("vDSO frame #%zu at +0x%llx named %s", k,
                 (unsigned long long)(addr - vdso->base),
                 fn ? fn : "(nothing)");
      /* The report says the same. */
      cw__buf_t ev = CW_BUF_INIT;
      assert_int_equal(cw__wd_event_json(&cap,
                                         "0123456789abcdef0123456789abcdef",
                                         NULL, NULL, &ev),
                       0);
      char want[160];
      snprintf(want, sizeof(want), "\"function\":\"%s\"", fn);
      assert_non_null(strstr(cw__buf_cstr(&ev), want));
      cw__buf_free(&ev);
    }
    static const char *const names[] = {"wd_spin_leaf", "wd_spin_outer"};
    expect_frames(&cap, spin, names, 2);
    assert_true(spin->unwind_complete);
    cw__wd_capture_free(&cap);
  }
  fprintf(stderr, "vdso: frame 0 in the vDSO in %d of 8 rounds\n", in_vdso);
}

/* A copy of this process's own vDSO image, and its .text and symbols. */
typedef struct {
  uint8_t *image;
  size_t size;
  uint64_t text_lo, text_hi;
  Elf64_Sym *syms; /* .dynsym inside image */
  size_t nsyms;
} vdso_copy_t;

static void vdso_copy(vdso_copy_t *v) {
  memset(v, 0, sizeof(*v));
  const uint8_t *base = (const uint8_t *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
  if (base == NULL)
    skip();
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(const void *)base;
  /* The image ends with its section headers. */
  v->size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
  v->image = malloc(v->size);
  assert_non_null(v->image);
  memcpy(v->image, base, v->size);
  const Elf64_Shdr *sh =
      (const Elf64_Shdr *)(const void *)(v->image + eh->e_shoff);
  const char *shstr = (const char *)v->image + sh[eh->e_shstrndx].sh_offset;
  for (size_t i = 0; i < eh->e_shnum; i++) {
    if (strcmp(shstr + sh[i].sh_name, ".text") == 0) {
      v->text_lo = sh[i].sh_addr;
      v->text_hi = sh[i].sh_addr + sh[i].sh_size;
    } else if (sh[i].sh_type == SHT_DYNSYM) {
      v->syms = (Elf64_Sym *)(void *)(v->image + sh[i].sh_offset);
      v->nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
    }
  }
  assert_true(v->text_hi > v->text_lo);
  assert_non_null(v->syms);
}

/* The lowest and the highest-ending function symbol of the copy. */
static void vdso_extremes(const vdso_copy_t *v, size_t *first, size_t *last) {
  *first = *last = SIZE_MAX;
  for (size_t i = 0; i < v->nsyms; i++) {
    if (ELF64_ST_TYPE(v->syms[i].st_info) != STT_FUNC)
      continue;
    if (*first == SIZE_MAX || v->syms[i].st_value < v->syms[*first].st_value)
      *first = i;
    if (*last == SIZE_MAX ||
        v->syms[i].st_value + v->syms[i].st_size >
            v->syms[*last].st_value + v->syms[*last].st_size)
      *last = i;
  }
  assert_true(*first != SIZE_MAX);
}

/* A capture holding only the vDSO copy, loaded at base. */
static void vdso_capture(wd_capture_t *cap, wd_module_t *m, vdso_copy_t *v,
                         uint64_t base) {
  memset(m, 0, sizeof(*m));
  m->base = base;
  m->size = (v->size + 0xfff) & ~(size_t)0xfff;
  m->fd = -1;
  m->path = (char *)"linux-vdso.so.1";
  m->image = v->image;
  m->image_size = v->size;
  assert_non_null(cw__wd_module_elf(m));
  memset(cap, 0, sizeof(*cap));
  cap->modules = m;
  cap->nmodules = 1;
}

/* The fallback rule on a vDSO image with gaps, made from this machine's
 * own vDSO so it runs on every kernel: the first function symbol is moved
 * up 16 bytes (a gap before any symbol, as the 6.18 kernel has) and the
 * last one shortened by 16 (a gap after a sized symbol, like the code
 * past __vdso_getrandom). The gap before is named
 * "linux-vdso.so.1+0x<offset>", the gap after by the preceding function,
 * covered addresses keep their symbol, and an address outside .text gets
 * no function name from the rule. */
static void test_vdso_fallback_names_gaps(void **state) {
  (void)state;
  vdso_copy_t v;
  vdso_copy(&v);
  size_t first, last;
  vdso_extremes(&v, &first, &last);
  uint64_t first_addr = v.syms[first].st_value;
  uint64_t last_end = v.syms[last].st_value + v.syms[last].st_size;
  char first_name[64], last_name[64];
  const char *dynstr = NULL;
  {
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(const void *)v.image;
    const Elf64_Shdr *sh =
        (const Elf64_Shdr *)(const void *)(v.image + eh->e_shoff);
    for (size_t i = 0; i < eh->e_shnum; i++)
      if (sh[i].sh_type == SHT_DYNSYM)
        dynstr = (const char *)v.image + sh[sh[i].sh_link].sh_offset;
  }
  assert_non_null(dynstr);
  if (v.syms[first].st_size <= 32 || v.syms[last].st_size <= 32)
    skip(); /* a vDSO of tiny functions: no room to cut gaps */
  /* Every alias at those addresses moves with it. */
  for (size_t i = 0; i < v.nsyms; i++) {
    if (ELF64_ST_TYPE(v.syms[i].st_info) != STT_FUNC)
      continue;
    if (v.syms[i].st_value == first_addr && v.syms[i].st_size > 32) {
      v.syms[i].st_value += 16;
      v.syms[i].st_size -= 16;
    }
    if (v.syms[i].st_value + v.syms[i].st_size == last_end &&
        v.syms[i].st_size > 32)
      v.syms[i].st_size -= 16;
  }
  wd_module_t m;
  wd_capture_t cap;
  uint64_t base = 0x7ffd12340000ull;
  vdso_capture(&cap, &m, &v, base);
  /* The names the rule gives, checked against what cw__elf_symbol says. */
  const cw__elf_sym_t *s = cw__elf_symbol(m.elf, first_addr + 16);
  assert_non_null(s);
  snprintf(first_name, sizeof(first_name), "%s", s->name);
  s = cw__elf_symbol(m.elf, last_end - 17);
  assert_non_null(s);
  snprintf(last_name, sizeof(last_name), "%s", s->name);
  assert_null(cw__elf_symbol(m.elf, last_end - 8));

  char buf[WD_FRAME_NAME_BUF], want[64];
  /* Before the first symbol (.text may start lower still: then that part
   * of .text is such a gap too). */
  uint64_t gap = first_addr + 4;
  const char *fn =
      cw__wd_symbolize_frame(&cap, base + gap, NULL, NULL, buf, sizeof(buf));
  if (v.text_lo <= first_addr) {
    snprintf(want, sizeof(want), "linux-vdso.so.1+0x%llx",
             (unsigned long long)gap);
    assert_non_null(fn);
    assert_string_equal(fn, want);
    assert_ptr_equal(fn, buf);
    assert_null(cw__wd_symbolize(&cap, base + gap, NULL, NULL));
  }
  /* Past the end of the last sized symbol, still in .text. */
  fn = cw__wd_symbolize_frame(&cap, base + last_end - 8, NULL, NULL, buf,
                              sizeof(buf));
  assert_non_null(fn);
  assert_string_equal(fn, last_name);
  assert_string_equal(cw__wd_symbolize(&cap, base + last_end - 8, NULL, NULL),
                      last_name);
  /* Covered addresses keep their symbol. */
  fn = cw__wd_symbolize_frame(&cap, base + first_addr + 20, NULL, NULL, buf,
                              sizeof(buf));
  assert_string_equal(fn, first_name);
  /* Outside every executable section (the ELF header): the module+offset
   * form, never a function's name. */
  fn = cw__wd_symbolize_frame(&cap, base + 0x10, NULL, NULL, buf, sizeof(buf));
  assert_string_equal(fn, "linux-vdso.so.1+0x10");
  assert_null(cw__elf_symbol_preceding(m.elf, 0x10));
  /* The batch naming path answers the same: a thread with these frames. */
  wd_module_t m2;
  wd_capture_t cap2;
  vdso_capture(&cap2, &m2, &v, base);
  wd_frame_t frames[3];
  memset(frames, 0, sizeof(frames));
  frames[0].ip = base + gap;
  frames[1].ip = base + last_end - 8 + 1; /* looked up at ip - 1 */
  frames[2].ip = base + first_addr + 20 + 1;
  wd_thread_t th;
  memset(&th, 0, sizeof(th));
  th.frames = frames;
  th.nframes = 3;
  cap2.threads = &th;
  cap2.nthreads = 1;
  for (size_t k = 0; k < 3; k++) {
    char b1[WD_FRAME_NAME_BUF], b2[WD_FRAME_NAME_BUF];
    uint64_t a = frames[k].ip - (k > 0);
    const char *x =
        cw__wd_symbolize_frame(&cap2, a, NULL, NULL, b1, sizeof(b1));
    const char *y = cw__wd_symbolize_frame(&cap, a, NULL, NULL, b2, sizeof(b2));
    assert_non_null(x);
    assert_non_null(y);
    assert_string_equal(x, y);
  }
  /* A file-backed module never takes the rule: the same image under
   * another name gives nothing where no symbol covers. */
  m2.path = (char *)"libnot-vdso.so";
  assert_null(cw__wd_symbolize_frame(&cap2, base + last_end - 8, NULL, NULL,
                                     buf, sizeof(buf)));
  cw__elf_close(m.elf);
  cw__elf_close(m2.elf);
  free(v.image);
}

/* This machine's real vDSO, unmodified: every address of its executable
 * sections gets a name through cw__wd_symbolize_frame(), and one a symbol
 * covers keeps that symbol's name. */
static void test_vdso_every_address_named(void **state) {
  (void)state;
  vdso_copy_t v;
  vdso_copy(&v);
  wd_module_t m;
  wd_capture_t cap;
  uint64_t base = 0x7ffd12340000ull;
  vdso_capture(&cap, &m, &v, base);
  size_t gaps = 0;
  for (uint64_t a = v.text_lo; a < v.text_hi; a++) {
    char buf[WD_FRAME_NAME_BUF];
    const char *fn =
        cw__wd_symbolize_frame(&cap, base + a, NULL, NULL, buf, sizeof(buf));
    assert_non_null(fn);
    const cw__elf_sym_t *s = cw__elf_symbol(m.elf, a);
    if (s != NULL && s->size > 0)
      assert_string_equal(fn, s->name);
    else
      gaps++;
  }
  fprintf(stderr,
          "vdso: .text %#llx-%#llx, %zu bytes no sized symbol "
          "covers\n",
          (unsigned long long)v.text_lo, (unsigned long long)v.text_hi, gaps);
  cw__elf_close(m.elf);
  free(v.image);
}

/* Issue 14: the watchdog and `crashwatch symbolize` name every address of
 * a vDSO image alike (one ELF layer, one alias rule): what the event says
 * (cw__wd_symbolize_frame) is what the symbolizer answers from the same image
 * as a minidump carries it (cw__symbolizer_open_image), and where the
 * symbolizer knows no name the event has the "linux-vdso.so.1+0x<offset>"
 * form: every address is named. Returns how many addresses the symbolizer
 * named. The vDSO's aliases (clock_gettime / __vdso_clock_gettime) are
 * where the two used to differ. */
static size_t check_vdso_names_agree(vdso_copy_t *v, const char *debug_dir,
                                     const char *gap_name) {
  wd_module_t m;
  wd_capture_t cap;
  uint64_t base = 0x7ffd12340000ull;
  vdso_capture(&cap, &m, v, base);
  /* Debug files by build-id: the watchdog looks in /usr/lib/debug, the
   * symbolizer there too by default; a test points both elsewhere. */
  cw__symbolizer_t *sy = cw__symbolizer_new(
      CW_SYM_NO_DEBUGINFOD | (debug_dir != NULL ? CW_SYM_NO_SYSTEM_DIRS : 0));
  assert_non_null(sy);
  if (debug_dir != NULL) {
    m.elf->debug_root = debug_dir;
    assert_int_equal(cw__symbolizer_add_debug_dir(sy, debug_dir), 0);
  }
  cw__sym_module_t *sm = NULL;
  int rc = cw__symbolizer_open_image(sy, "linux-vdso.so.1", v->image, v->size,
                                     NULL, 0, &sm);
  assert_true(rc == 0 || rc == CW_ENOSYMBOL);
  assert_non_null(sm);
  size_t named = 0;
  for (uint64_t a = v->text_lo; a < v->text_hi; a++) {
    char buf[WD_FRAME_NAME_BUF], form[64];
    const char *fn =
        cw__wd_symbolize_frame(&cap, base + a, NULL, NULL, buf, sizeof(buf));
    cw__sym_frame_t fr[4];
    int n = cw__sym_lookup(sm, cw__sym_module_vaddr(sm, a), 0, fr, 4);
    const char *want = n > 0 ? fr[n - 1].function : NULL;
    snprintf(form, sizeof(form), "linux-vdso.so.1+0x%llx",
             (unsigned long long)a);
    if (fn == NULL)
      fail_msg("vDSO +0x%llx: no name", (unsigned long long)a);
    if (want == NULL ? strcmp(fn, form) != 0 : strcmp(fn, want) != 0)
      fail_msg("vDSO +0x%llx: the watchdog names %s, the symbolizer %s",
               (unsigned long long)a, fn, want ? want : "(nothing)");
    named += want != NULL;
    if (gap_name != NULL && a == v->text_lo)
      assert_string_equal(fn, gap_name);
  }
  cw__symbolizer_free(sy);
  cw__elf_close(m.elf);
  return named;
}

static void test_vdso_names_agree_with_symbolizer(void **state) {
  (void)state;
  vdso_copy_t v;
  vdso_copy(&v);
  assert_true(check_vdso_names_agree(&v, NULL, NULL) > 0);
  free(v.image);
}

/* Issue 14 point 8: vDSOs other kernels may build, made from this
 * machine's own so that every kernel runs them. Functions without st_size
 * (hand-written assembly, or a linker script that drops sizes): each runs
 * to the next symbol of its section, in both. */
static void test_vdso_unsized_names_agree(void **state) {
  (void)state;
  vdso_copy_t v;
  vdso_copy(&v);
  for (size_t i = 0; i < v.nsyms; i++)
    v.syms[i].st_size = 0;
  assert_true(check_vdso_names_agree(&v, NULL, NULL) > 0);
  free(v.image);
}

/* A debug file for the vDSO by build-id (a kernel debug package may ship
 * one, with a .symtab naming the vDSO's internal helpers): both read its
 * .symtab and agree. Made with objcopy from this machine's vDSO, plus a
 * local function symbol at the start of .text (where 6.18 has an
 * unexported helper). */
static void test_vdso_debug_file_names_agree(void **state) {
  (void)state;
  vdso_copy_t v;
  vdso_copy(&v);
  cw__elf_t *e = cw__elf_open_memory(v.image, v.size);
  assert_non_null(e);
  if (e->build_id_len < 2) {
    cw__elf_close(e);
    free(v.image);
    skip(); /* a vDSO without a build-id has no debug file either */
  }
  char hex[129];
  cw__hex_encode(e->build_id, e->build_id_len, hex);
  cw__elf_close(e);
  char dir[] = "/tmp/cw-vdso-debug-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char img[64], sub[64], dbg[256], cmd[1024];
  snprintf(img, sizeof(img), "%s/vdso.so", dir);
  snprintf(sub, sizeof(sub), "%s/.build-id/%.2s", dir, hex);
  snprintf(dbg, sizeof(dbg), "%s/%s.debug", sub, hex + 2);
  FILE *f = fopen(img, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(v.image, 1, v.size, f), v.size);
  fclose(f);
  snprintf(cmd, sizeof(cmd),
           "mkdir -p %s/.build-id %s && objcopy --add-symbol "
           "cw_vdso_helper=.text:0,local,function %s %s 2>/dev/null",
           dir, sub, img, dbg);
  int rc = system(cmd);
  if (rc == 0) {
    /* Named by the helper where no exported function starts there. */
    size_t first, last;
    vdso_extremes(&v, &first, &last);
    const char *gap =
        v.syms[first].st_value > v.text_lo ? "cw_vdso_helper" : NULL;
    assert_true(check_vdso_names_agree(&v, dir, gap) > 0);
  }
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
  free(v.image);
  if (rc != 0)
    skip(); /* no objcopy here */
}

/* No section headers (a vDSO stripped of them): no symbol table can be
 * found, and every address still gets the module+offset name. */
static void test_vdso_without_sections_named(void **state) {
  (void)state;
  vdso_copy_t v;
  vdso_copy(&v);
  Elf64_Ehdr *eh = (Elf64_Ehdr *)(void *)v.image;
  eh->e_shoff = 0;
  eh->e_shnum = 0;
  eh->e_shstrndx = 0;
  assert_int_equal(check_vdso_names_agree(&v, NULL, NULL), 0);
  free(v.image);
}

static void test_memread_procmem_matches_process_vm_readv(void **state) {
  (void)state;
  child_t c;
  spawn(WD_TARGET, 1, &c);
  uint64_t sp = c.rec.context.gregs[15]; /* REG_RSP */
  uint8_t a[512], b[512];
  memset(a, 0xaa, sizeof(a));
  memset(b, 0xbb, sizeof(b));
  assert_int_equal(cw__wd_mem_read(c.pid, sp, a, sizeof(a), 0), sizeof(a));
  assert_int_equal(cw__wd_mem_read(c.pid, sp, b, sizeof(b), 1), sizeof(b));
  assert_memory_equal(a, b, sizeof(a));
  /* Unmapped memory: an error, not a crash, in both modes. */
  assert_true(cw__wd_mem_read(c.pid, 16, a, 8, 0) < 0);
  assert_true(cw__wd_mem_read(c.pid, 16, a, 8, 1) < 0);
  int st = finish_child(&c);
  assert_true(WIFSIGNALED(st));
}

static void test_unwind_named_frames_with_frame_pointers(void **state) {
  (void)state;
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET, 0, &c, &cap);
  check_unwind(&cap);
  cw__wd_capture_free(&cap);
}

static void test_unwind_named_frames_without_frame_pointers(void **state) {
  (void)state;
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET_NOFP, 0, &c, &cap);
  check_threads_modules_stacks(WD_TARGET_NOFP, &cap, &c);
  check_unwind(&cap);
  cw__wd_capture_free(&cap);
}

static const void *stream(const uint8_t *d, size_t n, uint32_t type,
                          uint32_t *size) {
  const md_header_t *h = (const md_header_t *)d;
  assert_true(h->stream_directory_rva + h->stream_count * 12ull <= n);
  for (uint32_t i = 0; i < h->stream_count; i++) {
    md_directory_t e;
    memcpy(&e, d + h->stream_directory_rva + i * 12, sizeof(e));
    if (e.stream_type == type) {
      assert_true((uint64_t)e.location.rva + e.location.data_size <= n);
      *size = e.location.data_size;
      return d + e.location.rva;
    }
  }
  return NULL;
}

/* Issue 9 item 15: 501 threads, the default 512 KiB total stack budget.
 * The crashing thread's stack comes first and whole; the threads the budget
 * left without a stack are exactly those the event names in
 * crashwatch.stacks_omitted (with the count and the budget), the dump gives
 * them an empty stack descriptor, and the stacks taken fit the budget. */
static void test_capture_many_threads_stack_budget(void **state) {
  (void)state;
  enum { WORKERS = 500 };
  child_t c;
  spawn(WD_TARGET, WORKERS, &c);
  wd_capture_opts_t o;
  cw__wd_capture_opts_default(&o);
  assert_int_equal(o.total_stack_cap, 512 * 1024);
  wd_capture_t cap;
  capture_spawned(&c, &o, &cap);
  assert_int_equal(cap.nthreads, WORKERS + 1);
  const wd_thread_t *crashed = &cap.threads[cap.crashed_index];
  assert_int_equal(crashed->tid, c.rec.tid);
  assert_true(crashed->stack_region >= 0);
  assert_int_equal(crashed->stack_budget, WD_STACK_KEPT);
  static const char *const crash[] = {"wd_crash_leaf", "wd_crash_middle",
                                      "wd_crash_outer", "main"};
  expect_frames(&cap, crashed, crash, 4);
  size_t total = 0, omitted = 0, shortened = 0;
  for (size_t i = 0; i < cap.nthreads; i++) {
    const wd_thread_t *th = &cap.threads[i];
    if (th->stack_region >= 0)
      total += cap.regions[th->stack_region].len;
    if (th->stack_budget == WD_STACK_OMITTED) {
      assert_true(th->stack_region < 0);
      omitted++;
    } else if (th->regs_ok) {
      assert_true(th->stack_region >= 0); /* no other thread lost its stack */
    }
    shortened += th->stack_budget == WD_STACK_SHORTENED;
  }
  assert_true(total <= o.total_stack_cap);
  assert_true(omitted > 0);
  assert_true(shortened <= 1);
  fprintf(stderr,
          "501 threads: %zu stacks left out, %zu shortened, %zu bytes\n",
          omitted, shortened, total);

  cw__buf_t ev = CW_BUF_INIT;
  assert_int_equal(cw__wd_event_json(&cap, "0123456789abcdef0123456789abcdef",
                                     NULL, NULL, &ev),
                   0);
  const char *e = cw__buf_cstr(&ev);
  char want[96];
  snprintf(want, sizeof(want), "\"crashwatch.stacks_omitted_count\":%zu",
           omitted);
  assert_non_null(strstr(e, want));
  assert_non_null(strstr(e, "\"crashwatch.stack_budget_bytes\":524288"));
  assert_non_null(strstr(e, "stack budget")); /* the capture note */
  const char *list = strstr(e, "\"crashwatch.stacks_omitted\":[");
  assert_non_null(list);
  list = strchr(list, '[') + 1;
  const char *end = strchr(list, ']');
  assert_non_null(end);
  size_t listed = 0;
  for (const char *p = list; p < end; p++) {
    char *q;
    long tid = strtol(p, &q, 10);
    assert_true(q > p);
    int found = 0;
    for (size_t i = 0; i < cap.nthreads; i++)
      if (cap.threads[i].tid == tid)
        found = cap.threads[i].stack_budget == WD_STACK_OMITTED;
    assert_true(found);
    assert_true(tid != crashed->tid);
    listed++;
    p = q;
  }
  assert_int_equal(listed, omitted);
  cw__buf_free(&ev);

  /* The dump: every listed thread's stack descriptor is empty. */
  cw__buf_t md = CW_BUF_INIT;
  assert_int_equal(cw__wd_minidump_build(&cap, &md), 0);
  uint32_t size;
  const uint8_t *tl = stream(md.data, md.len, MD_THREAD_LIST_STREAM, &size);
  assert_non_null(tl);
  uint32_t count;
  memcpy(&count, tl, 4);
  assert_int_equal(count, cap.nthreads);
  for (uint32_t i = 0; i < count; i++) {
    md_thread_t t;
    memcpy(&t, tl + 4 + i * sizeof(t), sizeof(t));
    assert_int_equal(t.thread_id, (uint32_t)cap.threads[i].tid);
    if (cap.threads[i].stack_budget == WD_STACK_OMITTED)
      assert_int_equal(t.stack.memory.data_size, 0);
    else if (cap.threads[i].regs_ok)
      assert_true(t.stack.memory.data_size > 0);
  }
  cw__buf_free(&md);
  cw__wd_capture_free(&cap);
}

static void test_unwind_frame_pointer_fallback_without_cfi(void **state) {
  (void)state;
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET_NOCFI, 0, &c, &cap);
  check_threads_modules_stacks(WD_TARGET_NOCFI, &cap, &c);
  static const char *const crash[] = {"wd_crash_leaf", "wd_crash_middle",
                                      "wd_crash_outer", "main"};
  static const char *const work[] = {"wd_worker_leaf", "wd_worker_middle",
                                     "wd_worker_outer"};
  assert_int_equal(
      expect_frames(&cap, &cap.threads[cap.crashed_index], crash, 4), 0);
  for (size_t i = 0; i < cap.nthreads; i++)
    if (i != cap.crashed_index)
      expect_frames(&cap, &cap.threads[i], work, 3);
  cw__wd_capture_free(&cap);
}

/* A call through a null function pointer: the PC is 0, outside every
 * module, and the caller is found from the return address at SP. */
static void test_unwind_call_through_null_pointer(void **state) {
  (void)state;
  child_t c;
  spawn_args(WD_TARGET, 1, "callnull", &c);
  assert_int_equal(c.rec.context.gregs[16], 0); /* REG_RIP */
  wd_capture_t cap;
  capture_spawned(&c, NULL, &cap);
  const wd_thread_t *th = &cap.threads[cap.crashed_index];
  assert_true(th->nframes > 4);
  assert_int_equal(th->frames[0].ip, 0);
  static const char *const crash[] = {"wd_callnull_leaf", "wd_crash_middle",
                                      "wd_crash_outer", "main"};
  assert_int_equal(expect_frames(&cap, th, crash, 4), 1);
  cw__wd_capture_free(&cap);
}

static int regions_contain(const wd_capture_t *cap, const char *needle) {
  for (size_t i = 0; i < cap->nregions; i++)
    if (memmem(cap->regions[i].data, cap->regions[i].len, needle,
               strlen(needle)) != NULL)
      return 1;
  return 0;
}

static const wd_blob_t *find_blob(const wd_capture_t *cap, uint32_t type) {
  for (size_t i = 0; i < cap->nblobs; i++)
    if (cap->blobs[i].stream_type == type)
      return &cap->blobs[i];
  return NULL;
}

/* The environment stays out of the capture (environ stream and the top of
 * the main thread's stack) unless the user opts in. */
static void test_capture_environ_only_on_opt_in(void **state) {
  (void)state;
  const char *marker = "s3cr3t-marker-4711";
  setenv("CW_WD_TEST_SECRET", marker, 1);
  for (int opt_in = 0; opt_in < 2; opt_in++) {
    child_t c;
    spawn(WD_TARGET, 1, &c);
    wd_capture_opts_t o;
    cw__wd_capture_opts_default(&o);
    o.include_environ = opt_in;
    o.crash_stack_cap = 1 << 20; /* the whole main stack, if allowed */
    wd_capture_t cap;
    capture_spawned(&c, &o, &cap);
    const wd_blob_t *env = find_blob(&cap, MD_LINUX_ENVIRON);
    if (opt_in) {
      assert_non_null(env);
      assert_non_null(memmem(env->data, env->len, marker, strlen(marker)));
    } else {
      assert_null(env);
      assert_false(regions_contain(&cap, marker));
    }
    cw__wd_capture_free(&cap);
  }
  unsetenv("CW_WD_TEST_SECRET");
}

/* The executable was deleted after it started: the module keeps its path
 * (without " (deleted)"), its build-id and its symbols, read through
 * /proc/PID/map_files. */
static void test_capture_deleted_executable(void **state) {
  (void)state;
  char copy[PATH_MAX];
  const char *tmp = getenv("CW_TEST_TMP");
  snprintf(copy, sizeof(copy), "%s/wd-deleted-XXXXXX", tmp ? tmp : "/tmp");
  int fd = mkstemp(copy);
  assert_true(fd >= 0);
  size_t len;
  uint8_t *exe = slurp(WD_TARGET, &len);
  assert_int_equal(write(fd, exe, len), (ssize_t)len);
  free(exe);
  fchmod(fd, 0755);
  close(fd);
  child_t c;
  spawn(copy, 1, &c);
  assert_int_equal(unlink(copy), 0);
  wd_capture_t cap;
  capture_spawned(&c, NULL, &cap);
  const wd_module_t *m = NULL;
  for (size_t i = 0; i < cap.nmodules; i++)
    if (strcmp(cap.modules[i].path, copy) == 0)
      m = &cap.modules[i];
  assert_non_null(m);
  char want[256], got[2 * 64 + 1];
  readelf_build_id(WD_TARGET, want, sizeof(want));
  cw__hex_encode(m->build_id, m->build_id_len, got);
  assert_string_equal(got, want);
  static const char *const crash[] = {"wd_crash_leaf", "wd_crash_middle",
                                      "wd_crash_outer", "main"};
  assert_int_equal(
      expect_frames(&cap, &cap.threads[cap.crashed_index], crash, 4), 0);
  cw__wd_capture_free(&cap);
}

/* A thread already traced by someone else (here: this test) cannot be
 * seized: it stays in the capture, the crashing thread's registers come
 * from the record and its stack is still read. */
static void test_capture_thread_already_traced(void **state) {
  (void)state;
  child_t c;
  spawn(WD_TARGET, NWORKERS, &c);
  assert_int_equal(ptrace(PTRACE_SEIZE, c.rec.tid, 0, 0), 0);
  wd_capture_t cap;
  assert_int_equal(cw__wd_capture_process(&c.rec, NULL, &cap), 0);
  /* Detaching needs a ptrace-stop. */
  assert_int_equal(ptrace(PTRACE_INTERRUPT, c.rec.tid, 0, 0), 0);
  int ws;
  assert_int_equal(waitpid(c.rec.tid, &ws, __WALL), c.rec.tid);
  assert_int_equal(ptrace(PTRACE_DETACH, c.rec.tid, 0, 0), 0);
  int st = finish_child(&c);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(cap.nthreads, NWORKERS + 1);
  const wd_thread_t *th = &cap.threads[cap.crashed_index];
  assert_int_equal(th->tid, c.rec.tid);
  assert_true(th->regs_ok);
  assert_int_equal(cw__wd_regs_pc(&th->regs), c.rec.context.gregs[16]);
  assert_true(th->stack_region >= 0);
  cw__wd_capture_finish(&cap);
  cw__wd_unwind_all(&cap);
  static const char *const crash[] = {"wd_crash_leaf", "wd_crash_middle",
                                      "wd_crash_outer", "main"};
  assert_int_equal(expect_frames(&cap, th, crash, 4), 0);
  cw__wd_capture_free(&cap);
}

/* Names addrs[0..n) through cw__wd_symbolize() as the frames of one thread
 * of a capture holding only path's module (one pass over the table for
 * them all, cw__wd_elf_name_frames), and checks every name, address and size
 * against the whole sorted table of a separately opened cw__elf_t. */
static size_t check_frame_names(const char *path, cw__elf_t *full,
                                const uint64_t *addrs, size_t n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  wd_module_t mod;
  memset(&mod, 0, sizeof(mod));
  mod.elf = cw__elf_open_fd(fd);
  assert_non_null(mod.elf);
  uint64_t lo = UINT64_MAX, hi = 0;
  for (size_t i = 0; i < mod.elf->nsegs; i++) {
    const cw__elf_seg_t *sg = &mod.elf->segs[i];
    if (sg->vaddr < lo)
      lo = sg->vaddr;
    if (sg->vaddr + sg->memsz > hi)
      hi = sg->vaddr + sg->memsz;
  }
  lo &= ~(uint64_t)0xfff;
  mod.base = 0x7f1200000000ull; /* load bias 0x7f1200000000 - lo */
  mod.size = hi - lo + 0x1000;
  mod.fd = fd;
  wd_frame_t frames[64];
  assert_true(n <= 64);
  memset(frames, 0, sizeof(frames));
  uint64_t bias = mod.base - lo;
  for (size_t k = 0; k < n; k++) /* return addresses: looked up at ip-1 */
    frames[k].ip = addrs[k] + bias + (k > 0);
  wd_thread_t th;
  memset(&th, 0, sizeof(th));
  th.frames = frames;
  th.nframes = n;
  wd_capture_t cap;
  memset(&cap, 0, sizeof(cap));
  cap.modules = &mod;
  cap.nmodules = 1;
  cap.threads = &th;
  cap.nthreads = 1;
  size_t named = 0;
  for (size_t k = 0; k < n; k++) {
    if (addrs[k] < lo || addrs[k] - lo >= mod.size)
      continue;
    const char *fn = cw__wd_symbolize(&cap, addrs[k] + bias, NULL, NULL);
    const cw__elf_sym_t *want = cw__elf_symbol(full, addrs[k]);
    const cw__elf_sym_t *got = cw__elf_symbol(mod.elf, addrs[k]);
    if (want == NULL) {
      assert_null(fn);
      assert_null(got);
      continue;
    }
    assert_non_null(fn);
    assert_non_null(got);
    if (strcmp(fn, want->name) != 0 || got->addr != want->addr ||
        got->size != want->size)
      fail_msg("%s %#llx: frames named %s (%#llx+%llu), the table %s "
               "(%#llx+%llu)",
               path, (unsigned long long)addrs[k], fn,
               (unsigned long long)got->addr, (unsigned long long)got->size,
               want->name, (unsigned long long)want->addr,
               (unsigned long long)want->size);
    named++;
  }
  /* All answered from the one pass: the table was never loaded. */
  assert_int_equal(mod.elf->syms_loaded, 0);
  cw__elf_close(mod.elf);
  close(fd);
  return named;
}

/* Frame addresses are named in one pass over the module's symbol table;
 * the names are the sorted table's, alias choice included: checked on
 * every symbol's edges and every 64th byte of libc (symbols from its
 * /usr/lib/debug file when installed, else .dynsym), this test and the
 * target (.symtab). */
static void test_frame_names_match_symbol_table(void **state) {
  (void)state;
  Dl_info info;
  assert_true(dladdr((void *)&printf, &info) != 0);
  const char *paths[] = {info.dli_fname, "/proc/self/exe", WD_TARGET};
  for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
    int fd = open(paths[p], O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    cw__elf_t *full = cw__elf_open_fd(fd);
    assert_non_null(full);
    assert_null(cw__elf_symbol(full, 0)); /* loads the whole table */
    assert_true(full->nsyms > 0);
    size_t cap = 4 * full->nsyms + 4096, n = 0;
    uint64_t *a = malloc(cap * sizeof(*a));
    assert_non_null(a);
    for (size_t i = 0; i < full->nsyms; i++) {
      const cw__elf_sym_t *sy = &full->syms[i];
      uint64_t edge[4] = {sy->addr - 1, sy->addr, sy->addr + sy->size - 1,
                          sy->addr + sy->size};
      for (int k = 0; k < 4 && n < cap; k++)
        a[n++] = edge[k];
    }
    for (size_t i = 0; i < full->nsegs; i++)
      for (uint64_t v = full->segs[i].vaddr;
           v < full->segs[i].vaddr + full->segs[i].memsz && n < cap; v += 64)
        a[n++] = v;
    /* Batches of up to 64 spread over the whole module, each in a fresh
     * capture; the duplicates are skipped there. */
    size_t batches = (n + 63) / 64, named = 0;
    for (size_t b = 0; b < batches; b++) {
      uint64_t chunk[64];
      size_t k = 0;
      for (size_t i = b; i < n && k < 64; i += batches)
        chunk[k++] = a[i];
      named += check_frame_names(paths[p], full, chunk, k);
    }
    assert_true(named > full->nsyms); /* most addresses have a name */
    free(a);
    cw__elf_close(full);
    close(fd);
  }
}

static void test_handle_crash_writes_one_report(void **state) {
  (void)state;
  char spool[PATH_MAX];
  make_spool(spool, sizeof(spool));
  char sumpath[PATH_MAX + 16];
  snprintf(sumpath, sizeof(sumpath), "%s.summary", spool);
  int sumfd = open(sumpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(sumfd >= 0);

  child_t c;
  spawn(WD_TARGET, NWORKERS, &c);
  int fds_before = count_fds();
  wd_config_t cfg = {.spool_dir = spool,
                     .print_summary = 1,
                     .summary_fd = sumfd,
                     .release = "app@1.2.3",
                     .environment = "test"};
  char report[PATH_MAX];
  assert_int_equal(cw__wd_handle_crash(&cfg, &c.rec, release_child, &c, report,
                                       sizeof(report)),
                   0);
  assert_int_equal(c.releases, 1);
  assert_int_equal(c.status, 0);
  /* The threads held through the commit were let go before the release:
   * a traced thread would hold up the app's death. */
  assert_int_equal(c.traced_at_release, 0);
  assert_int_equal(count_fds(), fds_before); /* no descriptor leaked */
  int st = finish_child(&c);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGSEGV);

  /* Exactly one committed report, private. */
  char **ids;
  size_t n;
  assert_int_equal(cw__spool_list(spool, &ids, &n), 0);
  assert_int_equal(n, 1);
  char want[PATH_MAX + 40];
  snprintf(want, sizeof(want), "%s/%s", spool, ids[0]);
  assert_string_equal(report, want);
  cw__spool_list_free(ids, n);
  struct stat sb;
  assert_int_equal(stat(report, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0700);

  char path[PATH_MAX + 40];
  snprintf(path, sizeof(path), "%s/minidump.dmp", report);
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  size_t len;
  uint8_t *md = slurp(path, &len);
  const md_header_t *h = (const md_header_t *)md;
  assert_int_equal(h->signature, MD_HEADER_SIGNATURE);
  assert_int_equal(h->version & 0xffff, MD_HEADER_VERSION);
  uint32_t size;
  const uint8_t *tl = stream(md, len, MD_THREAD_LIST_STREAM, &size);
  assert_non_null(tl);
  uint32_t count;
  memcpy(&count, tl, 4);
  assert_int_equal(count, NWORKERS + 1);
  const md_exception_stream_t *ex = stream(md, len, MD_EXCEPTION_STREAM, &size);
  assert_non_null(ex);
  assert_int_equal(ex->thread_id, c.rec.tid);
  assert_int_equal(ex->exception_record.exception_code, SIGSEGV);
  const md_context_amd64_t *ctx =
      (const md_context_amd64_t *)(md + ex->thread_context.rva);
  assert_int_equal(ctx->rip, c.rec.context.gregs[16]);
  assert_non_null(stream(md, len, MD_LINUX_MAPS, &size));
  assert_non_null(stream(md, len, MD_LINUX_PROC_STATUS, &size));
  assert_non_null(stream(md, len, MD_LINUX_CPU_INFO, &size));
  assert_non_null(stream(md, len, MD_LINUX_AUXV, &size));
  assert_non_null(stream(md, len, MD_LINUX_DSO_DEBUG, &size));
  assert_null(stream(md, len, MD_LINUX_ENVIRON, &size)); /* not opted in */
  free(md);

  snprintf(path, sizeof(path), "%s/event.json", report);
  char *ev = (char *)slurp(path, &len);
  assert_non_null(strstr(ev, "\"level\":\"fatal\""));
  assert_non_null(strstr(ev, "\"type\":\"SIGSEGV\""));
  assert_non_null(strstr(ev, "\"type\":\"signalhandler\""));
  assert_non_null(strstr(ev, "\"release\":\"app@1.2.3\""));
  assert_non_null(strstr(ev, "\"environment\":\"test\""));
  assert_non_null(strstr(ev, "\"code_name\":\"SEGV_MAPERR\""));
  assert_non_null(strstr(ev, "\"crashwatch.capture_pause_us\":"));
  assert_non_null(strstr(ev, "\"os\":{\"type\":\"os\",\"name\":\"Linux\""));
  if (access("/etc/os-release", R_OK) == 0)
    assert_non_null(strstr(ev, "\"distribution_name\":"));
  assert_non_null(strstr(ev, "\"debug_id\":"));
  /* Oldest first: main before wd_crash_outer before wd_crash_leaf. */
  char *pm = strstr(ev, "\"function\":\"main\"");
  char *po = strstr(ev, "\"function\":\"wd_crash_outer\"");
  char *pl = strstr(ev, "\"function\":\"wd_crash_leaf\"");
  assert_true(pm != NULL && po != NULL && pl != NULL);
  assert_true(pm < po && po < pl);
  char bid[256];
  readelf_build_id(WD_TARGET, bid, sizeof(bid));
  char needle[300];
  snprintf(needle, sizeof(needle), "\"code_id\":\"%s\"", bid);
  assert_non_null(strstr(ev, needle));
  free(ev);

  /* The summary names the crashing frames and the report. */
  char sum[8192];
  ssize_t sn = pread(sumfd, sum, sizeof(sum) - 1, 0);
  assert_true(sn > 0);
  sum[sn] = 0;
  assert_non_null(strstr(sum, "SIGSEGV"));
  assert_non_null(strstr(sum, "#0 0x"));
  assert_non_null(strstr(sum, "wd_crash_leaf ("));
  assert_non_null(strstr(sum, "[watchdog_target+0x"));
  assert_non_null(strstr(sum, report));
  assert_null(strstr(sum, "@GLIBC")); /* version suffixes are cut */
  close(sumfd);
  unlink(sumpath);
}

/* CRASHWATCH_FORCE_PROCMEM=1 sends every read through /proc/PID/mem; the
 * report still carries every thread's stack. */
static void test_handle_crash_forced_procmem_env(void **state) {
  (void)state;
  char spool[PATH_MAX];
  make_spool(spool, sizeof(spool));
  setenv("CRASHWATCH_FORCE_PROCMEM", "1", 1);
  child_t c;
  spawn(WD_TARGET, NWORKERS, &c);
  wd_config_t cfg = {.spool_dir = spool, .summary_fd = -1};
  char report[PATH_MAX];
  int rc = cw__wd_handle_crash(&cfg, &c.rec, release_child, &c, report,
                               sizeof(report));
  unsetenv("CRASHWATCH_FORCE_PROCMEM");
  assert_int_equal(rc, 0);
  int st = finish_child(&c);
  assert_true(WIFSIGNALED(st));
  char path[PATH_MAX + 40];
  snprintf(path, sizeof(path), "%s/minidump.dmp", report);
  size_t len;
  uint8_t *md = slurp(path, &len);
  uint32_t size;
  const uint8_t *tl = stream(md, len, MD_THREAD_LIST_STREAM, &size);
  assert_non_null(tl);
  uint32_t count;
  memcpy(&count, tl, 4);
  assert_int_equal(count, NWORKERS + 1);
  for (uint32_t i = 0; i < count; i++) {
    md_thread_t t;
    memcpy(&t, tl + 4 + i * sizeof(t), sizeof(t));
    assert_true(t.stack.memory.data_size > 0);
  }
  free(md);
}

static void test_handle_crash_of_vanished_process_still_releases(void **state) {
  (void)state;
  char spool[PATH_MAX];
  make_spool(spool, sizeof(spool));
  child_t c;
  spawn(WD_TARGET, 0, &c);
  cw__crash_record_t rec = c.rec;
  /* Let it die first: the watchdog then finds no process to seize. */
  int st = finish_child(&c);
  assert_true(WIFSIGNALED(st));
  c.releases = 0;
  c.ack_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  wd_config_t cfg = {.spool_dir = spool, .summary_fd = -1};
  char report[PATH_MAX];
  int rc = cw__wd_handle_crash(&cfg, &rec, release_child, &c, report,
                               sizeof(report));
  assert_int_equal(rc, CW_ECAPTURE);
  assert_int_equal(c.releases, 1);
  assert_int_equal(c.status, CW_ECAPTURE);
  close(c.ack_fd);
  /* A report from the record alone is still written. */
  char **ids;
  size_t n;
  assert_int_equal(cw__spool_list(spool, &ids, &n), 0);
  assert_int_equal(n, 1);
  cw__spool_list_free(ids, n);
}

/* ---- symbolization after the release ---- */

/* The line of WD_TARGET_SRC holding marker (1-based). */
static unsigned marker_line(const char *marker) {
  FILE *f = fopen(WD_TARGET_SRC, "r");
  assert_non_null(f);
  char line[1024];
  unsigned n = 0, found = 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    n++;
    if (strstr(line, marker) != NULL && found == 0)
      found = n;
  }
  fclose(f);
  assert_true(found > 0);
  return found;
}

/* A copy of the JSON object of the first frame after `from` whose
 * "function" is fn, or NULL. */
static char *frame_object(const char *from, const char *fn) {
  char needle[256];
  snprintf(needle, sizeof(needle), "\"function\":\"%s\"", fn);
  const char *hit = strstr(from, needle);
  if (hit == NULL)
    return NULL;
  const char *start = hit;
  while (start > from && *start != '{')
    start--;
  int depth = 0;
  const char *end = start;
  for (; *end; end++) {
    if (*end == '{')
      depth++;
    else if (*end == '}' && --depth == 0)
      break;
  }
  size_t len = (size_t)(end - start) + 1;
  char *obj = malloc(len + 1);
  assert_non_null(obj);
  memcpy(obj, start, len);
  obj[len] = 0;
  return obj;
}

static void expect_line(const char *obj, unsigned line) {
  char want[64];
  snprintf(want, sizeof(want), "\"lineno\":%u,", line);
  if (strstr(obj, want) == NULL)
    fprintf(stderr, "want %s in %s\n", want, obj);
  assert_non_null(strstr(obj, want));
  assert_non_null(strstr(obj, "\"filename\":\"watchdog_target.c\""));
  assert_non_null(strstr(obj, "\"abs_path\":\"/"));
  assert_non_null(strstr(obj, "\"colno\":"));
}

typedef struct {
  child_t child;
  const char *spool;
  char log[512];
} traced_t;

static void traced_append(traced_t *t, const char *what) {
  size_t n = strlen(t->log);
  snprintf(t->log + n, sizeof(t->log) - n, "%s;", what);
}

/* The ack reaches the child (release_child writes it) before anything
 * else, symbolization included. */
static void release_traced(void *ctx, int status) {
  traced_t *t = ctx;
  release_child(&t->child, status);
  traced_append(t, "ack");
}

/* Also notes, once symbolization is done, whether an uploader could take
 * the committed report ("busy": it is locked until event.json has been
 * replaced). */
static void trace_step(void *ctx, const char *step) {
  traced_t *t = ctx;
  traced_append(t, step);
  if (strcmp(step, "symbolize-done") != 0)
    return;
  char **ids;
  size_t n;
  assert_int_equal(cw__spool_list(t->spool, &ids, &n), 0);
  assert_int_equal(n, 1);
  int fd;
  int rc = cw__spool_lock(t->spool, ids[0], &fd);
  cw__spool_list_free(ids, n);
  if (rc == 0)
    cw__spool_unlock(fd);
  traced_append(t, rc == CW_EBUSY ? "busy" : rc == 0 ? "free" : "error");
}

/* wd_config_t.release_early for the next handle_traced(). */
static int traced_release_early;

/* Runs one crash of WD_TARGET (mode: NULL or a watchdog_target mode)
 * through cw__wd_handle_crash with the given budget (NULL: the default);
 * returns event.json and the summary (malloc'd) and the trace. */
static void handle_traced(const char *mode, const char *budget, traced_t *t,
                          char **event, char **summary) {
  char spool[PATH_MAX];
  make_spool(spool, sizeof(spool));
  char sumpath[PATH_MAX + 16];
  snprintf(sumpath, sizeof(sumpath), "%s.summary", spool);
  int sumfd = open(sumpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true(sumfd >= 0);
  memset(t, 0, sizeof(*t));
  t->spool = spool;
  spawn_args(WD_TARGET, NWORKERS, mode, &t->child);
  if (budget != NULL)
    setenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS", budget, 1);
  int fds_before = count_fds();
  wd_config_t cfg = {.spool_dir = spool,
                     .print_summary = 1,
                     .summary_fd = sumfd,
                     .release_early = traced_release_early,
                     .trace = trace_step,
                     .trace_ctx = t};
  char report[PATH_MAX];
  int rc = cw__wd_handle_crash(&cfg, &t->child.rec, release_traced, t, report,
                               sizeof(report));
  unsetenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS");
  assert_int_equal(rc, 0);
  assert_int_equal(count_fds(), fds_before); /* no descriptor leaked */
  int st = finish_child(&t->child);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGSEGV);
  /* One report, and no temporary file left in it. */
  char **ids;
  size_t n;
  assert_int_equal(cw__spool_list(spool, &ids, &n), 0);
  assert_int_equal(n, 1);
  cw__spool_list_free(ids, n);
  char path[PATH_MAX + 40];
  snprintf(path, sizeof(path), "%s/.event.json.tmp", report);
  assert_int_not_equal(access(path, F_OK), 0);
  /* Unlocked on return: an uploader can take it now. */
  int lfd;
  assert_int_equal(cw__spool_lock(spool, strrchr(report, '/') + 1, &lfd), 0);
  cw__spool_unlock(lfd);
  snprintf(path, sizeof(path), "%s/event.json", report);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  size_t len;
  *event = (char *)slurp(path, &len);
  *summary = malloc(16384);
  assert_non_null(*summary);
  ssize_t sn = pread(sumfd, *summary, 16383, 0);
  assert_true(sn > 0);
  (*summary)[sn] = 0;
  close(sumfd);
  unlink(sumpath);
}

/* A -g build: the crashing frame has the function, file, line and column
 * of the faulting statement, callers the lines of their calls; the
 * summary prints them; event.json was replaced after the commit. */
static void test_symbolize_crash_site_file_line(void **state) {
  (void)state;
  traced_t t;
  char *ev, *sum;
  /* A budget no loaded test machine exhausts (the default is 2 s). */
  handle_traced(NULL, "60000", &t, &ev, &sum);
  /* Durable before dead: the ack went out once the report was committed,
   * before the debug info was read; the report stayed locked against
   * uploaders until event.json was replaced. */
  assert_string_equal(t.log, "committed;ack;released;symbolize-start;"
                             "symbolize-done;busy;event-replaced;");
  char *leaf = frame_object(ev, "wd_crash_leaf");
  assert_non_null(leaf);
  expect_line(leaf, marker_line("WD-CRASH-SITE"));
  assert_null(strstr(leaf, "\"inlined\""));
  free(leaf);
  /* Workers are symbolized too (after the crashing thread). */
  char *wk = frame_object(ev, "wd_worker_middle");
  assert_non_null(wk);
  assert_non_null(strstr(wk, "\"lineno\":"));
  free(wk);
  assert_non_null(strstr(ev, "\"crashwatch.symbolize\":\"done\""));
  assert_non_null(strstr(ev, "\"crashwatch.symbolize_timed_out\":false"));
  assert_non_null(strstr(ev, "\"crashwatch.symbolize_us\":"));
  assert_non_null(strstr(ev, "\"crashwatch.symbolize_budget_ms\":60000"));
  char want[PATH_MAX + 64];
  snprintf(want, sizeof(want), "wd_crash_leaf (%s:%u:", WD_TARGET_SRC,
           marker_line("WD-CRASH-SITE"));
  char real[PATH_MAX];
  assert_non_null(realpath(WD_TARGET_SRC, real));
  snprintf(want, sizeof(want), "wd_crash_leaf (%s:%u:", real,
           marker_line("WD-CRASH-SITE"));
  if (strstr(sum, want) == NULL)
    fprintf(stderr, "want '%s' in summary:\n%s", want, sum);
  assert_non_null(strstr(sum, want));
  assert_non_null(strstr(sum, "  #0 0x"));
  free(ev);
  free(sum);
}

/* release_early: the ack goes out as soon as the process is copied out,
 * before the report is written. */
static void test_release_early_acks_before_commit(void **state) {
  (void)state;
  traced_t t;
  char *ev, *sum;
  traced_release_early = 1;
  handle_traced(NULL, "60000", &t, &ev, &sum);
  traced_release_early = 0;
  assert_string_equal(t.log, "ack;released;committed;symbolize-start;"
                             "symbolize-done;busy;event-replaced;");
  free(ev);
  free(sum);
}

/* The fault inside an inlined function: the inlined function is a frame
 * of its own at the same instruction address, right after (closer to the
 * crash than) the function it was inlined into. */
static void test_symbolize_inlined_frame(void **state) {
  (void)state;
  traced_t t;
  char *ev, *sum;
  handle_traced("inline", "60000", &t, &ev, &sum);
  char *host = frame_object(ev, "wd_inline_host");
  char *inl = frame_object(ev, "wd_inlined_store");
  assert_non_null(host);
  assert_non_null(inl);
  expect_line(host, marker_line("WD-INLINE-CALL"));
  expect_line(inl, marker_line("WD-INLINE-SITE"));
  assert_non_null(strstr(inl, "\"data\":{\"inlined\":true}"));
  assert_null(strstr(host, "\"inlined\""));
  /* Same instruction_addr. */
  const char *a = strstr(host, "\"instruction_addr\":\"");
  const char *b = strstr(inl, "\"instruction_addr\":\"");
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(strcspn(a + 20, "\""), strcspn(b + 20, "\""));
  assert_memory_equal(a, b, 20 + strcspn(a + 20, "\""));
  /* Oldest first: ... middle, host, inlined (the last frame of the
   * exception's stack). */
  const char *pm = strstr(ev, "\"function\":\"wd_crash_middle\"");
  const char *ph = strstr(ev, "\"function\":\"wd_inline_host\"");
  const char *pi = strstr(ev, "\"function\":\"wd_inlined_store\"");
  const char *pt = strstr(ev, "\"threads\":");
  assert_true(pm < ph && ph < pi && pi < pt);
  assert_null(strstr(pi + 1, "\"function\":\"wd_crash_leaf\""));
  /* The summary: innermost first, the inlined one marked, same #0. */
  const char *si = strstr(sum, "  #0 0x");
  assert_non_null(si);
  assert_non_null(strstr(si, "wd_inlined_store ("));
  const char *sh = strstr(sum, "wd_inline_host (");
  assert_non_null(sh);
  const char *si2 = strstr(sum, "wd_inlined_store (");
  assert_true(si2 < sh);
  assert_true(strstr(si2, "(inlined)") < sh);
  free(host);
  free(inl);
  free(ev);
  free(sum);
}

/* Budget 0 turns symbolization off: the committed report keeps the
 * symbol-table names and says so; nothing is read or replaced. A 1 ms
 * budget still yields a complete report (whatever it reached). */
static void test_symbolize_budget(void **state) {
  (void)state;
  unsetenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS");
  assert_int_equal(cw__wd_symbolize_budget_ms(),
                   WD_SYMBOLIZE_BUDGET_MS_DEFAULT);
  assert_int_equal(WD_SYMBOLIZE_BUDGET_MS_DEFAULT, 2000);
  setenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS", "soon", 1);
  assert_int_equal(cw__wd_symbolize_budget_ms(), 2000);
  setenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS", "-5", 1);
  assert_int_equal(cw__wd_symbolize_budget_ms(), 2000);
  setenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS", "0", 1);
  assert_int_equal(cw__wd_symbolize_budget_ms(), 0);
  setenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS", "250", 1);
  assert_int_equal(cw__wd_symbolize_budget_ms(), 250);
  unsetenv("CRASHWATCH_SYMBOLIZE_BUDGET_MS");

  traced_t t;
  char *ev, *sum;
  handle_traced(NULL, "0", &t, &ev, &sum);
  assert_string_equal(t.log, "committed;ack;released;");
  assert_non_null(strstr(ev, "\"function\":\"wd_crash_leaf\""));
  assert_non_null(strstr(ev, "\"function\":\"main\""));
  assert_null(strstr(ev, "\"lineno\""));
  assert_non_null(strstr(ev, "\"crashwatch.symbolize\":\"disabled\""));
  assert_non_null(strstr(sum, "wd_crash_leaf [watchdog_target+0x"));
  free(ev);
  free(sum);

  handle_traced(NULL, "1", &t, &ev, &sum);
  assert_non_null(strstr(t.log, "committed;ack;released;symbolize-start;"));
  assert_non_null(strstr(ev, "\"function\":\"wd_crash_leaf\""));
  assert_non_null(strstr(ev, "\"function\":\"wd_crash_outer\""));
  assert_non_null(strstr(ev, "\"function\":\"main\""));
  assert_non_null(strstr(ev, "\"crashwatch.symbolize_budget_ms\":1,"));
  assert_non_null(strstr(ev, "\"crashwatch.symbolize_timed_out\":"));
  assert_non_null(strstr(ev, "\"debug_id\":"));
  assert_non_null(strstr(sum, "wd_crash_leaf "));
  free(ev);
  free(sum);
}

/* A deadline already past: no module is read, every frame keeps its
 * symbol-table name, the event says the budget ran out. The next run
 * without a deadline reads what the first could not. */
static void test_symbolize_past_deadline_keeps_symtab_names(void **state) {
  (void)state;
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET, 0, &c, &cap);
  assert_int_equal(cw__wd_symbolize_all(&cap, 1), 0);
  assert_int_equal(cap.symbolize_state, WD_SYMBOLIZE_TIMED_OUT);
  for (size_t i = 0; i < cap.nthreads; i++)
    for (size_t k = 0; k < cap.threads[i].nframes; k++)
      assert_int_equal(cap.threads[i].frames[k].nsrc, 0);
  cw__buf_t ev = CW_BUF_INIT;
  assert_int_equal(cw__wd_event_json(&cap, "0123456789abcdef0123456789abcdef",
                                     NULL, NULL, &ev),
                   0);
  const char *text = cw__buf_cstr(&ev);
  assert_non_null(strstr(text, "\"function\":\"wd_crash_leaf\""));
  assert_null(strstr(text, "\"lineno\""));
  assert_non_null(strstr(text, "\"crashwatch.symbolize_timed_out\":true"));
  cw__buf_free(&ev);
  check_unwind(&cap);

  assert_true(cw__wd_symbolize_all(&cap, 0) > 0);
  assert_int_equal(cap.symbolize_state, WD_SYMBOLIZE_DONE);
  const wd_thread_t *th = &cap.threads[cap.crashed_index];
  assert_true(th->frames[0].nsrc >= 1);
  const wd_src_t *src = &cap.srcs[th->frames[0].src + th->frames[0].nsrc - 1];
  assert_string_equal(src->function, "wd_crash_leaf");
  assert_int_equal(src->line, marker_line("WD-CRASH-SITE"));
  cw__wd_capture_free(&cap);
}

/* The build-id the crash saw is passed along: a module file whose
 * build-id differs (a binary replaced since) is refused, and its frames
 * keep their symbol-table names. */
static void test_symbolize_refuses_other_build_id(void **state) {
  (void)state;
  child_t c;
  wd_capture_t cap;
  capture_child(WD_TARGET, 0, &c, &cap);
  wd_module_t *m = (wd_module_t *)find_module(&cap, WD_TARGET);
  assert_non_null(m);
  assert_true(m->build_id_len > 0);
  m->build_id[0] ^= 0xff;
  cw__wd_symbolize_all(&cap, 0);
  const wd_thread_t *th = &cap.threads[cap.crashed_index];
  assert_int_equal(th->frames[0].nsrc, 0);
  assert_string_equal(cw__wd_symbolize(&cap, th->frames[0].ip, NULL, NULL),
                      "wd_crash_leaf");
  cw__wd_capture_free(&cap);
}

/* The executable was replaced on disk between the crash and the
 * symbolization (an upgrade): the file the capture kept open is read, not
 * the new one at the path, and the crash site's line is still right. */
static void test_symbolize_replaced_executable(void **state) {
  (void)state;
  const char *tmp = getenv("CW_TEST_TMP");
  char copy[PATH_MAX], other[PATH_MAX];
  snprintf(copy, sizeof(copy), "%s/wd-replaced-XXXXXX", tmp ? tmp : "/tmp");
  snprintf(other, sizeof(other), "%s/wd-other-XXXXXX", tmp ? tmp : "/tmp");
  const char *src[2] = {WD_TARGET, WD_TARGET_NOFP};
  char *dst[2] = {copy, other};
  for (int i = 0; i < 2; i++) {
    int fd = mkstemp(dst[i]);
    assert_true(fd >= 0);
    size_t len;
    uint8_t *exe = slurp(src[i], &len);
    assert_int_equal(write(fd, exe, len), (ssize_t)len);
    free(exe);
    fchmod(fd, 0755);
    close(fd);
  }
  child_t c;
  spawn(copy, 1, &c);
  wd_capture_t cap;
  capture_spawned(&c, NULL, &cap);
  assert_int_equal(rename(other, copy), 0);
  assert_true(cw__wd_symbolize_all(&cap, 0) > 0);
  const wd_thread_t *th = &cap.threads[cap.crashed_index];
  assert_true(th->frames[0].nsrc >= 1);
  const wd_src_t *s0 = &cap.srcs[th->frames[0].src + th->frames[0].nsrc - 1];
  assert_string_equal(s0->function, "wd_crash_leaf");
  assert_int_equal(s0->line, marker_line("WD-CRASH-SITE"));
  cw__wd_capture_free(&cap);
  unlink(copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_capture_child_threads_modules_stacks),
      cmocka_unit_test(test_capture_procmem_fallback_same_result),
      cmocka_unit_test(test_memread_procmem_matches_process_vm_readv),
      cmocka_unit_test(test_capture_with_thread_churn),
      cmocka_unit_test(test_capture_holds_threads_until_detach),
      cmocka_unit_test(test_capture_detaches_without_hold),
      cmocka_unit_test(test_unwind_through_vdso),
      cmocka_unit_test(test_vdso_fallback_names_gaps),
      cmocka_unit_test(test_vdso_every_address_named),
      cmocka_unit_test(test_vdso_names_agree_with_symbolizer),
      cmocka_unit_test(test_vdso_unsized_names_agree),
      cmocka_unit_test(test_vdso_debug_file_names_agree),
      cmocka_unit_test(test_vdso_without_sections_named),
      cmocka_unit_test(test_unwind_named_frames_with_frame_pointers),
      cmocka_unit_test(test_unwind_named_frames_without_frame_pointers),
      cmocka_unit_test(test_trim_stacks_keeps_every_frame),
      cmocka_unit_test(test_unwind_frame_pointer_fallback_without_cfi),
      cmocka_unit_test(test_capture_many_threads_stack_budget),
      cmocka_unit_test(test_unwind_call_through_null_pointer),
      cmocka_unit_test(test_capture_environ_only_on_opt_in),
      cmocka_unit_test(test_capture_deleted_executable),
      cmocka_unit_test(test_capture_thread_already_traced),
      cmocka_unit_test(test_handle_crash_writes_one_report),
      cmocka_unit_test(test_handle_crash_forced_procmem_env),
      cmocka_unit_test(test_handle_crash_of_vanished_process_still_releases),
      cmocka_unit_test(test_symbolize_crash_site_file_line),
      cmocka_unit_test(test_release_early_acks_before_commit),
      cmocka_unit_test(test_frame_names_match_symbol_table),
      cmocka_unit_test(test_symbolize_inlined_frame),
      cmocka_unit_test(test_symbolize_budget),
      cmocka_unit_test(test_symbolize_past_deadline_keeps_symtab_names),
      cmocka_unit_test(test_symbolize_refuses_other_build_id),
      cmocka_unit_test(test_symbolize_replaced_executable),
      cmocka_unit_test(test_capture_names_on_workers),
      cmocka_unit_test(test_capture_module_cache),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
