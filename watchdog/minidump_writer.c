/*
 * minidump_writer.c — serialises a wd_capture_t into a Breakpad-format
 * minidump. Normal context, watchdog process. This layer reads nothing
 * from the crashed process: give it a capture (real or synthetic) and it
 * writes the same bytes.
 *
 * Layout: header, stream directory, then the streams and the data they
 * point to (memory, contexts, strings), each 8-byte aligned. The whole dump
 * is built in memory (a report is tens of KiB) and written with the header
 * signature zeroed; the signature goes in last: a failed write leaves no
 * signature. The caller gives the fd to the spool report, whose commit
 * syncs it before the report directory is renamed into place, so a torn
 * file is never visible.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashwatch.h"
#include "debug_id.h"
#include "minidump_format.h"
#include "wd_capture.h"

static void align8(cw__buf_t *b) {
  size_t pad = (8 - (b->len & 7)) & 7;
  if (pad)
    cw__buf_append_zeros(b, pad);
}

static size_t utf8_next(const uint8_t *s, size_t n, uint32_t *cp) {
  uint8_t c = s[0];
  size_t len;
  uint32_t v, min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2, v = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, v = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    *cp = 0xfffd;
    return 1;
  }
  if (len > n) {
    *cp = 0xfffd;
    return 1;
  }
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) {
      *cp = 0xfffd;
      return 1;
    }
    v = (v << 6) | (s[i] & 0x3f);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    v = 0xfffd;
  *cp = v;
  return len;
}

/* Appends an MDString (u32 byte length, UTF-16LE, 0 terminator); returns
 * its RVA. */
static md_rva_t put_string(cw__buf_t *b, const char *s) {
  align8(b);
  md_rva_t rva = (md_rva_t)b->len;
  size_t len_off = cw__buf_append_zeros(b, 4);
  const uint8_t *p = (const uint8_t *)s;
  size_t n = strlen(s);
  uint32_t bytes = 0;
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    i += utf8_next(p + i, n - i, &cp);
    uint16_t u[2];
    int k = 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      u[0] = (uint16_t)(0xd800 | (cp >> 10));
      u[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
      k = 2;
    } else {
      u[0] = (uint16_t)cp;
    }
    cw__buf_append(b, u, (size_t)k * 2);
    bytes += (uint32_t)k * 2;
  }
  cw__buf_append_zeros(b, 2);
  if (!b->oom)
    memcpy(b->data + len_off, &bytes, 4);
  return rva;
}

/* Appends a MinidumpUTF8String (Crashpad: u32 byte length, the bytes, a
 * NUL) of at most max bytes of s, cut on a UTF-8 boundary; returns its
 * RVA. */
static md_rva_t put_utf8(cw__buf_t *b, const char *s, size_t max) {
  align8(b);
  md_rva_t rva = (md_rva_t)b->len;
  size_t n = strlen(s);
  if (n > max) {
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
      n--;
  }
  uint32_t len = (uint32_t)n;
  cw__buf_append(b, &len, 4);
  cw__buf_append(b, s, n);
  cw__buf_append_zeros(b, 1);
  return rva;
}

static md_rva_t put(cw__buf_t *b, const void *data, size_t n) {
  align8(b);
  md_rva_t rva = (md_rva_t)b->len;
  cw__buf_append(b, data, n);
  return rva;
}

static void patch(cw__buf_t *b, size_t off, const void *data, size_t n) {
  if (!b->oom)
    memcpy(b->data + off, data, n);
}

typedef struct {
  cw__buf_t *b;
  size_t dir_off;
  uint32_t count;
} dir_t;

static void dir_add(dir_t *d, uint32_t type, md_rva_t rva, size_t size) {
  md_directory_t e = {type, {(uint32_t)size, rva}};
  patch(d->b, d->dir_off + d->count * sizeof(e), &e, sizeof(e));
  d->count++;
}

/* Crashpad's limits for a simple annotation (SimpleStringDictionary). */
#define WD_ANNOTATION_MAX_ENTRIES 64
#define WD_ANNOTATION_MAX_BYTES 255

/* The Crashpad info stream (MinidumpCrashpadInfo, version 1): report id,
 * no client id, the simple annotations, no module list. Crashpad-aware
 * readers (Sentry's, crashpad's own, ours) show them as the dump's
 * annotations. */
