"""Illumination sources of projection optics, in pupil-fill coordinates σ.

A source point at ``(σx, σy)`` is a plane wave whose transverse frequency is
``σ·NA/λ``; σ = 1 fills the pupil. Shapes are described independently of any
sampling, then sampled once on a stated Cartesian grid of step ``step_sigma``
centred on the axis; each point's weight is the area of its cell inside the
shape (8 × 8 supersampling), so weights vary smoothly with the shape's
parameters. The grid is symmetric under x and y mirrors and the x↔y swap, so
a symmetric shape gives exactly symmetric point sets.

Shapes (PHYSICS.md §2): conventional (disc σ), annular (σ_in, σ_out),
dipole and quadrupole (poles of radius ``sigma_radius`` centred at
``sigma_centre``, rotated by ``orientation_deg``), and a user map. The
"incoherent" shape is the limit σ → ∞ (a self-luminous object such as a
micro-LED array, or a diffuser far larger than the pupil): the image is then
the intensity transmission convolved with the point-spread function, and is
computed that way rather than by source points.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import LithoInputError
from ..fields import show as _show
from . import _checks

OWNER = "Source"
SHAPES = ("conventional", "annular", "dipole", "quadrupole", "map", "incoherent")
SUPERSAMPLE = 8


@dataclass(frozen=True)
class Source:
    """An illumination shape in σ units (see the module notes).

    Use the constructors :func:`conventional`, :func:`annular`, :func:`dipole`,
    :func:`quadrupole` and :func:`source_map` rather than this class directly.

    Attributes
    ----------
    shape : str
        One of "conventional", "annular", "dipole", "quadrupole", "map".
    sigma_in, sigma_out : float
        Inner and outer radius (conventional: ``sigma_in = 0``).
    sigma_centre, sigma_radius : float
        Pole centre distance and pole radius (dipole, quadrupole).
    orientation_deg : float
        Dipole: angle of the pole axis from x. Quadrupole: angle of the first
        pole from x (45 = poles on the diagonals, "quasar").
    map_weights : tuple of tuple of float, optional
        A user map (n × n) covering σx, σy ∈ [−1, 1]; its pixel centres are the
        source points (``step_sigma`` = 2/n).
    """

    shape: str
    sigma_in: float = 0.0
    sigma_out: float = 0.0
    sigma_centre: float = 0.0
    sigma_radius: float = 0.0
    orientation_deg: float = 0.0
    map_weights: tuple | None = None

    def __post_init__(self):
        _checks.choice(OWNER, "shape", self.shape, SHAPES)
        if self.shape in ("map", "incoherent"):
            return
        for name in ("sigma_in", "sigma_out", "sigma_centre", "sigma_radius"):
            object.__setattr__(self, name, _checks.number(OWNER, name, getattr(self, name), lo=0, hi=1,
                                                          what="fraction of the pupil, σ"))
        object.__setattr__(self, "orientation_deg",
                           _checks.number(OWNER, "orientation_deg", self.orientation_deg, what="degrees"))
        if self.shape == "annular" and not self.sigma_in < self.sigma_out:
            raise LithoInputError(f"{OWNER}.sigma_in = {self.sigma_in:g}: must be < sigma_out = "
                                  f"{self.sigma_out:g} for an annular source")
        if self.shape in ("dipole", "quadrupole"):
            if not self.sigma_radius > 0:
                raise LithoInputError(f"{OWNER}.sigma_radius = {self.sigma_radius:g}: a pole needs a radius > 0")
            if self.sigma_centre + self.sigma_radius > 1 + 1e-12:
                raise LithoInputError(
                    f"{OWNER}.sigma_centre + sigma_radius = {self.sigma_centre + self.sigma_radius:g}: "
                    "the poles must lie inside the pupil (<= 1)")

    @property
    def sigma_max(self) -> float:
        """Largest σ carrying light."""
        if self.shape in ("conventional", "annular"):
            return self.sigma_out
        if self.shape in ("dipole", "quadrupole"):
            return self.sigma_centre + self.sigma_radius
        if self.shape == "incoherent":
            return 1.0  # sets the image band 2·NA/λ, as for σ = 1
        w = np.asarray(self.map_weights)
        n = w.shape[0]
        c = (np.arange(n) + 0.5) * (2.0 / n) - 1.0
        r = np.hypot(c[None, :], c[:, None])
        return float(min(1.0, r[w > 0].max())) if np.any(w > 0) else 0.0

    @property
    def symmetric(self) -> bool:
        """True if the sampled shape is unchanged by σ → −σ (a point reflection)."""
        if self.shape != "map":
            return True  # discs, rings, pole pairs/quads and the incoherent limit are point-symmetric
        w = np.asarray(self.map_weights)
        return bool(np.allclose(w, w[::-1, ::-1], rtol=1e-12, atol=0))

    def contains(self, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
        """Boolean membership of points (σ units); not used for maps."""
        r = np.hypot(sx, sy)
        if self.shape in ("conventional", "annular"):
            inside = r <= self.sigma_out
            if self.sigma_in > 0:
                inside &= r >= self.sigma_in
            return inside
        n_poles = 2 if self.shape == "dipole" else 4
        inside = np.zeros(np.broadcast(sx, sy).shape, dtype=bool)
        for k in range(n_poles):
            a = math.radians(self.orientation_deg) + k * 2 * math.pi / n_poles
            inside |= np.hypot(sx - self.sigma_centre * math.cos(a),
                               sy - self.sigma_centre * math.sin(a)) <= self.sigma_radius
        return inside

    def reach(self, step_sigma: float = 0.05) -> float:
        """Largest |σ| of the sampled points (a partly covered edge cell may sit
        just beyond ``sigma_max``); this, not ``sigma_max``, sets the image band."""
        if self.shape == "incoherent":
            return 1.0
        sx, sy, _ = self.points(step_sigma)
        return float(np.max(np.hypot(sx, sy)))

    def cell_sigma(self, step_sigma: float = 0.05) -> float:
        """Side of the square cell each source point stands for, σ (0 for a single coherent point)."""
        if self.shape == "map":
            return 2.0 / len(self.map_weights)
        if self.shape == "incoherent":
            return 0.0
        sx, _, _ = self.points(step_sigma)
        return 0.0 if sx.size == 1 else float(step_sigma)

    def points(self, step_sigma: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Source points and weights.

        Parameters
        ----------
        step_sigma : float
            Pitch of the sampling grid in σ (ignored for maps, whose pixels are the grid).

        Returns
        -------
        sx, sy, weight : ndarray, shape (n,)
            Points in σ units (multiply by NA/λ for frequencies) and weights
            summing to 1. A source smaller than one cell is one point on axis.
        """
        return _points(self, float(step_sigma))

    def _points(self, step_sigma: float):
        if self.shape == "incoherent":
            raise LithoInputError("an incoherent source has no finite set of source points; "
                                  "it is imaged through the optical transfer function")
        if self.shape == "map":
            w = np.asarray(self.map_weights, dtype=float)
            n = w.shape[0]
            c = (np.arange(n) + 0.5) * (2.0 / n) - 1.0
            sx, sy = np.meshgrid(c, c)
            keep = (w > 0) & (np.hypot(sx, sy) <= 1 + 1e-12)
            if not np.any(keep):
                raise LithoInputError("source map: no light inside the pupil (σ <= 1)")
            weights = w[keep]
            return sx[keep], sy[keep], weights / weights.sum()
        reach = self.sigma_max
        half = int(math.ceil(reach / step_sigma + 0.5))
        centres = np.arange(-half, half + 1) * step_sigma
        sub = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE - 0.5
        offsets = sub * step_sigma
        cx, cy = np.meshgrid(centres, centres)
        cover = np.zeros(cx.shape)
        for oy in offsets:
            for ox in offsets:
                cover += self.contains(cx + ox, cy + oy)
        cover /= SUPERSAMPLE ** 2
        keep = cover > 0
        if not np.any(keep) or reach < 0.5 * step_sigma / SUPERSAMPLE:
            return np.zeros(1), np.zeros(1), np.ones(1)  # coherent: one point on axis
        weights = cover[keep]
        return cx[keep], cy[keep], weights / weights.sum()


