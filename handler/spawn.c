/*
 * spawn.c — starts the watchdog process at cw_init(), and prepares what the
 * crash handler needs to start another one at crash time (cw__respawn:
 * crash_spawn.c). Normal context; the hops themselves are launch.c's.
 *
 * With the embedded watchdog, what starts is the full watchdog from a
 * memfd, loaded and waiting. With lazy_watchdog it is the idle stage
 * instead (wd_idle.c, a few KiB, no libc) from a second memfd, handed the
 * full watchdog's memfd (--image-fd); it exec()s that when the first crash
 * record is pending, which puts an exec() on the crash's clock.
 * CRASHWATCH_WATCHDOG / the option path is exec()d directly.
 * The app is suspended until the watchdog has exec()d or failed to.
 *
 * Where `make install` put the same image beside the library
 * (libexec/crashwatch-watchdog.img), that file is executed instead of a
 * memfd copy (open_installed_image): the copy was a good part of
 * cw_init's time, and a private copy of the image in every process.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashwatch.h"
#include "cw_internal.h"
#include "elf_note.h"
#include "scope_write.h"

extern char **environ;

/* Writes bytes [start, end) of the library into a memfd. Returns the fd or
 * a negative CW_E* code (message set).
 *
 * RLIMIT_FSIZE applies to a memfd like to any file, and a write past it
 * raises SIGXFSZ, which kills the app. So the limit is checked first: a
 * hard limit below the image fails cw_init with CW_EWATCHDOG; a soft one
 * is raised to the hard limit for the write and put back (process-wide
 * for those few hundred microseconds: a write elsewhere in the app past
 * its soft limit in that window succeeds instead of failing). */
static int make_memfd(const char *name, const unsigned char *start,
                      const unsigned char *end) {
  size_t len = (size_t)(end - start);
  if (len == 0)
    return cw__fail(CW_EWATCHDOG,
                    "this libcrashwatch was built without an embedded "
                    "watchdog; set CRASHWATCH_WATCHDOG to its path");
  struct rlimit fsz, raised;
  int restore = 0;
  if (getrlimit(RLIMIT_FSIZE, &fsz) == 0 && fsz.rlim_cur != RLIM_INFINITY &&
      fsz.rlim_cur < len) {
    if (fsz.rlim_max != RLIM_INFINITY && fsz.rlim_max < len)
      return cw__fail(CW_EWATCHDOG,
                      "watchdog: RLIMIT_FSIZE (hard limit %llu bytes) is "
                      "below the embedded watchdog's %zu bytes; raise it or "
                      "set CRASHWATCH_WATCHDOG to an installed "
                      "crashwatch-watchdog",
                      (unsigned long long)fsz.rlim_max, len);
    raised = fsz;
    raised.rlim_cur = fsz.rlim_max;
    if (setrlimit(RLIMIT_FSIZE, &raised) != 0)
      return cw__fail(CW_EWATCHDOG, "watchdog: raising RLIMIT_FSIZE: %s",
                      strerror(errno));
    restore = 1;
  }
  int fd = memfd_create(name, MFD_CLOEXEC);
  int rc = fd;
  if (fd < 0)
    rc = cw__fail(CW_EWATCHDOG, "watchdog: memfd_create: %s", strerror(errno));
  const unsigned char *p = start;
  while (fd >= 0 && len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      fd = -1;
      rc = cw__fail(CW_EWATCHDOG, "watchdog: writing the memfd: %s",
                    strerror(e));
      break;
    }
    p += n;
    len -= (size_t)n;
  }
  if (restore)
    setrlimit(RLIMIT_FSIZE, &fsz);
  return rc;
}

#ifndef CW_WATCHDOG_IMAGE_REL
#define CW_WATCHDOG_IMAGE_REL "../libexec/crashwatch-watchdog.img"
#endif

/* How many leading bytes of the embedded image hold its ELF header, its
 * program headers and its GNU build-id note, or 0 if it has no build-id
 * (a toolchain without --build-id) or is not an ELF image we can read. */
