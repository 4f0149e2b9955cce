"""The published results as data; one global fit of the constants; leave-one-out.

Every row of DOMAIN.md §3 is a measurement on a stated system (film,
crosslinker, wavelength, atmosphere) under a stated condition (the dose the
paper used, or the film retention it compared at). litho predicts each
observable from the library alone: structure and composition of the
materials, mechanism constants shared by every crosslinker of a kind
(``materials/mechanisms.toml``), and the few constants no paper fixes
(:data:`litho.mechanisms.GLOBAL_PRIORS`). Those few are fitted once, to all
rows together (:func:`global_fit`), by weighted least squares with a weak
prior (a row that no constant can reach stays missed; a constant that no row
constrains stays near its prior instead of drifting to a bound). A row is met
when the prediction lands within the tolerance a lab accepts (NRT ±0.1, PLQY
±0.1 absolute, a characteristic dose within ×2, a resolution within ×2).

:func:`leave_one_out` refits without each row in turn and predicts that row:
the honest measure of what litho predicts for a system it has not seen.

Resolution rows (the smallest line/space a recipe prints) depend on the
optics far more than on the fitted constants; they are predicted by
:func:`litho.resolution.min_feature` once, at the fitted constants, and do not
take part in the fit.

Examples
--------
>>> from litho import validation
>>> [row.id for row in validation.ROWS][:3]
['1a', '1b', '2a']
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from . import materials, mechanisms
from .chemistry import parse_atmosphere
from .mechanisms import GLOBAL_PRIORS, Constants

__all__ = ["System", "Row", "ROWS", "Prediction", "predict", "global_fit", "GlobalFit", "leave_one_out",
           "validation_table", "write_global_fit", "TOLERANCES", "library_fit", "design_rules", "markdown"]

#: Tolerances a lab accepts for a reproduction (DOMAIN.md §3).
TOLERANCES = {"nrt": 0.1, "plqy": 0.1, "dose": 2.0, "resolution": 2.0}
#: Doses at which the open-frame contrast curve is evaluated, mJ/cm².
DOSES = np.geomspace(1e-2, 1e5, 561)
#: Width of the prior on each fitted constant, in its fit coordinate
#: (natural log for log-scale constants): ln(100) ≈ a factor 100 either way.
PRIOR_WIDTH_LOG = math.log(100.0)
PRIOR_WIDTH_LINEAR = {"photodamage.energy_slope_per_ev": 3.0, "side_products.bulky_shielding_per_group": 2.0,
                      "gelation.crosslink_dispersion": 0.5}


@dataclass(frozen=True)
class System:
    """The materials and exposure of a published experiment.

    Loadings and thickness the papers do not state in DOMAIN.md take the
    library's typical value (the same for every row that lacks it), never a
    value picked for the row.
    """

    film: str
    crosslinker: str
    wavelength_nm: float
    atmosphere: str = "N2"
    developer: str = "toluene"
    thickness_nm: float | None = None
    loading_wt_pct: float | None = None
    loading_mol_pct: float | None = None

    def materials(self, constants: Constants | None = None):
        film = {"material": self.film}
        if self.thickness_nm is not None:
            film["thickness_nm"] = self.thickness_nm
        xl = {"material": self.crosslinker}
        if self.loading_wt_pct is not None:
            xl["loading_wt_pct"] = self.loading_wt_pct
        if self.loading_mol_pct is not None:
            xl["loading_mol_pct"] = self.loading_mol_pct
        return (materials.resolve("film", film, constants=constants),
                materials.resolve("crosslinker", xl, constants=constants),
                materials.resolve("developer", {"material": self.developer}),
                parse_atmosphere(self.atmosphere))


@dataclass(frozen=True)
class Row:
    """One published observable.

    Attributes
    ----------
    id : str
        Row of DOMAIN.md §3 and a letter per observable.
    source : str
        First author, journal, year.
    system : System
    observable : str
        "plqy" (PLQY/PLQY₀), "nrt" (film retention), "dose" (a characteristic
        dose, mJ/cm²: the dose reaching ``at_nrt``), "nrt_min" (retention at
        least the value: "patterns form") or "resolution" (µm).
    published : float
        The reported value (for "dose": the middle of a reported band, geometric).
    at_dose_mj_cm2 : float or None
        The dose the paper used, when the observable is read at a dose.
    at_nrt : float or None
        The film retention the paper compared at (or that defines "dose").
    note : str
        What the paper reports, and any reading litho makes of it.
    """

    id: str
    source: str
    system: System
    observable: str
    published: float
    at_dose_mj_cm2: float | None = None
    at_nrt: float | None = None
    note: str = ""
    contact_mode: str = "hard"

    @property
    def tolerance(self) -> float:
        return TOLERANCES[{"nrt_min": "nrt"}.get(self.observable, self.observable)]

    @property
    def condition(self) -> str:
        if self.at_dose_mj_cm2 is not None:
            return f"at {self.at_dose_mj_cm2:g} mJ/cm^2"
        if self.at_nrt is not None:
            return f"at NRT {self.at_nrt:g}"
        return ""

    @property
    def fitted(self) -> bool:
        """Resolution rows are predicted, not fitted (see the module docstring)."""
        return self.observable != "resolution"


_YANG20 = System("CdSe/CdZnSe/ZnSeS", "EBT", 254.0, "N2")
_LIU22 = System("CsPbBr3", "EBT", 254.0, "N2")
_FU24 = dict(film="InP/ZnSe/ZnS", wavelength_nm=365.0, atmosphere="air")
_YANG22 = dict(film="InP/ZnSeS", wavelength_nm=254.0, atmosphere="N2")

#: The validation set: DOMAIN.md §3 and its resolution facts, one observable per row.
ROWS: tuple[Row, ...] = (
    Row("1a", "Yang, Nat. Commun. 2020", _YANG20, "dose", math.sqrt(2.0 * 3.0), at_nrt=0.5,
        note="patterns form at an 'ultralow' 2-3 mJ/cm^2: D50 in that band"),
    Row("1b", "Yang, Nat. Commun. 2020", _YANG20, "plqy", 1.0, at_dose_mj_cm2=3.0, note="PLQY preserved"),
    Row("2a", "Liu, Sci. Adv. 2022 (DOPPLCER)", _LIU22, "plqy", 0.63, at_dose_mj_cm2=60.0, note="PLQY retained 63%"),
    Row("2b", "Liu, Sci. Adv. 2022 (DOPPLCER)", _LIU22, "nrt_min", 0.8, at_dose_mj_cm2=60.0,
        note="patterns (to 5 um) at 60 mJ/cm^2: retention at least 0.8"),
    Row("3a", "Fu, JACS 2024", System(crosslinker="Tris-TAD", **_FU24), "nrt", 0.80, at_dose_mj_cm2=100.0,
        note="three-arm EDG diazirine in air: 80% retention"),
    Row("3b", "Fu, JACS 2024", System(crosslinker="O-TAD", **_FU24), "nrt", 0.60, at_dose_mj_cm2=100.0,
        note="two-arm EDG diazirine in air: 60% retention"),
    Row("3c", "Fu, JACS 2024", System(crosslinker="E-TAD", **_FU24), "nrt", 0.60, at_dose_mj_cm2=100.0,
        note="two-arm EDG diazirine in air: 60% retention"),
    Row("4a", "Yang, Adv. Mater. 2022", System(crosslinker="IP-6-LiXer", **_YANG22), "plqy", 1.0, at_nrt=0.8,
        note="six arms, bulky isopropyls: PLQY ~100% at ~80% retention"),
    Row("4b", "Yang, Adv. Mater. 2022", System(crosslinker="2-LiXer", **_YANG22), "plqy", 0.65, at_nrt=0.8,
        note="two-arm reference: PLQY ~65% at ~80% retention"),
    Row("5a", "Lu, Angew. Chem. 2022", System("CdSe/ZnS", "PFB", 365.0, "N2"), "plqy", 0.90, at_nrt=0.9,
        note="carbene at 365 nm on Cd-based QDs: PLQY ~90%; the paper's dose is not in DOMAIN.md, so read "
             "at a fully patterned film (NRT 0.9)"),
    Row("5b", "Lu, Angew. Chem. 2022", System("CdSe/ZnS", "EBT", 254.0, "N2"), "plqy", 0.55, at_nrt=0.9,
        note="azide at 254 nm on the same QDs: PLQY ~55%; read at NRT 0.9 as 5a"),
    Row("6a", "Liu, ACS Nano 2024", System("CsPbBr3", "PFB", 365.0, "N2"), "plqy", 0.90, at_nrt=0.9,
        note="non-EDG bis-diazirine under N2: PLQY 90%; dose not in DOMAIN.md, read at NRT 0.9"),
    Row("7a", "Cho, Science 2023", System("CsPbBr3", "PETMP", 275.0, "N2"), "dose", 30.0, at_nrt=0.8,
        note="patterns at ~30 mJ/cm^2: D80 near 30"),
    Row("7b", "Cho, Science 2023", System("CsPbBr3", "PETMP", 275.0, "N2"), "plqy", 1.0, at_dose_mj_cm2=30.0,
        note="full luminescence kept"),
    Row("1c", "Yang, Nat. Commun. 2020", _YANG20, "resolution", 2.0, at_dose_mj_cm2=3.0,
        note="resolution 2 um (contact print)"),
    Row("2c", "Liu, Sci. Adv. 2022 (DOPPLCER)", _LIU22, "resolution", 5.0, at_dose_mj_cm2=60.0,
        note="patterns to 5 um (contact print)"),
    Row("8a", "Bang (PTPA-N3-SH)", System("CdSe/ZnS", "PTPA-N3-SH", 254.0, "N2"), "resolution", 5.0, at_nrt=0.9,
        note="features down to 5 um; dose not reported, printed at the NRT-0.9 dose"),
    Row("9a", "Qing, Nano Res. 2024", System("InP/ZnSe/ZnS", "Ir-azide", 405.0, "N2"), "resolution", 2.0,
        at_nrt=0.9, note="405 nm (h-line) sensitised azide: minimum pixel 2 um; printed at the NRT-0.9 dose"),
)


# --------------------------------------------------------------------------- prediction

@dataclass(frozen=True)
class Prediction:
    row: Row
    value: float
    dose_mj_cm2: float | None

    @property
    def error(self) -> float:
        """Signed error in the row's own measure (absolute; a ratio for doses and sizes)."""
        if not math.isfinite(self.value):
            return math.inf
        if self.row.observable in ("dose", "resolution"):
            return self.value / self.row.published
        if self.row.observable == "nrt_min":
            return min(0.0, self.value - self.row.published)
        return self.value - self.row.published

    @property
    def passes(self) -> bool:
        if not math.isfinite(self.value):
            return False
        if self.row.observable in ("dose", "resolution"):
            return 1.0 / self.row.tolerance <= self.error <= self.row.tolerance
        return abs(self.error) <= self.row.tolerance + 1e-12

    def residual(self) -> float:
        """Error in units of the tolerance (the fit's residual)."""
        if not math.isfinite(self.value) or self.value <= 0 and self.row.observable in ("dose", "resolution"):
            return 10.0
        if self.row.observable in ("dose", "resolution"):
            return math.log(self.error) / math.log(self.row.tolerance)
        return self.error / self.row.tolerance


