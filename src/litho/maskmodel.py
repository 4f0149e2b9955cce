"""Mask models: what a step's mask is on the simulation grid, before the optics.

A mask model turns the step's mask geometry (µm, wafer coordinates, moved by
the overlay) into :class:`Frames`: one or more amplitude transmissions, each
with the fraction of the exposure time it is shown. The optics image each
frame and the time-weighted sum of their intensities is the exposure.

- ``"gds"`` (:class:`GdsMask`): a chrome mask drawn from the layout, the
  area coverage of :func:`litho.raster.rasterize`; one frame. The model of
  the contact, proximity and projection tools.
- ``"mirror-grid"`` (:class:`MirrorGrid`): a maskless projector's spatial
  light modulator (DMD). A grid of mirrors at a pitch ``pitch/demag`` at the
  wafer, each reflecting over a centred square of side ``sqrt(fill)·pitch``
  (the rest of the cell is the dark gap between mirrors). Every mirror has a
  grey level at ``grey_bits`` bits, from a bitmap or from the layer's area
  coverage of the mirror; the DMD shows a level by pulse-width modulation,
  as binary bit-planes each shown for a time ∝ 2^b. The model of
  ``tool = "maskless"``.

Models are found by name in :data:`MASK_MODELS`; a tool names its model in
:data:`TOOL_MASK_MODELS` (a new mask model is a new entry).

Notes
-----
The mirror grid is an amplitude mask: an on mirror reflects with amplitude 1
over its square, the gap and an off mirror with 0 (an off mirror tilts its
light out of the projection lens). The phase ramp of the tilted mirrors (a
DMD is a blazed grating; the blaze condition sets the efficiency per
wavelength) is left out, as are the mirror-edge diffraction details below the
sample pitch. The reflecting square is area-sampled exactly on the simulation
grid (the overlap of a square with a grid cell is separable in x and y).

Grey levels are pulse-width modulation: level k of ``2**B - 1`` is the
binary bit-planes of k, plane b shown for a fraction 2^b/(2^B - 1) of the
exposure. Frames are shown at different times, so the exposure is the sum of
their images' intensities weighted by those fractions; two grey mirrors
interfere only during the time both are on. A uniform grey g therefore gives
g times the intensity of the all-on pattern (an analogue amplitude g would
give g²).

The recipe's dose is the dose of a gapless, fully-on mirror array; the gaps
and the light the grid diffracts outside the pupil are in the image (an
all-on grid of fill f gives f² where the lens passes the zero order only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import fields
from .errors import LithoInputError
from .grid import Grid

# Ranges of the mirror-grid settings accepted in a recipe.
MIRROR_PITCH_MAX_UM = 1000.0     # DMD and LCoS pixels are 3-20 µm; far beyond is a wrong unit
DEMAG_MAX = 1000.0
GREY_BITS_MAX = 16               # DMD controllers show at most 8-16 bit-planes per colour
ORIGIN_MAX_UM = 1e7
# Overlaps within this fraction of a sample of 0 or 1 are round-off of an edge on a sample boundary.
OVERLAP_SNAP = 1e-9
MASKLESS_KEYS = ("mirror_pitch_um", "fill_factor", "demagnification", "grey_bits", "pattern",
                 "mirror_origin_um")


@dataclass(frozen=True)
class Frames:
    """A mask as frames shown in turn: ``(weight, amplitude transmission)`` on one grid.

    Attributes
    ----------
    weights : tuple of float
        Fraction of the exposure time each frame is shown (they sum to at
        most 1: bit-planes with no mirror on are left out).
    transmissions : tuple of ndarray (ny, nx)
        Amplitude transmission of each frame, in [0, 1].
    """

    weights: tuple
    transmissions: tuple

    @property
    def coverage(self) -> np.ndarray:
        """Time-weighted transmission Σ wₖ tₖ (the transmission itself for one whole frame)."""
        if len(self.weights) == 1 and self.weights[0] == 1.0:
            return self.transmissions[0]
        total = np.zeros_like(self.transmissions[0], dtype=np.float64)
        for w, t in zip(self.weights, self.transmissions):
            total += w * t
        return total

    def depth_images(self, pixel_um: float, optics, film_depth_nm, **kwargs) -> list:
        """:func:`litho.optics.depth_images` of the frames, intensities summed with the frames' weights.

        Frames are shown at different times, so their intensities add (the
        light of two frames never interferes). One whole frame is imaged
        exactly as a chrome mask.
        """
        from .optics import DepthImage, depth_images

        if len(self.weights) == 1 and self.weights[0] == 1.0:
            return depth_images(self.transmissions[0], pixel_um, optics, film_depth_nm, **kwargs)
        per_frame = [depth_images(t, pixel_um, optics, film_depth_nm, **kwargs) for t in self.transmissions]
        out = []
        for k, first in enumerate(per_frame[0]):
            stacks = [images[k].intensity for images in per_frame]
            if all(s.ndim == 3 and s.strides[0] == 0 for s in stacks):
                # a depth-independent image (projection): sum the one plane, broadcast again
                top = sum(w * s[0] for w, s in zip(self.weights, stacks))
                intensity = np.broadcast_to(top, stacks[0].shape)
            else:
                intensity = sum(w * s for w, s in zip(self.weights, stacks))
            out.append(DepthImage(first.wavelength_nm, first.weight, first.film_depth_nm, intensity))
        return out


@dataclass(frozen=True)
class GdsMask:
    """A chrome mask drawn from the layout: area coverage on the grid, one frame."""

    name: str = "gds"

    def frames(self, geometry, grid: Grid, *, periodic: bool = False,
               overlay_um: tuple[float, float] = (0.0, 0.0)) -> Frames:
        """The area coverage of ``geometry`` (already moved by the overlay) on ``grid``."""
        from .raster import rasterize

        return Frames((1.0,), (rasterize(geometry, grid, periodic=periodic),))


@dataclass(frozen=True)
class MirrorGrid:
    """A DMD (or any pixelated light modulator) projected onto the wafer.

    Parameters
    ----------
    pitch_um : float
        Mirror pitch at the modulator, µm (7.56 µm for a 0.65"/0.9" 1080p DMD).
    fill_factor : float
        Fraction of a mirror cell's area that reflects, in (0, 1]: a pitch p
        with a dark gap g between mirrors has fill ((p - g)/p)².
    demagnification : float
        Modulator-to-wafer reduction of the projection lens (> 0; < 1 magnifies).
    grey_bits : int
        Bit depth of a mirror's grey level (1 = on/off), shown by PWM bit-planes.
    pattern : Path, optional
        Bitmap of mirror levels (:mod:`litho.bitmap`); None rasterises the
        mask layer onto the mirror grid.
    origin_um : (float, float)
        Wafer position of the lower-left corner of the mirror grid (and of the
        bitmap's bottom-left mirror), µm.
    levels : ndarray, optional
        The bitmap as grey fractions, read once from ``pattern`` (not part of equality).
    """

    pitch_um: float
    fill_factor: float = 1.0
    demagnification: float = 1.0
    grey_bits: int = 1
    pattern: Path | None = None
    origin_um: tuple[float, float] = (0.0, 0.0)
    levels: Any = field(default=None, compare=False, repr=False)
    name: str = "mirror-grid"

    @property
    def projected_pitch_um(self) -> float:
        """Mirror pitch at the wafer, ``pitch_um / demagnification``, µm."""
        return self.pitch_um / self.demagnification

    @property
    def mirror_side_um(self) -> float:
        """Side of a mirror's reflecting square at the wafer, ``sqrt(fill)·pitch/demag``, µm."""
        return math.sqrt(self.fill_factor) * self.projected_pitch_um

    @property
    def top_level(self) -> int:
        """The fully-on level, 2**grey_bits - 1."""
        return (1 << self.grey_bits) - 1

    def frames(self, geometry, grid: Grid, *, periodic: bool = False,
               overlay_um: tuple[float, float] = (0.0, 0.0)) -> Frames:
        """The PWM bit-planes of the mirror pattern, area-sampled on ``grid``.

        The whole projected image (mirror grid and pattern) moves by the
        overlay, as a stage offset moves it; a layer is rasterised onto the
        moved mirror grid (``geometry`` is already moved).
        """
        p = self.projected_pitch_um
        x0 = self.origin_um[0] + overlay_um[0]
        y0 = self.origin_um[1] + overlay_um[1]
        gx0, gy0, gx1, gy1 = grid.bounds_um
        i0, i1 = math.floor((gx0 - x0) / p + 1e-9), math.ceil((gx1 - x0) / p - 1e-9)
        j0, j1 = math.floor((gy0 - y0) / p + 1e-9), math.ceil((gy1 - y0) / p - 1e-9)
        if periodic:
            _check_commensurate(grid, p, (x0, y0))
        nmx, nmy = max(1, i1 - i0), max(1, j1 - j0)
        if self.levels is not None:
            levels = bitmap_window(quantise(self.levels, self.grey_bits)[::-1], i0, j0, nmx, nmy)
        else:
            levels = mirror_levels(geometry, p, (x0 + i0 * p, y0 + j0 * p), (nmy, nmx), self.grey_bits,
                                   periodic=periodic)
        ax = _overlap_matrix(grid.shape[1], gx0, grid.pixel_um, nmx, x0 + i0 * p, p, self.mirror_side_um)
        ay = _overlap_matrix(grid.shape[0], gy0, grid.pixel_um, nmy, y0 + j0 * p, p, self.mirror_side_um)
        weights, transmissions = [], []
        for bit in range(self.grey_bits):
            on = ((levels >> bit) & 1).astype(np.float64)
            if not on.any():
                continue        # a bit-plane with every mirror off adds no light
            t = np.asarray(ay @ np.asarray(ax @ on.T).T)
            weights.append((1 << bit) / self.top_level)
            transmissions.append(np.clip(t, 0.0, 1.0))
        if not weights:
            return Frames((1.0,), (np.zeros(grid.shape),))
        return Frames(tuple(weights), tuple(transmissions))


def quantise(grey, grey_bits: int) -> np.ndarray:
    """Grey fractions in [0, 1] as integer levels 0 .. 2**grey_bits - 1, rounding half up
    (so 1 bit is a threshold at 0.5)."""
    top = (1 << grey_bits) - 1
    return np.floor(np.asarray(grey, dtype=np.float64) * top + 0.5).astype(np.int64).clip(0, top)


def mirror_levels(geometry, pitch_um: float, origin_um: tuple[float, float], shape: tuple[int, int],
                  grey_bits: int, *, periodic: bool = False) -> np.ndarray:
    """Grey levels of a block of mirrors from the area of ``geometry`` each mirror cell covers.

    Parameters
    ----------
    geometry : shapely geometry, µm at the wafer
    pitch_um : float
        Mirror pitch at the wafer, µm.
    origin_um : (float, float)
        Lower-left corner of the block's bottom-left mirror cell, µm.
    shape : (int, int)
        ``(rows, columns)`` of mirrors.
    grey_bits : int

    Returns
    -------
    ndarray of int64, (rows, columns), row 0 at the smallest y.
    """
    from .raster import rasterize

    coverage = rasterize(geometry, Grid(shape, pitch_um, origin_um), periodic=periodic)
    return quantise(coverage, grey_bits)


def bitmap_window(levels_up: np.ndarray, i0: int, j0: int, nx: int, ny: int) -> np.ndarray:
    """Mirrors ``[j0, j0 + ny) x [i0, i0 + nx)`` of a bitmap (row 0 at the smallest y); off outside it."""
    out = np.zeros((ny, nx), dtype=np.int64)
    rows, cols = levels_up.shape
    ya, yb = max(j0, 0), min(j0 + ny, rows)
    xa, xb = max(i0, 0), min(i0 + nx, cols)
    if ya < yb and xa < xb:
        out[ya - j0:yb - j0, xa - i0:xb - i0] = levels_up[ya:yb, xa:xb]
    return out


def _overlap_matrix(n_samples: int, x0_um: float, dx_um: float, n_mirrors: int, m0_um: float,
                    pitch_um: float, side_um: float):
    """Sparse (n_samples, n_mirrors): the fraction of each sample's width that mirror m's
    reflecting interval covers along one axis (area sampling is separable for squares)."""
    import scipy.sparse

    lo = m0_um + np.arange(n_mirrors) * pitch_um + 0.5 * (pitch_um - side_um)
    hi = lo + side_um
    span = int(math.ceil(side_um / dx_um)) + 2
    first = np.floor((lo - x0_um) / dx_um).astype(np.int64)
    k = first[:, None] + np.arange(span)[None, :]
    left = x0_um + k * dx_um
    frac = (np.minimum(hi[:, None], left + dx_um) - np.maximum(lo[:, None], left)) / dx_um
    m = np.broadcast_to(np.arange(n_mirrors)[:, None], k.shape)
    # an edge on a sample boundary leaves round-off slivers (1e-15 of a sample): snap them
    frac = np.where(frac > 1 - OVERLAP_SNAP, 1.0, frac)
    keep = (k >= 0) & (k < n_samples) & (frac > OVERLAP_SNAP)
    return scipy.sparse.csr_matrix((frac[keep], (k[keep], m[keep])),
                                   shape=(n_samples, n_mirrors))


def _check_commensurate(grid: Grid, pitch_um: float, origin_um: tuple[float, float]) -> None:
    """A periodic window must be a whole number of mirrors, on the mirror grid, or the period breaks."""
    gx0, gy0, gx1, gy1 = grid.bounds_um
    for value in ((gx1 - gx0) / pitch_um, (gy1 - gy0) / pitch_um, (gx0 - origin_um[0]) / pitch_um,
                  (gy0 - origin_um[1]) / pitch_um):
        if abs(value - round(value)) > 1e-6:
            raise LithoInputError(
                f"simulation.window = 'periodic' with tool = 'maskless': the {gx1 - gx0:g} x {gy1 - gy0:g} um window "
                f"at ({gx0:g}, {gy0:g}) is not a whole number of {pitch_um:g} um mirrors on the mirror grid "
                f"(origin {origin_um[0]:g}, {origin_um[1]:g} um); choose the window, mirror pitch or demagnification "
                "so that it is")


# --------------------------------------------------------------------------- registry

GDS_MASK = GdsMask()
MASK_MODELS = {"gds": GdsMask, "mirror-grid": MirrorGrid}
# The mask model of each exposure tool; tools not listed use "gds".
TOOL_MASK_MODELS = {"maskless": "mirror-grid"}


def tool_keys(tool: str) -> tuple[str, ...]:
    """The ``[exposure]`` keys of the mask model of ``tool`` (none for a chrome mask)."""
    name = TOOL_MASK_MODELS.get(tool)
    return () if name is None else MASK_MODEL_KEYS[name]


def for_tool(tool: str, table: Mapping[str, Any], label, base_dir: str | Path = ".") -> Any:
    """The mask model of ``tool`` from its recipe keys (:func:`tool_keys`); None for a chrome mask."""
    name = TOOL_MASK_MODELS.get(tool)
    return None if name is None else MASK_MODEL_BUILDERS[name](table, label, base_dir)


def mask_model(exposure) -> Any:
    """The mask model of a step's exposure (:attr:`litho.recipe.Exposure.mask_model`; GDS when unset)."""
    model = getattr(exposure, "mask_model", None)
    return GDS_MASK if model is None else model


def mirror_grid_from_table(table: Mapping[str, Any], label, base_dir: str | Path = ".") -> MirrorGrid:
    """Build a :class:`MirrorGrid` from a recipe's normalised ``[exposure]`` keys (:data:`MASKLESS_KEYS`).

    Parameters
    ----------
    table : mapping
        ``mirror_pitch_um`` (required), ``fill_factor`` (default 1),
        ``demagnification`` (default 1), ``grey_bits`` (default 1),
        ``pattern`` (bitmap path, relative to ``base_dir``; default: the mask
        layer rasterised onto the mirror grid), ``mirror_origin_um``.
    label : callable
        key -> the field's name for an error message.

    Raises
    ------
    LithoInputError
        One line naming the field: a missing pitch, a fill factor outside
        (0, 1], a demagnification <= 0, a bad bit depth, a missing or
        unreadable bitmap.
    """
    from .bitmap import read_bitmap

    if "mirror_pitch_um" not in table:
        raise LithoInputError(f"{label('mirror_pitch_um')}: missing; tool = 'maskless' needs the mirror pitch at "
                              "the modulator, e.g. mirror_pitch = \"7.56 um\"")
    pitch = fields.positive(table["mirror_pitch_um"], label("mirror_pitch_um"), hi=MIRROR_PITCH_MAX_UM, unit="µm",
                            what="mirror pitch at the modulator")
    fill = fields.number(table.get("fill_factor", 1.0), label("fill_factor"), lo=0, hi=1, lo_open=True,
                         what="reflecting fraction of a mirror cell's area")
    demag = fields.positive(table.get("demagnification", 1.0), label("demagnification"), hi=DEMAG_MAX,
                            what="modulator-to-wafer reduction of the projection lens")
    bits = fields.integer(table.get("grey_bits", 1), label("grey_bits"), lo=1, hi=GREY_BITS_MAX,
                          what="bit depth of a mirror's grey level")
    origin = fields.pair(table.get("mirror_origin_um", (0.0, 0.0)), label("mirror_origin_um"), lo=-ORIGIN_MAX_UM,
                         hi=ORIGIN_MAX_UM, unit="µm")
    pattern, levels = None, None
    if table.get("pattern") is not None:
        pattern = fields.path(table["pattern"], label("pattern"), base_dir=base_dir, what="bitmap file")
        levels = read_bitmap(pattern, label("pattern"))
    return MirrorGrid(pitch_um=pitch, fill_factor=fill, demagnification=demag, grey_bits=bits, pattern=pattern,
                      origin_um=origin, levels=levels)


MASK_MODEL_KEYS = {"mirror-grid": MASKLESS_KEYS}
MASK_MODEL_BUILDERS = {"mirror-grid": mirror_grid_from_table}

__all__ = ["Frames", "GdsMask", "MirrorGrid", "MASK_MODELS", "TOOL_MASK_MODELS", "MASKLESS_KEYS", "mask_model",
           "mirror_grid_from_table", "mirror_levels", "quantise", "tool_keys", "for_tool"]
