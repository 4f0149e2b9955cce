"""Invariants of the chemistry and development model (hypothesis): the review's design rules
come out of the mechanism, not out of special cases."""

import dataclasses

import numpy as np
from hypothesis import given, settings, strategies as st

from litho import materials, mechanisms
from litho.chemistry import parse_atmosphere
from litho.development import _crossing, contrast_curve, develop

FILMS = materials.names("film")
# free crosslinkers (solubility switches need a stoichiometric loading, not 10 wt%: tests/test_switches.py)
FREE = [n for n in materials.names("crosslinker") if not materials.resolve("crosslinker", {"material": n}).tethered
        and not getattr(mechanisms.get(materials.resolve("crosslinker", {"material": n}).mechanism),
                        "solubility_switch", False)]
DEVELOPERS = materials.names("developer")
DOSES = np.geomspace(0.01, 1e5, 300)
SETTINGS = settings(max_examples=25, deadline=None)


def _material(kind, name, **over):
    return materials.resolve(kind, {"material": name, **over})


def _wavelength(xl, film):
    return next(w for w in xl.wavelengths_nm if any(abs(w - f) <= 10 for f in film.wavelengths_nm))


@SETTINGS
@given(film_name=st.sampled_from(FILMS), xl_name=st.sampled_from(materials.names("crosslinker")),
       dev_name=st.sampled_from(DEVELOPERS), loading=st.floats(0.5, 20), thickness=st.floats(10, 120),
       atmosphere=st.sampled_from(["air", "N2", "N2, 50 ppm O2"]), gelation=st.sampled_from(["flory", "lattice"]))
def test_nrt_never_decreases_with_dose(film_name, xl_name, dev_name, loading, thickness, atmosphere, gelation):
    film = _material("film", film_name, thickness_nm=thickness)
    probe = _material("crosslinker", xl_name)
    xl = _material("crosslinker", xl_name, **{"loading_mol_pct" if probe.tethered else "loading_wt_pct": loading})
    dev = _material("developer", dev_name, gelation=gelation)
    out = develop([(_wavelength(xl, film), DOSES)], film, xl, dev, atmosphere)
    nrt = out.remaining_thickness
    assert np.all(np.diff(nrt) >= -1e-12)
    assert np.all((nrt >= 0) & (nrt <= 1))
    assert np.all(np.diff(out.gel_fraction_bottom) >= -1e-12)


@SETTINGS
@given(arms=st.integers(2, 5), groups_wt_pct=st.floats(1, 15), epsilon=st.floats(100, 3e4),
       quantum_yield=st.floats(0.2, 1.0))
def test_more_arms_lower_d50_at_equal_photogroup_loading(arms, groups_wt_pct, epsilon, quantum_yield):
    film = _material("film", "InP/ZnSe/ZnS", thickness_nm=30)
    dev = _material("developer", "toluene")
    d50 = []
    for n in (arms, arms + 1):
        # the same photogroup; molar mass ∝ arms, so equal wt% = equal photogroups per QD
        xl = _material("crosslinker", "O-TAD", arms=n, molar_mass_g_mol=260.0 * n, loading_wt_pct=groups_wt_pct,
                       quantum_yield=quantum_yield, epsilon_per_arm_by_wavelength={"365": epsilon})
        d50.append(contrast_curve(film, xl, dev, "N2", 365, DOSES).d50)
    assert d50[1] < d50[0]


@SETTINGS
@given(epsilon=st.floats(100, 3e4), quantum_yield=st.floats(0.2, 1.0), loading=st.floats(2, 20),
       dispersion=st.floats(0.0, 1.0))
def test_tethered_one_hit_has_lower_gamma_than_free_two_hit(epsilon, quantum_yield, loading, dispersion):
    film = _material("film", "CdSe/ZnS", thickness_nm=30, crosslink_dispersion=dispersion)
    dev = _material("developer", "toluene")
    common = dict(quantum_yield=quantum_yield, epsilon_per_arm_by_wavelength={"365": epsilon},
                  carbene_fraction=1.0, ksv_triplet_per_molar=0.0, ksv_singlet_per_molar=0.0,
                  link_reach_fraction=0.5)
    free = _material("crosslinker", "O-TAD", loading_wt_pct=loading, **common)
    tethered = _material("crosslinker", "TDBA", loading_mol_pct=loading, **common)
    g_free = contrast_curve(film, free, dev, "N2", 365, DOSES)
    g_tethered = contrast_curve(film, tethered, dev, "N2", 365, DOSES)
    assert g_tethered.gamma < g_free.gamma
    assert g_tethered.gamma_iupac < g_free.gamma_iupac


@SETTINGS
@given(xl_name=st.sampled_from(["PFB", "O-TAD", "Tris-TAD", "TDBA", "BP-PXL", "EBT", "PETMP", "Ir-azide"]),
       loading=st.floats(1, 20), ppm=st.floats(0, 1e4))
def test_air_never_retains_more_than_nitrogen(xl_name, loading, ppm):
    film = _material("film", "InP/ZnSe/ZnS", thickness_nm=30)
    probe = _material("crosslinker", xl_name)
    xl = _material("crosslinker", xl_name, **{"loading_mol_pct" if probe.tethered else "loading_wt_pct": loading})
    dev = _material("developer", "toluene")
    w = _wavelength(xl, film)
    air = develop([(w, DOSES)], film, xl, dev, "air").remaining_thickness
    some = develop([(w, DOSES)], film, xl, dev, {"gas": "N2", "o2_ppm": ppm}).remaining_thickness
    n2 = develop([(w, DOSES)], film, xl, dev, {"gas": "N2", "o2_ppm": 0.0}).remaining_thickness
    assert np.all(air <= some + 1e-12) and np.all(some <= n2 + 1e-12)


def _bottom_dose(film, xl, dev, wavelength):
    g = develop([(wavelength, DOSES)], film, xl, dev, "N2").gel_fraction_bottom
    return _crossing(DOSES, g, 0.5)


@SETTINGS
@given(film_name=st.sampled_from(FILMS), xl_name=st.sampled_from(FREE), thickness=st.floats(10, 100),
       factor=st.floats(1.2, 3.0))
def test_thicker_or_more_absorbing_films_need_more_dose_to_keep_the_bottom(film_name, xl_name, thickness, factor):
    base = _material("film", film_name, thickness_nm=thickness)
    xl = _material("crosslinker", xl_name, loading_wt_pct=10)
    dev = _material("developer", "toluene")
    w = _wavelength(xl, base)
    thicker = dataclasses.replace(base, thickness_nm=thickness * factor)
    darker = dataclasses.replace(base, absorption_length_nm_by_wavelength=tuple(
        (wl, length / factor) for wl, length in base.absorption_length_nm_by_wavelength))
    d_base = _bottom_dose(base, xl, dev, w)
    assert _bottom_dose(thicker, xl, dev, w) > d_base
    assert _bottom_dose(darker, xl, dev, w) > d_base
