# cli_tests.cmake - ctest tests of the minirt command-line tool: --help, --version, option errors and
# exit statuses, --bench, and every small case under models/ run through the CLI with its outputs
# compared to the PyTorch references by npycmp.
#
# Included from tests/CMakeLists.txt. The same file is also the script the tests run
# (cmake -D... -P cli_tests.cmake -- COMMAND...), so that one test can check the exit status and the
# output together, and chain the CLI with npycmp, portably.

if(CMAKE_SCRIPT_MODE_FILE)
  # ---- script mode ----
  # MODE=expect: run the command after "--"; check its exit status against EXPECT_RC (if set), its
  #   stdout against STDOUT_RE and its stderr against STDERR_RE (if set). With ONE_ERROR_LINE, stderr
  #   must be exactly one line starting "minirt: error: ".
  # MODE=case: run CLI on CASE_DIR/model.onnx with CASE_DIR/input_<i>.npy (as NAME=FILE when
  #   INPUT_NAME is set), writing to OUT_DIR, then NPYCMP each OUT_DIR/output_<i>.npy against
  #   CASE_DIR/output_<i>.npy.
  # MODE=threads: run the case with --threads 1 and with --threads THREADS, into OUT_DIR/t1 and
  #   OUT_DIR/tN: every output must be the same, byte for byte.
  set(_cmd "")
  set(_after FALSE)
  math(EXPR _last "${CMAKE_ARGC} - 1")
  foreach(_i RANGE 0 ${_last})
    if(_after)
      list(APPEND _cmd "${CMAKE_ARGV${_i}}")
    elseif("${CMAKE_ARGV${_i}}" STREQUAL "--")
      set(_after TRUE)
    endif()
  endforeach()

  if(MODE STREQUAL "expect")
    execute_process(COMMAND ${_cmd} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
    set(_why "")
    if(DEFINED EXPECT_RC AND NOT "${_rc}" STREQUAL "${EXPECT_RC}")
      string(APPEND _why "exit status ${_rc}, expected ${EXPECT_RC}; ")
    endif()
    if(DEFINED STDOUT_RE AND NOT _out MATCHES "${STDOUT_RE}")
      string(APPEND _why "stdout does not match '${STDOUT_RE}'; ")
    endif()
    if(DEFINED STDERR_RE AND NOT _err MATCHES "${STDERR_RE}")
      string(APPEND _why "stderr does not match '${STDERR_RE}'; ")
    endif()
    if(ONE_ERROR_LINE AND NOT _err MATCHES "^minirt: error: [^\n]+\n$")
      string(APPEND _why "stderr is not one line starting 'minirt: error: '; ")
    endif()
    if(_why)
      message(FATAL_ERROR "${_why}\ncommand: ${_cmd}\n--- stdout:\n${_out}\n--- stderr:\n${_err}")
    endif()
  elseif(MODE STREQUAL "case")
    if(OPTIONAL AND NOT EXISTS "${CASE_DIR}/model.onnx")
      message("SKIP: ${CASE_DIR} has not been generated (models/make_models.py --large-only)")
      return()
    endif()
    file(REMOVE_RECURSE "${OUT_DIR}")
    set(_args "${CASE_DIR}/model.onnx")
    set(_i 0)
    while(EXISTS "${CASE_DIR}/input_${_i}.npy")
      if(DEFINED INPUT_NAME)
        list(APPEND _args "${INPUT_NAME}=${CASE_DIR}/input_${_i}.npy")
      else()
        list(APPEND _args "${CASE_DIR}/input_${_i}.npy")
      endif()
      math(EXPR _i "${_i} + 1")
    endwhile()
    execute_process(COMMAND "${CLI}" ${_args} -o "${OUT_DIR}"
                    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
    if(NOT _rc STREQUAL "0")
      message(FATAL_ERROR "minirt exited with ${_rc}\n${_out}${_err}")
    endif()
    set(_i 0)
    while(EXISTS "${CASE_DIR}/output_${_i}.npy")
      execute_process(COMMAND "${NPYCMP}" "${OUT_DIR}/output_${_i}.npy" "${CASE_DIR}/output_${_i}.npy"
                      RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
      message(STATUS "${_out}${_err}")
      if(NOT _rc STREQUAL "0")
        message(FATAL_ERROR "output_${_i}.npy differs from the reference (npycmp exit ${_rc})")
      endif()
      math(EXPR _i "${_i} + 1")
    endwhile()
    if(_i EQUAL 0)
      message(FATAL_ERROR "${CASE_DIR} has no output_0.npy")
    endif()
  elseif(MODE STREQUAL "threads")
    if(NOT EXISTS "${CASE_DIR}/model.onnx")
      message("SKIP: ${CASE_DIR} has not been generated (models/make_zoo.py)")
      return()
    endif()
    set(_args "${CASE_DIR}/model.onnx")
    set(_i 0)
    while(EXISTS "${CASE_DIR}/input_${_i}.npy")
      list(APPEND _args "${CASE_DIR}/input_${_i}.npy")
      math(EXPR _i "${_i} + 1")
    endwhile()
    foreach(_t 1 ${THREADS})
      file(REMOVE_RECURSE "${OUT_DIR}/t${_t}")
      execute_process(COMMAND "${CLI}" ${_args} --threads ${_t} -o "${OUT_DIR}/t${_t}"
                      RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
      if(NOT _rc STREQUAL "0")
        message(FATAL_ERROR "minirt --threads ${_t} exited with ${_rc}\n${_out}${_err}")
      endif()
    endforeach()
    file(GLOB _outs RELATIVE "${OUT_DIR}/t1" "${OUT_DIR}/t1/*.npy")
    if(NOT _outs)
      message(FATAL_ERROR "no outputs written")
    endif()
    foreach(_o ${_outs})
      execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUT_DIR}/t1/${_o}"
                      "${OUT_DIR}/t${THREADS}/${_o}" RESULT_VARIABLE _rc)
      if(NOT _rc STREQUAL "0")
        message(FATAL_ERROR "${_o} differs between --threads 1 and --threads ${THREADS}")
      endif()
    endforeach()
  else()
    message(FATAL_ERROR "cli_tests.cmake: unknown MODE '${MODE}'")
  endif()
  return()
endif()

# ---- configure mode: define the tests ----

add_executable(npycmp ${CMAKE_CURRENT_LIST_DIR}/npycmp.c)
target_link_libraries(npycmp PRIVATE minirt_static)
target_include_directories(npycmp PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/src/runtime)
target_compile_options(npycmp PRIVATE ${MINIRT_WARNINGS})

set(_cli_script ${CMAKE_CURRENT_LIST_FILE})
set(_cli_models ${PROJECT_SOURCE_DIR}/models)
set(_cli_nb ${_cli_models}/notebook_conv)

# minirt_cli_expect(NAME RC <status> [STDOUT <regex>] [STDERR <regex>] [ERROR_LINE] ARGS <args...>)
function(minirt_cli_expect name)
  cmake_parse_arguments(PARSE_ARGV 1 X "ERROR_LINE" "RC;STDOUT;STDERR" "ARGS")
  set(defs -DMODE=expect -DEXPECT_RC=${X_RC})
  if(DEFINED X_STDOUT)
    list(APPEND defs "-DSTDOUT_RE=${X_STDOUT}")
  endif()
  if(DEFINED X_STDERR)
    list(APPEND defs "-DSTDERR_RE=${X_STDERR}")
  endif()
  if(X_ERROR_LINE)
    list(APPEND defs -DONE_ERROR_LINE=1)
  endif()
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} ${defs} -P ${_cli_script} -- $<TARGET_FILE:minirt_cli> ${X_ARGS})
  set_tests_properties(${name} PROPERTIES LABELS cli TIMEOUT 300)
