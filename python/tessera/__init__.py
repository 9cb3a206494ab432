"""Tessera, a systolic int8 matrix engine, from Python (docs/python.md).

    import numpy as np, tessera
    dev = tessera.Device("sim")                  # or "tcp://HOST:PORT", "serial://PATH"
    c = dev.gemm(a, b, check=True)               # int8 [M, K] x int8 [K, N] -> int32 [M, N]
"""

from ._tessera import (
    Device,
    EngineError,
    Error,
    InputError,
    KernelResult,
    MismatchError,
    Requant,
    TransportError,
    Weights,
    run_kernel,
)
from . import golden

__all__ = [
    "Device",
    "EngineError",
    "Error",
    "InputError",
    "KernelResult",
    "MismatchError",
    "Requant",
    "TransportError",
    "Weights",
    "golden",
    "run_kernel",
]
