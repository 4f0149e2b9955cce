"""Simulation windows and band-limited sampling, shared by every optics.

Two ideas live here.

**Windows.** An FFT treats the array as one period of an infinite,
periodic mask. ``periodic=True`` takes that literally: the array is the unit
cell of a pixel array, which is exact for a periodic layout. ``periodic=False``
(isolated) pads the array with an opaque guard band of the optics' blur
length so the periodic copies no longer see each other, and crops back
afterwards (DESIGN.md §4).

**Band-limited evaluation** (DESIGN.md §4, PHYSICS.md §2). A field whose
spectrum is confined to ``|f| <= B`` has an intensity confined to
``|f| <= 2B``. Its intensity is therefore known exactly from samples on any
grid whose Nyquist frequency exceeds ``2B`` -- usually far coarser than the
output grid. litho evaluates every coherent field on that small grid, sums the
intensities there and Fourier-interpolates the sum once to the output grid.
Nothing is approximated: the output samples equal those a full-size
computation would give (to rounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft

from ..errors import LithoInputError

WORKERS = -1  # scipy.fft on all cores


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class Window:
    """Where the user's array sits inside the FFT grid.

    Attributes
    ----------
    shape : (int, int)
        The user's array, ``(ny, nx)``.
    padded_shape : (int, int)
        The FFT grid, ``(ny, nx)``; equal to ``shape`` for a periodic window.
    offset : (int, int)
        Row and column of the user's sample (0, 0) in the FFT grid.
    periodic : bool
    guard_um : float
        Opaque guard band added on each side (0 when periodic).
    """

    shape: tuple[int, int]
    padded_shape: tuple[int, int]
    offset: tuple[int, int]
    periodic: bool
    guard_um: float

    @classmethod
    def plan(cls, shape: tuple[int, int], pixel_um: float, guard_um: float, periodic: bool) -> "Window":
        """Choose the FFT grid for an array of ``shape``.

        An isolated window gets at least ``guard_um`` of opaque mask on each
        side; the padded size is rounded up to a fast FFT length.
        """
        ny, nx = (int(s) for s in shape)
        if periodic:
            return cls((ny, nx), (ny, nx), (0, 0), True, 0.0)
        guard_px = int(math.ceil(max(guard_um, 0.0) / pixel_um - 1e-9))
        if guard_px == 0:
            return cls((ny, nx), (ny, nx), (0, 0), False, 0.0)
        py = sfft.next_fast_len(ny + 2 * guard_px, real=True)
        px = sfft.next_fast_len(nx + 2 * guard_px, real=True)
        return cls((ny, nx), (py, px), ((py - ny) // 2, (px - nx) // 2), False, guard_px * pixel_um)

    def pad(self, array: np.ndarray) -> np.ndarray:
        """The array inside the FFT grid, opaque (0) outside."""
        if self.padded_shape == self.shape:
            return array
        out = np.zeros(self.padded_shape, dtype=array.dtype)
        out[self.slices] = array
        return out

    def crop(self, array: np.ndarray) -> np.ndarray:
        """The user's region of an FFT-grid array (a copy, C-contiguous)."""
        if self.padded_shape == self.shape:
            return np.ascontiguousarray(array)
        return np.ascontiguousarray(array[self.slices])

    @property
    def slices(self) -> tuple[slice, slice]:
        (oy, ox), (ny, nx) = self.offset, self.shape
        return (slice(oy, oy + ny), slice(ox, ox + nx))


def check_transmission(transmission, pixel_um) -> tuple[np.ndarray, float]:
    """Validate a transmission array and pitch; return them as float64/complex128 and float."""
    t = np.asarray(transmission)
    if t.ndim != 2 or min(t.shape) < 1:
        raise LithoInputError(f"transmission: expected a 2-D array (ny, nx), got shape {t.shape}")
    if np.iscomplexobj(t):
        t = t.astype(np.complex128, copy=False)
    else:
        t = t.astype(np.float64, copy=False)
    if not np.all(np.isfinite(t)):
        raise LithoInputError("transmission: contains NaN or infinite values")
    try:
        p = float(pixel_um)
    except (TypeError, ValueError):
        raise LithoInputError(f"pixel_um = {pixel_um!r} is not a number; give the sample pitch in µm") from None
    if not (p > 0 and math.isfinite(p)):
        raise LithoInputError(f"pixel_um = {pixel_um!r}: the sample pitch must be a positive number of µm")
    return t, p


