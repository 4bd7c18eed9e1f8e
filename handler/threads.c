/*
 * threads.c — pthread_create() as libcrashwatch.so exports it (ahead of
 * libc's), so every thread the program creates gets crashwatch's alternate
 * signal stack without calling cw_thread_init(), as Crashpad's client does;
 * and the resolution of the real functions with dlsym(RTLD_NEXT). Normal
 * context.
 *
 * The real sigaction and pthread_create are resolved by a constructor when
 * the library is loaded (and again at cw_init, should a constructor of
 * another library have run first), never lazily in signal context.
 *
 * Only in the shared library: with libcrashwatch.a, or a dlopen()ed
 * libcrashwatch.so, threads call cw_thread_init() themselves.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "crashwatch.h"
#include "cw_internal.h"

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                         void *);
static create_fn real_create;

void cw__interpose_resolve(void) {
  void *sa = dlsym(RTLD_NEXT, "sigaction");
  if (sa != NULL)
    __atomic_store_n(
        &cw__real_sigaction,
        (int (*)(int, const struct sigaction *, struct sigaction *))sa,
        __ATOMIC_RELEASE);
  void *pc = dlsym(RTLD_NEXT, "pthread_create");
  if (pc != NULL)
    __atomic_store_n(&real_create, (create_fn)pc, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void resolve_at_load(void) {
  cw__interpose_resolve();
}

typedef struct {
  void *(*start)(void *);
  void *arg;
} start_t;

static void *thread_start(void *p) {
  start_t s = *(start_t *)p;
  free(p);
  /* Only once crashwatch is in place; a failure (out of memory) leaves
   * the thread as it would have been without crashwatch. */
  if (__atomic_load_n(&cw__crash.installed, __ATOMIC_ACQUIRE))
    (void)cw__thread_alt_stack();
  return s.start(s.arg);
}

__attribute__((visibility("default"))) int
pthread_create(pthread_t *thread, const pthread_attr_t *attr,
               void *(*start)(void *), void *arg) {
  create_fn f = __atomic_load_n(&real_create, __ATOMIC_ACQUIRE);
  if (f == NULL) {
    cw__interpose_resolve();
    f = __atomic_load_n(&real_create, __ATOMIC_ACQUIRE);
    if (f == NULL)
      return EAGAIN;
  }
  if (!__atomic_load_n(&cw__crash.installed, __ATOMIC_ACQUIRE))
    return f(thread, attr, start, arg);
  start_t *s = malloc(sizeof(*s));
  if (s == NULL)
    return f(thread, attr, start, arg);
  s->start = start;
  s->arg = arg;
  int rc = f(thread, attr, thread_start, s);
  if (rc != 0)
    free(s);
  return rc;
}
