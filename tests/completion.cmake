# Bash completion (completion/crashwatch.bash): installed where
# bash-completion looks, and complete against every command's --help
# (issue 13).
cw_add_script_test(completion_bash
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/completion_test.sh
          ${CMAKE_BINARY_DIR} ${CMAKE_COMMAND} $<TARGET_FILE:crashwatch_cli>
  TIMEOUT 120 LABELS "cli")
