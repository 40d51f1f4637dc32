#!/usr/bin/env python3
"""Operator test fixtures for the engine: small ONNX models and onnxruntime's outputs for them.

    .venv/bin/python scripts/make_op_fixtures.py OUT_DIR        (what `make fixtures` runs)

For every case NAME in CASES below, OUT_DIR gets
    NAME.onnx         the model: one float input (batch dim symbolic "N" where the graph allows), one output
    NAME.input.f32    the input, raw little-endian float32, row-major in the model's own input layout
    NAME.output.f32   onnxruntime's output for it (CPU execution provider), raw little-endian float32
    NAME.json         {"name", "description", "input": {"name", "shape", "layout"}, "output": {"name", "shape"},
                       "opset", "tolerance" (max abs difference allowed), "tolerance_reason"}
and OUT_DIR/index.json lists every case. OUT_DIR/errors/ holds models the engine must refuse with an error, listed
in errors/index.json as {"file", "expect", "description"}: "expect" is a substring the error message must contain
(compare case-insensitively; "" means any error will do).

Deterministic: weights and inputs come from numpy generators seeded by the case name, onnxruntime runs with one
thread and no graph optimisation, so a rerun writes byte-identical files. The directory is rebuilt from scratch
(written next to OUT_DIR, then swapped in) so stale cases never linger.
"""
import json
import os
import re
import shutil
import sys
import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, checker, helper, numpy_helper, shape_inference

PRODUCER = "make_op_fixtures"
DEFAULT_TOLERANCE = 1e-4
DEFAULT_TOLERANCE_REASON = (
    "one to three layers with fan-in <= 60 and outputs of order 1: float32 rounding from a different summation "
    "order (im2col + GEMM, SIMD, folded BatchNorm) stays near 1e-6")
NET_TOLERANCE = 5e-4
NET_TOLERANCE_REASON = (
    "a small network of 6-10 layers: float32 rounding differences (summation order, BatchNorm folding) compound "
    "layer by layer but stay well below 1e-4 on outputs of order 1")


# --------------------------------------------------------------------------------------------------------------
# Graph building helpers


