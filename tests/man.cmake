# The manual pages (man/): installed with the build, rendered without
# warnings, complete against every command's --help and every public
# function of include/crashwatch.h (issue 13). Needs groff and man
# (groff-base, man-db: Makefile PACKAGES).
cw_add_script_test(man_pages
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/man_test.py
          --build ${CMAKE_BINARY_DIR} --cmake ${CMAKE_COMMAND}
          --cli $<TARGET_FILE:crashwatch_cli>
          --header ${PROJECT_SOURCE_DIR}/include/crashwatch.h
  TIMEOUT 120 LABELS "man;cli")
