# Debian packages (`make package`, or `cpack -G DEB` in a build tree), one
# per install component:
#   libcrashwatch0     lib  libcrashwatch.so.0 and crashwatch-watchdog
#   libcrashwatch-dev  dev  crashwatch.h, libcrashwatch.so and .a,
#                           crashwatch.pc, the CMake package, man 3 pages
#   crashwatch         cli  the crashwatch command, man 1 pages, bash
#                           completion
# Shared-library dependencies come from dpkg-shlibdeps; libcurl and
# libdebuginfod are loaded with dlopen() (uploads, debuginfod lookups), so
# they are named here. tests/package.cmake checks contents and
# dependencies and installs the packages into a scratch root to build and
# crash a program against them.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME crashwatch)
set(CPACK_PACKAGE_VENDOR "crashwatch")
set(CPACK_PACKAGE_CONTACT "crashwatch maintainers <crashwatch@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "out-of-process crash reporter: minidumps and Sentry events for Linux programs")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_COMPONENTS_ALL lib dev cli)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/crashwatch/crashwatch")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libcrashwatch${PROJECT_VERSION_MAJOR})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIB_PACKAGE_RECOMMENDS "libcurl4")
set(CPACK_DEBIAN_LIB_PACKAGE_SUGGESTS "crashwatch")
set(CPACK_COMPONENT_LIB_DESCRIPTION
  "crash reporter library for Linux programs (libcrashwatch)
 A program linked with libcrashwatch (libc only) hands each crash to a
 separate watchdog process, embedded in the library, which ptrace-captures
 every thread and writes a Breakpad-format minidump and a Sentry event into
 a local spool; with a DSN it uploads them (libcurl4, loaded on demand).
 Also installs crashwatch-watchdog, for CRASHWATCH_WATCHDOG.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libcrashwatch-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS lib)
set(CPACK_COMPONENT_DEV_DESCRIPTION
  "crash reporter library for Linux programs (development files)
 The header crashwatch.h, the shared and static libraries, crashwatch.pc
 for pkg-config, the CMake package (find_package(crashwatch), target
 crashwatch::crashwatch) and the libcrashwatch(3) manual pages.")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME crashwatch)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION devel)
# `crashwatch run` (when built) needs the library's preload library and
# watchdog; the other commands need nothing of it.
if(EXISTS ${PROJECT_SOURCE_DIR}/cli/cmd_run.c)
  set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS
      "libcurl4, libcrashwatch${PROJECT_VERSION_MAJOR} (= ${PROJECT_VERSION})")
else()
  set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "libcurl4")
endif()
set(CPACK_DEBIAN_CLI_PACKAGE_SUGGESTS "libdebuginfod1, bash-completion")
set(CPACK_COMPONENT_CLI_DESCRIPTION
  "browse, symbolize and deliver crash reports
 The crashwatch command: dumps and symbolizes minidumps (crashwatch's,
 Crashpad's, Breakpad's) and raw addresses offline with ELF/DWARF debug
 files found by build-id, and delivers spooled reports to Sentry or a
 Breakpad-style collector. With manual pages and bash completion.")

include(CPack)