# --------------------------------------------------------------------------- band plans


@dataclass(frozen=True)
class _Axis:
    """One axis of a band plan (see :class:`BandPlan`)."""

    n: int               # FFT grid length
    m: int               # field grid length (== n when the band fills the axis)
    k: np.ndarray        # signed frequency index of each kept bin (ints)
    band: bool           # True: a band of |k| <= kmax on a smaller grid
    kimax: int = -1      # intensity band |k| <= kimax (-1: twice the field band)

    @property
    def kmax(self) -> int:
        return int(np.max(np.abs(self.k)))

    @property
    def kint(self) -> int:
        """Highest intensity frequency index the field grid holds exactly."""
        return 2 * self.kmax if self.kimax < 0 else self.kimax

    @property
    def src(self) -> np.ndarray:
        return self.k % self.n

    @property
    def dst(self) -> np.ndarray:
        return self.k % self.m


def _axis(n: int, pixel_um: float, band_per_um: float, intensity_band_per_um: float | None = None) -> _Axis:
    length_um = n * pixel_um
    kmax = int(math.floor(band_per_um * length_um + 1e-9)) if math.isfinite(band_per_um) else n
    kimax = 2 * kmax
    if intensity_band_per_um is not None and math.isfinite(intensity_band_per_um):
        kimax = min(kimax, int(math.floor(intensity_band_per_um * length_um + 1e-9)))
    # the grid must sample each field exactly (2·kmax + 1) and hold the intensity band (2·kimax + 1)
    m = sfft.next_fast_len(max(2 * kmax, 2 * kimax) + 1) if kmax < n else n
    if m >= n:
        # The band (or its intensity) does not fit in a smaller grid: keep every bin.
        return _Axis(n, n, np.fft.fftfreq(n, 1.0 / n).astype(np.int64), False)
    return _Axis(n, m, np.arange(-kmax, kmax + 1, dtype=np.int64), True,
                 -1 if kimax == 2 * kmax else kimax)


