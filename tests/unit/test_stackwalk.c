/* test_stackwalk.c — the stackwalker on a real stack and on the fixtures.
 *
 * A forked child spins in a known call chain (sw_root -> sw_level3 ->
 * sw_level2 -> sw_level1 -> sw_leaf). The test stops it with ptrace, reads
 * its registers, its stack (process_vm_readv) and its modules
 * (/proc/PID/maps, build-ids read from the files), writes a minidump of it
 * with the format structs, and walks that dump: with the module files (CFI
 * from .eh_frame) the chain must come out in order with trust "cfi"; with
 * no module files, frame pointers and scanning must still find it.
 *
 * With --fixtures (CTest's test_stackwalk_fixtures): a third-party dump,
 * skipped when the fixtures are absent (tests/cw_fixtures.h).
 */
#include <dlfcn.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "cw_fixtures.h"
#include "debug_id.h"
#include "minidump.h"
#include "stackwalk.h"

#define EXPORT __attribute__((visibility("default"), noinline))

/* ---- the child's call chain ------------------------------------------- */

static volatile int sw_spin = 1;
/* Shared with the parent: the child counts its spins here, so the parent
 * attaches only once the child is inside sw_leaf's loop. */
static volatile uint64_t *spins;

EXPORT int sw_leaf(int x) {
  while (sw_spin)
    spins[0]++;
  return x + 1;
}
EXPORT int sw_level1(int x) { return sw_leaf(x * 3) + 1; }
EXPORT int sw_level2(int x) { return sw_level1(x + 7) * 2; }
EXPORT int sw_level3(int x) { return sw_level2(x - 1) + 5; }
EXPORT int sw_root(int x) { return sw_level3(x) + 11; }

static const char *const chain[] = {"sw_leaf", "sw_level1", "sw_level2",
                                    "sw_level3", "sw_root"};

/* ---- a minimal minidump writer over the format structs ----------------- */

typedef struct {
  uint64_t start, end;
  char path[512];
  uint8_t build_id[64];
  size_t build_id_len;
} mod_t;

static size_t build_id_of(const char *path, uint8_t *out) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return 0;
  Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  const void *id = NULL;
  ssize_t n = e ? dwelf_elf_gnu_build_id(e, &id) : -1;
  size_t len = 0;
  if (n > 0 && n <= 64) {
    memcpy(out, id, (size_t)n);
    len = (size_t)n;
  }
  if (e)
    elf_end(e);
  close(fd);
  return len;
}

/* File-backed mappings grouped per file: first mapping start, last end. */
static size_t read_modules(pid_t pid, mod_t *mods, size_t cap, uint64_t sp,
                           uint64_t *stack_end) {
  char path[64], line[1024];
  snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long long lo, hi, off;
    char perms[8], file[512] = "";
    if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %511s", &lo, &hi, perms, &off,
               file) < 4)
      continue;
    if (sp >= lo && sp < hi)
      *stack_end = hi;
    if (file[0] != '/')
      continue;
    if (n > 0 && strcmp(mods[n - 1].path, file) == 0) {
      mods[n - 1].end = hi;
      continue;
    }
    if (off != 0 || n == cap)
      continue;
    mod_t *m = &mods[n++];
    m->start = lo;
    m->end = hi;
    snprintf(m->path, sizeof(m->path), "%s", file);
    m->build_id_len = build_id_of(file, m->build_id);
  }
  fclose(f);
  return n;
}

static uint32_t put_string(cw__buf_t *b, const char *s) {
  uint32_t rva = (uint32_t)b->len;
  uint32_t bytes = (uint32_t)strlen(s) * 2;
  cw__buf_append(b, &bytes, 4);
  for (const char *p = s; *p; p++) {
    uint16_t u = (uint8_t)*p;
    cw__buf_append(b, &u, 2);
  }
  cw__buf_append_zeros(b, 2);
  return rva;
}

