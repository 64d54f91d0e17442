import pytest
from hypothesis import given
from hypothesis import strategies as st

from postguard import places
from postguard.places import UnknownPlace, fold, resolve_province, resolve_ward

WARDS = places.all_wards()


def test_counts_match_the_2025_units():
    assert len(places._index().provinces) == 34
    assert 3200 < len(WARDS) < 3400


@pytest.mark.parametrize("text", ["Thành phố Hồ Chí Minh", "Hồ Chí Minh", "ho chi minh", "TP. Hồ Chí Minh",
                                  "tp hcm", "79", "THÀNH PHỐ HỒ CHÍ MINH"])
def test_province_forms(text):
    assert resolve_province(text).code == 79


@given(st.sampled_from(WARDS))
def test_every_ward_resolves_by_name_folded_name_and_code(entry):
    ward, pc = entry
    assert resolve_ward(ward.name, province_code=pc).code == ward.code
    assert resolve_ward(str(ward.code), province_code=pc).code == ward.code
    assert resolve_ward(f"{ward.code:05d}", province_code=pc).code == ward.code
    try:
        assert resolve_ward(fold(ward.name), province_code=pc).code == ward.code
    except UnknownPlace as e:  # two wards differ only by diacritics: the message asks for code or full name
        assert "ambiguous" in str(e)


def test_ward_must_belong_to_the_province():
    with pytest.raises(UnknownPlace, match="not in the given province"):
        resolve_ward("26743", province_code=1)  # Bến Thành is in Hồ Chí Minh City
    with pytest.raises(UnknownPlace):
        resolve_ward("Bến Thành", province_code=1)


@pytest.mark.parametrize("text", ["", "Atlantis", "999"])
def test_unknown_provinces(text):
    with pytest.raises(UnknownPlace):
        resolve_province(text)
