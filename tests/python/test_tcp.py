"""A Device over TCP: the same GEMM through a tessera-sim server."""

import subprocess

import numpy as np
import pytest

import tessera
from conftest import int8


@pytest.fixture
def server(sim_server_path):
    process = subprocess.Popen([str(sim_server_path), "--listen", "127.0.0.1:0"],
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # "listening on HOST:PORT"
        assert line.startswith("listening on "), line
        yield "tcp://" + line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_gemm_over_tcp_matches_golden(server, rng):
    a, b = int8(rng, 21, 37), int8(rng, 37, 18)
    requant = tessera.Requant(1 << 30, -6, rounding="single")
    with tessera.Device(server) as dev:
        assert dev.info()["rows"] == 16
        np.testing.assert_array_equal(dev.gemm(a, b, check=True), tessera.golden.gemm(a, b))
        weights = dev.upload_weights(b, requant=requant)
        np.testing.assert_array_equal(dev.gemm(a, weights),
                                      tessera.golden.gemm(a, b, requant=requant))
