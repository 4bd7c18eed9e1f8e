/*
 * test_minidump_writer.c — the minidump writer on synthetic captures: the
 * bytes are read back with the format structs of common/minidump_format.h
 * and every stream is checked (sizes, RVAs in bounds, contents), plus the
 * register mapping from a crash record's ucontext and the signature-last
 * write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ucontext.h>
#include <unistd.h>

#include "crashwatch.h"
#include "minidump.h"
#include "minidump_format.h"
#include "symbolizer.h"
#include "wd_capture.h"

static const uint8_t kBuildId[20] = {0xf1, 0xc3, 0xbc, 0xc0, 0x27, 0x98, 0x65,
                                     0xfe, 0x30, 0x58, 0x40, 0x4b, 0x28, 0x31,
                                     0xd9, 0xe6, 0x41, 0x35, 0x38, 0x6c};
/* "/opt/dæmon/bin/app-😀": a 2-byte and a 4-byte UTF-8 sequence. */
static const char kPath[] = "/opt/d\xc3\xa6mon/bin/app-\xf0\x9f\x98\x80";
static const char kMaps[] = "55550000-55551000 r-xp 00000000 08:01 42 /bin/x\n";

static void build_capture(wd_capture_t *cap) {
  memset(cap, 0, sizeof(*cap));
  cap->pid = 4321;
  cap->signo = SIGSEGV;
  cap->si_code = 2;
  cap->fault_addr = 0xdeadbeef;
  cap->crashed_tid = 4322;
  cap->time_realtime_ns = 1700000000ull * 1000000000ull;
  cap->process_start_time = 1699999000;
  cap->nthreads = 2;
  cap->threads = calloc(2, sizeof(*cap->threads));
  cap->crashed_index = 1;
  uint8_t stack0[256], stack1[512];
  for (size_t i = 0; i < sizeof(stack0); i++)
    stack0[i] = (uint8_t)i;
  for (size_t i = 0; i < sizeof(stack1); i++)
    stack1[i] = (uint8_t)(255 - i % 256);
  for (int t = 0; t < 2; t++) {
    wd_thread_t *th = &cap->threads[t];
    th->tid = 4321 + t;
    snprintf(th->name, sizeof(th->name), t ? "worker" : "main");
    th->regs_ok = 1;
    th->regs.gp.rip = 0x555500001000ull + (uint64_t)t;
    th->regs.gp.rsp = t ? 0x7fff10000080ull : 0x7fff00000080ull;
    th->regs.gp.rbp = 0x1111 * (uint64_t)(t + 1);
    th->regs.gp.r15 = 0xf15f15 + (uint64_t)t;
    th->regs.gp.eflags = 0x246;
    th->regs.gp.cs = 0x33;
    th->regs.gp.ss = 0x2b;
    th->regs.fp.mxcsr = 0x1f80;
    th->regs.fp.cwd = 0x37f;
    th->regs.has_fp = 1;
    uint64_t base = th->regs.gp.rsp - WD_RED_ZONE;
    th->stack_region = cw__wd_capture_add_region(
        cap, base, t ? stack1 : stack0, t ? sizeof(stack1) : sizeof(stack0));
    assert_true(th->stack_region >= 0);
  }
  cap->nmodules = 1;
  cap->modules = calloc(1, sizeof(*cap->modules));
  cap->modules[0].base = 0x555500000000ull;
  cap->modules[0].size = 0x5000;
  cap->modules[0].fd = -1;
  cap->modules[0].path = strdup(kPath);
  memcpy(cap->modules[0].build_id, kBuildId, sizeof(kBuildId));
  cap->modules[0].build_id_len = sizeof(kBuildId);
  assert_int_equal(
      cw__wd_capture_add_blob(cap, MD_LINUX_MAPS, kMaps, strlen(kMaps)), 0);
  assert_int_equal(
      cw__wd_capture_add_blob(cap, MD_LINUX_PROC_STATUS, "Name:\tx\n", 8), 0);
  cap->dso_debug.present = 1;
  cap->dso_debug.version = 1;
  cap->dso_debug.map_addr = 0x1000;
  cap->dso_debug.brk = 0x2000;
  cap->dso_debug.ldbase = 0x3000;
  cap->dso_debug.dynamic = 0x4000;
  cap->dso_debug.ndsos = 2;
  cap->dso_debug.dsos = calloc(2, sizeof(wd_dso_t));
  cap->dso_debug.dsos[0] = (wd_dso_t){0, 0x5000, strdup("")};
  cap->dso_debug.dsos[1] = (wd_dso_t){0x7f00, 0x6000, strdup("/lib/libc.so.6")};
  static const uint64_t dyn[4] = {21 /* DT_DEBUG */, 0x9000, 0 /* DT_NULL */,
                                  0};
  cap->dso_debug.dynamic_data = malloc(sizeof(dyn));
  memcpy(cap->dso_debug.dynamic_data, dyn, sizeof(dyn));
  cap->dso_debug.dynamic_len = sizeof(dyn);
  cap->sys.ncpus = 2;
  memcpy(cap->sys.cpu_vendor, "GenuineIntel", 12);
  cap->sys.cpu_version = 0x906ea;
  snprintf(cap->sys.sysname, sizeof(cap->sys.sysname), "Linux");
  snprintf(cap->sys.release, sizeof(cap->sys.release), "6.1.0-13-amd64");
  snprintf(cap->sys.version, sizeof(cap->sys.version), "#1 SMP");
  snprintf(cap->sys.machine, sizeof(cap->sys.machine), "x86_64");
}

