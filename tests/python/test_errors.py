"""Each kind of failure arrives as its tessera exception, naming what was wrong."""

import socket

import numpy as np
import pytest

import tessera
from conftest import int8


def test_exception_classes_are_tessera_errors_and_their_python_kinds():
    assert issubclass(tessera.InputError, tessera.Error)
    assert issubclass(tessera.InputError, ValueError)
    assert issubclass(tessera.TransportError, tessera.Error)
    assert issubclass(tessera.TransportError, OSError)
    assert issubclass(tessera.MismatchError, tessera.Error)
    assert issubclass(tessera.EngineError, tessera.Error)
    assert tessera.InputError.__module__ == "tessera"


def test_other_dtypes_are_refused_not_cast(dev, rng):
    b = int8(rng, 4, 3)
    with pytest.raises(tessera.InputError, match="a: expected dtype int8, got float64"):
        dev.gemm(np.ones((2, 4)), b)
    with pytest.raises(tessera.InputError, match="b: expected dtype int8, got uint8"):
        dev.gemm(int8(rng, 2, 4), b.astype(np.uint8))
    with pytest.raises(tessera.InputError, match="a: expected a 2-D numpy array of int8, got list"):
        dev.gemm([[1, 2, 3, 4]], b)
    with pytest.raises(tessera.InputError, match="a: expected dtype int8"):
        tessera.golden.gemm(np.ones((2, 4), np.int32), b)


def test_bad_shapes_are_refused(dev, rng):
    with pytest.raises(tessera.InputError, match=r"a: expected a 2-D array, got shape \[4\]"):
        dev.gemm(int8(rng, 4), int8(rng, 4, 3))
    with pytest.raises(tessera.InputError):
        dev.gemm(int8(rng, 2, 5), int8(rng, 4, 3))  # K 5 against 4


def test_output_stage_arguments_are_checked(dev, rng):
    a, b = int8(rng, 2, 4), int8(rng, 4, 3)
    with pytest.raises(tessera.InputError, match="bias"):
        dev.gemm(a, b, bias=[1, 2])  # N is 3
    with pytest.raises(tessera.InputError, match=r"bias: expected integers, got dtype float32"):
        dev.gemm(a, b, bias=np.zeros(3, np.float32))
    with pytest.raises(tessera.InputError, match=r"bias\[1\]: 4294967296 does not fit int32"):
        dev.gemm(a, b, bias=[0, 2**32, 0])
    with pytest.raises(tessera.InputError, match="rounding"):
        tessera.Requant(1 << 30, 0, rounding="nearest")
    with pytest.raises(tessera.InputError, match=r"multiplier\[0\]: expected an integer, got float"):
        tessera.Requant([0.5], 0)
    with pytest.raises(tessera.InputError, match="clamp: applies to requantized output only"):
        dev.gemm(a, b, clamp=(0, 10))
    with pytest.raises(tessera.InputError, match="requant: expected a tessera.Requant"):
        dev.gemm(a, b, requant=(1 << 30, 0))
    with pytest.raises(tessera.InputError):
        dev.gemm(a, b, requant=tessera.Requant([1 << 30] * 2, 0))  # 2 multipliers for N 3
    # Each was refused before it reached the engine, which still works.
    np.testing.assert_array_equal(dev.gemm(a, b), tessera.golden.gemm(a, b))


def test_unknown_device_spec_is_an_input_error():
    with pytest.raises(tessera.InputError, match="device: expected 'sim'"):
        tessera.Device("bogus")
    with pytest.raises(tessera.InputError, match="faults"):
        tessera.Device("tcp://127.0.0.1:1", faults=["pe:0,0:stuck0"])


def test_unreachable_server_is_a_transport_error():
    with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(tessera.TransportError) as raised:
        tessera.Device(f"tcp://127.0.0.1:{port}")
    assert isinstance(raised.value, OSError)


def test_a_closed_device_refuses_calls(rng):
    dev = tessera.Device("sim")
    dev.close()
    with pytest.raises(tessera.InputError, match="closed"):
        dev.gemm(int8(rng, 2, 2), int8(rng, 2, 2))


def test_an_engine_error_is_named_and_the_next_call_works(rng):
    # A dropped input beat ends a LOAD's packet early: the engine latches STREAM.
    with tessera.Device("sim", faults=["stream-in:7:drop"]) as dev:
        a, b = int8(rng, 24, 20), int8(rng, 20, 10)
        with pytest.raises(tessera.EngineError, match=r"STREAM.*the engine was cleared"):
            dev.gemm(a, b)
        # The fault fired once; the cleared engine runs the same GEMM exactly.
        np.testing.assert_array_equal(dev.gemm(a, b, check=True), tessera.golden.gemm(a, b))
