"""Accuracy of litho's optics defaults against converged references (clear field = 1).

projection  NA 0.5, 365 nm, 0.02 µm pixels, periodic window; conventional σ 0.6
            and annular 0.5/0.8. Reference: Abbe's sum over a source sampled
            every ``--ref-step`` σ with each point's pupil averaged over its
            cell (second-order in the step); its own error is estimated from
            the same sum at twice the step (Richardson: |I_h − I_2h| / 3).
proximity   365 nm, 10 µm gap, 1.5° uniform collimation, 0.2 µm pixels,
            periodic. Reference: a full-size angular-spectrum sum (one
            full-grid inverse FFT per direction, no band limiting) over a
            48 × 96 Gauss rule of the cone, checked against 32 × 64.
masks       a random Manhattan mask, 1:1 lines/spaces, an RGB-stripe cell.

Run:  python benchmarks/bench_accuracy.py [--size 512] [--ref-step 0.005] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import scipy.fft as sfft

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import manhattan_mask  # noqa: E402  the tests' Manhattan layout

from litho.optics import ProjectionOptics, ProximityOptics, aerial_image, annular, clear_caches, conventional
from litho.optics.kernels import band_plan, cell_pupil, source_cell_per_um, sum_field_intensities
from litho.optics.proximity import _gauss_rule
from litho.optics.window import MaskSpectrum

LAM_NM = 365.0


def masks(n: int, pixel_um: float) -> dict[str, np.ndarray]:
    """Random Manhattan rectangles, 1:1 lines (8 periods), an RGB-stripe cell (3 subpixels)."""
    x = (np.arange(n) + 0.5) * pixel_um
    length = n * pixel_um
    xx, yy = np.meshgrid(x, x)
    manhattan = manhattan_mask(n, pixel_um, 12, (0.03 * length, 0.25 * length), seed=7)
    pitch = length / 8
    lines = ((xx % pitch) < pitch / 2).astype(float)
    sub = length / 3
    rgb = (((xx % sub) < 0.7 * sub) & (yy > 0.1 * length) & (yy < 0.9 * length)).astype(float)
    return {"manhattan": manhattan, "lines": lines, "rgb": rgb}


def projection_reference(t, pixel_um, optics: ProjectionOptics, step_sigma: float) -> np.ndarray:
    """Abbe sum over a fine cell-averaged source (band-limited evaluation, exact interpolation)."""
    fine = dataclasses.replace(optics, source_step_sigma=step_sigma, method="abbe")
    spectrum = MaskSpectrum(t, pixel_um)
    lam_um = LAM_NM * 1e-3
    plan = band_plan(fine, t.shape, pixel_um, LAM_NM)
    box = spectrum.box(plan)
    fy, fx = plan.fy_per_um[:, None], plan.fx_per_um[None, :]
    sx, sy, w = fine.source.points(step_sigma)
    cell = source_cell_per_um(fine, LAM_NM)

    def spectra():
        for px, py, wi in zip(sx * fine.na / lam_um, sy * fine.na / lam_um, w):
            yield box * cell_pupil(fine, LAM_NM, fy + py, fx + px, cell) * (math.sqrt(wi) * plan.field_scale)

    return plan.interpolate(sum_field_intensities(plan, spectra()))


def proximity_reference(t, pixel_um, optics: ProximityOptics, n_r: int, n_phi: int) -> np.ndarray:
    """Full-size angular-spectrum sum over a Gauss rule of the cone."""
    n = t.shape[0]
    f = np.fft.fftfreq(n, pixel_um)
    spec = sfft.fft2(t, workers=-1)
    r, phi, w = _gauss_rule(n_r, n_phi, optics.angular_profile)
    rho = math.sin(math.radians(optics.collimation_half_angle_deg)) * r
    lam_um = LAM_NM * 1e-3
    acc = np.zeros((n, n))
    for ax, ay, wi in zip(rho * np.cos(phi) / lam_um, rho * np.sin(phi) / lam_um, w):
        u = sfft.ifft2(spec * optics.transfer(f + ay, f + ax, LAM_NM), workers=-1)
        acc += wi * (u.real ** 2 + u.imag ** 2)
    return acc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--ref-step", type=float, default=0.005)   # the finest step litho accepts
    parser.add_argument("--steps", type=float, nargs="*", default=[],
                        help="also measure these source_step_sigma values")
    parser.add_argument("--only", choices=["projection", "proximity"], default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    n = args.size
    out = []
    p_um = 0.02
    ms = masks(n, p_um)
    sources = (("conventional 0.6", conventional(0.6)), ("annular 0.5/0.8", annular(0.5, 0.8)))
    for label, source in sources if args.only != "proximity" else ():
        optics = ProjectionOptics(wavelength_nm=LAM_NM, na=0.5, source=source)
        for name, t in ms.items():
            t0 = time.perf_counter()
            ref = projection_reference(t, p_um, optics, args.ref_step)
            ref2 = projection_reference(t, p_um, optics, 2 * args.ref_step)
            t_ref = time.perf_counter() - t0
            ref_err = float(np.max(np.abs(ref - ref2))) / 3
            row = {"optics": f"projection {label}", "mask": name, "size": n, "reference_s": t_ref,
                   "reference_error_estimate": ref_err}
            for step in [optics.source_step_sigma] + list(args.steps):
                o = dataclasses.replace(optics, source_step_sigma=step)
                clear_caches()
                t0 = time.perf_counter()
                img = aerial_image(t, p_um, o, periodic=True)
                t_first = time.perf_counter() - t0
                t0 = time.perf_counter()
                aerial_image(t, p_um, o, periodic=True)
                t_warm = time.perf_counter() - t0
                abbe = aerial_image(t, p_um, dataclasses.replace(o, method="abbe"), periodic=True)
                k = o.kernels((n, n), p_um)
                row[f"step {step:g}" + (" extrapolated" if o.extrapolates() else "")] = {
                    "socs_error": float(np.max(np.abs(img - ref))),
                    "abbe_error": float(np.max(np.abs(abbe - ref))),
                    "kernels": f"{k.kept} of {k.eigenvalues.size}", "first_s": t_first, "warm_s": t_warm}
            out.append(row)
            print(json.dumps(row), flush=True)
    p_um = 0.2
    ms = masks(n, p_um)
    optics = ProximityOptics(wavelength_nm=LAM_NM, gap_um=10, collimation_half_angle_deg=1.5)
    n_r, n_phi, est = optics.direction_rule(p_um)
    for name, t in ms.items() if args.only != "projection" else ():
        ref = proximity_reference(t, p_um, optics, 48, 96)
        ref2 = proximity_reference(t, p_um, optics, 32, 64)
        row = {"optics": "proximity 10 um, 1.5 deg", "mask": name, "size": n,
               "reference_change_48x96_vs_32x64": float(np.max(np.abs(ref - ref2))),
               "default_rule": f"{n_r} x {n_phi}", "stated_accuracy": est}
        for rings in (None, 1, 4, 12):
            o = dataclasses.replace(optics, direction_rings=rings)
            clear_caches()
            t0 = time.perf_counter()
            img = aerial_image(t, p_um, o, periodic=True)
            row[f"rings {rings}" if rings else "default"] = {
                "error": float(np.max(np.abs(img - ref))), "directions": int(o.directions(p_um)[0].size),
                "s": time.perf_counter() - t0}
        out.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
