/*
 * minidump.c — the minidump reader (see minidump.h). Normal context.
 *
 * Every access to the file goes through md_span(), which checks an (offset,
 * size) pair against the file length without overflowing; every count read
 * from the file is checked against the bytes its stream really has before
 * anything is allocated for it, so an allocation is never larger than the
 * file. Stream errors are collected (not fatal) so a damaged dump still shows
 * what it can.
 */
#include "minidump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crashwatch.h"
#include "debug_id.h"
#include "regfile.h"

#define MD_MAX_ERRORS 64

struct cw__md {
  const uint8_t *data;
  size_t len;
  void *map; /* mmap of the file, or NULL */
  uint8_t *copy;
  md_header_t header;
  cw__md_stream_t *streams;
  size_t nstreams;
  cw__md_thread_t *threads;
  size_t nthreads;
  cw__md_module_t *modules;
  size_t nmodules;
  cw__md_range_t *mem;
  size_t nmem, capmem;
  /* Lookup indexes (ranges and modules may overlap): mem sorted by start,
   * mem_maxend[i] the largest end among mem[0..i]; mod_order the module
   * indexes sorted by base, mod_maxend likewise. */
  uint64_t *mem_maxend;
  size_t *mod_order;
  uint64_t *mod_maxend;
  int has_exc, has_sys, has_misc, has_dso, has_cp;
  cw__md_exception_t exc;
  cw__md_system_t sys;
  cw__md_misc_t misc;
  cw__md_dso_debug_t dso;
  cw__md_crashpad_t cp;
  cw__md_auxv_t *auxv;
  size_t nauxv;
  cw__buf_t errors;
  size_t nerrors;
  /* Every string and array handed out, freed by cw__md_close(). */
  void **allocs;
  size_t nallocs, capallocs;
};

/* ---- helpers ----------------------------------------------------------- */