static void crashpad_info(const wd_capture_t *cap, dir_t *dir) {
  cw__buf_t *b = dir->b;
  size_t n = cap->nannotations < WD_ANNOTATION_MAX_ENTRIES
                 ? cap->nannotations
                 : WD_ANNOTATION_MAX_ENTRIES;
  uint32_t *rvas = calloc(n * 2 + 1, sizeof(*rvas));
  if (rvas == NULL) {
    b->oom = 1;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    rvas[2 * i] = put_utf8(b, cap->annotation_keys[i], WD_ANNOTATION_MAX_BYTES);
    rvas[2 * i + 1] =
        put_utf8(b, cap->annotation_values[i], WD_ANNOTATION_MAX_BYTES);
  }
  align8(b);
  md_rva_t dict = (md_rva_t)b->len;
  uint32_t count = (uint32_t)n;
  cw__buf_append(b, &count, 4);
  cw__buf_append(b, rvas, n * 2 * sizeof(*rvas));
  free(rvas);
  uint8_t info[52];
  memset(info, 0, sizeof(info));
  uint32_t version = 1;
  memcpy(info, &version, 4);
  if (cap->report_id_hex != NULL) {
    /* The UUID's bytes as Crashpad stores a UUID: the first three fields
     * little-endian. */
    uint8_t u[16];
    if (cw__hex_decode(cap->report_id_hex, u, sizeof(u)) == 16) {
      uint8_t le[16] = {u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6]};
      memcpy(le + 8, u + 8, 8);
      memcpy(info + 4, le, 16);
    }
  }
  uint32_t dict_size = 4 + count * 8;
  memcpy(info + 36, &dict_size, 4);
  memcpy(info + 40, &dict, 4);
  dir_add(dir, MD_CRASHPAD_INFO_STREAM, put(b, info, sizeof(info)),
          sizeof(info));
}

static void parse_release(const char *rel, uint32_t v[3]) {
  v[0] = v[1] = v[2] = 0;
  const char *p = rel;
  for (int i = 0; i < 3 && *p; i++) {
    while (*p && (*p < '0' || *p > '9'))
      return;
    uint32_t x = 0;
    while (*p >= '0' && *p <= '9')
      x = x * 10 + (uint32_t)(*p++ - '0');
    v[i] = x;
    if (*p == '.')
      p++;
    else
      break;
  }
}

/* A part of a file-less module's image that no region covers. */
typedef struct {
  uint64_t start;
  size_t len;
  const uint8_t *data;
  md_rva_t rva;
} image_piece_t;

#define MAX_IMAGE_PIECES 16

/* Cuts [lo, hi) of the pieces out (every region is subtracted in turn). */
static size_t cut_pieces(image_piece_t *p, size_t n, uint64_t lo, uint64_t hi) {
  size_t out = 0;
  image_piece_t keep[MAX_IMAGE_PIECES];
  for (size_t i = 0; i < n; i++) {
    uint64_t s = p[i].start, e = p[i].start + p[i].len;
    if (hi <= s || lo >= e) {
      keep[out++] = p[i];
      continue;
    }
    if (lo > s && out < MAX_IMAGE_PIECES)
      keep[out++] = (image_piece_t){s, (size_t)(lo - s), p[i].data, 0};
    if (hi < e && out < MAX_IMAGE_PIECES)
      keep[out++] =
          (image_piece_t){hi, (size_t)(e - hi), p[i].data + (hi - s), 0};
  }
  memcpy(p, keep, out * sizeof(*p));
  return out;
}

/* The parts of the modules' images (the vDSO's) no region holds. */
static size_t image_pieces(const wd_capture_t *cap,
                           image_piece_t out[MAX_IMAGE_PIECES]) {
  size_t n = 0;
  for (size_t i = 0; i < cap->nmodules && n < MAX_IMAGE_PIECES; i++) {
    const wd_module_t *m = &cap->modules[i];
    if (m->image == NULL || m->image_size == 0 || m->image_size > UINT32_MAX)
      continue;
    image_piece_t p[MAX_IMAGE_PIECES] = {{m->base, m->image_size, m->image, 0}};
    size_t np = 1;
    for (size_t r = 0; r < cap->nregions && np > 0; r++)
      np = cut_pieces(p, np, cap->regions[r].start,
                      cap->regions[r].start + cap->regions[r].len);
    for (size_t k = 0; k < np && n < MAX_IMAGE_PIECES; k++)
      out[n++] = p[k];
  }
  return n;
}

