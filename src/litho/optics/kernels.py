"""Hopkins transmission cross-coefficients and their SOCS decomposition.

PHYSICS.md §2. For a source of points ``f_s`` with weights ``w_s`` and a
pupil ``P``,

    TCC(f1, f2) = Σ_s w_s P(f1 + f_s) P*(f2 + f_s) = (B Bᴴ)(f1, f2),
    B[f, s]     = √w_s · P(f + f_s),

and the image of a mask spectrum ``T`` is
``I = Σ_k λ_k |F⁻¹{T φ_k}|²`` with ``TCC = Σ_k λ_k φ_k φ_kᴴ`` (SOCS).

The TCC is built only on the band-limited frequency set of the grid
(``|f| <= NA(1 + σ_max)/λ``), where it is non-zero. Its rank is at most the
number of source points, so when the band holds more frequencies than the
source has points the same eigen-decomposition is taken from the small Gram
matrix ``G = Bᴴ B`` (same non-zero eigenvalues; ``φ_k = B v_k / √λ_k``).
Both routes use ``scipy.linalg.eigh`` and give exactly Abbe's image when
every kernel is kept.

Real fields. When the source is point-symmetric and the pupil obeys
``P(−f) = P*(f)`` (no defocus, no even aberrations), the TCC commutes with
``φ(f) → φ*(−f)``; in a basis adapted to that symmetry it is a real
symmetric matrix, and its eigenvectors give kernels whose fields are real
for a real mask. Two such fields are computed by one complex FFT
(``F⁻¹{T(√λ_a φ_a + i√λ_b φ_b)} = √λ_a U_a + i √λ_b U_b``), halving the
FFTs of a SOCS image.

Kernels are a property of optics + grid: they are cached in memory (key:
optics, wavelength, grid shape and pitch) and, given a directory (argument
or the ``LITHO_KERNEL_CACHE`` environment variable), on disk as ``.npz``.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.fft as sfft
import scipy.linalg

from ..errors import LithoInputError
from .cache import KERNEL_CACHE, load_entry, save_entry, usable_cache_dir
from .fused import add_squared_magnitude
from .pupil import noll_to_nm, pupil
from .window import WORKERS, BandPlan

CACHE_ENV = "LITHO_KERNEL_CACHE"
CACHE_VERSION = 4  # part of the file name; the entry format itself is cache.DISK_FORMAT
CHUNK_ELEMENTS = 1_000_000  # complex entries of B per chunk (16 MB; the pupil temporaries are a few times that)


@dataclass(frozen=True, eq=False)
class Kernels:
    """SOCS kernels of one optics setting, wavelength and grid.

    Attributes
    ----------
    eigenvalues : ndarray, shape (n_all,)
        Every eigenvalue of the TCC, descending, in units where the clear
        field images to 1 (``TCC(0, 0) = 1``); their sum is ``trace``.
    kept : int
        Number of kernels kept.
    tolerance : float
        Requested bound on the dropped fraction of the eigenvalue sum.
    dropped_energy : float
        Actual dropped fraction ``Σ_{k >= kept} λ_k / Σ λ_k``.
    trace : float
        ``trace(TCC)`` over the band-limited frequency set.
    kernels : ndarray, complex128, shape (kept, n_fy, n_fx)
        Orthonormal kernels φ_k (Σ|φ_k|² = 1) in the frequency domain, on the
        rows ``fy_per_um`` × columns ``fx_per_um``; zero outside the band
        ``|f| <= NA(1 + σ_max)/λ``.
    fy_per_um, fx_per_um : ndarray
        Frequencies of the kernel rows and columns, 1/µm.
    real_fields : bool
        True when the kernels give real fields for a real mask (see notes).
    route : str
        "tcc" (eigh of the TCC) or "gram" (eigh of the source Gram matrix).
    n_source_points : int
    n_frequencies : int
        Size of the band-limited frequency set the TCC lives on.
    shape : (int, int)
        FFT grid the kernels belong to.
    pixel_um, wavelength_nm : float
    build_time_s : float
        Time to build (or load) them.
    """

    eigenvalues: np.ndarray
    kept: int
    tolerance: float
    dropped_energy: float
    trace: float
    kernels: np.ndarray
    fy_per_um: np.ndarray
    fx_per_um: np.ndarray
    real_fields: bool
    route: str
    n_source_points: int
    n_frequencies: int
    shape: tuple[int, int]
    pixel_um: float
    wavelength_nm: float
    build_time_s: float
    _evaluation: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def nbytes(self) -> int:
        # the kernels plus one imaging-ready copy (packed pairs, :func:`evaluation_kernels`)
        return int(1.5 * self.kernels.nbytes + self.eigenvalues.nbytes)

    @property
    def clear_field(self) -> float:
        """Clear-field intensity of the kept kernels, Σ_kept λ_k |φ_k(0)|² (1 when all are kept)."""
        iy = int(np.argmin(np.abs(self.fy_per_um)))
        ix = int(np.argmin(np.abs(self.fx_per_um)))
        return float(np.sum(self.eigenvalues[:self.kept] * np.abs(self.kernels[:, iy, ix]) ** 2))

    def spatial(self, k: int) -> np.ndarray:
        """Kernel ``k`` in space on the FFT grid, centred at ``shape // 2``, shape ``shape``."""
        ny, nx = self.shape
        spec = np.zeros((ny, nx), dtype=np.complex128)
        iy = np.rint(self.fy_per_um * ny * self.pixel_um).astype(int) % ny
        ix = np.rint(self.fx_per_um * nx * self.pixel_um).astype(int) % nx
        spec[np.ix_(iy, ix)] = self.kernels[k]
        return np.fft.fftshift(sfft.ifft2(spec))