static void md_error(cw__md_t *md, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void md_error(cw__md_t *md, const char *fmt, ...) {
  md->nerrors++;
  if (md->nerrors > MD_MAX_ERRORS)
    return;
  va_list ap;
  va_start(ap, fmt);
  cw__buf_append_str(&md->errors, "minidump: ");
  cw__buf_vprintf(&md->errors, fmt, ap);
  cw__buf_append_str(&md->errors, "\n");
  va_end(ap);
}

/* Remembers p so cw__md_close() frees it; frees it now on failure. */
static void *md_keep(cw__md_t *md, void *p) {
  if (p == NULL)
    return NULL;
  if (md->nallocs == md->capallocs) {
    size_t cap = md->capallocs ? md->capallocs * 2 : 64;
    void **n = realloc(md->allocs, cap * sizeof(*n));
    if (n == NULL) {
      free(p);
      return NULL;
    }
    md->allocs = n;
    md->capallocs = cap;
  }
  md->allocs[md->nallocs++] = p;
  return p;
}

static void *md_calloc(cw__md_t *md, size_t n, size_t size) {
  return md_keep(md, calloc(n ? n : 1, size));
}

/* Does [off, off+size) lie inside the file? */
static int md_span(const cw__md_t *md, uint64_t off, uint64_t size) {
  return off <= md->len && size <= md->len - off;
}

static uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static uint64_t rd64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static const char *empty_string = "";

/* Appends code point cp as UTF-8. */
static size_t put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xc0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xe0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  o[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

/* Reads the MDString (UTF-16LE) at rva as UTF-8. Unpaired surrogates become
 * U+FFFD; the string ends at its length or at a 0 code unit. NULL (with an
 * error naming what) when it does not fit in the file. */
static const char *md_string(cw__md_t *md, uint64_t rva, const char *what) {
  if (!md_span(md, rva, 4)) {
    md_error(md, "%s: string at offset 0x%llx is outside the file (%zu bytes)",
             what, (unsigned long long)rva, md->len);
    return NULL;
  }
  uint32_t bytes = rd32(md->data + rva);
  if (!md_span(md, rva + 4, bytes)) {
    md_error(md,
             "%s: string at offset 0x%llx: length %u runs past the end of "
             "the file (%zu bytes)",
             what, (unsigned long long)rva, bytes, md->len);
    return NULL;
  }
  size_t units = bytes / 2;
  const uint8_t *p = md->data + rva + 4;
  char *out = md_keep(md, malloc(units * 3 + 1));
  if (out == NULL)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < units; i++) {
    uint32_t u = (uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8;
    if (u == 0)
      break;
    if (u >= 0xd800 && u < 0xdc00 && i + 1 < units) {
      uint32_t lo = (uint32_t)p[2 * i + 2] | (uint32_t)p[2 * i + 3] << 8;
      if (lo >= 0xdc00 && lo < 0xe000) {
        o += put_utf8(out + o, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
        i++;
        continue;
      }
    }
    if (u >= 0xd800 && u < 0xe000)
      u = 0xfffd;
    o += put_utf8(out + o, u);
  }
  out[o] = '\0';
  return out;
}

/* A MinidumpUTF8String (Crashpad): u32 length, bytes, NUL. */
static const char *md_utf8_string(cw__md_t *md, uint64_t rva,
                                  const char *what) {
  if (!md_span(md, rva, 4) || !md_span(md, rva + 4, rd32(md->data + rva))) {
    md_error(md, "%s: UTF-8 string at offset 0x%llx does not fit in the file",
             what, (unsigned long long)rva);
    return NULL;
  }
  uint32_t n = rd32(md->data + rva);
  char *s = md_keep(md, malloc((size_t)n + 1));
  if (s == NULL)
    return NULL;
  memcpy(s, md->data + rva + 4, n);
  s[n] = '\0';
  return s;
}

/* Checks a list stream: a count of `width`-byte counter then count entries of
 * `entry` bytes. Some writers pad the counter to 8 bytes; that is accepted
 * when the stream size says so. Returns the offset of the first entry or 0
 * after an error. */
static uint64_t md_list(cw__md_t *md, const cw__md_stream_t *s,
                        const char *what, size_t entry, uint32_t *count) {
  if (s->size < 4) {
    md_error(md, "%s stream at offset 0x%x: size %u is too small for a count",
             what, s->rva, s->size);
    return 0;
  }
  uint32_t n = rd32(md->data + s->rva);
  uint64_t need = 4 + (uint64_t)n * entry;
  if (need > s->size) {
    md_error(md,
             "%s stream at offset 0x%x: count %u needs %llu bytes, stream "
             "has %u",
             what, s->rva, n, (unsigned long long)need, s->size);
    return 0;
  }
  *count = n;
  if (need + 4 == s->size && n > 0)
    return (uint64_t)s->rva + 8; /* padded counter */
  return (uint64_t)s->rva + 4;
}

/* ---- contexts ---------------------------------------------------------- */

static cw__md_cpu_t md_context_cpu(const uint8_t *p, uint32_t size) {
  if (size >= sizeof(md_context_amd64_t)) {
    uint32_t f = rd32(p + offsetof(md_context_amd64_t, context_flags));
    if ((f & 0xffffff00u) == MD_CONTEXT_AMD64)
      return CW_MD_CPU_AMD64;
  }
  if (size < 4)
    return CW_MD_CPU_UNKNOWN;
  uint32_t f = rd32(p) & 0xffffff00u;
  if (f == 0x00010000u)
    return CW_MD_CPU_X86;
  if (f == 0x40000000u)
    return CW_MD_CPU_ARM;
  if (f == 0x00400000u || f == 0x80000000u)
    return CW_MD_CPU_ARM64;
  return CW_MD_CPU_UNKNOWN;
}

/* Reads the context at loc. Returns 1 when *ctx holds an amd64 context. */
static int md_read_context(cw__md_t *md, const md_location_t *loc,
                           const char *what, uint64_t where, cw__md_cpu_t *cpu,
                           md_context_amd64_t *ctx) {
  *cpu = CW_MD_CPU_UNKNOWN;
  if (loc->rva == 0 && loc->data_size == 0)
    return 0;
  if (!md_span(md, loc->rva, loc->data_size)) {
    md_error(md,
             "%s at offset 0x%llx: context at offset 0x%x size %u is outside "
             "the file (%zu bytes)",
             what, (unsigned long long)where, loc->rva, loc->data_size,
             md->len);
    return 0;
  }
  const uint8_t *p = md->data + loc->rva;
  *cpu = md_context_cpu(p, loc->data_size);
  if (*cpu != CW_MD_CPU_AMD64) {
    if (*cpu == CW_MD_CPU_UNKNOWN)
      md_error(md,
               "%s at offset 0x%llx: context at offset 0x%x (size %u) has "
               "unrecognised CPU flags",
               what, (unsigned long long)where, loc->rva, loc->data_size);
    return 0;
  }
  memcpy(ctx, p, sizeof(*ctx));
  return 1;
}

/* ---- streams ----------------------------------------------------------- */

static int md_add_range(cw__md_t *md, uint64_t start, uint64_t size,
                        uint64_t rva) {
  if (md->nmem == md->capmem) {
    size_t cap = md->capmem ? md->capmem * 2 : 32;
    cw__md_range_t *n = realloc(md->mem, cap * sizeof(*n));
    if (n == NULL)
      return CW_ENOMEM;
    md->mem = n;
    md->capmem = cap;
  }
  md->mem[md->nmem++] = (cw__md_range_t){start, size, md->data + rva, rva};
  return 0;
}

static void parse_thread_list(cw__md_t *md, const cw__md_stream_t *s) {
  uint32_t n = 0;
  uint64_t off = md_list(md, s, "thread list", sizeof(md_thread_t), &n);
  if (off == 0 || md->threads != NULL)
    return;
  md->threads = md_calloc(md, n, sizeof(cw__md_thread_t));
  if (md->threads == NULL)
    return;
  for (uint32_t i = 0; i < n; i++, off += sizeof(md_thread_t)) {
    md_thread_t raw;
    memcpy(&raw, md->data + off, sizeof(raw));
    cw__md_thread_t *t = &md->threads[md->nthreads++];
    t->tid = raw.thread_id;
    t->suspend_count = raw.suspend_count;
    t->priority_class = raw.priority_class;
    t->priority = raw.priority;
    t->teb = raw.teb;
    t->stack_start = raw.stack.start_of_memory_range;
    if (md_span(md, raw.stack.memory.rva, raw.stack.memory.data_size)) {
      t->stack_size = raw.stack.memory.data_size;
      t->stack_rva = raw.stack.memory.rva;
      if (t->stack_size > 0 &&
          md_add_range(md, t->stack_start, t->stack_size, t->stack_rva) != 0)
        md_error(md, "out of memory");
    } else {
      md_error(md,
               "thread list stream at offset 0x%llx: thread %u stack memory "
               "at offset 0x%x size %u is outside the file (%zu bytes)",
               (unsigned long long)off, t->tid, raw.stack.memory.rva,
               raw.stack.memory.data_size, md->len);
    }
    t->context_rva = raw.thread_context.rva;
    t->context_size = raw.thread_context.data_size;
    char what[64];
    snprintf(what, sizeof(what), "thread list stream: thread %u", t->tid);
    t->has_amd64 =
        md_read_context(md, &raw.thread_context, what, off, &t->cpu, &t->amd64);
  }
}

static void parse_thread_names(cw__md_t *md, const cw__md_stream_t *s) {
  uint32_t n = 0;
  uint64_t off =
      md_list(md, s, "thread name list", sizeof(md_thread_name_t), &n);
  if (off == 0)
    return;
  for (uint32_t i = 0; i < n; i++, off += sizeof(md_thread_name_t)) {
    md_thread_name_t raw;
    memcpy(&raw, md->data + off, sizeof(raw));
    long idx = cw__md_thread_index(md, raw.thread_id);
    if (idx < 0)
      continue;
    const char *name = md_string(md, raw.thread_name_rva, "thread name list");
    if (name != NULL)
      md->threads[idx].name = name;
  }
}

static void format_pdb_ids(cw__md_module_t *m) {
  const uint8_t *g = m->pdb_guid;
  uint32_t d1 = rd32(g);
  uint16_t d2 = (uint16_t)(g[4] | g[5] << 8), d3 = (uint16_t)(g[6] | g[7] << 8);
  snprintf(m->debug_id, sizeof(m->debug_id),
           "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", d1, d2, d3, g[8],
           g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
  if (m->pdb_age != 0) {
    size_t n = strlen(m->debug_id);
    snprintf(m->debug_id + n, sizeof(m->debug_id) - n, "-%x", m->pdb_age);
  }
  snprintf(m->breakpad_id, sizeof(m->breakpad_id),
           "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%X", d1, d2, d3, g[8],
           g[9], g[10], g[11], g[12], g[13], g[14], g[15], m->pdb_age);
  /* A PE code id (timestamp + size) only means something for Windows
   * modules; Linux writers that use RSDS hash the text section instead. */
  m->code_id[0] = '\0';
}

static void parse_cv_record(cw__md_t *md, cw__md_module_t *m,
                            const md_location_t *cv, uint64_t where) {
  if (cv->data_size == 0)
    return;
  if (cv->data_size < 4 || !md_span(md, cv->rva, cv->data_size)) {
    md_error(md,
             "module list stream at offset 0x%llx: module %s: CodeView "
             "record at offset 0x%x size %u is outside the file or too small",
             (unsigned long long)where, m->basename, cv->rva, cv->data_size);
    return;
  }
  const uint8_t *p = md->data + cv->rva;
  m->cv_signature = rd32(p);
  if (m->cv_signature == MD_CVINFOELF_SIGNATURE) {
    size_t n = cv->data_size - 4;
    if (n > CW_MD_MAX_BUILD_ID) {
      md_error(md,
               "module list stream: module %s: build-id of %zu bytes "
               "truncated to %d",
               m->basename, n, CW_MD_MAX_BUILD_ID);
      n = CW_MD_MAX_BUILD_ID;
    }
    memcpy(m->build_id, p + 4, n);
    m->build_id_len = n;
    cw__hex_encode(m->build_id, n, m->code_id);
    char did[37], bid[34];
    cw__debug_id_from_build_id(m->build_id, n, did);
    cw__breakpad_id_from_build_id(m->build_id, n, bid);
    snprintf(m->debug_id, sizeof(m->debug_id), "%s", did);
    snprintf(m->breakpad_id, sizeof(m->breakpad_id), "%s", bid);
  } else if (m->cv_signature == MD_CVINFOPDB70_SIGNATURE) {
    if (cv->data_size < 24) {
      md_error(md,
               "module list stream: module %s: RSDS record of %u bytes is "
               "shorter than 24",
               m->basename, cv->data_size);
      return;
    }
    memcpy(m->pdb_guid, p + 4, 16);
    m->pdb_age = rd32(p + 20);
    size_t n = strnlen((const char *)p + 24, cv->data_size - 24);
    char *name = md_keep(md, malloc(n + 1));
    if (name != NULL) {
      memcpy(name, p + 24, n);
      name[n] = '\0';
      m->pdb_name = name;
    }
    format_pdb_ids(m);
  }
}

static void parse_module_list(cw__md_t *md, const cw__md_stream_t *s) {
  uint32_t n = 0;
  uint64_t off = md_list(md, s, "module list", sizeof(md_module_t), &n);
  if (off == 0 || md->modules != NULL)
    return;
  md->modules = md_calloc(md, n, sizeof(cw__md_module_t));
  if (md->modules == NULL)
    return;
  for (uint32_t i = 0; i < n; i++, off += sizeof(md_module_t)) {
    md_module_t raw;
    memcpy(&raw, md->data + off, sizeof(raw));
    cw__md_module_t *m = &md->modules[md->nmodules++];
    m->base = raw.base_of_image;
    m->size = raw.size_of_image;
    m->checksum = raw.checksum;
    m->time_date_stamp = raw.time_date_stamp;
    m->version_info = raw.version_info;
    const char *name = md_string(md, raw.module_name_rva, "module list stream");
    m->name = name ? name : empty_string;
    const char *slash = strrchr(m->name, '/');
    m->basename = slash ? slash + 1 : m->name;
    parse_cv_record(md, m, &raw.cv_record, off);
  }
}

static void parse_memory_list(cw__md_t *md, const cw__md_stream_t *s) {
  uint32_t n = 0;
  uint64_t off =
      md_list(md, s, "memory list", sizeof(md_memory_descriptor_t), &n);
  if (off == 0)
    return;
  for (uint32_t i = 0; i < n; i++, off += sizeof(md_memory_descriptor_t)) {
    md_memory_descriptor_t d;
    memcpy(&d, md->data + off, sizeof(d));
    if (!md_span(md, d.memory.rva, d.memory.data_size)) {
      md_error(md,
               "memory list stream at offset 0x%x: range %u (0x%llx) data at "
               "offset 0x%x size %u is outside the file (%zu bytes)",
               s->rva, i, (unsigned long long)d.start_of_memory_range,
               d.memory.rva, d.memory.data_size, md->len);
      continue;
    }
    if (d.memory.data_size > 0 &&
        md_add_range(md, d.start_of_memory_range, d.memory.data_size,
                     d.memory.rva) != 0)
      md_error(md, "out of memory");
  }
}

static void parse_memory64_list(cw__md_t *md, const cw__md_stream_t *s) {
  if (s->size < 16) {
    md_error(md, "memory64 list stream at offset 0x%x: size %u is below 16",
             s->rva, s->size);
    return;
  }
  uint64_t n = rd64(md->data + s->rva);
  uint64_t rva = rd64(md->data + s->rva + 8);
  if (n > (s->size - 16) / 16) {
    md_error(
        md,
        "memory64 list stream at offset 0x%x: count %llu needs %llu "
        "bytes, stream has %u",
        s->rva, (unsigned long long)n,
        (unsigned long long)(n > UINT64_MAX / 32 ? UINT64_MAX : 16 + n * 16),
        s->size);
    return;
  }
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *d = md->data + s->rva + 16 + i * 16;
    uint64_t start = rd64(d), size = rd64(d + 8);
    if (!md_span(md, rva, size)) {
      md_error(md,
               "memory64 list stream at offset 0x%x: range %llu (0x%llx) "
               "data at offset 0x%llx size %llu is outside the file (%zu "
               "bytes)",
               s->rva, (unsigned long long)i, (unsigned long long)start,
               (unsigned long long)rva, (unsigned long long)size, md->len);
      return; /* later ranges are positioned after this one: all lost */
    }
    if (size > 0 && md_add_range(md, start, size, rva) != 0)
      md_error(md, "out of memory");
    rva += size;
  }
}

static void parse_exception(cw__md_t *md, const cw__md_stream_t *s) {
  if (s->size < sizeof(md_exception_stream_t)) {
    md_error(md, "exception stream at offset 0x%x: size %u, needs %zu bytes",
             s->rva, s->size, sizeof(md_exception_stream_t));
    return;
  }
  md_exception_stream_t raw;
  memcpy(&raw, md->data + s->rva, sizeof(raw));
  cw__md_exception_t *e = &md->exc;
  e->tid = raw.thread_id;
  e->code = raw.exception_record.exception_code;
  e->flags = raw.exception_record.exception_flags;
  e->address = raw.exception_record.exception_address;
  e->record = raw.exception_record.exception_record;
  e->nparams = raw.exception_record.number_parameters;
  if (e->nparams > MD_EXCEPTION_MAXIMUM_PARAMETERS) {
    md_error(md,
             "exception stream at offset 0x%x: %u parameters, at most %d "
             "exist",
             s->rva, e->nparams, MD_EXCEPTION_MAXIMUM_PARAMETERS);
    e->nparams = MD_EXCEPTION_MAXIMUM_PARAMETERS;
  }
  memcpy(e->params, raw.exception_record.exception_information,
         sizeof(e->params));
  e->context_rva = raw.thread_context.rva;
  e->context_size = raw.thread_context.data_size;
  e->has_amd64 = md_read_context(md, &raw.thread_context, "exception stream",
                                 s->rva, &e->cpu, &e->amd64);
  md->has_exc = 1;
}

static void parse_system_info(cw__md_t *md, const cw__md_stream_t *s) {
  if (s->size < sizeof(md_system_info_t)) {
    md_error(md, "system info stream at offset 0x%x: size %u, needs %zu bytes",
             s->rva, s->size, sizeof(md_system_info_t));
    return;
  }
  cw__md_system_t *si = &md->sys;
  memcpy(&si->raw, md->data + s->rva, sizeof(si->raw));
  si->csd_version = empty_string;
  if (si->raw.csd_version_rva != 0) {
    const char *c =
        md_string(md, si->raw.csd_version_rva, "system info stream");
    if (c != NULL)
      si->csd_version = c;
  }
  uint16_t arch = si->raw.processor_architecture;
  if (arch == MD_CPU_ARCHITECTURE_X86 || arch == MD_CPU_ARCHITECTURE_AMD64) {
    memcpy(si->vendor, si->raw.cpu.x86.vendor_id, 12);
    si->vendor[12] = '\0';
    for (int i = 0; i < 12; i++)
      if ((unsigned char)si->vendor[i] < 0x20 ||
          (unsigned char)si->vendor[i] > 0x7e)
        si->vendor[i] = si->vendor[i] ? '?' : '\0';
    snprintf(si->cpu_info, sizeof(si->cpu_info),
             "family %u model %u stepping %u", si->raw.processor_level,
             si->raw.processor_revision >> 8,
             si->raw.processor_revision & 0xff);
  }
  md->has_sys = 1;
}

static void parse_misc_info(cw__md_t *md, const cw__md_stream_t *s) {
  if (s->size < sizeof(md_misc_info_t)) {
    md_error(md, "misc info stream at offset 0x%x: size %u, needs %zu bytes",
             s->rva, s->size, sizeof(md_misc_info_t));
    return;
  }
  md_misc_info_t raw;
  memcpy(&raw, md->data + s->rva, sizeof(raw));
  md->misc = (cw__md_misc_t){raw.size_of_info,      raw.flags1,
                             raw.process_id,        raw.process_create_time,
                             raw.process_user_time, raw.process_kernel_time};
  md->has_misc = 1;
}

static void parse_dso_debug(cw__md_t *md, const cw__md_stream_t *s) {
  if (s->size < sizeof(md_debug64_t)) {
    md_error(md,
             "DSO debug stream at offset 0x%x: size %u, needs %zu bytes "
             "(only 64-bit is read)",
             s->rva, s->size, sizeof(md_debug64_t));
    return;
  }
  md_debug64_t raw;
  memcpy(&raw, md->data + s->rva, sizeof(raw));
  cw__md_dso_debug_t *d = &md->dso;
  d->version = raw.version;
  d->brk = raw.brk;
  d->ldbase = raw.ldbase;
  d->dynamic = raw.dynamic;
  uint64_t need = (uint64_t)raw.dso_count * sizeof(md_link_map64_t);
  if (!md_span(md, raw.map, need)) {
    md_error(md,
             "DSO debug stream at offset 0x%x: %u link maps at offset 0x%x "
             "need %llu bytes, the file has %zu",
             s->rva, raw.dso_count, raw.map, (unsigned long long)need, md->len);
    md->has_dso = 1;
    return;
  }
  d->maps = md_calloc(md, raw.dso_count, sizeof(*d->maps));
  if (d->maps == NULL)
    return;
  for (uint32_t i = 0; i < raw.dso_count; i++) {
    md_link_map64_t lm;
    memcpy(&lm, md->data + raw.map + (uint64_t)i * sizeof(lm), sizeof(lm));
    d->maps[i].addr = lm.addr;
    d->maps[i].ld = lm.ld;
    const char *name =
        lm.name ? md_string(md, lm.name, "DSO debug stream") : NULL;
    d->maps[i].name = name ? name : empty_string;
    d->count++;
  }
  md->has_dso = 1;
}

/* A MinidumpSimpleStringDictionary at loc. */
static size_t parse_dictionary(cw__md_t *md, const md_location_t *loc,
                               const char *what, cw__md_annotation_t **out) {
  *out = NULL;
  if (loc->rva == 0 || loc->data_size < 4)
    return 0;
  if (!md_span(md, loc->rva, loc->data_size)) {
    md_error(md, "%s: dictionary at offset 0x%x size %u is outside the file",
             what, loc->rva, loc->data_size);
    return 0;
  }
  uint32_t n = rd32(md->data + loc->rva);
  if ((uint64_t)n * 8 + 4 > loc->data_size) {
    md_error(md,
             "%s: dictionary at offset 0x%x: count %u needs %llu bytes, has "
             "%u",
             what, loc->rva, n, (unsigned long long)n * 8 + 4, loc->data_size);
    return 0;
  }
  cw__md_annotation_t *a = md_calloc(md, n, sizeof(*a));
  if (a == NULL)
    return 0;
  size_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *e = md->data + loc->rva + 4 + (size_t)i * 8;
    const char *key = md_utf8_string(md, rd32(e), what);
    const char *value = md_utf8_string(md, rd32(e + 4), what);
    if (key != NULL && value != NULL)
      a[k++] = (cw__md_annotation_t){key, value};
  }
  *out = a;
  return k;
}

static void parse_crashpad_info(cw__md_t *md, const cw__md_stream_t *s) {
  if (s->size < 52) {
    md_error(md, "Crashpad info stream at offset 0x%x: size %u, needs 52",
             s->rva, s->size);
    return;
  }
  const uint8_t *p = md->data + s->rva;
  cw__md_crashpad_t *c = &md->cp;
  c->version = rd32(p);
  memcpy(c->report_id, p + 4, 16);
  memcpy(c->client_id, p + 20, 16);
  md_location_t simple = {rd32(p + 36), rd32(p + 40)};
  md_location_t mods = {rd32(p + 44), rd32(p + 48)};
  c->simple_count =
      parse_dictionary(md, &simple, "Crashpad info stream", &c->simple);
  md->has_cp = 1;
  if (mods.rva == 0 || mods.data_size < 4)
    return;
  if (!md_span(md, mods.rva, mods.data_size)) {
    md_error(md,
             "Crashpad info stream: module list at offset 0x%x size %u is "
             "outside the file",
             mods.rva, mods.data_size);
    return;
  }
  uint32_t n = rd32(md->data + mods.rva);
  if ((uint64_t)n * 12 + 4 > mods.data_size) {
    md_error(md,
             "Crashpad info stream: module list at offset 0x%x: count %u "
             "needs %llu bytes, has %u",
             mods.rva, n, (unsigned long long)n * 12 + 4, mods.data_size);
    return;
  }
  c->modules = md_calloc(md, n, sizeof(*c->modules));
  if (c->modules == NULL)
    return;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *l = md->data + mods.rva + 4 + (size_t)i * 12;
    cw__md_crashpad_module_t *m = &c->modules[c->module_count++];
    m->module_index = rd32(l);
    md_location_t info = {rd32(l + 4), rd32(l + 8)};
    if (info.data_size < 20 || !md_span(md, info.rva, info.data_size)) {
      md_error(md,
               "Crashpad info stream: module info %u at offset 0x%x size %u "
               "is outside the file or too small",
               i, info.rva, info.data_size);
      continue;
    }
    const uint8_t *q = md->data + info.rva;
    md_location_t list = {rd32(q + 4), rd32(q + 8)};
    md_location_t dict = {rd32(q + 12), rd32(q + 16)};
    m->simple_count =
        parse_dictionary(md, &dict, "Crashpad module info", &m->simple);
    if (list.rva != 0 && list.data_size >= 4 &&
        md_span(md, list.rva, list.data_size)) {
      uint32_t k = rd32(md->data + list.rva);
      if ((uint64_t)k * 4 + 4 <= list.data_size) {
        m->list = md_calloc(md, k, sizeof(char *));
        for (uint32_t j = 0; m->list && j < k; j++) {
          const char *v =
              md_utf8_string(md, rd32(md->data + list.rva + 4 + (size_t)j * 4),
                             "Crashpad module info");
          if (v != NULL)
            m->list[m->list_count++] = v;
        }
      } else {
        md_error(md,
                 "Crashpad module info: list at offset 0x%x: count %u needs "
                 "%llu bytes, has %u",
                 list.rva, k, (unsigned long long)k * 4 + 4, list.data_size);
      }
    }
  }
}

static int cmp_range(const void *a, const void *b) {
  const cw__md_range_t *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  return x->size < y->size ? -1 : x->size > y->size;
}

static int cmp_module(const void *a, const void *b, void *ctx) {
  const cw__md_module_t *mods = ctx;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  if (mods[x].base != mods[y].base)
    return mods[x].base < mods[y].base ? -1 : 1;
  return x < y ? -1 : x > y;
}

static void md_sort_modules(cw__md_t *md) {
  if (md->nmodules > 1)
    qsort_r(md->mod_order, md->nmodules, sizeof(size_t), cmp_module,
            md->modules);
}

static uint64_t end_of(uint64_t start, uint64_t size) {
  return size > UINT64_MAX - start ? UINT64_MAX : start + size;
}

/* Sorts and dedups the memory ranges (a stack is usually listed twice: in
 * the thread and in the memory list) and builds the lookup indexes. */
static int md_index(cw__md_t *md) {
  if (md->nmem > 1)
    qsort(md->mem, md->nmem, sizeof(*md->mem), cmp_range);
  size_t k = 0;
  for (size_t i = 0; i < md->nmem; i++)
    if (k == 0 || md->mem[i].start != md->mem[k - 1].start ||
        md->mem[i].size != md->mem[k - 1].size)
      md->mem[k++] = md->mem[i];
  md->nmem = k;
  md->mem_maxend = md_calloc(md, md->nmem, sizeof(uint64_t));
  md->mod_order = md_calloc(md, md->nmodules, sizeof(size_t));
  md->mod_maxend = md_calloc(md, md->nmodules, sizeof(uint64_t));
  if (!md->mem_maxend || !md->mod_order || !md->mod_maxend)
    return CW_ENOMEM;
  for (size_t i = 0; i < md->nmem; i++) {
    uint64_t e = end_of(md->mem[i].start, md->mem[i].size);
    md->mem_maxend[i] =
        i && md->mem_maxend[i - 1] > e ? md->mem_maxend[i - 1] : e;
  }
  for (size_t i = 0; i < md->nmodules; i++)
    md->mod_order[i] = i;
  md_sort_modules(md);
  for (size_t i = 0; i < md->nmodules; i++) {
    const cw__md_module_t *m = &md->modules[md->mod_order[i]];
    uint64_t e = end_of(m->base, m->size);
    md->mod_maxend[i] =
        i && md->mod_maxend[i - 1] > e ? md->mod_maxend[i - 1] : e;
  }
  return 0;
}

/* ---- open / close ------------------------------------------------------ */

static int md_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int md_fail(char *err, size_t errlen, int code, const char *fmt, ...) {
  if (err != NULL && errlen > 0) {
    int n = snprintf(err, errlen, "minidump: ");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < errlen)
      vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return code;
}

static int md_parse(cw__md_t *md, char *err, size_t errlen) {
  if (md->len < sizeof(md_header_t))
    return md_fail(err, errlen, CW_ETRUNC,
                   "header at offset 0x0: file has %zu bytes, the header "
                   "needs 32",
                   md->len);
  memcpy(&md->header, md->data, sizeof(md->header));
  if (md->header.signature != MD_HEADER_SIGNATURE)
    return md_fail(err, errlen, CW_EFORMAT,
                   "header at offset 0x0: signature 0x%08x is not MDMP "
                   "(0x%08x)",
                   md->header.signature, MD_HEADER_SIGNATURE);
  if ((md->header.version & 0xffff) != MD_HEADER_VERSION)
    return md_fail(err, errlen, CW_EFORMAT,
                   "header at offset 0x4: version 0x%08x, expected 0x%04x in "
                   "the low 16 bits",
                   md->header.version, MD_HEADER_VERSION);
  uint64_t dir = md->header.stream_directory_rva;
  uint64_t need = (uint64_t)md->header.stream_count * sizeof(md_directory_t);
  if (!md_span(md, dir, need))
    return md_fail(err, errlen, CW_ETRUNC,
                   "stream directory at offset 0x%llx: %u entries need %llu "
                   "bytes, the file has %zu",
                   (unsigned long long)dir, md->header.stream_count,
                   (unsigned long long)need, md->len);
  md->streams = md_calloc(md, md->header.stream_count, sizeof(cw__md_stream_t));
  if (md->streams == NULL)
    return md_fail(err, errlen, CW_ENOMEM, "out of memory");
  for (uint32_t i = 0; i < md->header.stream_count; i++) {
    md_directory_t d;
    uint64_t at = dir + (uint64_t)i * sizeof(d);
    memcpy(&d, md->data + at, sizeof(d));
    if (d.stream_type == 0) /* unused entry */
      continue;
    if (!md_span(md, d.location.rva, d.location.data_size)) {
      const char *name = cw__md_stream_name(d.stream_type);
      char tbuf[32];
      if (name == NULL) {
        snprintf(tbuf, sizeof(tbuf), "type 0x%x", d.stream_type);
        name = tbuf;
      }
      md_error(md,
               "%s stream (directory entry %u at offset 0x%llx) at offset "
               "0x%x: size %u runs past the end of the file (%zu bytes)",
               name, i, (unsigned long long)at, d.location.rva,
               d.location.data_size, md->len);
      continue;
    }
    md->streams[md->nstreams++] =
        (cw__md_stream_t){d.stream_type, d.location.data_size, d.location.rva};
  }
  /* Threads first so the name list can attach to them. */
  for (size_t i = 0; i < md->nstreams; i++)
    if (md->streams[i].type == MD_THREAD_LIST_STREAM)
      parse_thread_list(md, &md->streams[i]);
  for (size_t i = 0; i < md->nstreams; i++) {
    const cw__md_stream_t *s = &md->streams[i];
    switch (s->type) {
    case MD_THREAD_NAME_LIST_STREAM:
      parse_thread_names(md, s);
      break;
    case MD_MODULE_LIST_STREAM:
      parse_module_list(md, s);
      break;
    case MD_MEMORY_LIST_STREAM:
      parse_memory_list(md, s);
      break;
    case MD_MEMORY_64_LIST_STREAM:
      parse_memory64_list(md, s);
      break;
    case MD_EXCEPTION_STREAM:
      if (!md->has_exc)
        parse_exception(md, s);
      break;
    case MD_SYSTEM_INFO_STREAM:
      if (!md->has_sys)
        parse_system_info(md, s);
      break;
    case MD_MISC_INFO_STREAM:
      if (!md->has_misc)
        parse_misc_info(md, s);
      break;
    case MD_LINUX_DSO_DEBUG:
      if (!md->has_dso)
        parse_dso_debug(md, s);
      break;
    case MD_CRASHPAD_INFO_STREAM:
      if (!md->has_cp)
        parse_crashpad_info(md, s);
      break;
    case MD_LINUX_AUXV:
      if (md->auxv == NULL) {
        md->nauxv = s->size / sizeof(cw__md_auxv_t);
        md->auxv = md_calloc(md, md->nauxv, sizeof(cw__md_auxv_t));
        if (md->auxv != NULL)
          memcpy(md->auxv, md->data + s->rva,
                 md->nauxv * sizeof(cw__md_auxv_t));
        else
          md->nauxv = 0;
      }
      break;
    default:
      break;
    }
  }
  if (md_index(md) != 0)
    return md_fail(err, errlen, CW_ENOMEM, "out of memory");
  return 0;
}

static int md_new(cw__md_t **out, char *err, size_t errlen) {
  *out = calloc(1, sizeof(cw__md_t));
  if (*out == NULL)
    return md_fail(err, errlen, CW_ENOMEM, "out of memory");
  return 0;
}

int cw__md_open_buffer(const void *data, size_t len, cw__md_t **out, char *err,
                       size_t errlen) {
  cw__md_t *md;
  *out = NULL;
  int rc = md_new(&md, err, errlen);
  if (rc != 0)
    return rc;
  md->copy = malloc(len ? len : 1);
  if (md->copy == NULL) {
    free(md);
    return md_fail(err, errlen, CW_ENOMEM, "out of memory");
  }
  if (len)
    memcpy(md->copy, data, len);
  md->data = md->copy;
  md->len = len;
  rc = md_parse(md, err, errlen);
  if (rc != 0) {
    cw__md_close(md);
    return rc;
  }
  *out = md;
  return 0;
}

int cw__md_open_file(const char *path, cw__md_t **out, char *err,
                     size_t errlen) {
  *out = NULL;
  const char *kind = NULL;
  int fd = cw__open_regular(path, 0, &kind);
  if (fd == CW_REGFILE_NOT_REGULAR)
    return md_fail(err, errlen, CW_EINVAL, "%s is not a regular file (%s)",
                   path, kind);
  if (fd < 0) {
    int e = errno;
    return md_fail(err, errlen, e == ENOENT ? CW_ENOENT : CW_EIO,
                   "cannot open %s: %s", path, strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return md_fail(err, errlen, CW_EIO, "cannot stat %s: %s", path,
                   strerror(e));
  }
  cw__md_t *md;
  int rc = md_new(&md, err, errlen);
  if (rc != 0) {
    close(fd);
    return rc;
  }
  if (st.st_size > 0) {
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int e = errno;
      close(fd);
      free(md);
      return md_fail(err, errlen, CW_EIO, "cannot map %s: %s", path,
                     strerror(e));
    }
    md->map = map;
    md->data = map;
  }
  close(fd);
  md->len = (size_t)st.st_size;
  rc = md_parse(md, err, errlen);
  if (rc != 0) {
    cw__md_close(md);
    return rc;
  }
  *out = md;
  return 0;
}

void cw__md_close(cw__md_t *md) {
  if (md == NULL)
    return;
  if (md->map != NULL)
    munmap(md->map, md->len);
  free(md->copy);
  for (size_t i = 0; i < md->nallocs; i++)
    free(md->allocs[i]);
  free(md->allocs);
  free(md->mem);
  cw__buf_free(&md->errors);
  free(md);
}

/* ---- accessors --------------------------------------------------------- */

const char *cw__md_errors(const cw__md_t *md) {
  if (md->errors.len == 0)
    return "";
  const char *s = cw__buf_cstr((cw__buf_t *)&md->errors);
  return s != NULL ? s : "minidump: out of memory\n";
}

size_t cw__md_error_count(const cw__md_t *md) { return md->nerrors; }

const md_header_t *cw__md_header(const cw__md_t *md) { return &md->header; }
size_t cw__md_stream_count(const cw__md_t *md) { return md->nstreams; }

const cw__md_stream_t *cw__md_stream(const cw__md_t *md, size_t i) {
  return i < md->nstreams ? &md->streams[i] : NULL;
}

const uint8_t *cw__md_stream_data(const cw__md_t *md, uint32_t type,
                                  size_t *len) {
  for (size_t i = 0; i < md->nstreams; i++)
    if (md->streams[i].type == type) {
      *len = md->streams[i].size;
      return md->data + md->streams[i].rva;
    }
  *len = 0;
  return NULL;
}

const char *cw__md_stream_name(uint32_t type) {
  switch (type) {
  case MD_THREAD_LIST_STREAM:
    return "ThreadList";
  case MD_MODULE_LIST_STREAM:
    return "ModuleList";
  case MD_MEMORY_LIST_STREAM:
    return "MemoryList";
  case MD_EXCEPTION_STREAM:
    return "Exception";
  case MD_SYSTEM_INFO_STREAM:
    return "SystemInfo";
  case MD_MEMORY_64_LIST_STREAM:
    return "Memory64List";
  case MD_UNLOADED_MODULE_LIST_STREAM:
    return "UnloadedModuleList";
  case MD_MISC_INFO_STREAM:
    return "MiscInfo";
  case MD_MEMORY_INFO_LIST_STREAM:
    return "MemoryInfoList";
  case MD_THREAD_NAME_LIST_STREAM:
    return "ThreadNameList";
  case MD_BREAKPAD_INFO_STREAM:
    return "BreakpadInfo";
  case MD_ASSERTION_INFO_STREAM:
    return "AssertionInfo";
  case MD_LINUX_CPU_INFO:
    return "LinuxCpuInfo";
  case MD_LINUX_PROC_STATUS:
    return "LinuxProcStatus";
  case MD_LINUX_LSB_RELEASE:
    return "LinuxLsbRelease";
  case MD_LINUX_CMD_LINE:
    return "LinuxCmdLine";
  case MD_LINUX_ENVIRON:
    return "LinuxEnviron";
  case MD_LINUX_AUXV:
    return "LinuxAuxv";
  case MD_LINUX_MAPS:
    return "LinuxMaps";
  case MD_LINUX_DSO_DEBUG:
    return "LinuxDsoDebug";
  case MD_CRASHPAD_INFO_STREAM:
    return "CrashpadInfo";
  default:
    return NULL;
  }
}

size_t cw__md_thread_count(const cw__md_t *md) { return md->nthreads; }

const cw__md_thread_t *cw__md_thread(const cw__md_t *md, size_t i) {
  return i < md->nthreads ? &md->threads[i] : NULL;
}

long cw__md_thread_index(const cw__md_t *md, uint32_t tid) {
  for (size_t i = 0; i < md->nthreads; i++)
    if (md->threads[i].tid == tid)
      return (long)i;
  return -1;
}

size_t cw__md_module_count(const cw__md_t *md) { return md->nmodules; }

const cw__md_module_t *cw__md_module(const cw__md_t *md, size_t i) {
  return i < md->nmodules ? &md->modules[i] : NULL;
}

long cw__md_module_for_address(const cw__md_t *md, uint64_t addr) {
  /* The containing module with the highest base (the most specific when
   * modules overlap); among equal bases the first in the list. */
  size_t lo = 0, hi = md->nmodules;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (md->modules[md->mod_order[mid]].base <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  long found = -1;
  uint64_t found_base = 0;
  for (size_t i = lo; i-- > 0 && md->mod_maxend[i] > addr;) {
    const cw__md_module_t *m = &md->modules[md->mod_order[i]];
    if (found >= 0 && m->base != found_base)
      break;
    if (addr - m->base < m->size) {
      found = (long)md->mod_order[i];
      found_base = m->base;
    }
  }
  return found;
}

size_t cw__md_memory_count(const cw__md_t *md) { return md->nmem; }

const cw__md_range_t *cw__md_memory(const cw__md_t *md, size_t i) {
  return i < md->nmem ? &md->mem[i] : NULL;
}

const uint8_t *cw__md_memory_at(const cw__md_t *md, uint64_t addr,
                                size_t *avail) {
  /* Last range starting at or below addr, then earlier ones (ranges may
   * overlap, e.g. a stack inside a larger region). */
  size_t lo = 0, hi = md->nmem;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (md->mem[mid].start <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  const uint8_t *best = NULL;
  size_t best_avail = 0;
  for (size_t i = lo; i-- > 0 && md->mem_maxend[i] > addr;) {
    const cw__md_range_t *r = &md->mem[i];
    if (addr - r->start < r->size) {
      size_t a = (size_t)(r->size - (addr - r->start));
      if (a > best_avail) {
        best = r->data + (addr - r->start);
        best_avail = a;
      }
    }
  }
  if (avail != NULL)
    *avail = best_avail;
  return best;
}

int cw__md_read_memory(const cw__md_t *md, uint64_t addr, void *out, size_t n) {
  uint8_t *o = out;
  while (n > 0) {
    size_t avail = 0;
    const uint8_t *p = cw__md_memory_at(md, addr, &avail);
    if (p == NULL)
      return CW_ENOENT;
    size_t k = avail < n ? avail : n;
    memcpy(o, p, k);
    o += k;
    n -= k;
    addr += k;
  }
  return 0;
}

const cw__md_auxv_t *cw__md_auxv(const cw__md_t *md, size_t *count) {
  *count = md->nauxv;
  return md->nauxv ? md->auxv : NULL;
}

const cw__md_exception_t *cw__md_exception(const cw__md_t *md) {
  return md->has_exc ? &md->exc : NULL;
}
const cw__md_system_t *cw__md_system_info(const cw__md_t *md) {
  return md->has_sys ? &md->sys : NULL;
}
const cw__md_misc_t *cw__md_misc_info(const cw__md_t *md) {
  return md->has_misc ? &md->misc : NULL;
}
const cw__md_dso_debug_t *cw__md_dso_debug(const cw__md_t *md) {
  return md->has_dso ? &md->dso : NULL;
}
const cw__md_crashpad_t *cw__md_crashpad_info(const cw__md_t *md) {
  return md->has_cp ? &md->cp : NULL;
}

const md_context_amd64_t *cw__md_thread_amd64(const cw__md_t *md, size_t i,
                                              char *err, size_t errlen) {
  const cw__md_thread_t *t = cw__md_thread(md, i);
  if (t == NULL) {
    snprintf(err, errlen, "no thread %zu", i);
    return NULL;
  }
  cw__md_cpu_t cpu = t->cpu;
  if (md->has_exc && md->exc.tid == t->tid && md->exc.context_size > 0) {
    if (md->exc.has_amd64)
      return &md->exc.amd64;
    cpu = md->exc.cpu;
  } else if (t->has_amd64) {
    return &t->amd64;
  }
  if (cpu == CW_MD_CPU_UNKNOWN)
    snprintf(err, errlen, "thread %u: no readable CPU context", t->tid);
  else
    snprintf(err, errlen,
             "thread %u: unsupported CPU %s (only amd64 contexts are "
             "unwound)",
             t->tid, cw__md_cpu_name(cpu));
  return NULL;
}

/* ---- names ------------------------------------------------------------- */

const char *cw__md_cpu_name(cw__md_cpu_t cpu) {
  switch (cpu) {
  case CW_MD_CPU_AMD64:
    return "amd64";
  case CW_MD_CPU_X86:
    return "x86";
  case CW_MD_CPU_ARM:
    return "arm";
  case CW_MD_CPU_ARM64:
    return "arm64";
  default:
    return "unknown";
  }
}

const char *cw__md_arch_name(uint16_t a) {
  switch (a) {
  case MD_CPU_ARCHITECTURE_X86:
    return "x86";
  case MD_CPU_ARCHITECTURE_AMD64:
    return "amd64";
  case MD_CPU_ARCHITECTURE_ARM:
    return "arm";
  case MD_CPU_ARCHITECTURE_ARM64:
  case MD_CPU_ARCHITECTURE_ARM64_OLD:
    return "arm64";
  default:
    return "unknown";
  }
}

const char *cw__md_os_name(uint32_t platform_id) {
  switch (platform_id) {
  case MD_OS_LINUX:
    return "Linux";
  case MD_OS_ANDROID:
    return "Android";
  case 2:
    return "Windows NT";
  case 0x8101:
    return "Mac OS X";
  case 0x8102:
    return "iOS";
  default:
    return "unknown";
  }
}