@functools.lru_cache(maxsize=64)
def _points(source: Source, step_sigma: float):
    sx, sy, w = source._points(step_sigma)
    for a in (sx, sy, w):
        a.setflags(write=False)
    return sx, sy, w


def conventional(sigma: float) -> Source:
    """A disc of radius ``sigma`` (0 = coherent, 1 = fills the pupil)."""
    _checks.number("ProjectionOptics", "sigma", sigma, lo=0, hi=1, what="partial coherence, fraction of NA")
    return Source("conventional", sigma_in=0.0, sigma_out=float(sigma))


def annular(sigma_in: float, sigma_out: float) -> Source:
    """A ring ``sigma_in <= σ <= sigma_out``."""
    return Source("annular", sigma_in=sigma_in, sigma_out=sigma_out)


def dipole(sigma_centre: float, sigma_radius: float, orientation_deg: float = 0.0) -> Source:
    """Two poles at ±``sigma_centre`` along ``orientation_deg`` (0 = along x)."""
    return Source("dipole", sigma_centre=sigma_centre, sigma_radius=sigma_radius, orientation_deg=orientation_deg)


def quadrupole(sigma_centre: float, sigma_radius: float, orientation_deg: float = 45.0) -> Source:
    """Four poles at ``sigma_centre``, the first at ``orientation_deg`` (45 = quasar on the diagonals)."""
    return Source("quadrupole", sigma_centre=sigma_centre, sigma_radius=sigma_radius,
                  orientation_deg=orientation_deg)


