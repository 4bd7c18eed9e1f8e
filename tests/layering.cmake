# Issue 14 point 3: a module reaches another only through its interface
# headers (<module>/include/, include/, common/). check-layering.py compiles
# probes with each module's real flags (compile_commands.json): including
# another module's private header must fail, its interface headers must
# compile.
cw_add_script_test(layering_private_headers
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check-layering.py
          ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}
  TIMEOUT 300 LABELS layering)