class Builder:
    """Accumulates nodes and initializers for one model. Weights come from `rng`, so one seed gives one model."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.initializers = []
        self.counts = {}

    def _name(self, prefix):
        n = self.counts.get(prefix, 0)
        self.counts[prefix] = n + 1
        return f"{prefix}_{n}"

    def const(self, prefix, array):
        """Adds an initializer and returns its name."""
        name = self._name(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, name=None, outputs=1, **attrs):
        """Adds a node; returns its output name (or a list of them when outputs > 1)."""
        name = name or self._name(op.lower())
        outs = [name] if outputs == 1 else [f"{name}_out{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs[0] if outputs == 1 else outs

    def constant_node(self, array):
        """A Constant node (as torch.onnx exports them), rather than an initializer."""
        name = self._name("constant")
        self.nodes.append(helper.make_node(
            "Constant", [], [name], name=name, value=numpy_helper.from_array(np.asarray(array), name + "_value")))
        return name

    # Layers -----------------------------------------------------------------------------------------------

    def conv(self, x, cin, cout, kernel, strides=(1, 1), pads=None, group=1, bias=True, auto_pad=None,
             dilations=None, gain=1.0):
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        fan_in = cin // group * kh * kw
        w = (self.rng.standard_normal((cout, cin // group, kh, kw)) * gain * np.sqrt(2.0 / fan_in)).astype(np.float32)
        inputs = [x, self.const("W", w)]
        if bias:
            inputs.append(self.const("B", (self.rng.standard_normal(cout) * 0.1).astype(np.float32)))
        attrs = dict(kernel_shape=[kh, kw], strides=list(strides))
        if group != 1:
            attrs["group"] = group
        if auto_pad is not None:
            attrs["auto_pad"] = auto_pad
        elif pads is not None:
            attrs["pads"] = list(pads)
        if dilations is not None:
            attrs["dilations"] = list(dilations)
        return self.node("Conv", inputs, **attrs)

    def batchnorm(self, x, c, epsilon=1e-3):
        r = self.rng
        scale = r.uniform(0.5, 1.5, c).astype(np.float32)
        shift = (r.standard_normal(c) * 0.1).astype(np.float32)
        mean = (r.standard_normal(c) * 0.1).astype(np.float32)
        var = r.uniform(0.5, 1.5, c).astype(np.float32)
        return self.node("BatchNormalization",
                         [x, self.const("bn_scale", scale), self.const("bn_bias", shift),
                          self.const("bn_mean", mean), self.const("bn_var", var)], epsilon=epsilon)

    def clip(self, x, lo=0.0, hi=6.0):
        """Opset 11+ Clip: bounds as scalar inputs."""
        return self.node("Clip", [x, self.const("clip_min", np.float32(lo)), self.const("clip_max", np.float32(hi))])

    def relu(self, x):
        return self.node("Relu", [x])

    def gemm(self, x, k, m, trans_b=1, bias=True):
        w = (self.rng.standard_normal((m, k) if trans_b else (k, m)) / np.sqrt(k)).astype(np.float32)
        inputs = [x, self.const("gemm_B", w)]
        if bias:
            inputs.append(self.const("gemm_C", (self.rng.standard_normal(m) * 0.1).astype(np.float32)))
        attrs = dict(transB=1) if trans_b else {}
        return self.node("Gemm", inputs, **attrs)


def make_model(b, input_name, input_shape, output, opset, input_type=TensorProto.FLOAT, output_name=None):
    """Wraps the builder's graph into a checked model whose output type and shape come from ONNX shape inference.

    `output` is the name of the tensor to expose; it is renamed to `output_name` (default "output") by renaming
    the producing node's output."""
    output_name = output_name or "output"
    for n in b.nodes:
        for i, o in enumerate(n.output):
            if o == output:
                n.output[i] = output_name
        for i, o in enumerate(n.input):
            if o == output:
                n.input[i] = output_name
    graph = helper.make_graph(
        b.nodes, "graph",
        [helper.make_tensor_value_info(input_name, input_type, input_shape)],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, None)],
        initializer=b.initializers)
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name=PRODUCER, producer_version="1")
    model.ir_version = helper.find_min_ir_version_for(opsets)
    inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    model.graph.output[0].CopyFrom(inferred.graph.output[0])
    dims = model.graph.output[0].type.tensor_type.shape.dim
    if input_shape[0] == "N" and dims and not dims[0].HasField("dim_value"):
        dims[0].dim_param = "N"  # inference names a batch it cannot trace through Shape/Reshape "unk__0"
    checker.check_model(model, full_check=True)
    return model


def session(model_bytes, optimize=False):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------------------------------------------
# Cases. Each function gets a seeded generator and returns a dict: model, input_shape (concrete), description,
# and optionally layout / tolerance / tolerance_reason / input_scale.

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def conv_explicit_asymmetric_pads(r):
    b = Builder(r)
    y = b.conv("input", 3, 5, 3, pads=[0, 1, 1, 2])
    return dict(model=make_model(b, "input", ["N", 3, 9, 11], y, 13), input_shape=[1, 3, 9, 11],
                description="Conv 3x3 3->5 stride 1 with explicit asymmetric pads [top 0, left 1, bottom 1, right 2]")


@case
def conv_auto_pad_same_upper_stride2(r):
    b = Builder(r)
    y = b.conv("input", 3, 4, 3, strides=[2, 2], auto_pad="SAME_UPPER")
    return dict(model=make_model(b, "input", ["N", 3, 9, 11], y, 13), input_shape=[2, 3, 9, 11],
                description="Conv 3x3 3->4 stride 2, auto_pad SAME_UPPER on odd 9x11 (output 5x6; the extra padding "
                            "goes at the end), batch 2")


