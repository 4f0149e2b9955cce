"""Known answers of PHYSICS.md §3–5: Dill C, B_n(q), Flory gel point, energy conservation in the film."""

import math

import numpy as np
import pytest
from scipy.special import lambertw

from litho import film as film_optics
from litho import materials
from litho.chemistry import activation_constant_cm2_mj, links_per_molecule, PHOTONS_PER_MJ_CM2_PER_NM
from litho.development import flory_gel_fraction, lattice_gel_fraction, charlesby_pinner_gel_fraction


def test_dill_c_of_a_dnq_like_group():
    # PHYSICS.md §4: ε = 6000, Φ = 0.3 at 365 nm gives C ≈ 0.013 cm²/mJ
    assert activation_constant_cm2_mj(6000, 0.3, 365) == pytest.approx(0.013, abs=0.0005)


def test_dill_c_from_first_principles():
    # σ = ln10·ε/N_A per molecule (cm²), photons per mJ/cm² = λ·5.034e12
    eps, phi, lam = 2.0e4, 0.5, 254.0
    sigma_cm2 = math.log(10) * eps * 1e3 / 6.02214076e23
    assert activation_constant_cm2_mj(eps, phi, lam) == pytest.approx(sigma_cm2 * phi * lam * PHOTONS_PER_MJ_CM2_PER_NM,
                                                                       rel=1e-3)


@pytest.mark.parametrize("q", [0.0, 1e-6, 0.1, 0.5, 0.9, 1.0])
def test_links_per_molecule_closed_forms(q):
    assert links_per_molecule(q, 2) == pytest.approx(q ** 2, abs=1e-15)
    assert links_per_molecule(q, 3) == pytest.approx(3 * q ** 2 - q ** 3, abs=1e-15)
    assert links_per_molecule(q, 1) == 0.0


@pytest.mark.parametrize("n", [2, 3, 4, 6, 12])
def test_links_per_molecule_is_the_binomial_mean_of_k_minus_one(n):
    from scipy.stats import binom
    for q in (0.05, 0.3, 0.8):
        k = np.arange(n + 1)
        expected = np.sum(binom.pmf(k, n, q) * np.maximum(k - 1, 0))
        assert links_per_molecule(q, n) == pytest.approx(expected, rel=1e-10)


def test_flory_gel_point_is_c_equal_one():
    c = np.array([0.0, 0.5, 0.999, 1.0, 1.001, 1.01])
    g = flory_gel_fraction(c)
    assert np.all(g[:4] == 0.0)
    assert 0 < g[4] < g[5] < 0.05
    # near the gel point g ≈ 2(c − 1)
    assert g[4] == pytest.approx(2 * 0.001, rel=0.01)


def test_flory_matches_lambert_w_and_solves_its_equation():
    c = np.linspace(1.0001, 30, 2000)
    g = flory_gel_fraction(c)
    exact = 1.0 + lambertw(-c * np.exp(-c)).real / c
    assert np.max(np.abs(g - exact)) < 1e-10
    assert np.max(np.abs(g - (1.0 - np.exp(-c * g)))) < 1e-12


def test_lattice_gel_point_is_one_over_z_minus_one():
    z = 6.0
    p_c = 1.0 / (z - 1.0)
    c_gel = -z * math.log1p(-p_c)
    g = lattice_gel_fraction(np.array([0.99 * c_gel, 1.05 * c_gel, 10.0]), z)
    assert g[0] == 0.0 and 0 < g[1] < 0.3 and g[2] > 0.9


def test_charlesby_pinner_starts_at_the_gel_dose():
    g = charlesby_pinner_gel_fraction(np.array([0.5, 1.0, 1.5, 1e6]), 1.0, 0.2)
    assert g[0] == 0.0 and g[1] == 0.0 and 0 < g[2] < g[3]
    # E → ∞: s + √s = p0/q0
    s = 1 - g[3]
    assert s + math.sqrt(s) == pytest.approx(0.2, rel=1e-4)


@pytest.mark.parametrize("model", ["beer-lambert", "transfer-matrix"])
@pytest.mark.parametrize("wavelength", [254, 365])
def test_absorbed_transmitted_reflected_add_up_to_incident(model, wavelength):
    f = materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 35, "depth_model": model,
                                   "substrate_reflectance": 0.3, "underlayers": [[1.9, 0.0, 100.0]]})
    xl = materials.resolve("crosslinker", {"material": "EBT" if wavelength == 254 else "PFB", "loading_wt_pct": 5})
    balance = film_optics.energy_balance(f, xl, wavelength)
    total = balance["absorbed"] + balance["transmitted"] + balance["reflected"]
    assert total == pytest.approx(1.0, abs=1e-9)
    # and the absorbed part is the integral of α·(local fluence) through the depth
    z = np.linspace(0.0, f.thickness_nm, 4001)
    alpha = film_optics.absorption_coefficient_per_nm(f, xl, wavelength)
    integral = np.trapezoid(alpha * film_optics.relative_fluence(f, xl, wavelength, z), z)
    assert integral == pytest.approx(balance["absorbed"], rel=1e-6)
    if model == "transfer-matrix":
        # lossless underlayer: what leaves the film bottom enters the substrate
        assert balance["transmitted_substrate"] == pytest.approx(balance["transmitted"], abs=1e-8)


def test_transfer_matrix_reduces_to_fresnel_for_a_matched_transparent_film():
    # n_film = n_substrate and no absorption: R = ((n−1)/(n+1))², fluence n|E|² = T constant
    f = materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 100, "depth_model": "transfer-matrix",
                                   "refractive_index": 1.5, "substrate_index": [1.5, 0.0]})
    z = np.linspace(0, 100, 11)
    profile, reflectance, transmittance = film_optics.transfer_matrix(f, 0.0, 500.0, z)
    assert reflectance == pytest.approx(0.04, abs=1e-12)
    assert transmittance == pytest.approx(0.96, abs=1e-12)
    assert np.allclose(profile, 0.96, atol=1e-12)