def _symmetric_pupil(optics) -> bool:
    """True if P(−f) = P*(f): no defocus and only odd-|m| Zernike terms."""
    if optics.defocus_um != 0.0:
        return False
    return all(abs(noll_to_nm(j)[1]) % 2 == 1 for j, _ in optics.zernike)


def _negation_pairs(fx: np.ndarray, fy: np.ndarray):
    """Index pairs (a, b) with point b = −point a (a < b) and fixed points; None if not symmetric."""
    scale = 1e9 / max(1e-300, float(np.max(np.abs(np.concatenate([fx, fy])))) or 1.0)
    kx, ky = np.rint(fx * scale).astype(np.int64), np.rint(fy * scale).astype(np.int64)
    lookup = {(a, b): i for i, (a, b) in enumerate(zip(kx.tolist(), ky.tolist()))}
    partner = np.empty(fx.size, dtype=np.int64)
    for i, (a, b) in enumerate(zip(kx.tolist(), ky.tolist())):
        j = lookup.get((-a, -b))
        if j is None:
            return None
        partner[i] = j
    idx = np.arange(fx.size)
    a = idx[partner > idx]
    return a, partner[a], idx[partner == idx]


def _to_real_basis(m: np.ndarray, pa, pb, pc) -> np.ndarray:
    """Qᴴ M Q for Q with columns (δa+δb)/√2, i(δa−δb)/√2, δc (see module notes)."""
    r = 1 / math.sqrt(2)
    x = np.concatenate([(m[:, pa] + m[:, pb]) * r, 1j * (m[:, pa] - m[:, pb]) * r, m[:, pc]], axis=1)
    y = np.concatenate([(x[pa] + x[pb]) * r, -1j * (x[pa] - x[pb]) * r, x[pc]], axis=0)
    return y


def _from_real_basis(v: np.ndarray, pa, pb, pc) -> np.ndarray:
    """Q v for real eigenvectors v (columns) of the real-basis matrix."""
    na, nc = pa.size, pc.size
    r = 1 / math.sqrt(2)
    out = np.empty((na * 2 + nc, v.shape[1]), dtype=np.complex128)
    vp, vm, vc = v[:na], v[na:2 * na], v[2 * na:]
    out[pa] = (vp + 1j * vm) * r
    out[pb] = (vp - 1j * vm) * r
    out[pc] = vc
    return out


def _pupil_is_real(optics) -> bool:
    return optics.defocus_um == 0.0 and not optics.zernike


