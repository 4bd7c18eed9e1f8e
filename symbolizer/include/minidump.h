/*
 * minidump.h — a bounds-checked reader of minidumps (Breakpad, Crashpad and
 * crashwatch's own), normal context only.
 *
 * cw__md_open_file() / cw__md_open_buffer() parse the header, the stream
 * directory and every stream they know into the plain structures below.
 * Nothing in the file is trusted: every offset, size and count is checked
 * against the file before use, and allocations are bounded by the file size.
 *
 * Errors: a bad header or directory fails the open with a message naming the
 * offset ("minidump: directory at offset 0x20: ..."). A bad stream does not
 * fail the open: that stream is left out (its accessor reports nothing) and
 * the message is kept in cw__md_errors(), so a tool can show what is readable
 * and still say what is wrong. cw__md_strict() turns those into a failure.
 *
 * Ownership: cw__md_close() frees the reader; every pointer returned by an
 * accessor (strings, arrays, memory) is borrowed and lives until then.
 */
#ifndef CW_SYMBOLIZER_MINIDUMP_H
#define CW_SYMBOLIZER_MINIDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "minidump_format.h"

typedef struct cw__md cw__md_t;

/* CPU of a thread context (from its context flags and size). */
typedef enum {
  CW_MD_CPU_UNKNOWN = 0,
  CW_MD_CPU_AMD64,
  CW_MD_CPU_X86,
  CW_MD_CPU_ARM,
  CW_MD_CPU_ARM64,
} cw__md_cpu_t;

typedef struct {
  uint32_t type;
  uint32_t size;
  uint32_t rva;
} cw__md_stream_t;

typedef struct {
  uint32_t tid;
  const char *name; /* from ThreadNameList; NULL when there is none */
  uint32_t suspend_count;
  uint32_t priority_class, priority;
  uint64_t teb;
  uint64_t stack_start; /* captured stack memory */
  uint32_t stack_size;
  uint32_t stack_rva;
  uint32_t context_rva, context_size;
  cw__md_cpu_t cpu; /* CW_MD_CPU_UNKNOWN when the context is unreadable */
  int has_amd64;    /* amd64 is valid */
  md_context_amd64_t amd64;
} cw__md_thread_t;

#define CW_MD_MAX_BUILD_ID 64

typedef struct {
  uint64_t base;
  uint64_t size;
  const char *name;     /* as recorded (usually the full path), UTF-8 */
  const char *basename; /* points into name */
  uint32_t checksum, time_date_stamp;
  md_vs_fixed_file_info_t version_info;
  uint32_t cv_signature; /* MD_CVINFO*_SIGNATURE, 0 when absent */
  /* ELF (BpEL): the raw build-id. */
  uint8_t build_id[CW_MD_MAX_BUILD_ID];
  size_t build_id_len;
  /* PDB (RSDS): GUID, age and PDB file name. */
  uint8_t pdb_guid[16];
  uint32_t pdb_age;
  const char *pdb_name;                     /* NULL unless RSDS */
  char code_id[2 * CW_MD_MAX_BUILD_ID + 1]; /* build-id hex; "" if none */
  char debug_id[48];    /* "c0bcc3f1-9827-fe65-3058-404b2831d9e6[-age]" */
  char breakpad_id[48]; /* "C0BCC3F19827FE653058404B2831D9E60" */
} cw__md_module_t;

typedef struct {
  uint64_t start;
  uint64_t size;
  const uint8_t *data; /* size bytes inside the file */
  uint64_t rva;
} cw__md_range_t;

typedef struct {
  uint32_t tid;
  uint32_t code;  /* Linux: signal number */
  uint32_t flags; /* Linux: si_code */
  uint64_t address;
  uint64_t record;
  uint32_t nparams;
  uint64_t params[MD_EXCEPTION_MAXIMUM_PARAMETERS];
  uint32_t context_rva, context_size;
  cw__md_cpu_t cpu;
  int has_amd64;
  md_context_amd64_t amd64;
} cw__md_exception_t;

typedef struct {
  md_system_info_t raw;
  const char *csd_version; /* "" when absent */
  char vendor[13];         /* x86 vendor id ("GenuineIntel"), "" otherwise */
  char cpu_info[64];       /* "family 6 model 63 stepping 2" (x86/amd64) */
} cw__md_system_t;

typedef struct {
  uint32_t size_of_info;
  uint32_t flags1;
  uint32_t process_id;
  uint32_t process_create_time;
  uint32_t process_user_time;
  uint32_t process_kernel_time;
} cw__md_misc_t;

typedef struct {
  uint64_t addr; /* load bias */
  uint64_t ld;   /* l_ld */
  const char *name;
} cw__md_link_map_t;

