"""The golden reference: the engine's integer semantics, bit-exact (docs/isa.md).

``gemm(a, b, bias=None, requant=None, clamp=None)`` takes Device.gemm's arguments and
returns what a correct engine returns.
"""

from ._tessera import golden as _golden

gemm = _golden.gemm

__all__ = ["gemm"]