@case
def conv_auto_pad_valid(r):
    b = Builder(r)
    y = b.conv("input", 4, 6, (3, 2), strides=[1, 2], auto_pad="VALID")
    return dict(model=make_model(b, "input", ["N", 4, 9, 11], y, 13), input_shape=[1, 4, 9, 11],
                description="Conv with a non-square 3x2 kernel, strides [1,2], auto_pad VALID (output 7x5)")


@case
def conv_grouped(r):
    b = Builder(r)
    y = b.conv("input", 6, 9, 3, pads=[1, 1, 1, 1], group=3)
    return dict(model=make_model(b, "input", ["N", 6, 9, 11], y, 13), input_shape=[1, 6, 9, 11],
                description="Grouped Conv 3x3 6->9 with group 3 (2 input, 3 output channels per group), pads 1")


@case
def conv_no_bias(r):
    b = Builder(r)
    y = b.conv("input", 5, 7, 3, pads=[1, 1, 1, 1], bias=False)
    return dict(model=make_model(b, "input", ["N", 5, 16, 16], y, 13), input_shape=[1, 5, 16, 16],
                description="Conv 3x3 5->7 pads 1 without the optional bias input")


@case
def depthwise3x3_stride2_same(r):
    b = Builder(r)
    y = b.conv("input", 7, 7, 3, strides=[2, 2], pads=[0, 0, 1, 1], group=7)
    return dict(model=make_model(b, "input", ["N", 7, 16, 16], y, 13), input_shape=[1, 7, 16, 16],
                description="Depthwise Conv 3x3 stride 2 on 7 channels with TensorFlow-SAME explicit pads [0,0,1,1] "
                            "(padding only at bottom/right, as in EfficientNet-Lite), 16x16 -> 8x8")


@case
def depthwise5x5_stride1(r):
    b = Builder(r)
    y = b.conv("input", 5, 5, 5, pads=[2, 2, 2, 2], group=5)
    return dict(model=make_model(b, "input", ["N", 5, 9, 11], y, 13), input_shape=[1, 5, 9, 11],
                description="Depthwise Conv 5x5 stride 1 pads 2 on 5 channels, 9x11")


@case
def conv_bn_relu(r):
    b = Builder(r)
    y = b.relu(b.batchnorm(b.conv("input", 3, 6, 3, pads=[1, 1, 1, 1]), 6))
    return dict(model=make_model(b, "input", ["N", 3, 9, 11], y, 13), input_shape=[1, 3, 9, 11],
                description="Conv 3x3 -> separate BatchNormalization node (epsilon 1e-3, foldable into the conv) "
                            "-> Relu")


@case
def conv_clip_attributes(r):
    b = Builder(r)
    c = b.conv("input", 3, 6, 3, pads=[1, 1, 1, 1], gain=3.0)
    y = b.node("Clip", [c], min=0.0, max=6.0)
    return dict(model=make_model(b, "input", ["N", 3, 9, 11], y, 10), input_shape=[1, 3, 9, 11],
                description="Opset 10: Conv -> Clip with min/max as attributes (ReLU6); weights scaled so that "
                            "both bounds are hit")


@case
def conv_clip_inputs(r):
    b = Builder(r)
    c = b.conv("input", 3, 6, 3, pads=[1, 1, 1, 1], gain=2.0)
    y = b.clip(c, -1.0, 1.5)
    return dict(model=make_model(b, "input", ["N", 3, 9, 11], y, 13), input_shape=[1, 3, 9, 11],
                description="Opset 13: Conv -> Clip with min/max as scalar initializer inputs, bounds -1 and 1.5 "
                            "(not ReLU6, so the bounds must really be read)")


