#!/usr/bin/env bash
# make_seeds.sh - regenerate the seed corpora fuzz/corpus/<target>/ from the project's models and
# tensors and from ONNX's backend test data (Debian's libonnx-testdata), with Debian's Python
# (/usr/bin/python3: onnx + numpy). Deterministic; the committed result stays well under 1 MB.
#   bash fuzz/make_seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 - "$@" <<'PY'
import glob, hashlib, os, shutil, struct
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.getcwd()
TESTDATA = "/usr/include/onnx/backend/test/data/node"
OUT = os.path.join(ROOT, "fuzz", "corpus")
scope = {l.strip() for l in open("tests/onnx_scope.txt") if l.strip() and not l.startswith("#")}


def reset(target):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def put(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def model_bytes(nodes, inputs, outputs, inits=(), opset=13, functions=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          functions=list(functions))
    m.ir_version = 8
    return m.SerializeToString()


F = TensorProto.FLOAT
I64 = TensorProto.INT64

# ---- fuzz_open: the project's models, small hand-made models, in-scope backend node tests ----
d = reset("fuzz_open")
for path in sorted(glob.glob("models/*/model.onnx")):
    put(d, "model_" + path.split("/")[1] + ".onnx", open(path, "rb").read())
put(d, "check_problems.onnx", open("tests/data/check_problems.onnx", "rb").read())
x = helper.make_tensor_value_info
w = numpy_helper.from_array(np.linspace(-1, 1, 3 * 2 * 3 * 3, dtype=np.float32).reshape(3, 2, 3, 3), "W")
put(d, "conv_dynbatch.onnx", model_bytes(
    [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1], strides=[2, 1]),
     helper.make_node("Relu", ["c"], ["y"])],
    [x("x", F, ["N", 2, "H", "W"])], [x("y", F, None)], [w]))
put(d, "reshape_shape_input.onnx", model_bytes(
    [helper.make_node("Reshape", ["x", "s"], ["y"])],
    [x("x", F, [2, 3, 4]), x("s", I64, [2])], [x("y", F, None)]))
put(d, "constant_of_shape.onnx", model_bytes(
    [helper.make_node("Shape", ["x"], ["s"]),
     helper.make_node("ConstantOfShape", ["s"], ["z"],
                      value=helper.make_tensor("v", F, [1], [0.5])),
     helper.make_node("Add", ["x", "z"], ["y"])],
    [x("x", F, ["N", 4])], [x("y", F, None)]))
fn = helper.make_function("local", "Twice", ["a"], ["b"],
                          [helper.make_node("Relu", ["a"], ["t"]), helper.make_node("Add", ["t", "t"], ["b"])],
                          [helper.make_opsetid("", 13)])
put(d, "function.onnx", model_bytes(
    [helper.make_node("Twice", ["x"], ["y"], domain="local")],
    [x("x", F, [4])], [x("y", F, None)], functions=[fn]))
m = onnx.load_from_string(model_bytes([helper.make_node("Add", ["x", "c"], ["y"])],
                                      [x("x", F, [4])], [x("y", F, None)]))
m.opset_import.append(helper.make_opsetid("local", 1))
c = m.graph.initializer.add()
c.name, c.data_type = "c", F
c.dims.append(4)
c.data_location = TensorProto.EXTERNAL
for k, v in (("location", "w.bin"), ("offset", "0"), ("length", "16")):
    e = c.external_data.add()
    e.key, e.value = k, v
put(d, "external.onnx", m.SerializeToString())
picked = 0
for case in sorted(os.listdir(TESTDATA)):
    path = os.path.join(TESTDATA, case, "model.onnx")
    if not os.path.exists(path) or os.path.getsize(path) > 2048:
        continue
    mp = onnx.load(path)
    if not mp.graph.node or any(n.op_type not in scope for n in mp.graph.node):
        continue
    put(d, case + ".onnx", open(path, "rb").read())
    picked += 1
print("fuzz_open:", len(os.listdir(d)), "seeds (%d backend node tests)" % picked)

# ---- fuzz_npy: every dtype, byte order, Fortran order, format version; a few project files ----
d = reset("fuzz_npy")


def npy(arr, version=(1, 0), fortran=False):
    import io
    b = io.BytesIO()
    np.lib.format.write_array(b, np.asfortranarray(arr) if fortran else arr, version=version,
                              allow_pickle=False)
    return b.getvalue()


