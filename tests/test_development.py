"""Development: gelation choices, residue, swelling and undercut lift-off, speed, stochastic option."""


import numpy as np
import pytest

from litho import materials
from litho.development import contrast_curve, develop
from litho.errors import LithoInputError


def mats(film="CdSe/ZnS", xl="EBT", dev="toluene", film_over=None, xl_over=None, dev_over=None):
    f = materials.resolve("film", {"material": film, "thickness_nm": 30, **(film_over or {})})
    x = materials.resolve("crosslinker", {"material": xl, "loading_wt_pct": 5, **(xl_over or {})})
    d = materials.resolve("developer", {"material": dev, **(dev_over or {})})
    return f, x, d


def test_develop_returns_the_contracted_fields():
    f, x, d = mats()
    dose = np.array([[0.0, 3.0], [10.0, 100.0]])
    out = develop([(254.0, dose)], f, x, d, "N2")
    for name in ("remaining_thickness", "gel_fraction_bottom", "crosslinks_per_qd_bottom", "plqy_retention"):
        assert getattr(out, name).shape == dose.shape
    assert out.depth_nm[0] == 0 and out.depth_nm[-1] == 30
    assert out.retained_fraction_depth.shape == (out.depth_nm.size, 2, 2)
    assert out.remaining_thickness[0, 0] < 1e-3 and out.remaining_thickness[1, 1] > 0.95
    assert out.parameters["atmosphere"].startswith("N2") and out.parameters["seed"] is None


def test_develop_a_1000_by_1000_field_is_pointwise():
    # development is pointwise in the local dose: a large field equals its pieces developed alone
    # (its speed is measured by benchmarks/bench_simulate.py, not here)
    f, x, d = mats()
    rng = np.random.default_rng(0)
    dose = rng.uniform(0, 10, (1000, 1000))
    out = develop([(254.0, dose)], f, x, d, "N2")
    assert out.remaining_thickness.shape == (1000, 1000)
    piece = develop([(254.0, dose[500:504, 10:14])], f, x, d, "N2")
    assert np.allclose(piece.remaining_thickness, out.remaining_thickness[500:504, 10:14], rtol=0, atol=1e-12)


def test_short_development_leaves_residue():
    f, x, d = mats(dev_over={"time_s": 1.0})
    out = develop([(254.0, np.zeros(1))], f, x, d, "N2")
    assert out.remaining_thickness[0] == pytest.approx(np.exp(-1.0 / d.dissolution_time_s))
    f, x, d = mats()
    assert develop([(254.0, np.zeros(1))], f, x, d, "N2").remaining_thickness[0] < 1e-6


def test_column_with_an_ungelled_bottom_lifts_off():
    # strongly absorbing thick film: the top gels, the bottom does not -> nothing stays
    f, x, d = mats(film_over={"thickness_nm": 200, "crosslink_dispersion": 0.0})
    out = develop([(254.0, np.array([6.0]))], f, x, d, "N2")
    assert out.retained_fraction_depth[0, 0] > 0.5
    assert out.gel_fraction_bottom[0] < 0.05
    assert out.remaining_thickness[0] < 0.01


def test_a_stronger_swelling_developer_strips_loose_gel():
    doses = np.geomspace(1, 20, 50)
    f, x, mild = mats(dev_over={"swelling_gel_threshold": 0.1})
    _, _, harsh = mats(dev_over={"swelling_gel_threshold": 0.6})
    nrt_mild = develop([(254.0, doses)], f, x, mild, "N2").remaining_thickness
    nrt_harsh = develop([(254.0, doses)], f, x, harsh, "N2").remaining_thickness
    assert np.all(nrt_harsh <= nrt_mild + 1e-12) and np.any(nrt_harsh < nrt_mild - 0.05)


@pytest.mark.parametrize("gelation", ["flory", "lattice", "charlesby-pinner"])
def test_gelation_models_give_rising_contrast_curves(gelation):
    f, x, d = mats(dev_over={"gelation": gelation, "cp_gel_dose_mj_cm2": 1.0})
    curve = contrast_curve(f, x, d, "N2", 254)
    assert np.all(np.diff(curve.nrt) >= -1e-12)
    assert curve.d0 < curve.d50 < curve.d100
    assert curve.gamma > 0 and curve.gamma_iupac > 0


def test_broadband_exposure_sums_the_lines():
    f, x, d = mats(xl="Ir-azide")
    mono = contrast_curve(f, x, d, "N2", 405, np.geomspace(1, 1e4, 80))
    broad = contrast_curve(f, x, d, "N2", [(365.0, 0.5), (405.0, 0.5)], np.geomspace(1, 1e4, 80))
    assert np.isfinite(broad.d50) and broad.d50 != pytest.approx(mono.d50)