endfunction()

# Help, version and usage errors (exit 2), each reported as one "minirt: error:" line.
minirt_cli_expect(cli_help RC 0 STDOUT "SYNOPSIS.*--threads N.*--bench N.*EXIT STATUS" ARGS --help)
minirt_cli_expect(cli_help_short RC 0 STDOUT "--bench" ARGS -h)
minirt_cli_expect(cli_version RC 0 STDOUT "^minirt ${PROJECT_VERSION}\n$" ARGS --version)
minirt_cli_expect(cli_no_args RC 2 ERROR_LINE STDERR "no MODEL")
minirt_cli_expect(cli_threads_zero RC 2 ERROR_LINE STDERR "invalid --threads value '0'"
                  ARGS --threads 0 ${_cli_nb}/model.onnx ${_cli_nb}/input_0.npy)
minirt_cli_expect(cli_threads_abc RC 2 ERROR_LINE STDERR "invalid --threads value 'abc'"
                  ARGS ${_cli_nb}/model.onnx --threads abc)
minirt_cli_expect(cli_threads_missing RC 2 ERROR_LINE STDERR "--threads needs a number"
                  ARGS ${_cli_nb}/model.onnx --threads)
minirt_cli_expect(cli_bench_negative RC 2 ERROR_LINE STDERR "invalid --bench value '-1'"
                  ARGS ${_cli_nb}/model.onnx --bench -1)