def incoherent() -> Source:
    """The incoherent limit σ → ∞: I = |t|² ⊗ PSF (self-luminous or fully diffuse illumination)."""
    return Source("incoherent")


def source_map(weights, field: str = "source") -> Source:
    """A user source map: a square array (or .npy / image file) over σx, σy ∈ [−1, 1].

    Row 0 is σy = −1 (the array convention of litho: rows are y, increasing);
    non-negative values, at least one positive inside the pupil.
    """
    if isinstance(weights, (str, Path)):
        weights = _read_map(Path(weights), field)
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1] or w.shape[0] < 2:
        raise LithoInputError(f"{field}: a source map must be a square 2-D array (n × n, n >= 2) "
                              f"over σ in [-1, 1]; got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise LithoInputError(f"{field}: source map values must be finite and >= 0")
    if not w.sum() > 0:
        raise LithoInputError(f"{field}: the source map is all zero")
    return Source("map", map_weights=tuple(map(tuple, w.tolist())))


def _read_map(path: Path, field: str) -> np.ndarray:
    if not path.exists():
        raise LithoInputError(f"{field} = {str(path)!r}: no such source-map file")
    if path.suffix.lower() == ".npy":
        return np.load(path)
    try:
        import matplotlib.image as mpimg

        img = np.asarray(mpimg.imread(path), dtype=float)
    except Exception as err:  # unreadable image: say so in one line
        raise LithoInputError(f"{field} = {str(path)!r}: cannot read the source map ({err})") from None
    if img.ndim == 3:
        img = img[..., :3].mean(axis=2)
    return img[::-1]  # image files store the top row first; σy increases upwards


def from_spec(spec: Any, *, sigma: float | None = None, extra: Mapping[str, Any] | None = None,
              base_dir: Path | None = None, field: str = "source") -> Source:
    """Build a :class:`Source` from the forms a user may write.

    ``spec`` may be a :class:`Source`, an array (a map), a file path (map), a
    shape name with parameters in ``extra`` (``sigma_in``, ``sigma_out``,
    ``sigma_centre``, ``sigma_radius``, ``orientation_deg``), or a mapping
    ``{"shape": name, ...parameters}``.
    """
    extra = dict(extra or {})
    if isinstance(spec, Source):
        return spec
    if isinstance(spec, np.ndarray) or (isinstance(spec, (list, tuple)) and spec and
                                        isinstance(spec[0], (list, tuple, np.ndarray))):
        return source_map(spec, field)
    if isinstance(spec, Mapping):
        extra = {**dict(spec), **extra}
        spec = extra.pop("shape", None)
        if spec is None:
            raise LithoInputError(f"{field}: a source table needs shape = one of {', '.join(SHAPES)}")
    if isinstance(spec, (str, Path)):
        name = str(spec).strip().lower()
        if name not in SHAPES:
            path = Path(spec)
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            if path.suffix.lower() in (".npy", ".png", ".tif", ".tiff", ".jpg", ".bmp") or path.exists():
                return source_map(path, field)
            raise LithoInputError(f"{field} = {_show(spec)}: must be one of {', '.join(SHAPES[:-1])}, "
                                  "a source-map file (.npy, .png) or an array")
        allowed = {"conventional": ("sigma", "sigma_out"), "annular": ("sigma_in", "sigma_out"),
                   "dipole": ("sigma_centre", "sigma_radius", "orientation_deg"),
                   "quadrupole": ("sigma_centre", "sigma_radius", "orientation_deg"),
                   "incoherent": ()}.get(name, ())
        unknown = sorted(set(extra) - set(allowed))
        if unknown:
            raise LithoInputError(f"{field}: {', '.join(unknown)} not used by a {name} source; "
                                  f"it takes {', '.join(allowed)}")
        if name == "incoherent":
            return incoherent()
        if name == "conventional":
            s = extra.get("sigma", extra.get("sigma_out", sigma if sigma is not None else 0.5))
            return conventional(s)
        missing = [k for k in allowed if k not in extra and k != "orientation_deg"]
        if missing:
            raise LithoInputError(f"{field}: a {name} source needs {', '.join(missing)}")
        if name == "annular":
            return annular(extra["sigma_in"], extra["sigma_out"])
        if name == "dipole":
            return dipole(extra["sigma_centre"], extra["sigma_radius"], extra.get("orientation_deg", 0.0))
        return quadrupole(extra["sigma_centre"], extra["sigma_radius"], extra.get("orientation_deg", 45.0))
    raise LithoInputError(f"{field} = {_show(spec)}: give a shape name, a table, a map array or a map file")