def cell_fraction(distance, nx, ny, cell):
    """Fraction of a square cell (side ``cell``) on the inner side of a straight edge.

    ``distance`` is the signed distance of the cell centre from the edge
    (positive inside), ``(nx, ny)`` the edge normal. The projection of a
    uniform square onto the normal has a trapezoidal density, so the fraction
    is its piecewise-quadratic distribution function.
    """
    a = np.abs(nx) * cell
    b = np.abs(ny) * cell
    a, b = np.maximum(a, b), np.minimum(a, b)
    b = np.maximum(b, 1e-12 * cell)
    half = 0.5 * (a + b)
    inner = 0.5 * (a - b)
    d = np.clip(distance, -half, half)
    low = (d + half) ** 2 / (2 * a * b)
    mid = (d + 0.5 * a) / a
    high = 1 - (half - d) ** 2 / (2 * a * b)
    return np.where(d < -inner, low, np.where(d > inner, high, mid))


def cell_pupil(optics, wavelength_nm, gy, gx, cell_per_um: float) -> np.ndarray:
    """The pupil averaged over a source cell of side ``cell_per_um`` centred at each (gy, gx).

    The source integral ∫ S(s) P(f1 + s) P*(f2 + s) ds is taken cell by cell.
    A cell crossed by the edge of only one of the two pupils contributes
    exactly its covered fraction when the pupil is replaced by its cell
    average; only cells crossed by both edges (a few near the crossing
    points) err. That makes the source quadrature second order in the cell
    size, where point samples of the sharp pupil converge slowly (the image
    error of a square grid of points falls only as ~step^1.5). The pupil
    edge is taken straight across a cell (its curvature adds O(cell³/NA)).
    The phase (defocus, aberrations) is taken at the cell centre, clamped to
    the pupil edge. ``cell_per_um = 0`` gives the plain pupil.
    """
    if cell_per_um <= 0:
        if _pupil_is_real(optics):
            cutoff2 = (optics.na / (wavelength_nm * 1e-3)) ** 2 * (1 + 1e-12)
            return (gy * gy + gx * gx <= cutoff2).astype(np.float64)
        return pupil(gy, gx, wavelength_nm, optics.na, optics.defocus_um, optics.zernike, optics.immersion_index)
    cutoff = optics.na / (wavelength_nm * 1e-3)
    r = np.sqrt(gy * gy + gx * gx)
    rr = np.where(r > 0, r, 1.0)
    # at f = 0 (deep inside the pupil) any normal will do: take x
    frac = cell_fraction(cutoff - r, np.where(r > 0, gx / rr, 1.0), gy / rr, cell_per_um)
    if _pupil_is_real(optics):
        return frac
    clamp = np.minimum(1.0, cutoff * (1 - 1e-9) / rr)
    phase = pupil(gy * clamp, gx * clamp, wavelength_nm, optics.na, optics.defocus_um, optics.zernike,
                  optics.immersion_index)
    return frac * phase


def source_cell_per_um(optics, wavelength_nm) -> float:
    """Side of the source cells, 1/µm (0 for a single coherent point)."""
    return optics.source.cell_sigma(optics.source_step_sigma) * optics.na / (wavelength_nm * 1e-3)


def _pupil_columns(optics, wavelength_nm, fy, fx, sy, sx, sqrt_w) -> np.ndarray:
    """B[f, s] = √w_s P̄_s(f) for frequencies (rows) and source points (columns).

    P̄_s is the pupil averaged over source cell s (:func:`cell_pupil`). Real
    for an aberration-free pupil in focus, which quarters the cost of the
    matrix products that follow.
    """
    p = cell_pupil(optics, wavelength_nm, fy[:, None] + sy[None, :], fx[:, None] + sx[None, :],
                   source_cell_per_um(optics, wavelength_nm))
    p = p * sqrt_w[None, :]
    return p


def _cache_file(cache_dir: Path, key: tuple) -> Path:
    digest = hashlib.sha256(repr((CACHE_VERSION, key)).encode()).hexdigest()[:24]
    return cache_dir / f"socs-{digest}.npz"


