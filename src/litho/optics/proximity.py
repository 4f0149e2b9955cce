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
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft as sfft

from ..errors import LithoInputError, LithoNote
from . import _checks, contact
import threading
from collections import OrderedDict

from .cache import TRANSFER_CACHE
from .fused import multiply
from .phasor import SMALL as SMALL_PHASES, unit_phasor
from .kernels import FieldBatch, sum_field_intensities
from .spectrum import parse_spectrum, resolve_lines
from .window import BandPlan, MaskSpectrum

OWNER = "ProximityOptics"
#: Transfer-function sets kept: one per gap (every illumination direction and line of one
#: gap and film on one band grid) and one per film (the films' depth step factors, shared by
#: every gap). A sweep runs one gap per task, so this many sets (the films', and the gaps of
#: the Dask threads plus one) stay cached at once instead of thrashing a per-array LRU that
#: holds less than two sets; the byte budget below bounds them together.
TRANSFER_GAP_SETS = 6
#: Most recently used sets never evicted to make room (one image uses its gap's and its film's).
IN_USE_SETS = 2
#: Byte budget of all sets together; the sets in use keep what fits and compute the rest.
TRANSFER_BUDGET_BYTES = 4 * TRANSFER_CACHE.max_bytes
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
# Image error allowed to the default cone rule, fraction of the clear field, as
# estimated on the probe mask (probe_mask; benchmarks/bench_accuracy.py measures
# the rule on other masks against converged cone sums). The shipped RGB recipe
# (3 um gap, 1.5 deg, 0.25 um pitch, imaged to 60 nm into the film) gets 3 x 8 = 24
# directions, estimate 6.4e-4. Set `directions` per recipe (direction_rings) or
# exposure.cone_rule_tolerance for another rule.
DIRECTION_TOLERANCE = 1e-3


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
    cone_rule_pixel_um : float, optional
        Size the default cone rule for this pitch instead of the grid's own
        (None). The convergence check holds it at the run's pitch, so that
        the half-pitch run differs from the run by its grid alone, not by
        another cone rule (:meth:`holding_cone_rule`).
    cone_rule_tolerance : float, optional
        Estimated image error the default cone rule is sized for, fraction of
        the clear field (None: :data:`DIRECTION_TOLERANCE`).

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
    # the convergence check's pin of the cone rule to the run's pitch: not a setting of the tool,
    # so not in repr() or report.json (it was a null there in every report)
    cone_rule_pixel_um: float | None = dataclasses.field(default=None, repr=False)
    cone_rule_tolerance: float | None = None

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
        if self.cone_rule_tolerance is not None:
            s("cone_rule_tolerance", _checks.number(OWNER, "cone_rule_tolerance", self.cone_rule_tolerance, lo=1e-6,
                                                    hi=0.5, what="fraction of the clear field"))
        if self.cone_rule_pixel_um is not None:
            s("cone_rule_pixel_um", _checks.number(OWNER, "cone_rule_pixel_um", self.cone_rule_pixel_um, lo=0,
                                                   lo_open=True, hi=100, what="µm"))

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

    @property
    def rule_tolerance(self) -> float:
        """The estimated image error the default cone rule is sized for (``cone_rule_tolerance``)."""
        return DIRECTION_TOLERANCE if self.cone_rule_tolerance is None else self.cone_rule_tolerance

    def holding_cone_rule(self, pixel_um: float) -> "ProximityOptics":
        """These optics with the cone rule of ``pixel_um`` on any grid (``cone_rule_pixel_um``)."""
        if self.cone_rule_pixel_um is not None:
            return self
        return dataclasses.replace(self, cone_rule_pixel_um=float(pixel_um))

    def direction_rule(self, pixel_um: float) -> tuple[int, int, float]:
        """``(n_radial, n_azimuth, error)`` of the default Gauss cone rule at ``pixel_um``.

        The first rule of :data:`CONE_RULES` (cheapest first) whose
        estimated image error (:func:`cone_rule_error`) is at most
        :data:`DIRECTION_TOLERANCE` of the clear field; ``error`` is that
        estimate (0 without collimation spread).
        """
        if self._no_cone():
            return 1, 1, 0.0
        return choose_cone_rule(_probe_key(self, pixel_um), self.rule_tolerance)

    def directions_accuracy(self, pixel_um: float) -> float:
        """Estimated error of the cone quadrature at ``pixel_um``, fraction of the clear field.

        The default rule's estimate (:meth:`direction_rule`); for an explicit
        ``direction_rings`` the same probe measurement of the ring scheme
        against the Gauss rule of twice the default level.
        """
        if self._no_cone():
            return 0.0
        if self.direction_rings is None:
            return self.direction_rule(pixel_um)[2]
        return ring_rule_error(_probe_key(self, pixel_um), self.direction_rings, self.rule_tolerance)

    def _no_cone(self) -> bool:
        return (math.radians(self.collimation_half_angle_deg) == 0 or self.geometric_blur_um == 0
                or self.effective_gap_um == 0)

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
        if self._no_cone() or self.direction_rings == 0:
            return np.zeros(1), np.zeros(1), np.ones(1)
        if self.direction_rings is not None:
            rule = _ring_rule(self.direction_rings, self.angular_profile)
        else:
            n_r, n_phi, _ = self.direction_rule(pixel_um)
            rule = _gauss_rule(n_r, n_phi, self.angular_profile)
        return _rule_directions(rule, self.collimation_half_angle_deg, self.angular_profile)

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
        layers = [(2 * math.pi * length, index / lam_um) for length, index in
                  ((self.propagation_gap_um, self.gap_index), (self.film_depth_um, self.film_index)) if length]
        # kz = √(k² − ρ²) is real where a component propagates and +i√(ρ² − k²) beyond k, where
        # exp(i2π z kz) decays
        if rho2.size < SMALL_PHASES:
            # a small grid (a probe's band, a line-space trial): fewer, complex passes cost less
            arg = sum(scale * (np.sqrt((k * k - rho2).astype(np.complex128)) - k) for scale, k in layers)
            return np.exp(1j * arg) if layers else np.ones(rho2.shape, dtype=np.complex128)
        # H = exp(−decay)·exp(iφ), the real phase taken as a unit phasor (a third of the time of
        # the complex exponential, equal to 1e-15)
        phase = np.zeros(rho2.shape)
        decay = None
        for scale, k in layers:
            q = k * k - rho2
            if float(q.min()) < 0:
                beyond = np.sqrt(np.maximum(-q, 0.0))
                beyond *= scale
                decay = beyond if decay is None else decay + beyond
                np.maximum(q, 0.0, out=q)
            root = np.sqrt(q, out=q)
            root -= k
            root *= scale
            phase += root
        h = unit_phasor(phase)
        if decay is not None:
            where = np.flatnonzero(decay)      # the evanescent components only
            h.reshape(-1)[where] *= np.exp(-decay.reshape(-1)[where])
        return h

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
        f0x, f0y, weights, plan, box = self._band_setup(spectrum, wavelength_nm, self)
        f0x, f0y, weights, symmetry = _orbit_representatives(spectrum, f0x, f0y, weights)
        fy, fx = plan.fy_per_um, plan.fx_per_um
        scale = plan.field_scale

        nyquist = _nyquist_bins(plan)

        def spectra():
            for ax, ay, w in zip(f0x, f0y, weights):
                h = self._cached_transfer(plan, fy + ay, fx + ax, wavelength_nm, (ax, ay))
                field = box * h * (math.sqrt(w) * scale)
                if nyquist != (None, None):
                    def field_of(fy_line, fx_line, box_line, ax=ax, ay=ay, w=w):
                        return (box_line * self.transfer(fy_line + ay, fx_line + ax, wavelength_nm)
                                * (math.sqrt(w) * scale))[None]
                    for iy, ix, values in _nyquist_symmetric(field_of, plan, box, nyquist):
                        field[iy, ix] = values[0]
                yield field

        image = plan.interpolate(sum_field_intensities(plan, spectra(), self.precision), self.precision)
        return image if symmetry is None else symmetry.symmetrize(image)

    def _band_setup(self, spectrum: MaskSpectrum, wavelength_nm: float, directions_of: "ProximityOptics"):
        """Tilt frequencies and weights of ``directions_of``'s cone, the band plan of this optics for them,
        and the mask spectrum's band box: what every image of one line starts from."""
        lam_um = wavelength_nm * 1e-3
        sx, sy, weights = directions_of.directions(spectrum.pixel_um)
        f0x, f0y = sx / lam_um, sy / lam_um
        tilt = float(np.max(np.hypot(f0x, f0y)))
        plan = BandPlan.make(spectrum.shape, spectrum.pixel_um, self.field_band_per_um(wavelength_nm, tilt))
        return f0x, f0y, weights, plan, spectrum.box(plan)

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
        lam_um = wavelength_nm * 1e-3
        f0x, f0y, weights, plan, box = top._band_setup(spectrum, wavelength_nm, deepest)
        f0x, f0y, weights, symmetry = _orbit_representatives(spectrum, f0x, f0y, weights)
        fy, fx = plan.fy_per_um, plan.fx_per_um
        # every depth of one direction in one batch: the depth fields are written straight into
        # it (no array per depth besides) and transformed in place
        batch = FieldBatch(plan, len(depths), self.precision)
        acc = [np.zeros(plan.field_shape) for _ in depths]
        k_film = film_index / lam_um
        steps = _depth_steps(depths)
        nyquist = _nyquist_bins(plan)
        for ax, ay, w in zip(f0x, f0y, weights):
            amplitude = math.sqrt(w) * plan.field_scale
            base = box * top._cached_transfer(plan, fy + ay, fx + ax, wavelength_nm, (ax, ay))
            base *= amplitude
            slots = [batch.slot(k) for k in range(len(depths))]
            _depth_fields(slots, base, top._cached_film_phase(plan, fy, fx, (ax, ay), k_film, steps),
                          depths, steps)
            if nyquist != (None, None):
                def field_of(fy_line, fx_line, box_line, ax=ax, ay=ay, amplitude=amplitude):
                    h = box_line * top.transfer(fy_line + ay, fx_line + ax, wavelength_nm) * amplitude
                    phase = self._film_phase(fy_line, fx_line, (ax, ay), k_film, None)
                    return np.stack([h * np.exp(phase * z) for z in depths])
                for iy, ix, values in _nyquist_symmetric(field_of, plan, box, nyquist):
                    for slot, value in zip(slots, values):
                        slot[iy, ix] = value
            batch.add_intensities(len(depths), acc)
        images = [plan.interpolate(a, self.precision) for a in acc]
        return images if symmetry is None else [symmetry.symmetrize(a) for a in images]

    @staticmethod
    def _film_phase(fy, fx, tilt, k_film, steps) -> np.ndarray:
        """What one direction's depth fields are made from: i2π(kz − k) in the film, or, for equally
        stepped depths, the step factor exp(i2π dz (kz − k)) (:func:`_depth_fields`)."""
        rho2 = (fy + tilt[1])[:, None] ** 2 + (fx + tilt[0])[None, :] ** 2
        q = k_film * k_film - rho2
        if steps is not None and float(q.min()) >= 0:
            # every component propagates in the film (the usual case: the gap cuts the band below
            # n_f/λ): the step factor is a pure phase, a unit phasor of a real sqrt (a fifth of the
            # time of the complex sqrt and exponential, equal to 1e-15)
            return unit_phasor((2 * math.pi * steps[0]) * (np.sqrt(q) - k_film))
        # exp(i2π z (kz − k)) per depth; evanescent parts decay (+i√ branch, see transfer)
        phase = (2j * math.pi) * (np.sqrt(q.astype(np.complex128)) - k_film)
        return phase if steps is None else np.exp(phase * steps[0])

    def _cached_film_phase(self, plan: BandPlan, fy, fx, tilt, k_film, steps) -> np.ndarray:
        """:meth:`_film_phase`, cached as a set of its own: it depends on the film and the
        direction, not on the gap, so every gap of a sweep (and every run on the same grid)
        shares one set. Computed once per octant orbit of directions (:func:`_radial_cached`)."""
        film_key = ("proximity film", plan.key, float(k_film))
        dz = None if steps is None else float(steps[0])

        def compute(fy_part, fx_part, t):
            return self._film_phase(fy_part, fx_part, t, k_film, steps)

        def branch(t):   # _film_phase takes the unit-phasor route when every component propagates
            return steps is not None and _all_propagating(plan, t, k_film)

        return _radial_cached(film_key, lambda t: (dz, float(t[0]), float(t[1])), plan, tilt, compute, branch)

    def _cached_transfer(self, plan: BandPlan, fy, fx, wavelength_nm, tilt) -> np.ndarray:
        """:meth:`transfer` at the tilted frequencies of ``plan``, cached per gap (and per film, when
        the optics reach into it), computed once per octant orbit of directions (:func:`_radial_cached`)."""
        film = (self.film_index,) if self.film_depth_um else ()   # a film-top transfer is the same for every film
        gap_key = ("proximity", plan.key, self.propagation_gap_um, self.gap_index, *film)

        def compute(fy_part, fx_part, t):
            return self.transfer(fy_part + t[1], fx_part + t[0], wavelength_nm)

        return _radial_cached(gap_key, lambda t: (wavelength_nm, self.film_depth_um, float(t[0]), float(t[1])),
                              plan, tilt, compute)


