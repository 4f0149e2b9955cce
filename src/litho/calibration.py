"""Fit chemistry parameters to a measured contrast curve (NRT versus dose).

A lab measures the normalised remaining thickness of open-frame exposures at
several doses. :func:`calibrate` adjusts the chosen material parameters
(e.g. ``quantum_yield``, ``insertion_yield``, ``loading_wt_pct``,
``dissolution_time_s``) so the model's contrast curve
(:func:`litho.development.develop` on an open frame) matches, by bounded
non-linear least squares (``scipy.optimize.least_squares``). Uncertainties are
the square roots of the diagonal of the covariance s²·(JᵀJ)⁻¹ at the optimum,
J the Jacobian of the residuals and s² = Σr²/(n − p) (Gauss–Newton
linearisation; valid when the residuals are small and random).

Examples
--------
>>> data = read_contrast_csv("measured.csv")                       # doctest: +SKIP
>>> fit = calibrate(film, xl, dev, "N2", [(254.0, 1.0)], data.doses_mj_cm2,
...                 data.nrt, ["quantum_yield", "loading_wt_pct"])  # doctest: +SKIP
>>> fit.values, fit.uncertainties                                   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .chemistry import Atmosphere, parse_atmosphere
from .errors import LithoInputError
from .materials import Crosslinker, Developer, Film, field_range

__all__ = ["ContrastData", "read_contrast_csv", "fittable_parameters", "Calibration", "calibrate",
           "apply_parameters", "DOSE_COLUMNS", "NRT_COLUMNS"]

#: Accepted spellings of the CSV columns (case-insensitive).
DOSE_COLUMNS = ("dose_mj_cm2", "dose", "dose (mj/cm2)", "dose (mj/cm^2)", "dose_mj/cm2")
NRT_COLUMNS = ("nrt", "remaining_thickness", "h/h0", "normalized_remaining_thickness",
               "normalised_remaining_thickness", "retention")


@dataclass(frozen=True)
class ContrastData:
    """A measured contrast curve.

    Attributes
    ----------
    doses_mj_cm2 : ndarray
        Incident dose of each exposure, mJ/cm².
    nrt : ndarray
        Measured h/h₀ after development.
    path : str
    """

    doses_mj_cm2: np.ndarray
    nrt: np.ndarray
    path: str = ""


def read_contrast_csv(path: str | Path) -> ContrastData:
    """Read a contrast-curve CSV with a dose column and an NRT column.

    Columns (header, case-insensitive): ``dose_mj_cm2`` (or ``dose``) and
    ``nrt`` (or ``remaining_thickness``, ``h/h0``); other columns are ignored.

    Raises
    ------
    LithoInputError
        Missing file or column, a non-numeric cell (with its line), a negative
        dose, an NRT outside [0, 1.5], or no data rows.
    """
    path = Path(path)
    if not path.is_file():
        raise LithoInputError(f"{path}: contrast data file not found")
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise LithoInputError(f"{path}: not a text CSV file") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise LithoInputError(f"{path}: empty; need a header with columns dose_mj_cm2 and nrt")
    reader = csv.reader(lines)
    header = [h.strip().lower() for h in next(reader)]

    def column(names: Sequence[str], what: str) -> int:
        for i, h in enumerate(header):
            if h in names:
                return i
        raise LithoInputError(
            f"{path}: no {what} column; found columns {', '.join(header) or 'none'}; "
            f"need one of {', '.join(names)}")

    i_dose = column(DOSE_COLUMNS, "dose")
    i_nrt = column(NRT_COLUMNS, "NRT")
    doses, nrt = [], []
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        values = []
        for i, name in ((i_dose, header[i_dose]), (i_nrt, header[i_nrt])):
            cell = row[i].strip() if i < len(row) else ""
            try:
                value = float(cell)
            except ValueError:
                raise LithoInputError(f"{path}: line {line_no}: {name} = {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise LithoInputError(f"{path}: line {line_no}: {name} = {cell!r} is not a finite number")
            values.append(value)
        dose, h = values
        if dose < 0:
            raise LithoInputError(f"{path}: line {line_no}: dose {dose:g} mJ/cm^2 is negative; doses must be >= 0")
        if not 0.0 <= h <= 1.5:
            raise LithoInputError(f"{path}: line {line_no}: NRT {h:g} is outside [0, 1.5] (h/h0)")
        doses.append(dose)
        nrt.append(h)
    if not doses:
        raise LithoInputError(f"{path}: no data rows under the header")
    order = np.argsort(doses, kind="stable")
    return ContrastData(np.asarray(doses)[order], np.asarray(nrt)[order], str(path))


# name -> material kind holding it
def fittable_parameters() -> dict[str, str]:
    """Parameters ``calibrate`` can fit: name -> "film" | "crosslinker" | "developer".

    Every numeric scalar field of the three materials (per-wavelength tables
    and integers such as ``arms`` excluded).
    """
    out: dict[str, str] = {}
    for kind, cls in (("crosslinker", Crosslinker), ("developer", Developer), ("film", Film)):
        for f in dataclasses.fields(cls):
            if f.name in ("arms",) or f.name.endswith("_by_wavelength"):
                continue
            if f.type in ("float",):
                out.setdefault(f.name, kind)
    return out


def _resolve_names(names: Sequence[str]) -> list[tuple[str, str]]:
    table = fittable_parameters()
    out = []
    for raw in names:
        name = raw.strip()
        kind = None
        if "." in name:
            kind, name = name.split(".", 1)
        if name not in table or (kind is not None and table[name] != kind):
            raise LithoInputError(
                f"--fit {raw!r} is not a fittable parameter; accepted: {', '.join(sorted(table))}")
        if (table[name], name) in out:
            raise LithoInputError(f"--fit {raw!r} is given twice")
        out.append((table[name], name))
    if not out:
        raise LithoInputError("--fit: name at least one parameter, e.g. --fit quantum_yield,dissolution_time_s")
    return out


def apply_parameters(film: Film, crosslinker: Crosslinker, developer: Developer,
                     values: Mapping[str, float]) -> tuple[Film, Crosslinker, Developer]:
    """Copies of the materials with the named fields replaced (validated against their ranges)."""
    table = fittable_parameters()
    changes: dict[str, dict[str, float]] = {"film": {}, "crosslinker": {}, "developer": {}}
    for name, value in values.items():
        kind = table.get(name)
        if kind is None:
            raise LithoInputError(f"{name} is not a fittable parameter; accepted: {', '.join(sorted(table))}")
        low, high, _ = field_range(name)
        if (low is not None and value < low) or (high is not None and value > high):
            raise LithoInputError(f"{kind}.{name} = {value:g} is outside [{low:g}, {high:g}]")
        changes[kind][name] = float(value)
    return (dataclasses.replace(film, **changes["film"]),
            dataclasses.replace(crosslinker, **changes["crosslinker"]),
            dataclasses.replace(developer, **changes["developer"]))


@dataclass(frozen=True)
class Calibration:
    """Result of a fit.

    Attributes
    ----------
    names : tuple of (kind, field)
    values, uncertainties, initial : dict field -> float
        Fitted values, their 1-σ uncertainties (NaN when undetermined), start values.
    covariance : ndarray (p, p)
    doses_mj_cm2, nrt_measured, nrt_fitted, residuals : ndarray
    rms_residual : float
    film, crosslinker, developer : the calibrated materials
    atmosphere : Atmosphere
    lines : tuple of (wavelength_nm, weight)
    success : bool
    message : str
    at_bound : tuple of str
        Fitted parameters that ended at a bound of their range: the data do not
        determine them inside it (their uncertainty is NaN; the covariance is of
        the other parameters with these held at the bound).
    covariance_note : str
        Why (part of) the covariance is missing, or "".
    """

    names: tuple
    values: dict
    uncertainties: dict
    initial: dict
    covariance: np.ndarray
    doses_mj_cm2: np.ndarray
    nrt_measured: np.ndarray
    nrt_fitted: np.ndarray
    residuals: np.ndarray
    rms_residual: float
    film: Film
    crosslinker: Crosslinker
    developer: Developer
    atmosphere: Atmosphere
    lines: tuple
    success: bool
    message: str
    at_bound: tuple = ()
    covariance_note: str = ""

    def model(self, doses_mj_cm2) -> np.ndarray:
        """The calibrated model's NRT at any doses (open frame)."""
        return _model(self.film, self.crosslinker, self.developer, self.atmosphere, self.lines,
                      np.asarray(doses_mj_cm2, dtype=np.float64))