minirt_cli_expect(cli_output_missing RC 2 ERROR_LINE STDERR "-o needs a directory"
                  ARGS ${_cli_nb}/model.onnx -o)
minirt_cli_expect(cli_unknown_option RC 2 ERROR_LINE STDERR "unknown option '--frobnicate'"
                  ARGS ${_cli_nb}/model.onnx --frobnicate)

# Model and input errors.
minirt_cli_expect(cli_missing_model RC 1 ERROR_LINE STDERR "no_such_model[.]onnx"
                  ARGS ${CMAKE_CURRENT_BINARY_DIR}/no_such_model.onnx)
minirt_cli_expect(cli_missing_input RC 2 ERROR_LINE
                  STDERR "missing input 'input' [(]float32, shape 6x5x5x5[)]"
                  ARGS ${_cli_nb}/model.onnx)
minirt_cli_expect(cli_too_many_inputs RC 2 ERROR_LINE STDERR "too many INPUTs"
                  ARGS ${_cli_nb}/model.onnx ${_cli_nb}/input_0.npy ${_cli_nb}/input_0.npy)
minirt_cli_expect(cli_input_twice RC 2 ERROR_LINE STDERR "input 'input' is given twice"
                  ARGS ${_cli_nb}/model.onnx ${_cli_nb}/input_0.npy input=${_cli_nb}/input_0.npy)
minirt_cli_expect(cli_unknown_input_name RC 2 ERROR_LINE STDERR "no input named 'nosuch'"
                  ARGS ${_cli_nb}/model.onnx nosuch=${_cli_nb}/input_0.npy)
minirt_cli_expect(cli_input_file_missing RC 1 ERROR_LINE STDERR "no_such_input[.]npy: cannot open"
                  ARGS ${_cli_nb}/model.onnx ${CMAKE_CURRENT_BINARY_DIR}/no_such_input.npy)
minirt_cli_expect(cli_input_unknown_type RC 1 ERROR_LINE STDERR "model[.]onnx: unknown tensor file type"
                  ARGS ${_cli_nb}/model.onnx input=${_cli_nb}/model.onnx)
configure_file(${_cli_nb}/model.onnx ${CMAKE_CURRENT_BINARY_DIR}/cli_not_npy.npy COPYONLY)
minirt_cli_expect(cli_input_not_npy RC 1 ERROR_LINE STDERR "cli_not_npy[.]npy: not a [.]npy file"
                  ARGS ${_cli_nb}/model.onnx ${CMAKE_CURRENT_BINARY_DIR}/cli_not_npy.npy)

# Summaries, the bench line, and npycmp noticing a difference.
minirt_cli_expect(cli_summary_stats RC 0
                  STDOUT "output 0 'output': float32 6x5x2x4\n  min [-0-9.e+]+  max [-0-9.e+]+  mean "
                  ARGS ${_cli_nb}/model.onnx ${_cli_nb}/input_0.npy)
minirt_cli_expect(cli_summary_top5 RC 0
                  STDOUT "output 0 'output': float32 1x10\n  top-5: [0-9]+ [(][-0-9.e+]+[)], "
                  ARGS ${_cli_models}/small_cnn/model.onnx ${_cli_models}/small_cnn/input_0.npy)
minirt_cli_expect(cli_bench RC 0
                  STDOUT "bench: runs=3 threads=[0-9]+ median_ms=[0-9]+[.][0-9][0-9][0-9] min_ms=[0-9]+[.][0-9][0-9][0-9]\n"
                  ARGS ${_cli_nb}/model.onnx ${_cli_nb}/input_0.npy --bench 3)
