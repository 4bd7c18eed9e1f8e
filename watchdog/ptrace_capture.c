/*
 * ptrace_capture.c — copies what a report needs out of a crashed process.
 * Normal context, watchdog process; the app is paused for the duration of
 * cw__wd_capture_process(), so it does only copying: no ELF parsing, no
 * unwinding, no host facts (those come after the release, in
 * cw__wd_capture_finish()).
 *
 * Threads are stopped with PTRACE_SEIZE + PTRACE_INTERRUPT, which leaves
 * no trace in the app when we detach (no SIGSTOP to swallow). The list of
 * threads is re-read until it stops changing, so threads created while we
 * seize are caught too; threads that exit meanwhile are dropped.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crashwatch.h"
#include "symbolizer.h"
#include "wd_capture.h"
#include "wd_elf.h"
#include "workers.h"

#define MAX_THREADS 4096
#define STOP_DEADLINE_NS (1000ull * 1000 * 1000) /* 1 s for all threads */
#define IP_REGION 256u
#define MAX_DSOS 4096
#define MAX_PROC_FILE (256u * 1024)
#define VDSO_MAX (64u * 1024)

void cw__wd_capture_opts_default(wd_capture_opts_t *o) {
  memset(o, 0, sizeof(*o));
  o->stack_cap = 16 * 1024;
  o->crash_stack_cap = 32 * 1024;
  o->total_stack_cap = 512 * 1024;
}

typedef struct wd_seized {
  pid_t tid;
  int seized;  /* PTRACE_SEIZE succeeded */
  int stopped; /* we saw its stop */
  int gone;    /* it exited */
  int inject;  /* signal to give back at detach (signal-delivery-stop) */
} seized_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Appends to the capture's notes what could not be read. */
static void note(wd_capture_t *cap, const char *what) {
  size_t used = strlen(cap->notes);
  if (used + 2 >= sizeof(cap->notes))
    return;
  snprintf(cap->notes + used, sizeof(cap->notes) - used, "%s%s",
           used ? "; " : "", what);
}

/* Reads a whole (small) file; returns a malloc'd buffer (NUL-terminated,
 * the terminator not counted) or NULL. */