def _curve(system: System, constants: Constants | None):
    from .development import develop

    film, xl, dev, atm = system.materials(constants)
    out = develop([(system.wavelength_nm, DOSES)], film, xl, dev, atm)
    return out.remaining_thickness, out.plqy_retention


def _crossing(nrt: np.ndarray, level: float) -> float:
    from .development import _crossing as crossing

    return crossing(DOSES, nrt, level)


def _at(values: np.ndarray, dose: float) -> float:
    return float(np.interp(math.log(dose), np.log(DOSES), values))


def predict(row: Row, constants: Constants | None = None, *, resolution: Callable[[Row, Constants | None, float],
                                                                                   float] | None = None) -> Prediction:
    """litho's prediction of one row from the library and ``constants``.

    ``resolution`` computes a resolution row (default
    :func:`predict_resolution`); pass another to stub the optics out.
    """
    nrt, plqy = _curve(row.system, constants)
    dose = row.at_dose_mj_cm2
    if dose is None and row.at_nrt is not None:
        dose = _crossing(nrt, row.at_nrt)
    if row.observable == "dose":
        return Prediction(row, dose, dose)
    if dose is None or not math.isfinite(dose):
        return Prediction(row, math.nan, None)
    if row.observable == "resolution":
        value = (resolution or predict_resolution)(row, constants, dose)
        return Prediction(row, value, dose)
    value = _at(plqy if row.observable == "plqy" else nrt, dose)
    return Prediction(row, value, dose)