def _orbit_representatives(spectrum: MaskSpectrum, f0x, f0y, weights):
    """The directions to image and the symmetry that completes their sum (:mod:`.symmetry`).

    A mask raster with mirror or quarter-turn symmetry needs one direction
    per orbit of the rule under that symmetry, weighted by the orbit, and
    its image symmetrised; otherwise every direction, and ``None``. The
    transfer functions are radial in the tilted frequency, which is what
    the reduction needs; on an even axis kept whole, the Nyquist bin is
    read symmetrically for the same reason (:func:`_nyquist_symmetric`).
    """
    # one direction (no cone) has nothing to reduce: the raster is not searched for symmetry
    symmetry = spectrum.symmetry if len(weights) > 1 else None
    reduced = None if symmetry is None else symmetry.orbits(f0x, f0y, weights)
    if reduced is None:
        return f0x, f0y, weights, None
    index, orbit_weights = reduced
    return f0x[index], f0y[index], orbit_weights, symmetry


def _mirror_index(k: np.ndarray) -> np.ndarray:
    """For each frequency index k of an axis the position of −k on it (−1: an unpaired Nyquist bin)."""
    order = np.argsort(k, kind="stable")
    pos = np.minimum(np.searchsorted(k[order], -k), k.size - 1)
    return np.where(k[order][pos] == -k, order[pos], -1)


