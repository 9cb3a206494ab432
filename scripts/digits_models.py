#!/usr/bin/env python3
"""The digits MLP and CNN of tests/data/onnx: trained on scikit-learn's digits set (8x8
images, shipped with scikit-learn, no download), exported as float ONNX models, then
quantized to int8 with ONNX Runtime's static quantization (QOperator format: uint8
activations, int8 weights). `tessera onnx run` must reproduce ONNX Runtime's outputs for
them bit for bit (scripts/digits_check.py).

    build/onnx-venv/bin/python scripts/digits_models.py --out tests/data/onnx

Deterministic: fixed seeds, single-threaded numpy training.
"""
import argparse
import os
import tempfile

# One BLAS thread: the same sums in the same order, so the same models, on any machine.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402 (after the thread settings)
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,  # noqa: E402
                                      QuantType, quantize_static)
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

SEED = 0
OPSET = 17


def digits_split():
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # pixels 0..16 -> [0, 1]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.2, random_state=SEED, stratify=y)


# ---- Training (plain numpy, Adam, softmax cross-entropy) ------------------------------

class Adam:
    def __init__(self, params, lr=0.01):
        self.params, self.lr, self.t = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            m_hat = m / (1 - 0.9 ** self.t)
            v_hat = v / (1 - 0.999 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


def softmax_grad(logits, labels):
    """d(mean cross-entropy)/d(logits)."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


def im2col(x, k=3, pad=1):
    """[N, C, H, W] -> [N*H*W, C*k*k] for a stride-1, same-size convolution."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, k, k, h, w), dtype=x.dtype)
    for ky in range(k):
        for kx in range(k):
            cols[:, :, ky, kx] = xp[:, :, ky:ky + h, kx:kx + w]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * h * w, c * k * k)


def col2im(cols, shape, k=3, pad=1):
    n, c, h, w = shape
    cols = cols.reshape(n, h, w, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for ky in range(k):
        for kx in range(k):
            xp[:, :, ky:ky + h, kx:kx + w] += cols[:, :, ky, kx]
    return xp[:, :, pad:pad + h, pad:pad + w]


class Cnn:
    """conv3x3(1->8)+relu, maxpool2, conv3x3(8->16)+relu, maxpool2, dense(64->10)."""

    def __init__(self, rng):
        self.w1 = rng.normal(0, np.sqrt(2 / 9), (8, 1, 3, 3)).astype(np.float32)
        self.b1 = np.zeros(8, np.float32)
        self.w2 = rng.normal(0, np.sqrt(2 / 72), (16, 8, 3, 3)).astype(np.float32)
        self.b2 = np.zeros(16, np.float32)
        self.w3 = rng.normal(0, np.sqrt(1 / 64), (64, 10)).astype(np.float32)
        self.b3 = np.zeros(10, np.float32)
        self.params = [self.w1, self.b1, self.w2, self.b2, self.w3, self.b3]

    @staticmethod
    def conv(x, w, b):
        n, _, h, wd = x.shape
        cols = im2col(x)
        out = cols @ w.reshape(len(w), -1).T + b
        return out.reshape(n, h, wd, len(w)).transpose(0, 3, 1, 2), cols

    @staticmethod
    def pool(x):
        n, c, h, w = x.shape
        blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
        out = blocks.max(axis=(3, 5))
        mask = blocks == out[:, :, :, None, :, None]
        return out, mask

    @staticmethod
    def unpool(grad, mask):
        return (mask * grad[:, :, :, None, :, None]).reshape(
            mask.shape[0], mask.shape[1], mask.shape[2] * 2, mask.shape[4] * 2)

    def forward(self, x, keep=False):
        c1, cols1 = self.conv(x, self.w1, self.b1)
        r1 = np.maximum(c1, 0)
        p1, m1 = self.pool(r1)
        c2, cols2 = self.conv(p1, self.w2, self.b2)
        r2 = np.maximum(c2, 0)
        p2, m2 = self.pool(r2)
        flat = p2.reshape(len(x), -1)
        logits = flat @ self.w3 + self.b3
        if keep:
            self.cache = (x, cols1, c1, m1, p1, cols2, c2, m2, flat)
        return logits

    def backward(self, g_logits):
        x, cols1, c1, m1, p1, cols2, c2, m2, flat = self.cache
        g_w3 = flat.T @ g_logits
        g_b3 = g_logits.sum(0)
        g_p2 = (g_logits @ self.w3.T).reshape(len(x), 16, 2, 2)
        g_c2 = self.unpool(g_p2, m2) * (c2 > 0)
        g2 = g_c2.transpose(0, 2, 3, 1).reshape(-1, 16)
        g_w2 = (g2.T @ cols2).reshape(self.w2.shape)
        g_b2 = g2.sum(0)
        g_p1 = col2im(g2 @ self.w2.reshape(16, -1), p1.shape)
        g_c1 = self.unpool(g_p1, m1) * (c1 > 0)
        g1 = g_c1.transpose(0, 2, 3, 1).reshape(-1, 8)
        g_w1 = (g1.T @ cols1).reshape(self.w1.shape)
        g_b1 = g1.sum(0)
        return [g_w1, g_b1, g_w2, g_b2, g_w3, g_b3]


class Mlp:
    """dense(64->32)+relu, dense(32->10)."""

    def __init__(self, rng):
        self.w1 = rng.normal(0, np.sqrt(2 / 64), (64, 32)).astype(np.float32)
        self.b1 = np.zeros(32, np.float32)
        self.w2 = rng.normal(0, np.sqrt(1 / 32), (32, 10)).astype(np.float32)
        self.b2 = np.zeros(10, np.float32)
        self.params = [self.w1, self.b1, self.w2, self.b2]

    def forward(self, x, keep=False):
        h = x @ self.w1 + self.b1
        r = np.maximum(h, 0)
        if keep:
            self.cache = (x, h, r)
        return r @ self.w2 + self.b2

    def backward(self, g):
        x, h, r = self.cache
        g_h = (g @ self.w2.T) * (h > 0)
        return [x.T @ g_h, g_h.sum(0), r.T @ g, g.sum(0)]


def train(net, x, y, epochs, lr, rng):
    opt = Adam(net.params, lr)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 32):
            batch = order[start:start + 32]
            logits = net.forward(x[batch], keep=True)
            opt.step([g.astype(np.float32) for g in net.backward(softmax_grad(logits, y[batch]))])
    return net


