"""Device.gemm against the golden reference, bit-exact, and the golden reference against
NumPy's own integer matmul."""

import re

import numpy as np
import pytest

import tessera
from conftest import int8


def numpy_gemm(a, b, bias=None):
    """Σk a·b (+ bias) with int32 wrap-around, independently of tessera."""
    acc = a.astype(np.int64) @ b.astype(np.int64)
    if bias is not None:
        acc += np.asarray(bias, dtype=np.int64)
    return acc.astype(np.uint32).astype(np.int32)


def test_info_names_the_16x16_engine(dev):
    info = dev.info()
    assert (info["rows"], info["cols"]) == (16, 16)
    assert re.fullmatch(r"\d+\.\d+", info["version"])
    assert info["version"] == f"{info['version_raw'] >> 16}.{info['version_raw'] & 0xFFFF}"
    assert {"dense", "requant", "per-channel"} <= set(info["features"])
    assert all(not name.startswith("bit") for name in info["features"])  # [15:8]: FIFO depth
    assert info["max_k"] > 0


SHAPES = [(1, 1, 1), (16, 16, 16), (17, 33, 5), (40, 100, 31), (5, 64, 48)]


@pytest.mark.parametrize("m,k,n", SHAPES)
def test_raw_gemm_matches_golden_and_numpy(dev, rng, m, k, n):
    a, b = int8(rng, m, k), int8(rng, k, n)
    bias = rng.integers(-(2**20), 2**20, size=n, dtype=np.int32)
    got = dev.gemm(a, b, bias)
    assert got.dtype == np.int32 and got.shape == (m, n)
    np.testing.assert_array_equal(got, tessera.golden.gemm(a, b, bias))
    np.testing.assert_array_equal(got, numpy_gemm(a, b, bias))


def test_k_beyond_one_pass_is_split_and_still_exact(dev, rng):
    m, k, n = 3, dev.info()["max_k"] + 37, 18
    a, b = int8(rng, m, k), int8(rng, k, n)
    np.testing.assert_array_equal(dev.gemm(a, b, check=True), numpy_gemm(a, b))


@pytest.mark.parametrize("rounding", ["double", "single"])
@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
def test_requantized_gemm_matches_golden(dev, rng, rounding, per_channel):
    m, k, n = 20, 70, 19
    a, b = int8(rng, m, k), int8(rng, k, n)
    bias = rng.integers(-5000, 5000, size=n).tolist()  # a plain list works too
    if per_channel:
        requant = tessera.Requant(rng.integers(2**30, 2**31 - 1, size=n, dtype=np.int32),
                                  rng.integers(-12, -6, size=n), zero_point=-3,
                                  rounding=rounding)
    else:
        requant = tessera.Requant(1518500250, -9, zero_point=4, rounding=rounding)
    got = dev.gemm(a, b, bias, requant, check=True)
    assert got.dtype == np.int8 and got.shape == (m, n)
    np.testing.assert_array_equal(got, tessera.golden.gemm(a, b, bias, requant))
    assert got.min() < -100 and got.max() > 100  # the scale spreads the outputs


def test_clamp_bounds_requantized_output(dev, rng):
    a, b = int8(rng, 9, 40), int8(rng, 40, 21)
    requant = tessera.Requant(1 << 30, -6)
    got = dev.gemm(a, b, requant=requant, clamp=(0, 50), check=True)
    assert got.min() == 0 and got.max() == 50
    np.testing.assert_array_equal(got, tessera.golden.gemm(a, b, requant=requant, clamp=(0, 50)))


def test_requant_reads_back(dev):
    requant = tessera.Requant([3, 4], np.array([-1, 2]), zero_point=5, rounding="single")
    assert (requant.multiplier, requant.shift) == ([3, 4], [-1, 2])
    assert (requant.zero_point, requant.rounding) == (5, "single")
    assert "rounding='single'" in repr(requant)


def test_strided_views_are_accepted(dev, rng):
    a, b = int8(rng, 30, 12), int8(rng, 10, 60)
    view_a, view_b = a.T[::2], b.T[::2]  # [6, 30] and [30, 10], neither C-contiguous
    assert not view_a.flags.c_contiguous and not view_b.flags.c_contiguous
    np.testing.assert_array_equal(dev.gemm(view_a, view_b),
                                  numpy_gemm(np.ascontiguousarray(view_a), np.ascontiguousarray(view_b)))


def test_result_is_handed_over_without_a_copy(dev, rng):
    got = dev.gemm(int8(rng, 4, 8), int8(rng, 8, 3))
    # The runtime's own buffer, owned by a capsule the array keeps as its base.
    assert not got.flags.owndata and type(got.base).__name__ == "PyCapsule"
    assert got.flags.c_contiguous and got.flags.writeable
    got[0, 0] = 7  # the caller's to change
    assert got[0, 0] == 7


def test_uploaded_weights_are_not_sent_again(rng):
    m, k, n = 24, 48, 20
    a1, a2, b = int8(rng, m, k), int8(rng, m, k), int8(rng, k, n)
    bias = rng.integers(-1000, 1000, size=n)
    requant = tessera.Requant(1 << 30, -7)
    with tessera.Device("sim") as plain:
        plain.gemm(a1, b, bias, requant)
        full = plain.last_run["commands"]
    with tessera.Device("sim") as dev:
        weights = dev.upload_weights(b, bias, requant)
        assert weights.shape == (k, n)
        for a in (a1, a2):
            got = dev.gemm(a, weights, check=True)
            np.testing.assert_array_equal(got, tessera.golden.gemm(a, b, bias, requant))
            # LOADs of A and the GEMMs only: neither B nor its parameters go again.
            assert dev.last_run["commands"] < full
        first = dev.last_run["commands"]
        dev.gemm(a1, weights)
        assert dev.last_run["commands"] == first


def test_weights_carry_their_own_output_stage(dev, rng):
    weights = dev.upload_weights(int8(rng, 8, 4))
    with pytest.raises(tessera.InputError, match="bias: set by upload_weights"):
        dev.gemm(int8(rng, 2, 8), weights, bias=[1, 2, 3, 4])
    with pytest.raises(tessera.InputError):
        dev.gemm(int8(rng, 2, 9), weights)  # K differs from the weights'


def test_check_raises_mismatch_naming_the_first_differing_element(rng):
    a, b = np.ones((4, 8), np.int8), np.ones((8, 4), np.int8)
    with tessera.Device("sim", faults=["pe:0,0:stuck0"]) as broken:
        unchecked = broken.gemm(a, b)
        assert not np.array_equal(unchecked, tessera.golden.gemm(a, b))
        with pytest.raises(tessera.MismatchError, match=r"output\[\d+, \d+\]: engine \d+, golden 8"):
            broken.gemm(a, b, check=True)


def test_two_devices_run_in_threads(rng):
    """The GIL is released during a run: two engines make progress side by side."""
    from concurrent.futures import ThreadPoolExecutor

    a, b = int8(rng, 32, 64), int8(rng, 64, 32)
    devices = [tessera.Device("sim") for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda d: d.gemm(a, b), devices))
    for got in results:
        np.testing.assert_array_equal(got, numpy_gemm(a, b))
