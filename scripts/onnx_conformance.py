#!/usr/bin/env python3
"""Conformance of `tessera onnx run` against ONNX Runtime: one small generated model per
supported operator and dtype combination (uint8/int8, per-tensor and per-channel, with and
without zero points, 2-D and 3-D), each run through ONNX Runtime (CPU, default session
options) and through tessera; every output must be equal bit for bit (Softmax: within
1e-6, docs/onnx.md). onnx.reference's answer is shown beside it, for information.
A combination ONNX Runtime itself has no kernel for is skipped and named.

    build/onnx-venv/bin/python scripts/onnx_conformance.py --tessera build/bin/tessera
"""
import argparse
import itertools
import os
import shutil
import subprocess
import sys
import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

U8, I8, I32, F32, I64 = np.uint8, np.int8, np.int32, np.float32, np.int64
ELEM = {U8: TensorProto.UINT8, I8: TensorProto.INT8, I32: TensorProto.INT32,
        F32: TensorProto.FLOAT, I64: TensorProto.INT64}
SOFTMAX_TOLERANCE = 1e-6
# The combinations ONNX Runtime 1.32 has no CPU kernel for (int8 A × uint8 B QLinearMatMul).
# Any other case it rejects fails, so that a new version cannot quietly shrink the suite.
KNOWN_ORT_GAPS = ("qlinearmatmul_int8_uint8_",)
CASES = {}


def case(name):
    def register(build):
        CASES[name] = build
        return build
    return register


class Model:
    """A one-graph model under construction: graph inputs (fed), initializers, nodes."""

    def __init__(self, opset=21):
        self.nodes, self.inits, self.feeds, self.outputs = [], [], {}, []
        self.opset = opset
        self.microsoft = False

    def feed(self, name, value):
        self.feeds[name] = value
        return name

    def init(self, name, value):
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op, inputs, outputs, domain="", **attrs):
        self.microsoft |= domain == "com.microsoft"
        self.nodes.append(helper.make_node(op, inputs, outputs, name=f"{op.lower()}{len(self.nodes)}",
                                           domain=domain, **attrs))

    def output(self, name, dtype):
        self.outputs.append((name, dtype))

    def build(self):
        inputs = [helper.make_tensor_value_info(n, ELEM[v.dtype.type], v.shape)
                  for n, v in self.feeds.items()]
        outputs = [helper.make_tensor_value_info(n, ELEM[t], None) for n, t in self.outputs]
        graph = helper.make_graph(self.nodes, "case", inputs, outputs, self.inits)
        opsets = [helper.make_opsetid("", self.opset)]
        if self.microsoft:
            opsets.append(helper.make_opsetid("com.microsoft", 1))
        model = helper.make_model(graph, opset_imports=opsets)
        model.ir_version = 10
        return model


def ints(rng, dtype, shape):
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, shape).astype(dtype)


def scale(rng, count=None, lo=0.002, hi=0.05):
    return rng.uniform(lo, hi, count).astype(F32) if count else F32(rng.uniform(lo, hi))


def zero(rng, dtype, nonzero, count=None):
    """A zero point: 0 (or 128, the symmetric point of uint8) or a random small offset."""
    base = 128 if dtype == U8 else 0
    if not nonzero:
        return np.full(count, base, dtype) if count else dtype(base)
    offsets = rng.integers(-5, 6, count) if count else int(rng.integers(-5, 6))
    return (np.asarray(base + offsets)).astype(dtype) if count else dtype(base + offsets)


# ---- Engine operators -----------------------------------------------------------------

def qlinear_matmul(a_t, b_t, per_column, nonzero, batched):
    def build(rng):
        m = Model()
        k, n = 37, 21
        a_shape = (3, 5, k) if batched else (13, k)
        b_shape = (3, k, n) if batched == "b" else (k, n)
        count = n if per_column else None
        y_t = a_t
        m.node("QLinearMatMul", [m.feed("a", ints(rng, a_t, a_shape)), m.init("sa", scale(rng)),
                                 m.init("za", zero(rng, a_t, True)), m.init("b", ints(rng, b_t, b_shape)),
                                 m.init("sb", scale(rng, count)), m.init("zb", zero(rng, b_t, nonzero, count)),
                                 m.init("sy", scale(rng, None, 0.5, 2.0)), m.init("zy", zero(rng, y_t, True))],
               ["y"])
        m.output("y", y_t)
        return m
    return build


