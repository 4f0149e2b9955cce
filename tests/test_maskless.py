"""Maskless (DMD) exposure: the mirror-grid mask model, its known answers and the mask-model seam."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings, strategies as st

from litho.bitmap import check_bitmap, png_bytes, read_bitmap, write_bitmap
from litho.errors import LithoInputError
from litho.grid import Grid
from litho.maskmodel import GdsMask, MirrorGrid, mask_model, mirror_levels, quantise
from litho.optics import ProjectionOptics, aerial_image, depth_images
from litho.raster import rasterize
from litho.recipe import recipe_from_dict

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_UM = 0.365


def _grid_over_mirrors(mirrors: int, pitch_um: float, dx_um: float, rows: int | None = None) -> Grid:
    """A periodic window of whole mirrors, ``mirrors`` wide (and ``rows`` high, default square)."""
    nx = int(round(mirrors * pitch_um / dx_um))
    ny = nx if rows is None else int(round(rows * pitch_um / dx_um))
    return Grid((ny, nx), dx_um)


def _image(frames, dx_um, optics):
    """The time-weighted image of a mask model's frames (what expose_step gets at the film top)."""
    return sum(w * aerial_image(t, dx_um, optics, periodic=True) for w, t in zip(frames.weights,
                                                                               frames.transmissions))


def _incoherent_otf(f_per_um: float, na: float) -> float:
    """Diffraction-limited incoherent OTF of a circular pupil (Goodman, Fourier Optics §6.3)."""
    nu = f_per_um * LAMBDA_UM / (2 * na)
    return 0.0 if nu >= 1 else (2 / math.pi) * (math.acos(nu) - nu * math.sqrt(1 - nu * nu))


# --------------------------------------------------------------------------- known answers

def test_uniform_bitmap_without_gaps_gives_clear_field():
    mirrors = MirrorGrid(pitch_um=15.0, demagnification=10, levels=np.ones((8, 8)))
    grid = _grid_over_mirrors(8, 1.5, 0.05)
    optics = ProjectionOptics(wavelength_nm=365, na=0.3, sigma=0.6)
    image = _image(mirrors.frames(None, grid, periodic=True), grid.pixel_um, optics)
    assert np.abs(image - 1.0).max() < 1e-9


def test_unresolved_mirror_grid_gives_fill_squared_and_no_modulation():
    # 1/P = 0.67/um is beyond NA(1 + sigma)/lambda = 0.41/um: only the zero order passes,
    # whose amplitude is the fill factor, so I = fill^2 everywhere.
    fill = 0.81
    mirrors = MirrorGrid(pitch_um=15.0, fill_factor=fill, demagnification=10, levels=np.ones((8, 8)))
    grid = _grid_over_mirrors(8, 1.5, 0.05)
    image = _image(mirrors.frames(None, grid, periodic=True), grid.pixel_um,
                   ProjectionOptics(wavelength_nm=365, na=0.1, sigma=0.5))
    assert np.abs(image - fill ** 2).max() < 1e-9


def test_pwm_grey_level_scales_intensity_not_amplitude():
    # Bit-planes are shown at different times, so their intensities add: a uniform grey g
    # gives g * fill^2 (an amplitude-grey mask would give g^2 * fill^2).
    fill, bits = 0.81, 4
    grey = 6 / 15
    mirrors = MirrorGrid(pitch_um=15.0, fill_factor=fill, demagnification=10, grey_bits=bits,
                         levels=np.full((8, 8), grey))
    grid = _grid_over_mirrors(8, 1.5, 0.05)
    frames = mirrors.frames(None, grid, periodic=True)
    assert len(frames.weights) == 2          # 6 = 0b0110: two bit-planes
    image = _image(frames, grid.pixel_um, ProjectionOptics(wavelength_nm=365, na=0.1, sigma=0.5))
    assert np.abs(image - grey * fill ** 2).max() < 1e-9