# ---- ONNX export and quantization -----------------------------------------------------

def const(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def mlp_model(net):
    nodes = [helper.make_node("MatMul", ["input", "w1"], ["h"], name="fc1"),
             helper.make_node("Add", ["h", "b1"], ["hb"], name="fc1_bias"),
             helper.make_node("Relu", ["hb"], ["r"], name="relu1"),
             helper.make_node("MatMul", ["r", "w2"], ["o"], name="fc2"),
             helper.make_node("Add", ["o", "b2"], ["logits"], name="fc2_bias")]
    inits = [const("w1", net.w1), const("b1", net.b1), const("w2", net.w2), const("b2", net.b2)]
    return graph(nodes, inits, ["N", 64])


def cnn_model(net):
    nodes = [helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p2"], ["flat"], name="flatten"),
             helper.make_node("MatMul", ["flat", "w3"], ["o"], name="fc"),
             helper.make_node("Add", ["o", "b3"], ["logits"], name="fc_bias")]
    inits = [const(n, getattr(net, n)) for n in ("w1", "b1", "w2", "b2", "w3", "b3")]
    return graph(nodes, inits, ["N", 1, 8, 8])


def graph(nodes, inits, input_shape):
    g = helper.make_graph(
        nodes, "digits", [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="tessera digits_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


class Calibration(CalibrationDataReader):
    def __init__(self, x):
        self.batches = iter([{"input": x[i:i + 64]} for i in range(0, len(x), 64)])

    def get_next(self):
        return next(self.batches, None)


def quantize(model, calibration_x, per_channel, path):
    with tempfile.TemporaryDirectory() as tmp:
        float_path = os.path.join(tmp, "float.onnx")
        onnx.save(model, float_path)
        quantize_static(float_path, path, Calibration(calibration_x),
                        quant_format=QuantFormat.QOperator, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=per_channel)
    quantized = onnx.load(path)
    onnx.checker.check_model(quantized)
    # Strict: every node's output type and shape must follow from its inputs.
    onnx.shape_inference.infer_shapes(quantized, check_type=True, strict_mode=True)
    return quantized


def accuracy(logits, y):
    return float((np.argmax(logits, axis=1) == y).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="tests/data/onnx")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import onnxruntime as ort

    x_train, x_test, y_train, y_test = digits_split()
    images_train = x_train.reshape(-1, 1, 8, 8)
    images_test = x_test.reshape(-1, 1, 8, 8)
    rng = np.random.default_rng(SEED)
    nets = {
        "mlp": (train(Mlp(rng), x_train, y_train, 40, 0.01, rng), mlp_model, x_train, x_test, False),
        "cnn": (train(Cnn(rng), images_train, y_train, 25, 0.01, rng), cnn_model, images_train,
                images_test, True),
    }
    for name, (net, export, train_x, test_x, per_channel) in nets.items():
        path = os.path.join(args.out, f"digits_{name}.onnx")
        quantized = quantize(export(net), train_x[:512], per_channel, path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        int8 = session.run(None, {"input": test_x})[0]
        ops = [f"{n.domain + '.' if n.domain else ''}{n.op_type}" for n in quantized.graph.node]
        print(f"{name}: float accuracy {accuracy(net.forward(test_x), y_test):.4f}, "
              f"ONNX Runtime int8 accuracy {accuracy(int8, y_test):.4f}, "
              f"{os.path.getsize(path)} bytes\n  nodes: {' -> '.join(ops)}")

    np.save(os.path.join(args.out, "digits_test_x.npy"), x_test)
    np.save(os.path.join(args.out, "digits_test_x_nchw.npy"), images_test)
    np.save(os.path.join(args.out, "digits_test_y.npy"), y_test)
    demo = np.arange(8)  # the first eight of the test split
    np.save(os.path.join(args.out, "digits_demo_x.npy"), x_test[demo])
    np.save(os.path.join(args.out, "digits_demo_x_nchw.npy"), images_test[demo])
    np.save(os.path.join(args.out, "digits_demo_y.npy"), y_test[demo])


if __name__ == "__main__":
    main()