@case
def batchnorm_standalone(r):
    b = Builder(r)
    c = b.conv("input", 4, 4, 3, pads=[1, 1, 1, 1])
    s = b.node("Add", [c, "input"])
    y = b.batchnorm(s, 4, epsilon=1e-5)
    return dict(model=make_model(b, "input", ["N", 4, 9, 11], y, 13), input_shape=[1, 4, 9, 11],
                description="BatchNormalization (epsilon 1e-5) after an Add of a conv and the input: cannot be "
                            "folded into a conv, must run on its own")


@case
def squeeze_excite(r):
    b = Builder(r)
    x = b.relu(b.conv("input", 6, 8, 3, pads=[1, 1, 1, 1]))
    s = b.node("GlobalAveragePool", [x])
    s = b.relu(b.conv(s, 8, 3, 1))
    s = b.node("Sigmoid", [b.conv(s, 3, 8, 1)])
    y = b.node("Mul", [x, s])
    return dict(model=make_model(b, "input", ["N", 6, 9, 11], y, 13), input_shape=[2, 6, 9, 11],
                description="Squeeze-and-excite: Conv+Relu block, then GlobalAveragePool -> 1x1 Conv 8->3 -> Relu -> "
                            "1x1 Conv 3->8 -> Sigmoid -> Mul with the block output, broadcasting [N,8,1,1] over "
                            "[N,8,9,11]; batch 2 (per-image gates)")


@case
def residual_add_relu(r):
    b = Builder(r)
    c = b.relu(b.conv("input", 6, 6, 3, pads=[1, 1, 1, 1]))
    c = b.conv(c, 6, 6, 3, pads=[1, 1, 1, 1])
    y = b.relu(b.node("Add", [c, "input"]))
    return dict(model=make_model(b, "input", ["N", 6, 9, 11], y, 13), input_shape=[1, 6, 9, 11],
                description="Residual: Conv -> Relu -> Conv, Add the block input, Relu")


@case
def maxpool_pads_stride2(r):
    b = Builder(r)
    y = b.node("MaxPool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    return dict(model=make_model(b, "input", ["N", 5, 9, 11], y, 13), input_shape=[1, 5, 9, 11],
                description="MaxPool kernel 3 stride 2 pads 1 on 9x11 -> 5x6; the input has negative values, so "
                            "padding must act as -infinity, not 0")


@case
def maxpool_ceil_mode(r):
    b = Builder(r)
    y = b.node("MaxPool", ["input"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    return dict(model=make_model(b, "input", ["N", 3, 10, 12], y, 13), input_shape=[1, 3, 10, 12],
                description="MaxPool kernel 3 stride 2 ceil_mode 1, no pads, on 10x12 -> 5x6 (floor mode would give "
                            "4x5): the last window in each direction hangs over the edge")


@case
def averagepool_count_include_pad_0(r):
    b = Builder(r)
    y = b.node("AveragePool", ["input"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
               count_include_pad=0)
    return dict(model=make_model(b, "input", ["N", 4, 9, 11], y, 13), input_shape=[1, 4, 9, 11],
                description="AveragePool kernel 3 stride 1 pads 1, count_include_pad 0: border windows divide by "
                            "the number of real pixels")


@case
def averagepool_count_include_pad_1(r):
    b = Builder(r)
    y = b.node("AveragePool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
               count_include_pad=1)
    return dict(model=make_model(b, "input", ["N", 4, 9, 11], y, 13), input_shape=[1, 4, 9, 11],
                description="AveragePool kernel 3 stride 2 pads 1, count_include_pad 1: border windows always "
                            "divide by 9 (padding counts as zeros)")


@case
def global_avgpool_flatten_gemm(r):
    b = Builder(r)
    x = b.relu(b.conv("input", 3, 8, 3, pads=[1, 1, 1, 1]))
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])], axis=1)
    y = b.gemm(x, 8, 10, trans_b=1)
    return dict(model=make_model(b, "input", ["N", 3, 9, 11], y, 13), input_shape=[2, 3, 9, 11],
                description="Classifier head: Conv+Relu -> GlobalAveragePool -> Flatten -> Gemm transB=1 with bias "
                            "(8 -> 10), batch 2")