def _all_propagating(plan: BandPlan, tilt, k_per_um: float) -> bool:
    """Whether every tilted frequency of the plan is below ``k_per_um``: the test of
    :meth:`ProximityOptics._film_phase` on the whole box, from the two axes (the largest ρ² of
    the box is the sum of the axes' largest squares, in floating point too)."""
    rho2 = float(np.max((plan.fy_per_um + tilt[1]) ** 2)) + float(np.max((plan.fx_per_um + tilt[0]) ** 2))
    return k_per_um * k_per_um - rho2 >= 0


def _radial_cached(set_key, key_of, plan: BandPlan, tilt, compute, branch=None) -> np.ndarray:
    """A function of the tilted frequency's ρ² = (fy + ay)² + (fx + ax)² on the plan's box, cached
    per direction, computed once per orbit of the mirrors x → −x, y → −y and the swap x ↔ y.

    A direction's array is gathered from that of its first-octant representative
    (|ax|, |ay|), sorted so that ax >= ay (swap on a square plan only): ((−f) + (−a))² equals
    (f + a)² in floating point and a sum does not depend on its order, so the gathered values
    are those computing them would give, bit for bit. The bins without a mirror image on
    their axis (the unpaired Nyquist bins) are computed on their line. A cone rule's 8
    azimuths of a ring are one orbit: a cold run computes one array per ring instead of 8.

    Parameters
    ----------
    set_key, key_of : the cache set and ``tilt -> key`` of :data:`GAP_TRANSFERS`.
    compute : callable ``(fy_per_um, fx_per_um, tilt) -> ndarray (len(fy), len(fx))``
        The function on an outer grid of untilted frequencies.
    branch : callable ``tilt -> object``, optional
        A route ``compute`` takes from the whole box (such as "every component propagates");
        where it differs between the direction and its representative, the direction is computed.
    """
    ax, ay = float(tilt[0]), float(tilt[1])
    key = key_of((ax, ay))
    out = GAP_TRANSFERS.get(set_key, key)
    if out is not None:
        return out
    fy, fx = plan.fy_per_um, plan.fx_per_um
    square = plan.ay.n == plan.ax.n and np.array_equal(plan.ay.k, plan.ax.k)
    swap = square and abs(ay) > abs(ax)
    rep = (abs(ay), abs(ax)) if swap else (abs(ax), abs(ay))
    if rep == (ax, ay) or (branch is not None and branch(rep) != branch((ax, ay))):
        out = compute(fy, fx, (ax, ay))
    else:
        base = GAP_TRANSFERS.get(set_key, key_of(rep))
        if base is None:
            base = compute(fy, fx, rep)
            GAP_TRANSFERS.put(set_key, key_of(rep), base)
        rows = _mirror_index(plan.ay.k) if ay < 0 else np.arange(fy.size)
        cols = _mirror_index(plan.ax.k) if ax < 0 else np.arange(fx.size)
        if swap:
            # out[i, j] = F((f_i + ay)² + (f_j + ax)²) = base[cols[j], rows[i]]
            out = np.ascontiguousarray(base[np.ix_(np.maximum(cols, 0), np.maximum(rows, 0))].T)
        else:
            out = base[np.ix_(np.maximum(rows, 0), np.maximum(cols, 0))]
        for i in np.flatnonzero(rows < 0):
            out[i, :] = compute(fy[i:i + 1], fx, (ax, ay))[0]
        for j in np.flatnonzero(cols < 0):
            out[:, j] = compute(fy, fx[j:j + 1], (ax, ay))[:, 0]
    GAP_TRANSFERS.put(set_key, key, out)
    return out


