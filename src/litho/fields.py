"""One validator per kind of input field, shared by the recipe reader and the CLI.

Every value a user writes (a recipe key, a command-line option) is checked
where it is read, before any work: its type, that it is finite, and that it
lies in its physical range. A refusal is one :class:`LithoInputError` line
naming the field as the user wrote it (``film.thickness``, ``--pixel-um``),
the bad value as the user wrote it (never an internal type name such as
``np.float64(...)``) and what is accepted (DESIGN.md §6).

Each validator takes the value and a ``label`` -- the already-joined
``"file: section.key"`` or ``"--flag"`` -- and returns the value in its
canonical Python type. :func:`option` turns a validator into an argparse
``type=`` function, so the command line refuses exactly what the recipe
refuses.

Examples
--------
>>> from litho import fields
>>> fields.number(0.25, "simulation.pixel_um", lo=0.001, hi=100, unit="µm")
0.25
>>> fields.number([0.25], "simulation.pixel_um", lo=0.001, hi=100, unit="µm")
Traceback (most recent call last):
...
litho.errors.LithoInputError: simulation.pixel_um = [0.25]: give one number in µm, not an array (0.001 to 100 µm)
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import math
import numbers
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from .errors import LithoInputError

#: Longest file-name component most file systems allow, in bytes (NAME_MAX).
NAME_MAX_BYTES = 255
#: Longest path litho accepts, in bytes (PATH_MAX on Linux).
PATH_MAX_BYTES = 4096
#: Longest value echoed in a message; longer ones are cut with an ellipsis.
SHOW_CHARS = 60


# --------------------------------------------------------------------------- messages

def show(value: Any) -> str:
    """``value`` as the user would write it in a recipe (TOML-like), cut to :data:`SHOW_CHARS`.

    Numbers of any numeric type print as plain numbers (``-1``, ``1e+300``,
    ``nan``), strings in quotes, arrays as ``[...]``, tables as ``{k = v}``.
    """
    text = _show(value, depth=0)
    return text if len(text) <= SHOW_CHARS else text[: SHOW_CHARS - 1] + "…"


def _show(value: Any, depth: int) -> str:
    if depth > 3:
        return "…"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        text = str(int(value))
        if len(text) <= 24:
            return text
        digits = text.lstrip("-")          # beyond the float range: scientific notation by hand
        return f"{'-' if text.startswith('-') else ''}{digits[0]}.{digits[1:4]}e+{len(digits) - 1}"
    if isinstance(value, numbers.Real):
        return f"{float(value):g}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_show(v, depth + 1)}" for k, v in list(value.items())[:8]) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v, depth + 1) for v in list(value)[:8]) + (", …" if len(value) > 8 else "") + "]"
    if isinstance(value, os.PathLike):
        return repr(os.fspath(value))
    if isinstance(value, (datetime.date, datetime.time)):      # TOML dates and times
        return value.isoformat()
    if value is None:
        return "nothing"
    if hasattr(value, "tolist") and hasattr(value, "shape"):     # a numpy array
        return _show(value.tolist(), depth)
    return repr(value)


def range_text(lo: float | None, hi: float | None, *, lo_open: bool = False, hi_open: bool = False,
               unit: str = "") -> str:
    """``"0.001 to 100 µm"``, ``"> 0 mJ/cm^2"``, ``"0 to 1 (exclusive)"``: the accepted range in words."""
    u = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        if lo_open or hi_open:
            left = f"> {lo:g}" if lo_open else f">= {lo:g}"
            right = f"< {hi:g}" if hi_open else f"<= {hi:g}"
            return f"{left} and {right}{u}"
        return f"{lo:g} to {hi:g}{u}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}{u}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi:g}{u}"
    return f"a finite number{f' in {unit}' if unit else ''}"


def suggest(name: str, accepted: Iterable[str]) -> str:
    """``" (did you mean 'atmosphere'?)"`` for the closest accepted key, or ``""``."""
    close = difflib.get_close_matches(str(name), [str(a) for a in accepted], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key(label: str, key: str, accepted: Sequence[str], what: str = "key") -> LithoInputError:
    """The error for a key litho does not know: every accepted key, and the nearest one.

    ``label`` names the key itself (``"r.toml: exposure.atmospher"``).
    """
    return LithoInputError(f"{label}: unknown {what}{suggest(key, accepted)}; accepted: {', '.join(accepted)}")


# --------------------------------------------------------------------------- scalars

def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def number(value: Any, label: str, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, hi_open: bool = False, unit: str = "", what: str = "") -> float:
    """A finite real number inside ``[lo, hi]`` (ends open when asked), as a float.

    Parameters
    ----------
    value : any
        What the user wrote (after unit conversion).
    label : str
        ``"file: section.key"`` or ``"--flag"`` for the message.
    lo, hi : float, optional
        Accepted bounds; None is unbounded (the value must still be finite).
    lo_open, hi_open : bool
        Exclude the bound itself.
    unit : str
        Unit of the bounds, for the message ("µm", "mJ/cm^2").
    what : str
        A short description of the field, for the message.
    """
    accepted = range_text(lo, hi, lo_open=lo_open, hi_open=hi_open, unit=unit)
    hint = f" ({what})" if what else ""
    if isinstance(value, (list, tuple)):
        raise LithoInputError(f"{label} = {show(value)}: give one number{f' in {unit}' if unit else ''}, "
                              f"not an array ({accepted}){hint}")
    if not _is_number(value):
        raise LithoInputError(f"{label} = {show(value)} is not a number; give {accepted}{hint}")
    try:
        x = float(value)
    except OverflowError:          # an integer beyond the float range
        x = math.inf if value > 0 else -math.inf
    bad = not math.isfinite(x)
    if lo is not None:
        bad = bad or (x <= lo if lo_open else x < lo)
    if hi is not None:
        bad = bad or (x >= hi if hi_open else x > hi)
    if bad:
        raise LithoInputError(f"{label} = {show(value)}{f' {unit}' if unit else ''}: give {accepted}{hint}")
    return x


def positive(value: Any, label: str, *, hi: float | None = None, unit: str = "", what: str = "") -> float:
    """A finite number > 0 (and <= ``hi``)."""
    return number(value, label, lo=0.0, lo_open=True, hi=hi, unit=unit, what=what)


def non_negative(value: Any, label: str, *, hi: float | None = None, unit: str = "", what: str = "") -> float:
    """A finite number >= 0 (and <= ``hi``)."""
    return number(value, label, lo=0.0, hi=hi, unit=unit, what=what)


def fraction(value: Any, label: str, *, open_ends: bool = False, what: str = "") -> float:
    """A number in [0, 1], or in (0, 1) with ``open_ends``."""
    return number(value, label, lo=0.0, hi=1.0, lo_open=open_ends, hi_open=open_ends, what=what)


def integer(value: Any, label: str, *, lo: int | None = None, hi: int | None = None, what: str = "") -> int:
    """A whole number inside ``[lo, hi]`` (a float with an integral value is accepted)."""
    accepted = ("a whole number" + (f" from {lo} to {hi}" if lo is not None and hi is not None else
                                    f" >= {lo}" if lo is not None else f" <= {hi}" if hi is not None else ""))
    hint = f" ({what})" if what else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or isinstance(value, (list, tuple)):
        raise LithoInputError(f"{label} = {show(value)} is not a whole number; give {accepted}{hint}")
    if isinstance(value, numbers.Integral):
        n = int(value)
    else:
        x = float(value)
        if not math.isfinite(x) or x != int(x):
            raise LithoInputError(f"{label} = {show(value)} is not a whole number; give {accepted}{hint}")
        n = int(x)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise LithoInputError(f"{label} = {show(value)}: give {accepted}{hint}")
    return n


def boolean(value: Any, label: str) -> bool:
    """``true`` or ``false`` (a TOML boolean)."""
    if not isinstance(value, bool):
        raise LithoInputError(f"{label} = {show(value)}: give true or false")
    return value


def text(value: Any, label: str, *, max_chars: int = 1000, empty: bool = True) -> str:
    """A string of at most ``max_chars`` characters, without NUL or line breaks."""
    if not isinstance(value, str):
        raise LithoInputError(f"{label} = {show(value)} is not a string; give text in quotes")
    if len(value) > max_chars:
        raise LithoInputError(f"{label}: {len(value)} characters; give at most {max_chars}")
    if "\x00" in value:
        raise LithoInputError(f"{label} = {show(value)}: contains a NUL character")
    if not empty and not value.strip():
        raise LithoInputError(f"{label} = {show(value)}: give a non-empty name")
    return value


def choice(value: Any, label: str, options: Sequence[str], *, case: bool = False) -> str:
    """One of ``options`` (case-insensitive unless ``case``), returned as the option is spelled."""
    if isinstance(value, str):
        wanted = value.strip() if case else value.strip().lower()
        for option in options:
            if wanted == (option if case else option.lower()):
                return option
    hint = suggest(value, options) if isinstance(value, str) else ""
    raise LithoInputError(f"{label} = {show(value)} is not one of {', '.join(options)}{hint}")


# --------------------------------------------------------------------------- compounds

def pair(value: Any, label: str, *, lo: float | None = None, hi: float | None = None, unit: str = "",
         names: str = "x, y", scalar: bool = False) -> tuple[float, float]:
    """Two finite numbers ``[a, b]`` each inside ``[lo, hi]``; one number for both if ``scalar``."""
    accepted = range_text(lo, hi, unit=unit)
    if scalar and _is_number(value):
        v = number(value, label, lo=lo, hi=hi, unit=unit)
        return (v, v)
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise LithoInputError(f"{label} = {show(value)}: give [{names}]{f' in {unit}' if unit else ''}, "
                              f"each {accepted}")
    a, b = (number(v, f"{label}[{i}]", lo=lo, hi=hi, unit=unit) for i, v in enumerate(value))
    return (a, b)


def numbers_list(value: Any, label: str, *, length: int | None = None, lo: float | None = None,
                 hi: float | None = None, unit: str = "") -> tuple[float, ...]:
    """A list of finite numbers (of a given length) each inside ``[lo, hi]``."""
    if not isinstance(value, (list, tuple)) or (length is not None and len(value) != length):
        size = f"{length} numbers" if length is not None else "a list of numbers"
        raise LithoInputError(f"{label} = {show(value)}: give {size}{f' in {unit}' if unit else ''}")
    return tuple(number(v, f"{label}[{i}]", lo=lo, hi=hi, unit=unit) for i, v in enumerate(value))


def wavelength_key(key: Any, label: str, *, lo: float = 150.0, hi: float = 1100.0) -> float:
    """A key of a per-wavelength table (``254``, ``"365"``, ``"365 nm"``) as a finite wavelength in nm."""
    textual = str(key).strip().lower().removesuffix("nm").strip()
    try:
        wavelength = float(textual)
    except ValueError:
        raise LithoInputError(f"{label}: key {show(key)} is not a wavelength; give wavelengths in nm "
                              f"({lo:g} to {hi:g}) as keys, e.g. {{254 = 2e4, 365 = 300}}") from None
    if not (math.isfinite(wavelength) and lo <= wavelength <= hi):
        raise LithoInputError(f"{label}: key {show(key)}: give wavelengths in nm from {lo:g} to {hi:g} as keys")
    return wavelength


def wavelength_table(value: Any, label: str, item: Callable[[Any, str], float], *,
                     lo: float = 150.0, hi: float = 1100.0) -> tuple[tuple[float, float], ...]:
    """A table ``{wavelength_nm = value}``, sorted by wavelength; each value checked by ``item``."""
    if not isinstance(value, Mapping) or not value:
        raise LithoInputError(f"{label} = {show(value)}: give a table of wavelength (nm) = value, "
                              "e.g. {254 = 2e4, 365 = 300}")
    out = {}
    for key, entry in value.items():
        wavelength = wavelength_key(key, label, lo=lo, hi=hi)
        if wavelength in out:
            raise LithoInputError(f"{label}: wavelength {wavelength:g} nm is given twice")
        out[wavelength] = item(entry, f"{label}.{key}")
    return tuple(sorted(out.items()))


# --------------------------------------------------------------------------- paths

def path(value: Any, label: str, *, base_dir: str | Path | None = None, exists: bool = True,
         kind: str = "file", what: str = "file") -> Path:
    """A file path (relative to ``base_dir``) that the file system can name, and that exists if asked.

    Refuses an empty name, a NUL byte, a name component over
    :data:`NAME_MAX_BYTES` or a path over :data:`PATH_MAX_BYTES` bytes, a
    missing file (``exists``) and a directory where a file is wanted
    (``kind = "file"``), each with one line naming the field.
    """
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise LithoInputError(f"{label} = {show(value)}: give the {what} name as a string")
    if "\x00" in value:
        raise LithoInputError(f"{label} = {show(value)}: a file name cannot contain a NUL character")
    p = Path(value)
    full = p if p.is_absolute() or base_dir is None else Path(base_dir) / p
    try:
        encoded = os.fsencode(full)
    except UnicodeError:
        raise LithoInputError(f"{label} = {show(value)}: the name cannot be encoded for this file system") from None
    longest = max((len(os.fsencode(part)) for part in full.parts), default=0)
    if longest > NAME_MAX_BYTES or len(encoded) > PATH_MAX_BYTES:
        raise LithoInputError(f"{label} = {show(value)}: the name is too long (file names are at most "
                              f"{NAME_MAX_BYTES} bytes, paths {PATH_MAX_BYTES})")
    if exists:
        try:
            is_file, is_dir = full.is_file(), full.is_dir()
        except OSError as err:
            raise LithoInputError(f"{label} = {show(value)}: cannot be read ({err.strerror or err})") from None
        looked = "" if full == p else f" (looked at {full})"
        if kind == "file" and is_dir:
            raise LithoInputError(f"{label} = {show(value)}: is a directory, not a {what}{looked}")
        if not (is_file or (kind != "file" and is_dir)):
            if full.exists():
                raise LithoInputError(f"{label} = {show(value)}: is not a regular file{looked}")
            raise LithoInputError(f"{label} = {show(value)}: {what} not found{looked}")
    return full


# --------------------------------------------------------------------------- command line

def option(validator: Callable[..., Any], flag: str, *, convert: Callable[[str], Any] = float,
           **kwargs) -> Callable[[str], Any]:
    """An argparse ``type=`` function: parse the text with ``convert``, then apply ``validator``.

    The refusal reads ``argument --pixel-um: --pixel-um = 100: give ...``
    through argparse; the text is parsed as a number first, so ``inf``,
    ``nan`` and ``1e400`` meet the same range check as a recipe's value.
    """
    def parse(text: str):
        try:
            value = convert(text.strip())
        except (TypeError, ValueError, OverflowError):
            kind = "number" if convert is float else "whole number" if convert is int else "value"
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind}") from None
        try:
            return validator(value, flag, **kwargs)
        except LithoInputError as err:
            raise argparse.ArgumentTypeError(str(err).removeprefix(f"{flag} = ")) from None

    parse.__name__ = getattr(validator, "__name__", "value")
    return parse


def number_list(flag: str, *, lo: float | None = None, hi: float | None = None, unit: str = "",
                example: str = "0,1,2") -> Callable[[str], tuple[float, ...]]:
    """An argparse ``type=`` for comma-separated numbers ``a,b,c`` each inside ``[lo, hi]``."""
    def parse(text: str) -> tuple[float, ...]:
        parts = [t.strip() for t in text.split(",") if t.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated numbers in {unit}, e.g. {example}")
        values = []
        for part in parts:
            try:
                x = float(part)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"{text!r}: {part!r} is not a number; give comma-separated numbers, e.g. {example}") from None
            try:
                values.append(number(x, part, lo=lo, hi=hi, unit=unit))
            except LithoInputError:
                raise argparse.ArgumentTypeError(
                    f"{text!r}: {part} is outside {range_text(lo, hi, unit=unit)}") from None
        return tuple(values)

    parse.__name__ = "numbers"
    return parse


def nesting_depth(value: Any, limit: int) -> int:
    """Depth of nested tables/arrays in ``value`` (a scalar is 0), counted without recursion, up to ``limit + 1``."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (Mapping, list, tuple)):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, Mapping) else item
            stack.extend((child, depth) for child in children)
    return deepest