@case
def matmul_add(r):
    b = Builder(r)
    x = b.node("Flatten", ["input"], axis=1)
    w = (r.standard_normal((36, 7)) / 6.0).astype(np.float32)
    x = b.node("MatMul", [x, b.const("matmul_W", w)])
    y = b.node("Add", [x, b.const("matmul_bias", (r.standard_normal(7) * 0.1).astype(np.float32))])
    return dict(model=make_model(b, "input", ["N", 4, 3, 3], y, 13), input_shape=[1, 4, 3, 3],
                description="Flatten of N,4,3,3 (C-major order: index c*9+h*3+w) -> MatMul with a [36,7] weight -> "
                            "Add bias [7]")


@case
def pytorch_flatten_reshape(r):
    b = Builder(r)
    x = b.relu(b.conv("input", 3, 5, 3, strides=[2, 2]))  # 7x7 -> 3x3
    shape = b.node("Shape", [x])
    n = b.node("Gather", [shape, b.constant_node(np.array(0, dtype=np.int64))], axis=0)
    n = b.node("Unsqueeze", [n, b.constant_node(np.array([0], dtype=np.int64))])
    target = b.node("Concat", [n, b.constant_node(np.array([-1], dtype=np.int64))], axis=0)
    x = b.node("Reshape", [x, target])
    y = b.gemm(x, 45, 6, trans_b=1)
    return dict(model=make_model(b, "input", ["N", 3, 7, 7], y, 13), input_shape=[3, 3, 7, 7],
                description="torch x.view(x.size(0), -1) as exported: Conv s2 (-> N,5,3,3) -> Shape -> Gather(0) -> "
                            "Unsqueeze -> Concat with [-1] -> Reshape -> Gemm; the flatten order is NCHW, batch 3")


@case
def flatten_spatial_gemm(r):
    b = Builder(r)
    x = b.relu(b.conv("input", 3, 4, 3, strides=[2, 2], pads=[1, 1, 1, 1]))  # 4x6 -> 2x3
    x = b.node("Flatten", [x], axis=1)
    y = b.gemm(x, 24, 5, trans_b=0)
    return dict(model=make_model(b, "input", ["N", 3, 4, 6], y, 13), input_shape=[2, 3, 4, 6],
                description="VGG-like: Conv s2 (-> N,4,2,3) -> Flatten -> Gemm transB=0 (B is [24,5]) with bias; "
                            "flatten order is NCHW, batch 2")


@case
def concat_channels(r):
    b = Builder(r)
    s = b.relu(b.conv("input", 6, 3, 1))
    e1 = b.relu(b.conv(s, 3, 4, 1))
    e3 = b.relu(b.conv(s, 3, 5, 3, pads=[1, 1, 1, 1]))
    y = b.node("Concat", [e1, e3], axis=1)
    return dict(model=make_model(b, "input", ["N", 6, 9, 11], y, 13), input_shape=[1, 6, 9, 11],
                description="SqueezeNet fire module: squeeze 1x1 6->3, expand 1x1 3->4 and 3x3 3->5, Concat on axis 1 "
                            "(channels) -> 9 channels")