def _nyquist_bins(plan: BandPlan) -> tuple[int | None, int | None]:
    """``(iy, ix)``: the box index of the unpaired Nyquist bin (−n/2 of an even axis the plan keeps
    whole) on each axis, None where the axis pairs every k with −k."""
    out = []
    for axis in (plan.ay, plan.ax):
        unpaired = np.flatnonzero(~np.isin(axis.k, -axis.k))
        out.append(int(unpaired[0]) if unpaired.size else None)
    return out[0], out[1]


def _nyquist_symmetric(field_of, plan: BandPlan, box: np.ndarray, nyquist) -> list:
    """The fields on the unpaired Nyquist bins, split evenly between +f_N and −f_N.

    On an even axis the bin −n/2 stands for both ±f_N (on the samples the
    two waves coincide), but a tilted plane wave propagates them
    differently: H(f_N + a) ≠ H(−f_N + a) (2.8 rad apart at 0.25 µm, 365 nm,
    a 3 µm gap and 1.5°). Taking −f_N only made the image of a
    mirror-symmetric mask asymmetric, by 2e-3 of the clear field on a
    single-pixel window of the tests' 254 nm contact print at 0.2 µm. The
    symmetric reading gives the bin half of each: the mean field over the
    two signs (four at the corner bin).

    Parameters
    ----------
    field_of : callable ``(fy, fx, box_part) -> ndarray (n_depths, len(fy), len(fx))``
        The direction's fields on an outer grid of frequencies (1/µm).
    nyquist : (iy, ix)
        :func:`_nyquist_bins`.

    Returns
    -------
    list of (row index, column index, values (n_depths, ...))
        Assignments into the field on the box, in order (column, row, corner).
    """
    iy, ix = nyquist
    fy, fx = plan.fy_per_um, plan.fx_per_um
    out = []
    if ix is not None:
        line = slice(ix, ix + 1)
        column = 0.5 * (field_of(fy, fx[line], box[:, line]) + field_of(fy, -fx[line], box[:, line]))
        out.append((slice(None), ix, column[:, :, 0]))
    if iy is not None:
        line = slice(iy, iy + 1)
        row = 0.5 * (field_of(fy[line], fx, box[line, :]) + field_of(-fy[line], fx, box[line, :]))
        out.append((iy, slice(None), row[:, 0, :]))
    if ix is not None and iy is not None:
        corner_y, corner_x = slice(iy, iy + 1), slice(ix, ix + 1)
        corner = sum(field_of(sy * fy[corner_y], sx * fx[corner_x], box[corner_y, corner_x])
                     for sy in (1, -1) for sx in (1, -1)) / 4
        out.append((iy, ix, corner[:, 0, 0]))
    return out


