"""Solubility switches (litho.mechanisms.switches): one-hit photolysis, coverage, insolubility, recipes."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from litho import materials, mechanisms
from litho.chemistry import crosslink, molecules_per_qd, parse_atmosphere
from litho.cli import main
from litho.development import _crossing, develop
from litho.mechanisms.switches import insoluble_probability, ligand_coverage
from conftest import RECIPES

SWITCHES = [n for n in materials.names("crosslinker")
            if getattr(mechanisms.get(materials.resolve("crosslinker", {"material": n}).mechanism),
                       "solubility_switch", False)]
SWITCH_RECIPES = ["ttt_cdse_254nm.toml", "tpstf_inp_254nm.toml", "nhntf_inp_365nm_air.toml"]
DOSES = np.geomspace(0.1, 1e6, 200)


def _xl(name, **over):
    return materials.resolve("crosslinker", {"material": name, **over})


def _film(name="InP/ZnSe/ZnS", **over):
    return materials.resolve("film", {"material": name, "thickness_nm": 30, **over})


def _wavelength(xl, film):
    return next(w for w in xl.wavelengths_nm if any(abs(w - f) <= 10 for f in film.wavelengths_nm))


def test_the_three_switches_are_registered_and_each_has_a_library_entry():
    kinds = {_xl(n).mechanism for n in SWITCHES}
    assert kinds == {"ligand-decomposition", "ligand-desorption", "ligand-binding"}
    k = mechanisms.library_constants()
    for kind in kinds:
        for constant in ("quantum_yield", "removal_yield", "coverage_threshold"):
            assert k.source(f"{kind}.{constant}").strip()


def test_decomposition_follows_the_analytic_one_hit_curve():
    film, xl = _film("CdSe/ZnS"), _xl("TTT", loading_mol_pct=100)
    k = mechanisms.library_constants()
    dose = np.geomspace(1.0, 1e4, 50)
    state = crosslink([(254.0, dose)], film, xl, parse_atmosphere("N2"))
    theta = mechanisms.get("ligand-decomposition").coverage(state.bonded_fraction, xl, film)
    c = 1.925e-8 * 8.0e3 * k["ligand-decomposition.quantum_yield"] * 254.0   # Dill C of TTT's library ε
    expected = 1.0 - k["ligand-decomposition.removal_yield"] * (1.0 - np.exp(-c * dose))
    np.testing.assert_allclose(theta, expected, rtol=1e-12)


def test_a_partly_exchanged_film_loses_only_its_photoactive_share():
    film = _film("CdSe/ZnS")
    theta = mechanisms.get("ligand-decomposition").coverage(np.ones(1), _xl("TTT", loading_mol_pct=30), film)
    assert theta[0] == pytest.approx(0.7)


def test_a_free_additive_hits_random_sites_poisson():
    film, xl = _film(), _xl("TPS-Tf", loading_wt_pct=60)
    q = np.array([0.0, 0.2, 0.8])
    per_site = molecules_per_qd(xl, film) / film.ligands_per_qd
    theta = mechanisms.get("ligand-desorption").coverage(q, xl, film)
    np.testing.assert_allclose(theta, np.exp(-per_site * q))
    np.testing.assert_allclose(ligand_coverage(q, 0.5, tethered=True), 1.0 - 0.5 * q)


def test_insoluble_probability_is_the_log_normal_tail_of_the_ligand_loss():
    rng = np.random.default_rng(3)
    sigma, theta_c = 0.7, 0.5
    x = np.exp(rng.normal(-sigma ** 2 / 2, sigma, 400_000))
    for m in (0.2, 0.69, 1.5, 4.0):
        mc = np.mean(m * x >= -math.log(theta_c))
        assert insoluble_probability(np.array([m]), theta_c, sigma)[0] == pytest.approx(mc, abs=3e-3)
    sharp = insoluble_probability(np.array([0.6, 0.7]), theta_c, 0.0)
    assert sharp.tolist() == [0.0, 1.0]          # step at θ = θ_c, m_c = ln 2 = 0.693


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(SWITCHES), film_name=st.sampled_from(materials.names("film")),
       loading=st.floats(5, 100), thickness=st.floats(10, 120), atmosphere=st.sampled_from(["air", "N2"]))
def test_insolubility_rises_with_dose(name, film_name, loading, thickness, atmosphere):
    probe = _xl(name)
    xl = _xl(name, **{"loading_mol_pct" if probe.tethered else "loading_wt_pct": loading})
    film = _film(film_name, thickness_nm=thickness)
    dev = materials.resolve("developer", {"material": "toluene"})
    out = develop([(_wavelength(xl, film), DOSES)], film, xl, dev, atmosphere)
    for series in (out.gel_fraction_bottom, out.remaining_thickness):
        assert np.all(np.diff(series) >= -1e-12)
        assert np.all((series >= 0) & (series <= 1))
    assert out.remaining_thickness[0] < 0.01      # unexposed: the developer washes it away


@pytest.mark.parametrize("name", SWITCHES)
def test_a_thicker_film_needs_more_dose_to_make_its_bottom_insoluble(name):
    xl, dev = _xl(name), materials.resolve("developer", {"material": "toluene"})
    doses = []
    for thickness in (20.0, 60.0):
        film = _film("CdSe/ZnS", thickness_nm=thickness)
        g = develop([(_wavelength(xl, film), DOSES)], film, xl, dev, "N2").gel_fraction_bottom
        doses.append(_crossing(DOSES, g, 0.5))
    assert math.isfinite(doses[0]) and doses[1] > doses[0]


@pytest.mark.parametrize("name", SWITCHES)
def test_oxygen_does_not_touch_a_switch(name):
    xl, film = _xl(name), _film()
    dev = materials.resolve("developer", {"material": "toluene"})
    w = _wavelength(xl, film)
    air, n2 = (develop([(w, DOSES)], film, xl, dev, atm).remaining_thickness for atm in ("air", "N2"))
    np.testing.assert_allclose(air, n2, atol=1e-12)


@pytest.mark.parametrize("recipe", SWITCH_RECIPES)
def test_each_switch_recipe_runs_through_simulate_and_contrast(recipe, tmp_path, capsys):
    path = RECIPES / recipe
    assert main(["simulate", str(path), "-o", str(tmp_path / "s"),
                 "--no-convergence-check"]) == 0
    metrics = json.loads((tmp_path / "s" / "report.json").read_text())["steps"][0]["metrics"]
    assert metrics["missing_pixels"] == 0 and metrics["bridges"] == 0 and metrics["iou_mean"] > 0.9
    assert main(["contrast", str(path), "-o", str(tmp_path / "c")]) == 0
    summary = json.loads((tmp_path / "c" / "contrast.json").read_text())
    assert summary["d0_mj_cm2"] < summary["d50_mj_cm2"] < summary["d100_mj_cm2"]
    # the shipped dose is near full retention (its header says so)
    assert summary["nrt_at_recipe_dose"] > 0.75
    assert 0.5 < summary["recipe_dose_mj_cm2"] / summary["d100_mj_cm2"] < 2.0


@pytest.mark.parametrize("edit, message", [
    ({'wavelength = "254 nm"': 'wavelength = "365 nm"'}, "TTT has no absorption data at 365 nm; it has 254, 275 nm"),
    ({'loading_mol_pct = 100': 'loading_mol_pct = 150'}, "loading_mol_pct = 150 is outside [0, 100]"),
])
def test_switch_recipe_mistakes_are_one_line(tmp_path, write_recipe, capsys, edit, message):
    path = write_recipe((RECIPES / "ttt_cdse_254nm.toml").read_text().replace(
        "../masks/", str(RECIPES.parent / "masks") + "/"), **edit)
    assert main(["contrast", str(path), "-o", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