@case
def pad_constant(r):
    b = Builder(r)
    p = b.node("Pad", ["input", b.const("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1], dtype=np.int64)),
                       b.const("pad_value", np.float32(0.0))], mode="constant")
    y = b.conv(p, 3, 4, 3, auto_pad="VALID")
    return dict(model=make_model(b, "input", ["N", 3, 9, 11], y, 13), input_shape=[1, 3, 9, 11],
                description="Opset 13 Pad (pads and constant value 0 as inputs) with spatial pads [top 1, left 2, "
                            "bottom 2, right 1] -> Conv 3x3 VALID (as tf2onnx emits explicit padding)")


@case
def transpose_nhwc_input(r):
    b = Builder(r)
    x = b.node("Transpose", ["input_1:0"], perm=[0, 3, 1, 2])
    y = b.relu(b.conv(x, 3, 4, 3, pads=[1, 1, 1, 1]))
    return dict(model=make_model(b, "input_1:0", ["N", 9, 11, 3], y, 13), input_shape=[2, 9, 11, 3], layout="NHWC",
                description="tf2onnx style: input N,H,W,C named 'input_1:0' -> Transpose perm [0,3,1,2] -> Conv 3x3 "
                            "-> Relu; output NCHW, batch 2")


@case
def softmax_output(r):
    b = Builder(r)
    x = b.node("Flatten", [b.node("GlobalAveragePool", ["input"])], axis=1)
    x = b.gemm(x, 6, 10, trans_b=1)
    y = b.node("Softmax", [x], axis=1)
    return dict(model=make_model(b, "input", ["N", 6, 4, 4], y, 13), input_shape=[3, 6, 4, 4], input_scale=4.0,
                description="GlobalAveragePool -> Flatten -> Gemm 6->10 -> Softmax axis 1; batch 3 (rows sum to 1)")


@case
def dropout_identity_constant(r):
    b = Builder(r)
    x = b.conv("input", 3, 4, 3, pads=[1, 1, 1, 1])
    x = b.node("Dropout", [x])
    x = b.node("Identity", [x])
    c = b.constant_node((r.standard_normal((1, 4, 1, 1)) * 0.5).astype(np.float32))
    y = b.node("Add", [x, c])
    return dict(model=make_model(b, "input", ["N", 3, 9, 11], y, 13), input_shape=[1, 3, 9, 11],
                description="Inference no-ops and constants: Conv -> Dropout (inference: identity) -> Identity -> "
                            "Add of a Constant node [1,4,1,1]")


@case
def mini_mobilenetv2(r):
    b = Builder(r)
    stem = b.clip(b.batchnorm(b.conv("input", 3, 8, 3, strides=[2, 2], pads=[0, 0, 1, 1], bias=False), 8))
    x = b.clip(b.batchnorm(b.conv(stem, 8, 24, 1, bias=False), 24))
    x = b.clip(b.batchnorm(b.conv(x, 24, 24, 3, pads=[1, 1, 1, 1], group=24, bias=False), 24))
    x = b.batchnorm(b.conv(x, 24, 8, 1, bias=False), 8)
    x = b.node("Add", [x, stem])
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])], axis=1)
    y = b.gemm(x, 8, 10, trans_b=1)
    return dict(model=make_model(b, "input", ["N", 3, 16, 16], y, 13), input_shape=[2, 3, 16, 16],
                tolerance=NET_TOLERANCE, tolerance_reason=NET_TOLERANCE_REASON,
                description="Mini MobileNetV2: stem Conv 3x3 s2 (TF-SAME pads [0,0,1,1]) + BN + Clip(0,6); inverted "
                            "residual: expand 1x1 8->24 + BN + Clip, depthwise 3x3 + BN + Clip, project 1x1 24->8 "
                            "+ BN, Add with the stem; GlobalAveragePool, Flatten, Gemm 8->10; batch 2")


@case
def mini_resnet(r):
    b = Builder(r)
    x = b.relu(b.batchnorm(b.conv("input", 3, 8, 7, strides=[2, 2], pads=[3, 3, 3, 3], bias=False), 8, 1e-5))
    x = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = b.relu(b.batchnorm(b.conv(x, 8, 8, 3, pads=[1, 1, 1, 1], bias=False), 8, 1e-5))
    c = b.batchnorm(b.conv(c, 8, 8, 3, pads=[1, 1, 1, 1], bias=False), 8, 1e-5)
    x = b.relu(b.node("Add", [c, x]))
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])], axis=1)
    y = b.gemm(x, 8, 10, trans_b=1)
    return dict(model=make_model(b, "input", ["N", 3, 16, 16], y, 13), input_shape=[3, 3, 16, 16],
                tolerance=NET_TOLERANCE, tolerance_reason=NET_TOLERANCE_REASON,
                description="Mini ResNet: Conv 7x7 s2 pads 3 + BN + Relu, MaxPool 3 s2 pads 1, basic block (Conv 3x3 "
                            "+ BN + Relu + Conv 3x3 + BN, Add identity, Relu), GlobalAveragePool, Flatten, Gemm 8->10; "
                            "batch 3")