def _depth_steps(depths: list[float]) -> tuple[float, list[int]] | None:
    """``(dz, [k_i])`` when every depth is k_i·dz for small whole k_i (film depth samples are), else None."""
    positive = [z for z in depths if z > 0]
    if not positive:
        return None
    dz = min(positive)
    ks = [round(z / dz) for z in depths]
    if max(ks) > 4 * len(depths) or any(abs(k * dz - z) > 1e-9 * max(1.0, z) for k, z in zip(ks, depths)):
        return None
    return dz, ks


def _depth_fields(out: list, base: np.ndarray, phase: np.ndarray, depths: list[float], steps) -> None:
    """Write ``base · exp(i2π z (kz − k))`` for every depth into ``out`` (one array per depth).

    ``phase`` is i2π(kz − k), or for equally stepped depths (the film's
    samples and their unfolded reflected paths) the step factor
    exp(i2π dz (kz − k)) (:meth:`ProximityOptics._film_phase`): a depth then
    costs one product instead of one exponential, which costs about ten.
    Each power is computed into the output of its depth, so only a power no
    depth asks for needs an array of its own.
    """
    if steps is None:
        for target, z in zip(out, depths):
            if z:
                np.multiply(base, np.exp(phase * z), out=target)
            else:
                target[...] = base
        return
    _, ks = steps
    at: dict[int, list[int]] = {}
    for i, k in enumerate(ks):
        at.setdefault(k, []).append(i)
    current, spare = base, None
    for k in range(max(ks) + 1):
        if k:
            if k in at:
                target = out[at[k][0]]
            else:
                spare = np.empty_like(base) if spare is None else spare
                target = spare
            multiply(current, phase, out=target)
            current = target
        for i in at.get(k, []):
            if out[i] is not current:
                out[i][...] = current


