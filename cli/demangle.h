/* demangle.h — C++ symbol names demangled for display (normal context).
 * libstdc++'s __cxa_demangle is dlopen()ed on first use, so the CLI does not
 * link libstdc++; without it names stay mangled. Not thread-safe on first
 * use (the CLI is single-threaded). */
#ifndef CW_CLI_DEMANGLE_H
#define CW_CLI_DEMANGLE_H

#include <stddef.h>

/* "_ZNK2ns3BoxIiE3getEi.isra.0" -> "ns::Box<int>::get(int) const (.isra.0)"
 * (written into buf), as llvm-symbolizer writes clones. Returns name itself
 * when it is NULL, not a mangled C++ name, or cannot be demangled. */
const char *cw__cli_demangle(const char *name, char *buf, size_t cap);

#endif
