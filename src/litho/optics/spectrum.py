"""Illumination spectra: a lamp as weighted spectral lines.

Mask aligners use mercury arc lamps filtered to one line (i-line, 365 nm)
or to a broadband mix of the i, h and g lines (365, 405, 436 nm). litho
treats a spectrum as a few monochromatic lines, each with the fraction of the
irradiance it carries (PHYSICS.md §2: intensities of different wavelengths
add). The optics images every line separately; the chemistry weights each
line by the crosslinker's absorption there (PHYSICS.md §4), because it is the
absorbed photons that make crosslinks.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..errors import LithoInputError
from ..fields import show as _show

# Hg arc lines (nm). Relative irradiance of a broadband Hg short-arc lamp
# behind a UV400 mirror set (est.: typical of mask-aligner datasheets,
# i : h : g ≈ 0.40 : 0.25 : 0.35); give the measured spectrum in the recipe.
HG_I_NM, HG_H_NM, HG_G_NM = 365.0, 405.0, 436.0
NAMED_SPECTRA: dict[str, tuple[tuple[float, float], ...]] = {
    "i-line": ((HG_I_NM, 1.0),),
    "h-line": ((HG_H_NM, 1.0),),
    "g-line": ((HG_G_NM, 1.0),),
    "hg-broadband": ((HG_I_NM, 0.40), (HG_H_NM, 0.25), (HG_G_NM, 0.35)),
    "hg-ih": ((HG_I_NM, 0.60), (HG_H_NM, 0.40)),
    "hg-hg": ((HG_H_NM, 0.42), (HG_G_NM, 0.58)),
}

# Shortest and longest wavelength litho accepts (deep UV to near IR), nm.
WAVELENGTH_RANGE_NM = (150.0, 1100.0)


def check_wavelength(value: Any, field: str = "wavelength_nm") -> float:
    """Return ``value`` as a wavelength in nm, or raise naming ``field``."""
    lo, hi = WAVELENGTH_RANGE_NM
    try:
        wavelength = float(value)
    except (TypeError, ValueError):
        raise LithoInputError(f"{field} = {_show(value)} is not a number; give a wavelength in nm "
                              f"between {lo:g} and {hi:g}") from None
    if isinstance(value, bool) or not (lo <= wavelength <= hi):
        raise LithoInputError(f"{field} = {_show(value)}: give a wavelength in nm between {lo:g} and {hi:g}")
    return wavelength


def parse_spectrum(spectrum: Any, field: str = "spectrum") -> tuple[tuple[float, float], ...]:
    """Normalise a spectrum to ``((wavelength_nm, weight), ...)`` with weights summing to 1.

    Parameters
    ----------
    spectrum : str, mapping or sequence
        A name from :data:`NAMED_SPECTRA` (``"hg-broadband"``, ``"i-line"``,
        ...), a mapping ``{wavelength_nm: weight}`` (TOML keys may be strings,
        ``{"365" = 0.4, "405 nm" = 0.25}``), or a sequence of
        ``(wavelength_nm, weight)`` pairs. Weights are relative irradiances:
        non-negative, with a positive sum.
    field : str
        Name used in error messages.

    Returns
    -------
    tuple of (float, float)
        Lines sorted by wavelength, equal wavelengths merged, zero weights
        dropped, weights summing to 1.

    Examples
    --------
    >>> parse_spectrum({365: 2, 405: 1, 436: 1})
    ((365.0, 0.5), (405.0, 0.25), (436.0, 0.25))
    """
    if isinstance(spectrum, str):
        key = spectrum.strip().lower()
        if key not in NAMED_SPECTRA:
            raise LithoInputError(f"{field} = {_show(spectrum)} is not a known spectrum; known: "
                                  f"{', '.join(NAMED_SPECTRA)}, or a table {{wavelength_nm = weight}}")
        return NAMED_SPECTRA[key]
    if isinstance(spectrum, Mapping):
        pairs = list(spectrum.items())
    else:
        try:
            pairs = [tuple(p) for p in spectrum]
        except TypeError:
            raise LithoInputError(f"{field} = {_show(spectrum)}: give a name, a table {{wavelength_nm = weight}} "
                                  "or a list of [wavelength_nm, weight] pairs") from None
    if not pairs:
        raise LithoInputError(f"{field} is empty; give at least one [wavelength_nm, weight] line")
    merged: dict[float, float] = {}
    for pair in pairs:
        if len(pair) != 2:
            raise LithoInputError(f"{field}: {_show(pair)} is not a [wavelength_nm, weight] pair")
        wl, weight = pair
        if isinstance(wl, str):
            wl = wl.strip().lower().removesuffix("nm").strip()
        wavelength = check_wavelength(wl, f"{field} wavelength")
        try:
            w = float(weight)
        except (TypeError, ValueError):
            raise LithoInputError(f"{field}: weight {_show(weight)} at {wavelength:g} nm is not a number") from None
        if not (w >= 0) or math.isinf(w) or isinstance(weight, bool):
            raise LithoInputError(f"{field}: weight {_show(weight)} at {wavelength:g} nm must be a finite number >= 0")
        merged[wavelength] = merged.get(wavelength, 0.0) + w
    total = sum(merged.values())
    if not total > 0:
        raise LithoInputError(f"{field}: the weights sum to {total:g}; they must sum to a positive number")
    return tuple((wl, w / total) for wl, w in sorted(merged.items()) if w > 0)


def resolve_lines(wavelength_nm: Any, spectrum: Any, owner: str) -> tuple[tuple[float, float], ...]:
    """The lines of an optics given either one wavelength or a spectrum."""
    if spectrum is not None and wavelength_nm is not None:
        raise LithoInputError(f"{owner}: give wavelength_nm or spectrum, not both "
                              f"(wavelength_nm = {_show(wavelength_nm)}, spectrum = {_show(spectrum)})")
    if spectrum is not None:
        return parse_spectrum(spectrum)
    if wavelength_nm is None:
        raise LithoInputError(f"{owner}: wavelength_nm is missing; give e.g. wavelength_nm = 365 "
                              "or a spectrum")
    return ((check_wavelength(wavelength_nm), 1.0),)