static uint8_t *slurp(const char *path, size_t cap_bytes, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap + 1);
  while (buf != NULL) {
    if (n == cap) {
      if (cap >= cap_bytes)
        break;
      cap *= 2;
      uint8_t *nb = realloc(buf, cap + 1);
      if (nb == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  if (buf != NULL) {
    buf[n] = 0;
    *len = n;
  }
  return buf;
}

int cw__wd_capture_add_region(wd_capture_t *cap, uint64_t start,
                              const void *data, size_t len) {
  wd_region_t *r =
      realloc(cap->regions, (cap->nregions + 1) * sizeof(*cap->regions));
  if (r == NULL)
    return CW_ENOMEM;
  cap->regions = r;
  uint8_t *copy = malloc(len ? len : 1);
  if (copy == NULL)
    return CW_ENOMEM;
  memcpy(copy, data, len);
  r[cap->nregions] = (wd_region_t){start, len, copy};
  return (int)cap->nregions++;
}

int cw__wd_capture_add_blob(wd_capture_t *cap, uint32_t type, const void *data,
                            size_t len) {
  if (cap->nblobs == WD_MAX_BLOBS)
    return CW_ENOMEM;
  uint8_t *copy = malloc(len ? len : 1);
  if (copy == NULL)
    return CW_ENOMEM;
  memcpy(copy, data, len);
  cap->blobs[cap->nblobs++] = (wd_blob_t){type, copy, len};
  return 0;
}

const uint8_t *cw__wd_capture_memory(const wd_capture_t *cap, uint64_t addr,
                                     size_t len) {
  for (size_t i = 0; i < cap->nregions; i++) {
    const wd_region_t *r = &cap->regions[i];
    if (addr >= r->start && addr - r->start <= r->len &&
        len <= r->len - (addr - r->start))
      return r->data + (addr - r->start);
  }
  return NULL;
}

const wd_module_t *cw__wd_capture_module_at(const wd_capture_t *cap,
                                            uint64_t addr) {
  for (size_t i = 0; i < cap->nmodules; i++) {
    const wd_module_t *m = &cap->modules[i];
    if (addr >= m->base && addr - m->base < m->size)
      return m;
  }
  return NULL;
}

void cw__wd_capture_free(wd_capture_t *cap) {
  for (size_t i = 0; i < cap->nthreads; i++)
    free(cap->threads[i].frames);
  free(cap->threads);
  for (size_t i = 0; i < cap->nregions; i++)
    free(cap->regions[i].data);
  free(cap->regions);
  for (size_t i = 0; i < cap->nmodules; i++) {
    if (!cap->modules[i].elf_cached)
      cw__elf_close(cap->modules[i].elf);
    if (cap->modules[i].fd >= 0)
      close(cap->modules[i].fd);
    free(cap->modules[i].image);
    free(cap->modules[i].path);
  }
  free(cap->modules);
  for (size_t i = 0; i < cap->nblobs; i++)
    free(cap->blobs[i].data);
  for (size_t i = 0; i < cap->dso_debug.ndsos; i++)
    free(cap->dso_debug.dsos[i].name);
  free(cap->dso_debug.dsos);
  free(cap->dso_debug.dynamic_data);
  free(cap->exe_path);
  free(cap->srcs);
  cw__symbolizer_free(cap->symbolizer);
  cw__wd_capture_detach(cap);
  memset(cap, 0, sizeof(*cap));
}

/* ---- threads ---- */

static int seize_all(pid_t pid, seized_t **out, size_t *nout) {
  seized_t *t = NULL;
  size_t n = 0;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
  /* Re-list until a pass finds no new thread: a thread created between two
   * listings is seized by the next pass. */
  for (int pass = 0; pass < 16; pass++) {
    DIR *d = opendir(path);
    if (d == NULL) {
      free(t);
      return errno ? -errno : CW_ESRCH;
    }
    int added = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      char *end;
      long tid = strtol(e->d_name, &end, 10);
      if (*end != '\0' || tid <= 0)
        continue;
      int known = 0;
      for (size_t i = 0; i < n && !known; i++)
        known = t[i].tid == (pid_t)tid;
      if (known || n >= MAX_THREADS)
        continue;
      seized_t *nt = realloc(t, (n + 1) * sizeof(*t));
      if (nt == NULL)
        break;
      t = nt;
      t[n] = (seized_t){.tid = (pid_t)tid};
      if (ptrace(PTRACE_SEIZE, (pid_t)tid, 0, 0) == 0) {
        t[n].seized = 1;
        if (ptrace(PTRACE_INTERRUPT, (pid_t)tid, 0, 0) != 0)
          t[n].gone = errno == ESRCH;
      } else if (errno == ESRCH) {
        t[n].gone = 1; /* exited meanwhile */
      }
      /* Otherwise (EPERM: already traced by a debugger) the thread stays
       * in the report, named but without registers. */
      n++;
      added++;
    }
    closedir(d);
    if (!added)
      break;
  }
  *out = t;
  *nout = n;
  return 0;
}

/* Waits for each seized thread's stop, with one overall deadline so a
 * thread stuck in an uninterruptible sleep cannot hold the app forever.
 * Each stop sends this thread a SIGCHLD, which the caller blocks from
 * before the seizing on: a pass over the threads that still runs waits
 * for the next one (sigtimedwait), where sleeping a guessed time
 * overshot the last stops by up to 0.2 ms. */
static void wait_stops(seized_t *t, size_t n, const sigset_t *chld) {
  uint64_t deadline = now_ns() + STOP_DEADLINE_NS;
  for (;;) {
    size_t pending = 0;
    for (size_t i = 0; i < n; i++) {
      if (!t[i].seized || t[i].stopped || t[i].gone)
        continue;
      int st;
      pid_t r = waitpid(t[i].tid, &st, WNOHANG | __WALL);
      if (r == 0) {
        pending++;
        continue;
      }
      if (r < 0) {
        if (errno == EINTR) {
          pending++;
          continue;
        }
        t[i].gone = 1;
        continue;
      }
      if (WIFEXITED(st) || WIFSIGNALED(st)) {
        t[i].gone = 1;
      } else if (WIFSTOPPED(st)) {
        t[i].stopped = 1;
        /* A plain signal-delivery-stop must give its signal back at
         * detach; PTRACE_EVENT_STOP (our interrupt, or a group stop)
         * must not. */
        if ((st >> 16) == 0)
          t[i].inject = WSTOPSIG(st);
      }
    }
    uint64_t now = now_ns();
    if (pending == 0 || now >= deadline)
      return;
    /* At most 1 ms at a time: a stop whose SIGCHLD came before the pass
     * that found it leaves one pending that ends the next wait at once;
     * one lost (a process-wide signal can go to any thread that does not
     * block it) costs a millisecond, not the deadline. */
    uint64_t left = deadline - now;
    struct timespec ts = {0, (long)(left < 1000000 ? left : 1000000)};
    sigtimedwait(chld, NULL, &ts);
  }
}

static void detach_all(seized_t *t, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (t[i].seized && !t[i].gone)
      ptrace(PTRACE_DETACH, t[i].tid, 0, (void *)(uintptr_t)t[i].inject);
  }
}

void cw__wd_capture_detach(wd_capture_t *cap) {
  if (cap->held == NULL)
    return;
  detach_all(cap->held, cap->nheld);
  free(cap->held);
  cap->held = NULL;
  cap->nheld = 0;
}

