# robustness.cmake - wiring for the hostile-input tests (issue 5), included from tests/CMakeLists.txt
# after the test_*.c glob has made their executables and ctest tests:
#   unit_corpus      the malformed-input corpus (tests/corpus/cases.txt), including CLI cases
#   unit_truncation  every prefix and a few hundred byte mutations of two real models
#   unit_threads     concurrent sessions, bit-identical to a single-threaded run
# Each test also finds its files without these definitions (from its source path), so the
# executables can be run by hand; the environment variables MINIRT_CORPUS_DIR, MINIRT_CLI and
# MINIRT_MODELS_DIR override them. ThreadSanitizer, valgrind and the fuzzers run from scripts:
# tests/tsan_check.sh, tests/valgrind_check.sh, fuzz/run_fuzzers.sh.
if(TARGET test_corpus)
  target_compile_definitions(test_corpus PRIVATE
    MINIRT_CORPUS_DIR_DEFAULT="${CMAKE_CURRENT_SOURCE_DIR}/corpus"
    MINIRT_CLI_DEFAULT="$<TARGET_FILE:minirt_cli>")
  add_dependencies(test_corpus minirt_cli)
  set_tests_properties(unit_corpus PROPERTIES LABELS robustness TIMEOUT 300)
endif()
if(TARGET test_truncation)
  target_compile_definitions(test_truncation PRIVATE
    MINIRT_MODELS_DIR_DEFAULT="${PROJECT_SOURCE_DIR}/models")
  set_tests_properties(unit_truncation PROPERTIES LABELS robustness TIMEOUT 600)
endif()
if(TARGET test_threads)
  find_package(Threads REQUIRED)
  target_link_libraries(test_threads PRIVATE Threads::Threads)
  target_compile_definitions(test_threads PRIVATE
    MINIRT_MODELS_DIR_DEFAULT="${PROJECT_SOURCE_DIR}/models")
  set_tests_properties(unit_threads PROPERTIES LABELS robustness TIMEOUT 300)
endif()
