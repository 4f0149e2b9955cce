"""Figures: golden images with a tolerance, process-window geometry, options, text inside the figure.

Field figures are drawn from small synthetic steps (known arrays on a small
grid, measured by the real metrology), so a change in the physics does not
move a golden image; a change in a figure does. A reference image missing
from tests/golden/ is written from the current figure (as hcipy does for its
apertures) and the test passes; delete a reference to renew it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.testing.compare import compare_images
from shapely.geometry import box

from litho import plot
from litho.grid import Grid
from litho.metrology import measure
from litho.optics import ProximityOptics

GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_DPI = 40
# RMS difference (0-255 grey levels) a reference may differ by: fonts and antialiasing, not content
TOLERANCE_RMS = 6.0


def check_golden(fig, name: str, tmp_path: Path) -> None:
    """Compare ``fig`` with tests/golden/``name``.png, writing the reference when it is missing."""
    actual = plot.save(fig, tmp_path / f"{name}.png", plot.FigureOptions(dpi=GOLDEN_DPI))[0]
    reference = GOLDEN / f"{name}.png"
    if not reference.exists():
        GOLDEN.mkdir(exist_ok=True)
        shutil.copyfile(actual, reference)
        return
    diff = compare_images(str(reference), str(actual), tol=TOLERANCE_RMS)
    assert diff is None, diff


def _blur(values: np.ndarray, samples: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(values, samples)


@pytest.fixture(scope="module")
def synthetic_step():
    """Two 4 x 10 µm pixels on a 0.25 µm grid: a blurred image, a sharper thresholded film."""
    grid = Grid((64, 56), 0.25, (0.0, 0.0))
    design = (box(2.0, 3.0, 6.0, 13.0), box(8.0, 3.0, 12.0, 13.0))
    x, y = np.meshgrid(grid.x_um, grid.y_um)
    open_ = np.zeros(grid.shape)
    for p in design:
        x0, y0, x1, y1 = p.bounds
        open_ += (x > x0) & (x < x1) & (y > y0) & (y < y1)
    intensity = _blur(open_, 3.0) * 1.1
    gel = np.clip((intensity - 0.35) * 3, 0, 1)
    h = np.clip((_blur(open_, 2.0) - 0.4) * 4, 0, 1)
    optics = ProximityOptics(wavelength_nm=365, gap_um=10, collimation_half_angle_deg=1.5)
    step = SimpleNamespace(exposure=SimpleNamespace(dose_mj_cm2=30.0, tool="proximity", optics=optics))
    # the bottom dose: the top dose (30 mJ/cm² x intensity) after the film absorbs a fifth of it
    return SimpleNamespace(name="R", step=step, grid=grid, layer=(1, 0), design=design, intensity=intensity,
                           remaining_thickness=h, dose_bottom_mj_cm2=0.8 * 30.0 * intensity,
                           developed=SimpleNamespace(remaining_thickness=h, gel_fraction_bottom=gel),
                           metrology=measure(h, grid, design, 0.5))


def synthetic_sweep() -> dict:
    """Dose 10..50 (5 values) × gap 5, 10 µm; CD grows with dose and shrinks with gap (spec ±0.2 µm)."""
    doses, gaps = [10.0, 20.0, 30.0, 40.0, 50.0], [5.0, 10.0]
    rows = []
    for g in gaps:
        for d in doses:
            error = 0.1 * (d - 25.0) / 10 - 0.15 * (g - 5.0) / 5
            rows.append({"exposure.dose": d, "exposure.gap_um": g, "step": "R", "cd_x_error_mean_um": error,
                         "design_cd_x_um": 2.0, "in_spec": abs(error) <= 0.2})
    return {"recipe": "synthetic", "axes": [{"name": "exposure.dose", "values": doses},
                                            {"name": "exposure.gap_um", "values": gaps}],
            "cd_spec_fraction": 0.1, "rows": rows}


def test_developed_figure_matches_golden(synthetic_step, tmp_path):
    check_golden(plot.developed_figure(synthetic_step), "developed", tmp_path)


def test_thickness_figure_matches_golden(synthetic_step, tmp_path):
    check_golden(plot.thickness_figure(synthetic_step), "thickness", tmp_path)


def test_process_window_matches_golden(tmp_path):
    check_golden(plot.process_window_figure(synthetic_sweep()), "process_window", tmp_path)


def test_series_figure_matches_golden(synthetic_step, tmp_path):
    s = synthetic_step
    stack = np.stack([_blur(s.intensity, k) for k in (0.5, 2.0, 4.0)])
    check_golden(plot.series_figure(stack, [5.0, 10.0, 20.0], "gap_um", s.grid, s.design, "Gap series"),
                 "gap_series", tmp_path)


def test_golden_comparison_fails_on_a_changed_figure(synthetic_step, tmp_path):
    reference = GOLDEN / "thickness.png"
    if not reference.exists():
        pytest.skip("reference written by test_thickness_figure_matches_golden on its first run")
    changed = plot.aerial_figure(synthetic_step)
    actual = plot.save(changed, tmp_path / "changed.png", plot.FigureOptions(dpi=GOLDEN_DPI))[0]
    assert compare_images(str(reference), str(actual), tol=TOLERANCE_RMS) is not None


def _text_inside_figure(fig) -> list[str]:
    """Titles, labels and tick labels drawn (partly) outside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    texts = [fig._suptitle] if fig._suptitle else []
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += [t for t in ax.get_xticklabels() + ax.get_yticklabels()
                  if ax.get_xlim()[0] - 1e-9 <= t.get_position()[0] <= ax.get_xlim()[1] + 1e-9
                  or t.get_position()[0] == 0]
    outside = []
    for text in texts:
        if not text.get_visible() or not text.get_text().strip():
            continue
        bb = text.get_window_extent(renderer)
        if bb.x0 < -1 or bb.y0 < -1 or bb.x1 > width + 1 or bb.y1 > height + 1:
            outside.append(text.get_text())
    return outside