static size_t blob_head_with_build_id(void) {
  const unsigned char *b = cw__watchdog_blob_start;
  size_t len = (size_t)(cw__watchdog_blob_end - cw__watchdog_blob_start);
  ElfW(Ehdr) eh;
  if (len < sizeof(eh))
    return 0;
  memcpy(&eh, b, sizeof(eh));
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phoff > len ||
      (size_t)eh.e_phnum * sizeof(ElfW(Phdr)) > len - eh.e_phoff)
    return 0;
  size_t head = (size_t)eh.e_phoff + (size_t)eh.e_phnum * sizeof(ElfW(Phdr));
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    ElfW(Phdr) ph;
    memcpy(&ph, b + eh.e_phoff + i * sizeof(ph), sizeof(ph));
    if (ph.p_type != PT_NOTE || ph.p_offset > len ||
        ph.p_filesz > len - ph.p_offset)
      continue;
    size_t off, id_len;
    if (cw__elf_note_build_id(b + ph.p_offset, (size_t)ph.p_filesz,
                              ph.p_align == 8 ? 8 : 4, &off, &id_len) &&
        id_len >= 8) {
      size_t end = (size_t)ph.p_offset + off + id_len;
      return end > head ? end : head;
    }
  }
  return 0;
}

/* The file open on fd (len bytes long) is the embedded image. The build-id
 * is a hash the linker made of the whole image, so when the embedded image
 * has one, equal leading bytes up to and including it are enough: one
 * small read instead of reading and comparing the whole 700 KiB (mapping
 * both copies cost more than the memfd copy it was meant to save). */
static int same_image(int fd, size_t len) {
  size_t head = blob_head_with_build_id();
  if (head > 0 && head <= 16384) {
    unsigned char buf[16384];
    ssize_t n = pread(fd, buf, head, 0);
    return n == (ssize_t)head &&
           memcmp(buf, cw__watchdog_blob_start, head) == 0;
  }
  void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  int same = m != MAP_FAILED && memcmp(m, cw__watchdog_blob_start, len) == 0;
  if (m != MAP_FAILED)
    munmap(m, len);
  return same;
}

/* The installed copy of the embedded watchdog, opened, if it is the
 * embedded image (same size, same build-id: same_image) and only root or this
 * process's effective user can change it (a setuid app must not run what its
 * real user could edit); else -1, and the memfd copy is used. Where:
 * CRASHWATCH_WATCHDOG_IMAGE (tests; ignored in a setuid program), else
 * CW_WATCHDOG_IMAGE_REL from the directory of the file this library was loaded
 * from. */