def matmul_integer(a_t, b_t, zero_points, per_column, batched):
    def build(rng):
        m = Model()
        k, n = 29, 18
        inputs = [m.feed("a", ints(rng, a_t, (2, 7, k) if batched else (11, k))),
                  m.init("b", ints(rng, b_t, (k, n)))]
        if zero_points:
            inputs += [m.init("za", zero(rng, a_t, True)),
                       m.init("zb", zero(rng, b_t, True, n if per_column else None))]
        m.node("MatMulInteger", inputs, ["y"])
        m.output("y", I32)
        return m
    return build


CONV_GEOMETRIES = {
    "3x3_pad1": dict(c=4, oc=6, k=3, attrs=dict(pads=[1, 1, 1, 1])),
    "3x3_stride2": dict(c=4, oc=6, k=3, attrs=dict(strides=[2, 2])),
    "3x3_dilation2_pad2": dict(c=3, oc=5, k=3, attrs=dict(dilations=[2, 2], pads=[2, 2, 2, 2])),
    "group2": dict(c=4, oc=6, k=3, attrs=dict(group=2, pads=[1, 0, 1, 0])),
    "depthwise": dict(c=5, oc=5, k=3, attrs=dict(group=5, pads=[1, 1, 1, 1])),
    "1x1_same_upper": dict(c=6, oc=4, k=1, attrs=dict(auto_pad="SAME_UPPER", strides=[2, 2])),
}


