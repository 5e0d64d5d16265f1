#!/usr/bin/python3
"""
make_corpus.py - write the malformed-input corpus (tests/corpus/*.onnx, *.npy, *.pb, ext/, ...)
and its manifest cases.txt, which tests/test_corpus.c checks case by case under ASan + UBSan.

Run with Debian's Python (it has onnx and numpy):  /usr/bin/python3 tests/corpus/make_corpus.py
Deterministic: every random byte comes from a fixed seed. Models are written with onnx.helper (no
checker: most are deliberately invalid); byte-level faults are written as bytes.

Manifest line:  FILE | API [ARGS] | EXPECTED | MESSAGE SUBSTRING   (fields split at ' | ')
  open            minirt_open(FILE)
  open_mem        minirt_open_memory(bytes of FILE)
  run INPUTS      open FILE (must succeed), then minirt_run with INPUTS, space-separated, each
                  [NAME=]DTYPE[D0,D1,...] (zero-filled; NAME= binds by name) or [NAME=]@F.npy (the
                  tensor in F.npy)
  npy / pb        mr_npy_read / mr_pb_read(FILE); for MINIRT_OK the message field is
                  "DTYPE DIMS: V0 V1 ..." and every element is compared
  cli ARGS        the minirt CLI with ARGS in the corpus directory; EXPECTED is exit=N, and the
                  substring is looked for on stderr
EXPECTED is a minirt_status name. Lines starting with '#' are comments ('## ' starts a category).
"""
import os
import random
import shutil
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
F, I64, I32 = TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT32
lines = []


def cat(name):
    lines.append("")
    lines.append("## " + name)


def case(file, api, expected, msg):
    for field in (file, api, expected, msg):
        assert " | " not in field and "\n" not in field, field
    lines.append("%s | %s | %s | %s" % (file, api, expected, msg))


def write(name, data):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def vi(name, elem=F, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=13, functions=(), ir=8):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          functions=list(functions))
    m.ir_version = ir
    return m


def save(name, m):
    write(name, m if isinstance(m, bytes) else m.SerializeToString())


