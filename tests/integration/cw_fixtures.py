"""Where an integration test finds the third-party fixtures (Breakpad's and
Crashpad's minidumps with minidump_stackwalk's output). Not in the
repository: CI keeps them in ../shared/fixtures beside the source tree,
which the build passes as CW_FIXTURES_DEFAULT; CW_FIXTURES_DIR in the
environment of ctest overrides it. Without them a test exits with SKIP (77,
CTest's SKIP_RETURN_CODE) saying where to point it (tests/cw_fixtures.h is
the same for the unit tests)."""
import os
import sys

SKIP = 77


def minidumps_dir():
    """The fixtures' minidumps/ directory; exits with SKIP if absent."""
    d = os.environ.get("CW_FIXTURES_DIR") or ""
    source = "CW_FIXTURES_DIR"
    if not d:
        d = os.environ.get("CW_FIXTURES_DEFAULT") or ""
        source = "the build's default"
    if not d:
        d = os.path.join(os.environ.get("CW_SOURCE_DIR", "."), "..", "shared",
                         "fixtures")
        source = "beside the source tree"
    md = os.path.join(d, "minidumps")
    if os.path.isdir(md):
        return md
    print("SKIP: no third-party fixtures at %s (%s). They are not in the "
          "repository; point the tests at a copy with "
          "CW_FIXTURES_DIR=/path/to/fixtures (the directory holding "
          "minidumps/), e.g. CW_FIXTURES_DIR=/path/to/fixtures ctest -L "
          "fixtures" % (md, source))
    sys.stdout.flush()
    sys.exit(SKIP)