@case
def mini_squeezenet(r):
    b = Builder(r)
    x = b.relu(b.conv("input", 3, 8, 3, strides=[2, 2]))  # 16 -> 7
    x = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)  # 7 -> 3
    s = b.relu(b.conv(x, 8, 4, 1))
    x = b.node("Concat", [b.relu(b.conv(s, 4, 6, 1)), b.relu(b.conv(s, 4, 6, 3, pads=[1, 1, 1, 1]))], axis=1)
    x = b.relu(b.conv(x, 12, 10, 1))
    x = b.node("AveragePool", [x], kernel_shape=[3, 3])
    y = b.node("Flatten", [x], axis=1)
    return dict(model=make_model(b, "input", ["N", 3, 16, 16], y, 13), input_shape=[1, 3, 16, 16],
                tolerance=NET_TOLERANCE, tolerance_reason=NET_TOLERANCE_REASON,
                description="Mini SqueezeNet 1.1: Conv 3x3 s2 + Relu, MaxPool 3 s2 ceil_mode, fire module (squeeze "
                            "1x1, expand 1x1 + 3x3, Concat), Conv 1x1 12->10 + Relu, AveragePool over the whole 3x3, "
                            "Flatten")


# --------------------------------------------------------------------------------------------------------------
# Models the engine must refuse