/* ---- /proc ---- */

size_t cw__wd_parse_maps(char *text, wd_mapping_t **out) {
  size_t n = 0, cap = 0;
  wd_mapping_t *m = NULL;
  for (char *line = text; line != NULL && *line;) {
    char *nl = strchr(line, '\n');
    if (nl != NULL)
      *nl = '\0';
    wd_mapping_t x;
    memset(&x, 0, sizeof(x));
    unsigned long long start, end, off, inode;
    int pos = 0;
    if (sscanf(line, "%llx-%llx %4s %llx %15s %llu %n", &start, &end, x.perms,
               &off, x.dev, &inode, &pos) >= 6) {
      x.start = start;
      x.end = end;
      x.offset = off;
      x.inode = inode;
      x.path = pos > 0 ? line + pos : "";
      size_t pl = strlen(x.path);
      const char *del = " (deleted)";
      if (pl > strlen(del) && strcmp(x.path + pl - strlen(del), del) == 0) {
        line[pos + pl - strlen(del)] = '\0';
        x.deleted = 1;
      }
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        wd_mapping_t *nm = realloc(m, cap * sizeof(*m));
        if (nm == NULL)
          break;
        m = nm;
      }
      m[n++] = x;
    }
    line = nl ? nl + 1 : NULL;
  }
  *out = m;
  return n;
}

int cw__wd_open_mapped(pid_t pid, const wd_mapping_t *m) {
  /* map_files reaches the very file that is mapped, even deleted or in
   * another mount namespace; the path is the fallback. */
  char mf[96];
  snprintf(mf, sizeof(mf), "/proc/%d/map_files/%llx-%llx", (int)pid,
           (unsigned long long)m->start, (unsigned long long)m->end);
  int fd = open(mf, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && !m->deleted && m->path[0] == '/')
    fd = open(m->path, O_RDONLY | O_CLOEXEC);
  return fd;
}

static const wd_mapping_t *mapping_at(const wd_mapping_t *m, size_t n,
                                      uint64_t addr) {
  for (size_t i = 0; i < n; i++)
    if (addr >= m[i].start && addr < m[i].end)
      return &m[i];
  return NULL;
}

/* Fields of /proc/PID/stat after the command name (field 3 = index 0). */
static int stat_field(const char *stat, int field, unsigned long long *v) {
  const char *p = strrchr(stat, ')');
  if (p == NULL)
    return -1;
  p += 2;
  for (int f = 3; f < field && *p; f++) {
    p = strchr(p, ' ');
    if (p == NULL)
      return -1;
    p++;
  }
  char *end;
  *v = strtoull(p, &end, 10);
  return end == p ? -1 : 0;
}

static void read_proc_blob(wd_capture_t *cap, pid_t pid, const char *name,
                           uint32_t type) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
  size_t len;
  uint8_t *data = slurp(path, MAX_PROC_FILE, &len);
  if (data == NULL) {
    note(cap, name);
    return;
  }
  cw__wd_capture_add_blob(cap, type, data, len);
  free(data);
}

/* ---- stacks ---- */

static void capture_stack(wd_capture_t *cap, wd_thread_t *th, pid_t pid,
                          const wd_mapping_t *maps, size_t nmaps, size_t limit,
                          uint64_t env_start, int force_procmem) {
  uint64_t sp = cw__wd_regs_sp(&th->regs);
  const wd_mapping_t *m = mapping_at(maps, nmaps, sp);
  if (m == NULL || m->perms[0] != 'r') {
    /* SP just below its stack, in the guard page or the gap (a stack
     * overflow): take the nearest readable mapping above. */
    m = NULL;
    for (size_t i = 0; i < nmaps; i++)
      if (maps[i].start > sp && maps[i].start - sp <= 64 * 1024 &&
          maps[i].perms[0] == 'r') {
        m = &maps[i];
        break;
      }
  }
  if (m == NULL || m->perms[0] != 'r' || limit == 0)
    return;
  uint64_t start = sp - WD_RED_ZONE;
  if (start < m->start || start > sp)
    start = m->start;
  uint64_t end = m->end;
  /* The environment strings sit at the top of the main thread's stack: keep
   * them out unless the user opted in. */
  if (env_start > start && env_start < end)
    end = env_start;
  if (end - start > limit)
    end = start + limit;
  size_t len = (size_t)(end - start);
  uint8_t *buf = malloc(len);
  if (buf == NULL)
    return;
  ssize_t got = cw__wd_mem_read(pid, start, buf, len, force_procmem);
  if (got > 0) {
    int idx = cw__wd_capture_add_region(cap, start, buf, (size_t)got);
    if (idx >= 0)
      th->stack_region = idx;
  }
  free(buf);
}