static void write_dump(cw__buf_t *b, const struct user_regs_struct *r,
                       uint32_t tid, uint64_t stack_lo, const uint8_t *stack,
                       size_t stack_len, const mod_t *mods, size_t nmods) {
  enum { NSTREAMS = 4 };
  md_header_t h = {MD_HEADER_SIGNATURE,
                   MD_HEADER_VERSION,
                   NSTREAMS,
                   sizeof(md_header_t),
                   0,
                   0,
                   0};
  cw__buf_append(b, &h, sizeof(h));
  size_t dir = cw__buf_append_zeros(b, NSTREAMS * sizeof(md_directory_t));
  md_directory_t d[NSTREAMS];

  /* Context and stack bytes. */
  md_context_amd64_t c;
  memset(&c, 0, sizeof(c));
  c.context_flags = MD_CONTEXT_AMD64_FULL;
  c.rax = r->rax, c.rbx = r->rbx, c.rcx = r->rcx, c.rdx = r->rdx;
  c.rsi = r->rsi, c.rdi = r->rdi, c.rbp = r->rbp, c.rsp = r->rsp;
  c.r8 = r->r8, c.r9 = r->r9, c.r10 = r->r10, c.r11 = r->r11;
  c.r12 = r->r12, c.r13 = r->r13, c.r14 = r->r14, c.r15 = r->r15;
  c.rip = r->rip;
  c.eflags = (uint32_t)r->eflags;
  uint32_t ctx_rva = (uint32_t)b->len;
  cw__buf_append(b, &c, sizeof(c));
  uint32_t stack_rva = (uint32_t)b->len;
  cw__buf_append(b, stack, stack_len);

  /* ThreadList. */
  md_thread_t t;
  memset(&t, 0, sizeof(t));
  t.thread_id = tid;
  t.stack.start_of_memory_range = stack_lo;
  t.stack.memory = (md_location_t){(uint32_t)stack_len, stack_rva};
  t.thread_context = (md_location_t){sizeof(c), ctx_rva};
  uint32_t one = 1;
  d[0].stream_type = MD_THREAD_LIST_STREAM;
  d[0].location.rva = (uint32_t)b->len;
  cw__buf_append(b, &one, 4);
  cw__buf_append(b, &t, sizeof(t));
  d[0].location.data_size = (uint32_t)(b->len - d[0].location.rva);

  /* ModuleList: names and CodeView records first. */
  uint32_t name_rva[64], cv_rva[64], cv_size[64];
  for (size_t i = 0; i < nmods; i++) {
    name_rva[i] = put_string(b, mods[i].path);
    cv_rva[i] = (uint32_t)b->len;
    uint32_t sig = MD_CVINFOELF_SIGNATURE;
    cw__buf_append(b, &sig, 4);
    cw__buf_append(b, mods[i].build_id, mods[i].build_id_len);
    cv_size[i] = (uint32_t)(4 + mods[i].build_id_len);
  }
  d[1].stream_type = MD_MODULE_LIST_STREAM;
  d[1].location.rva = (uint32_t)b->len;
  uint32_t count = (uint32_t)nmods;
  cw__buf_append(b, &count, 4);
  for (size_t i = 0; i < nmods; i++) {
    md_module_t m;
    memset(&m, 0, sizeof(m));
    m.base_of_image = mods[i].start;
    m.size_of_image = (uint32_t)(mods[i].end - mods[i].start);
    m.module_name_rva = name_rva[i];
    m.cv_record = (md_location_t){cv_size[i], cv_rva[i]};
    cw__buf_append(b, &m, sizeof(m));
  }
  d[1].location.data_size = (uint32_t)(b->len - d[1].location.rva);

  /* MemoryList with the stack. */
  d[2].stream_type = MD_MEMORY_LIST_STREAM;
  d[2].location.rva = (uint32_t)b->len;
  md_memory_descriptor_t md = {stack_lo, {(uint32_t)stack_len, stack_rva}};
  cw__buf_append(b, &one, 4);
  cw__buf_append(b, &md, sizeof(md));
  d[2].location.data_size = (uint32_t)(b->len - d[2].location.rva);

  /* SystemInfo. */
  md_system_info_t si;
  memset(&si, 0, sizeof(si));
  si.processor_architecture = MD_CPU_ARCHITECTURE_AMD64;
  si.number_of_processors = 1;
  si.platform_id = MD_OS_LINUX;
  d[3].stream_type = MD_SYSTEM_INFO_STREAM;
  d[3].location = (md_location_t){sizeof(si), (uint32_t)b->len};
  cw__buf_append(b, &si, sizeof(si));

  assert_false(b->oom);
  memcpy(b->data + dir, d, sizeof(d));
}

/* ---- capture ------------------------------------------------------------ */

static cw__buf_t dump = CW_BUF_INIT;

