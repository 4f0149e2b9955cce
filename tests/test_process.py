import numpy as np
import pytest

import litho
from litho import process
from litho.errors import LithoInputError
from conftest import MASKS


def _recipe(window_um, mode, pixel_um=0.127, tool="proximity", overlay=(0.0, 0.0)):
    # a fixed one-ring cone rule: these tests are about windows, overlay and determinism, and the
    # default rule at this fine pitch costs ten times the rest of each run
    return litho.recipe_from_dict({
        "name": "process test",
        "film": {"material": "CdSe/ZnS", "thickness": "30 nm"},
        "crosslinker": {"material": "EBT", "loading_wt_pct": 2},
        "exposure": {"tool": tool, "wavelength": "254 nm", "dose": "20 mJ/cm^2", "gap": "2 um",
                     "collimation_half_angle_deg": 1.5, "atmosphere": "N2", "overlay_um": list(overlay),
                     "direction_rings": 1},
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


def _rectangle_iou(w, h, dx, dy):
    """IoU of a w x h rectangle and its copy moved by (dx, dy)."""
    overlap = max(w - abs(dx), 0) * max(h - abs(dy), 0)
    return overlap / (2 * w * h - overlap)


def test_overlay_moves_the_print_off_the_design_and_lowers_iou():
    from shapely import affinity

    window = (0, 0, 25.4, 25.4)
    pitch = 0.1
    dx, dy = 1.3, -0.7
    base = litho.simulate(_recipe(window, "isolated", pixel_um=pitch))
    moved = litho.simulate(_recipe(window, "isolated", pixel_um=pitch, overlay=(dx, dy)))
    b, m = base.steps[0].metrology.pixels[0], moved.steps[0].metrology.pixels[0]
    # the design stays where it was drawn; the print moves by the overlay
    assert m.design_centroid_um == pytest.approx(b.design_centroid_um)
    assert m.centroid_shift_x_um - b.centroid_shift_x_um == pytest.approx(dx, abs=0.1 * pitch)
    assert m.centroid_shift_y_um - b.centroid_shift_y_um == pytest.approx(dy, abs=0.1 * pitch)
    overlay = moved.report["steps"][0]["overlay"]
    assert overlay["applied_um"] == [dx, dy]
    assert overlay["measured_um"] == pytest.approx([dx, dy], abs=0.1 * pitch + abs(b.centroid_shift_um))
    # IoU as geometry predicts: the rectangle formula, up to the print's own shape ...
    design = base.steps[0].design[0]
    xmin, ymin, xmax, ymax = design.bounds
    predicted = _rectangle_iou(xmax - xmin, ymax - ymin, dx, dy)
    assert m.iou < b.iou - 0.1
    assert m.iou == pytest.approx(predicted * b.iou, abs=0.03)   # the product form is approximate
    # ... and exactly the base print moved by the overlay, measured against the design
    printed = affinity.translate(base.steps[0].metrology.printed[0], dx, dy)
    assert m.iou == pytest.approx(printed.intersection(design).area / printed.union(design).area, abs=0.005)


def test_a_mask_moved_off_its_design_reports_missing_pixels():
    window = (0, 0, 25.4, 25.4)
    moved = litho.simulate(_recipe(window, "isolated", pixel_um=0.1, overlay=(40.0, 0.0)))
    step = moved.report["steps"][0]
    assert step["metrics"]["missing_pixels"] == 1
    assert step["overlay"]["measured_um"] is None
    # the print landed beside the design: the window held the moved mask, and it is residue
    assert step["metrics"]["residue_area_um2"] > 100


def test_overlay_between_steps_is_measured_relative_to_the_first():
    raw = dict(_recipe((0, 0, 25.4, 25.4), "isolated", pixel_um=0.1, overlay=(0.2, 0.1)).raw)
    raw["step"] = [{"name": "R", "mask": {"layer": "R"}},
                   {"name": "G", "mask": {"layer": "G"}, "exposure": {"overlay_um": [-0.3, 0.4]}}]
    result = litho.simulate(litho.recipe_from_dict(raw))
    rows = result.report["overlay_between_steps"]
    assert [r["step"] for r in rows] == ["G"]
    assert rows[0]["applied_um"] == pytest.approx([-0.5, 0.3])
    for row in rows:
        assert row["measured_um"] == pytest.approx(row["applied_um"], abs=0.05)


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
    # the source quadrature states its estimate as the cone rule does (on the probe mask)
    assert 0 < step["aerial_image"]["quadrature_error_estimate"] < 3e-3


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
