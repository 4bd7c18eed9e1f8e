/*
 * minidump_format.h — the on-disk layout of a minidump, as Breakpad and
 * Crashpad write it on Linux. Shared by the writer (watchdog/) and the reader
 * (symbolizer/). Every structure is little-endian and packed exactly as
 * Microsoft's DbgHelp declares it; the static assertions at the bottom pin
 * each size, so a layout slip fails the build rather than the readers.
 *
 * Only x86-64 contexts are defined here; another architecture gets its own
 * md_context_<arch> beside this one.
 */
#ifndef CW_MINIDUMP_FORMAT_H
#define CW_MINIDUMP_FORMAT_H

#include <assert.h>
#include <stdint.h>

#define MD_PACKED __attribute__((packed))

#define MD_HEADER_SIGNATURE 0x504d444du /* "MDMP" */
#define MD_HEADER_VERSION 0x0000a793u

/* Stream types. */
enum {
  MD_THREAD_LIST_STREAM = 3,
  MD_MODULE_LIST_STREAM = 4,
  MD_MEMORY_LIST_STREAM = 5,
  MD_EXCEPTION_STREAM = 6,
  MD_SYSTEM_INFO_STREAM = 7,
  MD_MEMORY_64_LIST_STREAM = 9,
  MD_UNLOADED_MODULE_LIST_STREAM = 14,
  MD_MISC_INFO_STREAM = 15,
  MD_MEMORY_INFO_LIST_STREAM = 16,
  MD_THREAD_NAME_LIST_STREAM = 24,
  MD_BREAKPAD_INFO_STREAM = 0x47670001,
  MD_ASSERTION_INFO_STREAM = 0x47670002,
  MD_LINUX_CPU_INFO = 0x47670003,
  MD_LINUX_PROC_STATUS = 0x47670004,
  MD_LINUX_LSB_RELEASE = 0x47670005,
  MD_LINUX_CMD_LINE = 0x47670006,
  MD_LINUX_ENVIRON = 0x47670007,
  MD_LINUX_AUXV = 0x47670008,
  MD_LINUX_MAPS = 0x47670009,
  MD_LINUX_DSO_DEBUG = 0x4767000a,
  MD_CRASHPAD_INFO_STREAM = 0x43500001,
};

typedef uint32_t md_rva_t;

typedef struct MD_PACKED {
  uint32_t data_size;
  md_rva_t rva;
} md_location_t;

typedef struct MD_PACKED {
  uint64_t start_of_memory_range;
  md_location_t memory;
} md_memory_descriptor_t;

typedef struct MD_PACKED {
  uint32_t signature;
  uint32_t version;
  uint32_t stream_count;
  md_rva_t stream_directory_rva;
  uint32_t checksum;
  uint32_t time_date_stamp;
  uint64_t flags;
} md_header_t;

typedef struct MD_PACKED {
  uint32_t stream_type;
  md_location_t location;
} md_directory_t;

/* MDString: a u32 byte length (excluding the terminator), then UTF-16LE
 * code units and a 0 terminator. */
typedef struct MD_PACKED {
  uint32_t length;
} md_string_header_t;

typedef struct MD_PACKED {
  uint32_t thread_id;
  uint32_t suspend_count;
  uint32_t priority_class;
  uint32_t priority;
  uint64_t teb;
  md_memory_descriptor_t stack;
  md_location_t thread_context;
} md_thread_t;

/* Thread name list entries are packed to 4: the RVA is 64-bit. */
typedef struct MD_PACKED {
  uint32_t thread_id;
  uint64_t thread_name_rva;
} md_thread_name_t;

typedef struct MD_PACKED {
  uint32_t signature;
  uint32_t struct_version;
  uint32_t file_version_hi;
  uint32_t file_version_lo;
  uint32_t product_version_hi;
  uint32_t product_version_lo;
  uint32_t file_flags_mask;
  uint32_t file_flags;
  uint32_t file_os;
  uint32_t file_type;
  uint32_t file_subtype;
  uint32_t file_date_hi;
  uint32_t file_date_lo;
} md_vs_fixed_file_info_t;

typedef struct MD_PACKED {
  uint64_t base_of_image;
  uint32_t size_of_image;
  uint32_t checksum;
  uint32_t time_date_stamp;
  md_rva_t module_name_rva;
  md_vs_fixed_file_info_t version_info;
  md_location_t cv_record;
  md_location_t misc_record;
  uint32_t reserved0[2];
  uint32_t reserved1[2];
} md_module_t;

/* CodeView record of an ELF module: signature then the raw build-id. */
#define MD_CVINFOELF_SIGNATURE 0x4270454cu   /* "BpEL" */
#define MD_CVINFOPDB70_SIGNATURE 0x53445352u /* "RSDS" */
#define MD_CVINFOPDB20_SIGNATURE 0x3031424eu /* "NB10" */

#define MD_EXCEPTION_MAXIMUM_PARAMETERS 15

typedef struct MD_PACKED {
  uint32_t exception_code;  /* Linux: the signal number */
  uint32_t exception_flags; /* Linux: si_code */
  uint64_t exception_record;
  uint64_t exception_address; /* Linux: si_addr */
  uint32_t number_parameters;
  uint32_t align_;
  uint64_t exception_information[MD_EXCEPTION_MAXIMUM_PARAMETERS];
} md_exception_t;

typedef struct MD_PACKED {
  uint32_t thread_id;
  uint32_t align_;
  md_exception_t exception_record;
  md_location_t thread_context;
} md_exception_stream_t;

#define MD_CPU_ARCHITECTURE_X86 0
#define MD_CPU_ARCHITECTURE_ARM 5
#define MD_CPU_ARCHITECTURE_AMD64 9
#define MD_CPU_ARCHITECTURE_ARM64 12
#define MD_CPU_ARCHITECTURE_ARM64_OLD 0x8003
#define MD_OS_LINUX 0x8201
#define MD_OS_ANDROID 0x8203