def predict_resolution(row: Row, constants: Constants | None, dose_mj_cm2: float) -> float:
    """Smallest printing 1:1 line/space (µm) of the row's system in contact printing at the dose."""
    from .recipe import recipe_from_dict
    from .resolution import min_feature

    import tempfile
    from pathlib import Path

    from . import gds
    from .layout import pixel_array

    s = row.system
    with tempfile.TemporaryDirectory(prefix="litho-validate-") as tmp:
        mask = Path(tmp) / "mask.gds"
        gds.write_gds(pixel_array("stripe", ppi=1000, gap_um=2, columns=1, rows=1), mask)
        raw = {
            "name": f"row {row.id}",
            "film": {"material": s.film, **({"thickness_nm": s.thickness_nm} if s.thickness_nm else {})},
            "crosslinker": {"material": s.crosslinker},
            "exposure": {"tool": "contact", "contact_mode": row.contact_mode, "wavelength_nm": s.wavelength_nm,
                         "dose_mj_cm2": dose_mj_cm2, "atmosphere": s.atmosphere},
            "developer": {"material": s.developer},
            "mask": {"file": str(mask), "layer": "R"},
        }
        recipe = recipe_from_dict(raw, source=f"validation row {row.id}", base_dir=Path(tmp))
        if constants is not None:
            recipe = _with_constants(recipe, constants)
        found = min_feature(recipe, "line-space")
    size = getattr(found, "size_um", None)
    return math.nan if size is None else float(size)


