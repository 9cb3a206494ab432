#!/usr/bin/env python3
"""The digits MLP and CNN (scripts/digits_models.py) over the whole test split, on the
engine through `tessera onnx run` and in ONNX Runtime: every output value must be equal,
and so the accuracies. Prints the CNN's per-layer cycles and utilization. Exit 1 on any
difference. Run by `make test` (ctest onnx_digits).

    build/onnx-venv/bin/python scripts/digits_check.py --tessera build/bin/tessera
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

MODELS = [("digits_mlp.onnx", "digits_test_x.npy"), ("digits_cnn.onnx", "digits_test_x_nchw.npy")]


def run_tessera(tessera, model, x_path, labels_path, out_dir):
    command = [tessera, "onnx", "run", model, "--input", f"input={x_path}", "--output", out_dir,
               "--labels", labels_path, "--json"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)}: exit {result.returncode}\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout)


def print_layers(report):
    """The per-layer table of `--json`; a key the report lacks prints as '-'."""
    print(f"  {'node':<26} {'op':<16} {'where':<7} {'M x K x N':<14} {'cycles':>8} {'util':>6}")
    for layer in report.get("layers", []):
        gemm = layer.get("gemm")
        shape = f"{gemm['m']}x{gemm['k']}x{gemm['n']}" if gemm else "-"
        utilization = layer.get("utilization")
        print(f"  {layer.get('node', '-'):<26} {layer.get('op', '-'):<16} {layer.get('where', '-'):<7} "
              f"{shape:<14} {layer.get('cycles', '-'):>8} "
              f"{'-' if utilization is None else f'{utilization:.3f}':>6}")
    if "cycles" in report and "utilization" in report:
        print(f"  engine total: {report['cycles']} cycles, utilization {report['utilization']:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tessera", required=True)
    parser.add_argument("--data", default="tests/data/onnx")
    args = parser.parse_args()
    labels_path = os.path.join(args.data, "digits_test_y.npy")
    labels = np.load(labels_path)
    failed = False
    for model_name, x_name in MODELS:
        model = os.path.join(args.data, model_name)
        x_path = os.path.join(args.data, x_name)
        want = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(
            None, {"input": np.load(x_path)})[0]
        with tempfile.TemporaryDirectory() as out_dir:
            report = run_tessera(args.tessera, model, x_path, labels_path, out_dir)
            got = np.load(os.path.join(out_dir, "logits.npy"))
        if got.dtype != want.dtype or got.shape != want.shape:
            print(f"{model_name}: tessera wrote {got.dtype} {got.shape}, "
                  f"ONNX Runtime gives {want.dtype} {want.shape}")
            failed = True
            continue
        differ = np.argwhere(got != want)
        # The accuracy from tessera's own logits, and the one it reports for --labels.
        accuracy = float((got.argmax(axis=1) == labels).mean())
        ort_accuracy = float((want.argmax(axis=1) == labels).mean())
        print(f"{model_name}: {len(labels)} digits, {len(differ)} of {want.size} values differ "
              f"from ONNX Runtime's; accuracy {accuracy:.4f} (ONNX Runtime {ort_accuracy:.4f}); "
              f"{report.get('cycles', '?')} engine cycles")
        for index in differ[:5]:
            index = tuple(int(i) for i in index)
            print(f"  differs at {index}: tessera {got[index].item()!r}, "
                  f"ONNX Runtime {want[index].item()!r}")
        reported = report.get("accuracy", accuracy)
        if reported != accuracy:
            print(f"  tessera reports accuracy {reported}, its logits give {accuracy}")
        if len(differ) or accuracy != ort_accuracy or reported != accuracy:
            failed = True
        if "cnn" in model_name:
            print_layers(report)
    print("digits: FAIL" if failed else "digits: PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
