"""Mirror and quarter-turn symmetries of a mask raster, and the illumination directions they make redundant.

A direction sum (the collimation cone of a mask aligner, the source of a
projection tool) images the mask once per direction ``a``:
``I = Σ_d w_d I_d``. When the transmission t on its periodic FFT grid is
unchanged by an element g of the square's symmetry group D4 (mirrors in x
and y, the diagonal mirrors, quarter turns) about a centre, and the transfer
function is radial in the tilted frequency (H(f + a) depends on |f + a|
only), then

    E_a(g x) = E_{gᵀa}(x),   so   I_{gᵀa} = I_a ∘ g.

The directions of one orbit under the mask's symmetry group G then give one
image mapped by the elements of G, and

    Σ_d w_d I_d = mean_{g ∈ G} ( Σ_r W_r I_r ) ∘ g,

with one representative r per orbit and W_r the orbit's total weight. This
is exact (a rearrangement of the sum, not an approximation), so a square
imaged under a rule of 8·k azimuths costs one direction in eight, a line or
a stripe subpixel one in four. Masks without a symmetry (most real layouts)
are imaged direction by direction as before.

The centre is found from the profiles of |t|² (a mirror-symmetric raster
has mirror-symmetric row and column sums) or, for a raster with only
diagonal mirrors or turns, its centroid, and confirmed on the whole raster
to :data:`RASTER_TOLERANCE`.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

#: Largest |t∘g − t|, as a fraction of max |t|, for g to count as a symmetry: rasters of
#: mirror-symmetric polygons agree to rounding (the coverage of a pixel is an area).
RASTER_TOLERANCE = 1e-12
#: Largest mismatch of a mapped direction sine to count as the same direction.
DIRECTION_TOLERANCE = 1e-12
#: Candidate centres per axis confirmed on the whole raster (a periodic raster has several).
MAX_CENTRE_CANDIDATES = 4

# D4 as integer matrices acting on (x, y) offsets from the centre, identity first.
D4 = (
    (1, 0, 0, 1), (-1, 0, 0, 1), (1, 0, 0, -1), (-1, 0, 0, -1),
    (0, 1, 1, 0), (0, -1, -1, 0), (0, -1, 1, 0), (0, 1, -1, 0),
)


def _diagonal(g) -> bool:
    return g[1] == 0 and g[2] == 0


@dataclass(frozen=True)
class RasterSymmetry:
    """The D4 elements that leave a periodic raster unchanged about one centre.

    Attributes
    ----------
    shape : (int, int)
        Raster shape ``(ny, nx)``.
    centre2 : (int, int)
        Twice the centre in samples, ``(2·cy, 2·cx)`` (the centre sits on a
        sample or half-way between two).
    elements : tuple of (int, int, int, int)
        Matrices ``(a, b, c, d)`` of ``(x, y) -> (a·x + b·y, c·x + d·y)``,
        the identity first; a group.
    """

    shape: tuple[int, int]
    centre2: tuple[int, int]
    elements: tuple[tuple[int, int, int, int], ...]

    @property
    def order(self) -> int:
        return len(self.elements)

    def apply(self, image: np.ndarray, g) -> np.ndarray:
        """``image ∘ g`` on the raster's grid: ``out[p] = image[g·p]`` about the centre."""
        return mapped(image, self.centre2, g)

    def symmetrize(self, image: np.ndarray) -> np.ndarray:
        """The mean of ``image ∘ g`` over the group (the full direction sum from the representatives')."""
        out = np.array(image, dtype=np.float64, copy=True)
        for g in _chain(self.elements):
            out += self.apply(out, g)
            out *= 0.5
        return out

    def orbits(self, sx: np.ndarray, sy: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """One representative per orbit of the directions and the orbit's weight.

        Parameters
        ----------
        sx, sy, weights : ndarray, shape (n,)
            Direction sines and weights of a rule.

        Returns
        -------
        (index, weight) : ndarray of int, ndarray of float
            Indices of the representatives in the rule and their orbit
            weights; None when the rule is not closed under the group or
            its weights differ within an orbit (then sum every direction).
        """
        sx, sy, weights = (np.asarray(v, dtype=np.float64) for v in (sx, sy, weights))
        n = sx.size
        scale = max(float(np.max(np.abs(sx), initial=0.0)), float(np.max(np.abs(sy), initial=0.0)), 1e-300)
        tol = DIRECTION_TOLERANCE * scale
        seen = np.zeros(n, dtype=bool)
        reps, orbit_weights = [], []
        for i in range(n):
            if seen[i]:
                continue
            members = set()
            for a, b, c, d in self.elements:
                # the orbit of a under G is {gᵀa}; gᵀ runs over G as g does (G is a group)
                tx, ty = a * sx[i] + c * sy[i], b * sx[i] + d * sy[i]
                hit = np.flatnonzero((np.abs(sx - tx) <= tol) & (np.abs(sy - ty) <= tol))
                if hit.size != 1:
                    return None
                members.add(int(hit[0]))
            members = sorted(members)
            w = weights[members]
            if np.any(np.abs(w - w[0]) > 1e-12 * max(abs(w[0]), 1e-300)):
                return None
            seen[members] = True
            reps.append(i)
            orbit_weights.append(float(w.sum()))
        return np.asarray(reps), np.asarray(orbit_weights)


def mapped(image: np.ndarray, centre2: tuple[int, int], g) -> np.ndarray:
    """``image ∘ g`` about the doubled centre ``(2·cy, 2·cx)``: ``out[p] = image[g·p]`` (views and rolls)."""
    my, mx = centre2
    a, b, c, d = g
    if _diagonal(g):
        # x -> a·x about cx: index j -> a·(j − cx) + cx, i.e. j or 2cx − j
        return _axis_map(_axis_map(image, -1, a, 0 if a == 1 else mx), -2, d, 0 if d == 1 else my)
    # x' = b·y, y' = c·x: the transpose, then index maps along its rows and columns
    shift_x, shift_y = (mx - b * my) // 2, (my - c * mx) // 2
    return _axis_map(_axis_map(image.T, 0, b, shift_x), 1, c, shift_y)


def _axis_map(image: np.ndarray, axis: int, sign: int, shift: int) -> np.ndarray:
    """``out[j] = image[(sign·j + shift) mod n]`` along ``axis`` (views and one roll, no gather)."""
    if sign == 1:
        return np.roll(image, -shift, axis=axis) if shift else image
    flipped = np.flip(image, axis=axis)
    # flipped[k] = image[n − 1 − k]; rolling it by shift + 1 gives image[(shift − j) mod n]
    return np.roll(flipped, shift + 1, axis=axis)


def _centre_candidates(profile: np.ndarray) -> list[int]:
    """Doubled centres m with profile[(m − j) mod n] = profile[j], best first."""
    n = profile.size
    spec = np.fft.fft(profile)
    # Σ_j p(j) p(m − j) reaches Σ p² exactly at the mirror centres (Cauchy–Schwarz)
    conv = np.fft.ifft(spec * spec).real
    top = float(np.dot(profile, profile))
    if top == 0:
        return [0]
    close = [int(m) for m in np.flatnonzero(conv >= top * (1 - 1e-9))[:MAX_CENTRE_CANDIDATES]]
    # a raster with only diagonal mirrors or turns has no mirror-symmetric profile; its centre,
    # for a pattern inside the raster, is the centroid
    centroid = int(round(2 * float(np.dot(np.arange(n), profile)) / float(profile.sum()))) % (2 * n)
    return close + ([centroid] if centroid not in close else [])


def _compose(g, h) -> tuple[int, int, int, int]:
    """The matrix product g·h (apply h, then g)."""
    a, b, c, d = g
    e, f, u, v = h
    return (a * e + b * u, a * f + b * v, c * e + d * u, c * f + d * v)


@functools.lru_cache(maxsize=None)
def _chain(elements) -> tuple:
    """Elements g1..gk whose products g1^a1···gk^ak (a_i in {0, 1}) are the group, each once.

    The mean over the group is then k passes ``f -> (f + f∘g)/2`` instead of
    |G| − 1 mapped copies (three passes for the eight elements of D4).
    """
    group = set(elements)
    k = len(group).bit_length() - 1
    others = [g for g in elements if g != D4[0]]
    for chain in itertools.permutations(others, k):
        products = {D4[0]}
        for g in chain:
            products |= {_compose(p, g) for p in products}
        if products == group and len(products) == 2 ** k:
            return chain
    raise ValueError(f"no chain of passes for the group {elements}")


def _profiles_allow(px: np.ndarray, py: np.ndarray, centre2, g, tolerance: float) -> bool:
    """Whether the row and column sums of ``t∘g`` can equal those of t (a cheap test before the raster's)."""
    my, mx = centre2
    if _diagonal(g):
        qx = mapped(px, (0, mx), (g[0], 0, 0, 1))
        qy = mapped(py, (0, my), (g[3], 0, 0, 1))
    else:
        b, c = g[1], g[2]
        # the column sums of t∘g are t's row sums read at c·j + shift_y, and the other way round
        qx = py[(c * np.arange(px.size) + (my - c * mx) // 2) % py.size]
        qy = px[(b * np.arange(py.size) + (mx - b * my) // 2) % px.size]
    return bool(np.max(np.abs(qx - px)) <= tolerance * py.size and np.max(np.abs(qy - py)) <= tolerance * px.size)


def _holds(t: np.ndarray, centre2, g, tolerance: float) -> bool:
    return float(np.max(np.abs(mapped(t, centre2, g) - t))) <= tolerance


def find(transmission: np.ndarray) -> RasterSymmetry | None:
    """The D4 symmetry group of a periodic raster about its centre, or None when it has none.

    Parameters
    ----------
    transmission : ndarray, shape (ny, nx), real or complex
        The padded mask transmission on its FFT grid.

    Returns
    -------
    RasterSymmetry or None
        None when no element but the identity leaves the raster unchanged.
    """
    t = np.asarray(transmission)
    if t.ndim != 2 or t.size == 0:
        return None
    ny, nx = t.shape
    power = np.abs(t) ** 2 if np.iscomplexobj(t) else np.asarray(t, dtype=np.float64)
    px, py = power.sum(axis=0), power.sum(axis=1)
    tolerance = RASTER_TOLERANCE * max(float(np.max(np.abs(t))), 1e-300)
    power_tolerance = RASTER_TOLERANCE * max(float(np.max(power)), 1e-300) * 4
    best = None
    # a mirror about c on a periodic axis of n samples is one about c + n/2 too (2c is found
    # modulo n); the diagonal mirrors and quarter turns need the right one of the two
    for mx0 in _centre_candidates(px):
        for my in _centre_candidates(py):
            def holding(elements, centre2):
                return [g for g in elements if _profiles_allow(px, py, centre2, g, power_tolerance)
                        and _holds(t, centre2, g, tolerance)]

            # the axis mirrors and the half turn do not tell c from c + n/2: tested once
            axes = [D4[0]] + holding(D4[1:4], (my, mx0))
            for mx in (mx0, mx0 + nx):
                kept = axes + (holding(D4[4:], (my, mx)) if ny == nx and (mx - my) % 2 == 0 else [])
                if best is None or len(kept) > best.order:
                    best = RasterSymmetry((ny, nx), (my, mx), tuple(kept))
                if best.order == 8:
                    return best
    return best if best is not None and best.order > 1 else None