def _with_constants(recipe, constants: Constants):
    steps = tuple(dataclasses.replace(st, film=mechanisms.apply_constants(st.film, constants),
                                      crosslinker=mechanisms.apply_constants(st.crosslinker, constants))
                  for st in recipe.steps)
    return dataclasses.replace(recipe, steps=steps)


# --------------------------------------------------------------------------- global fit

@dataclass(frozen=True)
class GlobalFit:
    """Result of :func:`global_fit`.

    Attributes
    ----------
    values, sigma : dict
        Fitted constants and their 1σ (NaN when the fit cannot tell).
    rows : tuple of str
        Ids of the rows fitted.
    constants : Constants
        The library constants with the fitted values in.
    cost : float
        ½ Σ residual² (rows and priors).
    """

    values: dict
    sigma: dict
    rows: tuple
    constants: Constants
    cost: float


def _to_x(key: str, value: float) -> float:
    return math.log(value) if GLOBAL_PRIORS[key][3] else value


def _from_x(key: str, x: float) -> float:
    return math.exp(x) if GLOBAL_PRIORS[key][3] else x


def _prior_width(key: str) -> float:
    return PRIOR_WIDTH_LOG if GLOBAL_PRIORS[key][3] else PRIOR_WIDTH_LINEAR.get(key, 1.0)