static int capture_child(void **state) {
  (void)state;
  elf_version(EV_CURRENT);
  spins = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1, 0);
  assert_true(spins != MAP_FAILED);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(sw_root(1) == 0 ? 4 : 0);
  while (spins[0] == 0)
    sched_yield();
  assert_int_equal(ptrace(PTRACE_ATTACH, pid, NULL, NULL), 0);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFSTOPPED(st));
  struct user_regs_struct regs;
  assert_int_equal(ptrace(PTRACE_GETREGS, pid, NULL, &regs), 0);

  static mod_t mods[64];
  uint64_t stack_end = 0;
  size_t nmods = read_modules(pid, mods, 64, regs.rsp, &stack_end);
  assert_true(nmods > 0);
  assert_true(stack_end > regs.rsp);
  uint64_t lo = regs.rsp - 128;
  size_t len = (size_t)(stack_end - lo);
  if (len > 256 * 1024)
    len = 256 * 1024;
  uint8_t *stack = malloc(len);
  struct iovec local = {stack, len}, remote = {(void *)(uintptr_t)lo, len};
  assert_int_equal(process_vm_readv(pid, &local, 1, &remote, 1, 0),
                   (ssize_t)len);
  write_dump(&dump, &regs, (uint32_t)pid, lo, stack, len, mods, nmods);
  free(stack);
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  munmap((void *)spins, 4096);
  return 0;
}

static int free_dump(void **state) {
  (void)state;
  cw__buf_free(&dump);
  return 0;
}

static const char *module_path(void *ctx, const cw__md_module_t *m) {
  (void)ctx;
  return m->name[0] == '/' ? m->name : NULL;
}

static const char *fn_name(uint64_t pc) {
  Dl_info info;
  if (dladdr((void *)(uintptr_t)pc, &info) == 0 || info.dli_sname == NULL)
    return "?";
  return info.dli_sname;
}

/* Walks the dump; returns how many of chain[] appear in order, and checks
 * frames 0..4 exactly when `exact`. */
static void walk_and_check(int use_files, cw__sw_trust_t want_trust) {
  cw__md_t *md;
  char err[256];
  assert_int_equal(
      cw__md_open_buffer(dump.data, dump.len, &md, err, sizeof(err)), 0);
  assert_int_equal(cw__md_error_count(md), 0);
  cw__sw_options_t o = {0};
  if (use_files) {
    o.find_module_file = module_path;
  }
  cw__stackwalker_t *sw;
  assert_int_equal(cw__sw_new(md, &o, &sw), 0);
  cw__sw_frame_t *f;
  size_t n;
  assert_int_equal(cw__sw_walk_thread(sw, 0, &f, &n, err, sizeof(err)), 0);
  size_t next = 0;
  for (size_t i = 0; i < n; i++) {
    const char *name = fn_name(f[i].lookup_pc);
    printf("  #%zu %s 0x%llx %s\n", i, cw__sw_trust_name(f[i].trust),
           (unsigned long long)f[i].ip, name);
    if (next < 5 && strcmp(name, chain[next]) == 0)
      next++;
  }
  assert_int_equal(f[0].trust, CW_SW_TRUST_CONTEXT);
  assert_string_equal(fn_name(f[0].lookup_pc), "sw_leaf");
  assert_int_equal(next, 5);
  if (want_trust == CW_SW_TRUST_CFI) {
    /* Exactly the chain, every caller by CFI, and on past sw_root into
     * libc (its .eh_frame) up to the outermost frame. */
    assert_true(n > 6);
    for (size_t i = 1; i < 5; i++) {
      assert_string_equal(fn_name(f[i].lookup_pc), chain[i]);
      assert_int_equal(f[i].trust, CW_SW_TRUST_CFI);
      assert_true(f[i].module_index >= 0);
    }
    for (size_t i = 1; i < n; i++)
      assert_int_equal(f[i].trust, CW_SW_TRUST_CFI);
    assert_string_equal(cw__sw_module_file(sw, (size_t)f[0].module_index),
                        cw__md_module(md, (size_t)f[0].module_index)->name);
  }
  free(f);
  cw__sw_free(sw);
  cw__md_close(md);
}

static void test_stackwalk_cfi_real_stack(void **state) {
  (void)state;
  walk_and_check(1, CW_SW_TRUST_CFI);
}

static void test_stackwalk_no_module_files(void **state) {
  (void)state;
  walk_and_check(0, CW_SW_TRUST_SCAN);
}

/* Scanning with the module code at hand (CFI off): every scanned return
 * address follows a call instruction. The child is a fork of this process,
 * so its code is at the same addresses here. */
static int after_call(uint64_t ip) {
  const uint8_t *c = (const uint8_t *)(uintptr_t)ip;
  if (c[-5] == 0xe8)
    return 1;
  for (int k = 2; k <= 7; k++)
    if (c[-k] == 0xff && ((c[-k + 1] >> 3) & 7) == 2)
      return 1;
  return 0;
}