/* ---- modules ---- */

static size_t note_build_id_from_memory(pid_t pid, uint64_t base,
                                        const wd_mapping_t *maps, size_t nmaps,
                                        int force_procmem, uint8_t *out,
                                        size_t cap) {
  Elf64_Ehdr eh;
  if (cw__wd_mem_read(pid, base, &eh, sizeof(eh), force_procmem) !=
          (ssize_t)sizeof(eh) ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      eh.e_phnum > 256)
    return 0;
  Elf64_Phdr ph[256];
  size_t phlen = eh.e_phnum * sizeof(Elf64_Phdr);
  if (cw__wd_mem_read(pid, base + eh.e_phoff, ph, phlen, force_procmem) !=
      (ssize_t)phlen)
    return 0;
  /* Link-time vaddr of the base: the segment at file offset 0. */
  uint64_t bias = base;
  for (size_t i = 0; i < eh.e_phnum; i++)
    if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
      bias = base - ph[i].p_vaddr;
      break;
    }
  for (size_t i = 0; i < eh.e_phnum; i++) {
    if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > 4096)
      continue;
    uint8_t notes[4096];
    uint64_t at = bias + ph[i].p_vaddr;
    if (mapping_at(maps, nmaps, at) == NULL)
      continue;
    if (cw__wd_mem_read(pid, at, notes, ph[i].p_filesz, force_procmem) !=
        (ssize_t)ph[i].p_filesz)
      continue;
    size_t n = cw__elf_build_id_from_notes(notes, ph[i].p_filesz, out, cap);
    if (n > 0)
      return n;
  }
  return 0;
}

static int add_module(wd_capture_t *cap, const wd_mapping_t *first,
                      const wd_mapping_t *last, const char *name) {
  wd_module_t *m =
      realloc(cap->modules, (cap->nmodules + 1) * sizeof(*cap->modules));
  if (m == NULL)
    return CW_ENOMEM;
  cap->modules = m;
  wd_module_t *mod = &m[cap->nmodules];
  memset(mod, 0, sizeof(*mod));
  mod->base = first->start;
  mod->size = last->end - first->start;
  mod->offset_at_base = first->offset;
  mod->fd = -1;
  mod->path = strdup(name);
  if (mod->path == NULL)
    return CW_ENOMEM;
  cap->nmodules++;
  return 0;
}

static void capture_modules(wd_capture_t *cap, pid_t pid,
                            const wd_mapping_t *maps, size_t nmaps,
                            int force_procmem) {
  for (size_t i = 0; i < nmaps;) {
    const wd_mapping_t *first = &maps[i];
    size_t j = i + 1;
    int exec = first->perms[2] == 'x';
    if (first->path[0] == '/' && first->inode != 0) {
      /* A file's mappings are adjacent (maybe with an anonymous .bss
       * mapping after them, which belongs to no file). */
      while (j < nmaps && maps[j].inode == first->inode &&
             strcmp(maps[j].dev, first->dev) == 0 &&
             strcmp(maps[j].path, first->path) == 0 &&
             maps[j].offset >= maps[j - 1].offset) {
        exec |= maps[j].perms[2] == 'x';
        j++;
      }
      if (exec && add_module(cap, first, &maps[j - 1], first->path) == 0) {
        wd_module_t *mod = &cap->modules[cap->nmodules - 1];
        mod->fd = cw__wd_open_mapped(pid, first);
        if (mod->fd < 0)
          mod->build_id_len = note_build_id_from_memory(
              pid, mod->base, maps, nmaps, force_procmem, mod->build_id,
              sizeof(mod->build_id));
      }
    } else if (strcmp(first->path, "[vdso]") == 0) {
      if (add_module(cap, first, first, WD_VDSO_NAME) == 0) {
        wd_module_t *mod = &cap->modules[cap->nmodules - 1];
        /* The vDSO has no file: keep its image (two pages) so a thread
         * caught inside it can be unwound and named. */
        size_t len = (size_t)(first->end - first->start);
        if (len <= VDSO_MAX && (mod->image = malloc(len)) != NULL) {
          ssize_t got = cw__wd_mem_read(pid, first->start, mod->image, len,
                                        force_procmem);
          if (got == (ssize_t)len) {
            mod->image_size = len;
          } else {
            free(mod->image);
            mod->image = NULL;
          }
        }
        mod->build_id_len = note_build_id_from_memory(
            pid, mod->base, maps, nmaps, force_procmem, mod->build_id,
            sizeof(mod->build_id));
      }
    }
    i = j;
  }
}

/* ---- DSO debug (r_debug / link_map) ---- */

