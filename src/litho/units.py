"""Quantities with units, as recipes write them.

Recipes accept canonical numbers under unit-suffixed keys
(``dose_mj_cm2 = 3``) or strings with units under either the suffixed or the
bare key (``dose = "3 mJ/cm^2"``, ``gap_um = "10 um"``). :func:`normalize_table`
turns both spellings into the canonical ``<name>_<unit>`` key holding a float
in the canonical unit (DESIGN.md §3): µm for geometry, nm for wavelength and
film thickness, mJ/cm² for dose, s for time, degrees for angles.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

from . import fields
from .errors import LithoInputError, where

# canonical suffix -> {accepted unit spelling (lower case): factor to canonical}
UNITS: dict[str, dict[str, float]] = {
    "um": {"um": 1.0, "µm": 1.0, "micron": 1.0, "nm": 1e-3, "mm": 1e3, "m": 1e6},
    "nm": {"nm": 1.0, "um": 1e3, "µm": 1e3, "a": 0.1, "å": 0.1, "mm": 1e6},
    "mj_cm2": {
        "mj/cm^2": 1.0, "mj/cm2": 1.0, "mj cm^-2": 1.0, "j/cm^2": 1e3, "j/cm2": 1e3,
        "uj/cm^2": 1e-3, "uj/cm2": 1e-3, "j/m^2": 0.1, "j/m2": 0.1,
    },
    "s": {"s": 1.0, "sec": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0},
    "deg": {"deg": 1.0, "°": 1.0, "degree": 1.0, "degrees": 1.0, "mrad": 0.057295779513082325,
            "rad": 57.29577951308232},
    "mw_cm2": {"mw/cm^2": 1.0, "mw/cm2": 1.0, "w/cm^2": 1e3, "w/m^2": 0.1},
    "ppm": {"ppm": 1.0, "%": 1e4},
    "wt_pct": {"wt%": 1.0, "%": 1.0},
    "mol_pct": {"mol%": 1.0, "%": 1.0},
    "mm": {"mm": 1.0},
}

# Bare recipe keys whose canonical unit is fixed whatever unit the string is written in
# ("0.365 um" under ``wavelength`` is still stored as ``wavelength_nm``).
BARE_KEY_UNITS = {
    "wavelength": "nm", "thickness": "nm", "absorption_length": "nm", "diameter": "nm",
    "gap": "um", "pixel": "um", "guard": "um", "defocus": "um", "overlay": "um",
    "dose": "mj_cm2", "time": "s", "collimation_half_angle": "deg", "irradiance": "mw_cm2",
}

# Keys whose value is a vector of quantities in one unit ([x, y]); every other quantity is one number.
VECTOR_KEYS = ("overlay_um", "mirror_origin_um")

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def parse_quantity(value: Any, unit: str, field: str = "value", source: str | None = None) -> float:
    """Return ``value`` as a float in the canonical ``unit``.

    Parameters
    ----------
    value : float, int or str
        A bare number (taken to be in ``unit``) or a string such as
        ``"365 nm"``, ``"3 mJ/cm^2"`` or ``"0.5 mm"``.
    unit : str
        Canonical unit suffix, a key of :data:`UNITS`.
    field, source : str
        Used in the error message.
    """
    label = where(source, field)
    if isinstance(value, bool) or isinstance(value, (list, tuple, dict)):
        raise LithoInputError(f"{label} = {fields.show(value)} is not a number; give one number in {_spelled(unit)} "
                              f"or a string like '1.5 {_spelled(unit)}'")
    if isinstance(value, (int, float)):
        return fields.number(value, label, unit=_spelled(unit))
    if isinstance(value, str):
        m = _QUANTITY.match(value)
        if m:
            number, spelled = float(m.group(1)), m.group(2).strip().lower().replace(" ", "")
            if not spelled:
                return fields.number(number, label, unit=_spelled(unit))
            table = UNITS[unit]
            for name, factor in table.items():
                if spelled == name.replace(" ", ""):
                    # finite after conversion too: "1e308 m" overflows to inf
                    converted = number * factor
                    if not math.isfinite(converted):
                        raise LithoInputError(f"{label} = {fields.show(value)}: give a finite quantity")
                    return converted
            accepted = ", ".join(sorted(table))
            raise LithoInputError(
                f"{label} = {fields.show(value)}: unit {m.group(2)!r} is not one of {accepted}")
    raise LithoInputError(
        f"{label} = {fields.show(value)} is not a quantity; give a number or a string like "
        f"'1.5 {_spelled(unit)}'")


def _spelled(unit: str) -> str:
    """The canonical unit as a user writes it ("mj_cm2" -> "mJ/cm^2")."""
    return {"mj_cm2": "mJ/cm^2", "mw_cm2": "mW/cm^2", "wt_pct": "wt%", "mol_pct": "mol%", "um": "µm",
            "deg": "degrees"}.get(unit, unit)


def normalize_table(table: Mapping[str, Any], source: str | None = None, section: str = "",
                    spelling: dict[str, str] | None = None) -> dict[str, Any]:
    """Return a copy of a recipe table with every quantity under its canonical key.

    ``gap = "10 um"`` and ``gap_um = 10`` both become ``gap_um = 10.0``. Keys
    without a known unit suffix are copied unchanged, except that a bare key
    holding a string with a unit (``dose = "3 mJ/cm^2"``) is converted to
    the suffixed key of the first unit family that accepts it.

    A quantity must be one finite number, except under :data:`VECTOR_KEYS`
    (``overlay_um = [x, y]``). When ``spelling`` is given it receives
    canonical key -> the key as written, so messages can name the field as
    the user spelled it.
    """
    out: dict[str, Any] = {}
    prefix = f"{section}." if section else ""
    for key, value in table.items():
        suffix = _unit_suffix(key)
        if suffix is not None:
            canonical = key
            if isinstance(value, (list, tuple)) and key in VECTOR_KEYS:
                # A vector quantity (overlay_um = [x, y]): every element in the same unit.
                number = [parse_quantity(v, suffix, f"{prefix}{key}[{i}]", source) for i, v in enumerate(value)]
            else:
                number = parse_quantity(value, suffix, prefix + key, source)
        elif key in BARE_KEY_UNITS and isinstance(value, (int, float, str)) and not isinstance(value, bool):
            # A bare key with a fixed unit: a plain number is taken in that unit.
            suffix = BARE_KEY_UNITS[key]
            canonical = f"{key}_{suffix}"
            number = parse_quantity(value, suffix, prefix + key, source)
        elif key in BARE_KEY_UNITS and f"{key}_{BARE_KEY_UNITS[key]}" in VECTOR_KEYS \
                and isinstance(value, (list, tuple)):
            suffix = BARE_KEY_UNITS[key]
            canonical = f"{key}_{suffix}"
            number = [parse_quantity(v, suffix, f"{prefix}{key}[{i}]", source) for i, v in enumerate(value)]
        elif key in BARE_KEY_UNITS:
            # A bare quantity key holding an array, a table or a boolean: refused here, where its spelling is known.
            raise LithoInputError(f"{where(source, prefix + key)} = {fields.show(value)} is not a number; give one number in "
                                  f"{_spelled(BARE_KEY_UNITS[key])} or a string like '1.5 {_spelled(BARE_KEY_UNITS[key])}'")
        elif isinstance(value, str) and _QUANTITY.match(value) and _QUANTITY.match(value).group(2):
            suffix = _guess_unit(value)
            if suffix is None:
                out[key] = value
                continue
            canonical = f"{key}_{suffix}"
            number = parse_quantity(value, suffix, prefix + key, source)
        else:
            out[key] = value
            continue
        if canonical in out:
            raise LithoInputError(f"{where(source, prefix + key)}: given twice (as {key} and {canonical})")
        out[canonical] = number
        if spelling is not None:
            spelling[canonical] = key
    return out


def _unit_suffix(key: str) -> str | None:
    for suffix in sorted(UNITS, key=len, reverse=True):
        if key.endswith("_" + suffix):
            return suffix
    return None


def _guess_unit(value: str) -> str | None:
    """The unit family of a string quantity under a key litho has no rule for:
    the family whose canonical unit is the one written, else the first that accepts it."""
    spelled = _QUANTITY.match(value).group(2).strip().lower().replace(" ", "")
    families = ("nm", "um", "mj_cm2", "s", "deg", "mw_cm2", "ppm")
    for suffix in families:
        if spelled == suffix.replace("_", "/"):
            return suffix
    for suffix in families:
        if any(spelled == n.replace(" ", "") for n in UNITS[suffix]):
            return suffix
    return None