@pytest.mark.parametrize("fill", [0.64, 0.81])
def test_fill_factor_modulation_is_first_harmonic_times_otf(fill):
    # Incoherent imaging of the all-on mirror grid: the image's (1/P, 0) Fourier coefficient is
    # the grid's c10 = (a/P)^2 sinc(a/P), a = sqrt(fill) P, times the OTF at 1/P.
    # Mirror edges fall on sample edges (a and P whole numbers of 0.025 um), so the sampled
    # pattern is binary and |t|^2 = t. Tolerance 1%: the optics sample the pupil on the
    # window's frequency grid (1/L, L = 24 um), which puts the discrete OTF within 0.3% of
    # the analytic one here.
    pitch_um, mirrors_across, na = 1.5, 16, 0.3
    mirrors = MirrorGrid(pitch_um=15.0, fill_factor=fill, demagnification=10,
                         levels=np.ones((mirrors_across, mirrors_across)))
    grid = _grid_over_mirrors(mirrors_across, pitch_um, 0.025 if fill == 0.81 else 0.05)
    frames = mirrors.frames(None, grid, periodic=True)
    assert set(np.unique(frames.coverage)) <= {0.0, 1.0}
    image = _image(frames, grid.pixel_um, ProjectionOptics(wavelength_nm=365, na=na, source="incoherent"))
    spectrum = np.fft.fft2(image) / image.size
    ratio = math.sqrt(fill)
    c10 = ratio ** 2 * np.sinc(ratio)
    expected = c10 * _incoherent_otf(1 / pitch_um, na)
    assert abs(spectrum[0, 0].real - fill) < 1e-9            # the mean is the fill factor
    assert abs(abs(spectrum[0, mirrors_across]) - expected) < 0.01 * expected
    assert abs(abs(spectrum[mirrors_across, 0]) - expected) < 0.01 * expected
    # and when the optics cannot pass 1/P (2 NA / lambda = 0.55/um < 0.67/um) the grid vanishes
    flat = _image(frames, grid.pixel_um, ProjectionOptics(wavelength_nm=365, na=0.1, source="incoherent"))
    assert np.ptp(flat) < 1e-9 and abs(flat.mean() - fill) < 1e-9


# --------------------------------------------------------------------------- agreement with the GDS path

def _edges_at_half(profile: np.ndarray, x_um: np.ndarray) -> tuple[float, float]:
    """The two crossings of 0.5 by a one-line image profile (linear interpolation)."""
    above = profile >= 0.5
    k = np.nonzero(np.diff(above.astype(int)))[0]
    assert len(k) == 2
    xs = [x_um[i] + (0.5 - profile[i]) / (profile[i + 1] - profile[i]) * (x_um[1] - x_um[0]) for i in k]
    return xs[0], xs[1]


@pytest.mark.parametrize("mirror_um, bits, cd_tol_fraction", [(1.0, 1, 1.0), (2.5, 1, 1.0), (1.0, 8, 0.1)])
def test_stripe_array_agrees_with_gds_where_mirrors_resolve_it(mirror_um, bits, cd_tol_fraction):
    # An 8 um period stripe array (one 3.27 um stripe per period, edges off the mirror grid),
    # imaged at NA 0.3, sigma 0.6 (resolution lambda/2NA = 0.61 um) by a mirror grid of
    # P = 0.1 or 0.25 um at the wafer, well inside the resolution. On/off mirrors move each
    # edge by at most P/2, so the printed CD (the 0.5 contour of the image) agrees within P
    # and the image within its steepest slope times P/2. With 8-bit grey mirrors the edge
    # mirror's dose follows its coverage and the CD agrees within P/10.
    optics = ProjectionOptics(wavelength_nm=365, na=0.3, sigma=0.6)
    mirrors = MirrorGrid(pitch_um=mirror_um, demagnification=10, grey_bits=bits)
    p = mirrors.projected_pitch_um
    grid = Grid((int(round(p / 0.05)), 160), 0.05)
    stripe = shapely.box(1.1, 0.0, 4.37, grid.bounds_um[3])
    gds = aerial_image(rasterize(stripe, grid, periodic=True), grid.pixel_um, optics, periodic=True)[0]
    dmd = _image(mirrors.frames(stripe, grid, periodic=True), grid.pixel_um, optics)[0]
    x = grid.x_um
    cd_gds = np.subtract(*_edges_at_half(gds, x)[::-1])
    cd_dmd = np.subtract(*_edges_at_half(dmd, x)[::-1])
    assert abs(cd_dmd - cd_gds) <= cd_tol_fraction * p
    slope = np.abs(np.gradient(gds, grid.pixel_um)).max()
    assert np.abs(dmd - gds).max() <= slope * p / 2