static void capture_dso_debug(wd_capture_t *cap, pid_t pid, const uint8_t *auxv,
                              size_t auxv_len, int fpm) {
  uint64_t phdr = 0, phnum = 0;
  for (size_t off = 0; off + 16 <= auxv_len; off += 16) {
    uint64_t k, v;
    memcpy(&k, auxv + off, 8);
    memcpy(&v, auxv + off + 8, 8);
    if (k == AT_PHDR)
      phdr = v;
    else if (k == AT_PHNUM)
      phnum = v;
  }
  if (phdr == 0 || phnum == 0 || phnum > 256)
    return;
  Elf64_Phdr ph[256];
  if (cw__wd_mem_read(pid, phdr, ph, phnum * sizeof(*ph), fpm) !=
      (ssize_t)(phnum * sizeof(*ph)))
    return;
  uint64_t bias = 0, dyn = 0, dyn_size = 0;
  for (size_t i = 0; i < phnum; i++)
    if (ph[i].p_type == PT_PHDR)
      bias = phdr - ph[i].p_vaddr;
  for (size_t i = 0; i < phnum; i++)
    if (ph[i].p_type == PT_DYNAMIC) {
      dyn = bias + ph[i].p_vaddr;
      dyn_size = ph[i].p_memsz;
    }
  if (dyn == 0)
    return; /* static executable: no dynamic linker, no r_debug */
  wd_dso_debug_t *d = &cap->dso_debug;
  d->dynamic = dyn;
  /* The dynamic section in one read (bounded), then DT_DEBUG in it. */
  uint64_t r_debug = 0;
  uint64_t dynbuf[2 * 256];
  if (dyn_size > sizeof(dynbuf))
    dyn_size = sizeof(dynbuf);
  ssize_t got_dyn = cw__wd_mem_read(pid, dyn, dynbuf, (size_t)dyn_size, fpm);
  for (ssize_t i = 0; got_dyn > 0 && (i + 1) * 16 <= got_dyn; i++) {
    if (dynbuf[2 * i] == DT_NULL)
      break;
    if (dynbuf[2 * i] == DT_DEBUG)
      r_debug = dynbuf[2 * i + 1];
  }
  if (r_debug == 0)
    return;
  d->dynamic_data = malloc((size_t)got_dyn);
  if (d->dynamic_data != NULL) {
    memcpy(d->dynamic_data, dynbuf, (size_t)got_dyn);
    d->dynamic_len = (size_t)got_dyn;
  }
  /* struct r_debug: int r_version; link_map *r_map; ElfW(Addr) r_brk;
   * int r_state; ElfW(Addr) r_ldbase. */
  uint64_t rd[5];
  if (cw__wd_mem_read(pid, r_debug, rd, sizeof(rd), fpm) != (ssize_t)sizeof(rd))
    return;
  d->present = 1;
  d->version = (uint32_t)rd[0];
  d->map_addr = rd[1];
  d->brk = rd[2];
  d->ldbase = rd[4];
  /* struct link_map: l_addr, l_name, l_ld, l_next, l_prev. */
  for (uint64_t lm = d->map_addr; lm != 0 && d->ndsos < MAX_DSOS;) {
    uint64_t l[5];
    if (cw__wd_mem_read(pid, lm, l, sizeof(l), fpm) != (ssize_t)sizeof(l))
      break;
    wd_dso_t *nd = realloc(d->dsos, (d->ndsos + 1) * sizeof(*nd));
    if (nd == NULL)
      break;
    d->dsos = nd;
    /* Names are short: read 256 bytes first, the rest only if needed. */
    char name[PATH_MAX];
    ssize_t got = l[1] ? cw__wd_mem_read(pid, l[1], name, 256, fpm) : 0;
    if (got == 256 && memchr(name, 0, 256) == NULL) {
      ssize_t more =
          cw__wd_mem_read(pid, l[1] + 256, name + 256, sizeof(name) - 257, fpm);
      got = more > 0 ? 256 + more : 256;
    }
    name[got > 0 ? got : 0] = '\0';
    nd[d->ndsos++] = (wd_dso_t){l[0], l[2], strdup(name)};
    lm = l[3];
  }
}

/* ---- thread names ---- */

typedef struct {
  pid_t tid;
  char name[17];
} thread_name_t;

typedef struct {
  int task_dir; /* /proc/PID/task, or -1 */
  thread_name_t *v;
  size_t n, cap;
} thread_names_t;

