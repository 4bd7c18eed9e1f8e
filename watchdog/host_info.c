/*
 * host_info.c — facts about the machine and the finishing steps of a
 * capture that need no live process: module ELF files (build-ids), CPU
 * identification, /proc/cpuinfo, the distribution's release file. Normal
 * context, watchdog process. The host facts are the same for every crash:
 * a resident watchdog reads them once while it waits (cw__wd_host_warm);
 * otherwise cw__wd_host_prefetch() reads them in a thread of their own
 * while the capture runs, off the path from fault to durable report.
 */
#include <cpuid.h>
#include <pthread.h>
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

/* What the host tells about itself: the same for every crash, read in a
 * thread of its own while the capture runs (cw__wd_host_prefetch), or in
 * line by the first capture that needs it. */
typedef struct {
  wd_sysinfo_t sys;
  unsigned long long btime; /* boot time, seconds since the epoch; 0 unknown */
  char *cpuinfo;            /* cut at a line boundary, or NULL */
  size_t cpuinfo_len;
  char *lsb; /* /etc/lsb-release, else the os-release text, or NULL */
  size_t lsb_len;
} host_t;

static void host_read(host_t *h) {
  memset(h, 0, sizeof(*h));
  size_t osr_len, len;
  char *osr = read_os_release(&osr_len);
  sysinfo_read(&h->sys, osr);
  char *pst = read_text("/proc/stat", 1u << 20, &len);
  if (pst != NULL) {
    char *bt = strstr(pst, "\nbtime ");
    if (bt != NULL)
      h->btime = strtoull(bt + 7, NULL, 10);
  }
  free(pst);
  /* /proc/cpuinfo repeats one block per CPU; a big machine's would dwarf
   * the dump, so it is cut at a line boundary. */
  h->cpuinfo = read_text("/proc/cpuinfo", CPUINFO_CAP, &len);
  if (h->cpuinfo != NULL) {
    if (len == CPUINFO_CAP) {
      char *last = strrchr(h->cpuinfo, '\n');
      if (last != NULL)
        len = (size_t)(last - h->cpuinfo) + 1;
    }
    h->cpuinfo_len = len;
  }
  /* The LSB release stream: /etc/lsb-release, else the os-release text
   * read once above for the system info (not read a second time). */
  h->lsb = read_text("/etc/lsb-release", 8192, &h->lsb_len);
  if (h->lsb == NULL && osr != NULL) {
    h->lsb = osr;
    h->lsb_len = osr_len;
    osr = NULL;
  }
  free(osr);
}

static struct {
  pthread_t thread;
  int started; /* a prefetch thread runs or ran and was not joined */
  host_t host;
} prefetch;

static char *dup_text(const char *t, size_t len) {
  char *d = t != NULL ? malloc(len + 1) : NULL;
  if (d != NULL) {
    memcpy(d, t, len);
    d[len] = '\0';
  }
  return d;
}

/* Read while the watchdog waited (cw__wd_host_warm): kept for every
 * crash after. */
static struct {
  int have;
  host_t host;
} warm;

void cw__wd_host_warm(void) {
  if (warm.have || prefetch.started)
    return;
  host_read(&warm.host);
  warm.have = 1;
}

static void *prefetch_main(void *arg) {
  (void)arg;
  host_read(&prefetch.host);
  return NULL;
}

void cw__wd_host_prefetch(void) {
  if (prefetch.started || warm.have)
    return;
  prefetch.started =
      pthread_create(&prefetch.thread, NULL, prefetch_main, NULL) == 0;
}

/* The host facts: the ones read while waiting (cw__wd_host_warm), the
 * prefetched ones (the first time after cw__wd_host_prefetch), else read
 * now. */
static void host_take(host_t *h) {
  if (warm.have) {
    /* The caller frees what it takes: copies of the kept texts. */
    *h = warm.host;
    h->cpuinfo = dup_text(warm.host.cpuinfo, warm.host.cpuinfo_len);
    h->cpuinfo_len = h->cpuinfo ? warm.host.cpuinfo_len : 0;
    h->lsb = dup_text(warm.host.lsb, warm.host.lsb_len);
    h->lsb_len = h->lsb ? warm.host.lsb_len : 0;
    return;
  }
  if (prefetch.started && pthread_join(prefetch.thread, NULL) == 0) {
    prefetch.started = 0;
    *h = prefetch.host;
    return;
  }
  host_read(h);
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
  host_t h;
  host_take(&h);
  cap->sys = h.sys;
  /* Process start: boot time plus the start in clock ticks. */
  long hz = sysconf(_SC_CLK_TCK);
  if (h.btime > 0 && cap->start_ticks > 0 && hz > 0)
    cap->process_start_time =
        h.btime + cap->start_ticks / (unsigned long long)hz;
  if (h.cpuinfo != NULL)
    cw__wd_capture_add_blob(cap, MD_LINUX_CPU_INFO, h.cpuinfo, h.cpuinfo_len);
  if (h.lsb != NULL)
    cw__wd_capture_add_blob(cap, MD_LINUX_LSB_RELEASE, h.lsb, h.lsb_len);
  free(h.cpuinfo);
  free(h.lsb);
}
