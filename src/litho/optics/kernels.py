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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.fft as sfft
import scipy.linalg

from ..outputs import atomic_file
from .cache import KERNEL_CACHE
from .pupil import noll_to_nm, pupil
from .window import WORKERS, BandPlan

CACHE_ENV = "LITHO_KERNEL_CACHE"
CACHE_VERSION = 1
CHUNK_ELEMENTS = 4_000_000  # complex entries of B per chunk (64 MB)


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
    kernels : ndarray, complex128, shape (kept, n_freq)
        Orthonormal kernels φ_k on the band-limited frequencies
        (``fy_per_um``, ``fx_per_um``).
    fy_per_um, fx_per_um : ndarray, shape (n_freq,)
        The frequencies of the band-limited set, 1/µm.
    real_fields : bool
        True when the kernels give real fields for a real mask (see notes).
    route : str
        "tcc" (eigh of the TCC) or "gram" (eigh of the source Gram matrix).
    n_source_points : int
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
    shape: tuple[int, int]
    pixel_um: float
    wavelength_nm: float
    build_time_s: float
    box_index: np.ndarray  # flat index of each frequency in the plan's box (internal)

    @property
    def nbytes(self) -> int:
        return int(self.kernels.nbytes + self.eigenvalues.nbytes + 3 * self.fy_per_um.nbytes)

    def spatial(self, k: int) -> np.ndarray:
        """Kernel ``k`` in space on the FFT grid, centred at ``shape // 2``, shape ``shape``."""
        ny, nx = self.shape
        spec = np.zeros((ny, nx), dtype=np.complex128)
        iy = np.rint(self.fy_per_um * ny * self.pixel_um).astype(int) % ny
        ix = np.rint(self.fx_per_um * nx * self.pixel_um).astype(int) % nx
        spec[iy, ix] = self.kernels[k]
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


def _pupil_columns(optics, wavelength_nm, fy, fx, sy, sx, sqrt_w) -> np.ndarray:
    """B[f, s] = √w_s P(f + f_s) for frequencies (rows) and source points (columns)."""
    p = pupil(fy[:, None] + sy[None, :], fx[:, None] + sx[None, :], wavelength_nm, optics.na,
              optics.defocus_um, optics.zernike, optics.immersion_index)
    p *= sqrt_w[None, :]
    return p


def _cache_file(cache_dir: Path, key: tuple) -> Path:
    digest = hashlib.sha256(repr((CACHE_VERSION, key)).encode()).hexdigest()[:24]
    return cache_dir / f"socs-{digest}.npz"


def kernel_key(optics, shape, pixel_um, wavelength_nm, tolerance) -> tuple:
    return ("socs", optics.cache_token(), tuple(shape), float(pixel_um), float(wavelength_nm), float(tolerance))


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
    cache_dir = cache_dir or optics.kernel_cache_dir or os.environ.get(CACHE_ENV)
    path = _cache_file(Path(cache_dir), key) if cache_dir else None
    if path is not None and path.exists():
        kernels = _load(path, optics, shape, pixel_um, wavelength_nm, tolerance, t0)
        if kernels is not None:
            return KERNEL_CACHE.put(key, kernels, kernels.nbytes)
    kernels = _build(optics, shape, pixel_um, wavelength_nm, tolerance, t0)
    if path is not None:
        _save(path, kernels)
    return KERNEL_CACHE.put(key, kernels, kernels.nbytes)


