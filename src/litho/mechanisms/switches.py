"""Solubility switches: light strips, destroys or neutralises the native ligand shell (DOMAIN.md §1).

Besides crosslinking, three photochemistries make a QD film insoluble
(negative tone) without joining QDs by bonds: they take away what keeps the
QDs dispersed, so the exposed film flocculates and the developer no longer
dissolves it.

- ``ligand-decomposition``: the photoactive group *is* the ligand
  (1,2,3,4-thiatriazole-5-thiolate at 254 nm; dithiocarbamates, xanthates,
  thiooxalates out to 450 nm); a photolysed ligand fragments and leaves the
  surface (Wang et al., Science 2017, "DOLFIN").
- ``ligand-desorption``: a photoacid generator in the ink releases H⁺, which
  protonates the native carboxylate/amine ligands; the neutral acid desorbs
  (triphenylchloromethane strips ligands the same way, by abstraction).
- ``ligand-binding``: a photogenerated species binds to the charged surface
  sites of electrostatically stabilised QDs and neutralises the charge that
  keeps them apart.

Each runs the same two steps:

1. photolysis, one hit per photogroup: p_a = 1 − exp(−x), x = Σ_λ C_λ·E_λ,
   C = 1.925e-8·ε·Φ·λ (:func:`litho.mechanisms.base.activation_constant_cm2_mj`);
   q = η·p_a of the groups remove (or neutralise) a native ligand site,
   with η the mechanism's removal yield;
2. coverage θ of the native ligand shell. A tethered photoactive ligand is
   the ligand itself: θ = 1 − (N/L)·q (N photoactive ligands of L per QD),
   the analytic one-hit curve. A free additive's N·q products per QD land
   on random sites of the L, some on a site already lost: θ = exp(−N·q/L).

The QD loses colloidal stability once θ falls below θ_c (a mechanism
constant). The film's composition scatters from region to region about its
mean, by the same log-normal X (mean 1, σ = the film's
``crosslink_dispersion``) that smooths gelation. It scatters the number of
removal events per ligand site, m = −ln θ (for a free additive exactly its
local density; for an exchanged ligand the same scatter of how far the
exchange went), so a region is insoluble where m·X ≥ m_c = −ln θ_c, with
probability P(X ≥ m_c/m) = ½·erfc((ln(m_c/m) + σ²/2)/(σ√2)). A column is
undercut when its bottom dissolves; with X shared through the column's depth
its insoluble part at depth z is P(X ≥ m_c/min(m(z), m_bottom)).

Development asks the mechanism for this insoluble fraction
(:meth:`SolubilitySwitch.insoluble_response`) in place of a gel fraction.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc

from .base import Mechanism, register
from .constants import Constants, library_constants

__all__ = ["SolubilitySwitch", "LigandDecomposition", "LigandDesorption", "LigandBinding",
           "ligand_coverage", "insoluble_probability"]


def ligand_coverage(removed_fraction, photoactive_per_ligand: float, tethered: bool):
    """θ, the native-ligand coverage left, from the removing fraction q of the photogroups.

    Parameters
    ----------
    removed_fraction : array_like
        q = η·p_a, photogroups that have removed (or neutralised) a ligand site.
    photoactive_per_ligand : float
        N/L, photoactive groups per native ligand site of a QD.
    tethered : bool
        True when the photogroup is the ligand itself (θ = 1 − (N/L)·q);
        False for a free additive whose products hit random sites (θ = exp(−N·q/L)).
    """
    q = np.asarray(removed_fraction, dtype=np.float64)
    if tethered:
        return np.clip(1.0 - photoactive_per_ligand * q, 0.0, 1.0)
    return np.exp(-photoactive_per_ligand * q)


def insoluble_probability(removal_events_per_site, threshold_coverage: float, dispersion: float):
    """P(insoluble) = P(m·X ≥ −ln θ_c), X log-normal with mean 1 and log-σ ``dispersion``.

    ``removal_events_per_site`` is m = −ln θ (any shape); σ = 0 is the sharp
    step at θ = θ_c.
    """
    m = np.asarray(removal_events_per_site, dtype=np.float64)
    if threshold_coverage >= 1.0:
        return np.ones_like(m)
    m_c = -math.log(max(threshold_coverage, 1e-300))
    if dispersion <= 1e-6:
        return (m >= m_c).astype(np.float64)
    with np.errstate(divide="ignore"):
        log_a = math.log(m_c) - np.log(np.maximum(m, 1e-300))
    return 0.5 * erfc((log_a + 0.5 * dispersion ** 2) / (dispersion * math.sqrt(2.0)))


class SolubilitySwitch(Mechanism):
    """A mechanism that makes QDs insoluble by taking their ligand shell away, not by linking them.

    Mechanism constants (``mechanisms.toml`` section = the mechanism's name):
    ``quantum_yield`` Φ of the photogroup, ``removal_yield`` η (ligand sites
    removed per photolysed group), ``coverage_threshold`` θ_c.
    """

    #: Development uses :meth:`insoluble_response` instead of a gel fraction.
    solubility_switch = True

    def branching(self, structure, k: Constants):
        # Fragmentation and proton transfer are fast ionic/excited-state steps: no O2-quenched path.
        return k[f"{self.section}.removal_yield"], 1.0, 0.0, 0.0

    def derive(self, structure, k: Constants):
        out = super().derive(structure, k)
        out["insertion_yield"] = (k[f"{self.section}.removal_yield"],
                                  self._src(k, f"{self.section}.removal_yield") + ": ligand sites removed per "
                                  "photolysed group")
        out["singlet_fraction"] = (1.0, f"mechanism {self.name}: no O2-quenched intermediate")
        return out

    def coverage_threshold(self, constants: Constants | None = None) -> float:
        """θ_c below which the QDs lose colloidal stability."""
        return (constants or library_constants())[f"{self.section}.coverage_threshold"]

    def coverage(self, bonded_fraction, crosslinker, film):
        """θ at each point from q (``Crosslinking.bonded_fraction``)."""
        from ..chemistry import molecules_per_qd

        per_ligand = molecules_per_qd(crosslinker, film) / max(film.ligands_per_qd, 1e-300)
        return ligand_coverage(bonded_fraction, per_ligand, crosslinker.tethered)

    def insoluble_response(self, bonded_fraction, crosslinker, film, constants: Constants | None = None):
        """(insoluble fraction, kept, survival) at each depth (axis 0), as development's gel step returns.

        ``kept`` is what stays of each depth once undercut columns have lifted
        off (X shared through the column), so the survival returned is 1.
        """
        theta = self.coverage(bonded_fraction, crosslinker, film)
        m = -np.log(np.maximum(theta, 1e-300))
        theta_c = self.coverage_threshold(constants)
        sigma = float(film.crosslink_dispersion)
        insoluble = insoluble_probability(m, theta_c, sigma)
        # the column keeps depth z only where both z and the bottom are insoluble: X ≥ m_c/min(m(z), m_bottom)
        kept = insoluble_probability(np.minimum(m, m[-1:]), theta_c, sigma)
        return insoluble, kept, np.ones_like(insoluble)


class LigandDecomposition(SolubilitySwitch):
    name = section = "ligand-decomposition"


class LigandDesorption(SolubilitySwitch):
    name = section = "ligand-desorption"


class LigandBinding(SolubilitySwitch):
    name = section = "ligand-binding"


for _mechanism in (LigandDecomposition(), LigandDesorption(), LigandBinding()):
    register(_mechanism)