typedef struct {
  uint32_t version;
  uint64_t brk, ldbase, dynamic;
  size_t count;
  cw__md_link_map_t *maps;
} cw__md_dso_debug_t;

typedef struct {
  const char *key;
  const char *value;
} cw__md_annotation_t;

typedef struct {
  uint32_t module_index; /* index into the ModuleList */
  size_t simple_count;
  cw__md_annotation_t *simple;
  size_t list_count;
  const char **list; /* list annotations */
} cw__md_crashpad_module_t;

typedef struct {
  uint32_t version;
  uint8_t report_id[16];
  uint8_t client_id[16];
  size_t simple_count;
  cw__md_annotation_t *simple;
  size_t module_count;
  cw__md_crashpad_module_t *modules;
} cw__md_crashpad_t;

/* Opens and parses a file (mapped read-only). err (may be NULL) receives a
 * message on failure. Returns 0 or a negative CW_E* code. */
int cw__md_open_file(const char *path, cw__md_t **out, char *err,
                     size_t errlen);
/* Parses a buffer; the reader copies it, so data may be freed afterwards. */
int cw__md_open_buffer(const void *data, size_t len, cw__md_t **out, char *err,
                       size_t errlen);
void cw__md_close(cw__md_t *md);

/* Stream errors found while parsing ("" when none; lines end in '\n'). */
const char *cw__md_errors(const cw__md_t *md);
size_t cw__md_error_count(const cw__md_t *md);

const md_header_t *cw__md_header(const cw__md_t *md);
size_t cw__md_stream_count(const cw__md_t *md);
const cw__md_stream_t *cw__md_stream(const cw__md_t *md, size_t i);
/* "ThreadListStream", "LinuxCpuInfo", ... or NULL for an unknown type. */
const char *cw__md_stream_name(uint32_t type);
/* The bytes of the first stream of this type (bounds-checked), or NULL. */
const uint8_t *cw__md_stream_data(const cw__md_t *md, uint32_t type,
                                  size_t *len);

size_t cw__md_thread_count(const cw__md_t *md);
const cw__md_thread_t *cw__md_thread(const cw__md_t *md, size_t i);
/* Index of the thread with this tid, or -1. */
long cw__md_thread_index(const cw__md_t *md, uint32_t tid);

size_t cw__md_module_count(const cw__md_t *md);
const cw__md_module_t *cw__md_module(const cw__md_t *md, size_t i);
/* Index of the module whose [base, base+size) holds addr, or -1. */
long cw__md_module_for_address(const cw__md_t *md, uint64_t addr);

/* Memory ranges from MemoryList, Memory64List and the thread stacks, sorted
 * by start address. */
size_t cw__md_memory_count(const cw__md_t *md);
const cw__md_range_t *cw__md_memory(const cw__md_t *md, size_t i);
/* Copies n bytes at process address addr. Returns 0, or CW_ENOENT when any
 * byte is not in the dump. */
int cw__md_read_memory(const cw__md_t *md, uint64_t addr, void *out, size_t n);
/* Pointer to the dump's bytes at addr and how many follow contiguously, or
 * NULL. */
const uint8_t *cw__md_memory_at(const cw__md_t *md, uint64_t addr,
                                size_t *avail);

typedef struct {
  uint64_t type; /* AT_* */
  uint64_t value;
} cw__md_auxv_t;

/* The LinuxAuxv stream as (type, value) pairs of a 64-bit process; NULL
 * with *count 0 when absent. A trailing partial pair is ignored. */
const cw__md_auxv_t *cw__md_auxv(const cw__md_t *md, size_t *count);

const cw__md_exception_t *cw__md_exception(const cw__md_t *md);    /* or NULL */
const cw__md_system_t *cw__md_system_info(const cw__md_t *md);     /* or NULL */
const cw__md_misc_t *cw__md_misc_info(const cw__md_t *md);         /* or NULL */
const cw__md_dso_debug_t *cw__md_dso_debug(const cw__md_t *md);    /* or NULL */
const cw__md_crashpad_t *cw__md_crashpad_info(const cw__md_t *md); /* or NULL */

/* Context of thread i for unwinding: the exception's context for the
 * crashing thread (as minidump_stackwalk does), else the thread's own.
 * NULL with a message in err when there is none or it is not amd64. */
const md_context_amd64_t *cw__md_thread_amd64(const cw__md_t *md, size_t i,
                                              char *err, size_t errlen);

/* Names for display: "SIGSEGV" (NULL if unknown), "SEGV_MAPERR" (NULL),
 * "amd64", "Linux". */
const char *cw__md_cpu_name(cw__md_cpu_t cpu);
const char *cw__md_arch_name(uint16_t processor_architecture);
const char *cw__md_os_name(uint32_t platform_id);

#endif