typedef struct {
  const uint8_t *d;
  size_t n;
} dump_t;

static const uint8_t *at(const dump_t *m, uint64_t rva, uint64_t size) {
  assert_true(rva <= m->n && size <= m->n - rva);
  return m->d + rva;
}

static const uint8_t *find(const dump_t *m, uint32_t type, uint32_t *size) {
  const md_header_t *h = (const md_header_t *)m->d;
  const uint8_t *dir = at(m, h->stream_directory_rva,
                          (uint64_t)h->stream_count * sizeof(md_directory_t));
  const uint8_t *found = NULL;
  for (uint32_t i = 0; i < h->stream_count; i++) {
    md_directory_t e;
    memcpy(&e, dir + i * sizeof(e), sizeof(e));
    if (e.stream_type == type) {
      assert_null(found); /* each stream at most once */
      found = at(m, e.location.rva, e.location.data_size);
      *size = e.location.data_size;
    }
  }
  return found;
}

/* Decodes an MDString to UTF-8 (BMP + surrogate pairs). */
static void md_string(const dump_t *m, md_rva_t rva, char *out, size_t cap) {
  uint32_t bytes;
  memcpy(&bytes, at(m, rva, 4), 4);
  assert_int_equal(bytes % 2, 0);
  const uint8_t *u = at(m, rva + 4, bytes + 2ull);
  uint16_t term;
  memcpy(&term, u + bytes, 2);
  assert_int_equal(term, 0);
  size_t o = 0;
  for (uint32_t i = 0; i < bytes / 2; i++) {
    uint16_t c;
    memcpy(&c, u + 2 * i, 2);
    uint32_t cp = c;
    if (c >= 0xd800 && c < 0xdc00) {
      uint16_t lo;
      memcpy(&lo, u + 2 * ++i, 2);
      cp = 0x10000 + (((uint32_t)c - 0xd800) << 10) + (lo - 0xdc00u);
    }
    assert_true(o + 5 < cap);
    if (cp < 0x80) {
      out[o++] = (char)cp;
    } else if (cp < 0x800) {
      out[o++] = (char)(0xc0 | (cp >> 6));
      out[o++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out[o++] = (char)(0xe0 | (cp >> 12));
      out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
      out[o++] = (char)(0x80 | (cp & 0x3f));
    } else {
      out[o++] = (char)(0xf0 | (cp >> 18));
      out[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
      out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
      out[o++] = (char)(0x80 | (cp & 0x3f));
    }
  }
  out[o] = '\0';
}

static void test_minidump_writer_streams_read_back(void **state) {
  (void)state;
  wd_capture_t cap;
  build_capture(&cap);
  cw__buf_t b = CW_BUF_INIT;
  assert_int_equal(cw__wd_minidump_build(&cap, &b), 0);
  dump_t m = {b.data, b.len};

  const md_header_t *h = (const md_header_t *)at(&m, 0, sizeof(md_header_t));
  assert_int_equal(h->signature,
                   0); /* written last, by cw__wd_minidump_write */
  assert_int_equal(h->version, MD_HEADER_VERSION);
  assert_int_equal(h->stream_directory_rva, sizeof(md_header_t));
  assert_int_equal(h->time_date_stamp, 1700000000u);
  assert_int_equal(h->stream_count, 10); /* 8 fixed + maps + status */

  /* ThreadList and each thread's context and stack. */
  uint32_t size;
  const uint8_t *tl = find(&m, MD_THREAD_LIST_STREAM, &size);
  assert_non_null(tl);
  uint32_t count;
  memcpy(&count, tl, 4);
  assert_int_equal(count, 2);
  assert_int_equal(size, 4 + 2 * sizeof(md_thread_t));
  const uint8_t *ml = find(&m, MD_MEMORY_LIST_STREAM, &size);
  assert_non_null(ml);
  uint32_t nmem;
  memcpy(&nmem, ml, 4);
  assert_int_equal(nmem, 2);
  assert_int_equal(size, 4 + 2 * sizeof(md_memory_descriptor_t));
  for (uint32_t i = 0; i < 2; i++) {
    md_thread_t t;
    memcpy(&t, tl + 4 + i * sizeof(t), sizeof(t));
    const wd_thread_t *th = &cap.threads[i];
    assert_int_equal(t.thread_id, th->tid);
    assert_int_equal(t.thread_context.data_size, sizeof(md_context_amd64_t));
    md_context_amd64_t c;
    memcpy(&c, at(&m, t.thread_context.rva, sizeof(c)), sizeof(c));
    assert_int_equal(c.context_flags & MD_CONTEXT_AMD64_FULL,
                     MD_CONTEXT_AMD64_FULL);
    assert_int_equal(c.rip, th->regs.gp.rip);
    assert_int_equal(c.rsp, th->regs.gp.rsp);
    assert_int_equal(c.rbp, th->regs.gp.rbp);
    assert_int_equal(c.r15, th->regs.gp.r15);
    assert_int_equal(c.eflags, 0x246);
    assert_int_equal(c.cs, 0x33);
    assert_int_equal(c.ss, 0x2b);
    assert_int_equal(c.mx_csr, 0x1f80);
    assert_int_equal(c.flt_save.mx_csr, 0x1f80);
    assert_int_equal(c.flt_save.control_word, 0x37f);
    const wd_region_t *r = &cap.regions[th->stack_region];
    assert_int_equal(t.stack.start_of_memory_range, r->start);
    assert_int_equal(t.stack.memory.data_size, r->len);
    assert_memory_equal(at(&m, t.stack.memory.rva, r->len), r->data, r->len);
    /* The memory list holds the same range at the same RVA. */
    md_memory_descriptor_t d;
    memcpy(&d, ml + 4 + i * sizeof(d), sizeof(d));
    assert_int_equal(d.start_of_memory_range, r->start);
    assert_int_equal(d.memory.rva, t.stack.memory.rva);
    assert_int_equal(d.memory.data_size, r->len);
  }

  /* ThreadNameList. */
  const uint8_t *tn = find(&m, MD_THREAD_NAME_LIST_STREAM, &size);
  assert_non_null(tn);
  memcpy(&count, tn, 4);
  assert_int_equal(count, 2);
  assert_int_equal(size, 4 + 2 * sizeof(md_thread_name_t));
  md_thread_name_t name;
  memcpy(&name, tn + 4 + sizeof(name), sizeof(name));
  assert_int_equal(name.thread_id, 4322);
  char text[256];
  md_string(&m, (md_rva_t)name.thread_name_rva, text, sizeof(text));
  assert_string_equal(text, "worker");

  /* ModuleList: UTF-16 name and the BpEL CodeView record. */
  const uint8_t *mods = find(&m, MD_MODULE_LIST_STREAM, &size);
  assert_non_null(mods);
  memcpy(&count, mods, 4);
  assert_int_equal(count, 1);
  assert_int_equal(size, 4 + sizeof(md_module_t));
  md_module_t mod;
  memcpy(&mod, mods + 4, sizeof(mod));
  assert_int_equal(mod.base_of_image, 0x555500000000ull);
  assert_int_equal(mod.size_of_image, 0x5000);
  md_string(&m, mod.module_name_rva, text, sizeof(text));
  assert_string_equal(text, kPath);
  assert_int_equal(mod.cv_record.data_size, 4 + sizeof(kBuildId));
  const uint8_t *cv = at(&m, mod.cv_record.rva, mod.cv_record.data_size);
  uint32_t sig;
  memcpy(&sig, cv, 4);
  assert_int_equal(sig, MD_CVINFOELF_SIGNATURE);
  assert_memory_equal(cv + 4, kBuildId, sizeof(kBuildId));

  /* Exception: the crashing thread and its context. */
  const md_exception_stream_t *ex =
      (const md_exception_stream_t *)find(&m, MD_EXCEPTION_STREAM, &size);
  assert_non_null(ex);
  assert_int_equal(size, sizeof(*ex));
  assert_int_equal(ex->thread_id, 4322);
  assert_int_equal(ex->exception_record.exception_code, SIGSEGV);
  assert_int_equal(ex->exception_record.exception_flags, 2);
  assert_int_equal(ex->exception_record.exception_address, 0xdeadbeef);
  md_context_amd64_t ec;
  memcpy(&ec, at(&m, ex->thread_context.rva, sizeof(ec)), sizeof(ec));
  assert_int_equal(ec.rip, cap.threads[1].regs.gp.rip);

  /* SystemInfo. */
  const md_system_info_t *si =
      (const md_system_info_t *)find(&m, MD_SYSTEM_INFO_STREAM, &size);
  assert_non_null(si);
  assert_int_equal(size, sizeof(*si));
  assert_int_equal(si->processor_architecture, MD_CPU_ARCHITECTURE_AMD64);
  assert_int_equal(si->platform_id, MD_OS_LINUX);
  assert_int_equal(si->number_of_processors, 2);
  assert_int_equal(si->major_version, 6);
  assert_int_equal(si->minor_version, 1);
  assert_int_equal(si->build_number, 0);
  assert_memory_equal(si->cpu.x86.vendor_id, "GenuineIntel", 12);
  md_string(&m, si->csd_version_rva, text, sizeof(text));
  assert_string_equal(text, "Linux 6.1.0-13-amd64 #1 SMP x86_64");

  /* MiscInfo. */
  const md_misc_info_t *mi =
      (const md_misc_info_t *)find(&m, MD_MISC_INFO_STREAM, &size);
  assert_non_null(mi);
  assert_int_equal(mi->size_of_info, sizeof(*mi));
  assert_int_equal(mi->process_id, 4321);
  assert_int_equal(mi->process_create_time, 1699999000);
  assert_true(mi->flags1 & MD_MISCINFO_FLAGS1_PROCESS_TIMES);

  /* Linux streams, verbatim; no environ. */
  const uint8_t *maps = find(&m, MD_LINUX_MAPS, &size);
  assert_non_null(maps);
  assert_int_equal(size, strlen(kMaps));
  assert_memory_equal(maps, kMaps, size);
  assert_null(find(&m, MD_LINUX_ENVIRON, &size));

  /* DSO debug. */
  const md_debug64_t *dbg =
      (const md_debug64_t *)find(&m, MD_LINUX_DSO_DEBUG, &size);
  assert_non_null(dbg);
  assert_int_equal(size, sizeof(*dbg) + 32); /* + the _DYNAMIC array */
  uint64_t dyn_tag;
  memcpy(&dyn_tag, (const uint8_t *)dbg + sizeof(*dbg), 8);
  assert_int_equal(dyn_tag, 21);
  assert_int_equal(dbg->dso_count, 2);
  assert_int_equal(dbg->dynamic, 0x4000);
  md_link_map64_t lm[2];
  memcpy(lm, at(&m, dbg->map, sizeof(lm)), sizeof(lm));
  assert_int_equal(lm[1].addr, 0x7f00);
  assert_int_equal(lm[1].ld, 0x6000);
  md_string(&m, lm[1].name, text, sizeof(text));
  assert_string_equal(text, "/lib/libc.so.6");

  cw__buf_free(&b);
  cw__wd_capture_free(&cap);
}

static void test_minidump_writer_signature_written_last(void **state) {
  (void)state;
  wd_capture_t cap;
  build_capture(&cap);
  char path[] = "/tmp/cw-md-XXXXXX";
  const char *tmp = getenv("CW_TEST_TMP");
  char buf[4096];
  snprintf(buf, sizeof(buf), "%s/cw-md-XXXXXX", tmp ? tmp : "/tmp");
  int fd = mkstemp(tmp ? buf : path);
  assert_true(fd >= 0);
  assert_int_equal(cw__wd_minidump_write(&cap, fd), 0);
  cw__buf_t b = CW_BUF_INIT;
  assert_int_equal(cw__wd_minidump_build(&cap, &b), 0);
  off_t end = lseek(fd, 0, SEEK_END);
  assert_int_equal(end, (off_t)b.len);
  uint8_t *file = malloc(b.len);
  assert_int_equal(pread(fd, file, b.len, 0), (ssize_t)b.len);
  uint32_t sig;
  memcpy(&sig, file, 4);
  assert_int_equal(sig, MD_HEADER_SIGNATURE);
  /* Apart from the signature, the file is what was built. */
  assert_memory_equal(file + 4, b.data + 4, b.len - 4);
  free(file);
  close(fd);
  unlink(tmp ? buf : path);

  /* A write that cannot happen leaves no signature behind. */
  int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(cw__wd_minidump_write(&cap, ro) < 0);
  close(ro);
  cw__buf_free(&b);
  cw__wd_capture_free(&cap);
}

static void test_regs_from_crash_context_glibc_order(void **state) {
  (void)state;
  cw__crash_context_t ctx;
  memset(&ctx, 0, sizeof(ctx));
  for (int i = 0; i < CW_CONTEXT_NGREG; i++)
    ctx.gregs[i] = 0x1000 + (uint64_t)i;
  ctx.gregs[REG_CSGSFS] = 0x002b000000000033ull;
  ctx.has_fpregs = 1;
  ctx.fpregs[24] = 0x80; /* mxcsr low byte at offset 24 */
  wd_regs_t r;
  cw__wd_regs_from_crash_context(&ctx, NULL, &r);
  md_context_amd64_t c;
  cw__wd_regs_to_md_context(&r, &c);
  assert_int_equal(c.r8, 0x1000 + REG_R8);
  assert_int_equal(c.r15, 0x1000 + REG_R15);
  assert_int_equal(c.rdi, 0x1000 + REG_RDI);
  assert_int_equal(c.rsi, 0x1000 + REG_RSI);
  assert_int_equal(c.rbp, 0x1000 + REG_RBP);
  assert_int_equal(c.rbx, 0x1000 + REG_RBX);
  assert_int_equal(c.rdx, 0x1000 + REG_RDX);
  assert_int_equal(c.rax, 0x1000 + REG_RAX);
  assert_int_equal(c.rcx, 0x1000 + REG_RCX);
  assert_int_equal(c.rsp, 0x1000 + REG_RSP);
  assert_int_equal(c.rip, 0x1000 + REG_RIP);
  assert_int_equal(c.eflags, 0x1000 + REG_EFL);
  assert_int_equal(c.cs, 0x33);
  assert_int_equal(c.ss, 0x2b);
  assert_int_equal(c.mx_csr, 0x80);
  assert_int_equal(c.flt_save.mx_csr, 0x80);
  /* And back, as a reader would. */
  wd_regs_t back;
  cw__wd_regs_from_md_context(&c, &back);
  assert_int_equal(back.gp.rip, r.gp.rip);
  assert_int_equal(back.gp.r12, r.gp.r12);
  assert_true(back.has_fp);
}

/* The same bytes through the symbolizer's reader (symbolizer/minidump.h):
 * no stream errors, and every fact comes back. */
static void test_minidump_writer_round_trip_through_reader(void **state) {
  (void)state;
  wd_capture_t cap;
  build_capture(&cap);
  cw__buf_t b = CW_BUF_INIT;
  assert_int_equal(cw__wd_minidump_build(&cap, &b), 0);
  uint32_t sig = MD_HEADER_SIGNATURE;
  memcpy(b.data, &sig, 4);
  cw__md_t *md;
  char err[256] = "";
  assert_int_equal(cw__md_open_buffer(b.data, b.len, &md, err, sizeof(err)), 0);
  assert_int_equal(cw__md_error_count(md), 0);

  assert_int_equal(cw__md_thread_count(md), 2);
  for (size_t i = 0; i < 2; i++) {
    const cw__md_thread_t *t = cw__md_thread(md, i);
    const wd_thread_t *th = &cap.threads[i];
    assert_int_equal(t->tid, th->tid);
    assert_string_equal(t->name, th->name);
    assert_true(t->has_amd64);
    assert_int_equal(t->amd64.rip, th->regs.gp.rip);
    const wd_region_t *r = &cap.regions[th->stack_region];
    assert_int_equal(t->stack_start, r->start);
    assert_int_equal(t->stack_size, r->len);
    uint8_t word[8];
    assert_int_equal(cw__md_read_memory(md, th->regs.gp.rsp, word, 8), 0);
    assert_memory_equal(word, r->data + WD_RED_ZONE, 8);
  }
  assert_int_equal(cw__md_module_count(md), 1);
  const cw__md_module_t *mod = cw__md_module(md, 0);
  assert_string_equal(mod->name, kPath);
  assert_string_equal(mod->basename, "app-\xf0\x9f\x98\x80");
  assert_int_equal(mod->cv_signature, MD_CVINFOELF_SIGNATURE);
  assert_int_equal(mod->build_id_len, sizeof(kBuildId));
  assert_string_equal(mod->code_id, "f1c3bcc0279865fe3058404b2831d9e64135386c");
  assert_int_equal(
      strncmp(mod->debug_id, "c0bcc3f1-9827-fe65-3058-404b2831d9e6", 36), 0);
  assert_int_equal(cw__md_module_for_address(md, 0x555500001234ull), 0);

  const cw__md_exception_t *ex = cw__md_exception(md);
  assert_non_null(ex);
  assert_int_equal(ex->tid, 4322);
  assert_int_equal(ex->code, SIGSEGV);
  assert_int_equal(ex->flags, 2);
  assert_int_equal(ex->address, 0xdeadbeef);
  assert_true(ex->has_amd64);
  assert_int_equal(ex->amd64.rip, cap.threads[1].regs.gp.rip);

  const cw__md_system_t *si = cw__md_system_info(md);
  assert_non_null(si);
  assert_string_equal(si->vendor, "GenuineIntel");
  assert_string_equal(si->csd_version, "Linux 6.1.0-13-amd64 #1 SMP x86_64");
  const cw__md_misc_t *mi = cw__md_misc_info(md);
  assert_non_null(mi);
  assert_int_equal(mi->process_id, 4321);
  const cw__md_dso_debug_t *dd = cw__md_dso_debug(md);
  assert_non_null(dd);
  assert_int_equal(dd->count, 2);
  assert_string_equal(dd->maps[1].name, "/lib/libc.so.6");
  assert_int_equal(dd->dynamic, 0x4000);
  size_t len;
  const uint8_t *maps = cw__md_stream_data(md, MD_LINUX_MAPS, &len);
  assert_non_null(maps);
  assert_int_equal(len, strlen(kMaps));
  assert_memory_equal(maps, kMaps, len);

  cw__md_close(md);
  cw__buf_free(&b);
  cw__wd_capture_free(&cap);
}

/* The scope's release and tags as Crashpad simple annotations (issue 10),
 * read back by the symbolizer's Crashpad info parser: keys and values in
 * order, a value past Crashpad's 255 bytes cut on a UTF-8 boundary, and
 * the report id as the UUID of the event id. */
static void test_minidump_writer_crashpad_annotations(void **state) {
  (void)state;
  wd_capture_t cap;
  build_capture(&cap);
  char longv[400];
  memset(longv, 'a', sizeof(longv));
  memcpy(longv + 254, "\xc3\xa9", 2); /* bytes 254-255: one character */
  longv[sizeof(longv) - 1] = '\0';
  const char *keys[] = {"release", "tenant", "long"};
  const char *values[] = {"app@1.2.3", "acme", longv};
  cap.annotation_keys = keys;
  cap.annotation_values = values;
  cap.nannotations = 3;
  cap.report_id_hex = "0123456789abcdef0123456789abcdef";
  cw__buf_t b = CW_BUF_INIT;
  assert_int_equal(cw__wd_minidump_build(&cap, &b), 0);
  uint32_t sig = MD_HEADER_SIGNATURE;
  memcpy(b.data, &sig, 4);
  cw__md_t *md;
  char err[256] = "";
  assert_int_equal(cw__md_open_buffer(b.data, b.len, &md, err, sizeof(err)), 0);
  assert_int_equal(cw__md_error_count(md), 0);
  const cw__md_crashpad_t *cp = cw__md_crashpad_info(md);
  assert_non_null(cp);
  assert_int_equal(cp->version, 1);
  static const uint8_t id[16] = {0x67, 0x45, 0x23, 0x01, 0xab, 0x89,
                                 0xef, 0xcd, 0x01, 0x23, 0x45, 0x67,
                                 0x89, 0xab, 0xcd, 0xef};
  assert_memory_equal(cp->report_id, id, 16);
  assert_int_equal(cp->simple_count, 3);
  assert_string_equal(cp->simple[0].key, "release");
  assert_string_equal(cp->simple[0].value, "app@1.2.3");
  assert_string_equal(cp->simple[1].key, "tenant");
  assert_string_equal(cp->simple[1].value, "acme");
  assert_int_equal(strlen(cp->simple[2].value), 254);
  assert_int_equal(cp->module_count, 0);
  cw__md_close(md);
  cw__buf_free(&b);
  cap.nannotations = 0;
  cap.report_id_hex = NULL;
  cw__wd_capture_free(&cap);
}

/* This process's vDSO image (its ELF headers through its section
 * headers), malloc'd; NULL when there is none. */
static uint8_t *own_vdso(size_t *size) {
  const uint8_t *base = (const uint8_t *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
  if (base == NULL)
    return NULL;
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(const void *)base;
  *size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
  uint8_t *img = malloc(*size);
  assert_non_null(img);
  memcpy(img, base, *size);
  return img;
}

/* The vDSO has no file: its image goes into the memory list, less the part
 * a region already holds (the code around a crash inside it), so no two
 * ranges overlap; read back, the whole image is there and the symbolizer
 * opens it from the dump's bytes, its build-id checked. */
static void test_minidump_writer_vdso_image_in_memory_list(void **state) {
  (void)state;
  size_t size = 0;
  uint8_t *img = own_vdso(&size);
  if (img == NULL)
    skip();
  wd_capture_t cap;
  build_capture(&cap);
  cap.modules = realloc(cap.modules, 2 * sizeof(*cap.modules));
  assert_non_null(cap.modules);
  wd_module_t *v = &cap.modules[1];
  memset(v, 0, sizeof(*v));
  v->base = 0x7ffd00000000ull;
  v->size = (size + 0xfff) & ~(size_t)0xfff;
  v->fd = -1;
  v->path = strdup("linux-vdso.so.1");
  v->image = img;
  v->image_size = size;
  cap.nmodules = 2;
  uint8_t id[20] = {0};
  {
    /* The build-id, as the capture reads it from the note segment. */
    cw__symbolizer_t *s =
        cw__symbolizer_new(CW_SYM_NO_SYSTEM_DIRS | CW_SYM_NO_DEBUGINFOD);
    cw__sym_module_t *m = NULL;
    assert_int_equal(
        cw__symbolizer_open_image(s, "linux-vdso.so.1", img, size, NULL, 0, &m),
        0);
    const uint8_t *bid;
    size_t n = cw__sym_module_build_id(m, &bid);
    assert_true(n > 0 && n <= sizeof(id));
    memcpy(v->build_id, bid, n);
    v->build_id_len = n;
    memcpy(id, bid, n);
    cw__symbolizer_free(s);
  }
  /* A region inside the image, as the IP region of a crash in the vDSO. */
  assert_true(size > 0x400);
  assert_true(cw__wd_capture_add_region(&cap, v->base + 0x200, img + 0x200,
                                        0x100) >= 0);
  cw__buf_t b = CW_BUF_INIT;
  assert_int_equal(cw__wd_minidump_build(&cap, &b), 0);
  uint32_t sig = MD_HEADER_SIGNATURE;
  memcpy(b.data, &sig, 4);

  /* No two MemoryList ranges overlap. */
  dump_t d = {b.data, b.len};
  uint32_t msize;
  const uint8_t *ml = find(&d, MD_MEMORY_LIST_STREAM, &msize);
  assert_non_null(ml);
  uint32_t count;
  memcpy(&count, ml, 4);
  assert_int_equal(msize, 4 + count * sizeof(md_memory_descriptor_t));
  assert_int_equal(count, cap.nregions + 2); /* image before and after */
  for (uint32_t i = 0; i < count; i++)
    for (uint32_t k = i + 1; k < count; k++) {
      md_memory_descriptor_t x, y;
      memcpy(&x, ml + 4 + i * sizeof(x), sizeof(x));
      memcpy(&y, ml + 4 + k * sizeof(y), sizeof(y));
      assert_true(x.start_of_memory_range + x.memory.data_size <=
                      y.start_of_memory_range ||
                  y.start_of_memory_range + y.memory.data_size <=
                      x.start_of_memory_range);
    }

  cw__md_t *md;
  char err[256] = "";
  assert_int_equal(cw__md_open_buffer(b.data, b.len, &md, err, sizeof(err)), 0);
  assert_int_equal(cw__md_error_count(md), 0);
  uint8_t *back = malloc(size);
  assert_non_null(back);
  assert_int_equal(cw__md_read_memory(md, v->base, back, size), 0);
  assert_memory_equal(back, img, size);
  cw__symbolizer_t *s =
      cw__symbolizer_new(CW_SYM_NO_SYSTEM_DIRS | CW_SYM_NO_DEBUGINFOD);
  cw__sym_module_t *m = NULL;
  const cw__md_module_t *mm = cw__md_module(md, 1);
  assert_string_equal(mm->name, "linux-vdso.so.1");
  assert_int_equal(cw__symbolizer_open_image(s, mm->name, back, size,
                                             mm->build_id, mm->build_id_len,
                                             &m),
                   0);
  assert_string_equal(cw__sym_module_source(m), "symtab");
  /* Another build-id: refused. */
  uint8_t other[20];
  memcpy(other, id, sizeof(other));
  other[0] ^= 0xff;
  cw__sym_module_t *m2 = NULL;
  assert_int_equal(cw__symbolizer_open_image(s, mm->name, back, size, other,
                                             mm->build_id_len, &m2),
                   CW_EBUILDID);
  cw__symbolizer_free(s);
  free(back);
  cw__md_close(md);
  cw__buf_free(&b);
  cw__wd_capture_free(&cap);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_minidump_writer_streams_read_back),
      cmocka_unit_test(test_minidump_writer_signature_written_last),
      cmocka_unit_test(test_regs_from_crash_context_glibc_order),
      cmocka_unit_test(test_minidump_writer_round_trip_through_reader),
      cmocka_unit_test(test_minidump_writer_crashpad_annotations),
      cmocka_unit_test(test_minidump_writer_vdso_image_in_memory_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
