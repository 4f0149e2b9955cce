"""Films over pixel-define-layer (PDL) banks: substrate topography and the coated thickness h0(x, y).

A display backplane carries a bank grid (the PDL) between the pixel
openings. A recipe's ``[substrate]`` section names the bank footprint (a GDS
layer), its height and sidewall angle, and how far the coated QD film levels
over it::

    [substrate]
    bank_layer = "30/0"            # footprint of the bank (bottom of its sidewalls)
    file = "../masks/stripe_1000ppi_2x2_pdl.gds"   # default: the first step's mask file
    bank_height_um = 1.0
    sidewall_deg = 40
    levelling_length_um = 5.0      # 0: conformal film; large: planar free surface
    levelling_kernel = "capillary" # or "gaussian"
    solids_fraction = 0.03         # solids in the wet film when it stops levelling

The substrate height b(x, y) rises from 0 at the footprint's edge to the bank
height over the sidewall's horizontal run H/tan(θ) (a trapezoidal bank).

Coating model
-------------
A spin- or blade-coated film first follows the substrate (it is deposited
conformally, thickness h̄) and then levels under capillary pressure until the
solvent has left and the film no longer flows. In the lubrication
approximation the film surface s = b + h obeys
∂h/∂t = −∇·[(h³/3μ)∇p] with p = −γ∇²s; linearised about the mean
thickness h̄ (b fixed, so ∂s/∂t = ∂h/∂t),

    ∂s/∂t = −(γ h̄³ / 3μ) ∇⁴ s,

so each Fourier component of the surface decays as exp(−(γh̄³/3μ)k⁴t)
(Orchard, Appl. Sci. Res. A 11, 451 (1962); over topography, Stillwagon &
Larson, J. Appl. Phys. 63, 5251 (1988), and during spin coating Stillwagon &
Larson, Phys. Fluids A 2, 1937 (1990); measured planarisation versus feature
width: Peurrung & Graves, J. Electrochem. Soc. 138, 2115 (1991)). Starting
from the conformal surface h̄ + b and integrated until the film sets, the
free surface is the topography low-pass filtered,

    ŝ(k) = h̄·δ(k) + T(k)·b̂(k),   T(k) = exp(−(k·L)⁴)      ("capillary")

with the levelling length L⁴ = ∫ γh³/(3μ) dt over the drying (a process
parameter: measure it from the surface profile over one step, or fit it to a
measured planarisation). Features much narrower than L are levelled, much
wider ones reproduced. ``"gaussian"`` takes T(k) = exp(−(kL)²/2), a Gaussian
kernel of standard deviation L, for comparison with empirical fits.

Levelling happens while the film is wet. With φ the volume fraction of
solids (QDs, ligands, crosslinker) when the film stops flowing, the wet film
has mean thickness h̄/φ for a dry planar thickness h̄; it levels as above,
h_wet = s − b, clipped at 0 where a bank top pierces the surface (the offset
of s is then raised so the dispensed volume is kept: the mean of h_wet over
the simulated area stays h̄/φ; without clipping T(0) = 1 keeps it already),
and then dries in place: each column loses its solvent vertically, so the dry
thickness is h0 = φ·h_wet (Stillwagon & Larson 1990 describe this partial
replication of the topography by the shrinking film). The mean of h0 is the
planar h̄ exactly. φ = 1 levels the film as if dry. L = 0 gives the conformal
film h0 = h̄ everywhere; L → ∞ a planar wet surface at h̄/φ + ⟨b⟩.

Limits (stated, not modelled): the linearisation assumes the bank height is
small against the film's wet thickness; the film's own surface height does
not change the optical gap (the image is the planar film's, see
:mod:`litho.local_film`); a later colour is coated over the banks alone, not
over the earlier colours' pixels.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import box

from . import fields
from .errors import LithoInputError, where
from .grid import Grid

__all__ = [
    "Substrate", "SubstrateMap", "Coating", "substrate_from_table", "bank_height_um", "levelled_surface_nm",
    "coated_thickness_nm", "prepare_substrate", "coat", "without_absent_film", "LEVELLING_KERNELS",
]

SUBSTRATE_KEYS = ("file", "bank_layer", "cell", "bank_height_um", "sidewall_deg", "levelling_length_um",
                  "levelling_kernel", "solids_fraction")
TEXT_KEYS = ("file", "bank_layer", "cell", "levelling_kernel")
LEVELLING_KERNELS = ("capillary", "gaussian")
#: Tallest bank accepted, µm: display PDL banks are 0.5-3 µm; beyond 100 µm it is not a thin-film bank.
BANK_HEIGHT_MAX_UM = 100.0
#: Longest levelling length accepted, µm (1 m: any larger is a planar surface already).
LEVELLING_MAX_UM = 1e6
GDS_LAYER_MAX = 65535


@dataclass(frozen=True)
class Substrate:
    """The ``[substrate]`` section: a bank grid under the film.

    Attributes
    ----------
    file : Path
        GDS/OASIS file holding the bank footprint.
    bank_layer : (int, int)
        Its ``(layer, datatype)``.
    cell : str or None
    bank_height_um : float
        Bank height H, µm (0: a flat substrate).
    sidewall_deg : float
        Sidewall angle θ from the substrate plane, degrees, in (0, 90].
    levelling_length_um : float
        Levelling length L of the coated film, µm (0: conformal).
    levelling_kernel : str
        "capillary" (T = exp(−(kL)⁴)) or "gaussian" (T = exp(−(kL)²/2)).
    solids_fraction : float
        Volume fraction φ of solids in the wet film when it stops levelling, in (0, 1].
    """

    file: Path
    bank_layer: tuple[int, int]
    cell: str | None = None
    bank_height_um: float = 1.0
    sidewall_deg: float = 90.0
    levelling_length_um: float = 0.0
    levelling_kernel: str = "capillary"
    solids_fraction: float = 1.0

    @property
    def sidewall_run_um(self) -> float:
        """Horizontal run of a sidewall, H/tan(θ), µm (0 for a vertical wall)."""
        if self.sidewall_deg >= 90.0:
            return 0.0
        return self.bank_height_um / math.tan(math.radians(self.sidewall_deg))


def substrate_from_table(table: Any, source: str | None, base_dir: Path, first_mask=None) -> Substrate:
    """Validate a recipe's ``[substrate]`` table (one :class:`LithoInputError` line per mistake).

    ``first_mask`` (the first step's :class:`litho.recipe.MaskSpec`) supplies
    the default file and cell.
    """
    from .gds import parse_layer
    from .units import normalize_table

    if not isinstance(table, Mapping):
        raise LithoInputError(f"{where(source, 'substrate')}: must be a table ([substrate])")
    spelling: dict[str, str] = {}
    # names (a file, a layer, a cell, a kernel) are not quantities: kept from the unit parser
    names = {k: v for k, v in table.items() if k in TEXT_KEYS}
    table = {**normalize_table({k: v for k, v in table.items() if k not in TEXT_KEYS}, source, "substrate",
                               spelling), **names}
    shown = {k: spelling.get(k, k) for k in SUBSTRATE_KEYS}
    for key in table:
        if key not in SUBSTRATE_KEYS:
            raise fields.unknown_key(where(source, f"substrate.{spelling.get(key, key)}"),
                                     spelling.get(key, key), SUBSTRATE_KEYS)
    label = lambda key: where(source, f"substrate.{shown[key]}")  # noqa: E731
    if "bank_layer" not in table:
        raise LithoInputError(f"{label('bank_layer')}: missing; give the GDS layer of the bank footprint, "
                              "e.g. bank_layer = \"30/0\"")
    layer = table["bank_layer"]
    accepted = "give 'layer/datatype', a number or [layer, datatype]"
    if isinstance(layer, list):
        if len(layer) != 2:
            raise LithoInputError(f"{label('bank_layer')} = {fields.show(layer)}: {accepted}")
        layer = tuple(fields.integer(v, f"{label('bank_layer')}[{i}]", lo=0, hi=GDS_LAYER_MAX)
                      for i, v in enumerate(layer))
    elif isinstance(layer, int) and not isinstance(layer, bool):
        layer = (fields.integer(layer, label("bank_layer"), lo=0, hi=GDS_LAYER_MAX), 0)
    elif isinstance(layer, str):
        fields.text(layer, label("bank_layer"), max_chars=64, empty=False)
        layer = parse_layer(layer, where(source, "substrate.bank_layer"))
        for v in layer:
            fields.integer(v, label("bank_layer"), lo=0, hi=GDS_LAYER_MAX)
    else:
        raise LithoInputError(f"{label('bank_layer')} = {fields.show(layer)}: {accepted}")
    if "file" in table:
        file = fields.path(table["file"], label("file"), base_dir=base_dir, what="bank mask file")
        cell = None
    elif first_mask is not None:
        file, cell = first_mask.path, first_mask.cell
    else:
        raise LithoInputError(f"{label('file')}: missing; give the GDS/OASIS file of the bank layer")
    if "cell" in table:
        cell = fields.text(table["cell"], label("cell"), max_chars=1000, empty=False)
    if "bank_height_um" not in table:
        raise LithoInputError(f"{label('bank_height_um')}: missing; give the bank height, e.g. "
                              "bank_height_um = 1.0")
    height = fields.non_negative(table["bank_height_um"], label("bank_height_um"), hi=BANK_HEIGHT_MAX_UM,
                                 unit="µm", what="bank height")
    sidewall = fields.number(table.get("sidewall_deg", 90.0), label("sidewall_deg"), lo=0.0, hi=90.0,
                             lo_open=True, unit="degrees", what="sidewall angle from the substrate plane")
    levelling = fields.non_negative(table.get("levelling_length_um", 0.0), label("levelling_length_um"),
                                    hi=LEVELLING_MAX_UM, unit="µm", what="levelling length")
    kernel = fields.choice(table.get("levelling_kernel", "capillary"), label("levelling_kernel"),
                           LEVELLING_KERNELS)
    solids = fields.number(table.get("solids_fraction", 1.0), label("solids_fraction"), lo=0.0, hi=1.0,
                           lo_open=True, what="volume fraction of solids in the wet film")
    return Substrate(file=file, bank_layer=tuple(layer), cell=cell, bank_height_um=height, sidewall_deg=sidewall,
                     levelling_length_um=levelling, levelling_kernel=kernel, solids_fraction=solids)


# --------------------------------------------------------------------------- substrate height

def bank_height_um(bank, grid: Grid, height_um: float, sidewall_deg: float, *, periodic: bool = False) -> np.ndarray:
    """Substrate height b(x, y) of a trapezoidal bank grid on ``grid``, µm.

    Parameters
    ----------
    bank : shapely geometry
        Bank footprint (bottom of the sidewalls), µm.
    grid : Grid
    height_um : float
        Bank height H, µm.
    sidewall_deg : float
        Sidewall angle θ, degrees in (0, 90].
    periodic : bool
        ``grid`` is one period: the bank continues across its edges.

    Returns
    -------
    ndarray (ny, nx)
        b = H·min(d/w, 1) at each sample centre, d the distance inside the
        footprint to its edge and w = H/tan θ the sidewall's run; a vertical
        wall (θ = 90°) is sampled as the footprint's exact area coverage × H.
        A zero height gives exact zeros.
    """
    ny, nx = grid.shape
    if height_um == 0.0:
        return np.zeros((ny, nx))
    if sidewall_deg >= 90.0:
        from .raster import rasterize

        return height_um * rasterize(bank, grid, periodic=periodic)
    xmin, ymin, xmax, ymax = grid.bounds_um
    if periodic:        # the period's bank and its eight neighbours: edges across the window's sides
        px, py = xmax - xmin, ymax - ymin
        cell = bank.intersection(box(xmin, ymin, xmax, ymax))
        bank = shapely.union_all([affinity.translate(cell, i * px, j * py) for i in (-1, 0, 1) for j in (-1, 0, 1)])
    run_um = height_um / math.tan(math.radians(sidewall_deg))
    segments = _segments(bank)
    inside = _inside(segments, grid)
    distance = _edge_distance(segments, grid, run_um)
    return np.where(inside, height_um * np.minimum(distance / run_um, 1.0), 0.0)


def _segments(geometry) -> np.ndarray:
    """Every edge of every ring of ``geometry``: (n, 4) rows of x0, y0, x1, y1, µm."""
    rows = []
    for poly in getattr(geometry, "geoms", [geometry]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in (poly.exterior, *poly.interiors):
            c = np.asarray(ring.coords)
            rows.append(np.hstack([c[:-1], c[1:]]))
    return np.concatenate(rows) if rows else np.zeros((0, 4))


def _inside(segments: np.ndarray, grid: Grid) -> np.ndarray:
    """Sample centres inside the polygons whose edges are ``segments`` (even-odd rule, by scanlines)."""
    ny, nx = grid.shape
    x, y = grid.x_um, grid.y_um
    crossings = np.zeros((ny, nx + 1), dtype=np.int64)
    x0, y0, x1, y1 = segments.T
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    for k in np.nonzero(hi > lo)[0]:
        # rows whose centre line the edge crosses (half-open in y, so a vertex is counted once)
        i0, i1 = np.searchsorted(y, lo[k], "left"), np.searchsorted(y, hi[k], "left")
        if i1 <= i0:
            continue
        rows = np.arange(i0, i1)
        xc = x0[k] + (y[rows] - y0[k]) * (x1[k] - x0[k]) / (y1[k] - y0[k])
        # a crossing left of sample j's centre counts for j and every sample to its right
        np.add.at(crossings, (rows, np.searchsorted(x, xc, "right")), 1)
    return (np.cumsum(crossings, axis=1)[:, :nx] % 2) == 1


def _edge_distance(segments: np.ndarray, grid: Grid, reach_um: float) -> np.ndarray:
    """Distance of each sample centre to the nearest edge, µm, exact below ``reach_um`` (capped there)."""
    ny, nx = grid.shape
    x, y = grid.x_um, grid.y_um
    out = np.full((ny, nx), float(reach_um))
    for x0, y0, x1, y1 in segments:
        # only samples within reach of this edge can have it as their nearest edge within reach
        j0, j1 = np.searchsorted(x, min(x0, x1) - reach_um), np.searchsorted(x, max(x0, x1) + reach_um)
        i0, i1 = np.searchsorted(y, min(y0, y1) - reach_um), np.searchsorted(y, max(y0, y1) + reach_um)
        if j1 <= j0 or i1 <= i0:
            continue
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        px, py = x[None, j0:j1] - x0, y[i0:i1, None] - y0
        t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0) if length2 > 0 else np.zeros((1, 1))
        d = np.hypot(px - t * dx, py - t * dy)
        np.minimum(out[i0:i1, j0:j1], d, out=out[i0:i1, j0:j1])
    return out


# --------------------------------------------------------------------------- coating

def _transfer(k_um: np.ndarray, levelling_length_um: float, kernel: str) -> np.ndarray:
    """T(k) of the levelling: exp(−(kL)⁴) (capillary) or exp(−(kL)²/2) (gaussian)."""
    kl = k_um * levelling_length_um
    if kernel == "capillary":
        return np.exp(-(kl * kl) ** 2)
    if kernel == "gaussian":
        return np.exp(-0.5 * kl * kl)
    raise LithoInputError(f"levelling kernel {kernel!r}: accepted: {', '.join(LEVELLING_KERNELS)}")


def levelled_surface_nm(substrate_nm: np.ndarray, levelling_length_um: float, pixel_um: float, *,
                        periodic: bool = False, kernel: str = "capillary") -> np.ndarray:
    """The substrate's topography as the levelled free surface carries it: T(k)·b̂(k), nm (mean kept).

    Parameters
    ----------
    substrate_nm : ndarray (ny, nx)
        Substrate height b, nm.
    levelling_length_um : float
        L, µm; 0 returns ``substrate_nm`` itself, ``inf`` its mean everywhere.
    pixel_um : float
        Sample pitch, µm.
    periodic : bool
        The array is one period (FFT filter); otherwise the edges are mirror
        planes (a DCT filter: no film flows through the window's edge).
    kernel : str
        See :func:`_transfer`.
    """
    import scipy.fft

    b = np.asarray(substrate_nm, dtype=np.float64)
    if levelling_length_um == 0.0:
        return b.copy()
    if math.isinf(levelling_length_um):
        return np.full(b.shape, float(b.mean()))
    ny, nx = b.shape
    if periodic:
        ky = 2.0 * math.pi * scipy.fft.fftfreq(ny, pixel_um)
        kx = 2.0 * math.pi * scipy.fft.rfftfreq(nx, pixel_um)
        k = np.hypot(ky[:, None], kx[None, :])
        return scipy.fft.irfft2(scipy.fft.rfft2(b) * _transfer(k, levelling_length_um, kernel), s=(ny, nx))
    # DCT-II modes of an even (mirror) extension: k = π·m / (n·dx)
    ky = math.pi * np.arange(ny) / (ny * pixel_um)
    kx = math.pi * np.arange(nx) / (nx * pixel_um)
    k = np.hypot(ky[:, None], kx[None, :])
    spectrum = scipy.fft.dctn(b, type=2, norm="ortho")
    return scipy.fft.idctn(spectrum * _transfer(k, levelling_length_um, kernel), type=2, norm="ortho")


def coated_thickness_nm(substrate_nm: np.ndarray, planar_thickness_nm: float, levelling_length_um: float,
                        pixel_um: float, *, periodic: bool = False, kernel: str = "capillary",
                        solids_fraction: float = 1.0) -> np.ndarray:
    """Dry film thickness h0(x, y) coated over ``substrate_nm``, nm (see the module docstring).

    The wet film (mean thickness h̄/φ, φ = ``solids_fraction``) levels:
    h_wet = max(c + T∗b − b, 0), c = h̄/φ, raised where a bank top pierces
    the surface so that mean(h_wet) = h̄/φ (the dispensed volume per area);
    then it dries in place, h0 = φ·h_wet, so mean(h0) = ``planar_thickness_nm``.

    Returns
    -------
    ndarray (ny, nx), float64, >= 0
    """
    b = np.asarray(substrate_nm, dtype=np.float64)
    h_bar = float(planar_thickness_nm)
    phi = float(solids_fraction)
    relief = levelled_surface_nm(b, levelling_length_um, pixel_um, periodic=periodic, kernel=kernel) - b
    if (h_bar / phi + relief).min() >= 0.0:
        return h_bar + phi * relief        # = φ·(h̄/φ + relief), exactly h̄ where the relief is 0
    return phi * np.maximum(_volume_offset(relief.ravel(), h_bar / phi) + relief, 0.0)


def _volume_offset(relief: np.ndarray, mean_nm: float) -> float:
    """The c with mean(max(c + relief, 0)) = mean_nm: exact, on the sorted relief (piecewise linear in c)."""
    d = np.sort(relief)[::-1]
    n = d.size
    k = np.arange(1, n + 1)
    # with the k highest samples wet: c_k = (n·mean − Σ_{i<=k} d_i)/k, valid when d_{k+1} <= −c_k < d_k
    c = (n * mean_nm - np.cumsum(d)) / k
    nxt = np.append(d[1:], -np.inf)
    valid = (c + d > 0) & (c + nxt <= 0)
    return float(c[np.argmax(valid)])


# --------------------------------------------------------------------------- on the simulation grid

@dataclass(frozen=True)
class SubstrateMap:
    """The substrate of a recipe on the simulation grid.

    Attributes
    ----------
    spec : Substrate
    grid : Grid
    bank : shapely geometry
        The bank footprint as read, µm.
    openings : tuple of shapely Polygon
        The PDL openings inside the array (where there is no bank), µm.
    height_um : ndarray (ny, nx)
        Substrate height b, µm.
    periodic : bool
    """

    spec: Substrate
    grid: Grid
    bank: Any
    openings: tuple
    height_um: np.ndarray
    periodic: bool = False


@dataclass(frozen=True)
class Coating:
    """One step's film as coated over the substrate.

    Attributes
    ----------
    substrate : SubstrateMap
    planar_thickness_nm : float
        The film's thickness on a flat substrate (the recipe's ``film.thickness``).
    thickness_nm : ndarray (ny, nx)
        Coated thickness h0(x, y), nm.
    """

    substrate: SubstrateMap
    planar_thickness_nm: float
    thickness_nm: np.ndarray


def prepare_substrate(recipe, grid: Grid) -> SubstrateMap | None:
    """Read the recipe's bank layer and lay the substrate on ``grid`` (None without ``[substrate]``)."""
    from .gds import read_mask

    spec = getattr(recipe, "substrate", None)
    if spec is None:
        return None
    periodic = recipe.simulation.window == "periodic"
    mask = read_mask(spec.file, layer=spec.bank_layer, cell=spec.cell)
    bank = mask.geometry
    height = bank_height_um(bank, grid, spec.bank_height_um, spec.sidewall_deg, periodic=periodic)
    xmin, ymin, xmax, ymax = grid.bounds_um
    free = box(xmin, ymin, xmax, ymax).difference(bank)
    # openings touching the grid's edge are the field outside the bank, not pixel openings (isolated window)
    openings = []
    for g in getattr(free, "geoms", [free]):
        if g.is_empty or g.geom_type != "Polygon":
            continue
        gx0, gy0, gx1, gy1 = g.bounds
        touches = min(gx0 - xmin, gy0 - ymin, xmax - gx1, ymax - gy1) < 1e-9
        if periodic or not touches:
            openings.append(g)
    openings.sort(key=lambda p: (round(p.centroid.y, 6), round(p.centroid.x, 6)))
    return SubstrateMap(spec=spec, grid=grid, bank=bank, openings=tuple(openings), height_um=height,
                        periodic=periodic)


def coat(substrate: SubstrateMap, film) -> Coating:
    """Coat ``film`` (its ``thickness_nm`` is the planar thickness) over ``substrate``."""
    spec = substrate.spec
    thickness = coated_thickness_nm(1e3 * substrate.height_um, film.thickness_nm, spec.levelling_length_um,
                                    substrate.grid.pixel_um, periodic=substrate.periodic,
                                    kernel=spec.levelling_kernel, solids_fraction=spec.solids_fraction)
    return Coating(substrate=substrate, planar_thickness_nm=float(film.thickness_nm), thickness_nm=thickness)


def without_absent_film(developed, coating: Coating):
    """``developed`` with h/h0 = 0 where no film was coated (h0 = 0: nothing to retain)."""
    absent = coating.thickness_nm <= 0.0
    if not absent.any():
        return developed
    nrt = np.where(absent, 0.0, developed.remaining_thickness)
    return dataclasses.replace(developed, remaining_thickness=nrt)