def test_mirror_grid_on_the_design_edges_reproduces_the_gds_mask_exactly():
    # Stripes whose edges are mirror boundaries, gapless mirrors: the same transmission.
    mirrors = MirrorGrid(pitch_um=2.5, demagnification=10)
    grid = Grid((20, 160), 0.05)
    stripes = shapely.union_all([shapely.box(0.5, 0.0, 2.75, 1.0), shapely.box(4.5, 0.0, 6.0, 1.0)])
    t_dmd = mirrors.frames(stripes, grid, periodic=True).coverage
    t_gds = rasterize(stripes, grid, periodic=True)
    assert np.abs(t_dmd - t_gds).max() < 1e-12


def test_recipe_maskless_step_agrees_with_projection_step(tmp_path):
    """Through the recipe and expose_step: the maskless tool and the projection tool on one
    period of the shipped 2 x 2 stripe mask, a 0.254 um mirror grid at NA 0.3."""
    from litho.process import expose_step, prepare

    def recipe(tool_keys):
        return recipe_from_dict({
            "film": {"material": "InP/ZnSe/ZnS", "thickness": "30 nm"},
            "crosslinker": {"material": "Tris-TAD", "loading_wt_pct": 9.14},
            "exposure": {"wavelength": "365 nm", "na": 0.3, "sigma": 0.6, "dose": "250 mJ/cm^2", **tool_keys},
            "developer": {"material": "toluene", "time": "30 s"},
            "mask": {"file": str(ROOT / "masks" / "stripe_1000ppi_2x2.gds"), "layer": "R",
                     "window_um": [0, 0, 25.4, 25.4]},
            "simulation": {"pixel_um": 0.127, "window": "periodic"},
        }, base_dir=tmp_path)

    dmd = recipe({"tool": "maskless", "mirror_pitch": "2.54 um", "demagnification": 10})
    assert dmd.steps[0].exposure.tool == "maskless"
    assert isinstance(mask_model(dmd.steps[0].exposure), MirrorGrid)
    gds = recipe({"tool": "projection"})
    images = []
    for r in (dmd, gds):
        setup = prepare(r)
        step = r.steps[0]
        _, _, intensity, _ = expose_step(step, setup.designs[0], setup.grid, r, 1.0)
        images.append(intensity)
    slope = np.abs(np.gradient(images[1], 0.127)).max()
    assert np.abs(images[0] - images[1]).max() <= slope * 0.254 / 2


def test_gds_mask_model_is_the_rasteriser_bit_for_bit():
    grid = Grid((64, 96), 0.1, (-1.0, -2.0))
    geometry = shapely.union_all([shapely.box(0.13, -1.1, 3.37, 2.2), shapely.box(5.0, 0.3, 7.77, 3.9)])
    frames = GdsMask().frames(geometry, grid)
    assert np.array_equal(frames.coverage, rasterize(geometry, grid))
    optics = ProjectionOptics(wavelength_nm=365, na=0.3, sigma=0.0)     # coherent: one kernel, fast
    ours = frames.depth_images(grid.pixel_um, optics, [0.0, 10.0], film_index=1.8)
    theirs = depth_images(rasterize(geometry, grid), grid.pixel_um, optics, [0.0, 10.0], film_index=1.8)
    assert all(np.array_equal(a.intensity, b.intensity) for a, b in zip(ours, theirs))


# --------------------------------------------------------------------------- invariants

@settings(max_examples=25, deadline=None)
@given(levels=st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3), min_size=2, max_size=4),
       fill=st.floats(0.05, 1.0), bits=st.integers(1, 8), samples_per_mirror=st.integers(2, 7),
       offset=st.integers(0, 3))
