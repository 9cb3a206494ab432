"""run_kernel: a kernel file (README, "Kernel format") run and checked like `tessera run`."""

import json

import numpy as np
import pytest

import tessera
from conftest import int8


def write_kernel(tmp_path, rng, requant=True):
    a, b = int8(rng, 19, 40), int8(rng, 40, 23)
    bias = rng.integers(-3000, 3000, size=23, dtype=np.int32)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    np.save(tmp_path / "bias.npy", bias)
    kernel = {"op": "gemm", "a": "a.npy", "b": "b.npy", "bias": "bias.npy", "out": "y.npy"}
    if requant:
        kernel["requant"] = {"multiplier": 1518500250, "shift": -8, "zero_point": 2}
        kernel["clamp"] = [-100, 100]
    path = tmp_path / "kernel.json"
    path.write_text(json.dumps(kernel))
    return path, a, b, bias


def test_kernel_runs_checked_and_returns_its_output(tmp_path, rng):
    path, a, b, bias = write_kernel(tmp_path, rng)
    result = tessera.run_kernel(str(path))
    want = tessera.golden.gemm(a, b, bias, tessera.Requant(1518500250, -8, zero_point=2),
                               clamp=(-100, 100))
    assert result.output.dtype == np.int8
    np.testing.assert_array_equal(result.output, want)
    assert result.op == "gemm" and result.gemms == 1
    assert result.macs == 19 * 40 * 23 and result.cycles > 0 and 0 < result.utilization <= 1
    assert result.output_path.endswith("y.npy")
    assert not (tmp_path / "y.npy").exists()  # returned, not written


def test_kernel_on_an_open_device(tmp_path, rng, dev):
    path, a, b, bias = write_kernel(tmp_path, rng, requant=False)
    result = tessera.run_kernel(path, device=dev)  # a pathlib.Path works too
    assert result.output.dtype == np.int32
    np.testing.assert_array_equal(result.output, tessera.golden.gemm(a, b, bias))


def test_kernel_mismatch_and_bad_file(tmp_path, rng):
    path, *_ = write_kernel(tmp_path, rng)
    broken = tessera.Device("sim", faults=["pe:1,1:stuck0"])
    with pytest.raises(tessera.MismatchError, match="differ from the golden reference"):
        tessera.run_kernel(path, device=broken)
    (tmp_path / "b.npy").unlink()
    with pytest.raises(tessera.InputError, match="b.npy"):
        tessera.run_kernel(path)