static void names_init(thread_names_t *t, pid_t pid) {
  memset(t, 0, sizeof(*t));
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
  t->task_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void names_free(thread_names_t *t) {
  if (t->task_dir >= 0)
    close(t->task_dir);
  free(t->v);
  memset(t, 0, sizeof(*t));
  t->task_dir = -1;
}

/* Reads TID/comm under the task directory into name (17 bytes, without
 * the newline; "" if it cannot be read). Relative to an open directory:
 * the /proc/PID/task part of the path is looked up once. */
static void read_comm(int task_dir, pid_t tid, char name[17]) {
  name[0] = '\0';
  if (task_dir < 0)
    return;
  char rel[32];
  snprintf(rel, sizeof(rel), "%d/comm", (int)tid);
  int fd = openat(task_dir, rel, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  char buf[64];
  ssize_t got;
  do
    got = read(fd, buf, sizeof(buf));
  while (got < 0 && errno == EINTR);
  close(fd);
  size_t len = got > 0 ? (size_t)got : 0;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0'))
    len--;
  if (len > 16)
    len = 16;
  memcpy(name, buf, len);
  name[len] = '\0';
}

/* A worker's job: the name of every thread listed now. */
static void read_names(void *arg) {
  thread_names_t *t = arg;
  int fd = openat(t->task_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long tid = strtol(e->d_name, &end, 10);
    if (tid <= 0 || *end != '\0')
      continue;
    if (t->n == t->cap) {
      size_t cap = t->cap ? 2 * t->cap : 64;
      thread_name_t *v = realloc(t->v, cap * sizeof(*v));
      if (v == NULL)
        break;
      t->v = v;
      t->cap = cap;
    }
    t->v[t->n].tid = (pid_t)tid;
    read_comm(t->task_dir, (pid_t)tid, t->v[t->n].name);
    t->n++;
  }
  closedir(d);
}

static const thread_name_t *find_name(const thread_names_t *t, pid_t tid) {
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].tid == tid)
      return &t->v[i];
  return NULL;
}

/* The memory map and /proc/PID/stat, read once every thread has
 * stopped: on a worker, while the capture reads the registers. */
typedef struct {
  pid_t pid;
  int include_environ;
  uint8_t *maps_text; /* parsed: its lines cut, the mappings point in */
  uint8_t *maps_blob; /* the text as read, for the minidump */
  size_t maps_len;
  wd_mapping_t *maps;
  size_t nmaps;
  unsigned long long env_start, start_ticks;
} proc_read_t;

static void read_maps_stat(void *arg) {
  proc_read_t *p = arg;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
  p->maps_text = slurp(path, WD_MAPS_MAX, &p->maps_len);
  if (p->maps_text != NULL) {
    p->maps_blob = malloc(p->maps_len);
    if (p->maps_blob != NULL)
      memcpy(p->maps_blob, p->maps_text, p->maps_len);
    p->nmaps = cw__wd_parse_maps((char *)p->maps_text, &p->maps);
  }
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
  size_t stat_len;
  uint8_t *stat = slurp(path, 4096, &stat_len);
  if (stat != NULL) {
    if (!p->include_environ)
      stat_field((char *)stat, 50, &p->env_start);
    stat_field((char *)stat, 22, &p->start_ticks);
    free(stat);
  }
}

/* ---- the capture ---- */