def kernel_key(optics, shape, pixel_um, wavelength_nm, tolerance) -> tuple:
    return ("socs", optics.cache_token(), tuple(shape), float(pixel_um), float(wavelength_nm), float(tolerance))


def kernels_ready(optics, shape, pixel_um, wavelength_nm, tolerance: float | None = None) -> bool:
    """True if these kernels are in the memory cache or the on-disk cache (no build needed)."""
    tolerance = float(optics.kernel_tolerance if tolerance is None else tolerance)
    key = kernel_key(optics, (int(shape[0]), int(shape[1])), pixel_um, float(wavelength_nm), tolerance)
    if KERNEL_CACHE.get(key) is not None:
        return True
    folder = optics.kernel_cache_dir or os.environ.get(CACHE_ENV)
    return bool(folder) and _cache_file(Path(folder), key).exists()


def socs_kernels(optics, shape: tuple[int, int], pixel_um: float, wavelength_nm: float | None = None, *,
                 tolerance: float | None = None, cache_dir: str | os.PathLike | None = None) -> Kernels:
    """SOCS kernels of projection ``optics`` on an FFT grid.

    Parameters
    ----------
    optics : ProjectionOptics
    shape : (int, int)
        FFT grid ``(ny, nx)`` (the padded window for isolated images).
    pixel_um : float
        Grid pitch, µm.
    wavelength_nm : float, optional
        Spectral line; default the optics' first (or only) line.
    tolerance : float, optional
        Largest dropped fraction of the eigenvalue sum; default
        ``optics.kernel_tolerance``. 0 keeps every kernel (equals Abbe).
    cache_dir : path, optional
        Directory for the on-disk cache; default ``optics.kernel_cache_dir``
        or the ``LITHO_KERNEL_CACHE`` environment variable; none: memory only.

    Returns
    -------
    Kernels

    Examples
    --------
    >>> from litho.optics import ProjectionOptics, socs_kernels
    >>> k = socs_kernels(ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.5), (64, 64), 0.05)
    >>> bool(abs(k.eigenvalues.sum() - k.trace) < 1e-9), k.kept < k.eigenvalues.size
    (True, True)
    """
    t0 = time.perf_counter()
    wavelength_nm = float(wavelength_nm if wavelength_nm is not None else optics.lines[0][0])
    tolerance = float(optics.kernel_tolerance if tolerance is None else tolerance)
    shape = (int(shape[0]), int(shape[1]))
    key = kernel_key(optics, shape, pixel_um, wavelength_nm, tolerance)
    found = KERNEL_CACHE.get(key)
    if found is not None:
        return found
    # an unusable cache folder is found here, before the (possibly long) build: one warning, no disk cache
    cache_dir = usable_cache_dir(cache_dir or optics.kernel_cache_dir or os.environ.get(CACHE_ENV))
    path = _cache_file(cache_dir, key) if cache_dir else None
    if path is not None and path.exists():
        kernels = _load(path, key, shape, pixel_um, wavelength_nm, t0)
        if kernels is not None:
            return KERNEL_CACHE.put(key, kernels, kernels.nbytes)
    with __import__("threadpoolctl").threadpool_limits(max(1, (os.cpu_count() or 2) // 2), "blas"):
        kernels = _build(optics, shape, pixel_um, wavelength_nm, tolerance, t0)
    if path is not None:
        _save(path, key, kernels)
    return KERNEL_CACHE.put(key, kernels, kernels.nbytes)


def pupil_reach_per_um(optics, wavelength_nm) -> float:
    """Radius of one source point's cell-averaged pupil P̄_s around −s, 1/µm.

    The cell average (:func:`cell_pupil`) is non-zero up to half a cell
    diagonal beyond the NA; the trapezoid's half-width is at most cell/√2.
    """
    return optics.na / (wavelength_nm * 1e-3) + source_cell_per_um(optics, wavelength_nm) / math.sqrt(2)


def band_plan(optics, shape, pixel_um, wavelength_nm, narrow: bool = True) -> BandPlan:
    """The band plan of projection imaging: fields within NA(1 + σ_max)/λ.

    ``narrow`` sizes the field grid for the image band, the pupil's
    autocorrelation 2·(NA/λ + cell/√2), instead of twice the field band
    2·NA(1 + σ_max)/λ: every TCC entry couples two frequencies inside one
    shifted pupil, so the image holds nothing beyond it (about 3× fewer
    samples per field at σ 0.8). ``narrow=False`` is the earlier plan.
    """
    band = optics.na * (1 + optics.sigma_max) / (wavelength_nm * 1e-3)
    image_band = 2 * pupil_reach_per_um(optics, wavelength_nm) if narrow else None
    return BandPlan.make(shape, pixel_um, band, image_band)


def band_frequencies(plan: BandPlan, band_per_um: float):
    """Flat box indices and frequencies of the plan's box inside the disc ``|f| <= band``."""
    fy, fx = plan.fy_per_um, plan.fx_per_um
    f2 = fy[:, None] ** 2 + fx[None, :] ** 2
    inside = f2 <= band_per_um * band_per_um * (1 + 1e-12)
    index = np.flatnonzero(inside)
    gy, gx = np.divmod(index, fx.size)
    return index, fy[gy], fx[gx]


def _build(optics, shape, pixel_um, wavelength_nm, tolerance, t0) -> Kernels:
    lam_um = wavelength_nm * 1e-3
    # the plan the kernels are evaluated on (ProjectionOptics.line_intensity): the same grid choice
    plan = band_plan(optics, shape, pixel_um, wavelength_nm, narrow=optics.socs_image_band)
    band = optics.na * (1 + optics.sigma_max) / lam_um
    index, fy, fx = band_frequencies(plan, band)
    ssx, ssy, w = optics.source.points(optics.source_step_sigma)
    sx, sy = ssx * optics.na / lam_um, ssy * optics.na / lam_um
    sqrt_w = np.sqrt(w)
    n_f, n_s = fy.size, sx.size
    real = _symmetric_pupil(optics) and optics.source.symmetric
    route = "tcc" if n_f <= n_s else "gram"
    pairs = None
    if real:
        pairs = _negation_pairs(fx, fy) if route == "tcc" else _negation_pairs(ssx, ssy)
        real = pairs is not None

    if route == "tcc":
        b = _pupil_columns(optics, wavelength_nm, fy, fx, sy, sx, sqrt_w)
        matrix = (b @ b.conj().T).astype(np.complex128)
    else:
        matrix = np.zeros((n_s, n_s), dtype=np.float64 if _pupil_is_real(optics) else np.complex128)
        step = max(1, CHUNK_ELEMENTS // n_s)
        for lo in range(0, n_f, step):
            b = _pupil_columns(optics, wavelength_nm, fy[lo:lo + step], fx[lo:lo + step], sy, sx, sqrt_w)
            matrix += b.conj().T @ b
        matrix = matrix.astype(np.complex128)
    trace = float(np.real(np.trace(matrix)))

    if real:
        matrix = _to_real_basis(matrix, *pairs).real
    evals, kept = _kept_eigenvalues(matrix, tolerance)
    evecs = _leading_eigenvectors(matrix, kept)
    if real:
        evecs = _from_real_basis(evecs, *pairs)
    total = float(evals.sum())
    tail = np.concatenate([np.cumsum(evals[::-1])[::-1], [0.0]]) / total

    box_shape = (plan.ay.k.size, plan.ax.k.size)
    check_kernel_memory(kept, box_shape)
    phi = np.zeros((kept, box_shape[0] * box_shape[1]), dtype=np.complex128)
    if route == "tcc":
        phi[:, index] = evecs[:, :kept].T
    else:
        coeff = evecs[:, :kept] / np.sqrt(evals[:kept])[None, :]
        step = max(1, CHUNK_ELEMENTS // n_s)
        for lo in range(0, n_f, step):
            b = _pupil_columns(optics, wavelength_nm, fy[lo:lo + step], fx[lo:lo + step], sy, sx, sqrt_w)
            cols = index[lo:lo + step]
            if np.isrealobj(b):
                phi[:, cols] = (b @ coeff.real).T + 1j * (b @ coeff.imag).T
            else:
                phi[:, cols] = (b @ coeff).T
    # With the symmetry-adapted basis every kernel already satisfies φ(−f) = φ*(f).
    return Kernels(eigenvalues=evals, kept=kept, tolerance=tolerance, dropped_energy=float(tail[kept]),
                   trace=trace, kernels=phi.reshape(kept, *box_shape), fy_per_um=plan.fy_per_um,
                   fx_per_um=plan.fx_per_um, real_fields=real, route=route, n_source_points=n_s, n_frequencies=n_f,
                   shape=tuple(shape), pixel_um=float(pixel_um), wavelength_nm=float(wavelength_nm),
                   build_time_s=time.perf_counter() - t0)


def _kept_eigenvalues(matrix: np.ndarray, tolerance: float) -> tuple[np.ndarray, int]:
    """Every eigenvalue (descending, clipped at 0) and how many kernels the tolerance keeps.

    Eigenvalues alone cost about a third of a full decomposition; the
    eigenvectors are then computed for the kept ones only
    (:func:`_leading_eigenvectors`), which is what makes the accurate source
    step affordable: the tail a tolerance drops is most of the spectrum.
    """
    evals = np.clip(scipy.linalg.eigvalsh(matrix)[::-1], 0.0, None)
    total = float(evals.sum())
    tail = np.concatenate([np.cumsum(evals[::-1])[::-1], [0.0]]) / total
    kept = int(np.argmax(tail <= tolerance + 1e-15))  # first K whose dropped fraction is within tolerance
    kept = max(kept, 1)
    # Never split a degenerate group: its members are symmetry partners (x and y, ±45°),
    # and keeping only some of them would break the optics' mirror symmetry.
    while kept < evals.size and evals[kept] > 0 and evals[kept] >= evals[kept - 1] * (1 - 1e-8):
        kept += 1
    positive = evals[:kept] > 0
    kept = int(np.count_nonzero(positive)) if not positive.all() else kept
    return evals, kept


def _leading_eigenvectors(matrix: np.ndarray, kept: int) -> np.ndarray:
    """Eigenvectors of the ``kept`` largest eigenvalues, in descending order (columns).

    LAPACK's subset driver (MRRR) on the dense Hermitian matrix: the
    tridiagonal reduction is shared with :func:`_kept_eigenvalues`' cost,
    but only ``kept`` vectors are formed and back-transformed.
    """
    n = matrix.shape[0]
    if kept >= n:
        vals, vecs = scipy.linalg.eigh(matrix)
    else:
        vals, vecs = scipy.linalg.eigh(matrix, subset_by_index=[n - kept, n - 1], driver="evr")
    return vecs[:, np.argsort(vals)[::-1]]


MAX_KERNEL_BYTES = 3 * 2**30


def check_kernel_memory(kept: int, box_shape) -> None:
    """Refuse a kernel set that would not fit, naming the options that shrink it."""
    nbytes = kept * box_shape[0] * box_shape[1] * 16
    if nbytes > MAX_KERNEL_BYTES:
        raise LithoInputError(
            f"SOCS kernels: {kept} kernels on a {box_shape[1]}x{box_shape[0]} band would take "
            f"{nbytes / 2**30:.1f} GB (limit {MAX_KERNEL_BYTES / 2**30:.0f} GB); use a larger kernel_tolerance, "
            "a coarser source_step_sigma, a smaller window or tiles")


def _save(path: Path, key: tuple, k: Kernels) -> None:
    save_entry(path, key, dict(
        eigenvalues=k.eigenvalues, kept=k.kept, tolerance=k.tolerance, dropped_energy=k.dropped_energy,
        trace=k.trace, kernels=k.kernels, fy_per_um=k.fy_per_um, fx_per_um=k.fx_per_um,
        real_fields=k.real_fields, route=k.route, n_source_points=k.n_source_points,
        n_frequencies=k.n_frequencies, shape=np.asarray(k.shape), pixel_um=k.pixel_um,
        wavelength_nm=k.wavelength_nm))


def _load(path, key, shape, pixel_um, wavelength_nm, t0) -> Kernels | None:
    """A cached kernel set, or None (a miss) unless the entry is whole and fits this grid."""
    z = load_entry(path, key)
    if z is None:
        return None
    try:
        k = Kernels(eigenvalues=z["eigenvalues"], kept=int(z["kept"]), tolerance=float(z["tolerance"]),
                    dropped_energy=float(z["dropped_energy"]), trace=float(z["trace"]),
                    kernels=z["kernels"], fy_per_um=z["fy_per_um"], fx_per_um=z["fx_per_um"],
                    real_fields=bool(z["real_fields"]), route=str(z["route"]),
                    n_source_points=int(z["n_source_points"]), n_frequencies=int(z["n_frequencies"]),
                    shape=tuple(int(v) for v in z["shape"]),
                    pixel_um=float(z["pixel_um"]), wavelength_nm=float(z["wavelength_nm"]),
                    build_time_s=time.perf_counter() - t0)
    except (KeyError, TypeError, ValueError):
        return None
    # the checksum proves the bytes, not that they belong to this grid: check the shapes too
    consistent = (k.kernels.ndim == 3 and k.eigenvalues.ndim == 1 and k.fy_per_um.ndim == 1
                  and k.fx_per_um.ndim == 1 and 1 <= k.kept <= k.eigenvalues.size
                  and k.kernels.shape == (k.kept, k.fy_per_um.size, k.fx_per_um.size)
                  and k.shape == tuple(shape) and k.pixel_um == float(pixel_um)
                  and k.wavelength_nm == float(wavelength_nm) and k.kernels.dtype.kind == "c")
    return k if consistent else None


BATCH = 4  # fields per batched inverse FFT


def _placement(plan: BandPlan):
    """Slices that put a spectrum box into the field grid.

    A reduced axis holds the band ``−K..K`` in ascending order and is placed
    centred: that shifts the spectrum by a constant, multiplying the field by a
    unit-modulus phase ramp, which leaves every intensity unchanged. A full
    axis is already in FFT order.
    """
    out = []
    for axis in (plan.ay, plan.ax):
        if axis.band:
            lo = (axis.m - axis.k.size) // 2
            out.append(slice(lo, lo + axis.k.size))
        else:
            out.append(slice(0, axis.m))
    return tuple(out)


class FieldBatch:
    """Field spectra placed on the plan's field grid, inverse-transformed in place, |field|² summed.

    The path from field spectra on a plan's box to intensities: SOCS
    kernels and proximity directions (:func:`sum_field_intensities`) and a
    proximity direction's film depths. (Abbe's sum places each source
    point's own pupil window instead of one box, in cache-sized batches:
    :func:`litho.optics.projection.abbe_intensity`.) The inverse FFT
    overwrites the buffer (no output array: a batch costs its transform and
    one pass that squares it), so the part of the grid outside the spectrum
    box is cleared again after each transform.

    Parameters
    ----------
    plan : BandPlan
    size : int
        Fields per batched transform.
    precision : {"double", "single"}
        Precision of the transforms; sums are float64 (the caller's arrays).
    """

    def __init__(self, plan: BandPlan, size: int, precision: str = "double"):
        my, mx = plan.field_shape
        self._rows, self._cols = _placement(plan)
        ctype, self._rtype = (np.complex64, np.float32) if precision == "single" else (np.complex128, np.float64)
        self.fields = np.zeros((int(size), my, mx), dtype=ctype)
        self._whole = (self._rows == slice(0, my)) and (self._cols == slice(0, mx))
        self._square = np.empty((my, mx, 2), dtype=self._rtype)

    def __len__(self) -> int:
        return self.fields.shape[0]

    def slot(self, i: int) -> np.ndarray:
        """The spectrum box of field ``i``: a view to write the field's spectrum into."""
        return self.fields[i, self._rows, self._cols]

    def add_intensities(self, n: int, sums) -> None:
        """Transform the first ``n`` fields and add |field_i|² into ``sums[i]`` (float64, field grid)."""
        fields = sfft.ifft2(self.fields[:n], axes=(-2, -1), workers=WORKERS, overwrite_x=True)
        for i in range(n):
            add_squared_magnitude(sums[i], fields[i], self._square)
        if not np.shares_memory(fields, self.fields):
            return   # transformed out of place: the buffer still holds zeros outside the box
        if not self._whole:
            done = self.fields[:n]
            done[:, :self._rows.start] = 0
            done[:, self._rows.stop:] = 0
            done[:, self._rows, :self._cols.start] = 0
            done[:, self._rows, self._cols.stop:] = 0


def sum_field_intensities(plan: BandPlan, spectra, precision: str = "double") -> np.ndarray:
    """Σ |F⁻¹{S}|² over field spectra S on the plan's box, on the plan's field grid.

    Parameters
    ----------
    plan : BandPlan
    spectra : iterable of ndarray, complex, shape of the box
        Field spectra (mask spectrum × kernel, already scaled); consumed in
        batches of :data:`BATCH` inverse FFTs (:class:`FieldBatch`).
    precision : {"double", "single"}
        Precision of the inverse FFTs; the sum is always accumulated in float64.
        Single precision halves the FFT time and changes the image by ~1e-7
        of the clear field (tests/physics/test_optics_projection.py).
    """
    acc = np.zeros(plan.field_shape)
    batch = FieldBatch(plan, BATCH, precision)
    b = 0
    for spectrum in spectra:
        batch.slot(b)[...] = spectrum
        b += 1
        if b == len(batch):
            batch.add_intensities(b, [acc] * b)
            b = 0
    if b:
        batch.add_intensities(b, [acc] * b)
    return acc


def evaluation_kernels(kernels: Kernels, pack: bool, precision: str = "double") -> np.ndarray:
    """Kernels ready for imaging, cached on ``kernels``: √(λ_k/c) φ_k, two per array when packed.

    ``c`` is the clear-field value of the kept set (see :func:`socs_intensity`);
    a packed array is ``√λ_a φ_a + i√λ_b φ_b`` (real fields, two per FFT).
    Single precision stores them as complex64.
    """
    key = (pack, precision)
    found = kernels._evaluation.get(key)
    if found is not None:
        return found
    n = kernels.kept
    amp = np.sqrt(kernels.eigenvalues[:n] / kernels.clear_field)
    dtype = np.complex64 if precision == "single" else np.complex128
    phi = kernels.kernels
    count = (n + 1) // 2 if pack else n
    out = np.empty((count, *phi.shape[1:]), dtype=dtype)
    for j in range(count):
        if pack:
            a = 2 * j
            out[j] = amp[a] * phi[a] if a + 1 == n else amp[a] * phi[a] + (1j * amp[a + 1]) * phi[a + 1]
        else:
            out[j] = amp[j] * phi[j]
    # keep one imaging copy at a time (they are large); a plain assignment of a new
    # dict is atomic, so threads sharing these kernels never see a half-updated cache
    object.__setattr__(kernels, "_evaluation", {key: out})
    return out


def socs_intensity(kernels: Kernels, plan: BandPlan, box: np.ndarray, real_mask: bool,
                   precision: str = "double") -> np.ndarray:
    """Σ_k λ_k |F⁻¹{T φ_k}|² on the plan's field grid (before interpolation).

    Parameters
    ----------
    kernels : Kernels
    plan : BandPlan
        The plan the kernels were built on.
    box : ndarray
        Mask spectrum on the plan's box (:meth:`MaskSpectrum.box`).
    real_mask : bool
        True if the mask is real (its spectrum Hermitian): kernels with real
        fields are then evaluated two per FFT,
        ``F⁻¹{T(√λ_a φ_a + i√λ_b φ_b)} = √λ_a U_a + i√λ_b U_b``.
    precision : {"double", "single"}

    Notes
    -----
    A truncated kernel set images the clear field to Σ_kept λ_k|φ_k(0)|²,
    slightly below 1; the image is divided by that number so the clear field
    stays exactly 1 (the normalisation every later stage relies on). With all
    kernels kept the factor is 1 to rounding.
    """
    ready = evaluation_kernels(kernels, kernels.real_fields and real_mask, precision)
    scaled_box = box * plan.field_scale
    if precision == "single":
        scaled_box = scaled_box.astype(np.complex64)
    return sum_field_intensities(plan, (scaled_box * k for k in ready), precision)

