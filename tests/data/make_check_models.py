#!/usr/bin/env python3
"""Write tests/data/check_problems.onnx: a small, valid ONNX model that minirt cannot run, with
several distinct problems, for the `minirt --check` test (every problem must be listed in one run):
two nodes of an op minirt lacks (NonMaxSuppression-like custom op in a custom domain), one unknown
default-domain op, and a Conv with a zero stride.

Run with Debian's Python: /usr/bin/python3 tests/data/make_check_models.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))

w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "W")
nodes = [
    helper.make_node("Conv", ["x", "W"], ["c"], name="conv_bad_stride", strides=[0, 1]),
    helper.make_node("Frobnicate", ["c"], ["f1"], name="frob1", domain="com.example"),
    helper.make_node("Frobnicate", ["f1"], ["f2"], name="frob2", domain="com.example"),
    helper.make_node("Unobtainium", ["f2"], ["y"], name="unob"),
]
graph = helper.make_graph(
    nodes, "check_problems",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    initializer=[w])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                helper.make_opsetid("com.example", 1)])
model.ir_version = 8
onnx.save(model, os.path.join(HERE, "check_problems.onnx"))
print("wrote", os.path.join(HERE, "check_problems.onnx"))