int cw__wd_capture_process(const cw__crash_record_t *rec,
                           const wd_capture_opts_t *opts, wd_capture_t *cap) {
  wd_capture_opts_t defaults;
  if (opts == NULL) {
    cw__wd_capture_opts_default(&defaults);
    opts = &defaults;
  }
  const int fpm = opts->force_procmem;
  pid_t pid = rec->pid;
  memset(cap, 0, sizeof(*cap));
  cap->pid = pid;
  cap->signo = rec->signo;
  cap->si_code = rec->si_code;
  cap->si_errno = rec->si_errno;
  cap->sender_pid = rec->sender_pid;
  cap->fault_addr = rec->fault_addr;
  cap->crashed_tid = rec->tid;
  cap->time_realtime_ns = rec->time_realtime_ns;

  uint64_t t0 = now_ns();
  /* The threads' names are read on a kept worker (the watchdog starts them
   * when it warms up) while this thread stops and reads the threads: one
   * open and read per thread, about 10 us each on the test VM, which made
   * most of a 128-thread capture's pause. A name needs no stop. */
  thread_names_t names;
  names_init(&names, pid);
  cw__job_t names_job = {read_names, &names};
  int names_on_worker = names.task_dir >= 0 && cw__workers_begin(&names_job, 1);
  seized_t *st = NULL;
  size_t nst = 0;
  sigset_t chld, mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &chld, &mask);
  int rc = seize_all(pid, &st, &nst);
  if (rc == 0)
    wait_stops(st, nst, &chld);
  pthread_sigmask(SIG_SETMASK, &mask, NULL);
  if (rc != 0) {
    if (names_on_worker)
      cw__workers_finish();
    names_free(&names);
    return rc;
  }

  /* The names' worker is done by now (or this takes what it left); then
   * the map and stat are read on one while this thread reads registers. */
  if (names_on_worker)
    cw__workers_finish();
  proc_read_t pr = {.pid = pid, .include_environ = opts->include_environ};
  cw__job_t pr_job = {read_maps_stat, &pr};
  int pr_on_worker = cw__workers_begin(&pr_job, 1);

  /* Threads and registers. */
  cap->threads = calloc(nst + 1, sizeof(*cap->threads));
  if (cap->threads == NULL) {
    if (pr_on_worker)
      cw__workers_finish();
    free(pr.maps_text);
    free(pr.maps_blob);
    free(pr.maps);
    names_free(&names);
    detach_all(st, nst);
    free(st);
    return CW_ENOMEM;
  }
  int have_crashed = 0;
  size_t unstopped = 0, seized = 0;
  for (size_t i = 0; i < nst; i++) {
    if (st[i].gone)
      continue;
    seized += st[i].seized;
    unstopped += !st[i].stopped;
    wd_thread_t *th = &cap->threads[cap->nthreads];
    memset(th, 0, sizeof(*th));
    th->tid = st[i].tid;
    th->stack_region = -1;
    if (st[i].stopped &&
        ptrace(PTRACE_GETREGS, th->tid, 0, &th->regs.gp) == 0) {
      th->regs_ok = 1;
      th->regs.has_fp = ptrace(PTRACE_GETFPREGS, th->tid, 0, &th->regs.fp) == 0;
    }
    if (th->tid == rec->tid) {
      wd_regs_t live = th->regs;
      cw__wd_regs_from_crash_context(&rec->context, th->regs_ok ? &live : NULL,
                                     &th->regs);
      th->regs_ok = 1;
      cap->crashed_index = cap->nthreads;
      have_crashed = 1;
    }
    cap->nthreads++;
  }
  if (!have_crashed) {
    /* The crashing thread was not in the task list (it should be): report
     * it from the record alone. */
    wd_thread_t *th = &cap->threads[cap->nthreads];
    memset(th, 0, sizeof(*th));
    th->tid = rec->tid;
    th->stack_region = -1;
    cw__wd_regs_from_crash_context(&rec->context, NULL, &th->regs);
    th->regs_ok = 1;
    cap->crashed_index = cap->nthreads++;
  }
  /* The names: the workers' table, and what it missed (a thread born
   * after it was read, or no workers) read here. */
  for (size_t i = 0; i < cap->nthreads; i++) {
    wd_thread_t *th = &cap->threads[i];
    const thread_name_t *n = find_name(&names, th->tid);
    if (n != NULL)
      memcpy(th->name, n->name, sizeof(th->name));
    else
      read_comm(names.task_dir, th->tid, th->name);
  }
  names_free(&names);

  /* Memory map, stacks, the code around the crashing instruction. */
  if (pr_on_worker)
    cw__workers_finish();
  else
    read_maps_stat(&pr);
  uint8_t *maps_text = pr.maps_text;
  wd_mapping_t *maps = pr.maps;
  size_t nmaps = pr.nmaps;
  unsigned long long env_start = pr.env_start, start_ticks = pr.start_ticks;
  if (pr.maps_blob != NULL)
    cw__wd_capture_add_blob(cap, MD_LINUX_MAPS, pr.maps_blob, pr.maps_len);
  else
    note(cap, "maps");
  free(pr.maps_blob);
  char path[64];

  size_t budget = opts->total_stack_cap;
  size_t omitted = 0;
  cap->stack_budget = opts->total_stack_cap;
  for (size_t pass = 0; pass < 2; pass++) {
    /* The crashing thread first, so the budget never starves it. */
    for (size_t i = 0; i < cap->nthreads; i++) {
      wd_thread_t *th = &cap->threads[i];
      int crashed = i == cap->crashed_index;
      if ((pass == 0) != crashed || !th->regs_ok)
        continue;
      size_t want = crashed ? opts->crash_stack_cap : opts->stack_cap;
      size_t limit = want < budget ? want : budget;
      if (limit == 0) {
        /* Said in the event (crashwatch.stacks_omitted): a thread with no
         * stack in the dump is otherwise indistinguishable from one whose
         * stack could not be read. */
        if (want > 0) {
          th->stack_budget = WD_STACK_OMITTED;
          omitted++;
        }
        continue;
      }
      capture_stack(cap, th, pid, maps, nmaps, limit,
                    th->tid == pid ? env_start : 0, fpm);
      int r = th->stack_region;
      if (r >= 0) {
        budget -= cap->regions[r].len;
        if (limit < want && cap->regions[r].len == limit)
          th->stack_budget = WD_STACK_SHORTENED;
      }
    }
  }
  if (omitted > 0) {
    char what[96];
    snprintf(what, sizeof(what),
             "%zu thread stack(s) left out by the %zu KiB "
             "stack budget",
             omitted, opts->total_stack_cap / 1024);
    note(cap, what);
  }
  uint64_t ip = cw__wd_regs_pc(&cap->threads[cap->crashed_index].regs);
  const wd_mapping_t *ipm = mapping_at(maps, nmaps, ip);
  if (ipm != NULL && ipm->perms[0] == 'r') {
    uint64_t lo = ip - IP_REGION / 2, hi = ip + IP_REGION / 2;
    if (lo < ipm->start || lo > ip)
      lo = ipm->start;
    if (hi > ipm->end)
      hi = ipm->end;
    uint8_t buf[IP_REGION];
    ssize_t got = cw__wd_mem_read(pid, lo, buf, (size_t)(hi - lo), fpm);
    if (got > 0 && cw__wd_capture_memory(cap, lo, (size_t)got) == NULL)
      cw__wd_capture_add_region(cap, lo, buf, (size_t)got);
  }

  if (opts->detach == WD_DETACH_EARLY) {
    detach_all(st, nst);
    cap->pause_ns = now_ns() - t0;
  }

  capture_modules(cap, pid, maps, nmaps, fpm);

  snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
  char exe[PATH_MAX];
  ssize_t el = readlink(path, exe, sizeof(exe) - 1);
  if (el > 0) {
    exe[el] = '\0';
    cap->exe_path = strdup(exe);
  }

  read_proc_blob(cap, pid, "status", MD_LINUX_PROC_STATUS);
  read_proc_blob(cap, pid, "cmdline", MD_LINUX_CMD_LINE);
  read_proc_blob(cap, pid, "auxv", MD_LINUX_AUXV);
  if (opts->include_environ)
    read_proc_blob(cap, pid, "environ", MD_LINUX_ENVIRON);
  for (size_t i = 0; i < cap->nblobs; i++)
    if (cap->blobs[i].stream_type == MD_LINUX_AUXV)
      capture_dso_debug(cap, pid, cap->blobs[i].data, cap->blobs[i].len, fpm);

  if (opts->detach == WD_DETACH_HELD) {
    cap->pause_ns = now_ns() - t0;
    cap->held = st; /* cw__wd_capture_detach lets them go */
    cap->nheld = nst;
  } else {
    if (opts->detach == WD_DETACH_AFTER_COPY) {
      detach_all(st, nst);
      cap->pause_ns = now_ns() - t0;
    }
    free(st);
  }
  if (unstopped > 0) {
    char what[64];
    snprintf(what, sizeof(what), "%zu thread(s) not stopped: no registers",
             unstopped);
    note(cap, what);
  }

  cap->start_ticks = start_ticks;
  free(maps);
  free(maps_text);
  /* Not one thread could be seized (ptrace refused: another tracer, or
   * no PR_SET_PTRACER): what was read is kept, but it is a failure. */
  if (seized == 0) {
    note(cap, "ptrace refused");
    return CW_EPERM;
  }
  return 0;
}

