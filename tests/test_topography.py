"""Films over pixel-define-layer banks (litho.topography, litho.local_film, litho.pdl_metrics)."""

from __future__ import annotations

import copy
import dataclasses
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from shapely.geometry import box

import litho
from litho import film as film_optics
from litho import materials
from litho.errors import LithoInputError
from litho.grid import Grid
from litho.local_film import fluence_components_local
from litho.recipe import recipe_from_dict
from litho.schema import validate_report
from litho.topography import bank_height_um, coated_thickness_nm, levelled_surface_nm

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "rgb_stripe_pdl.toml"


def one_pixel_raw(**substrate) -> dict:
    """The shipped PDL recipe reduced to its R step on one 25.4 µm pixel (fast)."""
    raw = tomllib.loads(RECIPE.read_text())
    raw["step"] = raw["step"][:1]
    raw["mask"]["window_um"] = [0, 0, 25.4, 25.4]
    raw["substrate"].update(substrate)
    return raw


def build(raw: dict):
    return recipe_from_dict(raw, base_dir=RECIPE.parent, path=RECIPE)


def random_banks(seed: int, shape=(48, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = np.zeros(shape)
    for _ in range(6):
        i, j = rng.integers(0, shape[0] - 8), rng.integers(0, shape[1] - 8)
        b[i:i + rng.integers(2, 8), j:j + rng.integers(2, 8)] = rng.uniform(200, 1500)
    return b


# --------------------------------------------------------------------------- flat substrate

@pytest.fixture(scope="module")
def planar_and_flat():
    raw = one_pixel_raw()
    planar = copy.deepcopy(raw)
    del planar["substrate"]
    flat = one_pixel_raw(bank_height_um=0.0)
    return litho.simulate(build(planar)), litho.simulate(build(flat))


def test_flat_substrate_reproduces_the_planar_result(planar_and_flat):
    planar, flat = planar_and_flat
    p, f = planar.steps[0], flat.steps[0]
    assert f.coating is not None and p.coating is None
    assert np.array_equal(f.coating.thickness_nm, np.full(f.grid.shape, p.step.film.thickness_nm))
    assert np.max(np.abs(f.remaining_thickness - p.remaining_thickness)) <= 1e-12
    assert np.max(np.abs(f.developed.plqy_retention - p.developed.plqy_retention)) <= 1e-12
    assert planar.report["steps"][0]["metrics"] == flat.report["steps"][0]["metrics"]


def test_flat_substrate_report_validates_and_covers_the_opening(planar_and_flat):
    _, flat = planar_and_flat
    validate_report(flat.report)
    block = flat.report["steps"][0]["substrate"]
    assert "substrate" not in planar_and_flat[0].report["steps"][0]
    assert block["bank_tops"]["area_fraction"] == 0.0          # no bank has a top at height 0
    assert block["openings"]["count"] == 1
    assert block["openings"]["covered_fraction_min"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- coating model

@pytest.mark.parametrize("kernel", ["capillary", "gaussian"])
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("planar_nm, solids, levelling_um", [(800.0, 1.0, 2.0), (30.0, 1.0, 5.0),
                                                             (30.0, 0.03, 3.0), (30.0, 0.1, 50.0)])
def test_coating_keeps_the_dispensed_volume(kernel, periodic, planar_nm, solids, levelling_um):
    b = random_banks(1)
    h = coated_thickness_nm(b, planar_nm, levelling_um, 0.25, periodic=periodic, kernel=kernel,
                            solids_fraction=solids)
    assert h.min() >= 0.0
    assert h.mean() == pytest.approx(planar_nm, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), planar_nm=st.floats(5.0, 3000.0), levelling_um=st.floats(0.0, 100.0),
       solids=st.floats(0.01, 1.0), kernel=st.sampled_from(["capillary", "gaussian"]), periodic=st.booleans())
def test_coated_film_is_non_negative_and_keeps_its_volume_for_any_banks(seed, planar_nm, levelling_um, solids,
                                                                       kernel, periodic):
    b = random_banks(seed, shape=(24, 32))
    h = coated_thickness_nm(b, planar_nm, levelling_um, 0.25, periodic=periodic, kernel=kernel,
                            solids_fraction=solids)
    assert h.min() >= 0.0
    assert h.mean() == pytest.approx(planar_nm, rel=1e-10)


def test_thin_film_over_tall_banks_is_clipped_and_keeps_its_volume():
    b = random_banks(2)
    h = coated_thickness_nm(b, 30.0, 20.0, 0.25)
    assert (h == 0).any()                  # the bank tops pierce the levelled surface
    assert h.mean() == pytest.approx(30.0, rel=1e-12)


def test_zero_levelling_length_gives_a_conformal_film():
    b = random_banks(3)
    for solids in (1.0, 0.05):
        h = coated_thickness_nm(b, 30.0, 0.0, 0.25, solids_fraction=solids)
        assert np.array_equal(h, np.full(b.shape, 30.0))


@pytest.mark.parametrize("periodic", [False, True])
def test_long_levelling_length_gives_a_planar_free_surface(periodic):
    b = random_banks(4)
    surface_inf = b + coated_thickness_nm(b, 2000.0, math.inf, 0.25, periodic=periodic)
    assert np.ptp(surface_inf) < 1e-9
    assert surface_inf.mean() == pytest.approx(2000.0 + b.mean(), rel=1e-12)
    # a finite length far beyond the window tends to that limit
    surface = b + coated_thickness_nm(b, 2000.0, 1e4, 0.25, periodic=periodic)
    assert np.max(np.abs(surface - surface_inf)) < 1e-6


def test_levelling_flattens_narrow_features_more_than_wide_ones():
    x = np.arange(400) * 0.25
    b = np.tile(np.where((x // 2.0) % 2 == 0, 1000.0, 0.0), (4, 1))      # 2 µm lines
    wide = np.tile(np.where((x // 25.0) % 2 == 0, 1000.0, 0.0), (4, 1))   # 25 µm lines
    narrow_left = np.ptp(levelled_surface_nm(b, 3.0, 0.25, periodic=True))
    wide_left = np.ptp(levelled_surface_nm(wide, 3.0, 0.25, periodic=True))
    assert narrow_left < 0.01 * 1000.0 < 0.9 * 1000.0 < wide_left


# --------------------------------------------------------------------------- topography

def test_trapezoidal_bank_rises_over_the_sidewall_run():
    grid = Grid((80, 80), 0.25, (0.0, 0.0))
    bank = box(5.0, 5.0, 15.0, 15.0)
    b = bank_height_um(bank, grid, 1.0, 45.0)   # run = 1 µm
    x, y = grid.x_um, grid.y_um
    i = int(np.argmin(np.abs(y - 10.125)))
    for xv, expected in ((4.875, 0.0), (5.125, 0.125), (5.625, 0.625), (6.125, 1.0), (10.125, 1.0)):
        j = int(np.argmin(np.abs(x - xv)))
        assert b[i, j] == pytest.approx(expected, abs=1e-9)
    vertical = bank_height_um(bank, grid, 1.0, 90.0)
    assert vertical.sum() * 0.25 ** 2 == pytest.approx(100.0, rel=1e-12)


def test_periodic_bank_is_the_array_seen_through_one_period():
    from litho.gds import read_mask

    bank = read_mask(ROOT / "masks" / "stripe_1000ppi_2x2_pdl.gds", layer=(30, 0)).geometry
    pitch = 25.4 / 101
    one = bank_height_um(bank, Grid((101, 101), pitch, (1.0, 1.0)), 1.0, 40.0, periodic=True)
    two = bank_height_um(bank, Grid((202, 202), pitch, (1.0, 1.0)), 1.0, 40.0)
    assert np.max(np.abs(one - two[:101, :101])) < 1e-12


# --------------------------------------------------------------------------- local thickness optics

@pytest.mark.parametrize("model", ["beer-lambert", "transfer-matrix"])
def test_local_fluence_is_the_planar_fluence_of_each_columns_thickness(model):
    film = dataclasses.replace(materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 30}),
                               depth_model=model, substrate_reflectance=0.3)
    xl = materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 2})
    z = np.linspace(0.0, 30.0, 5)
    thickness = np.array([[30.0, 12.0], [55.0, 80.0]])
    down, up = fluence_components_local(film, xl, 254.0, z, thickness)
    for idx in np.ndindex(thickness.shape):
        column = dataclasses.replace(film, thickness_nm=float(thickness[idx]))
        d, u = film_optics.fluence_components(column, xl, 254.0, z * thickness[idx] / 30.0)
        assert np.allclose(down[(slice(None),) + idx], d, rtol=0, atol=1e-12)
        assert np.allclose(up[(slice(None),) + idx], u, rtol=0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(thin=st.floats(0.5, 500.0), extra=st.floats(0.01, 500.0), reflectance=st.floats(0.0, 0.9))
def test_a_thinner_column_takes_more_dose_at_every_sampled_fraction_of_its_depth(thin, extra, reflectance):
    """Why residue h/h0 rises on drained bank tops: less film above each sample absorbs less."""
    film = dataclasses.replace(materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 30}),
                               substrate_reflectance=reflectance)
    xl = materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 2})
    z = np.linspace(0.0, 30.0, 5)
    down, up = fluence_components_local(film, xl, 254.0, z, np.array([thin, thin + extra]))
    total = down + up
    assert np.all(total[:, 0] >= total[:, 1])


# --------------------------------------------------------------------------- residue invariant

def test_residue_on_vertical_bank_tops_rises_with_bank_height_at_fixed_dose():
    """A taller bank drains more film off its top (levelling); the thinner film there takes more
    dose per depth (less absorbed above), so the fraction left after development rises, while
    the coated thickness there falls."""
    rows = []
    for height in (0.5, 1.0, 1.5):
        result = litho.simulate(build(one_pixel_raw(bank_height_um=height, sidewall_deg=90.0)))
        tops = result.report["steps"][0]["substrate"]["bank_tops"]
        rows.append((tops["residue_nrt_mean"], tops["coated_thickness_mean_um"]))
    nrt, coated = zip(*rows)
    assert all(a < b for a, b in zip(nrt, nrt[1:]))
    assert all(a > b for a, b in zip(coated, coated[1:]))


@pytest.fixture(scope="module")
def banked():
    return litho.simulate(build(one_pixel_raw()))


def test_a_sweep_over_banks_simulates_the_coated_film(banked, planar_and_flat):
    from litho.sweep import parse_vary, sweep

    rows = sweep(banked.recipe, [parse_vary("exposure.dose=300")])["rows"]
    metrics = banked.report["steps"][0]["metrics"]
    assert rows[0]["iou_mean"] == pytest.approx(metrics["iou_mean"], abs=1e-5)   # the report rounds
    planar = planar_and_flat[0].report["steps"][0]["metrics"]
    assert planar["iou_mean"] != pytest.approx(metrics["iou_mean"], abs=1e-4)


def test_banked_run_reports_bank_tops_edges_and_openings_and_draws_the_cut(banked, planar_and_flat, tmp_path):
    validate_report(banked.report)
    block = banked.report["steps"][0]["substrate"]
    tops, edges = block["bank_tops"], block["pixel_edges"]
    assert block["coated_thickness_mean_um"] == pytest.approx(0.03, rel=1e-5)
    assert tops["area_fraction"] > 0 and tops["coated_thickness_mean_um"] < 0.03 < edges["coated_thickness_mean_um"]
    assert 0 <= tops["residue_thickness_mean_um"] <= tops["coated_thickness_mean_um"]
    assert tops["residue_thickness_max_um"] <= block["coated_thickness_max_um"]   # development only removes film
    assert edges["developed_thickness_min_um"] <= edges["coated_thickness_min_um"]
    assert block["openings"]["count"] == 1 and block["openings"]["covered_fraction_min"] == pytest.approx(1.0)
    from litho.report import _save_substrate_figure       # what Result.save adds for a banked recipe
    from litho.topography_plot import pdl_cross_section_figure

    fig = pdl_cross_section_figure(banked)
    assert len(fig.axes) == 2 and "PDL" in fig._suptitle.get_text()
    _save_substrate_figure(banked, tmp_path, None)
    assert (tmp_path / "pdl_cross_section.png").stat().st_size > 10_000
    with pytest.raises(LithoInputError, match="no \\[substrate\\]"):
        pdl_cross_section_figure(planar_and_flat[0])


# --------------------------------------------------------------------------- bad inputs

@pytest.mark.parametrize("change, words", [
    ({"sidewall_deg": 0}, "sidewall"),
    ({"sidewall_deg": 95}, "sidewall"),
    ({"bank_height_um": -1}, "bank_height_um"),
    ({"bank_height_um": "1 furlong"}, "bank_height"),
    ({"levelling_length_um": float("nan")}, "levelling_length_um"),
    ({"levelling_kernel": "box"}, "capillary"),
    ({"solids_fraction": 0}, "solids_fraction"),
    ({"bank_layer": "thirty"}, "bank_layer"),
    ({"bank_layer": [30]}, "bank_layer"),
    ({"bank_heigth_um": 1.0}, "did you mean"),
    ({"file": "no_such.gds"}, "not found"),
])
def test_bad_substrate_fields_are_one_line(change, words):
    with pytest.raises(LithoInputError) as err:
        build(one_pixel_raw(**change))
    message = str(err.value)
    assert "\n" not in message and words in message and "substrate" in message


def test_missing_bank_layer_and_absent_layer_are_one_line():
    raw = one_pixel_raw()
    del raw["substrate"]["bank_layer"]
    with pytest.raises(LithoInputError, match="bank_layer: missing"):
        build(raw)
    recipe = build(one_pixel_raw(bank_layer="31/0"))
    with pytest.raises(LithoInputError) as err:
        litho.simulate(recipe)
    assert "31/0" in str(err.value) and "30/0" in str(err.value) and "\n" not in str(err.value)


def test_cli_refuses_a_bad_substrate_with_exit_2(tmp_path, capsys):
    from litho.cli import main

    text = RECIPE.read_text().replace("sidewall_deg = 40", "sidewall_deg = 120")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('"../masks/', f'"{ROOT}/masks/'))
    code = main(["simulate", str(bad), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "substrate.sidewall_deg" in err
    assert not (tmp_path / "out").exists()