@dataclass(frozen=True)
class BandPlan:
    """The frequencies a coherent field may occupy and the grid its intensity needs.

    Attributes
    ----------
    shape : (int, int)
        FFT grid of the mask, ``(ny, nx)``.
    field_shape : (int, int)
        Grid on which fields and intensities are evaluated, ``(my, mx)``;
        its Nyquist frequency exceeds twice the field band (exact intensity).
    pixel_um : float
        Pitch of the FFT grid.
    """

    shape: tuple[int, int]
    field_shape: tuple[int, int]
    pixel_um: float
    ay: _Axis
    ax: _Axis

    @classmethod
    def make(cls, shape: tuple[int, int], pixel_um: float, band_per_um: float,
             intensity_band_per_um: float | None = None) -> "BandPlan":
        """Plan for fields confined to ``|fx|, |fy| <= band_per_um`` (1/µm).

        ``band_per_um = inf`` keeps every frequency of the grid.
        ``intensity_band_per_um`` is the band of the summed intensity when it
        is narrower than twice the field band (projection: the pupil
        autocorrelation, 2·NA/λ, whatever σ). The field grid then only needs
        to sample each field exactly (2·kmax + 1 points) and the summed
        intensity without aliasing: the sum of exact field samples is an
        exact sample of the sum, even where each term alone would alias.
        """
        ay = _axis(shape[0], pixel_um, band_per_um, intensity_band_per_um)
        ax = _axis(shape[1], pixel_um, band_per_um, intensity_band_per_um)
        return cls((ay.n, ax.n), (ay.m, ax.m), float(pixel_um), ay, ax)

    @property
    def key(self) -> tuple:
        return (self.shape, self.field_shape, self.pixel_um, self.ay.kmax, self.ax.kmax, self.ay.kint, self.ax.kint)

    @property
    def fy_per_um(self) -> np.ndarray:
        """Frequencies of the kept rows, 1/µm."""
        return self.ay.k / (self.ay.n * self.pixel_um)

    @property
    def fx_per_um(self) -> np.ndarray:
        """Frequencies of the kept columns, 1/µm."""
        return self.ax.k / (self.ax.n * self.pixel_um)

    @property
    def reduced(self) -> bool:
        return self.field_shape != self.shape

    @property
    def field_scale(self) -> float:
        """Factor turning ``ifft2`` on the field grid into samples of the same field (M/N)."""
        return (self.field_shape[0] * self.field_shape[1]) / (self.shape[0] * self.shape[1])

    def interpolate(self, intensity: np.ndarray, precision: str = "double") -> np.ndarray:
        """Fourier-interpolate a real intensity from the field grid to the FFT grid.

        Exact when the intensity is band-limited to twice the field band,
        which is how the field grid was chosen. The inverse transform skips the
        columns that are zero (only the band's columns are transformed along
        y). ``precision="single"`` runs it in float32 (error ~1e-7); the
        result is float64 either way.
        """
        if not self.reduced:
            return intensity
        (ny, nx), (my, mx) = self.shape, self.field_shape
        spec = sfft.rfft2(intensity, workers=WORKERS)
        if self.ay.band:
            k2 = np.arange(-self.ay.kint, self.ay.kint + 1)
            rs, rd = k2 % my, k2 % ny
        else:
            rs = rd = np.arange(ny)
        cols = self.ax.kint + 1 if self.ax.band else nx // 2 + 1
        ctype = np.complex64 if precision == "single" else np.complex128
        band = np.zeros((ny, cols), dtype=ctype)
        band[rd] = spec[rs, :cols] * ((ny * nx) / (my * mx))
        band = sfft.ifft(band, axis=0, workers=WORKERS, overwrite_x=True)
        full = np.zeros((ny, nx // 2 + 1), dtype=ctype)
        full[:, :cols] = band
        out = sfft.irfft(full, n=nx, axis=1, workers=WORKERS, overwrite_x=True)
        return out.astype(np.float64, copy=False)


_UNSET = object()


class MaskSpectrum:
    """The FFT of a (padded) transmission, computed once and cut per band plan.

    A real mask uses the real-input FFT (half the work, exact Hermitian
    symmetry); a complex (phase-shift) mask the full one. ``use_symmetry =
    False`` makes :attr:`symmetry` None, so direction sums image every
    direction (the reference the reduced sums are tested against).
    """

    def __init__(self, transmission: np.ndarray, pixel_um: float, *, use_symmetry: bool = True):
        self.transmission = transmission
        self.pixel_um = float(pixel_um)
        self.shape = transmission.shape
        self._spec = None
        self._boxes: dict = {}
        self._use_symmetry = bool(use_symmetry)
        self._symmetry = _UNSET

    @property
    def symmetry(self):
        """The raster's D4 symmetry (:func:`litho.optics.symmetry.find`), None without one; found once."""
        if self._symmetry is _UNSET:
            from .symmetry import find

            self._symmetry = find(self.transmission) if self._use_symmetry else None
        return self._symmetry

    @property
    def is_real(self) -> bool:
        return not np.iscomplexobj(self.transmission)

    def full(self) -> np.ndarray:
        """rfft2 (real mask) or fft2 (complex mask) of the transmission."""
        if self._spec is None:
            if self.is_real:
                self._spec = sfft.rfft2(self.transmission, workers=WORKERS)
            else:
                self._spec = sfft.fft2(self.transmission, workers=WORKERS)
        return self._spec

    def box(self, plan: BandPlan) -> np.ndarray:
        """The spectrum on the plan's kept rows × columns, shape ``(len(ky), len(kx))``."""
        key = plan.key
        if key in self._boxes:
            return self._boxes[key]
        spec = self.full()
        iy, ix = plan.ay.src, plan.ax.src
        ny, nx = self.shape
        if not self.is_real:
            out = spec[np.ix_(iy, ix)]
        else:
            out = np.empty((iy.size, ix.size), dtype=np.complex128)
            pos = ix <= nx // 2
            out[:, pos] = spec[np.ix_(iy, ix[pos])]
            neg = ~pos
            if np.any(neg):
                # T(-k) = conj(T(k)) for a real mask.
                out[:, neg] = np.conj(spec[np.ix_((-iy) % ny, nx - ix[neg])])
        self._boxes[key] = out
        return out