def test_long_titles_are_wrapped_inside_the_figure(synthetic_step):
    step = SimpleNamespace(**{**vars(synthetic_step), "name": "a step with a rather long name " * 3})
    fig = plot.developed_figure(step)
    assert _text_inside_figure(fig) == []
    assert "\n" in fig._suptitle.get_text()
    plot.plt.close(fig)


def test_process_window_labels_stay_inside_the_figure():
    fig = plot.process_window_figure(synthetic_sweep())
    assert _text_inside_figure(fig) == []
    plot.plt.close(fig)


def test_largest_window_is_the_in_spec_rectangle_with_most_latitude():
    table = plot.window_tables(synthetic_sweep())[0]
    # |error| <= 0.2 µm: gap 5 µm at doses 10..40, gap 10 µm at 20..50
    assert table.in_spec.tolist() == [[True, True, True, True, False], [False, True, True, True, True]]
    width, latitude, cells = plot.largest_window(table)
    assert cells == (0, 1, 1, 3)                            # both gaps, doses 20..40
    assert width == pytest.approx(5.0)
    assert latitude == pytest.approx(100 * (40 - 20) / 30)


def test_latitude_curve_falls_with_the_width_it_must_hold():
    curve = plot.latitude_curve(plot.window_tables(synthetic_sweep())[0])
    assert [c[0] for c in curve] == [0.0, 5.0]
    assert curve[0][1] == pytest.approx(100 * 30 / 25)      # one gap (5 µm): 10..40 mJ/cm²
    assert curve[1][1] < curve[0][1]


def test_two_value_axis_is_two_cells_not_a_range():
    fig = plot.process_window_figure(synthetic_sweep())
    matrix = fig.axes[1]
    assert [t.get_text() for t in matrix.get_yticklabels()] == ["5", "10"]
    assert matrix.get_ylim() == pytest.approx((-0.5, 1.5))
    plot.plt.close(fig)


def test_axis_labels_carry_units_from_the_recipe_key():
    assert plot.axis_label("exposure.dose") == "dose (mJ/cm²)"
    assert plot.axis_label("exposure.dose_mj_cm2") == "dose (mJ/cm²)"
    assert plot.axis_label("exposure.gap_um") == "gap (µm)"
    assert plot.axis_label("exposure.defocus") == "defocus (µm)"
    assert plot.axis_label("film.thickness_nm") == "thickness (nm)"


def test_figures_are_written_in_every_asked_format(synthetic_step, tmp_path):
    paths = plot.save(plot.thickness_figure(synthetic_step), tmp_path / "t.png",
                      plot.FigureOptions(formats=("png", "svg", "pdf"), dpi=30))
    assert [p.name for p in paths] == ["t.png", "t.svg", "t.pdf"]
    assert paths[1].read_text().lstrip().startswith("<?xml")
    assert paths[2].read_bytes().startswith(b"%PDF")


