/* demangle.c — C++ names for people, through libstdc++'s demangler loaded
 * at run time; see demangle.h. */
#include "demangle.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);

/* libstdc++'s demangler, loaded when first needed (NULL if unavailable: the
 * names then stay mangled). */
static cxa_demangle_fn demangler(void) {
  static int tried;
  static cxa_demangle_fn fn;
  if (!tried) {
    tried = 1;
    void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
    if (h != NULL)
      *(void **)&fn = dlsym(h, "__cxa_demangle");
  }
  return fn;
}

/* "_ZNK2ns3BoxIiE3getEi.isra.0" -> "ns::Box<int>::get(int) const (.isra.0)",
 * as llvm-symbolizer writes clones. Returns name itself when it is not a
 * mangled C++ name. */
const char *cw__cli_demangle(const char *name, char *buf, size_t cap) {
  if (name == NULL || strncmp(name, "_Z", 2) != 0)
    return name;
  cxa_demangle_fn fn = demangler();
  if (fn == NULL)
    return name;
  char base[1024];
  const char *dot = strchr(name, '.');
  size_t n = dot ? (size_t)(dot - name) : strlen(name);
  if (n >= sizeof(base))
    return name;
  memcpy(base, name, n);
  base[n] = '\0';
  int status = 0;
  char *d = fn(base, NULL, NULL, &status);
  if (d == NULL || status != 0) {
    free(d);
    return name;
  }
  if (dot != NULL)
    snprintf(buf, cap, "%s (%s)", d, dot);
  else
    snprintf(buf, cap, "%s", d);
  free(d);
  return buf;
}
