"""Shared fixtures of the Python binding tests (docs/python.md)."""

import os
import pathlib

import numpy as np
import pytest

import tessera

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev():
    """One in-process engine per test module (the model takes a moment to build)."""
    with tessera.Device("sim") as device:
        yield device


@pytest.fixture
def rng(request):
    """A generator seeded by the test's name: the same data alone or in the suite."""
    seed = sum(request.node.name.encode())
    print(f"seed {seed} ({request.node.nodeid})")
    return np.random.default_rng(seed)


def int8(rng, *shape):
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


@pytest.fixture
def sim_server_path():
    """tessera-sim, from TESSERA_SIM (ctest sets it) or build/bin; skips without one."""
    path = pathlib.Path(os.environ.get("TESSERA_SIM", ROOT / "build" / "bin" / "tessera-sim"))
    if not path.is_file():
        pytest.skip(f"no tessera-sim at {path} (make build, or set TESSERA_SIM)")
    return path