def arr(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def raw_tensor(name, dtype, dims, raw):
    t = TensorProto()
    t.name, t.data_type = name, dtype
    t.dims.extend(dims)
    t.raw_data = raw
    return t


W = np.linspace(-1, 1, 3 * 2 * 3 * 3, dtype=np.float32).reshape(3, 2, 3, 3)
B = np.array([0.1, -0.2, 0.3], dtype=np.float32)


def conv_model(x_shape=(1, 2, 5, 5), w=W, **attrs):
    """y = Conv(x, W, B) with the given attributes; x's shape may hold symbolic names."""
    n = helper.make_node("Conv", ["x", "W", "B"], ["y"], name="conv1", **attrs)
    return model([n], [vi("x", F, list(x_shape))], [vi("y")], [arr("W", w), arr("B", B)])


def add_model(c, c_name="c"):
    """y = x + c for an initializer c (a TensorProto) and x[4]."""
    return model([helper.make_node("Add", ["x", c_name], ["y"], name="add1")], [vi("x", F, [4])],
                 [vi("y")], [c])


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def npy_bytes(header, data=b"", major=1, hlen=None):
    """A .npy file with the header dict text as given, padded like numpy does."""
    h = header.encode("latin1")
    pre = 10 if major == 1 else 12
    h += b" " * ((64 - (pre + len(h) + 1) % 64) % 64) + b"\n"
    n = len(h) if hlen is None else hlen
    size = struct.pack("<H", n) if major == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes([major, 0]) + size + h + data


def npy_save(name, a, **kw):
    import io
    b = io.BytesIO()
    np.save(b, a, **kw)
    write(name, b.getvalue())


# start from a clean directory: only this script and the manifest are not generated
for name in os.listdir(HERE):
    path = os.path.join(HERE, name)
    if name == "ext":
        shutil.rmtree(path)
    elif name.endswith((".onnx", ".npy", ".pb")):
        os.remove(path)

small_cnn = open(os.path.join(ROOT, "models", "small_cnn", "model.onnx"), "rb").read()
good_conv = conv_model()
save("good_conv.onnx", good_conv)
save("conv_dyn.onnx", conv_model(("N", 2, "H", "W")))
rng = random.Random(5)

# ---------------------------------------------------------------------------------------------
cat("truncated and random protobuf")
case("no_such_model.onnx", "open", "MINIRT_ERR_IO", "cannot open")
case("ext/sub", "open", "MINIRT_ERR_IO", "not a regular file")
write("pb_empty.onnx", b"")
case("pb_empty.onnx", "open", "MINIRT_ERR_MODEL", "model has no graph")
write("pb_trunc_1.onnx", small_cnn[:1])
case("pb_trunc_1.onnx", "open", "MINIRT_ERR_MODEL", "not a valid ONNX model")
write("pb_trunc_half.onnx", small_cnn[: len(small_cnn) // 2])
case("pb_trunc_half.onnx", "open", "MINIRT_ERR_MODEL", "length past the end")
write("pb_trunc_last.onnx", small_cnn[:-1])
case("pb_trunc_last.onnx", "open_mem", "MINIRT_ERR_MODEL", "not a valid ONNX model")
write("pb_random.onnx", bytes(rng.randrange(256) for _ in range(512)))
case("pb_random.onnx", "open", "MINIRT_ERR_MODEL", "not a valid ONNX model")
write("pb_text.onnx", b"ir_version: 8\ngraph { node { op_type: 'Relu' } }\n")
case("pb_text.onnx", "open", "MINIRT_ERR_MODEL", "not a valid ONNX model")
write("pb_long_varint.onnx", b"\x08" + b"\xff" * 11)
case("pb_long_varint.onnx", "open", "MINIRT_ERR_MODEL", "bad varint at byte 0")
write("pb_bad_tag.onnx", b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01")
case("pb_bad_tag.onnx", "open", "MINIRT_ERR_MODEL", "bad field tag at byte 0")
write("pb_length_past_end.onnx", b"\x3a" + varint(1 << 40) + b"\x00" * 8)
case("pb_length_past_end.onnx", "open", "MINIRT_ERR_MODEL", "length past the end at byte 0")
write("pb_group_wire_type.onnx", b"\x08\x08\x3b\x3c")
case("pb_group_wire_type.onnx", "open", "MINIRT_ERR_MODEL", "unsupported wire type at byte 2")
write("pb_field_zero.onnx", b"\x00\x01")
case("pb_field_zero.onnx", "open", "MINIRT_ERR_MODEL", "bad field number")
# graph -> node -> attribute -> graph ... 30 times: 90 nested messages, past the limit of 64
deep = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [4])], [vi("y")])
n = deep.graph.node[0]
for _ in range(30):
    a = n.attribute.add()
    a.name, a.type = "body", onnx.AttributeProto.GRAPH
    a.g.name = "sub"
    n = a.g.node.add()
    n.op_type = "Identity"
save("pb_nested_deep.onnx", deep)
case("pb_nested_deep.onnx", "open", "MINIRT_ERR_LIMIT", "nests messages more than 64 levels deep")

# ---------------------------------------------------------------------------------------------
cat("graph faults")
save("graph_cycle.onnx", model(
    [helper.make_node("Add", ["x", "q"], ["p"], name="a"),
     helper.make_node("Relu", ["p"], ["q"], name="b")], [vi("x", F, [4])], [vi("q")]))
case("graph_cycle.onnx", "open", "MINIRT_ERR_MODEL", "the graph has a cycle through this node")
save("graph_self_loop.onnx", model(
    [helper.make_node("Add", ["x", "y"], ["y"], name="selfish")], [vi("x", F, [4])], [vi("y")]))
case("graph_self_loop.onnx", "open", "MINIRT_ERR_MODEL", "node 'selfish' (Add): the graph has a cycle")
save("graph_missing_input.onnx", model(
    [helper.make_node("Add", ["x", "ghost"], ["y"], name="add1")], [vi("x", F, [4])], [vi("y")]))
case("graph_missing_input.onnx", "open", "MINIRT_ERR_MODEL", "node 'add1' (Add): input 'ghost' is not defined")
save("graph_double_output.onnx", model(
    [helper.make_node("Relu", ["x"], ["y"], name="r1"),
     helper.make_node("Relu", ["x"], ["y"], name="r2")], [vi("x", F, [4])], [vi("y")]))
case("graph_double_output.onnx", "open", "MINIRT_ERR_MODEL", "node 'r2' (Relu): output 'y' is already defined (by another node)")
save("graph_output_is_initializer.onnx", model(
    [helper.make_node("Relu", ["x"], ["c"], name="r1")], [vi("x", F, [4])], [vi("c")],
    [arr("c", np.zeros(4, np.float32))]))
case("graph_output_is_initializer.onnx", "open", "MINIRT_ERR_MODEL", "output 'c' is already defined (as an initializer)")
save("graph_output_is_input.onnx", model(
    [helper.make_node("Relu", ["x"], ["x"], name="r1")], [vi("x", F, [4])], [vi("x")]))
case("graph_output_is_input.onnx", "open", "MINIRT_ERR_MODEL", "output 'x' is already defined (as a graph input)")
save("graph_no_outputs.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [4])], []))
case("graph_no_outputs.onnx", "open", "MINIRT_ERR_MODEL", "graph has no outputs")
save("graph_output_not_produced.onnx", model(
    [helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [4])], [vi("nowhere")]))
case("graph_output_not_produced.onnx", "open", "MINIRT_ERR_MODEL", "graph output 'nowhere' is not produced")
m = onnx.ModelProto()
m.ir_version = 8
m.opset_import.add().version = 13
save("graph_none.onnx", m)
case("graph_none.onnx", "open", "MINIRT_ERR_MODEL", "model has no graph")
m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [4])], [vi("y")])
del m.opset_import[:]
save("graph_no_opset.onnx", m)
case("graph_no_opset.onnx", "open", "MINIRT_ERR_MODEL", "model imports no opset")
save("graph_ir2.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [4])], [vi("y")], ir=2))
case("graph_ir2.onnx", "open", "MINIRT_ERR_UNSUPPORTED", "IR version 2 is not supported")
save("graph_unknown_op.onnx", model(
    [helper.make_node("FancyOp", ["x"], ["y"], name="fancy1")], [vi("x", F, [4])], [vi("y")]))
case("graph_unknown_op.onnx", "open", "MINIRT_ERR_UNSUPPORTED", "node 'fancy1' (FancyOp): unknown operator FancyOp")
save("graph_initializer_twice.onnx", model(
    [helper.make_node("Add", ["x", "c"], ["y"])], [vi("x", F, [4])], [vi("y")],
    [arr("c", np.zeros(4, np.float32)), arr("c", np.ones(4, np.float32))]))
case("graph_initializer_twice.onnx", "open", "MINIRT_ERR_MODEL", "initializer 'c' is defined twice")
m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [4])], [vi("y")])
m.graph.input[0].ClearField("type")
save("graph_input_untyped.onnx", m)
case("graph_input_untyped.onnx", "open", "MINIRT_ERR_MODEL", "graph input 'x' has no tensor type or shape")
save("graph_too_many_inputs.onnx", model(
    [helper.make_node("Relu", ["x", "x"], ["y"], name="relu2")], [vi("x", F, [4])], [vi("y")]))
case("graph_too_many_inputs.onnx", "open", "MINIRT_ERR_MODEL", "node 'relu2' (Relu): has 2 inputs; Relu takes 1 to 1")
rec = helper.make_function("local", "Loop1", ["a"], ["b"],
                           [helper.make_node("Loop1", ["a"], ["b"], domain="local")],
                           [helper.make_opsetid("", 13), helper.make_opsetid("local", 1)])