/* ---- one waiting thread, without ptrace ---- */

int cw__wd_capture_caller(const cw__crash_record_t *rec,
                          const wd_capture_opts_t *opts, wd_capture_t *cap) {
  wd_capture_opts_t defaults;
  if (opts == NULL) {
    cw__wd_capture_opts_default(&defaults);
    opts = &defaults;
  }
  pid_t pid = rec->pid;
  memset(cap, 0, sizeof(*cap));
  cap->pid = pid;
  cap->crashed_tid = rec->tid;
  cap->time_realtime_ns = rec->time_realtime_ns;
  uint64_t t0 = now_ns();
  cap->threads = calloc(1, sizeof(*cap->threads));
  if (cap->threads == NULL)
    return CW_ENOMEM;
  wd_thread_t *th = &cap->threads[0];
  th->tid = rec->tid;
  th->stack_region = -1;
  th->regs_ok = 1;
  cw__wd_regs_from_crash_context(&rec->context, NULL, &th->regs);
  cap->nthreads = 1;
  cap->crashed_index = 0;
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
  size_t maps_len = 0;
  uint8_t *maps_text = slurp(path, WD_MAPS_MAX, &maps_len);
  if (maps_text == NULL) {
    note(cap, "maps");
    return CW_ECAPTURE;
  }
  wd_mapping_t *maps = NULL;
  size_t nmaps = cw__wd_parse_maps((char *)maps_text, &maps);
  /* The caller's frames above its SP do not change while it waits for
   * the ack; what lies below is not read. */
  capture_stack(cap, th, pid, maps, nmaps, opts->crash_stack_cap, 0,
                opts->force_procmem);
  capture_modules(cap, pid, maps, nmaps, opts->force_procmem);
  cap->pause_ns = now_ns() - t0;
  free(maps);
  free(maps_text);
  return th->stack_region >= 0 ? 0 : CW_ECAPTURE;
}