typedef struct MD_PACKED {
  uint16_t processor_architecture;
  uint16_t processor_level;
  uint16_t processor_revision;
  uint8_t number_of_processors;
  uint8_t product_type;
  uint32_t major_version;
  uint32_t minor_version;
  uint32_t build_number;
  uint32_t platform_id;
  md_rva_t csd_version_rva; /* Linux: "uname -srvmo"-like string */
  uint16_t suite_mask;
  uint16_t reserved2;
  union MD_PACKED {
    struct MD_PACKED {
      uint32_t vendor_id[3];
      uint32_t version_information;
      uint32_t feature_information;
      uint32_t amd_extended_cpu_features;
    } x86;
    struct MD_PACKED {
      uint64_t processor_features[2];
    } other;
  } cpu;
} md_system_info_t;

#define MD_MISCINFO_FLAGS1_PROCESS_ID 0x00000001u
#define MD_MISCINFO_FLAGS1_PROCESS_TIMES 0x00000002u

/* MINIDUMP_MISC_INFO, the first (24-byte) version; larger versions extend it
 * and readers accept any size_of_info >= 24. */
typedef struct MD_PACKED {
  uint32_t size_of_info;
  uint32_t flags1;
  uint32_t process_id;
  uint32_t process_create_time; /* seconds since the epoch */
  uint32_t process_user_time;   /* seconds */
  uint32_t process_kernel_time; /* seconds */
} md_misc_info_t;

/* MD_LINUX_DSO_DEBUG on a 64-bit process (natural alignment, not packed). */
typedef struct {
  uint64_t addr;
  md_rva_t name;
  uint32_t pad_;
  uint64_t ld;
} md_link_map64_t;

typedef struct {
  uint32_t version;
  md_rva_t map; /* array of md_link_map64_t */
  uint32_t dso_count;
  uint32_t pad_;
  uint64_t brk;
  uint64_t ldbase;
  uint64_t dynamic;
} md_debug64_t;

/* ---- x86-64 CPU context (MDRawContextAMD64) -------------------------- */

#define MD_CONTEXT_AMD64 0x00100000u
#define MD_CONTEXT_AMD64_CONTROL (MD_CONTEXT_AMD64 | 0x1u)
#define MD_CONTEXT_AMD64_INTEGER (MD_CONTEXT_AMD64 | 0x2u)
#define MD_CONTEXT_AMD64_SEGMENTS (MD_CONTEXT_AMD64 | 0x4u)
#define MD_CONTEXT_AMD64_FLOATING_POINT (MD_CONTEXT_AMD64 | 0x8u)
#define MD_CONTEXT_AMD64_DEBUG_REGISTERS (MD_CONTEXT_AMD64 | 0x10u)
#define MD_CONTEXT_AMD64_FULL                                                  \
  (MD_CONTEXT_AMD64_CONTROL | MD_CONTEXT_AMD64_INTEGER |                       \
   MD_CONTEXT_AMD64_FLOATING_POINT)

typedef struct MD_PACKED {
  uint64_t low;
  uint64_t high;
} md_uint128_t;

/* The FXSAVE image, as the kernel's user_fpregs_struct lays it out. */
typedef struct MD_PACKED {
  uint16_t control_word;
  uint16_t status_word;
  uint8_t tag_word;
  uint8_t reserved1;
  uint16_t error_opcode;
  uint32_t error_offset;
  uint16_t error_selector;
  uint16_t reserved2;
  uint32_t data_offset;
  uint16_t data_selector;
  uint16_t reserved3;
  uint32_t mx_csr;
  uint32_t mx_csr_mask;
  md_uint128_t float_registers[8];
  md_uint128_t xmm_registers[16];
  uint8_t reserved4[96];
} md_xmm_save_area32_t;

typedef struct MD_PACKED {
  uint64_t p1_home, p2_home, p3_home, p4_home, p5_home, p6_home;
  uint32_t context_flags;
  uint32_t mx_csr;
  uint16_t cs, ds, es, fs, gs, ss;
  uint32_t eflags;
  uint64_t dr0, dr1, dr2, dr3, dr6, dr7;
  uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip;
  md_xmm_save_area32_t flt_save;
  md_uint128_t vector_register[26];
  uint64_t vector_control;
  uint64_t debug_control;
  uint64_t last_branch_to_rip;
  uint64_t last_branch_from_rip;
  uint64_t last_exception_to_rip;
  uint64_t last_exception_from_rip;
} md_context_amd64_t;

static_assert(sizeof(md_header_t) == 32, "MDRawHeader");
static_assert(sizeof(md_directory_t) == 12, "MDRawDirectory");
static_assert(sizeof(md_thread_t) == 48, "MDRawThread");
static_assert(sizeof(md_thread_name_t) == 12, "MDRawThreadName");
static_assert(sizeof(md_module_t) == 108, "MDRawModule");
static_assert(sizeof(md_exception_stream_t) == 168, "MDRawExceptionStream");
static_assert(sizeof(md_system_info_t) == 56, "MDRawSystemInfo");
static_assert(sizeof(md_misc_info_t) == 24, "MDRawMiscInfo");
static_assert(sizeof(md_link_map64_t) == 24, "MDRawLinkMap64");
static_assert(sizeof(md_debug64_t) == 40, "MDRawDebug64");
static_assert(sizeof(md_xmm_save_area32_t) == 512, "XMM_SAVE_AREA32");
static_assert(sizeof(md_context_amd64_t) == 1232, "MDRawContextAMD64");

#endif /* CW_MINIDUMP_FORMAT_H */
