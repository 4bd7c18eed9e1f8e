# `make package`: the Debian packages (cmake/packaging.cmake) checked and
# used from a scratch root (issue 13). Label "package" (skip it with
# -LE package where dpkg is absent; the script exits 77 then anyway).
# nosan: packages are built from the plain build; a sanitizer build's
# library needs the ASan runtime preloaded into every program.
get_filename_component(_cw_cmake_dir ${CMAKE_COMMAND} DIRECTORY)
if(CW_HAVE_EMBEDDED_WATCHDOG)
  cw_add_script_test(package_deb
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/integration/package_test.sh
            ${CMAKE_BINARY_DIR} ${_cw_cmake_dir}/cpack ${CMAKE_C_COMPILER}
    TIMEOUT 300 LABELS "package;nosan"
    ENV "CMAKE=${CMAKE_COMMAND}")
  set_tests_properties(package_deb PROPERTIES SKIP_RETURN_CODE 77)
endif()
