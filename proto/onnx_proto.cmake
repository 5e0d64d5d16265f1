# Generate protobuf-c code for the ONNX schema shipped by Debian's libonnx-dev.
set(MINIRT_PROTO_OUT ${CMAKE_CURRENT_BINARY_DIR}/proto)
file(MAKE_DIRECTORY ${MINIRT_PROTO_OUT})
get_filename_component(_onnx_proto_dir ${MINIRT_ONNX_PROTO} DIRECTORY)
get_filename_component(_onnx_proto_name ${MINIRT_ONNX_PROTO} NAME_WE)
add_custom_command(
  OUTPUT ${MINIRT_PROTO_OUT}/${_onnx_proto_name}.pb-c.c ${MINIRT_PROTO_OUT}/${_onnx_proto_name}.pb-c.h
  COMMAND ${PROTOC_C} --proto_path=${_onnx_proto_dir} --c_out=${MINIRT_PROTO_OUT} ${MINIRT_ONNX_PROTO}
  DEPENDS ${MINIRT_ONNX_PROTO}
  COMMENT "protoc-c: generating C for ${MINIRT_ONNX_PROTO}")
add_library(minirt_onnx_proto OBJECT ${MINIRT_PROTO_OUT}/${_onnx_proto_name}.pb-c.c)
target_include_directories(minirt_onnx_proto PUBLIC ${MINIRT_PROTO_OUT})
target_link_libraries(minirt_onnx_proto PUBLIC PkgConfig::PROTOBUFC)
set_target_properties(minirt_onnx_proto PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
