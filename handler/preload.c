/*
 * preload.c — what makes libcrashwatch-preload.so: libcrashwatch plus this
 * constructor, for programs that were never built against crashwatch
 * (`crashwatch run --mode=preload`, or LD_PRELOAD by hand). Normal context,
 * run by the dynamic linker before the program's main().
 *
 * Loaded with LD_PRELOAD, the library comes before libc in symbol lookup,
 * so its sigaction()/signal() and pthread_create() interpose exactly as
 * when a program links libcrashwatch.so (intercept.c, threads.c): the
 * program's handlers run first and cannot remove crashwatch's, and every
 * thread gets an alternate stack. cw_init(NULL) takes every setting from
 * the environment (CRASHWATCH_SPOOL, SENTRY_DSN, SENTRY_RELEASE,
 * SENTRY_ENVIRONMENT, TRACEPARENT, ... as in README.md), plus one of its
 * own here: CRASHWATCH_TAGS, "key=value" lines (newline-separated), each
 * set with cw_set_tag().
 *
 * The environment is inherited: what the program forks is covered by the
 * library's fork handling, and what it execs loads the library again (its
 * own report, its own watchdog). The watchdog itself is started without
 * LD_PRELOAD (handler/spawn.c), so it never loads this library.
 *
 * A program that links libcrashwatch.so itself keeps its own cw_init():
 * the constructor does nothing when that library is loaded too.
 */
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashwatch.h"

static int is_libcrashwatch(struct dl_phdr_info *info, size_t size,
                            void *data) {
  (void)size;
  (void)data;
  const char *name = info->dlpi_name;
  const char *base = name ? strrchr(name, '/') : NULL;
  base = base ? base + 1 : name;
  return base != NULL && strncmp(base, "libcrashwatch.so", 16) == 0;
}

static void set_tags(const char *spec) {
  char *copy = strdup(spec);
  if (copy == NULL)
    return;
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');
    if (eq == NULL || eq == line)
      continue;
    *eq = '\0';
    int rc = cw_set_tag(line, eq + 1);
    if (rc != 0)
      fprintf(stderr, "crashwatch-preload: tag '%s': %s\n", line,
              cw_strerror(rc));
  }
  free(copy);
}

__attribute__((constructor)) static void cw_preload_init(void) {
  if (dl_iterate_phdr(is_libcrashwatch, NULL) != 0)
    return; /* the program brings its own crashwatch */
  int rc = cw_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "crashwatch-preload: cw_init failed in pid %d: %s\n",
            (int)getpid(), cw_last_error());
    return;
  }
  const char *tags = getenv("CRASHWATCH_TAGS");
  if (tags != NULL && tags[0] != '\0')
    set_tags(tags);
}