int cw__wd_minidump_build(const wd_capture_t *cap, cw__buf_t *b) {
  enum { FIXED_STREAMS = 9 }; /* the Crashpad info stream included */
  size_t nstreams = FIXED_STREAMS + cap->nblobs;

  /* Room for the bulk at once: the memory and the blobs, and a few KiB
   * per thread and module for the lists and names. Grown by doubling from
   * a small buffer, a 64-thread dump moved through twice its size of
   * fresh pages. */
  size_t guess = 64 * 1024 + cap->nthreads * 2048 + cap->nmodules * 1024;
  for (size_t i = 0; i < cap->nregions; i++)
    guess += cap->regions[i].len;
  for (size_t i = 0; i < cap->nblobs; i++)
    guess += cap->blobs[i].len;
  if (cw__buf_reserve(b, guess) != 0)
    return CW_ENOMEM;

  md_header_t h;
  memset(&h, 0, sizeof(h));
  h.signature = 0; /* written last by cw__wd_minidump_write */
  h.version = MD_HEADER_VERSION;
  h.stream_directory_rva = sizeof(h);
  h.time_date_stamp = (uint32_t)(cap->time_realtime_ns / 1000000000ull);
  cw__buf_append(b, &h, sizeof(h));
  dir_t dir = {b, cw__buf_append_zeros(b, nstreams * sizeof(md_directory_t)),
               0};

  /* Memory: stacks and the code around the crashing instruction. */
  md_rva_t *region_rva = calloc(cap->nregions + 1, sizeof(*region_rva));
  if (region_rva == NULL)
    return CW_ENOMEM;
  for (size_t i = 0; i < cap->nregions; i++)
    region_rva[i] = put(b, cap->regions[i].data, cap->regions[i].len);

  /* The bytes of file-less modules (the vDSO: two or three pages), less
   * what a region already holds (the code around a crash inside it), so
   * that an offline symbolizer can read the module's ELF headers, symbols
   * and CFI from the dump itself and no two ranges overlap (Breakpad's
   * reader refuses overlapping memory ranges). */
  image_piece_t pieces[MAX_IMAGE_PIECES];
  size_t npieces = image_pieces(cap, pieces);
  for (size_t i = 0; i < npieces; i++)
    pieces[i].rva = put(b, pieces[i].data, pieces[i].len);

  /* Contexts. */
  md_rva_t *ctx_rva = calloc(cap->nthreads + 1, sizeof(*ctx_rva));
  if (ctx_rva == NULL) {
    free(region_rva);
    return CW_ENOMEM;
  }
  for (size_t i = 0; i < cap->nthreads; i++) {
    md_context_amd64_t c;
    cw__wd_regs_to_md_context(&cap->threads[i].regs, &c);
    ctx_rva[i] = put(b, &c, sizeof(c));
  }

  /* ThreadList. */
  align8(b);
  md_rva_t tl_rva = (md_rva_t)b->len;
  uint32_t n32 = (uint32_t)cap->nthreads;
  cw__buf_append(b, &n32, 4);
  for (size_t i = 0; i < cap->nthreads; i++) {
    const wd_thread_t *th = &cap->threads[i];
    md_thread_t t;
    memset(&t, 0, sizeof(t));
    t.thread_id = (uint32_t)th->tid;
    if (th->stack_region >= 0) {
      const wd_region_t *r = &cap->regions[th->stack_region];
      t.stack.start_of_memory_range = r->start;
      t.stack.memory.data_size = (uint32_t)r->len;
      t.stack.memory.rva = region_rva[th->stack_region];
    }
    t.thread_context.data_size = sizeof(md_context_amd64_t);
    t.thread_context.rva = ctx_rva[i];
    cw__buf_append(b, &t, sizeof(t));
  }
  dir_add(&dir, MD_THREAD_LIST_STREAM, tl_rva, 4 + cap->nthreads * 48);

  /* ThreadNameList. */
  md_rva_t *name_rva = calloc(cap->nthreads + 1, sizeof(*name_rva));
  if (name_rva == NULL) {
    free(region_rva);
    free(ctx_rva);
    return CW_ENOMEM;
  }
  for (size_t i = 0; i < cap->nthreads; i++)
    name_rva[i] = put_string(b, cap->threads[i].name);
  align8(b);
  md_rva_t tn_rva = (md_rva_t)b->len;
  cw__buf_append(b, &n32, 4);
  for (size_t i = 0; i < cap->nthreads; i++) {
    md_thread_name_t tn = {(uint32_t)cap->threads[i].tid, name_rva[i]};
    cw__buf_append(b, &tn, sizeof(tn));
  }
  dir_add(&dir, MD_THREAD_NAME_LIST_STREAM, tn_rva,
          4 + cap->nthreads * sizeof(md_thread_name_t));
  free(name_rva);

  /* ModuleList. */
  md_module_t *mods = calloc(cap->nmodules + 1, sizeof(*mods));
  if (mods == NULL) {
    free(region_rva);
    free(ctx_rva);
    return CW_ENOMEM;
  }
  for (size_t i = 0; i < cap->nmodules; i++) {
    const wd_module_t *m = &cap->modules[i];
    md_module_t *o = &mods[i];
    o->base_of_image = m->base;
    o->size_of_image = (uint32_t)m->size;
    o->module_name_rva = put_string(b, m->path);
    uint8_t cv[4 + sizeof(m->build_id)];
    uint32_t sig = MD_CVINFOELF_SIGNATURE;
    memcpy(cv, &sig, 4);
    memcpy(cv + 4, m->build_id, m->build_id_len);
    o->cv_record.rva = put(b, cv, 4 + m->build_id_len);
    o->cv_record.data_size = (uint32_t)(4 + m->build_id_len);
  }
  align8(b);
  md_rva_t ml_rva = (md_rva_t)b->len;
  n32 = (uint32_t)cap->nmodules;
  cw__buf_append(b, &n32, 4);
  cw__buf_append(b, mods, cap->nmodules * sizeof(*mods));
  dir_add(&dir, MD_MODULE_LIST_STREAM, ml_rva,
          4 + cap->nmodules * sizeof(md_module_t));
  free(mods);

  /* MemoryList. */
  align8(b);
  md_rva_t mem_rva = (md_rva_t)b->len;
  n32 = (uint32_t)(cap->nregions + npieces);
  cw__buf_append(b, &n32, 4);
  for (size_t i = 0; i < cap->nregions; i++) {
    md_memory_descriptor_t d = {cap->regions[i].start,
                                {(uint32_t)cap->regions[i].len, region_rva[i]}};
    cw__buf_append(b, &d, sizeof(d));
  }
  for (size_t i = 0; i < npieces; i++) {
    md_memory_descriptor_t d = {pieces[i].start,
                                {(uint32_t)pieces[i].len, pieces[i].rva}};
    cw__buf_append(b, &d, sizeof(d));
  }
  dir_add(&dir, MD_MEMORY_LIST_STREAM, mem_rva,
          4 + (cap->nregions + npieces) * sizeof(md_memory_descriptor_t));

  /* Exception. */
  md_exception_stream_t ex;
  memset(&ex, 0, sizeof(ex));
  ex.thread_id = (uint32_t)cap->crashed_tid;
  ex.exception_record.exception_code = (uint32_t)cap->signo;
  ex.exception_record.exception_flags = (uint32_t)cap->si_code;
  ex.exception_record.exception_address = cap->fault_addr;
  if (cap->nthreads > 0) {
    ex.thread_context.data_size = sizeof(md_context_amd64_t);
    ex.thread_context.rva = ctx_rva[cap->crashed_index];
  }
  dir_add(&dir, MD_EXCEPTION_STREAM, put(b, &ex, sizeof(ex)), sizeof(ex));

  /* SystemInfo. */
  const wd_sysinfo_t *s = &cap->sys;
  md_system_info_t si;
  memset(&si, 0, sizeof(si));
  si.processor_architecture = MD_CPU_ARCHITECTURE_AMD64;
  si.processor_level = s->cpu_level;
  si.processor_revision = s->cpu_revision;
  si.number_of_processors = (uint8_t)(s->ncpus > 255 ? 255 : s->ncpus);
  uint32_t ver[3];
  parse_release(s->release, ver);
  si.major_version = ver[0];
  si.minor_version = ver[1];
  si.build_number = ver[2];
  si.platform_id = MD_OS_LINUX;
  char csd[300];
  snprintf(csd, sizeof(csd), "%s %s %s %s", s->sysname, s->release, s->version,
           s->machine);
  si.csd_version_rva = put_string(b, csd);
  memcpy(si.cpu.x86.vendor_id, s->cpu_vendor, sizeof(si.cpu.x86.vendor_id));
  si.cpu.x86.version_information = s->cpu_version;
  si.cpu.x86.feature_information = s->cpu_features;
  si.cpu.x86.amd_extended_cpu_features = s->cpu_amd_ext;
  dir_add(&dir, MD_SYSTEM_INFO_STREAM, put(b, &si, sizeof(si)), sizeof(si));

  /* MiscInfo. */
  md_misc_info_t mi;
  memset(&mi, 0, sizeof(mi));
  mi.size_of_info = sizeof(mi);
  mi.flags1 = MD_MISCINFO_FLAGS1_PROCESS_ID;
  mi.process_id = (uint32_t)cap->pid;
  if (cap->process_start_time) {
    mi.flags1 |= MD_MISCINFO_FLAGS1_PROCESS_TIMES;
    mi.process_create_time = (uint32_t)cap->process_start_time;
  }
  dir_add(&dir, MD_MISC_INFO_STREAM, put(b, &mi, sizeof(mi)), sizeof(mi));

  /* The Linux text/binary streams, verbatim. */
  for (size_t i = 0; i < cap->nblobs; i++)
    dir_add(&dir, cap->blobs[i].stream_type,
            put(b, cap->blobs[i].data, cap->blobs[i].len), cap->blobs[i].len);

  /* DSO debug: r_debug and the link_map chain. */
  if (cap->dso_debug.present) {
    const wd_dso_debug_t *d = &cap->dso_debug;
    md_link_map64_t *lm = calloc(d->ndsos + 1, sizeof(*lm));
    if (lm != NULL) {
      for (size_t i = 0; i < d->ndsos; i++) {
        lm[i].addr = d->dsos[i].addr;
        lm[i].ld = d->dsos[i].ld;
        lm[i].name = put_string(b, d->dsos[i].name ? d->dsos[i].name : "");
      }
      md_debug64_t dbg;
      memset(&dbg, 0, sizeof(dbg));
      dbg.version = d->version;
      dbg.map = put(b, lm, d->ndsos * sizeof(*lm));
      dbg.dso_count = (uint32_t)d->ndsos;
      dbg.brk = d->brk;
      dbg.ldbase = d->ldbase;
      dbg.dynamic = d->dynamic;
      /* Breakpad follows MDRawDebug with the _DYNAMIC array. */
      md_rva_t rva = put(b, &dbg, sizeof(dbg));
      if (d->dynamic_len > 0)
        cw__buf_append(b, d->dynamic_data, d->dynamic_len);
      dir_add(&dir, MD_LINUX_DSO_DEBUG, rva, sizeof(dbg) + d->dynamic_len);
      free(lm);
    }
  }

  if (cap->nannotations > 0 || cap->report_id_hex != NULL)
    crashpad_info(cap, &dir);

  free(region_rva);
  free(ctx_rva);
  if (b->oom)
    return CW_ENOMEM;
  if (b->len > UINT32_MAX)
    return CW_ERANGE;
  /* Streams we had no data for are not listed. */
  uint32_t count = dir.count;
  patch(b, offsetof(md_header_t, stream_count), &count, 4);
  return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return w < 0 ? -errno : CW_EIO;
    p += w;
    n -= (size_t)w;
    off += w;
  }
  return 0;
}

int cw__wd_minidump_write(const wd_capture_t *cap, int fd) {
  cw__buf_t b = CW_BUF_INIT;
  int rc = cw__wd_minidump_build(cap, &b);
  if (rc == 0)
    rc = write_all(fd, b.data, b.len, 0);
  /* The signature goes last. No sync here: the file lives in the report's
   * temporary directory, which becomes visible (renamed) only after the
   * commit has synced it with the report's other files and the directory
   * (cw__spool_report_close_file), so no reader ever sees a torn dump. */
  if (rc == 0) {
    uint32_t sig = MD_HEADER_SIGNATURE;
    rc = write_all(fd, (const uint8_t *)&sig, 4, 0);
  }
  cw__buf_free(&b);
  return rc;
}