def test_unknown_figure_format_is_refused():
    from litho.errors import LithoInputError

    with pytest.raises(LithoInputError, match="accepted: png, svg, pdf"):
        plot.FigureOptions(formats=("gif",))


def test_cli_refuses_a_bad_format_in_one_line(tmp_path, capsys):
    from litho.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["contrast", "recipe.toml", "--format", "png,jpeg", "-o", str(tmp_path / "c")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "png, svg, pdf" in err and len(err.splitlines()) == 1


def test_epe_is_positive_where_the_print_grows_outside_the_design():
    design = (box(0, 0, 4, 4),)
    grown = (box(-0.5, 0, 4, 4),)
    segments, errors = plot.edge_epe_segments(grown, design, 0.1)
    left = [e for (a, b), e in zip(segments, errors) if a[0] == b[0] == -0.5]
    assert left and np.allclose(left, 0.5)
    assert errors.min() >= -1e-9


def test_scale_bar_length_is_round():
    assert plot.nice_length(200) == 20
    assert plot.nice_length(37) == 5
    assert plot.nice_length(0.9) == 0.1


def test_dose_only_sweep_draws_the_bossung_curve_alone():
    result = synthetic_sweep()
    result["axes"] = result["axes"][:1]
    result["rows"] = [{k: v for k, v in r.items() if k != "exposure.gap_um"} for r in result["rows"][:5]]
    fig = plot.process_window_figure(result)
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "dose (mJ/cm²)"
    plot.plt.close(fig)


def test_contrast_command_writes_each_asked_format(tmp_path, write_recipe, capsys):
    from litho.cli import main

    out = tmp_path / "c"
    assert main(["contrast", str(write_recipe()), "--doses", "1:100:40", "--format", "png,svg", "--dpi", "40",
                 "-o", str(out)]) == 0
    assert (out / "contrast.png").exists() and (out / "contrast.svg").exists()
    assert "contrast.png, contrast.svg" in capsys.readouterr().out


def _figure_jobs(step, out: Path):
    return [(plot.aerial_figure, (step,), out / "aerial.png"), (plot.thickness_figure, (step,), out / "thickness.png"),
            (plot.developed_figure, (step, 0), out / "developed.png")]


def _drawn(out: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.skipif(plot.figure_workers(2, 2) == 1, reason="processes cannot be forked here")
def test_figures_drawn_in_parallel_processes_are_the_bytes_drawn_one_by_one(synthetic_step, tmp_path):
    options = plot.FigureOptions(dpi=GOLDEN_DPI)
    (tmp_path / "one").mkdir(), (tmp_path / "two").mkdir()
    serial = plot.draw_figures(_figure_jobs(synthetic_step, tmp_path / "one"), options, workers=1)
    parallel = plot.draw_figures(_figure_jobs(synthetic_step, tmp_path / "two"), options, workers=2)
    assert [[p.name for p in paths] for paths in parallel] == [[p.name for p in paths] for paths in serial]
    assert _drawn(tmp_path / "one") == _drawn(tmp_path / "two")
    assert plot._JOBS == []   # the result is not held past the call, either way


def _dies_in_a_child(parent_pid, step):
    import os

    if os.getpid() != parent_pid:
        os._exit(3)   # a child lost to the OOM killer or a signal
    return plot.thickness_figure(step)


def _fails(step):
    raise ValueError("a figure that cannot be drawn")


@pytest.mark.skipif(plot.figure_workers(2, 2) == 1, reason="processes cannot be forked here")
def test_a_lost_figure_process_has_its_figures_drawn_in_this_one_and_an_error_in_one_is_raised(
        synthetic_step, tmp_path):
    import os

    options = plot.FigureOptions(dpi=GOLDEN_DPI)
    jobs = _figure_jobs(synthetic_step, tmp_path)
    jobs[1] = (_dies_in_a_child, (os.getpid(), synthetic_step), tmp_path / "thickness.png")
    paths = plot.draw_figures(jobs, options, workers=2)
    assert [p.name for ps in paths for p in ps] == ["aerial.png", "thickness.png", "developed.png"]
    assert all(p.stat().st_size > 0 for ps in paths for p in ps)
    with pytest.raises(ValueError, match="cannot be drawn"):
        plot.draw_figures([jobs[0], (_fails, (synthetic_step,), tmp_path / "x.png")], options, workers=2)
