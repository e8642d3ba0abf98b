# The bad-input matrix of issue 10: gruq-cli on truncated, empty, foreign, huge and non-UTF-8-named
# inputs and on read-only / full outputs (test_bad_input), and the window's dialogs for the same
# (test_bad_input_gui), which edits an archive row with SQLite directly.
find_package(SQLite3 REQUIRED)
gruq_add_test(test_bad_input LIBS SQLite::SQLite3 TIMEOUT 600)
target_compile_definitions(test_bad_input PRIVATE GRUQ_CLI_PATH="$<TARGET_FILE:gruq-cli>")
add_dependencies(test_bad_input gruq-cli)
if(GRUQ_BUILD_GUI)
  gruq_add_test(test_bad_input_gui LIBS gruq_ui Qt6::Widgets SQLite::SQLite3 TIMEOUT 300)
endif()