def qlinear_conv(x_t, w_t, per_channel, bias, geometry):
    def build(rng):
        g = CONV_GEOMETRIES[geometry]
        m = Model()
        group = g["attrs"].get("group", 1)
        count = g["oc"] if per_channel else None
        inputs = [m.feed("x", ints(rng, x_t, (2, g["c"], 9, 8))), m.init("sx", scale(rng)),
                  m.init("zx", zero(rng, x_t, True)),
                  m.init("w", ints(rng, w_t, (g["oc"], g["c"] // group, g["k"], g["k"]))),
                  m.init("sw", scale(rng, count)), m.init("zw", zero(rng, w_t, False, count)),
                  m.init("sy", scale(rng, None, 0.2, 1.0)), m.init("zy", zero(rng, x_t, True))]
        if bias:
            inputs.append(m.init("bias", rng.integers(-3000, 3000, g["oc"]).astype(I32)))
        m.node("QLinearConv", inputs, ["y"], **g["attrs"])
        m.output("y", x_t)
        return m
    return build


def conv_integer(x_t, w_t, zero_points):
    def build(rng):
        m = Model()
        inputs = [m.feed("x", ints(rng, x_t, (1, 3, 7, 7))), m.init("w", ints(rng, w_t, (4, 3, 3, 3)))]
        if zero_points:
            inputs += [m.init("zx", zero(rng, x_t, True)), m.init("zw", zero(rng, w_t, True))]
        m.node("ConvInteger", inputs, ["y"], pads=[1, 1, 1, 1])
        m.output("y", I32)
        return m
    return build


def qdq(op, per_channel, trans_b=False, a_t=U8):
    """QuantizeLinear(float input) → DequantizeLinear → op (weights and bias behind
    DequantizeLinear) → QuantizeLinear → DequantizeLinear (float output)."""
    def build(rng):
        m = Model()
        if op == "Conv":
            x_shape, w_shape, axis, oc = (2, 3, 8, 8), (5, 3, 3, 3), 0, 5
        elif op == "Gemm":
            x_shape, w_shape, oc = (9, 24), ((7, 24) if trans_b else (24, 7)), 7
            axis = 0 if trans_b else 1
        else:
            x_shape, w_shape, axis, oc = (2, 9, 24), (24, 7), 1, 7
        sx = F32(0.02)
        m.node("QuantizeLinear", [m.feed("x", rng.normal(0, 1, x_shape).astype(F32)), m.init("sx", sx),
                                  m.init("zx", zero(rng, a_t, True))], ["xq"])
        m.node("DequantizeLinear", ["xq", "sx", "zx"], ["xf"])
        sw = scale(rng, oc if per_channel else None)
        m.node("DequantizeLinear", [m.init("w", ints(rng, I8, w_shape)), m.init("sw", sw),
                                    m.init("zw", np.zeros(oc, I8) if per_channel else I8(0))],
               ["wf"], axis=axis)
        inputs = ["xf", "wf"]
        if op != "MatMul":
            m.node("DequantizeLinear", [m.init("b", rng.integers(-2000, 2000, oc).astype(I32)),
                                        m.init("sb", (sx * sw).astype(F32)),
                                        m.init("zb", np.zeros(oc, I32) if per_channel else I32(0))],
                   ["bf"], axis=0)
            inputs.append("bf")
        attrs = {"pads": [1, 1, 1, 1]} if op == "Conv" else {"transB": 1} if trans_b else {}
        m.node(op, inputs, ["yf"], **attrs)
        m.node("QuantizeLinear", ["yf", m.init("sy", F32(0.08)), m.init("zy", zero(rng, a_t, True))], ["yq"])
        m.node("DequantizeLinear", ["yq", "sy", "zy"], ["y"])
        m.output("yq", a_t)
        m.output("y", F32)
        return m
    return build


for a_t, b_t in [(U8, U8), (U8, I8), (I8, I8), (I8, U8)]:
    for per_column, nonzero, batched in itertools.product([False, True], [False, True], [None, "a", "b"]):
        if batched == "b" and (per_column or nonzero):
            continue
        name = (f"qlinearmatmul_{a_t.__name__}_{b_t.__name__}_{'per_column' if per_column else 'per_tensor'}"
                f"_{'zb' if nonzero else 'zb0'}_{'3d_' + batched if batched else '2d'}")
        case(name)(qlinear_matmul(a_t, b_t, per_column, nonzero, batched))
    for zps, per_column, batched in [(False, False, False), (True, False, False), (True, True, False),
                                     (True, True, True)]:
        name = (f"matmulinteger_{a_t.__name__}_{b_t.__name__}_{'zp' if zps else 'nozp'}"
                f"{'_per_column' if per_column else ''}_{'3d' if batched else '2d'}")
        case(name)(matmul_integer(a_t, b_t, zps, per_column, batched))
for x_t, w_t in [(U8, I8), (U8, U8), (I8, I8)]:
    for geometry in CONV_GEOMETRIES:
        for per_channel, bias in [(False, True), (True, True), (True, False)]:
            if geometry != "3x3_pad1" and not (per_channel and bias):
                continue
            name = (f"qlinearconv_{x_t.__name__}_{w_t.__name__}_{geometry}_"
                    f"{'per_channel' if per_channel else 'per_tensor'}{'_bias' if bias else ''}")
            case(name)(qlinear_conv(x_t, w_t, per_channel, bias, geometry))
for x_t, w_t in [(U8, U8), (U8, I8), (I8, I8)]:
    for zps in [False, True]:
        case(f"convinteger_{x_t.__name__}_{w_t.__name__}_{'zp' if zps else 'nozp'}")(
            conv_integer(x_t, w_t, zps))
for op in ["MatMul", "Gemm", "Conv"]:
    for per_channel in [False, True]:
        case(f"qdq_{op.lower()}_{'per_channel' if per_channel else 'per_tensor'}")(qdq(op, per_channel))
case("qdq_gemm_transb_per_channel")(qdq("Gemm", True, trans_b=True))
case("qdq_conv_int8_activations")(qdq("Conv", True, a_t=I8))


# ---- Host operators -------------------------------------------------------------------

def unary(op, dtype, shape, out_dtype=None, extra=(), opset=21, **attrs):
    def build(rng):
        m = Model(opset)
        x = rng.normal(0, 2, shape).astype(F32) if dtype == F32 else ints(rng, dtype, shape)
        m.node(op, [m.feed("x", x), *[m.init(n, v) for n, v in extra]], ["y"], **attrs)
        m.output("y", out_dtype or dtype)
        return m
    return build


def qlinear_add(dtype, b_shape):
    def build(rng):
        m = Model()
        m.node("QLinearAdd", [m.feed("a", ints(rng, dtype, (37, 20))), m.init("sa", scale(rng, None, 0.01, 0.2)),
                              m.init("za", zero(rng, dtype, True)), m.init("b", ints(rng, dtype, b_shape)),
                              m.init("sb", scale(rng, None, 0.01, 0.2)), m.init("zb", zero(rng, dtype, True)),
                              m.init("sc", scale(rng, None, 0.01, 0.2)), m.init("zc", zero(rng, dtype, True))],
               ["y"], domain="com.microsoft")
        m.output("y", dtype)
        return m
    return build


def qdq_add(dtype):
    def build(rng):
        m = Model()
        m.node("DequantizeLinear", [m.feed("a", ints(rng, dtype, (30, 16))), m.init("sa", F32(0.05)),
                                    m.init("za", zero(rng, dtype, True))], ["af"])
        m.node("DequantizeLinear", [m.init("b", ints(rng, dtype, (16,))), m.init("sb", F32(0.03)),
                                    m.init("zb", zero(rng, dtype, True))], ["bf"])
        m.node("Add", ["af", "bf"], ["s"])
        m.node("QuantizeLinear", ["s", m.init("sy", F32(0.07)), m.init("zy", zero(rng, dtype, True))], ["y"])
        m.output("y", dtype)
        return m
    return build


def add_float(b_shape):
    def build(rng):
        m = Model()
        m.node("Add", [m.feed("a", rng.normal(0, 1, (4, 6, 5)).astype(F32)),
                       m.init("b", rng.normal(0, 1, b_shape).astype(F32))], ["y"])
        m.output("y", F32)
        return m
    return build


def quantize_linear(dtype, per_axis):
    def build(rng):
        m = Model()
        s = scale(rng, 3 if per_axis else None, 0.01, 0.1)
        z = np.array([3, -2, 7], dtype) if per_axis and dtype == I8 else \
            np.array([120, 128, 131], dtype) if per_axis else zero(rng, dtype, True)
        m.node("QuantizeLinear", [m.feed("x", rng.normal(0, 3, (2, 3, 5)).astype(F32)),
                                  m.init("s", s), m.init("z", z)], ["y"], axis=1)
        m.output("y", dtype)
        return m
    return build


def dequantize_linear(dtype, per_axis):
    def build(rng):
        m = Model()
        s = scale(rng, 4 if per_axis else None)
        x = rng.integers(-100000, 100000, (3, 4, 5)).astype(I32) if dtype == I32 else ints(rng, dtype, (3, 4, 5))
        z = np.zeros(4, dtype) if dtype == I32 and per_axis else dtype(0) if dtype == I32 else \
            zero(rng, dtype, True, 4 if per_axis else None)
        m.node("DequantizeLinear", [m.feed("x", x), m.init("s", s), m.init("z", z)], ["y"], axis=1)
        m.output("y", F32)
        return m
    return build


IMAGE = (2, 3, 7, 9)
case("relu_float")(unary("Relu", F32, (5, 7)))
case("clip_float")(unary("Clip", F32, (5, 7), extra=[("lo", F32(-0.5)), ("hi", F32(1.25))]))
case("clip_uint8")(unary("Clip", U8, (5, 7), extra=[("lo", U8(20)), ("hi", U8(200))]))
case("add_float_broadcast")(add_float((5,)))
case("add_float_same_shape")(add_float((4, 6, 5)))
for dtype in [U8, I8]:
    case(f"qlinearadd_{dtype.__name__}_same_shape")(qlinear_add(dtype, (37, 20)))
    case(f"qlinearadd_{dtype.__name__}_broadcast_row")(qlinear_add(dtype, (20,)))
    case(f"qlinearadd_{dtype.__name__}_scalar")(qlinear_add(dtype, (1,)))
    case(f"qdq_add_{dtype.__name__}")(qdq_add(dtype))
    case(f"quantizelinear_{dtype.__name__}_per_tensor")(quantize_linear(dtype, False))
    case(f"quantizelinear_{dtype.__name__}_per_axis")(quantize_linear(dtype, True))
for dtype in [U8, I8, I32]:
    case(f"dequantizelinear_{dtype.__name__}_per_tensor")(dequantize_linear(dtype, False))
    case(f"dequantizelinear_{dtype.__name__}_per_axis")(dequantize_linear(dtype, True))
case("reshape_uint8")(unary("Reshape", U8, (2, 3, 4), extra=[("shape", np.array([0, -1], I64))]))
case("flatten_float_axis2")(unary("Flatten", F32, (2, 3, 4, 5), axis=2))
case("transpose_uint8")(unary("Transpose", U8, (2, 3, 4, 5), perm=[0, 2, 3, 1]))
case("transpose_float_default")(unary("Transpose", F32, (2, 3, 4)))
case("maxpool_uint8_2x2")(unary("MaxPool", U8, IMAGE, kernel_shape=[2, 2], strides=[2, 2]))
case("maxpool_int8_3x3_pad1")(unary("MaxPool", I8, IMAGE, kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
case("maxpool_float_ceil_dilation")(unary("MaxPool", F32, IMAGE, kernel_shape=[2, 2], strides=[2, 2],
                                          ceil_mode=1))
case("maxpool_float_dilation2")(unary("MaxPool", F32, IMAGE, kernel_shape=[2, 2], dilations=[2, 2]))
# ONNX Runtime computes AveragePool-19 and older versions in different kernels, so both.
for opset in (17, 21):
    case(f"averagepool_float_opset{opset}")(unary("AveragePool", F32, IMAGE, kernel_shape=[3, 3],
                                                 strides=[2, 2], opset=opset))
    case(f"averagepool_float_pads_exclude_opset{opset}")(unary(
        "AveragePool", F32, IMAGE, kernel_shape=[3, 3], pads=[1, 1, 1, 1], opset=opset))
    case(f"averagepool_float_pads_include_opset{opset}")(unary(
        "AveragePool", F32, IMAGE, kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1,
        opset=opset))
    case(f"averagepool_float_stride3_opset{opset}")(unary(
        "AveragePool", F32, (1, 2, 11, 13), kernel_shape=[3, 3], strides=[3, 3], opset=opset))
    case(f"averagepool_float_ceil_include_opset{opset}")(unary(
        "AveragePool", F32, IMAGE, kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1,
        count_include_pad=1, opset=opset))
    case(f"averagepool_float_ceil_exclude_pads_opset{opset}")(unary(
        "AveragePool", F32, IMAGE, kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1,
        pads=[1, 1, 1, 1], opset=opset))
case("averagepool_float_dilation2_opset21")(unary("AveragePool", F32, IMAGE, kernel_shape=[2, 2],
                                                  dilations=[2, 2], opset=21))
case("globalaveragepool_float")(unary("GlobalAveragePool", F32, IMAGE))
case("softmax_float")(unary("Softmax", F32, (6, 10)))


# ---- Running and comparing ------------------------------------------------------------

def same(got, want, tolerance):
    if got.dtype != want.dtype or got.shape != want.shape:
        return False, f"tessera {got.dtype}{list(got.shape)}, ONNX Runtime {want.dtype}{list(want.shape)}"
    if tolerance:
        diff = float(np.max(np.abs(got - want))) if got.size else 0.0
        return diff <= tolerance, f"max |difference| {diff:.2e}"
    if want.dtype == F32:  # bitwise, so -0.0 and 0.0 differ too
        differ = int(np.count_nonzero(got.view(np.uint32) != want.view(np.uint32)))
    else:
        differ = int(np.count_nonzero(got != want))
    return differ == 0, f"{differ} of {want.size} differ"


def reference_note(model, feeds, want):
    try:
        ref = ReferenceEvaluator(model).run(None, feeds)
    except Exception as e:  # noqa: BLE001 (the reference lacks some contrib ops)
        return f"onnx.reference: n/a ({type(e).__name__})"
    differ = sum(int(np.count_nonzero(np.asarray(r) != w)) for r, w in zip(ref, want))
    return f"onnx.reference: {'agrees' if differ == 0 else f'{differ} values differ'}"


def run_case(name, build, tessera, out_root):
    # Seeded by its name, so that a case gets the same data alone (--only) as in the suite.
    seed = zlib.crc32(name.encode())
    rng = np.random.default_rng(seed)
    m = build(rng)
    model = m.build()
    case_dir = os.path.join(out_root, name)
    shutil.rmtree(case_dir, ignore_errors=True)
    os.makedirs(case_dir)
    path = os.path.join(case_dir, "model.onnx")
    onnx.save(model, path)
    feeds = []
    for feed_name, value in m.feeds.items():
        feeds += ["--input", f"{feed_name}={os.path.join(case_dir, feed_name)}.npy"]
        np.save(os.path.join(case_dir, f"{feed_name}.npy"), value)
    try:
        want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, m.feeds)
    except Exception as e:  # noqa: BLE001
        verdict = "SKIP" if name.startswith(KNOWN_ORT_GAPS) else "FAIL"
        return verdict, f"ONNX Runtime rejects it: {str(e).splitlines()[0][:90]}"
    os.makedirs(os.path.join(case_dir, "ort"))
    for (out_name, _), value in zip(m.outputs, want):
        np.save(os.path.join(case_dir, "ort", f"{out_name}.npy"), value)
    if tessera is None:
        return "ORT", reference_note(model, m.feeds, want)
    command = [tessera, "onnx", "run", path, *feeds, "--output", os.path.join(case_dir, "out"), "--check"]
    result = subprocess.run(command, capture_output=True, text=True)
    rerun = f" (seed {seed})\n     rerun: {' '.join(command)}"
    if result.returncode != 0:
        return "FAIL", f"exit {result.returncode}: {(result.stderr or result.stdout).strip()[:200]}{rerun}"
    notes, passed = [], True
    for (out_name, _), value in zip(m.outputs, want):
        got = np.load(os.path.join(case_dir, "out", f"{out_name}.npy"))
        ok, note = same(got, value, SOFTMAX_TOLERANCE if name.startswith("softmax") else 0)
        passed &= ok
        notes.append(f"{out_name}: {note}")
    notes.append(reference_note(model, m.feeds, want))
    return ("PASS", "; ".join(notes)) if passed else ("FAIL", "; ".join(notes) + rerun)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tessera", help="the tessera binary (omit: ONNX Runtime side only)")
    parser.add_argument("--out", default="build/onnx-conformance")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--keep", action="store_true",
                        help="keep every case's files: model, inputs, ort/ and out/ outputs "
                             "(default: only those of failing cases)")
    args = parser.parse_args()
    names = [n for n in CASES if args.only in n]
    if args.list:
        print("\n".join(names))
        return 0
    counts = {}
    for name in names:
        verdict, note = run_case(name, CASES[name], args.tessera, args.out)
        counts[verdict] = counts.get(verdict, 0) + 1
        print(f"{verdict:4} {name:58} {note}")
        if verdict != "FAIL" and not args.keep:
            shutil.rmtree(os.path.join(args.out, name))
    summary = ", ".join(f"{count} {verdict}" for verdict, count in sorted(counts.items()))
    print(f"onnx conformance: {len(names)} cases: {summary}")
    return 1 if counts.get("FAIL") else 0


if __name__ == "__main__":
    sys.exit(main())
