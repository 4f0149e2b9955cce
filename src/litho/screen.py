"""Screening: every library crosslinker (and solubility switch) ranked for one film and exposure.

The design question a QD engineer asks before any wafer: for this film, this
wavelength and this atmosphere, which chemistry keeps the most PLQY at the
film retention the process needs, at what dose, and how sharp is its
contrast? :func:`screen` answers it from the library alone: each entry with
absorption data at the wavelength gets its open-frame contrast curve
(:func:`litho.development.contrast_curve`, at its library loading), the dose
where the normalised remaining thickness (NRT) first reaches the target, and
the PLQY retention of the film left at that dose. Entries that never reach
the target are listed as such, with the highest NRT they reach.

Examples
--------
>>> rows = screen("InP/ZnSe/ZnS", 365, "air", target_nrt=0.8)
>>> rows[0].reaches_target and rows[0].plqy_retention >= rows[1].plqy_retention
True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from . import materials, mechanisms
from .chemistry import Atmosphere, parse_atmosphere
from .errors import LithoInputError

__all__ = ["ScreenRow", "screen", "FIELDS"]


@dataclass(frozen=True)
class ScreenRow:
    """One crosslinker's result.

    Attributes
    ----------
    crosslinker, mechanism : str
    kind : str
        "crosslinker" or "switch" (a solubility switch, litho.mechanisms.switches).
    loading, loading_unit : float, str
        The library loading used ("wt%" for free additives, "mol%" for tethered ligands).
    reaches_target : bool
        True when the NRT reaches the target at some dose.
    dose_mj_cm2 : float
        Incident dose at which the NRT first reaches the target (NaN if never).
    plqy_retention : float
        PLQY/PLQY₀ of the film left at that dose (NaN if never).
    nrt_max : float
        Highest NRT over the contrast curve (its plateau).
    d0_mj_cm2, d50_mj_cm2, d100_mj_cm2, gamma, gamma_iupac : float
        The contrast curve's characteristic doses and contrasts (NaN where not reached).
    """

    crosslinker: str
    mechanism: str
    kind: str
    loading: float
    loading_unit: str
    reaches_target: bool
    dose_mj_cm2: float
    plqy_retention: float
    nrt_max: float
    d0_mj_cm2: float
    d50_mj_cm2: float
    d100_mj_cm2: float
    gamma: float
    gamma_iupac: float

    def as_dict(self) -> dict:
        """JSON-ready: NaN becomes None."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


#: Column order of the CSV and the table.
FIELDS = tuple(ScreenRow.__dataclass_fields__)


def _is_switch(crosslinker) -> bool:
    return bool(getattr(mechanisms.get(crosslinker.mechanism), "solubility_switch", False))


def screen(film, wavelength_nm: float, atmosphere: Atmosphere | str = "air", *, target_nrt: float = 0.8,
           developer="toluene") -> list[ScreenRow]:
    """Rank every library crosslinker with absorption data at ``wavelength_nm`` by PLQY at the target NRT.

    Parameters
    ----------
    film : str or litho.materials.Film
        Film library name (its library thickness) or a resolved film.
    wavelength_nm : float
        Exposure line, nm (library data cover it ± ``materials.WAVELENGTH_MATCH_NM``).
    atmosphere : Atmosphere or str
        ``litho.chemistry.parse_atmosphere`` forms ("air", "N2", "N2, 5 ppm O2").
    target_nrt : float
        Film retention the process needs, in (0, 1).
    developer : str or litho.materials.Developer

    Returns
    -------
    list of ScreenRow
        Those that reach the target first, by PLQY retention (highest first,
        then lower dose); then those that never do, by their highest NRT.

    Raises
    ------
    LithoInputError
        Unknown film or developer, a film without absorption data at the
        wavelength, a target outside (0, 1), or no crosslinker with data there.
    """
    from .development import _crossing, contrast_curve, develop

    if not (isinstance(target_nrt, (int, float)) and 0.0 < float(target_nrt) < 1.0):
        raise LithoInputError(f"--target-nrt {target_nrt!r}: give a retention between 0 and 1 (exclusive), e.g. 0.8")
    if not (isinstance(wavelength_nm, (int, float)) and math.isfinite(wavelength_nm) and wavelength_nm > 0):
        raise LithoInputError(f"--wavelength {wavelength_nm!r}: give a wavelength in nm, e.g. 365")
    target = float(target_nrt)
    if isinstance(film, str):
        film = materials.resolve("film", {"material": film}, source="--film")
    if isinstance(developer, str):
        developer = materials.resolve("developer", {"material": developer}, source="--developer")
    if not isinstance(atmosphere, Atmosphere):
        atmosphere = parse_atmosphere(atmosphere, source="--atmosphere")
    try:
        film.absorption_length_nm(wavelength_nm)
    except LithoInputError as err:
        raise LithoInputError(f"--wavelength {wavelength_nm:g}: {err}") from None

    candidates = [materials.resolve("crosslinker", {"material": name}) for name in materials.names("crosslinker")]
    candidates = [xl for xl in candidates if xl.has_absorption(wavelength_nm)]
    if not candidates:
        raise LithoInputError(f"--wavelength {wavelength_nm:g}: no library crosslinker has absorption data there")
    rows = []
    for xl in candidates:
        curve = contrast_curve(film, xl, developer, atmosphere, float(wavelength_nm))
        nrt_max = float(np.max(curve.nrt))
        dose = _crossing(curve.doses, curve.nrt, target) if nrt_max >= target else float("nan")
        plqy = float("nan")
        if math.isfinite(dose):
            plqy = float(develop([(float(wavelength_nm), np.array([dose]))], film, xl, developer,
                                 atmosphere).plqy_retention[0])
        tethered = xl.tethered
        rows.append(ScreenRow(
            crosslinker=xl.name, mechanism=xl.mechanism, kind="switch" if _is_switch(xl) else "crosslinker",
            loading=xl.loading_mol_pct if tethered else xl.loading_wt_pct, loading_unit="mol%" if tethered else "wt%",
            reaches_target=math.isfinite(dose), dose_mj_cm2=dose, plqy_retention=plqy, nrt_max=nrt_max,
            d0_mj_cm2=curve.d0, d50_mj_cm2=curve.d50, d100_mj_cm2=curve.d100, gamma=curve.gamma,
            gamma_iupac=curve.gamma_iupac))
    rows.sort(key=lambda r: (0, -r.plqy_retention, r.dose_mj_cm2) if r.reaches_target else (1, -r.nrt_max, 0.0))
    return rows