class GapTransferCache:
    """Transfer functions grouped by gap, least-recently-used gap evicted as a whole set.

    Thread-safe (Dask threads share it). Evicting whole gaps keeps the sets
    that tasks are still using intact: a per-array LRU smaller than two sets
    evicts the arrays of the gap in use whenever another gap runs beside it.
    """

    def __init__(self, max_sets: int = TRANSFER_GAP_SETS, max_bytes: int = TRANSFER_BUDGET_BYTES):
        self._lock = threading.Lock()
        self.max_sets, self.max_bytes = int(max_sets), int(max_bytes)
        self._sets: OrderedDict = OrderedDict()   # gap key -> {array key: array}
        self._bytes: dict = {}
        self.hits = self.misses = self.evicted_sets = 0

    def get(self, gap_key, key):
        with self._lock:
            arrays = self._sets.get(gap_key)
            h = None if arrays is None else arrays.get(key)
            if h is None:
                self.misses += 1
                return None
            self._sets.move_to_end(gap_key)
            self.hits += 1
            return h

    def put(self, gap_key, key, h: np.ndarray) -> None:
        with self._lock:
            arrays = self._sets.setdefault(gap_key, {})
            self._sets.move_to_end(gap_key)
            if key in arrays:
                return
            # make room by evicting older sets, never the IN_USE_SETS most recently used: an image
            # fills its gap's and its film's set direction by direction, and evicting one of them
            # for the other would leave neither whole for the next step (every lookup a miss)
            while self.nbytes + h.nbytes > self.max_bytes and self._evict_oldest():
                pass
            if self.nbytes + h.nbytes > self.max_bytes:
                return   # the sets in use alone fill the budget: keep what they have, compute the rest
            arrays[key] = h
            self._bytes[gap_key] = self._bytes.get(gap_key, 0) + h.nbytes
            while len(self._sets) > self.max_sets and self._evict_oldest():
                pass

    def _evict_oldest(self) -> bool:
        """Drop the least recently used set unless it is one of the sets in use; whether one was."""
        if len(self._sets) <= IN_USE_SETS:
            return False
        oldest = next(iter(self._sets))
        del self._sets[oldest]
        self._bytes.pop(oldest, None)
        self.evicted_sets += 1
        return True

    @property
    def nbytes(self) -> int:
        return sum(self._bytes.values())

    def __len__(self) -> int:
        return len(self._sets)

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()
            self._bytes.clear()
            self.hits = self.misses = self.evicted_sets = 0


GAP_TRANSFERS = GapTransferCache()


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


def _rule_directions(rule, half_angle_deg: float, profile: str):
    """Direction sines (sx, sy) and weights of a rule (r in units of the largest tilt sampled)."""
    r, phi, w = rule
    theta_c = math.radians(half_angle_deg)
    # r is the tilt in units of the largest one sampled (θc, or 2θc for a Gaussian)
    rho = math.sin(theta_c) * r if profile == "uniform" else np.sin(2.0 * theta_c * r)
    return (*_mirror_exact(rho * np.cos(phi), rho * np.sin(phi)), w)


