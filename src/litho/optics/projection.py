"""Projection printing (steppers, maskless projectors): partially coherent imaging.

PHYSICS.md §2. A source of mutually incoherent points ``f_s`` (weights
``w_s``) lights the mask; each point images through the pupil ``P``:

- Abbe (the reference): ``I = Σ_s w_s |F⁻¹{T(f) P(f + f_s)}|²``;
- Hopkins/SOCS (the fast path): ``I = Σ_k λ_k |F⁻¹{T φ_k}|²`` with the
  kernels of :mod:`litho.optics.kernels`, truncated once the dropped
  eigenvalue energy is below ``kernel_tolerance``.

Both evaluate fields on the smallest grid that samples each field exactly
(band NA(1+σ_max)/λ) and holds the image band, the pupil autocorrelation
2·(NA/λ + cell/√2), and Fourier-interpolate the summed intensity once
(DESIGN.md §4); for Abbe that is exact. SOCS uses it only with
``socs_image_band=True`` (a truncated kernel set aliases its dropped tail
there by ~1e-6 of the clear field); by default its grid holds twice the
field band, exact for any kernel set.
Abbe's sum takes one point of each ±s pair when the fields are conjugate,
and "auto" chooses between the two per image
(:func:`choose_method`). The output pitch is still refused above
λ/(4·NA·(1+σ_max)), the band each field spans.

Mask coordinates are wafer coordinates: the reduction ratio only scales the
drawn mask and is recorded for the report.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import scipy.fft as sfft

from ..errors import LithoInputError
from . import _checks
from .kernels import (_symmetric_pupil, band_frequencies, band_plan, cell_pupil, kernel_key, kernels_ready,
                      pupil_reach_per_um, socs_intensity, socs_kernels, source_cell_per_um)
from .pupil import parse_zernike, pupil
from .source import conventional, from_spec
from .spectrum import parse_spectrum, resolve_lines
from .window import WORKERS, MaskSpectrum

OWNER = "ProjectionOptics"
METHODS = ("auto", "socs", "abbe")
PRECISIONS = ("double", "single")
# Guard band of an isolated window in units of λ/NA: the coherent point-spread
# amplitude (Airy, 2J1(v)/v ~ 1.6 v^-3/2) is < 3e-3 of its peak beyond 10 λ/NA.
GUARD_WAVELENGTHS_PER_NA = 10.0


@dataclass(frozen=True)
class ProjectionOptics:
    """A projection printer: stepper, scanner or maskless (DMD/LCoS) projector.

    Parameters
    ----------
    wavelength_nm : float, optional
        Vacuum wavelength, nm. Give this or ``spectrum``.
    na : float
        Image-side numerical aperture, 0 < NA < ``immersion_index`` (NA < 1 in air).
    sigma : float, optional
        Partial coherence of a conventional (disc) source, 0..1 (0 = coherent).
        Default 0.5 when no ``source`` is given.
    source : Source, str, mapping, array or path, optional
        The illumination shape instead of ``sigma``: a :class:`Source`
        (``annular(0.5, 0.8)``, ``dipole(...)``, ``quadrupole(...)``,
        ``source_map(array)``), a name with parameters
        ``{"shape": "annular", "sigma_in": 0.5, "sigma_out": 0.8}``, a square
        array over σ ∈ [−1, 1]², or a .npy/.png map file.
    defocus_um : float
        Defocus in the image medium, µm (non-paraxial pupil phase).
    zernike : mapping or sequence, optional
        Aberrations ``{noll_index: waves_rms}`` (Noll 1976 ordering, 1..231).
    reduction : float
        Mask-to-wafer reduction (1, 4, 5, ...). The transmission is given in
        wafer coordinates; this is recorded, not applied.
    spectrum : optional
        Several lines instead of ``wavelength_nm`` (see ``parse_spectrum``).
    immersion_index : float
        Index of the image medium (1 = air).
    source_step_sigma : float
        Pitch h of the source sampling grid in σ (0.005..0.25). Each point's
        pupil is averaged over its cell, so the image converges as about
        h^1.6 (0.035 alone errs by 7e-4 to 1.9e-3 of the clear field on the
        masks of benchmarks/bench_accuracy.py). The default is 1/32.
    source_extrapolation : bool
        Richardson's extrapolation of the source quadrature (default true):
        the image is I_h + (I_h − I_2h)/(2^1.6 − 1), from the images at the
        step and at twice it (a quarter of the source points more). At the
        default step 1/32 (0.03125) this erred by at most 7.4e-4 of the clear
        field on those masks and on random cells λ/NA wide (conventional σ
        0.45 and 0.6, annular 0.5/0.8 and 0.4/0.7, NA 0.3 and 0.5), where
        0.035 erred by up to 1.17e-3 and plain 0.025, at 1.6 times the
        cost, by up to 1.05e-3 (benchmarks/README.md).
        Estimate it for a mask with :func:`source_accuracy`, for the optics
        and pitch with :meth:`directions_accuracy`.
    kernel_tolerance : float
        Largest dropped fraction of the TCC eigenvalue sum (0 keeps all).
    method : {"auto", "socs", "abbe"}
        SOCS kernels (fast once built), the Abbe sum over source points (the
        reference, no set-up), or "auto": kernels when they are cached (in
        memory or on disk) or once the Abbe time spent on this optics and
        grid exceeds the predicted kernel build (:func:`choose_method`), Abbe
        before that. A single image then costs at most about twice the
        cheaper route (as far as the build prediction holds), and a long
        series ends on cached kernels; images of one series may then differ
        by the kernel truncation error (~1e-4 of the clear field), which is
        why "socs" stays the default.
    precision : {"double", "single"}
        Precision of the field FFTs. "single" is about twice as fast and
        changes the image by ~1e-7 of the clear field; kernels, sums and the
        result stay float64.
    socs_image_band : bool
        Evaluate SOCS kernels on the image-band grid (as Abbe's sum does):
        2–2.5× faster at σ 0.8, but a truncated kernel set then aliases its
        dropped tail by ~1e-6–1e-5 of the clear field (mirror images agree
        only to that). False keeps the grid of twice the field band, exact.
    kernel_cache_dir : str, optional
        Directory for the on-disk kernel cache (not part of equality).

    Examples
    --------
    >>> from litho.optics import ProjectionOptics, annular
    >>> ProjectionOptics(wavelength_nm=365, na=0.5, source=annular(0.5, 0.8)).source.sigma_max
    0.8
    """

    wavelength_nm: float | None = None
    na: float = 0.5
    sigma: float | None = None
    source: Any = None
    defocus_um: float = 0.0
    zernike: Any = ()
    reduction: float = 1.0
    spectrum: Any = None
    immersion_index: float = 1.0
    source_step_sigma: float = 0.03125
    source_extrapolation: bool = True
    kernel_tolerance: float = 1e-3
    method: str = "socs"
    precision: str = "double"
    socs_image_band: bool = False
    kernel_cache_dir: str | None = field(default=None, compare=False)

    def __post_init__(self):
        s = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        if self.spectrum is not None:
            s("spectrum", parse_spectrum(self.spectrum, f"{OWNER}.spectrum"))
        if self.wavelength_nm is not None:
            s("wavelength_nm", _checks.number(OWNER, "wavelength_nm", self.wavelength_nm, lo=150, hi=1100,
                                              what="nm"))
        resolve_lines(self.wavelength_nm, self.spectrum, OWNER)
        s("immersion_index", _checks.number(OWNER, "immersion_index", self.immersion_index, lo=1, hi=2))
        s("na", _checks.number(OWNER, "na", self.na, lo=0, hi=self.immersion_index, lo_open=True, hi_open=True,
                               what=f"numerical aperture, below the image-medium index {self.immersion_index:g}"))
        if self.sigma is not None:
            s("sigma", _checks.number(OWNER, "sigma", self.sigma, lo=0, hi=1,
                                      what="partial coherence, fraction of the NA"))
        if self.source is not None and self.sigma is not None and self.source != conventional(self.sigma):
            # sigma with the disc source it stands for is the state built below, so that
            # dataclasses.replace(optics, defocus_um=...) round-trips; anything else is a conflict
            raise LithoInputError(f"{OWNER}: give sigma or source, not both (sigma = {self.sigma!r})")
        if self.source is None:
            s("source", conventional(0.5 if self.sigma is None else self.sigma))
        else:
            try:
                s("source", from_spec(self.source, field=f"{OWNER}.source"))
            except LithoInputError as err:
                raise LithoInputError(str(err).replace("Source.", f"{OWNER}.source.")) from None
        s("defocus_um", _checks.number(OWNER, "defocus_um", self.defocus_um, lo=-1e3, hi=1e3, what="µm"))
        s("zernike", parse_zernike(self.zernike, OWNER))
        s("reduction", _checks.number(OWNER, "reduction", self.reduction, lo=1, hi=100))
        s("source_step_sigma", _checks.number(OWNER, "source_step_sigma", self.source_step_sigma,
                                              lo=0.005, hi=0.25))
        if not isinstance(self.source_extrapolation, (bool, np.bool_)):
            raise LithoInputError(f"{OWNER}.source_extrapolation = {self.source_extrapolation!r}: "
                                  "give true or false")
        s("source_extrapolation", bool(self.source_extrapolation))
        s("kernel_tolerance", _checks.number(OWNER, "kernel_tolerance", self.kernel_tolerance, lo=0, hi=0.5,
                                             hi_open=True, what="dropped fraction of the TCC eigenvalue sum"))
        s("method", _checks.choice(OWNER, "method", self.method, METHODS))
        s("precision", _checks.choice(OWNER, "precision", self.precision, PRECISIONS))
        if not isinstance(self.socs_image_band, (bool, np.bool_)):
            raise LithoInputError(f"{OWNER}.socs_image_band = {self.socs_image_band!r}: give true or false")
        s("socs_image_band", bool(self.socs_image_band))
        if self.kernel_cache_dir is not None:
            s("kernel_cache_dir", str(self.kernel_cache_dir))

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str | None = None) -> "ProjectionOptics":
        """Build from a recipe's ``[exposure]`` keys (see :func:`litho.optics.from_exposure`)."""
        table = dict(table)
        shape_keys = {k: table.pop(k) for k in ("sigma_in", "sigma_out", "sigma_centre", "sigma_radius",
                                                 "orientation_deg") if k in table}
        spec = table.pop("source", None)
        base_dir = Path(source).parent if source else None
        if spec is not None or shape_keys:
            if spec is None:
                raise LithoInputError(f"{OWNER}: {', '.join(shape_keys)} need source = \"annular\", "
                                      "\"dipole\" or \"quadrupole\"")
            if "sigma" in table and isinstance(spec, str) and spec.strip().lower() == "conventional":
                shape_keys["sigma"] = table.pop("sigma")
            table["source"] = from_spec(spec, extra=shape_keys, base_dir=base_dir, field=f"{OWNER}.source")
        return cls(**table)

    # ------------------------------------------------------------------ description

    @property
    def lines(self) -> tuple[tuple[float, float], ...]:
        """``((wavelength_nm, weight), ...)``, weights summing to 1."""
        return resolve_lines(self.wavelength_nm, self.spectrum, OWNER)

    @property
    def sigma_max(self) -> float:
        """Largest σ of the sampled source points (sets the band NA(1+σ_max)/λ).

        A point's pupil averaged over its cell (:func:`litho.optics.kernels.cell_pupil`)
        reaches up to half a cell diagonal further; both the SOCS kernels and
        Abbe's sum cut it at this band, so they stay equal and the image band
        (and the coarsest pitch) does not depend on the cell size.
        """
        reach = self.source.reach(self.source_step_sigma)
        coarse = self.coarse_source_optics()
        return reach if coarse is None else max(reach, coarse.sigma_max)

    def extrapolates(self) -> bool:
        """Whether the image is extrapolated from the steps h and 2h (``source_extrapolation``):
        not for the incoherent limit, a single coherent point, or a step whose double is beyond
        0.25σ or samples the source with a single point."""
        if not self.source_extrapolation or self.source.shape == "incoherent":
            return False
        h = self.source_step_sigma
        return 2 * h <= 0.25 and self.source.cell_sigma(h) > 0 and self.source.cell_sigma(2 * h) > 0

    def fine_source_optics(self) -> "ProjectionOptics":
        """These optics at their own step without the extrapolation (one of its two images)."""
        return dataclasses.replace(self, source_extrapolation=False) if self.source_extrapolation else self

    def coarse_source_optics(self) -> "ProjectionOptics | None":
        """The optics of the extrapolation's coarse image (twice the step, plain), or None."""
        if not self.extrapolates():
            return None
        return dataclasses.replace(self, source_step_sigma=2 * self.source_step_sigma, source_extrapolation=False)

    def cache_token(self) -> tuple:
        """Everything the kernels depend on (hashable)."""
        return (self.na, self.source, self.defocus_um, self.zernike, self.immersion_index,
                self.source_step_sigma, bool(self.socs_image_band))

    @property
    def blur_length_um(self) -> float:
        """Guard band for an isolated window: 10 λ/NA plus the defocus spread, µm."""
        return self.guard_um(GUARD_WAVELENGTHS_PER_NA)

    def guard_um(self, wavelengths_per_na: float) -> float:
        """``wavelengths_per_na`` · λ_max/NA plus the defocus spread |z|·tan(asin(NA/n)), µm."""
        lam_um = max(w for w, _ in self.lines) * 1e-3
        spread = abs(self.defocus_um) * math.tan(math.asin(self.na / self.immersion_index))
        return wavelengths_per_na * lam_um / self.na + spread

    def intensity_band_per_um(self, wavelength_nm: float) -> float:
        """Highest frequency in the image, 2·NA(1+σ_max)/λ, 1/µm."""
        return 2 * self.na * (1 + self.sigma_max) / (wavelength_nm * 1e-3)

    @property
    def max_pixel_um(self) -> float:
        """Coarsest pitch holding the image band: λ_min / (4·NA·(1+σ_max)), µm."""
        wl = min(w for w, _ in self.lines)
        return 1.0 / (2 * self.intensity_band_per_um(wl))

    def check_pixel(self, pixel_um: float, source: str | None = None) -> None:
        """Raise :class:`LithoInputError` if ``pixel_um`` cannot hold the image band."""
        need = self.max_pixel_um
        if pixel_um >= need:
            wl = min(w for w, _ in self.lines)
            prefix = f"{source}: " if source else ""
            raise LithoInputError(
                f"{prefix}pixel_um = {pixel_um:g} is too coarse for projection at NA {self.na:g}, "
                f"σ_max {self.sigma_max:.3g}, {wl:g} nm: the image band 2·NA(1+σ)/λ needs pixel_um < {need:.4g}")

    # ------------------------------------------------------------------ imaging

    def directions_accuracy(self, pixel_um: float) -> float:
        """Estimated error of the source quadrature (the sum over illumination directions) at
        ``pixel_um``, fraction of the clear field: :func:`probe_source_accuracy` at the pitch's rung
        of the ladder the cone rule uses (:func:`litho.optics.proximity.probe_pitch_um`), or at the
        pitch itself where the rung is too coarse for the image band."""
        from .proximity import probe_pitch_um

        rung = probe_pitch_um(pixel_um)
        pitch = rung if rung < self.max_pixel_um else float(pixel_um)
        return probe_source_accuracy(dataclasses.replace(self, kernel_cache_dir=None), pitch)

    def one_off(self) -> "ProjectionOptics":
        """These optics for a window imaged once: Abbe's sum (the kernels' own reference, no
        set-up) where a first kernel build would cost more than the image (0.09–0.23 s per
        window of the shipped recipe's min-feature trials against 0.75–6.2 s for a build)."""
        if self.method == "abbe" or self.source.shape == "incoherent":
            return self
        return dataclasses.replace(self, method="abbe")

    def kernels(self, shape: tuple[int, int], pixel_um: float, wavelength_nm: float | None = None, **kwargs):
        """SOCS kernels on an FFT grid (see :func:`litho.optics.kernels.socs_kernels`)."""
        return socs_kernels(self, shape, pixel_um, wavelength_nm, **kwargs)

    def line_intensity(self, spectrum: MaskSpectrum, wavelength_nm: float) -> np.ndarray:
        """Image at one wavelength on the mask spectrum's FFT grid (clear field = 1)."""
        coarse = self.coarse_source_optics()
        if coarse is not None:
            # Richardson: the cell-averaged quadrature's error falls as about h^SOURCE_ORDER, and
            # always as a deficit near pupil-cut frequencies (a cell's mean field loses the
            # field's variance over the cell), so the two images' difference extrapolates it away
            fine = self.fine_source_optics().line_intensity(spectrum, wavelength_nm)
            rough = coarse.line_intensity(spectrum, wavelength_nm)
            c = 1.0 / (2 ** SOURCE_ORDER - 1)
            image = fine * (1 + c) - rough * c
            # an intensity is >= 0; the extrapolation can undershoot by its error where it is ~0
            return np.maximum(image, 0.0, out=image)
        if self.source.shape == "incoherent":
            return incoherent_intensity(self, spectrum, wavelength_nm)
        method = self.method
        if method == "auto":
            method = choose_method(self, spectrum.shape, spectrum.pixel_um, wavelength_nm)
        if method == "abbe":
            t0 = time.perf_counter()
            image = abbe_intensity(self, spectrum, wavelength_nm)
            _spend(self, spectrum.shape, spectrum.pixel_um, wavelength_nm, time.perf_counter() - t0)
            return image
        kernels = socs_kernels(self, spectrum.shape, spectrum.pixel_um, wavelength_nm)
        plan = band_plan(self, spectrum.shape, spectrum.pixel_um, wavelength_nm, narrow=self.socs_image_band)
        acc = socs_intensity(kernels, plan, spectrum.box(plan), spectrum.is_real, self.precision)
        return plan.interpolate(acc, self.precision)


# Seconds of Abbe imaging spent per (optics, grid, wavelength): the "rent" side of the
# choice in choose_method. Bounded: the oldest entries go first.
_ABBE_SPENT: dict = {}
_ABBE_SPENT_MAX = 512
# BLAS flops (kernel build) run about this many times faster than FFT + pointwise flops
# (Abbe): calibrated on 1024² annular 0.5/0.8 at 0.02σ, 2.55 s Abbe against a 60 s build.
BUILD_FLOP_EFFICIENCY = 5.0


def abbe_points(optics, real_mask: bool = True) -> int:
    """Number of inverse FFTs of one Abbe image (one per ±s pair when the symmetry allows)."""
    sx, sy, w = optics.source.points(optics.source_step_sigma)
    if real_mask and optics.source.symmetric and _symmetric_pupil(optics):
        return _half_source(sx, sy, w)[0].size
    return sx.size


def predicted_build_over_abbe(optics, shape, pixel_um, wavelength_nm) -> float:
    """Predicted kernel build time in units of one Abbe image on the same grid (a flop model).

    Build: the Gram or TCC matrix (n_f·n_s·n_small), its eigenvalues (≈ 3·n_small³)
    and the kernels (n_f·n_s·K, K taken as n_small/2); Abbe: one band-grid FFT
    and a few pointwise passes per source point (m²·(5·log2 m² + 20)).
    """
    plan = band_plan(optics, shape, pixel_um, wavelength_nm)
    band = optics.na * (1 + optics.sigma_max) / (wavelength_nm * 1e-3)
    n_f = band_frequencies(plan, band)[0].size
    n_s = optics.source.points(optics.source_step_sigma)[0].size
    small = min(n_f, n_s)
    build = n_f * n_s * small + 3.0 * small ** 3 + (n_f * n_s * small / 2 if n_f > n_s else 0.0)
    m2 = plan.field_shape[0] * plan.field_shape[1]
    abbe = abbe_points(optics) * m2 * (5 * math.log2(max(m2, 2)) + 20)
    return build / (BUILD_FLOP_EFFICIENCY * abbe)


def choose_method(optics, shape, pixel_um, wavelength_nm) -> str:
    """"socs" or "abbe" for the next image of ``optics`` on this grid (method "auto").

    Kernels already built (memory or disk cache) are always used. Otherwise
    Abbe's sum is used until the Abbe time spent on this optics and grid
    reaches the predicted build time (:func:`predicted_build_over_abbe` ×
    the measured Abbe time), then the kernels are built: the rent-or-buy
    rule, within about 2× of the better choice made knowing the number of
    images in advance (as far as the build prediction holds). A single image of a large window is thus an Abbe sum (no
    build of tens of seconds), a sweep or series ends on cached kernels.
    """
    if kernels_ready(optics, shape, pixel_um, wavelength_nm):
        return "socs"
    key = kernel_key(optics, shape, pixel_um, wavelength_nm, optics.kernel_tolerance)
    spent = _ABBE_SPENT.get(key)
    if spent is None:
        return "abbe"
    seconds, images = spent
    return "socs" if seconds >= predicted_build_over_abbe(optics, shape, pixel_um, wavelength_nm) * seconds / images \
        else "abbe"


def _spend(optics, shape, pixel_um, wavelength_nm, seconds: float) -> None:
    key = kernel_key(optics, shape, pixel_um, wavelength_nm, optics.kernel_tolerance)
    old = _ABBE_SPENT.pop(key, (0.0, 0))
    _ABBE_SPENT[key] = (old[0] + seconds, old[1] + 1)
    while len(_ABBE_SPENT) > _ABBE_SPENT_MAX:
        _ABBE_SPENT.pop(next(iter(_ABBE_SPENT)))


def abbe_intensity(optics: ProjectionOptics, spectrum: MaskSpectrum, wavelength_nm: float) -> np.ndarray:
    """Abbe's sum over source points, on the mask spectrum's FFT grid.

    The reference for the SOCS path; one inverse FFT per source point on the
    band-limited field grid.
    """
    lam_um = wavelength_nm * 1e-3
    plan = band_plan(optics, spectrum.shape, spectrum.pixel_um, wavelength_nm)
    box = spectrum.box(plan)
    sx, sy, w = optics.source.points(optics.source_step_sigma)
    cell = source_cell_per_um(optics, wavelength_nm)
    px, py = sx * optics.na / lam_um, sy * optics.na / lam_um
    # clear field Σ w_s |P̄_s(0)|²: a source cell straddling the pupil edge passes only
    # part of its zero order; dividing by it keeps the clear field at 1, as SOCS does
    clear = float(np.sum(w * np.abs(cell_pupil(optics, wavelength_nm, py, px, cell)) ** 2))
    scale = plan.field_scale / math.sqrt(clear)

    band = optics.na * (1 + optics.sigma_max) / lam_um
    if spectrum.is_real and optics.source.symmetric and _symmetric_pupil(optics):
        px, py, w = _half_source(px, py, w)

    reach = pupil_reach_per_um(optics, wavelength_nm)
    iy, fy_pad, pad_y, dst_y = _pupil_windows(plan.ay, plan.fy_per_um, plan.ay.n * plan.pixel_um, py, reach)
    ix, fx_pad, pad_x, dst_x = _pupil_windows(plan.ax, plan.fx_per_um, plan.ax.n * plan.pixel_um, px, reach)
    box_pad = np.pad(box, ((pad_y, pad_y), (pad_x, pad_x)))
    amp = np.sqrt(w) * scale
    band2 = band * band * (1 + 1e-12)  # the kernels' band (kernels.band_frequencies)
    my, mx = plan.field_shape
    ctype = np.complex64 if optics.precision == "single" else np.complex128
    per = max(1, min(px.size, ABBE_BATCH_ELEMENTS // (iy.shape[1] * ix.shape[1]),
                     ABBE_BATCH_ELEMENTS // (my * mx)))
    stack = np.zeros((per, my, mx), dtype=ctype)
    acc = np.zeros((my, mx))
    for lo in range(0, px.size, per):
        hi = min(px.size, lo + per)
        gy = fy_pad[iy[lo:hi]][:, :, None]
        gx = fx_pad[ix[lo:hi]][:, None, :]
        pupils = cell_pupil(optics, wavelength_nm, gy + py[lo:hi, None, None], gx + px[lo:hi, None, None], cell)
        pupils = np.where(gy * gy + gx * gx <= band2, pupils, 0)
        fields = box_pad[iy[lo:hi][:, :, None], ix[lo:hi][:, None, :]] * pupils * amp[lo:hi, None, None]
        stack[:hi - lo, dst_y, dst_x] = fields
        out = sfft.ifft2(stack[:hi - lo], axes=(-2, -1), workers=WORKERS)
        power = np.multiply(out.real, out.real)
        power += out.imag * out.imag
        acc += np.add.reduce(power, axis=0, dtype=np.float64)
    return plan.interpolate(acc, optics.precision)


# Samples per batch of source points: ~2 MB of complex128, cache-sized (measured about
# 4× faster than batches of 2M samples on a 1100² window).
ABBE_BATCH_ELEMENTS = 131_072


def _pupil_windows(axis, f_per_um, length_um, shift_per_um, reach_per_um):
    """Per source point, the box bins its field can occupy, and where they go on the field grid.

    The field of source point s lives in the shifted pupil ``|f + s| <= reach``.
    On a band axis only the ``2·half + 1`` bins around ``−s`` are kept and
    placed centred on the field grid: a shift by a whole number of bins (a
    unit-modulus phase ramp on the field), so each intensity is unchanged
    and the pupils are evaluated on the pupil's band only, the same window
    size for every point (the box is zero-padded where a window runs past
    it). A full axis, or one the pupil already fills, keeps every bin.

    Returns
    -------
    index : ndarray, int, shape (n_points, width)
        Indices into the padded box axis.
    f_padded : ndarray
        Frequencies of the padded box axis, 1/µm (outside the band beyond the box).
    pad : int
    destination : slice
        Where the window goes on the field grid.
    """
    size = f_per_um.size
    half = int(math.floor(reach_per_um * length_um + 0.5 + 1e-9))
    if not axis.band or 2 * half + 1 >= size:
        index = np.broadcast_to(np.arange(size), (shift_per_um.size, size))
        start = (axis.m - size) // 2 if axis.band else 0
        return index, f_per_um, 0, slice(start, start + size)
    kmax = axis.kmax
    centre = np.rint(-shift_per_um * length_um).astype(np.int64)
    index = centre[:, None] + np.arange(-half, half + 1)[None, :] + kmax
    pad = int(max(0, -index.min(), index.max() - (size - 1)))
    index = index + pad
    f_padded = np.arange(-kmax - pad, kmax + pad + 1) / length_um
    start = (axis.m - (2 * half + 1)) // 2
    return index, f_padded, pad, slice(start, start + 2 * half + 1)


def _half_source(px, py, w):
    """One point of each pair ``±s`` with the pair's weight (see :func:`abbe_intensity`).

    For a real mask (T(−f) = T*(f)) and a pupil with P(−f) = P*(f) (in
    focus, odd aberrations only; the cell average keeps it) the field of
    source point −s is the complex conjugate of that of +s, so both have the
    same intensity: Abbe's sum needs one inverse FFT per pair. A source
    whose sampled points are not point-symmetric is returned unchanged.
    """
    scale = 1e9 / max(1e-300, float(np.max(np.abs(np.concatenate([px, py])))) or 1.0)
    kx, ky = np.rint(px * scale).astype(np.int64), np.rint(py * scale).astype(np.int64)
    lookup = {(a, b): i for i, (a, b) in enumerate(zip(kx.tolist(), ky.tolist()))}
    keep, weight = [], []
    for i, (a, b) in enumerate(zip(kx.tolist(), ky.tolist())):
        j = lookup.get((-a, -b))
        if j is None or abs(w[j] - w[i]) > 1e-12 * max(w[i], 1e-300):
            return px, py, w
        if j == i:
            keep.append(i)
            weight.append(w[i])
        elif (a, b) > (-a, -b):
            keep.append(i)
            weight.append(w[i] + w[j])
    keep = np.asarray(keep)
    return px[keep], py[keep], np.asarray(weight)


# Observed order of convergence of the cell-averaged source quadrature in the step
# (benchmarks/bench_accuracy.py: 1.6 between steps 0.05 and 0.025σ on three masks).
SOURCE_ORDER = 1.6


# Order of the extrapolated images in the step, as observed: |R_h − R_2h| was 2.4–12.5 times
# the error of R_h at h = 0.035σ (geometric mean 5; the masks of bench_accuracy and random
# cells, NA 0.5 annular 0.5/0.8 and σ 0.6 at 0.02 and 0.04 µm, NA 0.3 σ 0.6 at 0.05 and 0.1 µm),
# so |R_h − R_2h| / (2^2.5 − 1) estimates it within a factor 3 either way.
EXTRAPOLATED_ORDER = 2.5


def source_accuracy(optics: ProjectionOptics, transmission, pixel_um: float, *, periodic: bool = True) -> float:
    """Estimated error of the source quadrature for this mask, fraction of the clear field.

    The coarse-versus-fine estimate |I_h − I_2h| / (2^p − 1): the image at
    the optics' step h against the image at 2h, both by Abbe's sum (no
    kernels built). For plain images p = :data:`SOURCE_ORDER`; for
    extrapolated ones (``source_extrapolation``) both images are
    extrapolated (from h, 2h and 2h, 4h) and p = :data:`EXTRAPOLATED_ORDER`.
    Not defined for the incoherent limit (0).
    """
    from .imaging import aerial_image

    if optics.source.shape == "incoherent" or optics.source.cell_sigma(optics.source_step_sigma) == 0:
        return 0.0
    fine = dataclasses.replace(optics, method="abbe")
    coarse = dataclasses.replace(fine, source_step_sigma=min(0.25, 2 * optics.source_step_sigma))
    # both images extrapolated, or (where twice the step cannot be: 4h > 0.25σ) both plain
    extrapolated = fine.extrapolates() and coarse.extrapolates()
    if not extrapolated:
        fine, coarse = fine.fine_source_optics(), coarse.fine_source_optics()
    order = EXTRAPOLATED_ORDER if extrapolated else SOURCE_ORDER
    a = aerial_image(transmission, pixel_um, fine, periodic=periodic)
    b = aerial_image(transmission, pixel_um, coarse, periodic=periodic)
    return float(np.max(np.abs(a - b))) / (2 ** order - 1)


def probe_mask(optics: ProjectionOptics, pixel_um: float) -> np.ndarray:
    """The mask the source estimate is taken on: 4 × 4 random binary cells (the cone rule's seed),
    each λ/NA wide or 16 samples, whichever is more, periodic.

    Cells of 16 samples (the cone rule's probe) make a window of only 2.5 λ/NA
    at NA 0.3 and 0.05 µm; on its few frequencies the source cells' cuts
    average out less, and the extrapolated image erred there by 1.9e-3
    against 5e-4–7e-4 on 12 µm masks of the same pitch. On λ/NA cells the
    estimate was 0.8–1.5 times the true error (NA 0.3 σ 0.6 and NA 0.5
    σ 0.6, annular 0.5/0.8, at 0.02–0.1 µm).
    """
    from .proximity import PROBE_CELL_SAMPLES, probe_cells

    lam_um = max(w for w, _ in optics.lines) * 1e-3
    return probe_cells(max(PROBE_CELL_SAMPLES, math.ceil(lam_um / optics.na / pixel_um)))


@functools.lru_cache(maxsize=64)
def probe_source_accuracy(optics: ProjectionOptics, pixel_um: float) -> float:
    """:func:`source_accuracy` on :func:`probe_mask` at ``pixel_um``: the estimate a report states
    for the optics and pitch, as the cone rule's probe estimate is for proximity printing."""
    return source_accuracy(optics, probe_mask(optics, pixel_um), pixel_um, periodic=True)


def incoherent_intensity(optics: ProjectionOptics, spectrum: MaskSpectrum, wavelength_nm: float) -> np.ndarray:
    """Incoherent imaging: I = F⁻¹{ F{|t|²} · OTF }, OTF = F{|h|²}/F{|h|²}(0), h = F⁻¹{P}.

    The σ → ∞ limit of partially coherent imaging (Goodman, *Introduction to
    Fourier Optics*, §6.3): the TCC becomes the pupil autocorrelation. The
    point-spread function is computed on the FFT grid itself, so the result
    is exact for the periodic (or padded) window.
    """
    import scipy.fft as sfft

    from .window import WORKERS

    ny, nx = spectrum.shape
    p = spectrum.pixel_um
    fy = np.fft.fftfreq(ny, p)[:, None]
    fx = np.fft.fftfreq(nx, p)[None, :]
    h = sfft.ifft2(pupil(fy, fx, wavelength_nm, optics.na, optics.defocus_um, optics.zernike,
                         optics.immersion_index), workers=WORKERS)
    psf = h.real ** 2 + h.imag ** 2
    otf = sfft.rfft2(psf, workers=WORKERS)
    otf /= otf[0, 0].real
    t = spectrum.transmission
    intensity_t = t.real ** 2 + t.imag ** 2 if np.iscomplexobj(t) else t * t
    return sfft.irfft2(sfft.rfft2(intensity_t, workers=WORKERS) * otf, s=(ny, nx), workers=WORKERS)