def global_fit(rows: Sequence[Row] = ROWS, *, keys: Sequence[str] | None = None,
               base: Constants | None = None, max_evaluations: int = 400) -> GlobalFit:
    """Fit the global constants to every fitted row at once.

    Weighted least squares (scipy ``least_squares``, trust region with
    bounds) on residuals in units of each row's tolerance, plus one weak
    prior residual per constant ((x − prior)/width in the fit coordinate).
    1σ from the Jacobian at the optimum: (JᵀJ)⁻¹.
    """
    from scipy.optimize import least_squares

    keys = list(keys or GLOBAL_PRIORS)
    base = base or mechanisms.library_constants()
    fitted_rows = [r for r in rows if r.fitted]
    x0 = np.array([_to_x(k, GLOBAL_PRIORS[k][0]) for k in keys])
    lo = np.array([_to_x(k, GLOBAL_PRIORS[k][1]) for k in keys])
    hi = np.array([_to_x(k, GLOBAL_PRIORS[k][2]) for k in keys])
    widths = np.array([_prior_width(k) for k in keys])

    def constants_at(x) -> Constants:
        return base.with_values({k: _from_x(k, v) for k, v in zip(keys, x)}, source="global fit (trial)")

    def residuals(x):
        k = constants_at(x)
        r = [predict(row, k).residual() for row in fitted_rows]
        return np.concatenate([np.asarray(r, dtype=np.float64), (x - x0) / widths])

    fit = least_squares(residuals, np.clip(x0, lo + 1e-9, hi - 1e-9), bounds=(lo, hi), x_scale=widths,
                        diff_step=1e-4, max_nfev=max_evaluations)
    jac = fit.jac
    try:
        cov = np.linalg.pinv(jac.T @ jac)
        sx = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        sx = np.full(len(keys), np.nan)
    values, sigma = {}, {}
    for k, x, s in zip(keys, fit.x, sx):
        values[k] = _from_x(k, x)
        # σ in the constant's own units: δv = v·δx on a log scale
        sigma[k] = values[k] * s if GLOBAL_PRIORS[k][3] else s
    return GlobalFit(values=values, sigma=sigma, rows=tuple(r.id for r in fitted_rows),
                     constants=base.with_values(values, source="global fit"), cost=float(fit.cost))


def leave_one_out(rows: Sequence[Row] = ROWS, *, max_evaluations: int = 400,
                  progress: Callable[[str], None] | None = None) -> dict[str, Prediction]:
    """For each fitted row: refit without it (and without its siblings of the same experiment), predict it.

    Observables of one experiment (e.g. 1a and 1b) are left out together:
    they share the system, so keeping one would leak the other.
    """
    out = {}
    for row in rows:
        if not row.fitted:
            continue
        if progress:
            progress(f"leave-one-out: row {row.id}")
        experiment = row.id.rstrip("abcdefgh")
        kept = [r for r in rows if r.id.rstrip("abcdefgh") != experiment]
        fit = global_fit(kept, max_evaluations=max_evaluations)
        out[row.id] = predict(row, fit.constants)
    return out


# --------------------------------------------------------------------------- outputs

def validation_table(fit: GlobalFit, loo: dict[str, Prediction], rows: Sequence[Row] = ROWS,
                     resolution: Callable | None = None) -> list[dict[str, Any]]:
    """One record per row: published, in-sample prediction, left-out prediction, error, tolerance, pass."""
    table = []
    for row in rows:
        inside = predict(row, fit.constants, resolution=resolution)
        out = loo.get(row.id)
        shown = out if out is not None else inside
        table.append({
            "row": row.id, "source": row.source, "system": f"{row.system.crosslinker} + {row.system.film}, "
                                                           f"{row.system.wavelength_nm:g} nm, {row.system.atmosphere}",
            "observable": row.observable, "condition": row.condition, "published": row.published,
            "in_sample": inside.value, "left_out": None if out is None else out.value,
            "error": shown.error, "tolerance": row.tolerance, "pass": shown.passes, "note": row.note,
        })
    return table


def _fmt(value, observable: str) -> str:
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "none"
    if observable in ("dose", "resolution"):
        return f"{value:.3g}"
    return f"{value:.2f}"


