/*
 * host_info.c — facts about the machine and the finishing steps of a
 * capture that need no live process: module ELF files (build-ids), CPU
 * identification, /proc/cpuinfo, the distribution's release file. Normal
 * context, watchdog process; runs after the app was released.
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "crashwatch.h"
#include "wd_capture.h"
#include "wd_elf.h"

#define CPUINFO_CAP (16u * 1024)

static void copy_value(char *dst, size_t cap, const char *v, size_t n) {
  if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
    v++;
    n -= 2;
  }
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

/* Parses os-release style KEY=value lines into sys. */
static void parse_os_release(wd_sysinfo_t *sys, const char *text) {
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    const char *eq = memchr(line, '=', len);
    if (eq != NULL) {
      size_t klen = (size_t)(eq - line);
      const char *v = eq + 1;
      size_t vlen = len - klen - 1;
#define KEY(k, field)                                                          \
  if (klen == strlen(k) && memcmp(line, k, klen) == 0)                         \
    copy_value(sys->field, sizeof(sys->field), v, vlen);
      KEY("NAME", os_name)
      KEY("ID", os_id)
      KEY("VERSION_ID", os_version)
      KEY("PRETTY_NAME", os_pretty)
      KEY("VERSION_CODENAME", os_codename)
      KEY("DISTRIB_ID", os_name)
      KEY("DISTRIB_RELEASE", os_version)
      KEY("DISTRIB_DESCRIPTION", os_pretty)
      KEY("DISTRIB_CODENAME", os_codename)
#undef KEY
    }
    line = nl ? nl + 1 : NULL;
  }
}

static char *read_text(const char *path, size_t cap, size_t *len) {
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return NULL;
  char *buf = malloc(cap + 1);
  size_t n = buf ? fread(buf, 1, cap, f) : 0;
  fclose(f);
  if (buf == NULL)
    return NULL;
  buf[n] = '\0';
  *len = n;
  return buf;
}

static char *read_os_release(size_t *len);

/* The host's facts into sys; osr is the os-release text or NULL. */
static void sysinfo_read(wd_sysinfo_t *sys, const char *osr) {
  memset(sys, 0, sizeof(*sys));
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  sys->ncpus = n > 0 ? (int)n : 1;
  unsigned a, b, c, d;
  if (__get_cpuid(0, &a, &b, &c, &d)) {
    sys->cpu_vendor[0] = b;
    sys->cpu_vendor[1] = d;
    sys->cpu_vendor[2] = c;
  }
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    sys->cpu_version = a;
    sys->cpu_features = d;
    unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    if (family == 0xf)
      family += (a >> 20) & 0xff;
    if (family >= 6)
      model |= ((a >> 16) & 0xf) << 4;
    sys->cpu_level = (uint16_t)family;
    sys->cpu_revision = (uint16_t)((model << 8) | (a & 0xf));
  }
  if (memcmp(sys->cpu_vendor, "AuthenticAMD", 12) == 0 &&
      __get_cpuid(0x80000001, &a, &b, &c, &d))
    sys->cpu_amd_ext = d;
  struct utsname u;
  if (uname(&u) == 0) {
    snprintf(sys->sysname, sizeof(sys->sysname), "%s", u.sysname);
    snprintf(sys->nodename, sizeof(sys->nodename), "%s", u.nodename);
    snprintf(sys->release, sizeof(sys->release), "%s", u.release);
    snprintf(sys->version, sizeof(sys->version), "%s", u.version);
    snprintf(sys->machine, sizeof(sys->machine), "%s", u.machine);
  }
  long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
  if (pages > 0 && psize > 0)
    sys->mem_total = (uint64_t)pages * (uint64_t)psize;
  if (osr != NULL)
    parse_os_release(sys, osr);
}

void cw__wd_sysinfo_read(wd_sysinfo_t *sys) {
  size_t len;
  char *osr = read_os_release(&len);
  sysinfo_read(sys, osr);
  free(osr);
}

/* /etc/os-release, else /usr/lib/os-release (malloc'd), or NULL. */
static char *read_os_release(size_t *len) {
  char *osr = read_text("/etc/os-release", 8192, len);
  if (osr == NULL)
    osr = read_text("/usr/lib/os-release", 8192, len);
  return osr;
}

void cw__wd_capture_finish(wd_capture_t *cap) {
  for (size_t i = 0; i < cap->nmodules; i++) {
    wd_module_t *m = &cap->modules[i];
    cw__elf_t *e = cw__wd_module_elf(m);
    if (e != NULL && m->build_id_len == 0 && e->build_id_len > 0) {
      memcpy(m->build_id, e->build_id, e->build_id_len);
      m->build_id_len = e->build_id_len;
    }
  }
  size_t osr_len;
  char *osr = read_os_release(&osr_len);
  sysinfo_read(&cap->sys, osr);
  /* Process start: boot time plus the start in clock ticks. */
  size_t len;
  char *pst = read_text("/proc/stat", 1u << 20, &len);
  if (pst != NULL && cap->start_ticks > 0) {
    char *bt = strstr(pst, "\nbtime ");
    long hz = sysconf(_SC_CLK_TCK);
    if (bt != NULL && hz > 0)
      cap->process_start_time = strtoull(bt + 7, NULL, 10) +
                                cap->start_ticks / (unsigned long long)hz;
  }
  free(pst);
  /* /proc/cpuinfo repeats one block per CPU; a big machine's would dwarf
   * the dump, so it is cut at a line boundary. */
  char *ci = read_text("/proc/cpuinfo", CPUINFO_CAP, &len);
  if (ci != NULL) {
    if (len == CPUINFO_CAP) {
      char *last = strrchr(ci, '\n');
      if (last != NULL)
        len = (size_t)(last - ci) + 1;
    }
    cw__wd_capture_add_blob(cap, MD_LINUX_CPU_INFO, ci, len);
    free(ci);
  }
  /* The LSB release stream: /etc/lsb-release, else the os-release text
   * read once above for the system info (not read a second time). */
  char *lsb = read_text("/etc/lsb-release", 8192, &len);
  if (lsb == NULL && osr != NULL) {
    lsb = osr;
    len = osr_len;
    osr = NULL;
  }
  free(osr);
  if (lsb != NULL) {
    cw__wd_capture_add_blob(cap, MD_LINUX_LSB_RELEASE, lsb, len);
    free(lsb);
  }
}