static int open_installed_image(void) {
  size_t len = (size_t)(cw__watchdog_blob_end - cw__watchdog_blob_start);
  char path[PATH_MAX];
  const char *env = secure_getenv("CRASHWATCH_WATCHDOG_IMAGE");
  if (env != NULL && *env != '\0') {
    if (strcmp(env, "none") == 0)
      return -1;
    snprintf(path, sizeof(path), "%s", env);
  } else {
    Dl_info info;
    if (dladdr((void *)open_installed_image, &info) == 0 ||
        info.dli_fname == NULL || info.dli_fname[0] != '/')
      return -1;
    const char *slash = strrchr(info.dli_fname, '/');
    int n =
        snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - info.dli_fname),
                 info.dli_fname, CW_WATCHDOG_IMAGE_REL);
    if (n < 0 || (size_t)n >= sizeof(path))
      return -1;
  }
  if (len == 0 || path[0] != '/')
    return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  struct stat st;
  int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
           (size_t)st.st_size == len &&
           (st.st_uid == 0 || st.st_uid == geteuid()) &&
           (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
  if (ok)
    ok = same_image(fd, len);
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Moves fd to a number >= 3 (close-on-exec), so a daemon that closed its
 * stdio does not get the crash socket dup2'd over in the watchdog. */
static int above_stdio(int fd) {
  if (fd < 0 || fd > 2)
    return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

#define DSN_ENV "CRASHWATCH_WATCHDOG_DSN"

/* The watchdog's environment: a deep copy of the app's (the crash handler
 * may use it long after cw_init, in a child that has changed its own), with
 * the DSN added as CRASHWATCH_WATCHDOG_DSN (an environment is private to the
 * user, a command line is not), and without LD_PRELOAD: the app's preloads
 * are the app's, and libcrashwatch-preload.so (`crashwatch run`) would
 * start a watchdog of the watchdog. One malloc'd block, the strings after
 * the pointers; NULL on out-of-memory. */
static int skip_env(const char *e) {
  return strncmp(e, DSN_ENV "=", sizeof(DSN_ENV)) == 0 ||
         strncmp(e, "LD_PRELOAD=", 11) == 0;
}

static char **make_env(const char *dsn) {
  /* A secure-execution (setuid/setcap) app's environment is the invoking
   * user's: the watchdog (which runs with the app's privileges) and the
   * uploader it starts get none of it, only what the app's options say. */
  char *none[] = {NULL};
  char **src = cw__secure_exec() ? none : environ;
  size_t n = 0, bytes = 0;
  for (char **e = src; e && *e; e++) {
    if (skip_env(*e))
      continue;
    n++;
    bytes += strlen(*e) + 1;
  }
  if (dsn != NULL)
    bytes += sizeof(DSN_ENV "=") + strlen(dsn);
  char **env = malloc((n + 2) * sizeof(char *) + bytes);
  if (env == NULL)
    return NULL;
  char *p = (char *)(env + n + 2);
  size_t k = 0;
  for (char **e = src; e && *e; e++) {
    if (skip_env(*e))
      continue;
    size_t len = strlen(*e) + 1;
    memcpy(p, *e, len);
    env[k++] = p;
    p += len;
  }
  if (dsn != NULL) {
    size_t len = sizeof(DSN_ENV "=") + strlen(dsn);
    snprintf(p, len, "%s=%s", DSN_ENV, dsn);
    env[k++] = p;
  }
  env[k] = NULL;
  return env;
}

static void add_arg(cw__respawn_t *r, int *argc, const char *s) {
  if (*argc < CW__MAX_ARGS - 1)
    r->argv[(*argc)++] = (char *)s;
  r->argv[*argc] = NULL;
}

/* A copy of s that lives as long as cw__respawn's command line. */
static const char *own(cw__respawn_t *r, const char *s) {
  if (s == NULL || r->nowned >= (int)(sizeof(r->owned) / sizeof(r->owned[0])))
    return NULL;
  char *d = strdup(s);
  if (d != NULL)
    r->owned[r->nowned++] = d;
  return d;
}

static void respawn_clear(cw__respawn_t *r) {
  __atomic_store_n(&r->ready, 0, __ATOMIC_SEQ_CST);
  for (int i = 0; i < r->nowned; i++)
    free(r->owned[i]);
  r->nowned = 0;
  free(r->envp);
  free(r->path);
  r->envp = NULL;
  r->path = NULL;
  r->argv[0] = NULL;
}

/* Prepares cw__respawn: the watchdog's command line (with --image-fd for
 * the idle stage last, so the crash handler can cut it off), its
 * environment and path, the hops' stacks. 0 or a CW_E* code. */
static int respawn_prepare(const struct cw_options *o, const char *spool_abs,
                           int staged) {
  cw__respawn_t *r = &cw__respawn;
  respawn_clear(r);
  if (r->stacks == NULL) { /* kept for the life of the process */
    void *m = mmap(NULL, 2 * CW__LAUNCH_STACK, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
      return cw__fail(CW_ENOMEM, "watchdog: no memory for its start");
    r->stacks = m;
  }
  r->envp = make_env(o->dsn);
  if (o->watchdog_path != NULL)
    r->path = strdup(o->watchdog_path);
  const char *spool = own(r, spool_abs);
  const char *release = own(r, o->release);
  const char *environment = own(r, o->environment);
  if (r->envp == NULL || spool == NULL ||
      (o->watchdog_path != NULL && r->path == NULL) ||
      (o->release != NULL && release == NULL) ||
      (o->environment != NULL && environment == NULL)) {
    respawn_clear(r);
    return cw__fail(CW_ENOMEM, "watchdog: out of memory");
  }
  int argc = 0;
  add_arg(r, &argc, "crashwatch-watchdog");
  add_arg(r, &argc, "--fd");
  add_arg(r, &argc, r->fd_str);
  add_arg(r, &argc, "--pid");
  add_arg(r, &argc, r->pid_str);
  add_arg(r, &argc, "--spool");
  add_arg(r, &argc, spool);
  /* The summary goes to the app's stderr, if it has one. */
  add_arg(r, &argc, "--summary-fd");
  add_arg(r, &argc, r->summary_str);
  snprintf(r->limits_str, sizeof(r->limits_str), "%ld,%lld,%lld,%ld",
           o->spool_limits.max_reports, o->spool_limits.max_bytes,
           (long long)(o->spool_limits.max_age_ms / 1000),
           o->spool_limits.failed_max);
  add_arg(r, &argc, "--spool-limits");
  add_arg(r, &argc, r->limits_str);
  /* The scope mapping's memfd (docs/scope.md); rewritten at crash time. */
  add_arg(r, &argc, "--scope-fd");
  add_arg(r, &argc, r->scope_str);
  if (o->include_environ)
    add_arg(r, &argc, "--include-environ");
  if (!o->print_summary)
    add_arg(r, &argc, "--no-summary");
  if (o->release_early)
    add_arg(r, &argc, "--release-early");
  if (release != NULL) {
    add_arg(r, &argc, "--release");
    add_arg(r, &argc, release);
  }
  if (environment != NULL) {
    add_arg(r, &argc, "--environment");
    add_arg(r, &argc, environment);
  }
  /* The program's name, which a message event carries (its sender may
   * have exited before the watchdog could look). A copy: a daemon may
   * rewrite its argv (setproctitle). */
  const char *program = own(r, program_invocation_short_name);
  if (program != NULL && program[0] != '\0') {
    add_arg(r, &argc, "--program");
    add_arg(r, &argc, program);
  }
  /* What only cw_init's watchdog gets; the crash handler cuts the command
   * line here (r->image_arg). */
  r->image_arg = argc;
  /* With a target, the idle stage (or the watchdog started directly)
   * delivers what an earlier run left in the spool, detached and off the
   * app's clock. secure_getenv: a setuid program ignores the variable. */
  const char *upload_url = secure_getenv("CRASHWATCH_UPLOAD_URL");
  if (o->dsn != NULL || (upload_url != NULL && upload_url[0] != '\0'))
    add_arg(r, &argc, "--upload-pending");
  /* The session update the app leaves at its end (docs/sessions.md) goes
   * out when the app is gone: only a DSN carries sessions, and only with
   * a release is there one. */
  if (o->dsn != NULL && o->release != NULL)
    add_arg(r, &argc, "--upload-at-exit");
  if (staged) {
    add_arg(r, &argc, "--image-fd");
    add_arg(r, &argc, r->image_str);
  }
  r->cover_forks = o->cover_forks;
  return 0;
}

/* One attempt; installed: use the installed image if there is one
 * (*installed_failed is set if it was, and could not be executed). */
static int spawn_once(const struct cw_options *o, const char *spool_abs,
                      int *sock_out, pid_t *pid_out, int installed,
                      int *installed_failed) {
  int exe_fd = -1, image_fd = -1, sv[2] = {-1, -1};
  int devnull = -1;
  int rc = 0;
  int from_installed = 0;
  if (o->watchdog_path == NULL) {
    /* The full watchdog, or with lazy_watchdog the idle stage (which this
     * library has whenever it embeds a watchdog). */
    /* Not for the lazy watchdog: its idle stage would find out at the
     * crash that the file cannot be executed. */
    image_fd = installed && !o->lazy_watchdog ? open_installed_image() : -1;
    from_installed = image_fd >= 0;
    if (image_fd < 0)
      image_fd = make_memfd("crashwatch-watchdog", cw__watchdog_blob_start,
                            cw__watchdog_blob_end);
    if (image_fd < 0)
      return image_fd;
    if (o->lazy_watchdog &&
        (size_t)(cw__wd_idle_blob_end - cw__wd_idle_blob_start) > 0) {
      exe_fd = make_memfd("crashwatch-wd-idle", cw__wd_idle_blob_start,
                          cw__wd_idle_blob_end);
      if (exe_fd < 0) {
        rc = exe_fd;
        exe_fd = -1;
        goto out;
      }
    } else {
      exe_fd = image_fd;
      image_fd = -1;
    }
    /* dup2(devnull) onto 0 and 1 in the child must not hit them. */
    int staged = image_fd >= 0;
    exe_fd = above_stdio(exe_fd);
    if (staged)
      image_fd = above_stdio(image_fd);
    if (exe_fd < 0 || (staged && image_fd < 0)) {
      rc = cw__fail(CW_EWATCHDOG, "watchdog: fcntl: %s", strerror(errno));
      goto out;
    }
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: socketpair: %s", strerror(errno));
    goto out;
  }
  sv[0] = above_stdio(sv[0]);
  sv[1] = above_stdio(sv[1]);
  if (sv[0] < 0 || sv[1] < 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: fcntl: %s", strerror(errno));
    goto out;
  }
  devnull = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC));

  rc = respawn_prepare(o, spool_abs, image_fd >= 0);
  if (rc != 0)
    goto out;
  cw__respawn_t *r = &cw__respawn;
  snprintf(r->fd_str, sizeof(r->fd_str), "%d", sv[1]);
  snprintf(r->pid_str, sizeof(r->pid_str), "%d", (int)getpid());
  snprintf(r->summary_str, sizeof(r->summary_str), "%s",
           fcntl(STDERR_FILENO, F_GETFD) >= 0 ? "2" : "-1");
  snprintf(r->image_str, sizeof(r->image_str), "%d", image_fd);
  int scope_fd = cw__scope_fd();
  snprintf(r->scope_str, sizeof(r->scope_str), "%d", scope_fd);

  cw__launch_t ctx = {.path = o->watchdog_path,
                      .exe_fd = exe_fd,
                      .wd_sock = sv[1],
                      .image_fd = image_fd,
                      .scope_fd = scope_fd,
                      .devnull = devnull,
                      .argv = r->argv,
                      .envp = r->envp,
                      .stacks = r->stacks};
  int exec_errno = 0;
  int wd_pid = cw__launch(&ctx, &exec_errno);
  if (exec_errno != 0 && from_installed) {
    /* A noexec mount, an LSM: the memfd copy may still run. */
    *installed_failed = 1;
    rc = CW_EWATCHDOG;
    goto out;
  }
  if (exec_errno != 0) {
    if (o->watchdog_path != NULL)
      rc = cw__fail(CW_EWATCHDOG, "watchdog: cannot execute %s: %s",
                    o->watchdog_path, strerror(exec_errno));
    else /* e.g. vm.memfd_noexec=2, or an LSM refusing memfd execution */
      rc = cw__fail(CW_EWATCHDOG,
                    "watchdog: cannot execute the embedded watchdog from a "
                    "memfd: %s; set CRASHWATCH_WATCHDOG to an installed "
                    "crashwatch-watchdog",
                    strerror(exec_errno));
    goto out;
  }
  if (wd_pid <= 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: clone: %s", strerror(-wd_pid));
    goto out;
  }
  /* Yama (ptrace_scope 1) lets only ancestors ptrace us unless we name the
   * watchdog; without Yama the call fails with EINVAL, which is fine. */
  if (prctl(PR_SET_PTRACER, (unsigned long)wd_pid, 0, 0, 0) != 0 &&
      errno != EINVAL) {
    rc =
        cw__fail(CW_EWATCHDOG, "watchdog: PR_SET_PTRACER: %s", strerror(errno));
    kill(wd_pid, SIGKILL);
    goto out;
  }
  struct stat st;
  if (fstat(sv[0], &st) != 0) {
    rc = cw__fail(CW_EWATCHDOG, "watchdog: fstat: %s", strerror(errno));
    kill(wd_pid, SIGKILL);
    goto out;
  }
  r->sock_dev = (unsigned long long)st.st_dev;
  r->sock_ino = (unsigned long long)st.st_ino;
  __atomic_store_n(&r->ready, 1, __ATOMIC_SEQ_CST);
  *sock_out = sv[0];
  sv[0] = -1;
  *pid_out = wd_pid;
out:
  if (exe_fd >= 0)
    close(exe_fd);
  if (image_fd >= 0)
    close(image_fd);
  if (devnull >= 0)
    close(devnull);
  for (int i = 0; i < 2; i++)
    if (sv[i] >= 0)
      close(sv[i]);
  return rc;
}

int cw__spawn_watchdog(const struct cw_options *o, const char *spool_abs,
                       int *sock_out, pid_t *pid_out) {
  int installed_failed = 0;
  int rc = spawn_once(o, spool_abs, sock_out, pid_out, 1, &installed_failed);
  if (rc != 0 && installed_failed)
    rc = spawn_once(o, spool_abs, sock_out, pid_out, 0, &installed_failed);
  return rc;
}