def markdown(table: list[dict], fit: GlobalFit, *, date: str | None = None, command: str = "litho validate") -> str:
    """docs/validation.md: the table, the constants, and how it was made."""
    unit = {"dose": "mJ/cm²", "resolution": "µm", "plqy": "PLQY/PLQY₀", "nrt": "h/h₀", "nrt_min": "h/h₀ (at least)"}
    lines = [
        "# Validation against published results",
        "",
        f"Made by `{command}` ({date or _dt.date.today().isoformat()}). Every prediction comes from one parameter "
        "set: literature values, mechanism constants shared by every crosslinker of a kind "
        "(`src/litho/materials/mechanisms.toml`), values derived from structure and composition, and the "
        "global constants below, fitted once to all rows together. *Left out* is the prediction of a row by a "
        "fit that did not see that experiment; *pass* judges the left-out prediction (resolution rows are "
        "predicted, not fitted, so they have no left-out column). Tolerances: NRT ±0.1, PLQY ±0.1, dose and "
        "resolution within ×2. A missed row is shown as missed.",
        "",
        "| row | source | system | observable | condition | published | in-sample | left out | error | tolerance | pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rec in table:
        obs = rec["observable"]
        err = rec["error"]
        err_s = ("—" if err is None else f"×{err:.2f}" if obs in ("dose", "resolution") and math.isfinite(err)
                 else f"{err:+.2f}" if math.isfinite(err) else "none")
        tol = f"×{rec['tolerance']:g}" if obs in ("dose", "resolution") else f"±{rec['tolerance']:g}"
        lines.append(
            f"| {rec['row']} | {rec['source']} | {rec['system']} | {obs} ({unit[obs]}) | {rec['condition']} | "
            f"{_fmt(rec['published'], obs)} | {_fmt(rec['in_sample'], obs)} | {_fmt(rec['left_out'], obs)} | "
            f"{err_s} | {tol} | {'yes' if rec['pass'] else '**no**'} |")
    met = sum(1 for r in table if r["pass"])
    lines += ["", f"**{met} of {len(table)} rows met.**", "", "## Global constants", "",
              "| constant | value | 1σ | meaning |", "|---|---|---|---|"]
    for key, value in fit.values.items():
        s = fit.sigma.get(key, math.nan)
        lines.append(f"| `{key}` | {value:.4g} | {s:.2g} | {GLOBAL_PRIORS[key][4]} |")
    lines += ["", "Fitted rows: " + ", ".join(fit.rows) + ".", "", "## Design rules", "",
              "The rules of DOMAIN.md §1 and §3a, as consequences of the same parameter set:", ""]
    for rule in design_rules(fit.constants):
        lines.append(f"- {'holds' if rule['holds'] else '**does not hold**'}: {rule['rule']} ({rule['numbers']}).")
    lines += ["", "Notes per row:", ""]
    for rec in table:
        lines.append(f"- **{rec['row']}** ({rec['source']}): {rec['note']}.")
    lines.append("")
    return "\n".join(lines)


def write_global_fit(fit: GlobalFit, path=None, *, date: str | None = None) -> None:
    """Write the fitted constants into the library (``materials/global_fit.toml``), atomically."""
    from .outputs import atomic_file

    path = path or mechanisms.constants.GLOBAL_FIT_FILE
    date = date or _dt.date.today().isoformat()
    rows = ", ".join(fit.rows)
    sections: dict[str, list[str]] = {}
    for key, value in fit.values.items():
        section, name = key.split(".", 1)
        sigma = fit.sigma.get(key, math.nan)
        sigma_s = f"{sigma:.3g}" if math.isfinite(sigma) else "nan"
        sections.setdefault(section, []).append(
            f'{name} = {{ value = {value:.6g}, sigma = {sigma_s}, source = "global fit, {date}, rows {rows}" }}')
    text = ["# Constants the literature does not fix, fitted once to all published results of",
            "# DOMAIN.md §3 together (litho calibrate --global). Each is {value, sigma, source};",
            "# sigma is the 1-sigma uncertainty from the fit's covariance. Rewritten by",
            "# `litho calibrate --global`; `litho validate` shows the leave-one-out check.", ""]
    for section, entries in sections.items():
        text += [f"[{section}]", *entries, ""]
    with atomic_file(path) as tmp:
        tmp.write_text("\n".join(text))
    mechanisms.library_constants.cache_clear()


def library_fit(rows: Sequence[Row] = ROWS) -> GlobalFit:
    """The shipped global constants (global_fit.toml) as a :class:`GlobalFit`, without refitting."""
    k = mechanisms.library_constants()
    values = {key: k[key] for key in GLOBAL_PRIORS}
    sigma = {key: (k.values[key].sigma if k.values[key].sigma is not None else math.nan) for key in GLOBAL_PRIORS}
    fitted = [r.id for r in rows if r.fitted]
    return GlobalFit(values=values, sigma=sigma, rows=tuple(fitted), constants=k, cost=math.nan)


def design_rules(constants: Constants | None = None) -> list[dict[str, Any]]:
    """The field's design rules (DOMAIN.md §1, §3a), checked as consequences of the model.

    Each record: the rule, whether it holds, and the numbers behind it.
    """
    k = constants or mechanisms.library_constants()

    def at_nrt(system: System, level: float = 0.8):
        nrt, plqy = _curve(system, k)
        dose = _crossing(nrt, level)
        return dose, (_at(plqy, dose) if math.isfinite(dose) else math.nan)

    rules = []
    d254, p254 = at_nrt(System("InP/ZnSe/ZnS", "Ir-azide", 254.0))
    d405, p405 = at_nrt(System("InP/ZnSe/ZnS", "Ir-azide", 405.0))
    rules.append({"rule": "longer wavelength, less photodamage: the Ir-sensitised azide at 405 nm keeps more "
                          "PLQY than the same azide photolysed at 254 nm (InP/ZnSe/ZnS, at NRT 0.8)",
                  "holds": p405 > p254, "numbers": f"PLQY {p405:.2f} at 405 nm ({d405:.3g} mJ/cm^2) vs "
                                                   f"{p254:.2f} at 254 nm ({d254:.3g} mJ/cm^2)"})
    d2, _ = at_nrt(System("InP/ZnSeS", "2-LiXer", 254.0))
    d6, _ = at_nrt(System("InP/ZnSeS", "IP-6-LiXer", 254.0))
    dt, _ = at_nrt(System("InP/ZnSe/ZnS", "Tris-TAD", 365.0, "air"))
    db, _ = at_nrt(System("InP/ZnSe/ZnS", "O-TAD", 365.0, "air"))
    rules.append({"rule": "more arms, lower dose (IP-6-LiXer vs 2-LiXer; Tris-TAD vs O-TAD)",
                  "holds": d6 < d2 and dt < db,
                  "numbers": f"D80 {d6:.3g} vs {d2:.3g} mJ/cm^2; {dt:.3g} vs {db:.3g} mJ/cm^2"})
    n_air = _at(_curve(System("CsPbBr3", "PFB", 365.0, "air"), k)[0], at_nrt(System("CsPbBr3", "PFB", 365.0))[0])
    e_air, _ = at_nrt(System("InP/ZnSe/ZnS", "O-TAD", 365.0, "air"))
    e_n2, _ = at_nrt(System("InP/ZnSe/ZnS", "O-TAD", 365.0, "N2"))
    rules.append({"rule": "oxygen: the non-EDG bis-diazirine needs N2; the para-alkoxy (EDG) one works in air",
                  "holds": n_air < 0.2 and e_air < 1.5 * e_n2,
                  "numbers": f"PFB in air at its N2 D80: NRT {n_air:.2f}; O-TAD D80 {e_air:.3g} (air) vs "
                             f"{e_n2:.3g} (N2) mJ/cm^2"})
    _, pc = at_nrt(System("CdSe/ZnS", "PFB", 365.0))
    _, pn = at_nrt(System("CdSe/ZnS", "EBT", 254.0))
    rules.append({"rule": "nitrene side products: lower PLQY than carbenes at the same retention (CdSe/ZnS, NRT 0.8)",
                  "holds": pn < pc, "numbers": f"PLQY {pn:.2f} (EBT, 254 nm) vs {pc:.2f} (PFB, 365 nm)"})
    return rules