def _model(film, crosslinker, developer, atmosphere, lines, doses):
    from .development import develop
    return develop([(w, doses * wt) for w, wt in lines], film, crosslinker, developer, atmosphere).remaining_thickness


def calibrate(film: Film, crosslinker: Crosslinker, developer: Developer, atmosphere: Atmosphere | str,
              lines: Sequence[tuple[float, float]] | float, doses_mj_cm2, nrt, fit: Sequence[str], *,
              initial: Mapping[str, float] | None = None) -> Calibration:
    """Fit material parameters to a measured NRT-versus-dose curve.

    Parameters
    ----------
    film, crosslinker, developer : materials (the starting point)
    atmosphere : Atmosphere or str
    lines : float or sequence of (wavelength_nm, weight)
        Exposure wavelength(s).
    doses_mj_cm2, nrt : array_like
        Measured points.
    fit : sequence of str
        Parameter names (see :func:`fittable_parameters`), optionally
        prefixed ``film.``, ``crosslinker.`` or ``developer.``.
    initial : mapping, optional
        Starting values replacing the materials' own.

    Returns
    -------
    Calibration

    Raises
    ------
    LithoInputError
        Unknown parameter names, or fewer points than fitted parameters + 1.
    """
    from scipy.optimize import least_squares

    if not isinstance(atmosphere, Atmosphere):
        atmosphere = parse_atmosphere(atmosphere)
    if isinstance(lines, (int, float)):
        lines = [(float(lines), 1.0)]
    doses = np.asarray(doses_mj_cm2, dtype=np.float64)
    measured = np.asarray(nrt, dtype=np.float64)
    names = _resolve_names(fit)
    p = len(names)
    if doses.size < p + 1:
        raise LithoInputError(
            f"contrast data has {doses.size} points; fitting {p} parameter(s) needs at least {p + 1}")
    materials = {"film": film, "crosslinker": crosslinker, "developer": developer}
    start = {n: float(getattr(materials[k], n)) for k, n in names}
    if initial:
        start.update({k: float(v) for k, v in initial.items() if k in start})
    lows, highs = [], []
    for _, n in names:
        low, high, _ = field_range(n)
        lows.append(-np.inf if low is None else low)
        highs.append(np.inf if high is None else high)
    # Fit in log space where a parameter is positive (loadings, times, yields span decades
    # and must stay > 0); linear where the range reaches 0 or below.
    log_scale = [lo > 0 or (start[n] > 0 and lo >= 0) for (_, n), lo in zip(names, lows)]

    def to_values(x):
        return {n: (math.exp(v) if lg else v) for (_, n), v, lg in zip(names, x, log_scale)}

    def residuals(x):
        f, xl, dev = apply_parameters(film, crosslinker, developer, to_values(x))
        return _model(f, xl, dev, atmosphere, lines, doses) - measured

    x0, lb, ub = [], [], []
    for (_, n), lg, lo, hi in zip(names, log_scale, lows, highs):
        v = min(max(start[n], lo), hi)
        if lg:
            lo_l = math.log(max(lo, 1e-12)) if lo > 0 else math.log(max(v, 1e-12)) - 30.0
            x0.append(math.log(max(v, 1e-12)))
            lb.append(lo_l)
            ub.append(math.log(hi) if math.isfinite(hi) else np.inf)
        else:
            x0.append(v)
            lb.append(lo)
            ub.append(hi)
    x0 = np.clip(np.array(x0), np.array(lb) + 1e-12, np.array(ub) - 1e-12)
    result = least_squares(residuals, x0, bounds=(lb, ub), method="trf", x_scale="jac",
                           diff_step=1e-4, xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=400)
    values = to_values(result.x)
    r = result.fun
    dof = max(doses.size - p, 1)
    s2 = float(r @ r) / dof
    jac = np.asarray(result.jac, dtype=np.float64)
    # Jacobian is with respect to x (log value where log_scale): chain rule to the value itself.
    scale = np.array([values[n] if lg else 1.0 for (_, n), lg in zip(names, log_scale)])
    jac_values = jac / scale[None, :]
    # A parameter that ends on a bound is not determined inside its range: its column of the
    # Jacobian says how the residuals would move past the bound, not an uncertainty. Hold it
    # fixed and take the covariance of the others.
    span = np.array(ub, dtype=float) - np.array(lb, dtype=float)
    tol = np.where(np.isfinite(span), 1e-6 * np.abs(span), 1e-6)
    stuck = [(abs(x - lo) <= t or abs(x - hi) <= t) for x, lo, hi, t in zip(result.x, lb, ub, tol)]
    at_bound = tuple(n for (_, n), st in zip(names, stuck) if st)
    free = [i for i, st in enumerate(stuck) if not st]
    cov = np.full((p, p), np.nan)
    sigma = np.full(p, np.nan)
    note = ""
    if at_bound:
        note = (f"{', '.join(at_bound)} ended at a bound of the range; the covariance is of the other "
                "parameters with it held there" if free else
                f"{', '.join(at_bound)} ended at a bound of the range; no covariance")
    if free:
        sub = jac_values[:, free]
        normal = sub.T @ sub
        try:
            if np.linalg.cond(normal) > 1e14:
                raise np.linalg.LinAlgError
            inv = np.linalg.inv(normal) * s2
            for a, i in enumerate(free):
                for b, j in enumerate(free):
                    cov[i, j] = inv[a, b]
            sigma[free] = np.sqrt(np.clip(np.diag(inv), 0.0, None))
        except np.linalg.LinAlgError:
            note = "; ".join(x for x in (note, "the fitted parameters are degenerate (singular Jacobian): "
                                               "the data determine only a combination of them") if x)
    f, xl, dev = apply_parameters(film, crosslinker, developer, values)
    fitted = _model(f, xl, dev, atmosphere, lines, doses)
    return Calibration(
        names=tuple(names), values=values,
        uncertainties={n: float(s) for (_, n), s in zip(names, sigma)},
        initial=start, covariance=cov, doses_mj_cm2=doses, nrt_measured=measured, nrt_fitted=fitted,
        residuals=fitted - measured, rms_residual=float(np.sqrt(np.mean((fitted - measured) ** 2))),
        film=f, crosslinker=xl, developer=dev, atmosphere=atmosphere, lines=tuple(lines),
        success=bool(result.success), message=str(result.message), at_bound=at_bound, covariance_note=note,
    )