def test_stochastic_option_is_seeded_and_roughens_the_edge():
    f, x, d = mats()
    ramp = np.tile(np.linspace(0, 8, 64), (64, 1))           # dose ramp across an edge
    exact = develop([(254.0, ramp)], f, x, d, "N2")
    a = develop([(254.0, ramp)], f, x, d, "N2", stochastic=True, seed=7, pixel_um=0.05)
    b = develop([(254.0, ramp)], f, x, d, "N2", stochastic=True, seed=7, pixel_um=0.05)
    c = develop([(254.0, ramp)], f, x, d, "N2", stochastic=True, seed=8, pixel_um=0.05)
    assert np.array_equal(a.remaining_thickness, b.remaining_thickness)
    assert not np.array_equal(a.remaining_thickness, c.remaining_thickness)
    assert a.parameters["seed"] == 7 and a.parameters["stochastic"]
    # deterministic rows are identical; stochastic rows scatter where the edge is
    assert np.ptp(exact.remaining_thickness, axis=0).max() == 0
    assert np.ptp(a.remaining_thickness, axis=0).max() > 0.01
    # and the mean follows the deterministic curve
    assert np.abs(a.remaining_thickness.mean(axis=0) - exact.remaining_thickness[0]).max() < 0.15


@pytest.mark.parametrize("bad", [np.array([-1.0]), np.array([np.nan])])
def test_bad_doses_are_rejected(bad):
    f, x, d = mats()
    with pytest.raises(LithoInputError, match="negative or non-finite"):
        develop([(254.0, bad)], f, x, d, "N2")


def test_wavelength_without_data_is_rejected():
    f, x, d = mats()
    with pytest.raises(LithoInputError, match="it has 254, 275 nm"):
        develop([(365.0, np.ones(2))], f, x, d, "N2")


def test_contrast_curve_rejects_unsorted_doses():
    f, x, d = mats()
    with pytest.raises(LithoInputError, match="increasing"):
        contrast_curve(f, x, d, "N2", 254, [3.0, 1.0])


@pytest.mark.parametrize("film_over, dev_over", [
    ({}, {}),                                           # the shipped dispersion
    ({"crosslink_dispersion": 0.0}, {}),                # exact local model: a kink at the gel point
    ({"crosslink_dispersion": 0.0}, {"gelation": "lattice"}),
    ({"crosslink_dispersion": 0.3}, {"gelation": "lattice", "time_s": 1.0}),
])
def test_tabulated_development_matches_the_direct_evaluation_within_1e5(film_over, dev_over):
    """The response table in the activation exponent against photochemistry and gelation done per voxel."""
    f, x, d = mats(film_over=film_over, dev_over=dev_over)
    rng = np.random.default_rng(3)
    # every regime: nothing, the gel point, the steep edge, saturation; depth profiles from the film
    dose = np.concatenate([[0.0, 1e-12], np.geomspace(1e-4, 1e4, 5998), rng.uniform(0.0, 20.0, 4000)])
    exposures = [(254.0, dose.reshape(100, 100))]
    direct = develop(exposures, f, x, d, "N2", tabulated=False)
    table = develop(exposures, f, x, d, "N2")
    assert np.abs(table.remaining_thickness - direct.remaining_thickness).max() < 1e-5
    assert np.abs(table.retained_fraction_depth - direct.retained_fraction_depth).max() < 1e-5
    assert np.abs(table.gel_fraction_bottom - direct.gel_fraction_bottom).max() < 1e-5
    assert np.abs(table.plqy_retention - direct.plqy_retention).max() < 1e-5
    np.testing.assert_allclose(table.crosslinks_per_qd_bottom, direct.crosslinks_per_qd_bottom, rtol=1e-4,
                               atol=1e-9)


def test_tabulated_development_of_two_lines_and_a_reflecting_substrate():
    """x = Σ C_λ E_λ per voxel is what the table is in, whatever the line mix and depth profile."""
    f, x, d = mats(film_over={"substrate_reflectance": 0.3})
    rng = np.random.default_rng(4)
    a, b = rng.uniform(0, 8, (50, 60)), rng.uniform(0, 8, (50, 60))
    exposures = [(254.0, a), (275.0, b)]
    direct = develop(exposures, f, x, d, "N2", tabulated=False)
    table = develop(exposures, f, x, d, "N2")
    assert np.abs(table.remaining_thickness - direct.remaining_thickness).max() < 1e-5


@pytest.mark.parametrize("name", ["Tris-TAD", "IP-6-LiXer", "PETMP"])
def test_tabulated_development_of_multi_arm_crosslinkers_equals_the_direct_one(name):
    # regression: the table used the branching factor instead of the exact hypergraph degree
    from litho import materials

    film = materials.resolve("film", {"material": "CsPbBr3" if name == "PETMP" else "InP/ZnSe/ZnS"})
    xl = materials.resolve("crosslinker", {"material": name})
    dev = materials.resolve("developer", {"material": "toluene"})
    wavelength = {"Tris-TAD": 365.0, "IP-6-LiXer": 254.0, "PETMP": 275.0}[name]
    doses = np.geomspace(0.1, 3000, 400)
    fast = develop([(wavelength, doses)], film, xl, dev, "N2").remaining_thickness
    slow = develop([(wavelength, doses)], film, xl, dev, "N2", tabulated=False).remaining_thickness
    assert np.max(np.abs(fast - slow)) < 1e-5