static void test_stackwalk_scan_checks_calls(void **state) {
  (void)state;
  cw__md_t *md;
  char err[256];
  assert_int_equal(
      cw__md_open_buffer(dump.data, dump.len, &md, err, sizeof(err)), 0);
  size_t scanned[2] = {0, 0};
  for (int files = 0; files < 2; files++) {
    cw__sw_options_t o = {.no_cfi = 1};
    if (files)
      o.find_module_file = module_path;
    cw__stackwalker_t *sw;
    assert_int_equal(cw__sw_new(md, &o, &sw), 0);
    cw__sw_frame_t *f;
    size_t n;
    assert_int_equal(cw__sw_walk_thread(sw, 0, &f, &n, err, sizeof(err)), 0);
    for (size_t i = 1; i < n; i++) {
      if (f[i].trust != CW_SW_TRUST_SCAN)
        continue;
      scanned[files]++;
      if (files) {
        Dl_info info;
        /* Only code mapped in this process can be checked here. */
        if (dladdr((void *)(uintptr_t)f[i].ip, &info) != 0)
          assert_true(after_call(f[i].ip));
      }
    }
    free(f);
    cw__sw_free(sw);
  }
  printf("  scanned frames: %zu without module code, %zu with\n", scanned[0],
         scanned[1]);
  assert_true(scanned[1] < scanned[0]);
  cw__md_close(md);
}

/* A module file whose build-id differs is never used for CFI. */
static const char *wrong_file(void *ctx, const cw__md_module_t *m) {
  (void)ctx;
  (void)m;
  return "/bin/sh";
}

static void test_stackwalk_rejects_other_build_id(void **state) {
  (void)state;
  cw__md_t *md;
  char err[256];
  assert_int_equal(
      cw__md_open_buffer(dump.data, dump.len, &md, err, sizeof(err)), 0);
  cw__sw_options_t o = {.find_module_file = wrong_file};
  cw__stackwalker_t *sw;
  assert_int_equal(cw__sw_new(md, &o, &sw), 0);
  cw__sw_frame_t *f;
  size_t n;
  assert_int_equal(cw__sw_walk_thread(sw, 0, &f, &n, err, sizeof(err)), 0);
  for (size_t i = 0; i < n; i++)
    assert_int_not_equal(f[i].trust, CW_SW_TRUST_CFI);
  assert_string_equal(cw__sw_module_file(sw, 0), "");
  free(f);
  cw__sw_free(sw);
  cw__md_close(md);
}

/* Breakpad .sym STACK CFI: a synthetic module with records for two
 * functions, the second reached through a delta record's rules. */
static char sym_path[512];

static const char *sym_file(void *ctx, const cw__md_module_t *m) {
  (void)ctx;
  (void)m;
  return sym_path;
}

static void test_stackwalk_breakpad_stack_cfi(void **state) {
  (void)state;
  const uint64_t base = 0x10000000, S = 0x7000;
  mod_t mod = {base, base + 0x10000, "/nonexistent/libfake.so", {0}, 16};
  for (int i = 0; i < 16; i++)
    mod.build_id[i] = (uint8_t)(0x11 * (i + 1));
  uint64_t stack[8] = {
      0x1234, base + 0x2005, 0x5550, base + 0x3001, 0xdeadbeef, 0, 0, 0};
  struct user_regs_struct regs;
  memset(&regs, 0, sizeof(regs));
  regs.rip = base + 0x1010;
  regs.rsp = S;
  regs.rbx = 0x99;
  cw__buf_t b = CW_BUF_INIT;
  write_dump(&b, &regs, 1, S, (const uint8_t *)stack, sizeof(stack), &mod, 1);

  char id[34];
  cw__breakpad_id_from_build_id(mod.build_id, 16, id);
  const char *tmp = getenv("CW_TEST_TMP");
  snprintf(sym_path, sizeof(sym_path), "%s/stackwalk-%d.sym",
           tmp ? tmp : "/tmp", (int)getpid());
  for (int variant = 0; variant < 2; variant++) {
    FILE *f = fopen(sym_path, "w");
    assert_non_null(f);
    fprintf(f,
            "MODULE Linux x86_64 %s libfake.so\n"
            "FUNC 1000 100 0 one\n"
            "STACK CFI INIT 1000 100 .cfa: $rsp 8 + .ra: .cfa -8 + ^\n"
            "STACK CFI 1001 .cfa: $rsp 16 +\n"
            "STACK CFI 1008 $rbx: .cfa -16 + ^\n"
            "STACK CFI 1020 .cfa: $rsp 99 +\n"
            "STACK CFI INIT 2000 10 .cfa: $rsp 16 + .ra: .cfa -8 + ^ "
            "$rbp: .cfa -16 + ^\n",
            variant == 0 ? id : "00000000000000000000000000000000");
    fclose(f);
    cw__md_t *md;
    char err[256];
    assert_int_equal(cw__md_open_buffer(b.data, b.len, &md, err, sizeof(err)),
                     0);
    cw__sw_options_t o = {.find_module_sym = sym_file, .no_scan = 1};
    cw__stackwalker_t *sw;
    assert_int_equal(cw__sw_new(md, &o, &sw), 0);
    cw__sw_frame_t *fr;
    size_t n;
    assert_int_equal(cw__sw_walk_thread(sw, 0, &fr, &n, err, sizeof(err)), 0);
    if (variant == 1) {
      /* Another module's .sym is never used. */
      assert_int_equal(n, 1);
    } else {
      assert_int_equal(n, 3);
      assert_int_equal(fr[1].trust, CW_SW_TRUST_CFI);
      assert_int_equal(fr[1].ip, base + 0x2005);
      assert_int_equal(fr[1].sp, S + 16);
      assert_true(fr[1].valid & (1u << CW_SW_RBX));
      assert_int_equal(fr[1].regs[CW_SW_RBX], 0x1234);
      assert_int_equal(fr[2].trust, CW_SW_TRUST_CFI);
      assert_int_equal(fr[2].ip, base + 0x3001);
      assert_int_equal(fr[2].sp, S + 32);
      assert_int_equal(fr[2].regs[CW_SW_RBP], 0x5550);
      assert_int_equal(fr[2].regs[CW_SW_RBX], 0x1234); /* callee-saved */
    }
    free(fr);
    cw__sw_free(sw);
    cw__md_close(md);
  }
  unlink(sym_path);
  cw__buf_free(&b);
}

