import numpy as np
import pytest

import litho
from litho import process
from litho.errors import LithoInputError
from conftest import MASKS


def _recipe(window_um, mode, pixel_um=0.127, tool="proximity", overlay=(0.0, 0.0)):
    return litho.recipe_from_dict({
        "name": "process test",
        "film": {"material": "CdSe/ZnS", "thickness": "30 nm"},
        "crosslinker": {"material": "EBT", "loading_wt_pct": 2},
        "exposure": {"tool": tool, "wavelength": "254 nm", "dose": "20 mJ/cm^2", "gap": "2 um",
                     "collimation_half_angle_deg": 1.5, "atmosphere": "N2", "overlay_um": list(overlay)},
        "developer": {"material": "toluene", "time": "30 s"},
        "mask": {"file": str(MASKS / "stripe_1000ppi.gds"), "layer": "R", "window_um": list(window_um)},
        "simulation": {"pixel_um": pixel_um, "window": mode},
    })


def test_periodic_unit_cell_equals_the_middle_of_a_larger_array():
    pitch = 25.4
    cell = (3 * pitch, 3 * pitch, 4 * pitch, 4 * pitch)
    periodic = litho.simulate(_recipe(cell, "periodic")).steps[0]
    whole = litho.simulate(_recipe((pitch, pitch, 6 * pitch, 6 * pitch), "isolated")).steps[0]
    # the periodic grid's samples are samples of the large grid
    j0 = (periodic.grid.origin_um[0] - whole.grid.origin_um[0]) / whole.grid.pixel_um
    i0 = (periodic.grid.origin_um[1] - whole.grid.origin_um[1]) / whole.grid.pixel_um
    assert j0 == pytest.approx(round(j0), abs=1e-6) and i0 == pytest.approx(round(i0), abs=1e-6)
    ny, nx = periodic.grid.shape
    region = np.s_[round(i0):round(i0) + ny, round(j0):round(j0) + nx]
    np.testing.assert_allclose(periodic.intensity, whole.intensity[region], atol=2e-3)
    np.testing.assert_allclose(periodic.remaining_thickness, whole.remaining_thickness[region], atol=5e-3)


def test_periodic_window_needs_a_window_and_a_dividing_pitch():
    with pytest.raises(LithoInputError, match="does not divide"):
        litho.simulate(_recipe((0, 0, 25.4, 25.4), "periodic", pixel_um=0.15))
    recipe = litho.recipe_from_dict({**_recipe((0, 0, 25.4, 25.4), "periodic").raw,
                                     "mask": {"file": str(MASKS / "stripe_1000ppi.gds"), "layer": "R"}})
    with pytest.raises(LithoInputError, match="window_um"):
        litho.simulate(recipe)


def test_overlay_moves_design_and_print_together():
    window = (0, 0, 25.4, 25.4)
    base = litho.simulate(_recipe(window, "isolated", pixel_um=0.1)).steps[0]
    moved = litho.simulate(_recipe(window, "isolated", pixel_um=0.1, overlay=(0.5, -0.3))).steps[0]
    b, m = base.metrology.pixels[0], moved.metrology.pixels[0]
    assert m.design_centroid_um[0] - b.design_centroid_um[0] == pytest.approx(0.5)
    assert m.design_centroid_um[1] - b.design_centroid_um[1] == pytest.approx(-0.3)
    assert m.centroid_shift_um == pytest.approx(b.centroid_shift_um, abs=0.02)
    assert m.iou == pytest.approx(b.iou, abs=0.01)


def test_results_are_deterministic():
    recipe = _recipe((0, 0, 25.4, 25.4), "isolated")
    a = litho.simulate(recipe)
    b = litho.simulate(recipe)
    np.testing.assert_array_equal(a.steps[0].remaining_thickness, b.steps[0].remaining_thickness)
    assert a.report["steps"] == b.report["steps"]


def test_a_grid_too_big_for_memory_is_refused_with_a_remedy(monkeypatch):
    monkeypatch.setattr(process, "_available_memory_bytes", lambda: 10 ** 8)
    with pytest.raises(LithoInputError, match=r"GB.*--pixel-um"):
        litho.simulate(_recipe((0, 0, 203.2, 203.2), "isolated", pixel_um=0.05))


@pytest.mark.parametrize("width_um, expected", [(6.466, 0.25), (1.822, 0.05), (46.8, 0.5), (0.5, 0.02)])
def test_automatic_pitch_resolves_the_smallest_feature(width_um, expected):
    from shapely.geometry import box

    assert process.choose_pixel_um([box(0, 0, width_um, 3 * width_um)]) == pytest.approx(expected)


def test_automatic_pitch_is_fine_enough_for_the_optics():
    from shapely.geometry import box

    optics = litho.ProximityOptics(wavelength_nm=254, gap_um=2, collimation_half_angle_deg=1.5)
    pitch = process.choose_pixel_um([box(0, 0, 20, 60)], [optics])
    assert pitch <= optics.max_pixel_um
    optics.check_pixel(pitch)


def test_projection_recipe_prints_its_3000_ppi_pixels():
    from conftest import RECIPES

    result = litho.simulate(RECIPES / "projection_stripe_3000ppi_365nm.toml")
    step = result.report["steps"][0]
    assert step["exposure"]["tool"] == "projection"
    m = step["metrics"]
    assert m["missing_pixels"] == 0 and m["bridges"] == 0
    assert m["iou_min"] > 0.9
    assert abs(m["cd_x_error_mean_um"]) < 0.15
    # a 1.8 um line at NA 0.3 is imaged with a usable slope
    assert step["aerial_image"]["edges"]["nils_mean"] > 1.5


def _two_step(dose_r, developer_g):
    return litho.recipe_from_dict({
        "name": "two steps",
        "film": {"material": "InP/ZnSe/ZnS", "thickness": "30 nm"},
        "crosslinker": {"material": "Tris-TAD", "loading_wt_pct": 9.14},
        # the ideal-contact limit (no propagation): these tests are about the gel, not the image's ripples
        "exposure": {"tool": "proximity", "gap": "0 um", "wavelength": "365 nm", "dose": "200 mJ/cm^2",
                     "atmosphere": "air"},
        "developer": {"material": "toluene", "time": "30 s"},
        "mask": {"file": str(MASKS / "stripe_1000ppi_2x2.gds")},
        "simulation": {"pixel_um": 0.25},
        "step": [
            {"name": "R", "mask": {"layer": "R"}, "exposure": {"dose": f"{dose_r} mJ/cm^2"}},
            {"name": "G", "mask": {"layer": "G"}, "developer": {"material": developer_g}},
        ],
    })


def test_same_developer_never_strips_earlier_pixels():
    row = litho.simulate(_two_step(60, "toluene")).contamination[0]
    assert row["earlier_pixels_solvent_resistance"] == 1.0
    assert row["later_film_on_earlier_pixels_max_nrt"] < 0.05


def test_a_harsher_later_developer_lifts_loosely_gelled_earlier_pixels():
    # chlorobenzene swells a loose gel more than toluene (higher swelling threshold)
    weak = litho.simulate(_two_step(60, "chlorobenzene")).contamination[0]
    strong = litho.simulate(_two_step(600, "chlorobenzene")).contamination[0]
    assert weak["earlier_pixels_solvent_resistance"] < 0.9
    assert strong["earlier_pixels_solvent_resistance"] > 0.99