def test_transmission_in_unit_range_and_mean_is_fill_times_grey(levels, fill, bits, samples_per_mirror,
                                                                offset):
    levels = np.array(levels)
    pitch_um = 1.2
    dx = pitch_um / samples_per_mirror
    mirrors = MirrorGrid(pitch_um=pitch_um * 4, demagnification=4, fill_factor=fill, grey_bits=bits,
                         levels=levels)
    rows, cols = levels.shape
    # the grid covers the bitmap exactly plus `offset` empty mirrors on each side
    grid = Grid(((rows + 2 * offset) * samples_per_mirror, (cols + 2 * offset) * samples_per_mirror), dx,
                (-offset * pitch_um, -offset * pitch_um))
    frames = mirrors.frames(None, grid)
    for t in frames.transmissions:
        assert t.min() >= 0.0 and t.max() <= 1.0
    assert sum(frames.weights) <= 1 + 1e-12
    grey = quantise(levels, bits) / ((1 << bits) - 1)
    assert frames.coverage.mean() * grid.shape[0] * grid.shape[1] * dx ** 2 == pytest.approx(
        fill * grey.sum() * pitch_um ** 2, rel=1e-7, abs=1e-12)   # snapped slivers are < 1e-9 of a sample


def test_bitmap_rows_are_image_rows_top_first():
    # row 0 of the bitmap is the top row of mirrors: it lands at the largest y
    levels = np.zeros((2, 3))
    levels[0, 0] = 1.0
    mirrors = MirrorGrid(pitch_um=10.0, demagnification=10, levels=levels)
    t = mirrors.frames(None, Grid((2, 3), 1.0)).coverage
    assert t[1, 0] == 1.0 and t.sum() == 1.0


def test_overlay_moves_the_mirror_grid_with_the_pattern():
    levels = np.ones((1, 1))
    mirrors = MirrorGrid(pitch_um=10.0, demagnification=10, levels=levels)
    t = mirrors.frames(None, Grid((4, 4), 0.5), overlay_um=(0.5, 0.0)).coverage
    assert t[0:2, 1:3].sum() == 4.0 and t.sum() == 4.0


# --------------------------------------------------------------------------- bitmap files

def test_png_round_trip_keeps_levels(tmp_path):
    rng = np.random.default_rng(3)
    for bits in (1, 4, 8, 12):
        levels = rng.integers(0, 1 << bits, size=(5, 7))
        path = tmp_path / f"b{bits}.png"
        write_bitmap(path, levels, bits)
        assert np.array_equal(quantise(read_bitmap(path), bits), levels)
    write_bitmap(tmp_path / "b.npy", levels, 12)
    assert np.array_equal(quantise(read_bitmap(tmp_path / "b.npy"), 12), levels)


def test_mirror_levels_threshold_one_bit_at_half_coverage():
    # mirrors of 1 um; the box covers 0.5, 0.49 and 1.0 of three cells
    geometry = shapely.union_all([shapely.box(0.5, 0, 1.0, 1), shapely.box(1.51, 0, 3.0, 1)])
    assert mirror_levels(geometry, 1.0, (0.0, 0.0), (1, 3), 1).tolist() == [[1, 0, 1]]
    assert mirror_levels(geometry, 1.0, (0.0, 0.0), (1, 3), 8).tolist() == [[128, 125, 255]]


@pytest.mark.parametrize("content, message", [
    (b"not a png at all", "not a readable PNG"),
    (png_bytes(np.zeros((2, 2), np.uint8), 8)[:30], "not a readable PNG"),
])
def test_unreadable_png_is_one_line(tmp_path, content, message):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(LithoInputError, match=message):
        read_bitmap(path)


def test_bitmap_must_be_2d_fractions():
    with pytest.raises(LithoInputError, match="2-D"):
        check_bitmap(np.zeros((2, 2, 3)))
    with pytest.raises(LithoInputError, match=r"\[0, 1\]"):
        check_bitmap(np.full((2, 2), 1.5))


def test_periodic_window_off_the_mirror_grid_is_refused():
    mirrors = MirrorGrid(pitch_um=15.0, demagnification=10, levels=np.ones((4, 4)))
    with pytest.raises(LithoInputError, match="whole number of 1.5 um mirrors"):
        mirrors.frames(None, Grid((70, 70), 0.1), periodic=True)       # 7 um is 4.67 mirrors