minirt_cli_expect(cli_bench_threads RC 0 STDOUT "bench: runs=2 threads=1 median_ms="
                  ARGS --threads=1 --bench=2 ${_cli_nb}/model.onnx ${_cli_nb}/input_0.npy)
add_test(NAME cli_npycmp_detects_difference
         COMMAND ${CMAKE_COMMAND} -DMODE=expect -DEXPECT_RC=1 "-DSTDOUT_RE=got float32 6x5x5x5"
                 -P ${_cli_script} -- $<TARGET_FILE:npycmp> ${_cli_nb}/input_0.npy
                 ${_cli_nb}/output_0.npy)
set_tests_properties(cli_npycmp_detects_difference PROPERTIES LABELS cli)

# Every small case under models/ (not models/large): run with -o, compare each output.
file(GLOB _cli_cases LIST_DIRECTORIES true CONFIGURE_DEPENDS ${_cli_models}/*)
foreach(_dir ${_cli_cases})
  get_filename_component(_case ${_dir} NAME)
  if(_case STREQUAL "large" OR NOT IS_DIRECTORY ${_dir} OR NOT EXISTS ${_dir}/model.onnx)
    continue()
  endif()
  add_test(NAME cli_case_${_case}
           COMMAND ${CMAKE_COMMAND} -DMODE=case -DCLI=$<TARGET_FILE:minirt_cli>
                   -DNPYCMP=$<TARGET_FILE:npycmp> -DCASE_DIR=${_dir}
                   -DOUT_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_out/${_case} -P ${_cli_script})
  set_tests_properties(cli_case_${_case} PROPERTIES LABELS cli TIMEOUT 300)
endforeach()

# One case bound by name (the models' graph input is called "input") into a nested, new directory.
add_test(NAME cli_case_named_input
         COMMAND ${CMAKE_COMMAND} -DMODE=case -DCLI=$<TARGET_FILE:minirt_cli>
                 -DNPYCMP=$<TARGET_FILE:npycmp> -DCASE_DIR=${_cli_nb} -DINPUT_NAME=input
                 -DOUT_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_out/named/a/b -P ${_cli_script})
set_tests_properties(cli_case_named_input PROPERTIES LABELS cli TIMEOUT 300)

# The ResNet-18 exports (generated on demand, too large to commit) through the CLI: static batch 1,
# symbolic batch run with batch 2, and opset 17. Skipped when not generated.
foreach(_case resnet18 resnet18_dynbatch resnet18_opset17)
  add_test(NAME cli_case_large_${_case}
           COMMAND ${CMAKE_COMMAND} -DMODE=case -DOPTIONAL=1 -DCLI=$<TARGET_FILE:minirt_cli>
                   -DNPYCMP=$<TARGET_FILE:npycmp> -DCASE_DIR=${_cli_models}/large/${_case}
                   -DOUT_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_out/large/${_case} -P ${_cli_script})
  set_tests_properties(cli_case_large_${_case} PROPERTIES LABELS cli TIMEOUT 600
                       SKIP_REGULAR_EXPRESSION "SKIP: ")
endforeach()

# Outputs are bit-identical for any thread count: zoo models covering every Conv algorithm (im2col
# tiles by column and by row, 1x1, depthwise, Winograd, grouped, 1-D and 3-D) at 1 and 3 threads.
foreach(_case resnet18_op13 mobilenet_v2_op13 efficientnet_b0_op13 googlenet_op13
              shufflenet_v2_op13 conv1d_net_op13 r3d_18_op13 unet_small_op13)
  add_test(NAME cli_threads_same_${_case}
           COMMAND ${CMAKE_COMMAND} -DMODE=threads -DTHREADS=3 -DCLI=$<TARGET_FILE:minirt_cli>
                   -DCASE_DIR=${_cli_models}/large/zoo/${_case}
                   -DOUT_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_out/threads/${_case} -P ${_cli_script})
  set_tests_properties(cli_threads_same_${_case} PROPERTIES LABELS cli TIMEOUT 600
                       SKIP_REGULAR_EXPRESSION "SKIP: ")
endforeach()

# --check lists every problem of a model in one run (tests/data/make_check_models.py), and prints a
# one-line summary for a model that is fine.
add_test(NAME cli_check_lists_all_problems
         COMMAND ${CMAKE_COMMAND} -DMODE=expect -DEXPECT_RC=1
                 "-DSTDERR_RE=3 problems\n  node 'conv_bad_stride' \\(Conv\\): strides\\[0\\] is 0[^\n]*\n  unknown operator Frobnicate in domain 'com.example' \\(2 nodes: 'frob1', 'frob2'\\)\n  node 'unob' \\(Unobtainium\\): unknown operator Unobtainium\n$"
                 -P ${_cli_script} -- $<TARGET_FILE:minirt_cli> --check
                 ${CMAKE_CURRENT_SOURCE_DIR}/data/check_problems.onnx)
add_test(NAME cli_check_summary
         COMMAND ${CMAKE_COMMAND} -DMODE=expect -DEXPECT_RC=0
                 "-DSTDOUT_RE=: ok: 13 nodes; ops: Conv x4 Relu x4 MaxPool x1 Add x1 GlobalAveragePool x1 Flatten x1 Gemm x1; 6202 parameters; inputs: input float32 \\[1,3,32,32\\]; outputs: output"
                 -P ${_cli_script} -- $<TARGET_FILE:minirt_cli> --check ${_cli_models}/small_cnn/model.onnx)
set_tests_properties(cli_check_lists_all_problems cli_check_summary PROPERTIES LABELS cli)

# --compare (against ONNX's Relu case: the reference passes; the un-Relu'd input, same shape, does
# not), a shape mismatch, tolerances, and -v progress on stderr.
set(_cli_relu ${MINIRT_ONNX_TESTDATA}/node/test_relu)
minirt_cli_expect(cli_compare_ok RC 0
                  STDOUT "compare: output 0 'y' vs [^\n]*output_0[.]pb: max_abs=[-0-9.e+]+ max_rel=[-0-9.e+]+ [(]60 values[)]: ok\n"
                  ARGS ${_cli_relu}/model.onnx ${_cli_relu}/test_data_set_0/input_0.pb
                       --compare ${_cli_relu}/test_data_set_0/output_0.pb)
minirt_cli_expect(cli_compare_mismatch RC 1 ERROR_LINE STDOUT ": MISMATCH\n"
                  STDERR "output 0 'y' differs from [^ ]*input_0[.]pb: [1-9][0-9]* of 60 values beyond atol 0[.]0001 [+] rtol 0[.]001"
                  ARGS ${_cli_relu}/model.onnx ${_cli_relu}/test_data_set_0/input_0.pb
                       --compare ${_cli_relu}/test_data_set_0/input_0.pb)
minirt_cli_expect(cli_compare_tolerance RC 0 STDOUT ": ok\n"
                  ARGS ${_cli_relu}/model.onnx ${_cli_relu}/test_data_set_0/input_0.pb
                       --compare=${_cli_relu}/test_data_set_0/input_0.pb --atol=100 --rtol 0)
minirt_cli_expect(cli_compare_shape RC 1 ERROR_LINE
                  STDERR "output 0 'output' is float32 1x10 but [^ ]*output_0[.]npy holds float32 6x5x2x4"
                  ARGS ${_cli_models}/small_cnn/model.onnx ${_cli_models}/small_cnn/input_0.npy
                       --compare ${_cli_nb}/output_0.npy)
minirt_cli_expect(cli_compare_too_many RC 1 ERROR_LINE STDERR "2 --compare files for 1 output"
                  ARGS ${_cli_nb}/model.onnx ${_cli_nb}/input_0.npy --compare ${_cli_nb}/output_0.npy
                       --compare ${_cli_nb}/output_0.npy)
minirt_cli_expect(cli_rtol_invalid RC 2 ERROR_LINE STDERR "invalid --rtol value '-1'"
                  ARGS ${_cli_nb}/model.onnx ${_cli_nb}/input_0.npy --rtol -1)
minirt_cli_expect(cli_verbose RC 0
                  STDERR "opening [^\n]*small_cnn/model[.]onnx [(]parse, validate, plan[)]\n.*opened in [0-9.]+ ms: 13 nodes.*reading input 'input' from .*ran in [0-9.]+ ms\n.*done\n$"
                  ARGS -v ${_cli_models}/small_cnn/model.onnx ${_cli_models}/small_cnn/input_0.npy)
