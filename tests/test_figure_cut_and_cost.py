"""The field figures' cut line (intensity, dose at the film bottom, h/h0) and what makes them cheap
(cropped and thinned images, one draw per file) without changing the picture."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.testing.compare import calculate_rms
from PIL import Image

import litho
from litho import plot
from litho.grid import Grid


@pytest.fixture(scope="module")
def small_result(tmp_path_factory):
    from conftest import SMALL_RECIPE

    path = tmp_path_factory.mktemp("r") / "recipe.toml"
    path.write_text(SMALL_RECIPE)
    return litho.simulate(litho.load_recipe(path))


def test_step_keeps_the_dose_at_the_film_bottom(small_result):
    s = small_result.steps[0]
    bottom = s.dose_bottom_mj_cm2
    assert bottom.shape == s.grid.shape and np.all(np.isfinite(bottom)) and bottom.min() >= 0
    dose = s.step.exposure.dose_mj_cm2
    # light reaches the bottom of the open pixels and not the middle of the opaque border
    assert bottom.max() > 0.1 * dose
    assert bottom[np.asarray(s.transmission) < 1e-6].min() < 0.05 * bottom.max()


def test_cut_line_shows_intensity_bottom_dose_and_thickness(small_result):
    fig = plot.aerial_figure(small_result.steps[0])
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel() and ax.get_ylabel() != "y (µm)"]
    assert labels == ["intensity\n(clear = 1)", "dose at film\nbottom (mJ/cm²)", "h/h₀"]
    plot.plt.close(fig)


def test_display_array_crops_to_the_view_and_keeps_cell_positions():
    grid = Grid((100, 200), 0.5, (-10.0, 5.0))
    values = np.arange(100 * 200, dtype=float).reshape(100, 200)
    part, extent = plot.display_array(values, grid, (0.0, 10.0, 10.0, 20.0))
    # one sample of margin each side; the cells keep their places on the grid
    assert part.shape == (22, 22)
    assert extent == pytest.approx((-0.5, 10.5, 9.5, 20.5))
    j0 = int(round((extent[0] - grid.origin_um[0]) / grid.pixel_um))
    i0 = int(round((extent[2] - grid.origin_um[1]) / grid.pixel_um))
    assert part[0, 0] == values[i0, j0]
    # 200 x 100 samples on 25 x 12 device pixels: blocks of 2 x 2 (at least 4 samples per pixel)
    thinned, extent2 = plot.display_array(values, grid, grid.extent_um, (25, 12))
    assert thinned.shape == (50, 100) and extent2 == pytest.approx(grid.extent_um)
    assert thinned[0, 0] == values[1, 1]


def test_thinned_png_looks_like_the_full_field(tmp_path):
    """A field of 1200 x 1200 samples written at 40 dpi (a few hundred device pixels) is thinned for
    the PNG, and the PNG matches the one drawn from every sample."""
    grid = Grid((1200, 1200), 0.1, (0.0, 0.0))
    x, y = np.meshgrid(grid.x_um, grid.y_um)
    values = 0.5 + 0.5 * np.cos(2 * np.pi * x / 12.0) * np.cos(2 * np.pi * y / 20.0)
    options = plot.FigureOptions(dpi=40)

    def draw(thin: bool):
        fig = plot.figure(4.0, 4.0)
        ax = fig.add_subplot()
        image = plot.show_field(ax, values, grid, grid.extent_um, vmin=0, vmax=1)
        if not thin:
            del image.litho_field
        ax.set(xlim=grid.extent_um[:2], ylim=grid.extent_um[2:])
        return plot.save(fig, tmp_path / f"thin{thin}.png", options)[0]

    thin, full = draw(True), draw(False)
    a = np.asarray(Image.open(thin).convert("RGB"), dtype=float)
    b = np.asarray(Image.open(full).convert("RGB"), dtype=float)
    # nearest-neighbour display itself picks one sample per device pixel: drawn from every sample,
    # this field's PNG is ~2 grey levels RMS from its antialiased picture; thinning stays within that
    assert calculate_rms(a, b) < 3.0


def test_saved_figure_keeps_its_layout_engine(tmp_path, small_result):
    """save() lays the figure out once and restores the engine, so a second format is laid out too."""
    fig = plot.thickness_figure(small_result.steps[0])
    engine = fig.get_layout_engine()
    paths = plot.save(fig, tmp_path / "t.png", plot.FigureOptions(formats=("png", "svg"), dpi=30))
    assert [p.suffix for p in paths] == [".png", ".svg"] and fig.get_layout_engine() is engine