m = model([helper.make_node("Loop1", ["x"], ["y"], domain="local")], [vi("x", F, [4])], [vi("y")],
          functions=[rec])
m.opset_import.append(helper.make_opsetid("local", 1))
save("graph_recursive_function.onnx", m)
case("graph_recursive_function.onnx", "open", "MINIRT_ERR_LIMIT", "function 'Loop1' is nested more than 16 levels deep")
# F0 calls F1 four times, F1 calls F2 four times, ... F13 has four Relus: 4^15 nodes from 300 bytes
fns = []
for k in range(14):
    body = [helper.make_node("F%d" % (k + 1) if k < 13 else "Relu", ["a"], ["t%d" % i],
                             domain="local" if k < 13 else "") for i in range(4)]
    body.append(helper.make_node("Sum", ["t0", "t1", "t2", "t3"], ["b"]))
    fns.append(helper.make_function("local", "F%d" % k, ["a"], ["b"], body,
                                    [helper.make_opsetid("", 13), helper.make_opsetid("local", 1)]))
m = model([helper.make_node("F0", ["x"], ["y"], domain="local")], [vi("x", F, [4])], [vi("y")],
          functions=fns)
m.opset_import.append(helper.make_opsetid("local", 1))
save("graph_function_bomb.onnx", m)
case("graph_function_bomb.onnx", "open", "MINIRT_ERR_LIMIT", "inlining the model's functions gives more nodes than the limit of 1048576")

# ---------------------------------------------------------------------------------------------
cat("attribute faults")
save("attr_stride_zero.onnx", conv_model(strides=[0, 1]))
case("attr_stride_zero.onnx", "open", "MINIRT_ERR_MODEL", "node 'conv1' (Conv): strides[0] is 0; strides must be at least 1")
save("attr_stride_negative.onnx", conv_model(strides=[1, -2]))
case("attr_stride_negative.onnx", "open", "MINIRT_ERR_MODEL", "strides[1] is -2")
save("attr_dilation_zero.onnx", conv_model(dilations=[1, 0]))
case("attr_dilation_zero.onnx", "open", "MINIRT_ERR_MODEL", "dilations[1] is 0; dilations must be at least 1")
save("attr_dilation_negative.onnx", conv_model(dilations=[-1, 1]))
case("attr_dilation_negative.onnx", "open", "MINIRT_ERR_MODEL", "dilations[0] is -1")
save("attr_group_zero.onnx", conv_model(group=0))
case("attr_group_zero.onnx", "open", "MINIRT_ERR_MODEL", "group is 0; it must be at least 1")
save("attr_group_negative.onnx", conv_model(group=-2))
case("attr_group_negative.onnx", "open", "MINIRT_ERR_MODEL", "group is -2; it must be at least 1")
save("attr_pads_negative.onnx", conv_model(pads=[0, -1, 0, 0]))
case("attr_pads_negative.onnx", "open", "MINIRT_ERR_MODEL", "pads[1] is -1; pads must be >= 0")
save("attr_kernel_zero.onnx", conv_model(kernel_shape=[3, 0]))
case("attr_kernel_zero.onnx", "open", "MINIRT_ERR_MODEL", "kernel_shape[1] is 0")
save("attr_strides_wrong_type.onnx", conv_model(strides=1.5))
case("attr_strides_wrong_type.onnx", "open", "MINIRT_ERR_MODEL", "attribute 'strides' should be ints, not float")
save("attr_group_wrong_type.onnx", conv_model(group="two"))
case("attr_group_wrong_type.onnx", "open", "MINIRT_ERR_MODEL", "attribute 'group' should be int, not string")
save("attr_strides_too_many.onnx", conv_model(strides=[1] * 9))
case("attr_strides_too_many.onnx", "open", "MINIRT_ERR_MODEL", "attribute 'strides' has 9 values, more than the 8 allowed")
save("attr_strides_wrong_length.onnx", conv_model(strides=[1, 1, 1]))
case("attr_strides_wrong_length.onnx", "open", "MINIRT_ERR_MODEL", "node 'conv1' (Conv): attribute lengths (kernel_shape 0, strides 3, dilations 0, pads 0) do not match 2 spatial dims")
save("attr_pads_wrong_length.onnx", conv_model(pads=[1, 1, 1]))
case("attr_pads_wrong_length.onnx", "open", "MINIRT_ERR_MODEL", "node 'conv1' (Conv): attribute lengths (kernel_shape 0, strides 0, dilations 0, pads 3) do not match 2 spatial dims")
save("attr_kernel_shape_mismatch.onnx", conv_model(kernel_shape=[2, 2]))
case("attr_kernel_shape_mismatch.onnx", "open", "MINIRT_ERR_SHAPE", "node 'conv1' (Conv): kernel_shape 2x2 does not match weight W 3x2x3x3")
save("attr_auto_pad_bad.onnx", conv_model(auto_pad="SOMETIMES"))
case("attr_auto_pad_bad.onnx", "open", "MINIRT_ERR_MODEL", "auto_pad 'SOMETIMES' is not valid")
save("attr_softmax_axis.onnx", model(
    [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=5)], [vi("x", F, [2, 3])], [vi("y")]))
case("attr_softmax_axis.onnx", "open", "MINIRT_ERR_MODEL", "node 'sm' (Softmax): axis 5 is out of range for rank 2")
save("attr_maxpool_no_kernel.onnx", model(
    [helper.make_node("MaxPool", ["x"], ["y"], name="mp")], [vi("x", F, [1, 1, 4, 4])], [vi("y")]))
