"""The figure of films over pixel-define-layer banks: a cross-section through the banks.

One cut along x through the middle of the first row of openings:

- top: the substrate (banks, grey) with each step's coated film and its
  developed film drawn on it, the film thickness magnified by a stated
  factor so it shows against µm banks;
- bottom: the same films' thickness along the cut, nm: coated h0 (dashed)
  and developed h/h0·h0 (solid), per step in its colour, the PDL openings
  shaded.

In the litho figure style (:mod:`litho.plot`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["pdl_cross_section_figure", "cut_y_um"]


def cut_y_um(result) -> float:
    """The y of the cut: the middle of the lowest row of PDL openings, µm."""
    openings = result.steps[0].coating.substrate.openings
    if not openings:
        return float(np.mean(result.steps[0].grid.y_um))
    lowest = min(openings, key=lambda o: o.centroid.y)
    return float(lowest.centroid.y)


def pdl_cross_section_figure(result, *, y_um: float | None = None, magnify: float | None = None):
    """Cross-section of substrate, coated and developed films of every step of ``result``.

    Parameters
    ----------
    result : litho.process.Result
        A simulation of a recipe with a ``[substrate]`` section.
    y_um : float, optional
        y of the cut, µm (default :func:`cut_y_um`).
    magnify : float, optional
        Factor on the film thickness in the top panel (default: the largest
        1, 2 or 5 × 10^k that keeps the thickest film within a quarter of the bank height).

    Returns
    -------
    matplotlib Figure
    """
    from . import plot
    from .errors import LithoInputError

    steps = [s for s in result.steps if getattr(s, "coating", None) is not None]
    if not steps:
        raise LithoInputError("cross-section: the recipe has no [substrate] banks")
    grid = steps[0].grid
    y = cut_y_um(result) if y_um is None else float(y_um)
    row = int(np.clip(np.round((y - grid.origin_um[1]) / grid.pixel_um - 0.5), 0, grid.shape[0] - 1))
    x = grid.x_um
    substrate = steps[0].coating.substrate
    bank_um = substrate.height_um[row]
    coated_nm = [s.coating.thickness_nm[row] for s in steps]
    developed_nm = [s.remaining_thickness[row] * s.coating.thickness_nm[row] for s in steps]
    height = substrate.spec.bank_height_um
    thickest_um = max(float(c.max()) for c in coated_nm) * 1e-3
    if magnify is None:
        magnify = plot.nice_length(5 * 0.25 * height / thickest_um) if height > 0 and thickest_um > 0 else 1.0
        magnify = max(float(magnify), 1.0)

    fig = plot.figure(7.0, 4.6)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.1, 1.0]})
    top.fill_between(x, 0.0, bank_um, color="0.75", lw=0, label="PDL bank")
    top.plot(x, bank_um, color="0.35", lw=0.8)
    # film of each step drawn on the bank: each coats the bare substrate (litho.topography)
    for k, s in enumerate(steps):
        colour = plot._colour(s, k)
        top.plot(x, bank_um + magnify * coated_nm[k] * 1e-3, color=colour, lw=0.8, ls="--",
                 label=f"{s.name} coated (dashed)")
        top.fill_between(x, bank_um, bank_um + magnify * developed_nm[k] * 1e-3, color=colour, alpha=0.35, lw=0,
                         label=f"{s.name} developed")
    top.set_ylabel(f"height (µm), film ×{magnify:g}")
    top.set_ylim(bottom=0.0)
    top.legend(ncol=min(4, 1 + 2 * len(steps)), loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=6.5)
    opening = bank_um <= 1e-9
    for ax in (top, bottom):
        ax.fill_between(x, 0, 1, where=opening, transform=ax.get_xaxis_transform(), color="0.93", lw=0, zorder=-1)
    for k, s in enumerate(steps):
        colour = plot._colour(s, k)
        bottom.plot(x, coated_nm[k], color=colour, lw=0.9, ls="--")
        bottom.plot(x, developed_nm[k], color=colour, lw=1.2, label=s.name)
    bottom.set_ylabel("film thickness (nm)")
    bottom.set_xlabel(f"x (µm), cut at y = {y:.2f} µm")
    bottom.set_ylim(0.0, 1.45 * max(float(c.max()) for c in coated_nm))
    bottom.legend(title="dashed: coated h0, solid: developed", loc="upper center", ncol=len(steps),
                  title_fontsize=7)
    bottom.set_xlim(x[0], x[-1])
    spec = substrate.spec
    plot.title(fig, f"{result.recipe.name}: film over {spec.bank_height_um:g} µm PDL banks "
                    f"({spec.sidewall_deg:g}° sidewalls), levelling length {spec.levelling_length_um:g} µm "
                    f"({spec.levelling_kernel}), solids fraction {spec.solids_fraction:g}")
    return fig
