"""Contact and proximity printing (mask aligners): angular-spectrum imaging.

PHYSICS.md §2. A plane wave tilted by direction cosines ``(sx, sy)`` lights
the mask; its transverse frequency ``f0 = (sx, sy)/λ`` is kept across every
interface (Snell). The field at the film after a gap ``g`` of index ``n_g``
(and optionally a depth ``z`` into a film of index ``n_f``) is

    U(x) = F⁻¹{ T(f − f0) · H(f) },   H(f) = exp(i2π g √(n_g²/λ² − |f|²))
                                            · exp(i2π z √(n_f²/λ² − |f|²)),

with evanescent components (|f| > n/λ) decaying. Substituting f → f + f0,

    |U(x)|² = | F⁻¹{ T(f) · H(f + f0) } |²,

so a tilt costs no new mask FFT: the mask is transformed once and each
direction only evaluates the transfer function at shifted frequencies and
runs one inverse FFT. Intensities of the directions add (Abbe summation over
the mutually incoherent source points), as do those of the spectral lines.
Fresnel reflection losses at the interfaces are not modelled (the image is
normalised to the clear field anyway).

Sampling limits (what "too coarse" means here). Behind a straight edge the
image rises from 0.25 to its first maximum 1.37 over x = 1.2172·√(λg/2)
≈ 0.86·√(λg) (PHYSICS.md §2, the Fresnel edge). The pitch must sample that
rise; litho asks for at least four samples per Fresnel length √(λ g_eff),
g_eff = (g + d_abs)/n_g + z/n_f, and refuses coarser grids. At g_eff = 0 (the
ideal-contact limit, image at the film top) light has not propagated at all
and the image is the mask itself at any pitch. A real contact print is never
there: each contact mode leaves an effective gap (:mod:`litho.optics.contact`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft as sfft

from ..errors import LithoInputError
from . import _checks, contact
from .cache import TRANSFER_CACHE
from .kernels import BATCH, _placement, sum_field_intensities
from .spectrum import parse_spectrum, resolve_lines
from .window import WORKERS, BandPlan, MaskSpectrum

OWNER = "ProximityOptics"
ANGULAR_PROFILES = ("uniform", "gaussian")
# Evanescent components weaker than this (field amplitude, relative to the
# clear field) are left out of the band; they change the intensity by < 1e-12.
EVANESCENT_TOLERANCE = 1e-12
# Samples per Fresnel length √(λ g_eff) the grid must provide.
SAMPLES_PER_FRESNEL_LENGTH = 4.0
# Guard band of an isolated window, in Fresnel lengths (plus the geometric
# spread of the collimation cone). The edge-diffraction amplitude at v falls
# as 1/(π v √2); 8 Fresnel lengths each side put the periodic copies at
# v ≈ 23, where it is < 1e-2 before any averaging over directions and lines.
GUARD_FRESNEL_LENGTHS = 8.0
# Relative error allowed on each image Fourier component by the default cone rule.
DIRECTION_TOLERANCE = 1e-4
# Field components counted in the cone phase, degrees from the axis (see ProximityOptics.cone_phase).
GRAZING_ANGLE_DEG = 70.0
MAX_RADIAL_NODES = 24
MAX_AZIMUTHS = 256


@dataclass(frozen=True)
class ProximityOptics:
    """A mask aligner: contact printing (a contact mode's effective gap) or proximity printing.

    Parameters
    ----------
    wavelength_nm : float, optional
        Exposure wavelength in vacuum, nm. Give this or ``spectrum``.
    gap_um : float, optional
        Air gap between the mask's absorber and the film top, µm (>= 0). With
        ``contact_mode`` it is the effective gap of the contact (in
        (0, soft contact's gap]) and defaults to the mode's
        (:mod:`litho.optics.contact`); without, it defaults to 0, the ideal
        contact limit (no propagation before the film).
    contact_mode : {"vacuum", "hard", "soft", "low-vacuum"}, optional
        The aligner's contact program; sets the default ``gap_um``. None:
        proximity printing at ``gap_um``.
    absorber_thickness_nm : float
        Thickness of the mask absorber (chrome ~100 nm), nm; the field leaves
        the thin-mask plane at the glass/absorber interface and crosses the
        absorber's openings before the gap, so it adds to the propagation
        distance (:mod:`litho.optics.contact`). Default 0 (thin mask at the gap).
    collimation_half_angle_deg : float
        Half-angle of the illumination cone in air, degrees (0 <= θ < 30).
        For ``angular_profile="gaussian"`` it is the 1/e² half-width.
    angular_profile : {"uniform", "gaussian"}
        Distribution of directions in the cone: uniform over the disc of
        direction sines, or a Gaussian ``exp(-2 θ²/θc²)``.
    spectrum : str, mapping or sequence, optional
        Broadband source as weighted lines (see
        :func:`litho.optics.spectrum.parse_spectrum`), e.g. ``"hg-broadband"``
        or ``{365: 0.4, 405: 0.25, 436: 0.35}``.
    gap_index : float
        Refractive index of the gap medium (air 1.0003, N2 1.0003; 1.0 default).
    film_index : float
        Refractive index of the film, used when ``film_depth_um > 0``.
    film_depth_um : float
        Depth below the film top at which the image is evaluated, µm. 0 gives
        the image at the film top (the normalisation point of litho's chain).
        ``litho simulate`` does not use it (nor ``film_index``): the film stage
        images at the film's own depth samples with the film material's index
        (:func:`litho.optics.depth_images`, :mod:`litho.dose`).
    direction_rings : int, optional
        The older equal-weight ring scheme with N rings, ``(2N+1)²``
        directions (N=2: 25). None (default): a Gauss rule over the cone sized
        from the pitch for :data:`DIRECTION_TOLERANCE` (see :meth:`directions`).
    precision : {"double", "single"}
        Precision of the field FFTs ("single": faster, ~1e-7 of the clear field).

    Examples
    --------
    >>> import numpy as np
    >>> from litho.optics import ProximityOptics, aerial_image
    >>> optics = ProximityOptics(wavelength_nm=365, gap_um=10, collimation_half_angle_deg=1.5)
    >>> image = aerial_image(np.ones((64, 64)), 0.25, optics, periodic=True)
    >>> bool(np.allclose(image, 1.0))    # a clear mask gives 1
    True
    """

    wavelength_nm: float | None = None
    gap_um: float | None = None
    collimation_half_angle_deg: float = 0.0
    angular_profile: str = "uniform"
    spectrum: Any = None
    gap_index: float = 1.0
    film_index: float = 1.8
    film_depth_um: float = 0.0
    direction_rings: int | None = None
    precision: str = "double"
    contact_mode: str | None = None
    absorber_thickness_nm: float = 0.0

    def __post_init__(self):
        s = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        if self.spectrum is not None:
            s("spectrum", parse_spectrum(self.spectrum, f"{OWNER}.spectrum"))
        if self.wavelength_nm is not None:
            s("wavelength_nm", _checks.number(OWNER, "wavelength_nm", self.wavelength_nm, lo=150, hi=1100,
                                              what="nm"))
        resolve_lines(self.wavelength_nm, self.spectrum, OWNER)
        if self.contact_mode is not None:
            mode = contact.contact_mode(self.contact_mode, f"{OWNER}.contact_mode")
            s("contact_mode", mode.name)
            if self.gap_um is None:
                if mode.gap_um is None:
                    raise LithoInputError(
                        f"{OWNER}.contact_mode = {mode.name!r} has no documented resolution and so no effective "
                        f"gap; give the measured one with gap (0 < gap <= {contact.MAX_CONTACT_GAP_UM:.2f} um)")
                s("gap_um", mode.gap_um)
            else:
                gap = _checks.number(OWNER, "gap_um", self.gap_um, what="effective contact gap in µm")
                s("gap_um", contact.check_contact_gap(gap, f"{OWNER}.gap_um"))
        elif self.gap_um is None:
            s("gap_um", 0.0)
        s("gap_um", _checks.number(OWNER, "gap_um", self.gap_um, lo=0, hi=1e4, what="mask-to-film gap in µm"))
        s("absorber_thickness_nm", _checks.number(OWNER, "absorber_thickness_nm", self.absorber_thickness_nm,
                                                  lo=0, hi=2000, what="mask absorber thickness in nm"))
        s("collimation_half_angle_deg", _checks.number(
            OWNER, "collimation_half_angle_deg", self.collimation_half_angle_deg, lo=0, hi=30, hi_open=True,
            what="degrees"))
        s("angular_profile", _checks.choice(OWNER, "angular_profile", self.angular_profile, ANGULAR_PROFILES))
        s("gap_index", _checks.number(OWNER, "gap_index", self.gap_index, lo=1, hi=4))
        s("film_index", _checks.number(OWNER, "film_index", self.film_index, lo=1, hi=4))
        s("film_depth_um", _checks.number(OWNER, "film_depth_um", self.film_depth_um, lo=0, hi=100, what="µm"))
        if self.direction_rings is not None:
            s("direction_rings", _checks.integer(OWNER, "direction_rings", self.direction_rings, 0, 20))
        s("precision", _checks.choice(OWNER, "precision", self.precision, ("double", "single")))

    # ------------------------------------------------------------------ description

    @property
    def lines(self) -> tuple[tuple[float, float], ...]:
        """``((wavelength_nm, weight), ...)``, weights = fraction of irradiance, summing to 1."""
        return resolve_lines(self.wavelength_nm, self.spectrum, OWNER)

    @property
    def propagation_gap_um(self) -> float:
        """Distance travelled in the gap medium, µm: the air gap plus the absorber's thickness."""
        return self.gap_um + self.absorber_thickness_nm * 1e-3

    @property
    def effective_gap_um(self) -> float:
        """Fresnel-equivalent propagation distance (g + d_abs)/n_g + z/n_f, µm (vacuum wavelength)."""
        return self.propagation_gap_um / self.gap_index + self.film_depth_um / self.film_index

    def fresnel_length_um(self, wavelength_nm: float | None = None) -> float:
        """√(λ g_eff) in µm, at ``wavelength_nm`` (default: the longest line)."""
        wl = wavelength_nm if wavelength_nm is not None else max(w for w, _ in self.lines)
        return math.sqrt(wl * 1e-3 * self.effective_gap_um)

    @property
    def _label(self) -> str:
        return f"{self.contact_mode} contact" if self.contact_mode else "proximity printing"

    @property
    def max_half_angle_rad(self) -> float:
        """Largest tilt sampled, rad (Gaussian profiles are sampled out to about 2θc)."""
        theta = math.radians(self.collimation_half_angle_deg)
        return 2.0 * theta if self.angular_profile == "gaussian" else theta

    @property
    def geometric_blur_um(self) -> float:
        """Lateral half-spread of the cone at the image plane, µm (shadow penumbra)."""
        sin_t = math.sin(self.max_half_angle_rad)
        spread = self.propagation_gap_um * math.tan(math.asin(sin_t / self.gap_index))
        spread += self.film_depth_um * math.tan(math.asin(sin_t / self.film_index))
        return spread

    @property
    def blur_length_um(self) -> float:
        """Guard band for an isolated window, µm: 8 Fresnel lengths + the cone's spread."""
        if self.effective_gap_um == 0:
            return 0.0
        return GUARD_FRESNEL_LENGTHS * self.fresnel_length_um() + self.geometric_blur_um

    @property
    def max_pixel_um(self) -> float:
        """Coarsest pitch that samples the Fresnel edge: √(λ_min g_eff)/4 µm (inf at g_eff = 0)."""
        if self.effective_gap_um == 0:
            return math.inf
        return self.fresnel_length_um(min(w for w, _ in self.lines)) / SAMPLES_PER_FRESNEL_LENGTH

    def check_pixel(self, pixel_um: float, source: str | None = None) -> None:
        """Raise :class:`LithoInputError` if ``pixel_um`` is too coarse for these optics."""
        need = self.max_pixel_um
        if pixel_um > need * (1 + 1e-9):
            wl = min(w for w, _ in self.lines)
            prefix = f"{source}: " if source else ""
            raise LithoInputError(
                f"{prefix}pixel_um = {pixel_um:g} is too coarse for {self._label} at gap "
                f"{self.gap_um:g} µm and {wl:g} nm: the Fresnel length √(λg) = "
                f"{self.fresnel_length_um(wl):.3g} µm needs pixel_um <= {need:.3g}")

    def direction_rings_for(self, pixel_um: float) -> int | None:
        """Rings of the equal-weight ring scheme, if one was asked for with ``direction_rings``.

        None (the default) means the cone is sampled by the Gauss rule of
        :meth:`directions`, whose size is chosen from ``pixel_um`` for
        :data:`DIRECTION_TOLERANCE`.
        """
        return self.direction_rings

    def cone_phase(self, pixel_um: float) -> float:
        """Largest phase κ the cone puts on one image Fourier component, rad.

        A tilt s moves the plane-wave component f of the field laterally by
        ``g·f/kz`` per unit s (kz = √(k² − f²)), so an intensity component
        from the field pair (f1, f2) turns through ``2π g sin θc |f1/kz1 −
        f2/kz2|`` across the cone (paraxially 2π g sin θc |f1 − f2|). The
        field frequencies are those the grid holds (up to its diagonal
        Nyquist frequency), counted up to :data:`GRAZING_ANGLE_DEG` from the
        axis: components beyond it move without bound as kz → 0, carry
        little of a real mask's spectrum, and are left to the measured
        benchmark (benchmarks/bench_accuracy.py).
        """
        spread = self.geometric_blur_um
        if spread == 0:
            return 0.0
        k = self.gap_index / (min(w for w, _ in self.lines) * 1e-3)
        f_grid = math.sqrt(2) / (2 * pixel_um)
        f_cut = min(f_grid, k * math.sin(math.radians(GRAZING_ANGLE_DEG)))
        slope = f_cut / math.sqrt(k * k - f_cut * f_cut)  # largest f/kz counted
        # g·sin θc ≈ the geometric blur; two field components of opposite slope give 2·slope
        return 2 * math.pi * spread * k * 2 * slope

    def direction_rule(self, pixel_um: float) -> tuple[int, int, float]:
        """``(n_radial, n_azimuth, accuracy)`` of the Gauss cone rule at ``pixel_um``.

        ``accuracy`` bounds the relative error of every image Fourier
        component the grid can hold (:func:`cone_rule_error` at
        :meth:`cone_phase`); the smallest rule reaching
        :data:`DIRECTION_TOLERANCE` is chosen.
        """
        return choose_cone_rule(round(self.cone_phase(pixel_um), 9), self.angular_profile, DIRECTION_TOLERANCE)

    def directions_accuracy(self, pixel_um: float) -> float:
        """Estimated error of the cone quadrature, relative to each image Fourier component.

        0 without collimation spread; for an explicit ``direction_rings`` it is
        the same estimate applied to the ring scheme.
        """
        kappa = self.cone_phase(pixel_um)
        if kappa == 0 or math.radians(self.collimation_half_angle_deg) == 0:
            return 0.0
        if self.direction_rings is None:
            return self.direction_rule(pixel_um)[2]
        r, phi, w = _ring_rule(self.direction_rings, self.angular_profile)
        return _rule_error(r, phi, w, kappa, self.angular_profile)

    def directions(self, pixel_um: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Illumination directions and weights sampling the collimation cone.

        Returns
        -------
        sx, sy, weight : ndarray, shape (n,)
            Direction sines in air (``sin θ cos φ``, ``sin θ sin φ``) and weights
            summing to 1.

        Notes
        -----
        Default: a product Gauss rule. The cone's weight is written in the
        cumulative radial variable ``u`` (uniform disc: ``u = (sin θ/sin θc)²``;
        Gaussian: ``u = 1 − exp(−2θ²/θc²)``, cut at 2θc), sampled at
        Gauss–Legendre nodes in ``u`` and ``n_azimuth`` equal azimuths
        ``(j + ½)·2π/n_azimuth`` (a multiple of 8, so the set is symmetric
        under x and y mirrors and the x↔y swap). The image varies smoothly
        with the tilt (a shift of about tilt × gap), so this converges
        exponentially, where rings of equal points converge slowly (a one-ring
        set errs by ~5e-2 of the clear field at 10 µm, 1.5°, 0.2 µm pixels).
        The size is the smallest reaching :data:`DIRECTION_TOLERANCE`
        (:meth:`direction_rule`).

        With ``direction_rings = N``: the older scheme of N rings of equal
        weight, ``(2N+1)²`` directions.
        """
        theta_c = math.radians(self.collimation_half_angle_deg)
        if theta_c == 0 or self.geometric_blur_um == 0 or self.direction_rings == 0:
            return np.zeros(1), np.zeros(1), np.ones(1)
        if self.direction_rings is not None:
            r, phi, w = _ring_rule(self.direction_rings, self.angular_profile)
        else:
            n_r, n_phi, _ = self.direction_rule(pixel_um)
            r, phi, w = _gauss_rule(n_r, n_phi, self.angular_profile)
        # r is the tilt in units of the largest one sampled (θc, or 2θc for a Gaussian)
        if self.angular_profile == "uniform":
            rho = math.sin(theta_c) * r
        else:
            rho = np.sin(self.max_half_angle_rad * r)
        return rho * np.cos(phi), rho * np.sin(phi), w

    def field_band_per_um(self, wavelength_nm: float, max_tilt_per_um: float = 0.0) -> float:
        """Highest frequency (1/µm) a field may carry above the evanescent tolerance."""
        lam_um = wavelength_nm * 1e-3
        decay = math.log(1.0 / EVANESCENT_TOLERANCE) / (2 * math.pi)
        band = math.inf
        if self.propagation_gap_um > 0:
            band = min(band, math.hypot(self.gap_index / lam_um, decay / self.propagation_gap_um))
        if self.film_depth_um > 0:
            band = min(band, math.hypot(self.film_index / lam_um, decay / self.film_depth_um))
        return band + max_tilt_per_um

    # ------------------------------------------------------------------ imaging

    def transfer(self, fy_per_um: np.ndarray, fx_per_um: np.ndarray, wavelength_nm: float) -> np.ndarray:
        """H(fx, fy) on the outer grid of ``fy`` × ``fx``, shape ``(len(fy), len(fx))``.

        The on-axis phase exp(i2π n g/λ) is removed (a constant phase does not
        change an intensity and keeps the arguments small).
        """
        lam_um = wavelength_nm * 1e-3
        rho2 = fy_per_um[:, None] ** 2 + fx_per_um[None, :] ** 2
        arg = np.zeros(rho2.shape, dtype=np.complex128)
        for length, index in ((self.propagation_gap_um, self.gap_index), (self.film_depth_um, self.film_index)):
            if length == 0:
                continue
            k = index / lam_um
            # sqrt of a complex with +0j imaginary part: +i√(f²−k²) beyond k, so
            # exp(i2π z kz) decays for evanescent components.
            kz = np.sqrt((k * k - rho2).astype(np.complex128))
            arg += (2 * math.pi * length) * (kz - k)
        return np.exp(1j * arg)

    def line_intensity(self, spectrum: MaskSpectrum, wavelength_nm: float) -> np.ndarray:
        """Image at one wavelength on the mask spectrum's FFT grid (clear field = 1).

        Parameters
        ----------
        spectrum : MaskSpectrum
            The FFT of the (padded) transmission.
        wavelength_nm : float

        Returns
        -------
        ndarray, float64, shape of the FFT grid
        """
        t = spectrum.transmission
        if self.effective_gap_um == 0:
            # No propagation: the image is the mask. A real transmission is the
            # area coverage of a binary mask, whose pixel-averaged intensity is
            # the coverage itself; a complex one is a field.
            return np.abs(t) ** 2 if np.iscomplexobj(t) else np.array(t, dtype=np.float64)
        pixel_um = spectrum.pixel_um
        lam_um = wavelength_nm * 1e-3
        sx, sy, weights = self.directions(pixel_um)
        f0x, f0y = sx / lam_um, sy / lam_um
        tilt = float(np.max(np.hypot(f0x, f0y)))
        plan = BandPlan.make(spectrum.shape, pixel_um, self.field_band_per_um(wavelength_nm, tilt))
        box = spectrum.box(plan)
        fy, fx = plan.fy_per_um, plan.fx_per_um
        scale = plan.field_scale

        def spectra():
            for ax, ay, w in zip(f0x, f0y, weights):
                h = self._cached_transfer(plan, fy + ay, fx + ax, wavelength_nm, (ax, ay))
                yield box * h * (math.sqrt(w) * scale)

        return plan.interpolate(sum_field_intensities(plan, spectra(), self.precision), self.precision)

    def depth_intensities(self, spectrum: MaskSpectrum, wavelength_nm: float, film_depths_um,
                          film_index: float) -> list[np.ndarray]:
        """Images at several depths inside a film of index ``film_index``, on the FFT grid (clear field = 1).

        Equal to :meth:`line_intensity` of the optics with ``film_depth_um = z``
        for each z, with two savings: every direction's gap transfer function
        and film wavenumber are computed once for all depths (a depth then
        costs one exponential and one inverse FFT per direction), and the
        depths share the band plan of the film top (the widest) and the
        direction set of the deepest sample (the widest cone spread).

        Parameters
        ----------
        spectrum : MaskSpectrum
        wavelength_nm : float
        film_depths_um : sequence of float
            Depths below the film top, µm (>= 0).
        film_index : float

        Returns
        -------
        list of ndarray, float64, one per depth
        """
        depths = [float(z) for z in film_depths_um]
        members = [dataclasses.replace(self, film_depth_um=z, film_index=film_index) for z in depths]
        if self.propagation_gap_um == 0:
            # ideal contact: the film top is the mask itself; keep the exact special case
            return [m.line_intensity(spectrum, wavelength_nm) for m in members]
        top = dataclasses.replace(self, film_depth_um=0.0, film_index=film_index)
        deepest = members[int(np.argmax(depths))]
        pixel_um = spectrum.pixel_um
        lam_um = wavelength_nm * 1e-3
        sx, sy, weights = deepest.directions(pixel_um)
        f0x, f0y = sx / lam_um, sy / lam_um
        tilt = float(np.max(np.hypot(f0x, f0y)))
        plan = BandPlan.make(spectrum.shape, pixel_um, top.field_band_per_um(wavelength_nm, tilt))
        box = spectrum.box(plan)
        fy, fx = plan.fy_per_um, plan.fx_per_um
        my, mx = plan.field_shape
        rows, cols = _placement(plan)
        ctype = np.complex64 if self.precision == "single" else np.complex128
        acc = np.zeros((len(depths), my, mx))
        chunk = min(len(depths), BATCH)
        batch = np.zeros((chunk, my, mx), dtype=ctype)
        k_film = film_index / lam_um
        for ax, ay, w in zip(f0x, f0y, weights):
            base = box * top._cached_transfer(plan, fy + ay, fx + ax, wavelength_nm, (ax, ay))
            base *= math.sqrt(w) * plan.field_scale
            rho2 = (fy + ay)[:, None] ** 2 + (fx + ax)[None, :] ** 2
            # exp(i2π z (kz − k)) per depth; evanescent parts decay (+i√ branch, see transfer)
            phase = (2j * math.pi) * (np.sqrt((k_film * k_film - rho2).astype(np.complex128)) - k_film)
            for start in range(0, len(depths), chunk):
                part = depths[start:start + chunk]
                for k, z in enumerate(part):
                    batch[k, rows, cols] = base * np.exp(phase * z) if z else base
                fields = sfft.ifft2(batch[:len(part)], axes=(-2, -1), workers=WORKERS)
                acc[start:start + len(part)] += fields.real ** 2 + fields.imag ** 2
        return [plan.interpolate(a, self.precision) for a in acc]

    def _cached_transfer(self, plan: BandPlan, fy, fx, wavelength_nm, tilt) -> np.ndarray:
        key = ("proximity", plan.key, wavelength_nm, self.propagation_gap_um, self.gap_index, self.film_depth_um,
               self.film_index, float(tilt[0]), float(tilt[1]))
        h = TRANSFER_CACHE.get(key)
        if h is None:
            h = self.transfer(fy, fx, wavelength_nm)
            TRANSFER_CACHE.put(key, h, h.nbytes)
        return h


# --------------------------------------------------------------------------- cone quadrature

GAUSSIAN_CUT = 1.0 - math.exp(-8.0)  # cumulative weight inside 2θc of exp(−2θ²/θc²)


def _radius_of_u(u: np.ndarray, profile: str) -> np.ndarray:
    """Tilt, in units of the largest tilt sampled, at cumulative radial weight ``u`` (ring scheme)."""
    if profile == "uniform":
        return np.sqrt(u)
    return np.sqrt(-np.log1p(-u) / 2) / 2.0  # θ/θc = √(−ln(1−u)/2), largest tilt 2θc


def _azimuths(n_phi: int) -> np.ndarray:
    return (np.arange(n_phi) + 0.5) * (2 * math.pi / n_phi)


def _radial_rule(n_r: int, profile: str) -> tuple[np.ndarray, np.ndarray]:
    """Gauss nodes in r (units of the largest tilt) and weights of the cone's radial measure.

    Uniform disc: Gauss–Legendre in u = r² (the measure is du, the integrand
    analytic in u). Gaussian: Gauss–Legendre in r on [0, 1] with the density
    r·exp(−8r²) (exp(−2θ²/θc²) at θ = 2θc·r) folded into the weights.
    """
    x, wx = np.polynomial.legendre.leggauss(n_r)
    if profile == "uniform":
        return np.sqrt((x + 1) / 2), wx / wx.sum()
    r = (x + 1) / 2
    w = wx * r * np.exp(-8 * r * r)
    return r, w / w.sum()


@functools.lru_cache(maxsize=64)
def _gauss_rule(n_r: int, n_phi: int, profile: str):
    """Nodes (r, φ) and weights of the product rule, r in units of the largest tilt."""
    r, wr = _radial_rule(n_r, profile)
    phi = _azimuths(n_phi)
    rr = np.repeat(r, n_phi)
    pp = np.tile(phi, n_r)
    ww = np.repeat(wr, n_phi) / n_phi
    for a in (rr, pp, ww):
        a.setflags(write=False)
    return rr, pp, ww


@functools.lru_cache(maxsize=64)
def _ring_rule(rings: int, profile: str):
    """The equal-weight ring scheme: a centre cell and rings of 8k cells, (2N+1)² points."""
    edges = ((2 * np.arange(rings + 1) + 1) / (2 * rings + 1)) ** 2
    r, phi = [0.0], [0.0]
    u_max = 1.0 if profile == "uniform" else GAUSSIAN_CUT
    for k in range(1, rings + 1):
        u = 0.5 * (edges[k - 1] + edges[k]) * u_max
        r.extend([float(_radius_of_u(np.asarray(u), profile))] * (8 * k))
        phi.extend(_azimuths(8 * k))
    n = len(r)
    out = np.asarray(r), np.asarray(phi), np.full(n, 1.0 / n)
    for a in out:
        a.setflags(write=False)
    return out


@functools.lru_cache(maxsize=8)
def _reference_transform(profile: str, kappas: tuple) -> np.ndarray:
    """Exact ∫ exp(iκ r cos φ) dW over the cone (radially symmetric: a J0 transform)."""
    import scipy.special as sp

    k = np.asarray(kappas)
    if profile == "uniform":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(k > 0, 2 * sp.j1(k) / np.where(k > 0, k, 1), 1.0)
    r, w = _radial_rule(200, profile)
    return sp.j0(np.outer(k, r)) @ w


def _rule_error(r, phi, w, kappa: float, profile: str) -> float:
    """Largest error of the rule on exp(i q·shift) over κ' <= κ and every direction of q."""
    kappas = tuple(np.linspace(0.0, kappa, 48).tolist())
    exact = _reference_transform(profile, kappas)
    alphas = np.linspace(0.0, math.pi / 4, 7)  # the rule's 8-fold symmetry covers the rest
    k = np.asarray(kappas)
    proj = r[None, :] * np.cos(phi[None, :] - alphas[:, None])          # (alpha, node)
    # the rule is point-symmetric, so the sine part cancels exactly: only cos(κ r cos(φ − α)) is summed
    approx = np.cos(k[:, None, None] * proj[None, :, :]).reshape(-1, w.size) @ np.asarray(w)
    return float(np.max(np.abs(approx.reshape(k.size, alphas.size) - exact[:, None])))


@functools.lru_cache(maxsize=256)
def choose_cone_rule(kappa: float, profile: str, tolerance: float) -> tuple[int, int, float]:
    """Product rule ``(n_radial, n_azimuth, error)`` for phase ``kappa`` and ``tolerance``.

    The two factors are chosen apart, each for half the tolerance: the
    azimuth count from the trapezoid rule's error on exp(iκ cos φ)
    (2 Σ_m |J_{m·n}(κ)|), the radial count from the Gauss rule's error on
    the radial transform J0(κ' r) for κ' <= κ. The returned error is that of
    the product rule itself (:func:`_rule_error`). Capped at
    :data:`MAX_RADIAL_NODES` × :data:`MAX_AZIMUTHS`.
    """
    import scipy.special as sp

    n_phi = MAX_AZIMUTHS
    for n in range(8, MAX_AZIMUTHS + 1, 8):
        if 2 * sum(abs(float(sp.jv(m * n, kappa))) for m in range(1, 4)) <= tolerance / 2:
            n_phi = n
            break
    kappas = np.linspace(0.0, kappa, 64)
    exact = _reference_transform(profile, tuple(kappas.tolist()))
    n_r = MAX_RADIAL_NODES
    for n in range(1, MAX_RADIAL_NODES + 1):
        r, w = _radial_rule(n, profile)
        if np.max(np.abs(sp.j0(np.outer(kappas, r)) @ w - exact)) <= tolerance / 2:
            n_r = n
            break
    return n_r, n_phi, _rule_error(*_gauss_rule(n_r, n_phi, profile), kappa, profile)