case("attr_maxpool_no_kernel.onnx", "open", "MINIRT_ERR_MODEL", "node 'mp' (MaxPool): attribute 'kernel_shape' is required")
save("attr_maxpool_stride_zero.onnx", model(
    [helper.make_node("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[2, 2], strides=[0, 0])],
    [vi("x", F, [1, 1, 4, 4])], [vi("y")]))
case("attr_maxpool_stride_zero.onnx", "open", "MINIRT_ERR_MODEL", "node 'mp' (MaxPool): attribute 'strides' has value 0 at index 0; it must be >= 1")
save("attr_gemm_trans_float.onnx", model(
    [helper.make_node("Gemm", ["a", "b"], ["y"], name="gemm1", transA=0.5)],
    [vi("a", F, [2, 3]), vi("b", F, [3, 4])], [vi("y")]))
case("attr_gemm_trans_float.onnx", "open", "MINIRT_ERR_MODEL", "node 'gemm1' (Gemm): attribute 'transA' should be int, not float")
save("attr_constant_two_values.onnx", model(
    [helper.make_node("Constant", [], ["c"], name="k", value_float=1.0, value_int=2),
     helper.make_node("Add", ["x", "c"], ["y"])], [vi("x", F, [4])], [vi("y")]))
case("attr_constant_two_values.onnx", "open", "MINIRT_ERR_MODEL", "node 'k' (Constant): needs exactly one value attribute, has 2")

# ---------------------------------------------------------------------------------------------
cat("tensor faults")
save("tensor_negative_dim.onnx", add_model(raw_tensor("c", F, [-4], b"\0" * 16)))
case("tensor_negative_dim.onnx", "open", "MINIRT_ERR_MODEL", "tensor 'c': negative dimension in shape -4")
save("tensor_dims_overflow.onnx", add_model(raw_tensor("c", F, [1 << 40, 1 << 40], b"\0" * 16)))
case("tensor_dims_overflow.onnx", "open", "MINIRT_ERR_LIMIT", "tensor 'c': shape 1099511627776x1099511627776 overflows")
save("tensor_bytes_overflow.onnx", add_model(raw_tensor("c", F, [1 << 31, 1 << 31], b"\0" * 16)))
case("tensor_bytes_overflow.onnx", "open", "MINIRT_ERR_LIMIT", "exceeds the limit of 4294967296 bytes per tensor")
save("tensor_huge_no_data.onnx", add_model(raw_tensor("c", F, [1 << 28, 4], b"")))
case("tensor_huge_no_data.onnx", "open", "MINIRT_ERR_MODEL", "tensor 'c': raw_data has 0 bytes but shape 268435456x4 (float32) needs 4294967296")
save("tensor_raw_short.onnx", add_model(raw_tensor("c", F, [4], b"\0" * 12)))
case("tensor_raw_short.onnx", "open", "MINIRT_ERR_MODEL", "tensor 'c': raw_data has 12 bytes but shape 4 (float32) needs 16")
save("tensor_raw_long.onnx", add_model(raw_tensor("c", F, [4], b"\0" * 20)))
case("tensor_raw_long.onnx", "open", "MINIRT_ERR_MODEL", "tensor 'c': raw_data has 20 bytes but shape 4 (float32) needs 16")
save("tensor_raw_ragged.onnx", add_model(raw_tensor("c", F, [4], b"\0" * 15)))
case("tensor_raw_ragged.onnx", "open", "MINIRT_ERR_MODEL", "raw_data has 15 bytes")
t = TensorProto()
t.name, t.data_type = "c", F
t.dims.append(4)
t.float_data.extend([1.0, 2.0, 3.0])
save("tensor_float_data_short.onnx", add_model(t))
case("tensor_float_data_short.onnx", "open", "MINIRT_ERR_MODEL", "tensor 'c': float_data has 3 values but shape 4 needs 4")
t = TensorProto()
t.name, t.data_type = "c", F
t.dims.append(4)
save("tensor_no_data.onnx", add_model(t))
case("tensor_no_data.onnx", "open", "MINIRT_ERR_MODEL", "tensor 'c': float_data has 0 values but shape 4 needs 4")
t = TensorProto()
t.name, t.data_type = "c", TensorProto.STRING
t.dims.append(1)
t.string_data.append(b"hello")
save("tensor_string.onnx", add_model(t))
case("tensor_string.onnx", "open", "MINIRT_ERR_UNSUPPORTED", "tensor 'c': data type string (8) is not supported")
save("tensor_rank9.onnx", add_model(raw_tensor("c", F, [1] * 9, b"\0" * 4)))
case("tensor_rank9.onnx", "open", "MINIRT_ERR_LIMIT", "tensor 'c': rank 9 exceeds the maximum of 8")
save("tensor_unknown_dtype.onnx", add_model(raw_tensor("c", 99, [4], b"\0" * 16)))
case("tensor_unknown_dtype.onnx", "open", "MINIRT_ERR_UNSUPPORTED", "data type unknown (99) is not supported")
m = model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", F, [4, -3])], [vi("y")])
save("tensor_input_negative_dim.onnx", m)
case("tensor_input_negative_dim.onnx", "open", "MINIRT_ERR_MODEL", "graph value 'x': dimension 1 is -3")

# ---------------------------------------------------------------------------------------------
cat("external data")


def ext_model(location, offset=None, length=None):
    t = TensorProto()
    t.name, t.data_type = "c", F
    t.dims.append(4)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, v
    return add_model(t)


write("ext/weights.bin", struct.pack("<2f", 0, 0) + struct.pack("<4f", 1.5, -2, 3.25, 4))
save("ext/good.onnx", ext_model("weights.bin", "8", "16"))
case("ext/good.onnx", "run x=float32[4]", "MINIRT_OK", "")
save("ext/absolute.onnx", ext_model("/etc/passwd"))
case("ext/absolute.onnx", "open", "MINIRT_ERR_MODEL", "external data location '/etc/passwd' is refused: it must be a relative path")
save("ext/dotdot.onnx", ext_model("../good_conv.onnx"))
case("ext/dotdot.onnx", "open", "MINIRT_ERR_MODEL", "no '..'")
save("ext/nested_dotdot.onnx", ext_model("sub/../../good_conv.onnx"))
case("ext/nested_dotdot.onnx", "open", "MINIRT_ERR_MODEL", "no '..'")
save("ext/missing.onnx", ext_model("no_such_file.bin"))
case("ext/missing.onnx", "open", "MINIRT_ERR_IO", "cannot open external data 'no_such_file.bin'")
save("ext/short.onnx", ext_model("weights.bin", "16"))
case("ext/short.onnx", "open", "MINIRT_ERR_MODEL", "is 24 bytes; offset 16 + 16 bytes runs past its end")
save("ext/offset_past_end.onnx", ext_model("weights.bin", "4096"))
case("ext/offset_past_end.onnx", "open", "MINIRT_ERR_MODEL", "offset 4096 + 16 bytes runs past its end")
save("ext/length_mismatch.onnx", ext_model("weights.bin", "8", "12"))
case("ext/length_mismatch.onnx", "open", "MINIRT_ERR_MODEL", "external data length is 12 bytes but its shape needs 16")
save("ext/offset_bad.onnx", ext_model("weights.bin", "-8"))
case("ext/offset_bad.onnx", "open", "MINIRT_ERR_MODEL", "external data offset '-8' is not valid")
save("ext/no_location.onnx", ext_model(None, "0"))
case("ext/no_location.onnx", "open", "MINIRT_ERR_MODEL", "external data has no location")
write("ext/sub/w.bin", struct.pack("<4f", 1, 2, 3, 4))
save("ext/subdir_good.onnx", ext_model("sub/w.bin"))
case("ext/subdir_good.onnx", "run x=float32[4]", "MINIRT_OK", "")
save("ext/directory.onnx", ext_model("sub"))
case("ext/directory.onnx", "open", "MINIRT_ERR_IO", "external data 'sub' is not a regular file")
save("ext/itself.onnx", ext_model("."))
case("ext/itself.onnx", "open", "MINIRT_ERR_MODEL", "outside the model's directory; refused")
case("ext/good.onnx", "open_mem", "MINIRT_ERR_ARGUMENT", "needs the model to be opened from a file")

# ---------------------------------------------------------------------------------------------
cat("operator faults")
save("op_kernel_too_large.onnx", conv_model((1, 2, 2, 2)))
case("op_kernel_too_large.onnx", "open", "MINIRT_ERR_SHAPE", "node 'conv1' (Conv): kernel 3x3 (dilated) is larger than the padded input 2x2")
case("conv_dyn.onnx", "run x=float32[1,2,1,2]", "MINIRT_ERR_SHAPE", "node 'conv1' (Conv): kernel 3x3 (dilated) is larger than the padded input 1x2")
save("op_dilated_too_large.onnx", conv_model((1, 2, 5, 5), dilations=[3, 1]))
case("op_dilated_too_large.onnx", "open", "MINIRT_ERR_SHAPE", "larger than the padded input")
save("op_group_not_divisor.onnx", conv_model((1, 2, 5, 5), w=np.zeros((3, 1, 3, 3), np.float32), group=2))
case("op_group_not_divisor.onnx", "open", "MINIRT_ERR_SHAPE", "node 'conv1' (Conv): 2 input channels and 3 output channels must both be divisible by group 2")
save("op_channels_mismatch.onnx", conv_model((1, 4, 5, 5)))
case("op_channels_mismatch.onnx", "open", "MINIRT_ERR_SHAPE", "node 'conv1' (Conv): weight W has shape 3x2x3x3; with 4 input channels and group 1 its dim 1 must be 4")
save("op_reshape_mismatch.onnx", model(
    [helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], [vi("x", F, [2, 3])], [vi("y")],
    [arr("s", np.array([4], np.int64))]))
case("op_reshape_mismatch.onnx", "open", "MINIRT_ERR_SHAPE", "node 'rs' (Reshape): cannot reshape input 2x3 (6 elements) to [4] (4 elements)")
save("op_reshape_two_minus_one.onnx", model(
    [helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], [vi("x", F, [2, 3])], [vi("y")],
    [arr("s", np.array([-1, -1], np.int64))]))
case("op_reshape_two_minus_one.onnx", "open", "MINIRT_ERR_MODEL", "node 'rs' (Reshape): target shape [-1x-1] has more than one -1 (at 0 and 1)")
save("op_reshape_input.onnx", model(
    [helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], [vi("x", F, [2, 3]), vi("s", I64, [2])],
    [vi("y")]))
npy_save("shape_4x4.npy", np.array([4, 4], np.int64))
case("op_reshape_input.onnx", "run x=float32[2,3] s=@shape_4x4.npy", "MINIRT_ERR_SHAPE", "node 'rs' (Reshape): cannot reshape input 2x3 (6 elements) to [4x4] (16 elements)")
save("op_gemm_mismatch.onnx", model(
    [helper.make_node("Gemm", ["a", "b"], ["y"], name="gemm1")],
    [vi("a", F, [2, 3]), vi("b", F, [4, 5])], [vi("y")]))
case("op_gemm_mismatch.onnx", "open", "MINIRT_ERR_SHAPE", "node 'gemm1' (Gemm): inner dimensions differ")
save("op_matmul_mismatch.onnx", model(
    [helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")],
    [vi("a", F, [2, 3]), vi("b", F, [4, 5])], [vi("y")]))
case("op_matmul_mismatch.onnx", "open", "MINIRT_ERR_SHAPE", "node 'mm' (MatMul): inner dimensions differ: A has shape 2x3 and B has shape 4x5 (K is 3 vs 4)")
save("op_add_no_broadcast.onnx", model(
    [helper.make_node("Add", ["a", "b"], ["y"], name="add1")],
    [vi("a", F, [2, 3]), vi("b", F, [4])], [vi("y")]))
case("op_add_no_broadcast.onnx", "open", "MINIRT_ERR_SHAPE", "node 'add1' (Add): input A has shape 2x3 and input B has shape 4, which do not broadcast")
save("op_concat_mismatch.onnx", model(
    [helper.make_node("Concat", ["a", "b"], ["y"], name="cat", axis=0)],
    [vi("a", F, [2, 3]), vi("b", F, [2, 4])], [vi("y")]))
case("op_concat_mismatch.onnx", "open", "MINIRT_ERR_SHAPE", "node 'cat' (Concat): input 1 has shape 2x4 and input 0 has shape 2x3; they must agree except on axis 0")


def const_of_shape(shape, name="cos"):
    return model([helper.make_node("ConstantOfShape", ["s"], ["y"], name=name)], [], [vi("y")],
                 [arr("s", np.array(shape, np.int64))])


save("op_constantofshape_huge.onnx", const_of_shape([1 << 20, 1 << 20]))
case("op_constantofshape_huge.onnx", "open", "MINIRT_ERR_LIMIT", "node 'cos' (ConstantOfShape): output: tensor of shape 1048576x1048576 (float32) exceeds the limit")
save("op_constantofshape_overflow.onnx", const_of_shape([1 << 40, 1 << 40]))
case("op_constantofshape_overflow.onnx", "open", "MINIRT_ERR_LIMIT", "node 'cos' (ConstantOfShape): output: shape 1099511627776x1099511627776 overflows")
save("op_constantofshape_negative.onnx", const_of_shape([2, -3]))
case("op_constantofshape_negative.onnx", "open", "MINIRT_ERR_MODEL", "node 'cos' (ConstantOfShape): output: negative dimension in shape 2x-3")
save("op_constantofshape_input.onnx", model(
    [helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos")], [vi("s", I64, [2])], [vi("y")]))
npy_save("shape_huge.npy", np.array([1 << 30, 1 << 30], np.int64))
case("op_constantofshape_input.onnx", "run s=@shape_huge.npy", "MINIRT_ERR_LIMIT", "node 'cos' (ConstantOfShape): output: tensor of shape 1073741824x1073741824 (float32) exceeds the limit")
save("op_expand_huge.onnx", model(
    [helper.make_node("Expand", ["x", "s"], ["y"], name="ex")], [vi("x", F, [1, 1])], [vi("y")],
    [arr("s", np.array([1 << 24, 1 << 24], np.int64))]))
case("op_expand_huge.onnx", "open", "MINIRT_ERR_LIMIT", "node 'ex' (Expand): output: tensor of shape 16777216x16777216 (float32) exceeds the limit")
save("op_tile_huge.onnx", model(
    [helper.make_node("Tile", ["x", "r"], ["y"], name="tile")], [vi("x", F, [2, 2])], [vi("y")],
    [arr("r", np.array([1 << 31, 1 << 31], np.int64))]))
case("op_tile_huge.onnx", "open", "MINIRT_ERR_LIMIT", "node 'tile' (Tile): output: shape 4294967296x4294967296 overflows")
save("op_pad_huge.onnx", model(
    [helper.make_node("Pad", ["x", "p"], ["y"], name="pad")], [vi("x", F, [2, 2])], [vi("y")],
    [arr("p", np.array([0, 1 << 40, 0, 1 << 40], np.int64))]))
case("op_pad_huge.onnx", "open", "MINIRT_ERR_LIMIT", "node 'pad' (Pad): output: tensor of shape 2x2199023255554 (float32) exceeds the limit")
save("op_range_huge.onnx", model(
    [helper.make_node("Range", ["a", "b", "d"], ["y"], name="range")], [], [vi("y", I64)],
    [arr("a", np.array(0, np.int64)), arr("b", np.array(1 << 62, np.int64)),
     arr("d", np.array(1, np.int64))]))
case("op_range_huge.onnx", "open", "MINIRT_ERR_LIMIT", "node 'range' (Range): output: tensor of shape 4611686018427387904 (int64) exceeds the limit")
save("op_resize_huge.onnx", model(
    [helper.make_node("Resize", ["x", "", "sc"], ["y"], name="rsz")], [vi("x", F, [1, 1, 4, 4])], [vi("y")],
    [arr("sc", np.array([1, 1, 1e9, 1e9], np.float32))]))
case("op_resize_huge.onnx", "open", "MINIRT_ERR_LIMIT", "node 'rsz' (Resize): output Y: shape 1x1x4000000000x4000000000 overflows")

# ---------------------------------------------------------------------------------------------
cat("wrong inputs")
case("conv_dyn.onnx", "run", "MINIRT_ERR_ARGUMENT", "the model takes 1 input, 0 given")
case("conv_dyn.onnx", "run float32[1,2,5,5] float32[1,2,5,5]", "MINIRT_ERR_ARGUMENT", "the model takes 1 input, 2 given")
case("good_conv.onnx", "run float32[1,2,5]", "MINIRT_ERR_SHAPE", "input 'x': expected rank 4 (1x2x5x5), got rank 3")
case("good_conv.onnx", "run float32[1,2,5,6]", "MINIRT_ERR_SHAPE", "input 'x': expected shape 1x2x5x5, got 1x2x5x6")
case("conv_dyn.onnx", "run float32[1,3,5,5]", "MINIRT_ERR_SHAPE", "input 'x': expected shape -1x2x-1x-1, got 1x3x5x5")
case("conv_dyn.onnx", "run float32[-1,2,5,5]", "MINIRT_ERR_SHAPE", "input 'x': expected shape -1x2x-1x-1, got -1x2x5x5")
case("good_conv.onnx", "run int64[1,2,5,5]", "MINIRT_ERR_ARGUMENT", "input 'x': expected float32, got int64")
case("good_conv.onnx", "run nope=float32[1,2,5,5]", "MINIRT_ERR_ARGUMENT", "the model has no input 'nope'")
save("two_inputs.onnx", model([helper.make_node("Add", ["a", "b"], ["y"])],
                              [vi("a", F, [2]), vi("b", F, [2])], [vi("y")]))
case("two_inputs.onnx", "run a=float32[2] a=float32[2]", "MINIRT_ERR_ARGUMENT", "input 'a' is bound twice")
case("conv_dyn.onnx", "run float32[4294967296,2,4294967296,5]", "MINIRT_ERR_LIMIT", "overflows")
case("conv_dyn.onnx", "run float32[65536,2,65536,4096]", "MINIRT_ERR_LIMIT", "exceeds the limit")
case("conv_dyn.onnx", "run float32[2,2,7,3]", "MINIRT_OK", "")
case("two_inputs.onnx", "run b=float32[2] a=float32[2]", "MINIRT_OK", "")

# ---------------------------------------------------------------------------------------------
cat(".npy faults")
a23 = np.arange(6).reshape(2, 3)
vals = "0 1 2 3 4 5"
write("npy_bad_magic.npy", b"\x93NUMPZ\x01\x00" + b"\0" * 64)
case("npy_bad_magic.npy", "npy", "MINIRT_ERR_IO", "not a .npy file (bad magic")
write("npy_empty.npy", b"")
case("npy_empty.npy", "npy", "MINIRT_ERR_IO", "file is empty, not a .npy file")
write("npy_huge_header.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                                       b"\0" * 8, major=2, hlen=0xFFFFFFF0))
case("npy_huge_header.npy", "npy", "MINIRT_ERR_LIMIT", ".npy header length 4294967280 is over the limit")
write("npy_header_past_end.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                                           b"", hlen=4000))
case("npy_header_past_end.npy", "npy", "MINIRT_ERR_IO", "truncated .npy header")
write("npy_object.npy", npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                                  b"\x80\x04\x95" + b"\0" * 13))
case("npy_object.npy", "npy", "MINIRT_ERR_UNSUPPORTED", ".npy holds Python objects (descr '|O')")
npy_save("npy_pickle.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
case("npy_pickle.npy", "npy", "MINIRT_ERR_UNSUPPORTED", ".npy holds Python objects")
npy_save("npy_big_endian_f4.npy", a23.astype(">f4"))
case("npy_big_endian_f4.npy", "npy", "MINIRT_OK", "float32 2x3: " + vals)
npy_save("npy_big_endian_i8.npy", a23.astype(">i8") - 3)
case("npy_big_endian_i8.npy", "npy", "MINIRT_OK", "int64 2x3: -3 -2 -1 0 1 2")
npy_save("npy_fortran_f4.npy", np.asfortranarray(a23.astype("<f4")))
case("npy_fortran_f4.npy", "npy", "MINIRT_OK", "float32 2x3: " + vals)
npy_save("npy_fortran_big_endian_f8.npy", np.asfortranarray(np.arange(24).reshape(2, 3, 4).astype(">f8")))
case("npy_fortran_big_endian_f8.npy", "npy", "MINIRT_OK", "float64 2x3x4: " + " ".join(str(i) for i in range(24)))
npy_save("npy_bool.npy", np.array([True, False, True]))
case("npy_bool.npy", "npy", "MINIRT_OK", "bool 3: 1 0 1")
write("npy_bool_not_01.npy", npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b"\x00\x07\xff"))
case("npy_bool_not_01.npy", "npy", "MINIRT_OK", "bool 3: 0 1 1")
full = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", a23.astype("<f4").tobytes())
write("npy_truncated_data.npy", full[:-5])
case("npy_truncated_data.npy", "npy", "MINIRT_ERR_IO", "data is 19 bytes, shape 2x3 float32 needs 24")
write("npy_extra_data.npy", full + b"\0\0\0\0")
case("npy_extra_data.npy", "npy", "MINIRT_ERR_IO", "data is 28 bytes, shape 2x3 float32 needs 24 (extra bytes at the end)")
write("npy_truncated_header.npy", full[:30])
case("npy_truncated_header.npy", "npy", "MINIRT_ERR_IO", "truncated .npy header")
write("npy_negative_shape.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }"))
case("npy_negative_shape.npy", "npy", "MINIRT_ERR_IO", ".npy shape has a negative dimension -3")
write("npy_shape_overflow.npy", npy_bytes(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"))
case("npy_shape_overflow.npy", "npy", "MINIRT_ERR_LIMIT", "shape 4294967296x4294967296 overflows")
write("npy_shape_huge.npy", npy_bytes(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824), }"))
case("npy_shape_huge.npy", "npy", "MINIRT_ERR_LIMIT", "exceeds the limit")
write("npy_dim_not_int64.npy", npy_bytes(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"))
case("npy_dim_not_int64.npy", "npy", "MINIRT_ERR_LIMIT", "does not fit in 64 bits")
write("npy_rank9.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", b"\0" * 4))
case("npy_rank9.npy", "npy", "MINIRT_ERR_LIMIT", "more than 8 dimensions")
write("npy_version_9.npy", b"\x93NUMPY\x09\x00" + full[8:])
case("npy_version_9.npy", "npy", "MINIRT_ERR_UNSUPPORTED", ".npy format version 9.0 is not supported")
npy_save("npy_structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
case("npy_structured.npy", "npy", "MINIRT_ERR_UNSUPPORTED", "structured dtype")
npy_save("npy_float16.npy", np.zeros(2, dtype="<f2"))
case("npy_float16.npy", "npy", "MINIRT_ERR_UNSUPPORTED", ".npy data type '<f2' is not supported")
write("npy_header_syntax.npy", npy_bytes("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", b"\0" * 8))
case("npy_header_syntax.npy", "npy", "MINIRT_ERR_IO", "malformed .npy header: expected True or False")
write("npy_header_code.npy", npy_bytes("{'descr': __import__('os').system('ls'), 'shape': (2,), }", b"\0" * 8))
case("npy_header_code.npy", "npy", "MINIRT_ERR_IO", "malformed .npy header: expected a quoted string")

# ---------------------------------------------------------------------------------------------
cat(".pb faults")
good_pb = numpy_helper.from_array(a23.astype(np.float32), "t").SerializeToString()
write("pb_good.pb", good_pb)
case("pb_good.pb", "pb", "MINIRT_OK", "float32 2x3: " + vals)
t = helper.make_tensor("i", I64, [3], [7, -8, 9])
write("pb_int64_data.pb", t.SerializeToString())
case("pb_int64_data.pb", "pb", "MINIRT_OK", "int64 3: 7 -8 9")
write("pb_truncated.pb", good_pb[:-7])
case("pb_truncated.pb", "pb", "MINIRT_ERR_IO", "not a valid ONNX TensorProto")
write("pb_random.pb", bytes(rng.randrange(256) for _ in range(256)))
case("pb_random.pb", "pb", "MINIRT_ERR_IO", "not a valid ONNX TensorProto")
write("pb_raw_short.pb", raw_tensor("t", F, [2, 3], b"\0" * 20).SerializeToString())
case("pb_raw_short.pb", "pb", "MINIRT_ERR_IO", "tensor 't': raw_data has 20 bytes but shape 2x3 (float32) needs 24")
write("pb_negative_dim.pb", raw_tensor("t", F, [2, -3], b"\0" * 24).SerializeToString())
case("pb_negative_dim.pb", "pb", "MINIRT_ERR_IO", "negative dimension in shape 2x-3")
write("pb_dims_overflow.pb", raw_tensor("t", F, [1 << 40, 1 << 40], b"").SerializeToString())
case("pb_dims_overflow.pb", "pb", "MINIRT_ERR_LIMIT", "overflows")
t = TensorProto()
t.name, t.data_type = "t", TensorProto.STRING
t.dims.append(1)
t.string_data.append(b"x")
write("pb_string.pb", t.SerializeToString())
case("pb_string.pb", "pb", "MINIRT_ERR_UNSUPPORTED", "data type string (8) is not supported")
t = raw_tensor("t", F, [4], b"")
t.ClearField("raw_data")
t.data_location = TensorProto.EXTERNAL
e = t.external_data.add()
e.key, e.value = "location", "/etc/passwd"
write("pb_external.pb", t.SerializeToString())
case("pb_external.pb", "pb", "MINIRT_ERR_ARGUMENT", "has external data, which needs the model to be opened from a file")
write("pb_no_dtype.pb", b"\x08\x02")
case("pb_no_dtype.pb", "pb", "MINIRT_ERR_UNSUPPORTED", "data type undefined (0) is not supported")

# ---------------------------------------------------------------------------------------------
cat("command-line tool")
npy_save("x_conv.npy", np.ones((1, 2, 5, 5), np.float32))
case("-", "cli good_conv.onnx x_conv.npy", "exit=0", "")
case("-", "cli no_such_model.onnx x_conv.npy", "exit=1", "cannot open 'no_such_model.onnx'")
case("-", "cli pb_trunc_half.onnx x_conv.npy", "exit=1", "pb_trunc_half.onnx: not a valid ONNX model")
case("-", "cli good_conv.onnx npy_bad_magic.npy", "exit=1", "npy_bad_magic.npy: not a .npy file")
case("-", "cli good_conv.onnx npy_pickle.npy", "exit=1", "holds Python objects")
case("-", "cli good_conv.onnx pb_truncated.pb", "exit=1", "pb_truncated.pb: not a valid ONNX TensorProto")
case("-", "cli good_conv.onnx npy_big_endian_f4.npy", "exit=1", "input 'x': expected rank 4")
case("-", "cli good_conv.onnx x_conv.npy x_conv.npy", "exit=2", "too many INPUTs")
case("-", "cli good_conv.onnx", "exit=2", "missing input 'x'")
case("-", "cli --check attr_stride_zero.onnx", "exit=1", "strides[0] is 0")
case("-", "cli op_constantofshape_huge.onnx", "exit=1", "exceeds the limit")

# ---------------------------------------------------------------------------------------------
cat("regressions found by fuzzing (docs/fuzzing.md)")
# B1: Softmax over the last axis has no workspace; the kernel did pointer arithmetic on NULL
save("reg_softmax_last_axis.onnx", model(
    [helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=-1)], [vi("x", F, ["N", 3])], [vi("y")]))
case("reg_softmax_last_axis.onnx", "run float32[2,3]", "MINIRT_OK", "")
case("reg_softmax_last_axis.onnx", "run float32[0,3]", "MINIRT_OK", "")
# B2: a zero batch makes every activation empty; the plan offset a NULL arena
case("conv_dyn.onnx", "run float32[0,2,5,5]", "MINIRT_OK", "")
# B3: graph_function_bomb.onnx above (4^15 nodes from inlining; gigabytes before a limit)
# B4: a variadic op whose first two inputs both broadcast along the output's last axis (a later
# input sets its extent) read them as full vectors: a heap overflow past the 1-element inputs
for op in ("Sum", "Max", "Mean"):
    save("reg_%s_broadcast_pair.onnx" % op.lower(), model(
        [helper.make_node(op, ["a", "b", "c"], ["y"], name=op.lower())],
        [vi("a", F, [1]), vi("b", F, []), vi("c", F, [2, 3])], [vi("y")]))
    case("reg_%s_broadcast_pair.onnx" % op.lower(), "run float32[1] float32[] float32[2,3]", "MINIRT_OK", "")

header = [
    "# cases.txt - the malformed-input corpus, checked by tests/test_corpus.c.",
    "# Generated by tests/corpus/make_corpus.py (see its docstring for the format); do not edit.",
    "# FILE | API [ARGS] | EXPECTED | MESSAGE SUBSTRING",
]
with open(os.path.join(HERE, "cases.txt"), "w") as f:
    f.write("\n".join(header + lines) + "\n")
n = sum(1 for l in lines if l and not l.startswith("#"))
print("make_corpus: %d cases" % n)