def error_cases(rng, valid_model_path):
    """Yields (file name, bytes, expect, description)."""
    b = Builder(rng)
    x = b.conv("input", 3, 4, 3, pads=[1, 1, 1, 1])
    y = b.node("LRN", [x], name="lrn_1", size=3)
    m = make_model(b, "input", ["N", 3, 9, 11], y, 13)
    yield ("unsupported_lrn.onnx", m.SerializeToString(), "LRN",
           "Conv followed by an LRN node named 'lrn_1' (an operator the engine does not implement)")

    b = Builder(rng)
    x = b.node("Cast", ["input"], to=TensorProto.FLOAT)
    y = b.conv(x, 3, 4, 3, pads=[1, 1, 1, 1])
    m = make_model(b, "input", ["N", 3, 9, 11], y, 13, input_type=TensorProto.UINT8)
    yield ("uint8_input.onnx", m.SerializeToString(), "float",
           "The graph input is uint8 (then Cast to float): only float32 inputs are supported")

    b = Builder(rng)
    y = b.conv("input", 3, 4, 3, pads=[2, 2, 2, 2], dilations=[2, 2])
    m = make_model(b, "input", ["N", 3, 9, 11], y, 13)
    yield ("conv_dilation2.onnx", m.SerializeToString(), "dilation", "Conv 3x3 with dilations [2,2] (unsupported)")

    with open(valid_model_path, "rb") as f:
        data = f.read()
    yield ("truncated.onnx", data[: len(data) // 2], "",
           f"The first half ({len(data) // 2} of {len(data)} bytes) of {os.path.basename(valid_model_path)}")

    yield ("not_onnx.onnx", b"This is a text file, not an ONNX model.\n", "",
           "A plain text file with an .onnx name")


# --------------------------------------------------------------------------------------------------------------


def seed_for(name):
    return zlib.crc32(name.encode())


def write_json(path, obj):
    """Indented JSON with lists of numbers (shapes) kept on one line."""
    text = json.dumps(obj, indent=2)
    text = re.sub(r"\[([-\d,\s]*)\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)).strip() + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")


def write_case(out, name, spec):
    model = spec["model"]
    model_bytes = model.SerializeToString()
    rng = np.random.default_rng(seed_for(name + "/input"))
    x = (rng.standard_normal(spec["input_shape"]) * spec.get("input_scale", 1.0)).astype("<f4")

    inp = model.graph.input[0].name
    outp = model.graph.output[0].name
    (y,) = session(model_bytes).run([outp], {inp: x})
    y = np.ascontiguousarray(y, dtype="<f4")
    # How far a differently-rounded implementation lands: onnxruntime with its graph optimisations (BatchNorm and
    # activation fusion, other kernels) against the plain run. Far below the tolerance, or the tolerance is wrong.
    (y_opt,) = session(model_bytes, optimize=True).run([outp], {inp: x})
    drift = float(np.max(np.abs(y_opt - y)))
    tolerance = spec.get("tolerance", DEFAULT_TOLERANCE)
    if not np.all(np.isfinite(y)) or drift > tolerance / 10:
        raise SystemExit(f"{name}: optimised vs plain onnxruntime differ by {drift:.2e}, tolerance {tolerance:.0e}")

    with open(os.path.join(out, name + ".onnx"), "wb") as f:
        f.write(model_bytes)
    x.tofile(os.path.join(out, name + ".input.f32"))
    y.tofile(os.path.join(out, name + ".output.f32"))
    meta = {
        "name": name,
        "description": spec["description"],
        "opset": model.opset_import[0].version,
        "input": {"name": inp, "shape": list(x.shape), "layout": spec.get("layout", "NCHW")},
        "output": {"name": outp, "shape": list(y.shape)},
        "tolerance": tolerance,
        "tolerance_reason": spec.get("tolerance_reason", DEFAULT_TOLERANCE_REASON),
    }
    write_json(os.path.join(out, name + ".json"), meta)
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"{name:34s} {str(list(x.shape)):16s} -> {str(list(y.shape)):15s} max|y| {np.max(np.abs(y)):7.3f}  "
          f"ort-opt drift {drift:.1e}  tol {tolerance:.0e}  [{' '.join(ops)}]")
    return meta


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = os.path.normpath(sys.argv[1])
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "errors"))

    cases = []
    for name, fn in CASES.items():
        spec = fn(np.random.default_rng(seed_for(name)))
        meta = write_case(tmp, name, spec)
        cases.append({k: meta[k] for k in ("name", "description", "input", "output", "tolerance")})

    errors = []
    for file, data, expect, description in error_cases(np.random.default_rng(seed_for("errors")),
                                                       os.path.join(tmp, "conv_bn_relu.onnx")):
        with open(os.path.join(tmp, "errors", file), "wb") as f:
            f.write(data)
        try:
            session(data)
            loads = "onnxruntime loads it"
        except Exception as e:  # noqa: BLE001 - any failure is the point
            loads = f"onnxruntime refuses it: {type(e).__name__}"
        print(f"errors/{file:27s} expect {expect!r:12s} ({loads})")
        errors.append({"file": file, "expect": expect, "description": description})
    write_json(os.path.join(tmp, "errors", "index.json"),
               {"match": "case-insensitive substring of the error message; empty means any error", "cases": errors})

    index = {
        "generator": "scripts/make_op_fixtures.py",
        "versions": {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__},
        "format": "NAME.onnx, NAME.input.f32 and NAME.output.f32 (raw little-endian float32, row-major in the "
                  "shapes given), NAME.json",
        "cases": cases,
    }
    write_json(os.path.join(tmp, "index.json"), index)  # last: `make fixtures` uses it as its stamp

    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    os.rename(tmp, out)
    print(f"wrote {len(cases)} cases and {len(errors)} error models to {out}")


if __name__ == "__main__":
    main()
