/*
 * module_cache.c — the app's modules, opened and with their symbol tables
 * loaded and sorted while the resident watchdog waits (warm_up() in
 * main.c), for every later crash of that app to name its frames from.
 * Normal context, watchdog process.
 *
 * Naming a crash's frames before the commit read each module's symbol
 * table (libc's from libc6-dbg's debug file: thousands of symbols) through
 * pages touched for the first time: 0.6-1.3 ms of the time from fault to
 * durable on the test VM. A cached module is found again by its file's
 * identity (device, inode, size, modification time, from fstat of the fd
 * the capture opened), so a file replaced or changed since is opened anew.
 * A cached cw__elf_t is only read once its table is loaded (cw__elf_symbol
 * then searches the sorted table, and cw__elf_name_addrs does nothing), so
 * every capture shares it; cw__wd_capture_free leaves it open.
 */
#include <fcntl.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read_all.h"
#include "wd_elf.h"

/* At most this many modules, and symbols in all: a program with a huge
 * symbol table pays for it at the crash, as before, not in idle memory. */
#define CACHE_MAX 64
#define CACHE_MAX_SYMS 400000

typedef struct {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  int fd;
  cw__elf_t *elf;
} entry_t;

static entry_t cache[CACHE_MAX];
static size_t ncache, nsyms_cached;

static int same_file(const entry_t *e, const struct stat *st) {
  return e->dev == st->st_dev && e->ino == st->st_ino &&
         e->size == st->st_size && e->mtime.tv_sec == st->st_mtim.tv_sec &&
         e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static const entry_t *find(const struct stat *st) {
  for (size_t i = 0; i < ncache; i++)
    if (same_file(&cache[i], st))
      return &cache[i];
  return NULL;
}

static void drop_pages(Elf *elf) {
  size_t len = 0;
  char *image = elf != NULL ? elf_rawfile(elf, &len) : NULL;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  if (image != NULL && len > 0 && ((uintptr_t)image & (page - 1)) == 0)
    madvise(image, len, MADV_DONTNEED);
}

/* Opens and loads the module behind mapping m of process pid. */
static void add(pid_t pid, const wd_mapping_t *m) {
  if (ncache >= CACHE_MAX || nsyms_cached >= CACHE_MAX_SYMS)
    return;
  int fd = cw__wd_open_mapped(pid, m);
  struct stat st;
  if (fd < 0)
    return;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || find(&st) != NULL) {
    close(fd);
    return;
  }
  cw__elf_t *e = cw__elf_open_fd(fd);
  if (e == NULL) {
    close(fd);
    return;
  }
  (void)cw__elf_symbol(e, 0); /* loads and sorts the whole table */
  /* Loading read the symbol and string tables through libelf's read-only
   * mappings of the file and its debug file. The pages go from this
   * process's memory (a later read, at a crash, faults them back in from
   * the page cache): they would count in its idle RSS otherwise. */
  drop_pages(e->elf);
  drop_pages(e->debug_elf);
  cache[ncache++] =
      (entry_t){st.st_dev, st.st_ino, st.st_size, st.st_mtim, fd, e};
  nsyms_cached += e->nsyms;
}

size_t cw__wd_module_cache_warm(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return ncache;
  char *text;
  size_t len;
  int rc = cw__read_all(fd, 0, WD_MAPS_MAX, &text, &len);
  close(fd);
  if (rc != 0)
    return ncache;
  wd_mapping_t *maps;
  size_t n = cw__wd_parse_maps(text, &maps);
  for (size_t i = 0; i < n; i++)
    if (maps[i].perms[2] == 'x' && maps[i].path[0] == '/' && !maps[i].deleted)
      add(pid, &maps[i]);
  free(maps);
  free(text);
  return ncache;
}

cw__elf_t *cw__wd_module_cache_find(int fd) {
  struct stat st;
  if (ncache == 0 || fstat(fd, &st) != 0)
    return NULL;
  const entry_t *e = find(&st);
  return e != NULL ? e->elf : NULL;
}