def _mirror_exact(sx: np.ndarray, sy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The directions with every mirror (x → −x, y → −y) and swap (x ↔ y) image of one another
    made exact: each takes the signs and order of its own components and the magnitudes of
    the first direction of its orbit. cos and sin of mirrored azimuths differ in the last
    bit; exact images let :func:`_radial_cached` gather one array per orbit, and an image of
    a symmetric mask sum mirrored directions exactly (the moves are ~1e-16)."""
    big, small = np.maximum(np.abs(sx), np.abs(sy)), np.minimum(np.abs(sx), np.abs(sy))
    tol = 1e-12 * np.maximum(big, 1e-300)[:, None]
    same = (np.abs(big[:, None] - big[None, :]) <= tol) & (np.abs(small[:, None] - small[None, :]) <= tol)
    first = np.argmax(same, axis=1)          # the first direction of each one's orbit (itself at worst)
    b, m = big[first], small[first]
    x_major = np.abs(sx) >= np.abs(sy)
    return (np.copysign(np.where(x_major, b, m), sx), np.copysign(np.where(x_major, m, b), sy))


# --------------------------------------------------------------------------- choosing the rule

#: The default rule sequence, cheapest first: (Gauss nodes in u, azimuths), azimuths a multiple
#: of 8 (sets symmetric under the x and y mirrors and the x↔y swap). Level rules L × 8⌈L/2⌉
#: (_level_rule) with the rungs between them that were cheapest for their error on the probe
#: (3 × 8, 2 × 16, 5 × 16, 6 × 16, 5 × 32; benchmarks/README.md): without them the sequence jumps
#: 16 → 48 directions just past the shipped RGB recipe's 1e-3 rule. The last rule (256 directions)
#: is estimated against level MAX_RULE_LEVEL; a cone that needs more (a long gap at a wide cone)
#: gets that rule and its estimate in the report.
CONE_RULES = ((1, 8), (2, 8), (3, 8), (2, 16), (3, 16), (4, 16), (5, 16), (6, 16), (5, 24), (6, 24),
              (5, 32), (6, 32), (7, 32), (8, 32))
MAX_RULE_LEVEL = 16
#: Steps per octave of the ladder of probe pitches (probe_pitch_um).
PROBE_LADDER_STEPS = 8
#: Side of a probe-mask cell, samples (4 × 4 cells: a 64² window keeps the estimate cheap).
PROBE_CELL_SAMPLES = 16


def probe_pitch_um(pixel_um: float) -> float:
    """The pitch the cone rule is sized at for a grid of ``pixel_um``: the nearest rung of a ladder
    of 2^(1/8) (9%) steps through 1 µm.

    Searches over many sizes (``litho min-feature``: each size its own pitch)
    then size the rule once per rung, not once per size. Moving to the rung
    changes the probe's cells by at most 4.5%; the estimate moves less than
    its own spread between masks (the 0.2 µm contact recipes: 1.38e-3 at
    0.2 µm, 1.84e-3 at the 0.193 µm rung, against a 2.5× spread between
    random masks of one cell size; benchmarks/README.md). The shipped
    recipes' pitches 0.25 and 0.5 µm are rungs. No coarser floor: a rule
    sized on a coarser probe (fewer, larger cells) erred by 6× its
    tolerance on 0.8 µm cells at 0.05 µm (3 µm gap, 1.5°, 365 nm).
    """
    return 2.0 ** (round(PROBE_LADDER_STEPS * math.log2(float(pixel_um))) / PROBE_LADDER_STEPS)


def _probe_key(optics: ProximityOptics, pixel_um: float) -> tuple:
    """What the cone rule depends on: the propagation, the cone and the probe pitch (hashable)."""
    if optics.cone_rule_pixel_um is not None:
        pixel_um = optics.cone_rule_pixel_um
    return (optics.lines, optics.propagation_gap_um, optics.gap_index, optics.film_depth_um, optics.film_index,
            optics.collimation_half_angle_deg, optics.angular_profile, probe_pitch_um(pixel_um))


def _probe_optics(key) -> ProximityOptics:
    lines, gap, n_gap, depth, n_film, angle, profile, _ = key
    return ProximityOptics(spectrum=dict(lines), gap_um=gap, gap_index=n_gap, film_depth_um=depth,
                           film_index=n_film, collimation_half_angle_deg=angle, angular_profile=profile)


def probe_mask(optics: ProximityOptics, pixel_um: float) -> np.ndarray:
    """The test mask the rule is sized on: 4 × 4 random binary cells of 16 samples, periodic.

    Binary cells on the grid's own samples have the sharpest edges (the
    most field at near-grazing frequencies, which the cone moves fastest)
    and corners a raster can hold, and random cells put edges of every
    spacing side by side, so their fringes add as a dense mask's do. Fixed
    seed: the estimate is a function of the optics and the pitch only.
    """
    return probe_cells(PROBE_CELL_SAMPLES)


def probe_cells(cell_samples: int) -> np.ndarray:
    """4 × 4 random binary cells of ``cell_samples`` each (fixed seed), the probes' common pattern."""
    cells = (np.random.default_rng(3).random((4, 4)) < 0.5).astype(float)
    return np.kron(cells, np.ones((cell_samples, cell_samples)))


