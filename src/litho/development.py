"""Development: crosslinks -> gel -> what the developer leaves (PHYSICS.md §5).

At each point (x, y) the film is sampled at a handful of depths z (top to
bottom, the bottom always included; :func:`litho.film.depth_samples_nm`).
There:

1. the local dose of each line is the incident dose × f_λ(z) (litho.film);
2. crosslinks per QD c(z) follow from the photochemistry (litho.chemistry);
3. the gel fraction g(z) from c: Flory mean field g = 1 − exp(−c·g)
   (gel point c = 1), a z-neighbour lattice, or Charlesby–Pinner in dose;
4. the developer dissolves the sol, leaving u = exp(−t/τ_dev) of it
   undissolved (residue when development is short); a gel looser than
   g_th swells and lifts off, survival S(g) = 1/(1 + exp(−(g − g_th)/w));
   a column whose bottom gel does not survive is undercut and lifts off:

       h/h₀ = u + (1 − u) · S(g_bottom) · ⟨g(z)·S(g(z))⟩_z

   The local crosslink density scatters about its mean (crosslinker and QDs
   do not mix perfectly): with the film's ``crosslink_dispersion`` σ, g, g·S
   and S are averaged over c·X, X log-normal of mean 1 (tabulated once).

   Every factor rises with dose, so h/h₀ never decreases with dose.
5. PLQY retention (litho.luminescence) from the photons the QDs absorbed
   and the side products of the activated photogroups.

Everything is vectorised over the dose arrays: a 1000 × 1000 exposure with
five depth samples develops in well under a second.

Examples
--------
>>> import numpy as np
>>> from litho import materials
>>> from litho.chemistry import parse_atmosphere
>>> film = materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 30})
>>> xl = materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 2})
>>> dev = materials.resolve("developer", {"material": "toluene"})
>>> out = develop([(254.0, np.array([0.0, 3.0, 30.0]))], film, xl, dev, parse_atmosphere("N2"))
>>> bool(out.remaining_thickness[0] < 0.01 < 0.9 < out.remaining_thickness[2])
True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from . import mechanisms
from .chemistry import (Atmosphere, check_wavelengths, crosslink, effective_activation_constant, insertion_yield,
                        molecules_per_qd, parse_atmosphere)
from .dose import LocalDose, uniform_local_dose
from .errors import LithoInputError
from .luminescence import plqy_retention
from .materials import Crosslinker, Developer, Film

__all__ = [
    "Developed", "develop", "ContrastCurve", "contrast_curve", "flory_gel_fraction",
    "lattice_gel_fraction", "charlesby_pinner_gel_fraction", "swelling_survival", "gel_response",
    "remaining_thickness", "default_dose_range", "ResponseTable", "response_table",
]


# --------------------------------------------------------------------------- gelation

_FLORY_C_MAX = 50.0   # beyond, g = 1 − e^{−c} to machine precision
_FLORY_LOG_MIN, _FLORY_LOG_MAX, _FLORY_N = math.log(1e-9), math.log(_FLORY_C_MAX - 1.0), 8192


@functools.cache
def _flory_table() -> np.ndarray:
    """g on a grid uniform in log(c − 1), from Lambert W: g = 1 + W₀(−c·e^{−c})/c."""
    from scipy.special import lambertw

    c = 1.0 + np.exp(np.linspace(_FLORY_LOG_MIN, _FLORY_LOG_MAX, _FLORY_N))
    return 1.0 + lambertw(-c * np.exp(-c)).real / c


def flory_gel_fraction(crosslinks_per_qd):
    """Mean-field (Flory / Erdős–Rényi) gel fraction: the root g > 0 of g = 1 − exp(−c·g).

    Parameters
    ----------
    crosslinks_per_qd : array_like
        c, mean number of inter-QD links each QD takes part in.

    Returns
    -------
    ndarray
        g in [0, 1); 0 for c ≤ 1 (the gel point is c = 1).

    Notes
    -----
    Exact solution g = 1 + W₀(−c·e^{−c})/c for c > 1 (Lambert W). Evaluating
    W on millions of points is slow, so it is tabulated once (uniform in
    log(c − 1), so the lookup is arithmetic, not a search), interpolated, and
    polished by one Newton step on F(g) = g − 1 + e^{−cg}, which squares the
    interpolation error (residual < 1e-12).
    """
    c = np.asarray(crosslinks_per_qd, dtype=np.float64)
    g = np.zeros(c.shape)
    above = c > 1.0           # only gelled points need solving (often a minority of a mask)
    cc = c[above]
    table = _flory_table()
    pos = (np.log(np.clip(cc - 1.0, 1e-9, _FLORY_C_MAX - 1.0)) - _FLORY_LOG_MIN) * (
        (_FLORY_N - 1) / (_FLORY_LOG_MAX - _FLORY_LOG_MIN))
    i = np.minimum(pos.astype(np.int64), _FLORY_N - 2)
    frac = pos - i
    ga = table[i] + frac * (table[i + 1] - table[i])
    tiny = cc - 1.0 < 1e-9    # g ≈ 2(c − 1) next to the gel point
    if tiny.any():
        ga[tiny] = 2.0 * (cc[tiny] - 1.0)
    e = np.exp(-cc * ga)
    fp = 1.0 - cc * e
    ok = fp > 1e-12
    ga = np.where(ok, ga - (ga - 1.0 + e) / np.where(ok, fp, 1.0), ga)
    big = cc > _FLORY_C_MAX
    if big.any():
        ga[big] = -np.expm1(-cc[big])
    g[above] = np.clip(ga, 0.0, 1.0)
    return g


@functools.cache
def _lattice_table(z: float) -> tuple[np.ndarray, np.ndarray]:
    p_c = 1.0 / (z - 1.0)
    c_gel = -z * math.log1p(-p_c)
    c = np.concatenate([np.linspace(0.0, c_gel, 2), c_gel + np.geomspace(1e-7, 200.0, 4000)])
    p = -np.expm1(-c / z)
    # Smallest root Q in [0, 1] of Q = (1 − p + pQ)^{z−1}: iterate from 0 (monotone convergence),
    # then finish with bisection-safe Newton steps.
    q = np.zeros_like(p)
    for _ in range(200):
        q = (1.0 - p + p * q) ** (z - 1.0)
    for _ in range(60):
        f = (1.0 - p + p * q) ** (z - 1.0) - q
        fp = (z - 1.0) * p * (1.0 - p + p * q) ** (z - 2.0) - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(np.abs(fp) > 1e-9, f / fp, 0.0)
        q = np.clip(q - step, 0.0, 1.0)
    sol = (1.0 - p + p * q) ** z
    g = np.where(c > c_gel, 1.0 - sol, 0.0)
    return c, g


def lattice_gel_fraction(crosslinks_per_qd, neighbours: float = 8.0):
    """Gel fraction on a Bethe lattice of z neighbours (PHYSICS.md §5).

    Each of a QD's z contacts is bonded with p = 1 − e^{−c/z}; the chance Q
    that a branch is finite solves Q = (1 − p + pQ)^{z−1}, the sol fraction is
    s = (1 − p + pQ)^z; gel point p_c = 1/(z − 1). Tabulated per z and interpolated.
    """
    c = np.asarray(crosslinks_per_qd, dtype=np.float64)
    table_c, table_g = _lattice_table(float(neighbours))
    return np.interp(c, table_c, table_g, left=0.0, right=float(table_g[-1]))


def charlesby_pinner_gel_fraction(dose_mj_cm2, gel_dose_mj_cm2: float, p0_over_q0: float):
    """Empirical Charlesby–Pinner gel fraction (PHYSICS.md §5).

    s + √s = p₀/q₀ + (2 − p₀/q₀)·D_g/E for E > D_g (s = 1 below); solved
    for √s as the positive root of u² + u − K = 0. Returns g = 1 − s.
    """
    e = np.asarray(dose_mj_cm2, dtype=np.float64)
    with np.errstate(divide="ignore"):
        k = p0_over_q0 + (2.0 - p0_over_q0) * gel_dose_mj_cm2 / np.maximum(e, 1e-300)
    u = (-1.0 + np.sqrt(1.0 + 4.0 * k)) / 2.0
    s = np.where(e > gel_dose_mj_cm2, np.minimum(u * u, 1.0), 1.0)
    return 1.0 - s


def swelling_survival(gel_fraction, developer: Developer):
    """Fraction of the gel that survives swelling in the developer, S(g).

    A loose gel (few links per QD) swells in a good solvent until it tears
    and lifts off; the threshold g_th varies from QD to QD by about w, so the
    survival is a logistic step 1/(1 + exp(−(g − g_th)/w)).
    """
    g = np.asarray(gel_fraction, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh((g - developer.swelling_gel_threshold) / (2.0 * developer.swelling_width)))


def _gel_of_c(c, developer: Developer):
    if developer.gelation == "lattice":
        return lattice_gel_fraction(c, developer.lattice_neighbours)
    return flory_gel_fraction(c)


_DISPERSION_LOG_C = (math.log(1e-4), math.log(1e4), 8192)


@functools.lru_cache(maxsize=32)   # a global fit visits many σ: bound the memory
def _dispersed_tables(gelation: str, neighbours: float, sigma: float, threshold: float, width: float):
    """Tables over log c of E_X[g], E_X[g·S], E_X[S] for c·X, X log-normal with mean 1.

    With u = ln X ~ Normal(−σ²/2, σ²), E_X[f(c·X)] is the convolution of f
    (on a uniform grid in ln c) with that Gaussian: computed once, exactly on
    the grid, smooth through the gel point's kink.
    """
    lo, hi, n = _DISPERSION_LOG_C
    h = (hi - lo) / (n - 1)
    shift = sigma * sigma / 2.0
    m = int(math.ceil((7.0 * sigma + shift) / h)) + 1
    log_c = lo + h * np.arange(-m, n + m)
    dev = Developer(name="", solvent="", dissolution_time_s=1.0, swelling_gel_threshold=threshold,
                    swelling_width=width, gelation=gelation, lattice_neighbours=neighbours)
    g = _gel_of_c(np.exp(log_c), dev)
    survive = swelling_survival(g, dev)
    u = h * np.arange(-m, m + 1)
    kernel = np.exp(-0.5 * ((u + shift) / sigma) ** 2)
    kernel /= kernel.sum()
    # E[f(ln c + u)] = Σ_j w_j f(ln c + u_j): a correlation, i.e. a convolution with the reversed kernel
    import scipy.fft

    size = scipy.fft.next_fast_len(log_c.size + kernel.size - 1)
    kernel_ft = scipy.fft.rfft(kernel[::-1], size)

    def smooth(f):   # "valid" part of the convolution, by FFT
        full = scipy.fft.irfft(scipy.fft.rfft(f, size) * kernel_ft, size)
        return full[kernel.size - 1: log_c.size]

    return smooth(g), smooth(g * survive), smooth(survive)


def gel_response(crosslinks_per_qd, developer: Developer, dispersion: float = 0.0):
    """Gel fraction, surviving gel and survival probability at the given mean c.

    With ``dispersion`` σ > 0 the local crosslink density is c·X, X log-normal
    with mean 1 (the film's ``crosslink_dispersion``), and each quantity is
    its average over X, tabulated once per setting (a Gaussian convolution in
    ln c) and interpolated; σ = 0 is the exact local model.

    Returns
    -------
    gel_fraction, kept, survival : ndarray
        ⟨g⟩, ⟨g·S(g)⟩, ⟨S(g)⟩.
    """
    c = np.asarray(crosslinks_per_qd, dtype=np.float64)
    if dispersion <= 1e-3:
        g = _gel_of_c(c, developer)
        survive = swelling_survival(g, developer)
        return g, g * survive, survive
    tables = _dispersed_tables(developer.gelation, float(developer.lattice_neighbours), float(dispersion),
                               float(developer.swelling_gel_threshold), float(developer.swelling_width))
    lo, hi, n = _DISPERSION_LOG_C
    pos = (np.log(np.clip(c, math.exp(lo), math.exp(hi))) - lo) * ((n - 1) / (hi - lo))
    i = np.minimum(pos.astype(np.int64), n - 2)
    frac = pos - i
    out = []
    for table in tables:
        value = table[i] + frac * (table[i + 1] - table[i])
        out.append(np.where(c <= math.exp(lo), 0.0, value))
    return tuple(out)


def remaining_thickness(kept_depth, survival_bottom, depth_weights, developer: Developer):
    """h/h₀ from the surviving gel at each depth (axis 0) and the bottom's survival.

    h/h₀ = u + (1 − u)·S_bottom·Σ_z w_z·kept(z), u = exp(−t/τ_dev) the sol
    left undissolved, kept(z) = g·S(g) the gel that survives swelling.
    """
    kept = np.asarray(kept_depth, dtype=np.float64)
    w = np.asarray(depth_weights, dtype=np.float64).reshape((-1,) + (1,) * (kept.ndim - 1))
    undissolved = math.exp(-developer.time_s / developer.dissolution_time_s)
    return undissolved + (1.0 - undissolved) * survival_bottom * np.sum(w * kept, axis=0)


# --------------------------------------------------------------------------- tabulated response

#: Log-grid step of the response table in ln x (x = Σ_λ C_λ E_λ, the activation exponent).
#: Linear interpolation errs by ≈ step²/8 × |d²f/d(ln x)²|; the steepest case is a film without
#: crosslink dispersion just above its gel point (g rises fast into a narrow swelling
#: threshold): 2e-3 errs there by 4e-5, 5e-4 by 3e-6 (1.3e-6 on every shipped recipe),
#: within the 1e-5 that tests/test_development.py asks. 64k nodes, built in ~0.1 s.
TABLE_LOG_STEP = 5e-4
#: The table spans x in [TABLE_X_MIN, TABLE_X_MAX]; below, nothing gels (the outputs are their
#: x → 0 limits to < 1e-9), above, every photogroup is spent (e^{-x} < 1e-40 for any rate ≥ 0.01).
TABLE_X_MIN, TABLE_X_MAX = 1e-10, 1e4


@dataclass(frozen=True)
class ResponseTable:
    """The development outputs of one step as functions of the activation exponent x.

    Everything develop() derives from the local dose goes through
    x = Σ_λ C_λ·E_λ(z, y, x) at each depth sample and point (photolysis,
    bonding, branching, gel, swelling survival: :func:`litho.chemistry.crosslink`,
    :func:`gel_response`), and none of it couples points or depths until the
    depth average. So the table is in x per voxel, the one quantity that is
    pointwise for any number of lines and any depth profile (the depth-resolved
    film makes h/h₀ itself a function of a whole dose profile, not of one number).
    h/h₀ = u + (1 − u)·S(x_bottom)·Σ_z w_z·kept(x_z) is then formed from the
    looked-up kept and S, and the time-dependent u outside the table, so a
    developer-time sweep reuses it.

    The grid is uniform in ln x and has a node at the gel point (where
    kept and g have a kink when the crosslink density does not scatter),
    so linear interpolation is second order everywhere.
    """

    log_x0: float
    inv_step: float
    kept: np.ndarray
    survival: np.ndarray
    gel_fraction: np.ndarray
    crosslinks_per_qd: np.ndarray

    def lookup(self, exponent, *names: str):
        """Interpolated ``names`` (of kept, survival, gel_fraction, crosslinks_per_qd) at ``exponent``."""
        x = np.asarray(exponent, dtype=np.float64)
        n = self.kept.size
        with np.errstate(divide="ignore"):
            pos = (np.log(np.maximum(x, TABLE_X_MIN)) - self.log_x0) * self.inv_step
        np.clip(pos, 0.0, n - 1.0, out=pos)
        i = np.minimum(pos.astype(np.intp), n - 2)
        frac = pos - i
        out = []
        for name in names:
            table = getattr(self, name)
            lo = table[i]
            out.append(lo + frac * (table[i + 1] - lo))
        return out


def _direct_response(x, film: Film, crosslinker: Crosslinker, developer: Developer, atmosphere: Atmosphere):
    """c, g, kept, S at activation exponents ``x``, evaluated directly (the table's source)."""
    from . import mechanisms
    from .chemistry import flory_equivalent_links

    mech = mechanisms.get(crosslinker.mechanism)
    bonded = mech.bond_yield(crosslinker, film, atmosphere) * mech.reactive_fraction(x, crosslinker)
    # the same c as litho.chemistry.crosslink: exact hypergraph gelation for n >= 3 arms
    c = flory_equivalent_links(bonded, crosslinker, film)
    g, kept, survive = gel_response(c, developer, film.crosslink_dispersion)
    return c, g, kept, survive


def _gel_point_exponent(film, crosslinker, developer, atmosphere) -> float | None:
    """x at the gel point (where c reaches its critical value), or None when it is never reached."""
    if developer.gelation == "lattice":
        z = float(developer.lattice_neighbours)
        c_star = -z * math.log1p(-1.0 / (z - 1.0))
    else:
        c_star = 1.0
    lo, hi = math.log(TABLE_X_MIN), math.log(TABLE_X_MAX)

    def c_of(log_x):
        return float(_direct_response(np.array([math.exp(log_x)]), film, crosslinker, developer, atmosphere)[0][0])

    if c_of(hi) <= c_star or c_of(lo) >= c_star:
        return None
    for _ in range(80):   # bisection in ln x: c rises with x
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if c_of(mid) < c_star else (lo, mid)
    return 0.5 * (lo + hi)


@functools.lru_cache(maxsize=64)
def response_table(film: Film, crosslinker: Crosslinker, developer: Developer,
                   atmosphere: Atmosphere) -> ResponseTable:
    """The :class:`ResponseTable` of a step (cached: a sweep's points share it)."""
    import dataclasses

    developer = dataclasses.replace(developer, time_s=0.0)   # u is applied outside the table
    lo, hi = math.log(TABLE_X_MIN), math.log(TABLE_X_MAX)
    anchor = _gel_point_exponent(film, crosslinker, developer, atmosphere)
    anchor = lo if anchor is None else anchor
    # nodes anchor + k·step, covering [lo, hi]
    k_lo = math.floor((lo - anchor) / TABLE_LOG_STEP)
    k_hi = math.ceil((hi - anchor) / TABLE_LOG_STEP)
    log_x = anchor + TABLE_LOG_STEP * np.arange(k_lo, k_hi + 1)
    c, g, kept, survive = _direct_response(np.exp(log_x), film, crosslinker, developer, atmosphere)
    for a in (c, g, kept, survive):
        a.setflags(write=False)
    return ResponseTable(log_x0=float(log_x[0]), inv_step=1.0 / TABLE_LOG_STEP, kept=kept, survival=survive,
                         gel_fraction=g, crosslinks_per_qd=c)


# --------------------------------------------------------------------------- develop

@dataclass(frozen=True)
class Developed:
    """The developed film.

    Attributes
    ----------
    remaining_thickness : ndarray
        h/h₀ in [0, 1], shape of the dose arrays.
    gel_fraction_bottom : ndarray
        Gel fraction at the film bottom.
    crosslinks_per_qd_bottom : ndarray
        Mean inter-QD links per QD at the film bottom.
    plqy_retention : ndarray
        PLQY of the film left relative to the pristine film's PLQY₀.
    depth_nm : ndarray
        The depth samples (nz,), top = 0.
    retained_fraction_depth : ndarray
        (nz, *shape): fraction of the material at each depth that stays as gel.
    parameters : dict
        Scalars to echo in a report (loading, yields, depth samples, seed...).
    """

    remaining_thickness: np.ndarray
    gel_fraction_bottom: np.ndarray
    crosslinks_per_qd_bottom: np.ndarray
    plqy_retention: np.ndarray
    depth_nm: np.ndarray
    retained_fraction_depth: np.ndarray
    parameters: dict = field(default_factory=dict)


def develop(exposures: LocalDose | Sequence[tuple[float, Any]], film: Film, crosslinker: Crosslinker,
            developer: Developer, atmosphere: Atmosphere | str, *, seed: int | None = None,
            stochastic: bool = False, pixel_um: float | None = None, tabulated: bool = True) -> Developed:
    """Develop an exposed film.

    Parameters
    ----------
    exposures : LocalDose or sequence of (wavelength_nm, dose_mj_cm2 array)
        The film stage's local dose E(z, y, x) per line
        (:func:`litho.dose.local_dose`, from the images inside the film), or,
        for an image that is the same at every depth (open frame, contrast
        curve, calibration), the incident dose at the film top per line
        (recipe dose × line weight × intensity), mJ/cm², arrays of any
        common shape (:func:`litho.dose.uniform_local_dose`).
    film, crosslinker, developer : litho.materials dataclasses
    atmosphere : Atmosphere or str
        Gas during exposure (``litho.chemistry.parse_atmosphere`` forms).
    seed : int, optional
        Seed of the stochastic option (echoed in ``parameters``).
    stochastic : bool
        Draw Poisson counts of bonded photogroups per voxel (photon and
        activation shot noise together: activations are a thinned Poisson
        process of the absorbed photons), giving edge roughness. Off by default.
    pixel_um : float, optional
        Sample pitch of the dose arrays, µm; sets the voxel size of the
        stochastic option (default: one QD per voxel, the finest scale).
    tabulated : bool
        Look the per-voxel response up in the step's :class:`ResponseTable`
        (h/h₀ within 1e-5 of the direct evaluation, several times faster);
        False evaluates photochemistry and gelation directly. The stochastic
        option and Charlesby–Pinner gelation always evaluate directly.

    Returns
    -------
    Developed
    """
    if not isinstance(atmosphere, Atmosphere):
        atmosphere = parse_atmosphere(atmosphere)
    if isinstance(exposures, LocalDose):
        exposures.check(film)
        check_wavelengths(crosslinker, film, exposures.wavelengths_nm)
    else:
        if not len(exposures):
            raise LithoInputError("develop: no exposure lines given")
        check_wavelengths(crosslinker, film, [float(w) for w, _ in exposures])
        exposures = uniform_local_dose(exposures, film, crosslinker)
    lines = exposures.lines
    depth, weights = exposures.depth_nm, exposures.depth_weights
    local = list(lines)   # (wavelength, local dose (nz, *shape))

    # solubility switches have no gel to tabulate; the stochastic option and Charlesby–Pinner work in dose
    direct = (stochastic or not tabulated or developer.gelation == "charlesby-pinner"
              or getattr(mechanisms.get(crosslinker.mechanism), "solubility_switch", False))
    state = crosslink(local, film, crosslinker, atmosphere) if direct else None
    params: dict[str, Any] = {
        "depth_samples_nm": depth.tolist(),
        "molecules_per_qd": molecules_per_qd(crosslinker, film),
        "activation_constant_cm2_mj": {f"{w:g} nm": effective_activation_constant(crosslinker, film, atmosphere, w)
                                       for w, _ in lines},
        "insertion_yield": insertion_yield(crosslinker, atmosphere, film),
        "crosslink_dispersion": film.crosslink_dispersion,
        "atmosphere": atmosphere.label,
        "dissolved_o2_mm": atmosphere.o2_mm,
        "gelation": developer.gelation,
        "stochastic": bool(stochastic),
        "seed": seed,
    }
    if stochastic:
        rng = np.random.default_rng(seed)
        pitch_nm = film.qd_pitch_nm if pixel_um is None else max(pixel_um * 1e3, film.qd_pitch_nm)
        slab_nm = film.thickness_nm / max(len(depth) - 1, 1)
        qds_per_voxel = film.qd_number_density_per_nm3 * pitch_nm ** 2 * slab_nm
        groups = max(molecules_per_qd(crosslinker, film) * crosslinker.arms * qds_per_voxel, 1e-12)
        counts = rng.poisson(np.clip(state.bonded_fraction, 0.0, 1.0) * groups)
        bonded = np.minimum(counts / groups, 1.0)
        state = crosslink(local, film, crosslinker, atmosphere, bonded_fraction_override=bonded)
        params["qds_per_voxel"] = qds_per_voxel

    switch = mechanisms.get(crosslinker.mechanism)
    if not direct:
        return _develop_tabulated(local, weights, depth, film, crosslinker, developer, atmosphere, params)
    if getattr(switch, "solubility_switch", False):
        # no gel: the mechanism gives the insoluble fraction from the ligand coverage left (litho.mechanisms.switches)
        g, kept, survive = switch.insoluble_response(state.bonded_fraction, crosslinker, film)
    elif developer.gelation == "charlesby-pinner":
        # empirical, in the local dose (no crosslink density behind it)
        g = charlesby_pinner_gel_fraction(sum(d for _, d in local), developer.cp_gel_dose_mj_cm2,
                                          developer.cp_p0_over_q0)
        survive = swelling_survival(g, developer)
        kept = g * survive
    else:
        g, kept, survive = gel_response(state.crosslinks_per_qd, developer, film.crosslink_dispersion)
    nrt = remaining_thickness(kept, survive[-1], weights, developer)
    retention = plqy_retention(local, film, crosslinker, state.activated_per_qd, kept, weights)
    return Developed(
        remaining_thickness=np.clip(nrt, 0.0, 1.0),
        gel_fraction_bottom=g[-1],
        crosslinks_per_qd_bottom=state.crosslinks_per_qd[-1],
        plqy_retention=retention,
        depth_nm=depth,
        retained_fraction_depth=kept,
        parameters=params,
    )


def _develop_tabulated(local, weights, depth, film, crosslinker, developer, atmosphere, params) -> Developed:
    """:func:`develop` through the step's :class:`ResponseTable` (deterministic, Flory or lattice gelation)."""
    exponent = None
    for wavelength_nm, dose in local:   # x = Σ_λ C_λ·E_λ, as litho.chemistry.crosslink forms it
        term = effective_activation_constant(crosslinker, film, atmosphere, wavelength_nm) * dose
        exponent = term if exponent is None else exponent + term
    np.maximum(exponent, 0.0, out=exponent)
    table = response_table(film, crosslinker, developer, atmosphere)
    kept, = table.lookup(exponent, "kept")
    survive_bottom, g_bottom, c_bottom = table.lookup(exponent[-1], "survival", "gel_fraction",
                                                      "crosslinks_per_qd")
    nrt = remaining_thickness(kept, survive_bottom, weights, developer)
    activated_per_qd = molecules_per_qd(crosslinker, film) * crosslinker.arms * -np.expm1(-exponent)
    retention = plqy_retention(local, film, crosslinker, activated_per_qd, kept, weights)
    return Developed(
        remaining_thickness=np.clip(nrt, 0.0, 1.0),
        gel_fraction_bottom=g_bottom,
        crosslinks_per_qd_bottom=c_bottom,
        plqy_retention=retention,
        depth_nm=depth,
        retained_fraction_depth=kept,
        parameters=params,
    )


# --------------------------------------------------------------------------- contrast

@dataclass(frozen=True)
class ContrastCurve:
    """NRT versus dose on an open frame, and its characteristic doses.

    Attributes
    ----------
    doses : ndarray
        Incident doses, mJ/cm².
    nrt : ndarray
        Normalised remaining thickness h/h₀ at each dose.
    plqy_retention : ndarray
        PLQY/PLQY₀ of the film left at each dose.
    d0, d50, d100 : float
        Doses (mJ/cm²) where NRT first reaches ONSET_NRT (onset of retention),
        0.5, and FULL_FRACTION of the curve's plateau (full retention); NaN if
        not reached within the doses.
    gamma : float
        1/log₁₀(D100/D0).
    gamma_iupac : float
        1/(2·log₁₀(D50/D0)) (PHYSICS.md §5).
    """

    doses: np.ndarray
    nrt: np.ndarray
    plqy_retention: np.ndarray
    d0: float
    d50: float
    d100: float
    gamma: float
    gamma_iupac: float


#: NRT that marks the onset of retention (D0).
ONSET_NRT = 0.05
#: Fraction of the plateau NRT that counts as full retention (D100).
FULL_FRACTION = 0.95


def _crossing(doses: np.ndarray, nrt: np.ndarray, level: float) -> float:
    """First dose where a non-decreasing curve reaches ``level`` (interpolated in log dose)."""
    idx = np.nonzero(nrt >= level)[0]
    if idx.size == 0:
        return float("nan")
    i = int(idx[0])
    if i == 0:
        return float(doses[0])
    d0, d1, y0, y1 = doses[i - 1], doses[i], nrt[i - 1], nrt[i]
    if y1 == y0 or d0 <= 0:
        return float(d1)
    t = (level - y0) / (y1 - y0)
    return float(math.exp(math.log(d0) + t * (math.log(d1) - math.log(d0))))


def default_dose_range(film: Film, crosslinker: Crosslinker, atmosphere: Atmosphere | str,
                       wavelength_nm: float, n: int = 241) -> np.ndarray:
    """Log-spaced doses spanning the whole contrast curve: 1e-3 to 1e3 × the dose that activates 63% of the groups at the top."""
    if not isinstance(atmosphere, Atmosphere):
        atmosphere = parse_atmosphere(atmosphere)
    c = effective_activation_constant(crosslinker, film, atmosphere, wavelength_nm)
    scale = 1.0 / c if c > 0 else 1.0
    return np.geomspace(scale * 1e-3, scale * 1e3, n)


def contrast_curve(film: Film, crosslinker: Crosslinker, developer: Developer, atmosphere: Atmosphere | str,
                   wavelength_nm: float | Sequence[tuple[float, float]], doses_mj_cm2=None) -> ContrastCurve:
    """NRT versus dose for an open-frame exposure.

    Parameters
    ----------
    film, crosslinker, developer, atmosphere : as for :func:`develop`
    wavelength_nm : float or sequence of (wavelength_nm, weight)
        A single line, or the lines of a broadband source (weights sum to 1).
    doses_mj_cm2 : array_like, optional
        Incident doses; default :func:`default_dose_range`.

    Returns
    -------
    ContrastCurve
    """
    if isinstance(wavelength_nm, (int, float)):
        lines = [(float(wavelength_nm), 1.0)]
    else:
        lines = [(float(w), float(wt)) for w, wt in wavelength_nm]
    if doses_mj_cm2 is None:
        doses = default_dose_range(film, crosslinker, atmosphere, lines[0][0])
    else:
        doses = np.asarray(doses_mj_cm2, dtype=np.float64).ravel()
    if doses.size < 2 or np.any(doses < 0) or np.any(np.diff(doses) <= 0):
        raise LithoInputError("contrast_curve: doses must be at least two increasing non-negative values")
    out = develop([(w, doses * wt) for w, wt in lines], film, crosslinker, developer, atmosphere)
    nrt = out.remaining_thickness
    if doses_mj_cm2 is None:
        # zoom the default sweep onto the curve: a decade either side of D0 and D100
        low, high = _crossing(doses, nrt, ONSET_NRT), _crossing(doses, nrt, FULL_FRACTION * float(nrt.max()))
        if math.isfinite(low) and math.isfinite(high):
            doses = np.geomspace(low / 10.0, high * 10.0, doses.size)
            out = develop([(w, doses * wt) for w, wt in lines], film, crosslinker, developer, atmosphere)
            nrt = out.remaining_thickness
    d0 = _crossing(doses, nrt, ONSET_NRT)
    d50 = _crossing(doses, nrt, 0.5)
    d100 = _crossing(doses, nrt, FULL_FRACTION * float(nrt.max()))
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = 1.0 / math.log10(d100 / d0) if d100 > d0 else float("nan")
        gamma_iupac = 1.0 / (2.0 * math.log10(d50 / d0)) if d50 > d0 else float("nan")
    return ContrastCurve(doses=doses, nrt=nrt, plqy_retention=out.plqy_retention, d0=d0, d50=d50, d100=d100,
                         gamma=gamma, gamma_iupac=gamma_iupac)
