"""Fused, threaded elementwise steps of the imaging inner loops.

An image is a sum over directions (proximity) or kernels (projection) of
|F⁻¹{S}|², and each term costs one inverse FFT plus elementwise passes over
the field: the squared magnitude added into the image, and for a film's
depth samples the step products ``E_k = E_{k−1} · exp(i2π dz (kz − k))``.
numpy runs each of those as several single-threaded passes with
temporaries: |E|² added into a 960² image took 7.5 ms against 18 ms for
the field's inverse FFT on 2 cores. numexpr evaluates each as one pass over
memory on every core: 2.8 ms (4.3 ms on one thread), and the README
simulate 10% faster (benchmarks/README.md).

Every operation here is elementwise (no reduction), so its result does not
depend on the number of threads or how the arrays are split among them, and
an equal value gives equal bits wherever it sits (mirrored directions and
identical tiles rely on it). The squared magnitude is added in numpy's
order, ``(s + re²) + im²``, bit for bit; the complex product differs from
numpy's in the last bit (≤ 2e-15) (tests/test_fused.py). numexpr has no
complex64: single-precision fields take the numpy route.
"""

from __future__ import annotations

import numexpr
import numpy as np


def add_squared_magnitude(sums: np.ndarray, field: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """``sums += |field|²`` in place (``sums`` float64, ``field`` complex, same shape).

    ``scratch``: an (…, 2) array of the field's real dtype for the numpy
    route of complex64 fields (one is made when not given).
    """
    if field.dtype == np.complex128 and sums.dtype == np.float64:
        numexpr.evaluate("sums + real(field) ** 2 + imag(field) ** 2", out=sums, casting="same_kind")
        return
    # re² and im² in one pass over the interleaved floats, then both added
    v = field.view(field.real.dtype).reshape(*field.shape, 2)
    if scratch is None:
        scratch = np.empty_like(v)
    np.multiply(v, v, out=scratch)
    sums += scratch[..., 0]
    sums += scratch[..., 1]


def multiply(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = a · b`` for complex arrays of one shape (``out`` may be ``a``)."""
    if a.dtype == b.dtype == out.dtype == np.complex128 and a.shape == b.shape == out.shape:
        return numexpr.evaluate("a * b", out=out, casting="same_kind")
    return np.multiply(a, b, out=out)
