import pytest
from hypothesis import given, strategies as st

from litho.errors import LithoInputError
from litho.units import normalize_table, parse_quantity


@pytest.mark.parametrize("text, unit, expected", [
    ("365 nm", "nm", 365.0),
    ("0.365 um", "nm", 365.0),
    ("3 mJ/cm^2", "mj_cm2", 3.0),
    ("0.06 J/cm2", "mj_cm2", 60.0),
    ("10 um", "um", 10.0),
    ("0.5 mm", "um", 500.0),
    ("2 min", "s", 120.0),
    ("1.5 deg", "deg", 1.5),
    ("30", "s", 30.0),
])
def test_parse_quantity_converts_to_canonical_unit(text, unit, expected):
    assert parse_quantity(text, unit) == pytest.approx(expected)


def test_parse_quantity_rejects_wrong_dimension_naming_field_and_units():
    with pytest.raises(LithoInputError, match=r"r.toml: exposure.dose .*'3 nm'.*mj/cm\^2"):
        parse_quantity("3 nm", "mj_cm2", "exposure.dose", "r.toml")


def test_parse_quantity_rejects_non_numbers():
    with pytest.raises(LithoInputError, match="not a quantity"):
        parse_quantity("lots", "nm")
    with pytest.raises(LithoInputError, match="not a number"):
        parse_quantity(True, "nm")


def test_normalize_table_accepts_bare_and_suffixed_keys():
    out = normalize_table({"gap": "10 um", "dose_mj_cm2": "3 mJ/cm^2", "wavelength": "365 nm",
                           "time": "30 s", "material": "toluene"})
    assert out == {"gap_um": 10.0, "dose_mj_cm2": 3.0, "wavelength_nm": 365.0, "time_s": 30.0,
                   "material": "toluene"}


def test_normalize_table_refuses_the_same_quantity_twice():
    with pytest.raises(LithoInputError, match="given twice"):
        normalize_table({"gap": "10 um", "gap_um": 5})


@given(st.floats(min_value=1e-3, max_value=1e6, allow_nan=False))
def test_microns_and_nanometres_round_trip(value):
    assert parse_quantity(f"{value!r} um", "nm") == pytest.approx(value * 1e3)
    assert parse_quantity(f"{value!r} nm", "um") == pytest.approx(value * 1e-3)
