"""Photochemistry: atmosphere, wavelength checks, activation, branching, loading, sensitisation."""

import numpy as np
import pytest

from litho import chemistry as chem
from litho import materials
from litho.errors import LithoInputError


def film(name="CdSe/ZnS", **over):
    return materials.resolve("film", {"material": name, **over})


def xl(name="EBT", **over):
    key = "loading_mol_pct" if materials.resolve("crosslinker", {"material": name}).tethered else "loading_wt_pct"
    return materials.resolve("crosslinker", {"material": name, key: 5, **over})


@pytest.mark.parametrize("value, gas, ppm", [
    ("air", "air", chem.AIR_O2_PPM), ("Air", "air", chem.AIR_O2_PPM), ("N2", "N2", chem.GLOVEBOX_O2_PPM),
    ("nitrogen", "N2", chem.GLOVEBOX_O2_PPM), ("N2, 5 ppm O2", "N2", 5), ("N2 + 0.1% O2", "N2", 1000),
    ("O2 ppm = 5", "N2", 5), ("Ar (2 ppm O2)", "Ar", 2), ({"gas": "N2", "o2_ppm": 7}, "N2", 7),
])
def test_parse_atmosphere_forms(value, gas, ppm):
    atm = chem.parse_atmosphere(value)
    assert atm.gas == gas and atm.o2_ppm == pytest.approx(ppm)


def test_air_dissolved_oxygen_in_stated_range():
    assert 1.0 <= chem.parse_atmosphere("air").o2_mm <= 2.0
    assert chem.parse_atmosphere("N2, 10 ppm O2").o2_mm == pytest.approx(chem.AIR_O2_MM * 10 / chem.AIR_O2_PPM)


@pytest.mark.parametrize("value", ["helium", "vacuum-ish", 3, "N2, -5 ppm O2", {"gas": "N2", "o3": 1},
                                   {"gas": "xenon"}, "air, 5 ppm O2"])
def test_bad_atmosphere_is_one_line(value):
    with pytest.raises(LithoInputError, match=r"r.toml: exposure.atmosphere") as err:
        chem.parse_atmosphere(value, "r.toml")
    assert "\n" not in str(err.value)


def test_check_wavelengths_lists_the_ones_it_has():
    with pytest.raises(LithoInputError,
                       match=r"crosslinker EBT has no absorption data at 365 nm; it has 254, 275 nm"):
        chem.check_wavelengths(xl("EBT"), film(), [365], "r.toml")
    chem.check_wavelengths(xl("EBT"), film(), [254, 256])          # within the line width
    chem.check_wavelengths(xl("Ir-azide"), film(), [405])          # the sensitiser absorbs
    with pytest.raises(LithoInputError, match="film CdSe/ZnS has no absorption data at 600 nm"):
        chem.check_wavelengths(xl("PFB", epsilon_per_arm_by_wavelength={"600": 10}), film(), [600])


def test_activated_fraction_is_exact_at_low_dose():
    assert chem.activated_fraction(1e-12, 0.05) == pytest.approx(5e-14, rel=1e-9)
    assert chem.activated_fraction(np.inf, 0.05) == 1.0


def test_diazirine_branching_limits():
    x = np.array([0.0, 0.5, 50.0])
    # no diazo re-photolysis: only the carbene branch (65%) ever reacts
    assert chem.diazirine_carbene_yield(x, 0.65, 0.0)[-1] == pytest.approx(0.65)
    # the diazo reaches the carbene by a second photon: everything reacts eventually
    assert chem.diazirine_carbene_yield(x, 0.65, 0.1)[-1] == pytest.approx(1.0, abs=1e-2)
    # r = 1 limit is continuous
    assert chem.diazirine_carbene_yield(0.7, 0.65, 1.0) == pytest.approx(
        chem.diazirine_carbene_yield(0.7, 0.65, 1.0 + 1e-4), rel=1e-3)
    # at every dose the branching lowers the yield below direct photolysis
    assert np.all(chem.diazirine_carbene_yield(x, 0.65, 0.1) <= chem.activated_fraction(x, 1.0) + 1e-15)


def test_stern_volmer_lowers_the_yield_in_air():
    pfb, otad = xl("PFB"), xl("O-TAD")
    air, n2 = chem.parse_atmosphere("air"), chem.parse_atmosphere("N2")
    assert chem.insertion_yield(pfb, air) < 0.2 * chem.insertion_yield(pfb, n2)      # triplet carbene
    assert chem.insertion_yield(otad, air) > 0.8 * chem.insertion_yield(otad, n2)    # EDG singlet carbene


def test_tethered_loading_counts_ligands():
    f = film()
    tdba = materials.resolve("crosslinker", {"material": "TDBA", "loading_mol_pct": 5})
    assert chem.molecules_per_qd(tdba, f) == pytest.approx(0.05 * f.ligands_per_qd)


def test_dexter_transfer_rises_with_acceptor_and_falls_with_oxygen():
    f = film()
    low = xl("Ir-azide", loading_wt_pct=1)
    high = xl("Ir-azide", loading_wt_pct=20)
    n2, air = chem.parse_atmosphere("N2"), chem.parse_atmosphere("air")
    assert 0 < chem.dexter_transfer_efficiency(low, f, n2) < chem.dexter_transfer_efficiency(high, f, n2) < 1
    assert chem.dexter_transfer_efficiency(high, f, air) < 0.5 * chem.dexter_transfer_efficiency(high, f, n2)


def test_sensitiser_moves_azide_activation_to_405():
    f = film()
    ir, ebt = xl("Ir-azide"), xl("EBT")
    n2 = chem.parse_atmosphere("N2")
    assert chem.effective_activation_constant(ir, f, n2, 405) > 0
    with pytest.raises(LithoInputError):
        chem.effective_activation_constant(ebt, f, n2, 405)


def test_thiol_ene_needs_ligand_alkenes():
    f_sat = film("CsPbBr3", ligand_alkenes=0.0)
    f = film("CsPbBr3")
    petmp = xl("PETMP")
    n2 = chem.parse_atmosphere("N2")
    dose = np.array([30.0])
    assert chem.crosslink([(275, dose)], f_sat, petmp, n2).crosslinks_per_qd[0] == 0
    assert chem.crosslink([(275, dose)], f, petmp, n2).crosslinks_per_qd[0] > 1


def test_crosslink_rejects_no_lines():
    with pytest.raises(ValueError):
        chem.crosslink([], film(), xl(), chem.parse_atmosphere("N2"))
