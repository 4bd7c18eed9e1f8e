/*
 * resolve.c — finding the program to run as a shell would, so that bad
 * input gets a shell's answers: 127 when it is not found, 126 when it is
 * found but cannot be executed (normal context).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor.h"

/* 0 when path is an executable regular file, else the errno explaining
 * why not (ENOENT, EACCES, EISDIR). */
static int executable(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0)
    return errno;
  if (S_ISDIR(st.st_mode))
    return EISDIR;
  if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
    return EACCES;
  return 0;
}

int cw__sup_resolve(const char *prog, char *out, size_t cap, char *err,
                    size_t errlen) {
  if (prog == NULL || prog[0] == '\0') {
    snprintf(err, errlen, "no program given");
    return 127;
  }
  if (strchr(prog, '/') != NULL) {
    int e = executable(prog);
    if (e == 0 && strlen(prog) < cap) {
      snprintf(out, cap, "%s", prog);
      return 0;
    }
    snprintf(err, errlen, "%s: %s", prog,
             e == 0 ? "path too long" : strerror(e));
    return e == ENOENT || e == ENOTDIR ? 127 : 126;
  }
  const char *path = getenv("PATH");
  if (path == NULL || path[0] == '\0')
    path = "/usr/local/bin:/usr/bin:/bin";
  int denied = 0;
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    char cand[4096];
    /* An empty PATH element is the current directory, as for execvp. */
    int n = len == 0
                ? snprintf(cand, sizeof(cand), "./%s", prog)
                : snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, p, prog);
    if (n > 0 && (size_t)n < sizeof(cand)) {
      int e = executable(cand);
      if (e == 0 && (size_t)n < cap) {
        memcpy(out, cand, (size_t)n + 1);
        return 0;
      }
      if (e == EACCES || e == EISDIR)
        denied = 1;
    }
    if (colon == NULL)
      break;
    p = colon + 1;
  }
  if (denied) {
    snprintf(err, errlen, "%s: found in PATH but not executable", prog);
    return 126;
  }
  snprintf(err, errlen, "%s: command not found", prog);
  return 127;
}