base = np.arange(24).reshape(2, 3, 4)
for code in ("<f4", ">f4", "<f8", ">f8", "<i4", ">i4", "<i8", ">i8", "|u1", "|i1", "|b1"):
    arr = (base % 2 == 1) if code == "|b1" else base.astype(code)
    tag = code.replace("<", "le_").replace(">", "be_").replace("|", "")
    put(d, tag + ".npy", npy(arr))
    put(d, tag + "_fortran.npy", npy(arr, fortran=True))
put(d, "v2.npy", npy(base.astype("<f4"), (2, 0)))
put(d, "v3.npy", npy(base.astype("<f4"), (3, 0)))
put(d, "scalar.npy", npy(np.array(3.5, dtype="<f4")))
put(d, "empty.npy", npy(np.zeros((0, 3), dtype="<f4")))
put(d, "rank8.npy", npy(np.zeros((1,) * 8, dtype="<i8")))
for case in ("notebook_conv", "conv1d_stack"):
    for f in ("input_0.npy", "output_0.npy"):
        put(d, case + "_" + f, open(os.path.join("models", case, f), "rb").read())
print("fuzz_npy:", len(os.listdir(d)), "seeds")

# ---- fuzz_pb: backend test tensors of every storage form and type, small ones ----
d = reset("fuzz_pb")
seen = set()
for path in sorted(glob.glob(TESTDATA + "/*/test_data_set_0/*.pb")):
    if os.path.getsize(path) > 1024:
        continue
    t = onnx.load_tensor(path)
    key = (t.data_type, len(t.dims), t.HasField("raw_data"))
    if key in seen:
        continue
    seen.add(key)
    put(d, path.split("/")[-3] + "_" + os.path.basename(path), open(path, "rb").read())
arr = np.arange(6, dtype=np.float32).reshape(2, 3)
t = numpy_helper.from_array(arr, "typed")
t.ClearField("raw_data")
t.float_data.extend(arr.ravel().tolist())
put(d, "float_data.pb", t.SerializeToString())
t = helper.make_tensor("i64", I64, [3], [1, -2, 3])
put(d, "int64_data.pb", t.SerializeToString())
t = helper.make_tensor("b", TensorProto.BOOL, [4], [1, 0, 1, 1])
put(d, "bool_int32_data.pb", t.SerializeToString())
print("fuzz_pb:", len(os.listdir(d)), "seeds")

# ---- fuzz_run: the layout in fuzz/fuzz_run.c: b0, then 19 bytes of shape per run, then values --
d = reset("fuzz_run")
vals = {case: np.load(os.path.join("models", case, "input_0.npy")).astype("<f4").tobytes()
        for case in ("small_cnn", "conv_stack")}


def shape_bytes(rank=None, dims=()):
    b = bytes([0x80 | rank]) if rank is not None else b"\x00"
    b += bytes(dims)
    return b + bytes(19 - len(b))


specials = struct.pack("<8f", float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1e38, -1e-45, 3.0)
for model in range(4):
    case = ("small_cnn", "conv_stack")[model % 2]
    v = vals[case][:4096]
    for opt in (0, 2):
        put(d, "m%d_opt%d.bin" % (model, opt), bytes([model | opt << 2]) + shape_bytes() + v)
    put(d, "m%d_specials.bin" % model, bytes([model | 2 << 2]) + shape_bytes() + specials)
# symbolic models: two shapes on one session, zero-size batch, tiny image, wrong rank
put(d, "m2_two_shapes.bin", bytes([2 | 2 << 2 | 0x10]) + shape_bytes(None, (2, 3, 17, 9)) +
    shape_bytes(None, (1, 3, 5, 40)) + vals["small_cnn"][:2048])
put(d, "m3_two_shapes.bin", bytes([3 | 1 << 2 | 0x10]) + shape_bytes(None, (1, 4, 23, 19)) +
    shape_bytes(None, (3, 4, 9, 12)) + vals["conv_stack"][:2048])
put(d, "m2_zero_batch.bin", bytes([2 | 2 << 2]) + shape_bytes(None, (0, 3, 8, 8)) + specials)
put(d, "m3_tiny.bin", bytes([3 | 2 << 2]) + shape_bytes(None, (1, 4, 1, 1)) + specials)
put(d, "m0_bad_rank.bin", bytes([0 | 2 << 2]) + shape_bytes(3, (1, 3, 32)) + specials)
put(d, "m1_bad_dim.bin", bytes([1 | 2 << 2]) + shape_bytes(None, (2, 0xff, 5, 23, 19)) + specials)
print("fuzz_run:", len(os.listdir(d)), "seeds")

total = sum(os.path.getsize(p) for p in glob.glob(OUT + "/*/*"))
print("total: %d bytes" % total)
PY
