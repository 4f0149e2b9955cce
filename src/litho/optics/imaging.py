"""The optics' public entry points: images per spectral line, their sum, series.

Both optics share the same frame: validate the transmission, choose the
window (periodic or isolated with an opaque guard band), Fourier-transform
the mask once, image each spectral line, crop back. A focus or gap series
reuses the mask spectrum (and the cached kernels or transfer functions).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import LithoInputError, where
from ..fields import show as _show
from .window import MaskSpectrum, Window, check_transmission


@dataclass(frozen=True)
class SpectralImage:
    """The image of one spectral line.

    Attributes
    ----------
    wavelength_nm : float
    weight : float
        Fraction of the source irradiance in this line (the weights of an
        optics' lines sum to 1).
    intensity : ndarray, float64, shape (ny, nx)
        Intensity at the film top, normalised so a clear mask gives 1.
    """

    wavelength_nm: float
    weight: float
    intensity: np.ndarray


@dataclass(frozen=True)
class DepthImage:
    """The image of one spectral line at several depths inside the film.

    Attributes
    ----------
    wavelength_nm : float
    weight : float
        Fraction of the source irradiance in this line.
    film_depth_nm : ndarray, shape (nd,)
        Optical path lengths below the film top, nm, at which the image was
        taken (unfolded: a depth beyond the film thickness is the path of the
        light reflected by the substrate).
    intensity : ndarray, float64, shape (nd, ny, nx)
        Intensity at each depth, normalised so a clear mask gives 1 at the film
        top (propagation conserves it: a clear mask gives 1 at every depth).
        May be a read-only broadcast view when the image does not change with
        depth (projection optics).
    """

    wavelength_nm: float
    weight: float
    film_depth_nm: np.ndarray
    intensity: np.ndarray

    def at_depth(self, depth_nm: float) -> np.ndarray:
        """The (ny, nx) image at one of ``film_depth_nm`` (nearest sample)."""
        return self.intensity[int(np.argmin(np.abs(self.film_depth_nm - depth_nm)))]


def _window_for(t: np.ndarray, pixel_um: float, optics_list, periodic: bool, guard_um) -> Window:
    if guard_um is None:
        guard_um = max(o.blur_length_um for o in optics_list)
    else:
        try:
            guard_um = float(guard_um)
        except (TypeError, ValueError):
            raise LithoInputError(f"guard_um = {_show(guard_um)} is not a number of µm") from None
        if not guard_um >= 0:
            raise LithoInputError(f"guard_um = {_show(guard_um)}: the guard band must be >= 0 µm")
    return Window.plan(t.shape, pixel_um, guard_um, bool(periodic))


def _images(spectrum: MaskSpectrum, window: Window, optics) -> list[SpectralImage]:
    out = []
    for wavelength_nm, weight in optics.lines:
        intensity = optics.line_intensity(spectrum, wavelength_nm)
        out.append(SpectralImage(wavelength_nm, weight, window.crop(intensity)))
    return out


def spectral_images(transmission, pixel_um: float, optics, *, periodic: bool = False,
                    guard_um: float | None = None) -> list[SpectralImage]:
    """Image a mask through ``optics``, one image per spectral line.

    Parameters
    ----------
    transmission : array_like, shape (ny, nx)
        Mask amplitude transmission sampled on the grid (area coverage in
        [0, 1] for a chrome mask; complex for a phase-shift mask), in wafer
        coordinates.
    pixel_um : float
        Sample pitch, µm.
    optics : ProximityOptics or ProjectionOptics
    periodic : bool
        True: the array is one period of an infinite periodic mask (exact for a
        pixel array's unit cell). False: an isolated window, padded with an
        opaque guard band and cropped back.
    guard_um : float, optional
        Guard band on each side of an isolated window, µm; default the optics'
        ``blur_length_um``.

    Returns
    -------
    list of SpectralImage
        One per line of ``optics.lines``; each intensity has the shape of
        ``transmission`` and is 1 under a clear mask.

    Raises
    ------
    LithoInputError
        A transmission that is not a finite 2-D array, a bad pitch, or a pitch
        too coarse for the optics (the message names the pitch needed).

    Examples
    --------
    >>> import numpy as np
    >>> from litho.optics import ProximityOptics, spectral_images
    >>> optics = ProximityOptics(spectrum="hg-broadband", gap_um=20)
    >>> mask = np.zeros((128, 128)); mask[32:96, 32:96] = 1
    >>> [(im.wavelength_nm, im.weight) for im in spectral_images(mask, 0.25, optics)]
    [(365.0, 0.4), (405.0, 0.25), (436.0, 0.35)]
    """
    t, p = check_transmission(transmission, pixel_um)
    optics.check_pixel(p)
    window = _window_for(t, p, [optics], periodic, guard_um)
    return _images(MaskSpectrum(window.pad(t), p), window, optics)


def depth_images(transmission, pixel_um: float, optics, film_depth_nm, *, film_index: float,
                 periodic: bool = False, guard_um: float | None = None) -> list[DepthImage]:
    """Image a mask at several depths inside the film, one :class:`DepthImage` per spectral line.

    Parameters
    ----------
    transmission, pixel_um, optics, periodic, guard_um
        As for :func:`spectral_images`.
    film_depth_nm : sequence of float
        Path lengths below the film top, nm (>= 0, increasing or not; the
        output keeps their order).
    film_index : float
        Refractive index of the film (the film's own, litho.materials).

    Returns
    -------
    list of DepthImage

    Notes
    -----
    Proximity and contact printing (PHYSICS.md §2): the field at depth z is
    the field at the film top propagated through the film by the angular
    spectrum, an extra transfer factor exp(i2π z (√(n_f²/λ² − |f|²) − n_f/λ))
    per plane-wave component (the tilt is kept across the interface, Snell).
    Paraxially that is a proximity image at the gap g + z/n_f. The mask is
    transformed once; every depth costs one transfer function (cached) and
    one inverse FFT per illumination direction on the band grid, so nd depths
    cost about nd images' worth of optics time and hold nd images of memory
    per line.

    Projection printing: the top image is used at every depth (a broadcast
    view, no extra memory). The depth of focus λ/NA² (≥ 0.4 µm at NA ≤ 0.95,
    365 nm) is far beyond the optical thickness h/n_f of a QD film
    (≈ 15-50 nm), so the defocus across the film changes the image by
    ~(h/(n_f·DOF))², well below 1e-2 of the clear field.

    Examples
    --------
    >>> import numpy as np
    >>> from litho.optics import ProximityOptics, depth_images
    >>> optics = ProximityOptics(wavelength_nm=365, contact_mode="hard")
    >>> mask = np.zeros((8, 64)); mask[:, 16:48] = 1
    >>> im = depth_images(mask, 0.125, optics, [0, 15, 30], film_index=1.8, periodic=True)[0]
    >>> im.intensity.shape
    (3, 8, 64)
    """
    depths = np.asarray(film_depth_nm, dtype=np.float64).ravel()
    if depths.size == 0 or not np.all(np.isfinite(depths)) or np.any(depths < 0):
        raise LithoInputError(f"film_depth_nm = {film_depth_nm!r}: give one or more depths >= 0 nm")
    t, p = check_transmission(transmission, pixel_um)
    optics.check_pixel(p)
    if not hasattr(optics, "film_depth_um"):
        window = _window_for(t, p, [optics], periodic, guard_um)
        top = _images(MaskSpectrum(window.pad(t), p), window, optics)
        return [DepthImage(im.wavelength_nm, im.weight, depths,
                           np.broadcast_to(im.intensity, (depths.size,) + im.intensity.shape)) for im in top]
    members = [dataclasses.replace(optics, film_depth_um=float(z) * 1e-3, film_index=float(film_index))
               for z in depths]
    window = _window_for(t, p, members, periodic, guard_um)
    spectrum = MaskSpectrum(window.pad(t), p)
    out = []
    for wavelength_nm, weight in optics.lines:
        images = optics.depth_intensities(spectrum, wavelength_nm, depths * 1e-3, float(film_index))
        out.append(DepthImage(wavelength_nm, weight, depths, np.stack([window.crop(im) for im in images])))
    return out


def aerial_image(transmission, pixel_um: float, optics, *, periodic: bool = False,
                 guard_um: float | None = None) -> np.ndarray:
    """The line-weighted aerial image Σ weight·intensity (clear field = 1).

    Same arguments as :func:`spectral_images`.

    Examples
    --------
    >>> import numpy as np
    >>> from litho.optics import ProjectionOptics, aerial_image
    >>> optics = ProjectionOptics(wavelength_nm=365, na=0.5, sigma=0.6)
    >>> image = aerial_image(np.ones((32, 32)), 0.05, optics, periodic=True)
    >>> bool(np.allclose(image, 1.0))
    True
    """
    images = spectral_images(transmission, pixel_um, optics, periodic=periodic, guard_um=guard_um)
    total = images[0].weight * images[0].intensity
    for im in images[1:]:
        total += im.weight * im.intensity
    return total


def spectral_series(transmission, pixel_um: float, optics, *, gap_um: Sequence[float] | None = None,
                    defocus_um: Sequence[float] | None = None, periodic: bool = False,
                    guard_um: float | None = None) -> list[list[SpectralImage]]:
    """Images over a list of gaps (proximity) or defocus values (projection).

    The mask is transformed once for the whole series (on a window wide
    enough for the largest blur); kernels and transfer functions are cached
    per value.

    Parameters
    ----------
    gap_um, defocus_um : sequence of float
        Exactly one of them; it replaces the optics' own value in turn.
    Other parameters as :func:`spectral_images`.

    Returns
    -------
    list (one per value) of list of SpectralImage
    """
    if (gap_um is None) == (defocus_um is None):
        raise LithoInputError("give exactly one of gap_um or defocus_um as the series to compute")
    name, values = ("gap_um", gap_um) if gap_um is not None else ("defocus_um", defocus_um)
    if not hasattr(optics, name):
        raise LithoInputError(f"{name}: {type(optics).__name__} has no {name}; a gap series needs "
                              "ProximityOptics and a focus series ProjectionOptics")
    values = list(np.atleast_1d(np.asarray(values, dtype=float)))
    if not values:
        raise LithoInputError(f"{name}: the series is empty")
    members = [dataclasses.replace(optics, **{name: v}) for v in values]
    t, p = check_transmission(transmission, pixel_um)
    for member in members:
        member.check_pixel(p)
    window = _window_for(t, p, members, periodic, guard_um)
    spectrum = MaskSpectrum(window.pad(t), p)
    return [_images(spectrum, window, member) for member in members]


def aerial_series(transmission, pixel_um: float, optics, **kwargs) -> np.ndarray:
    """Line-weighted images over a gap or focus series, shape ``(n_values, ny, nx)``.

    Same arguments as :func:`spectral_series`.
    """
    series = spectral_series(transmission, pixel_um, optics, **kwargs)
    return np.stack([sum(im.weight * im.intensity for im in images) for images in series])


# --------------------------------------------------------------------------- recipes

# "maskless" images through ProjectionOptics; its mirror grid is the mask model (litho.maskmodel)
TOOLS = ("contact", "proximity", "projection", "maskless")
GAP_MEDIA = {"air": 1.000293, "n2": 1.000298, "nitrogen": 1.000298, "vacuum": 1.0, "ar": 1.000281}

PROXIMITY_KEYS = ("wavelength_nm", "spectrum", "gap_um", "collimation_half_angle_deg", "angular_profile",
                  "gap_index", "gap_medium", "film_index", "film_depth_um", "direction_rings", "precision",
                  "absorber_thickness_nm", "cone_rule_tolerance")
CONTACT_KEYS = PROXIMITY_KEYS + ("contact_mode",)
PROJECTION_KEYS = ("wavelength_nm", "spectrum", "na", "sigma", "source", "sigma_in", "sigma_out",
                   "sigma_centre", "sigma_radius", "orientation_deg", "source_step_sigma", "source_extrapolation",
                   "defocus_um",
                   "zernike", "reduction", "immersion_index", "kernel_tolerance", "kernel_cache_dir", "precision")

# The maskless tool's demagnification lives with its mirror grid (litho.maskmodel), not in `reduction`.
MASKLESS_OPTICS_KEYS = tuple(k for k in PROJECTION_KEYS if k != "reduction")


def from_exposure(table: Mapping[str, Any], source: str | None = None):
    """Build the optics of a recipe's normalised ``[exposure]`` table.

    Parameters
    ----------
    table : mapping
        Keys in canonical units (see :func:`litho.units.normalize_table`):
        ``tool`` ("contact", "proximity" or "projection", default "contact")
        and the optics' fields -- for contact ``contact_mode`` ("vacuum",
        "hard" (default), "soft", "low-vacuum"), whose effective gap ``gap_um``
        overrides (0 < gap <= soft contact's, :mod:`litho.optics.contact`);
        for contact/proximity ``wavelength_nm`` or
        ``spectrum``, ``gap_um``, ``absorber_thickness_nm``, ``collimation_half_angle_deg``,
        ``angular_profile``, ``gap_medium`` ("air", "N2", ...) or
        ``gap_index``, ``film_index``, ``film_depth_um``, ``direction_rings``;
        for projection ``wavelength_nm``, ``na``, ``sigma`` or ``source``
        (a name with ``sigma_in``/``sigma_out``/``sigma_centre``/
        ``sigma_radius``/``orientation_deg``, a table, or a source-map file),
        ``defocus_um``, ``zernike`` ({Noll index = waves}), ``reduction``,
        ``immersion_index``, ``kernel_tolerance``, ``kernel_cache_dir``, ``source_extrapolation``.
    source : str, optional
        The recipe file, for error messages.

    Returns
    -------
    ProximityOptics or ProjectionOptics

    Raises
    ------
    LithoInputError
        Unknown tool or key (the accepted ones are listed), or a bad value.

    Examples
    --------
    >>> from litho.optics import from_exposure
    >>> from_exposure({"tool": "proximity", "wavelength_nm": 365, "gap_um": 10}).gap_um
    10.0
    >>> round(from_exposure({"tool": "contact", "wavelength_nm": 365}).gap_um, 2)   # hard contact
    2.74
    """
    from .proximity import ProximityOptics

    table = dict(table)
    section = where(source, "exposure")
    tool = table.pop("tool", "contact")
    if not isinstance(tool, str) or tool.strip().lower() not in TOOLS:
        raise LithoInputError(f"{section}.tool = {_show(tool)}: must be one of {', '.join(TOOLS)}")
    tool = tool.strip().lower()
    accepted = {"projection": PROJECTION_KEYS, "maskless": MASKLESS_OPTICS_KEYS, "proximity": PROXIMITY_KEYS,
                "contact": CONTACT_KEYS}[tool]
    unknown = sorted(set(table) - set(accepted))
    if unknown:
        raise LithoInputError(f"{section}: unknown key(s) {', '.join(unknown)} for tool = {tool!r}; "
                              f"accepted: tool, {', '.join(accepted)}")
    try:
        if tool in ("projection", "maskless"):
            from .projection import ProjectionOptics

            return ProjectionOptics.from_table(table, source)
        if "gap_medium" in table:
            medium = table.pop("gap_medium")
            if "gap_index" in table:
                raise LithoInputError(f"{section}: give gap_medium or gap_index, not both")
            key = str(medium).strip().lower()
            if key not in GAP_MEDIA:
                raise LithoInputError(f"{section}.gap_medium = {_show(medium)}: must be one of "
                                      f"{', '.join(GAP_MEDIA)} (or give gap_index)")
            table["gap_index"] = GAP_MEDIA[key]
        if tool == "contact":
            # A contact print is imaged at the mode's effective gap; an explicit gap
            # is that effective gap (litho.optics.contact).
            from .contact import DEFAULT_CONTACT_MODE

            table.setdefault("contact_mode", DEFAULT_CONTACT_MODE)
        return ProximityOptics(**table)
    except LithoInputError as err:
        # "ProximityOptics.gap_um = -1: ..." -> "recipe.toml: exposure.gap_um = -1: ..."
        message = re.sub(r"^(ProximityOptics|ProjectionOptics)(?=[.:])", section, str(err))
        raise LithoInputError(message) from None
