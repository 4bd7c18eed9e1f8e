/*
 * child.c — starting the program (normal context).
 *
 * fork(), then in the child: the signal mask and dispositions the
 * supervisor was started with, the process group, a wait for the parent's
 * go (ptrace mode: the parent seizes the child before it execs, so nothing
 * of the program runs untraced), execve(). An exec failure is reported back
 * through a close-on-exec pipe as its errno, and becomes a shell's status:
 * 127 when the file is gone, 126 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sup_internal.h"

extern char **environ;

/* Sets NAME=value in env (n entries used, room for more), replacing an
 * existing entry; the string is malloc'd into *store. */
static int env_set(char **env, size_t *n, const char *name, const char *value,
                   char **store) {
  size_t nl = strlen(name);
  char *s = malloc(nl + strlen(value) + 2);
  if (s == NULL)
    return -1;
  sprintf(s, "%s=%s", name, value);
  *store = s;
  for (size_t i = 0; i < *n; i++)
    if (strncmp(env[i], name, nl) == 0 && env[i][nl] == '=') {
      env[i] = s;
      return 0;
    }
  env[(*n)++] = s;
  env[*n] = NULL;
  return 0;
}

/* The strings env_set made: kept until the next call (the supervisor
 * builds one environment per start of the program). */
static char *pool[8 + CW__SUP_MAX_TAGS];

char **cw__sup_preload_env(const cw__sup_config_t *cfg) {
  size_t n = 0;
  for (char **e = environ; e && *e; e++)
    n++;
  char **env = malloc((n + 8) * sizeof(char *));
  if (env == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    env[i] = environ[i];
  env[n] = NULL;
  for (size_t i = 0; i < sizeof(pool) / sizeof(pool[0]); i++) {
    free(pool[i]);
    pool[i] = NULL;
  }
  /* The program's own preloads (a sanitizer runtime must stay first)
   * come before ours. */
  const char *old = getenv("LD_PRELOAD");
  char *pre = malloc(strlen(cfg->preload) + (old ? strlen(old) : 0) + 2);
  if (pre == NULL) {
    free(env);
    return NULL;
  }
  if (old != NULL && old[0] != '\0')
    sprintf(pre, "%s:%s", old, cfg->preload);
  else
    strcpy(pre, cfg->preload);
  int rc = env_set(env, &n, "LD_PRELOAD", pre, &pool[0]);
  free(pre);
  if (rc == 0 && cfg->spool_dir != NULL)
    rc = env_set(env, &n, "CRASHWATCH_SPOOL", cfg->spool_dir, &pool[1]);
  if (rc == 0 && cfg->release != NULL)
    rc = env_set(env, &n, "SENTRY_RELEASE", cfg->release, &pool[2]);
  if (rc == 0 && cfg->environment != NULL)
    rc = env_set(env, &n, "SENTRY_ENVIRONMENT", cfg->environment, &pool[3]);
  if (rc == 0 && !cfg->print_summary)
    rc = env_set(env, &n, "CRASHWATCH_PRINT_SUMMARY", "0", &pool[4]);
  if (rc == 0 && cfg->ntags > 0) {
    size_t len = 1;
    for (size_t i = 0; i < cfg->ntags; i++)
      len += strlen(cfg->tags[i]) + 1;
    char *tags = calloc(1, len);
    if (tags == NULL) {
      free(env);
      return NULL;
    }
    for (size_t i = 0; i < cfg->ntags; i++) {
      if (i)
        strcat(tags, "\n");
      strcat(tags, cfg->tags[i]);
    }
    rc = env_set(env, &n, "CRASHWATCH_TAGS", tags, &pool[5]);
    free(tags);
  }
  if (rc != 0) {
    free(env);
    return NULL;
  }
  return env;
}

int cw__sup_spawn(const cw__sup_config_t *cfg, pid_t *pid_out) {
  char **env = environ;
  char **owned = NULL;
  if (cfg->mode == CW__SUP_PRELOAD) {
    owned = env = cw__sup_preload_env(cfg);
    if (env == NULL) {
      cw__sup_log("out of memory");
      return 125;
    }
  }
  int errp[2], gop[2] = {-1, -1};
  if (pipe2(errp, O_CLOEXEC) != 0 ||
      (cfg->mode == CW__SUP_PTRACE && pipe2(gop, O_CLOEXEC) != 0)) {
    cw__sup_log("pipe: %s", strerror(errno));
    free(owned);
    return 125;
  }
  int tty = cfg->pgroup && isatty(STDIN_FILENO);
  pid_t pid = fork();
  if (pid < 0) {
    cw__sup_log("fork: %s", strerror(errno));
    free(owned);
    return 125;
  }
  if (pid == 0) {
    close(errp[0]);
    if (cfg->pgroup) {
      setpgid(0, 0);
      if (tty)
        tcsetpgrp(STDIN_FILENO, getpid());
    }
    cw__sup_signals_restore_child();
    if (gop[0] >= 0) {
      close(gop[1]);
      char c;
      ssize_t r;
      do
        r = read(gop[0], &c, 1);
      while (r < 0 && errno == EINTR);
      if (r != 1)
        _exit(126); /* the supervisor could not trace us */
    }
    execve(cfg->path, cfg->argv, env);
    int e = errno;
    ssize_t w = write(errp[1], &e, sizeof(e));
    (void)w;
    _exit(e == ENOENT ? 127 : 126);
  }
  close(errp[1]);
  if (cfg->pgroup) {
    setpgid(pid, pid); /* both sides, so neither races the other */
    if (tty)
      tcsetpgrp(STDIN_FILENO, pid);
  }
  if (gop[0] >= 0) {
    close(gop[0]);
    if (ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)CW__SUP_PTRACE_OPTIONS) !=
        0) {
      cw__sup_log("ptrace(PTRACE_SEIZE) of the program failed: %s (is "
                  "another tracer running, or ptrace forbidden by "
                  "seccomp/Yama?); use --mode=preload",
                  strerror(errno));
      close(gop[1]);
      waitpid(pid, NULL, 0);
      close(errp[0]);
      free(owned);
      return 125;
    }
    ssize_t w = write(gop[1], "g", 1);
    (void)w;
    close(gop[1]);
  }
  free(owned);
  int e = 0;
  ssize_t r;
  do
    r = read(errp[0], &e, sizeof(e));
  while (r < 0 && errno == EINTR);
  close(errp[0]);
  if (r == (ssize_t)sizeof(e)) {
    cw__sup_log("cannot execute %s: %s", cfg->path, strerror(e));
    int st;
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
      ;
    return e == ENOENT ? 127 : 126;
  }
  *pid_out = pid;
  return 0;
}
