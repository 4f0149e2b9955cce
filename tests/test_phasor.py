"""The unit phasor exp(iφ) by table and series, and the proximity transfer function built on it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litho.optics import ProximityOptics
from litho.optics.phasor import CHUNK, SMALL, TABLE_SIZE, unit_phasor


@settings(max_examples=60, deadline=None)
@given(scale=st.floats(1e-6, 3e3), size=st.sampled_from([1, 7, SMALL - 1, SMALL, CHUNK + 5, 3 * CHUNK]),
       seed=st.integers(0, 2**31))
def test_unit_phasor_equals_the_complex_exponential_to_the_rounding_of_the_phase(scale, size, seed):
    phase = np.random.default_rng(seed).uniform(-scale, scale, size)
    # phases on the table's own nodes and half-way between them (the series' widest remainder)
    phase[:4] = [0.0, math.pi, 2 * math.pi / TABLE_SIZE * 0.5, -2 * math.pi / TABLE_SIZE * 3.5][:min(4, size)]
    got = unit_phasor(phase)
    assert got.shape == phase.shape and got.dtype == np.complex128
    assert np.all(np.abs(got - np.exp(1j * phase)) <= np.abs(phase) * 1e-15 + 1e-15)


def test_unit_phasor_writes_into_out_and_keeps_the_shape():
    phase = np.linspace(-40.0, 40.0, 2 * CHUNK).reshape(64, -1)
    out = np.empty(phase.shape, dtype=np.complex128)
    assert unit_phasor(phase, out) is out
    assert np.max(np.abs(out - np.exp(1j * phase))) <= 1e-13


def _complex_transfer(optics, fy, fx, wavelength_nm):
    """H = exp(i Σ 2π L (kz − k)) with the complex square root (+i√ beyond k): the plain formula."""
    lam_um = wavelength_nm * 1e-3
    rho2 = fy[:, None] ** 2 + fx[None, :] ** 2
    arg = np.zeros(rho2.shape, dtype=np.complex128)
    for length, index in ((optics.propagation_gap_um, optics.gap_index), (optics.film_depth_um, optics.film_index)):
        if length:
            k = index / lam_um
            arg += 2 * math.pi * length * (np.sqrt((k * k - rho2).astype(np.complex128)) - k)
    return np.exp(1j * arg)


@pytest.mark.parametrize("n, span, depth_um", [(256, 0.9, 0.0), (256, 1.6, 0.03), (40, 1.6, 0.06), (300, 3.0, 0.0)])
def test_transfer_equals_the_complex_formula_where_waves_propagate_and_where_they_decay(n, span, depth_um):
    """Small grids take the complex formula, large ones the phasor and a separate decay; both equal
    it to 1e-14, with every component propagating (span 0.9 of k), part evanescent, and most."""
    optics = ProximityOptics(wavelength_nm=365, gap_um=3.0, collimation_half_angle_deg=1.5,
                             film_index=1.8, film_depth_um=depth_um)
    f = np.fft.fftfreq(n, 1.0 / (2 * span / 0.365))
    fy, fx = f + 0.013, f - 0.021
    assert np.max(np.abs(optics.transfer(fy, fx, 365.0) - _complex_transfer(optics, fy, fx, 365.0))) <= 1e-14
