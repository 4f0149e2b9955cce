"""Contact modes of a mask aligner and the effective gap each one leaves.

A mask aligner never puts the mask in perfect contact with the film: wafer
bow, mask sag, particles and the edge bead leave an air gap that varies over
the wafer, smallest when the space between mask and wafer is pumped out
(vacuum contact), larger when the wafer is only pressed against the mask
(hard contact) or brought up to it (soft contact). litho models each mode as
one *effective* air gap g between the absorber and the film top, and then
images exactly as in proximity printing (PHYSICS.md §2, DOMAIN.md §3b).

Where the gaps come from. Tool documentation and lab practice quote the
resolution b a mode reaches, not its gap. The textbook scaling of
shadow printing, b ≈ 1.5·√(λ·g) (PHYSICS.md §2 with the film term left out;
the standard estimate of microfabrication texts, e.g. Madou, *Fundamentals of
Microfabrication*), inverts to

    g = (b / 1.5)² / λ

and each mode's gap below is that inversion at the wavelength the resolution
is quoted for, 365 nm (the MA6 is an i-line tool: UC Berkeley Marvell
Nanolab manual 4.24, "Karl Suss MA6 Mask Aligner"). It is a derivation from
a source, not a value tuned to a litho result. The resolution specs are
measured in thin resists, whose own depth (≲ 1 µm) is lumped into g, so these
gaps are upper estimates of the mechanical air gap by at most about h/(2n).

=============  ==========  ==========  ============================================
mode           b (µm)      g (µm)      source of b
=============  ==========  ==========  ============================================
vacuum         1.0         1.22        MEMS Exchange process catalog P1530 (Karl
                                       Suss MA6): "1 µm resolution is available
                                       only in the vacuum contact mode"
hard           1.5         2.74        lab practice, 1–2 µm in hard contact with
                                       thin resists (est., DOMAIN.md §3b); midpoint
soft           2.5         7.61        lab practice, 2–3 µm in soft contact with
                                       thin resists (est., DOMAIN.md §3b); midpoint
=============  ==========  ==========  ============================================

Hard contact is the default: it is what an aligner's standard program does
and what most papers mean by "contact exposure" without a qualifier. The MA6
also has a low-vacuum contact program, between vacuum and hard; no resolution
is documented for it, so ``contact_mode = "low-vacuum"`` needs the measured
effective gap in ``gap``.

An explicit ``gap`` with ``tool = "contact"`` is the effective gap itself
(for example one measured from a printed line/space ladder). It must lie in
(0, SOFT]: zero would be a perfect contact that no aligner makes, and a gap
wider than soft contact's is proximity printing (``tool = "proximity"``),
which litho then asks for by name.

Mask absorber. The chrome (about 100 nm, ``absorber_thickness_nm``) is
treated as a thin mask: the transmission is imposed at the glass/chrome
interface and the field then travels through the depth of the chrome opening
(in the gap medium) before the gap proper, so the absorber adds its thickness
to the propagation distance. The gaps above come from measured resolution and
already contain a real mask's absorber; give ``absorber_thickness_nm`` with
an explicit gap, or in proximity printing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import LithoInputError

#: Wavelength at which the mode resolutions are quoted (Hg i-line), nm.
REFERENCE_WAVELENGTH_NM = 365.0
#: Prefactor of the shadow-printing resolution rule b ≈ k·√(λ g) (PHYSICS.md §2).
RESOLUTION_PREFACTOR = 1.5


@dataclass(frozen=True)
class ContactMode:
    """One contact program: its documented resolution and the effective gap derived from it.

    Attributes
    ----------
    name : str
    resolution_um : float
        Smallest feature the mode prints in thin resist at ``REFERENCE_WAVELENGTH_NM``, µm.
    source : str
        Where the resolution comes from.
    """

    name: str
    resolution_um: float | None
    source: str

    @property
    def gap_um(self) -> float | None:
        """Effective air gap g = (b/1.5)²/λ, µm (module docstring); None without a documented resolution."""
        if self.resolution_um is None:
            return None
        return (self.resolution_um / RESOLUTION_PREFACTOR) ** 2 / (REFERENCE_WAVELENGTH_NM * 1e-3)


CONTACT_MODES: dict[str, ContactMode] = {
    "vacuum": ContactMode("vacuum", 1.0, "MEMS Exchange process catalog P1530, Karl Suss MA6: 1 um "
                                         "resolution only in vacuum contact"),
    "hard": ContactMode("hard", 1.5, "lab practice 1-2 um in hard contact with thin resists (est.; "
                                     "docs/contact_printing.md), midpoint"),
    "soft": ContactMode("soft", 2.5, "lab practice 2-3 um in soft contact with thin resists (est.; "
                                     "docs/contact_printing.md), midpoint"),
    "low-vacuum": ContactMode("low-vacuum", None, "MEMS Exchange P1530 lists the program; no resolution "
                                                  "documented, so the effective gap must be given"),
}
DEFAULT_CONTACT_MODE = "hard"
#: Widest effective gap litho calls contact: soft contact's.
MAX_CONTACT_GAP_UM = CONTACT_MODES["soft"].gap_um


def contact_mode(name, field: str = "contact_mode") -> ContactMode:
    """The :class:`ContactMode` called ``name`` (case-insensitive), or a one-line error naming ``field``."""
    from ..fields import show

    key = name.strip().lower() if isinstance(name, str) else None
    if key not in CONTACT_MODES:
        raise LithoInputError(f"{field} = {show(name)}: must be one of {', '.join(CONTACT_MODES)}")
    return CONTACT_MODES[key]


def check_contact_gap(gap_um: float, field: str) -> float:
    """An explicit effective gap for ``tool = "contact"``: in (0, MAX_CONTACT_GAP_UM] µm, else a one-line error."""
    if not (isinstance(gap_um, (int, float)) and not isinstance(gap_um, bool) and math.isfinite(gap_um)):
        from ..fields import show

        raise LithoInputError(f"{field} = {show(gap_um)} is not a number of µm")
    limit = MAX_CONTACT_GAP_UM
    if gap_um <= 0:
        raise LithoInputError(
            f"{field} = {gap_um:g} um with tool = \"contact\": no aligner makes a perfect contact; leave gap out "
            f"to use the contact mode's effective gap (contact_mode = \"{DEFAULT_CONTACT_MODE}\": "
            f"{CONTACT_MODES[DEFAULT_CONTACT_MODE].gap_um:.2f} um) or give the measured effective gap "
            f"(0 < gap <= {limit:.2f} um)")
    if gap_um > limit * (1 + 1e-9):
        raise LithoInputError(
            f"{field} = {gap_um:g} um with tool = \"contact\": wider than soft contact's effective gap "
            f"({limit:.2f} um), so this is proximity printing; use tool = \"proximity\" with gap = \"{gap_um:g} um\"")
    return float(gap_um)