/* The fixtures' minidumps/ directory (--fixtures). */
static char fixtures[4096];

/* Fixture: the crashing thread of a Breakpad dump, as minidump_stackwalk
 * walked it (context, frame pointer, then scanning). */
static void test_stackwalk_fixture_matches_breakpad(void **state) {
  (void)state;
  char path[4200];
  snprintf(path, sizeof(path), "%s/breakpad/linux_null_dereference.dmp",
           fixtures);
  cw__md_t *md;
  char err[256];
  assert_int_equal(cw__md_open_file(path, &md, err, sizeof(err)), 0);
  cw__stackwalker_t *sw;
  assert_int_equal(cw__sw_new(md, NULL, &sw), 0);
  cw__sw_frame_t *f;
  size_t n;
  assert_int_equal(cw__sw_walk_thread(sw, 0, &f, &n, err, sizeof(err)), 0);
  static const struct {
    const char *module;
    uint64_t offset;
    cw__sw_trust_t trust;
  } want[] = {
      {"driver", 0x1f26, CW_SW_TRUST_CONTEXT},
      {"driver", 0x1fce, CW_SW_TRUST_FP},
      {"ld-2.19.so", 0x16515, CW_SW_TRUST_SCAN},
      {"driver", 0x1edd, CW_SW_TRUST_SCAN},
      {"driver", 0x1df4, CW_SW_TRUST_SCAN},
      {"libc-2.19.so", 0x21ec5, CW_SW_TRUST_SCAN},
      {"driver", 0x1f2e, CW_SW_TRUST_SCAN},
      {"driver", 0x1df4, CW_SW_TRUST_SCAN},
      {"driver", 0x11510, CW_SW_TRUST_SCAN},
      {"driver", 0x1df4, CW_SW_TRUST_SCAN},
      {"driver", 0x1e1d, CW_SW_TRUST_SCAN},
  };
  assert_int_equal(n, sizeof(want) / sizeof(want[0]));
  for (size_t i = 0; i < n; i++) {
    assert_true(f[i].module_index >= 0);
    assert_string_equal(cw__md_module(md, (size_t)f[i].module_index)->basename,
                        want[i].module);
    assert_int_equal(f[i].module_offset, want[i].offset);
    assert_int_equal(f[i].trust, want[i].trust);
  }
  free(f);
  cw__sw_free(sw);
  cw__md_close(md);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--fixtures") == 0) {
    if (fixtures_minidumps_dir(fixtures, sizeof(fixtures)) != 0)
      return FIXTURES_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stackwalk_fixture_matches_breakpad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stackwalk_cfi_real_stack),
      cmocka_unit_test(test_stackwalk_no_module_files),
      cmocka_unit_test(test_stackwalk_scan_checks_calls),
      cmocka_unit_test(test_stackwalk_rejects_other_build_id),
      cmocka_unit_test(test_stackwalk_breakpad_stack_cfi),
  };
  return cmocka_run_group_tests(tests, capture_child, free_dump);
}