def band_plan(optics, shape, pixel_um, wavelength_nm) -> BandPlan:
    """The band plan of projection imaging: fields within NA(1 + σ_max)/λ."""
    band = optics.na * (1 + optics.source.sigma_max) / (wavelength_nm * 1e-3)
    return BandPlan.make(shape, pixel_um, band)


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
    plan = band_plan(optics, shape, pixel_um, wavelength_nm)
    band = optics.na * (1 + optics.source.sigma_max) / lam_um
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
        matrix = b @ b.conj().T
    else:
        matrix = np.zeros((n_s, n_s), dtype=np.complex128)
        step = max(1, CHUNK_ELEMENTS // n_s)
        for lo in range(0, n_f, step):
            b = _pupil_columns(optics, wavelength_nm, fy[lo:lo + step], fx[lo:lo + step], sy, sx, sqrt_w)
            matrix += b.conj().T @ b
    trace = float(np.real(np.trace(matrix)))

    if real:
        evals, evecs = scipy.linalg.eigh(_to_real_basis(matrix, *pairs).real)
        evecs = _from_real_basis(evecs, *pairs)
    else:
        evals, evecs = scipy.linalg.eigh(matrix)
    order = np.argsort(evals)[::-1]
    evals, evecs = np.clip(evals[order], 0.0, None), evecs[:, order]
    total = float(evals.sum())
    tail = np.concatenate([np.cumsum(evals[::-1])[::-1], [0.0]]) / total
    kept = int(np.argmax(tail <= tolerance + 1e-15))  # first K whose dropped fraction is within tolerance
    kept = max(kept, 1)
    positive = evals[:kept] > 0
    kept = int(np.count_nonzero(positive)) if not positive.all() else kept

    if route == "tcc":
        phi = evecs[:, :kept].T.copy()
    else:
        coeff = evecs[:, :kept] / np.sqrt(evals[:kept])[None, :]
        phi = np.empty((kept, n_f), dtype=np.complex128)
        step = max(1, CHUNK_ELEMENTS // n_s)
        for lo in range(0, n_f, step):
            b = _pupil_columns(optics, wavelength_nm, fy[lo:lo + step], fx[lo:lo + step], sy, sx, sqrt_w)
            phi[:, lo:lo + step] = (b @ coeff).T
    if real:
        # Fix each kernel's global phase so φ(−f) = φ*(f) exactly (its field is then real).
        phi = _realify(phi, fx, fy)
    return Kernels(eigenvalues=evals, kept=kept, tolerance=tolerance, dropped_energy=float(tail[kept]),
                   trace=trace, kernels=phi, fy_per_um=fy, fx_per_um=fx, real_fields=real, route=route,
                   n_source_points=n_s, shape=tuple(shape), pixel_um=float(pixel_um),
                   wavelength_nm=float(wavelength_nm), build_time_s=time.perf_counter() - t0,
                   box_index=index)


def _realify(phi: np.ndarray, fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    pairs = _negation_pairs(fx, fy)
    if pairs is None:
        return phi
    pa, pb, pc = pairs
    partner = np.empty(fx.size, dtype=np.int64)
    partner[pa], partner[pb], partner[pc] = pb, pa, pc
    # c = <φ, Kφ> with Kφ(f) = φ*(−f); for a K-invariant kernel |c| = 1 and φ·√c is exact.
    kphi = np.conj(phi[:, partner])
    c = np.sum(np.conj(phi) * kphi, axis=1)
    phase = np.exp(0.5j * np.angle(c))
    phi = phi * phase[:, None]
    # symmetrise away rounding: φ ← (φ + Kφ)/2
    phi = 0.5 * (phi + np.conj(phi[:, partner]))
    return phi


def _save(path: Path, k: Kernels) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, eigenvalues=k.eigenvalues, kept=k.kept, tolerance=k.tolerance,
                     dropped_energy=k.dropped_energy, trace=k.trace, kernels=k.kernels,
                     fy_per_um=k.fy_per_um, fx_per_um=k.fx_per_um, real_fields=k.real_fields,
                     route=k.route, n_source_points=k.n_source_points, shape=np.asarray(k.shape),
                     pixel_um=k.pixel_um, wavelength_nm=k.wavelength_nm, box_index=k.box_index)


def _load(path, optics, shape, pixel_um, wavelength_nm, tolerance, t0) -> Kernels | None:
    try:
        with np.load(path) as z:
            return Kernels(eigenvalues=z["eigenvalues"], kept=int(z["kept"]), tolerance=float(z["tolerance"]),
                           dropped_energy=float(z["dropped_energy"]), trace=float(z["trace"]),
                           kernels=z["kernels"], fy_per_um=z["fy_per_um"], fx_per_um=z["fx_per_um"],
                           real_fields=bool(z["real_fields"]), route=str(z["route"]),
                           n_source_points=int(z["n_source_points"]), shape=tuple(int(v) for v in z["shape"]),
                           pixel_um=float(z["pixel_um"]), wavelength_nm=float(z["wavelength_nm"]),
                           build_time_s=time.perf_counter() - t0, box_index=z["box_index"])
    except Exception:  # a damaged cache file is rebuilt, never trusted
        return None


def socs_intensity(kernels: Kernels, plan: BandPlan, box: np.ndarray, real_mask: bool) -> np.ndarray:
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
        fields are then evaluated two per FFT.
    """
    t_band = box.ravel()[kernels.box_index]
    my, mx = plan.field_shape
    gy, gx = np.divmod(kernels.box_index, plan.ax.k.size)
    dest = plan.ay.dst[gy] * mx + plan.ax.dst[gx]
    buffer = np.zeros(my * mx, dtype=np.complex128)
    acc = np.zeros((my, mx))
    scale = plan.field_scale
    amp = np.sqrt(kernels.eigenvalues[:kernels.kept]) * scale
    from .window import add_intensity

    k = 0
    pack = kernels.real_fields and real_mask
    while k < kernels.kept:
        if pack and k + 1 < kernels.kept:
            buffer[dest] = t_band * (amp[k] * kernels.kernels[k] + 1j * amp[k + 1] * kernels.kernels[k + 1])
            k += 2
        else:
            buffer[dest] = t_band * (amp[k] * kernels.kernels[k])
            k += 1
        field = sfft.ifft2(buffer.reshape(my, mx), workers=WORKERS)
        add_intensity(acc, field, 1.0)
    return acc
