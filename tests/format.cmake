# The format check: every tracked C source and header as clang-format 14
# makes it with the repository's .clang-format (tests/check-format.sh;
# `make format` fixes). Skipped (77) without clang-format 14. nosan: it
# builds nothing, once is enough.
find_program(CW_CLANG_FORMAT NAMES clang-format-14 clang-format)
if(NOT CW_CLANG_FORMAT)
  set(CW_CLANG_FORMAT clang-format)
endif()
add_test(NAME format
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/check-format.sh ${PROJECT_SOURCE_DIR}
          ${CW_CLANG_FORMAT})
set_tests_properties(format PROPERTIES TIMEOUT 120 LABELS "format;nosan"
                     SKIP_RETURN_CODE 77)
