/*
 * cw_fixtures.h — where a unit test finds the third-party fixtures
 * (Breakpad's and Crashpad's minidumps with minidump_stackwalk's output).
 * They are not in the repository: CI keeps them in ../shared/fixtures
 * beside the source tree, which the build passes as CW_FIXTURES_DEFAULT;
 * CW_FIXTURES_DIR in the environment of ctest overrides it. A test
 * executable that needs them runs its fixture tests only with --fixtures
 * (a CTest of its own, NAME_fixtures, label "fixtures") and exits with
 * FIXTURES_SKIP (CTest's SKIP_RETURN_CODE) when they are absent, saying
 * where to point it.
 */
#ifndef CW_TEST_FIXTURES_H
#define CW_TEST_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FIXTURES_SKIP 77

/* Writes the minidumps directory of the fixtures into out. 0, or -1 after
 * printing why the tests skip. */
static inline int fixtures_minidumps_dir(char *out, size_t n) {
  const char *d = getenv("CW_FIXTURES_DIR");
  const char *from = "CW_FIXTURES_DIR";
  if (d == NULL || d[0] == '\0') {
    d = getenv("CW_FIXTURES_DEFAULT");
    from = "the build's default";
  }
  if (d == NULL || d[0] == '\0') {
    const char *src = getenv("CW_SOURCE_DIR");
    snprintf(out, n, "%s/../shared/fixtures/minidumps", src ? src : ".");
    from = "beside the source tree";
  } else {
    snprintf(out, n, "%s/minidumps", d);
  }
  struct stat st;
  if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
    return 0;
  printf("SKIP: no third-party fixtures at %s (%s). They are not in the "
         "repository; point the tests at a copy with "
         "CW_FIXTURES_DIR=/path/to/fixtures (the directory holding "
         "minidumps/), e.g. CW_FIXTURES_DIR=/path/to/fixtures ctest -L "
         "fixtures\n",
         out, from);
  return -1;
}

#endif