def _probe_images(key, rule) -> list[np.ndarray]:
    """Full-size images of the probe mask, one per line, over the directions of ``rule``."""
    optics = _probe_optics(key)
    pixel_um = key[-1]
    t = probe_mask(optics, pixel_um)
    f = np.fft.fftfreq(t.shape[0], pixel_um)
    spec = sfft.fft2(t)
    sx, sy, w = _rule_directions(rule, optics.collimation_half_angle_deg, optics.angular_profile)
    out = []
    for wavelength_nm, _ in optics.lines:
        lam_um = wavelength_nm * 1e-3
        # Beyond the field band every component is evanescent below EVANESCENT_TOLERANCE: the
        # transfer is evaluated on the rows and columns inside it only (at the fine pitches of a
        # search most of the probe's grid: 1 sample in 9 at 0.05 µm behind 3 µm).
        band = optics.field_band_per_um(wavelength_nm)
        acc = np.zeros(t.shape)
        field = np.zeros(t.shape, dtype=np.complex128)
        for ax, ay, wi in zip(sx / lam_um, sy / lam_um, w):
            rows, cols = np.flatnonzero(np.abs(f + ay) <= band), np.flatnonzero(np.abs(f + ax) <= band)
            if rows.size == f.size and cols.size == f.size:
                np.multiply(spec, optics.transfer(f + ay, f + ax, wavelength_nm), out=field)
            else:
                inside = np.ix_(rows, cols)
                field[...] = 0.0
                field[inside] = spec[inside] * optics.transfer(f[rows] + ay, f[cols] + ax, wavelength_nm)
            u = sfft.ifft2(field)
            acc += wi * (u.real ** 2 + u.imag ** 2)
        out.append(acc)
    return out


def _level_azimuths(level: int) -> int:
    """Azimuths of level L: 8·⌈L/2⌉ (the measured error falls with the radial count first)."""
    return 8 * math.ceil(level / 2)


def _level_rule(level: int, profile: str):
    return _gauss_rule(level, _level_azimuths(level), profile)


@functools.lru_cache(maxsize=64)
def _probe_rule(key, n_radial: int, n_azimuth: int) -> tuple:
    return tuple(_probe_images(key, _gauss_rule(n_radial, n_azimuth, key[6])))


def _reference_rule(n_radial: int) -> tuple[int, int]:
    """What a rule of ``n_radial`` Gauss nodes is estimated against: the level rule of twice as many
    (at least as many azimuths as any rule of the sequence with ``n_radial`` nodes)."""
    return 2 * n_radial, _level_azimuths(2 * n_radial)


def cone_rule_error(key, n_radial: int, n_azimuth: int) -> float:
    """Estimated image error of the ``n_radial × n_azimuth`` rule, fraction of the clear field.

    Two orders on the probe mask (:func:`probe_mask`): the largest change
    of its image, over every line, from the rule to :func:`_reference_rule`
    (twice the radial nodes, at least as many azimuths). The cone
    quadrature converges at least as L^-2 (benchmarks/bench_accuracy.py),
    so the change is at least 3/4 of the rule's error; the probe's edges
    and contact make it a hard case for the pitch.
    """
    low, high = _probe_rule(key, n_radial, n_azimuth), _probe_rule(key, *_reference_rule(n_radial))
    return max(float(np.max(np.abs(a - b))) for a, b in zip(low, high))


@functools.lru_cache(maxsize=256)
def choose_cone_rule(key, tolerance: float) -> tuple[int, int, float]:
    """``(n_radial, n_azimuth, error)``: the first rule of :data:`CONE_RULES` whose
    :func:`cone_rule_error` <= ``tolerance``."""
    error = math.inf
    for n_radial, n_azimuth in CONE_RULES:
        error = cone_rule_error(key, n_radial, n_azimuth)
        if error <= tolerance:
            break
    if error > tolerance:
        # once per optics and pitch (cached): the run goes on with the largest rule
        warnings.warn(LithoNote(
            f"the collimation cone ({key[5]:g} deg over a {key[1]:g} um gap) needs more than the largest "
            f"cone rule ({n_radial * n_azimuth} directions) at {key[-1]:.3g} um pixels: its image "
            f"error is estimated at {error:.1e} of the clear field (tolerance {tolerance:.0e}); "
            "the run goes on with it (exposure.cone_rule_tolerance or direction_rings sets another rule)"), stacklevel=2)
    return n_radial, n_azimuth, error


def ring_rule_error(key, rings: int, tolerance: float) -> float:
    """Probe error of the equal-weight ring scheme against the Gauss rule of twice the default level."""
    n_radial = choose_cone_rule(key, tolerance)[0]
    ref = _probe_rule(key, *_reference_rule(n_radial))
    got = _probe_images(key, _ring_rule(rings, key[6]))
    return max(float(np.max(np.abs(a - b))) for a, b in zip(got, ref))
