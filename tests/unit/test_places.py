import re

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


# -- names from before the 2025 reorganisation --------------------------------------------------------

FORMER_WARDS = sorted({w.key: w for ws in places._legacy().wards.values() for w in ws}.values(), key=lambda w: w.key)


def test_every_former_ward_with_its_district_maps_to_its_2025_ward():
    """All ~10,000 wards of the 63 former provinces, written as an old address book has them."""
    assert len(FORMER_WARDS) > 9900
    wrong = [(w.key, places.locate(w.province, f"{w.name}, {w.district}").ward) for w in FORMER_WARDS
             if places.locate(w.province, f"{w.name}, {w.district}").ward != places.ward(w.new)]
    assert wrong == []


@pytest.mark.parametrize(("province", "ward", "now", "note"), [
    ("Hà Nội", "Hàng Bạc", "Phường Hoàn Kiếm", "'Phường Hàng Bạc, Quận Hoàn Kiếm, Thành phố Hà Nội' (before 2025) "
     "is now Phường Hoàn Kiếm"),
    ("ha noi", "p. hang bac", "Phường Hoàn Kiếm", "Hàng Bạc"),
    ("TP. HCM", "Phường 1, Quận 3", "Phường Bàn Cờ", "Phường 1, Quận 3"),
    ("Hải Dương", "Phường Trần Phú", "Phường Lê Thanh Nghị", "part of it went to Phường Tân Hưng"),
])
def test_former_names_are_mapped_with_a_note(province, ward, now, note):
    where = places.locate(province, ward)
    assert where.ward is not None and where.ward.name == now
    assert any(note in n for n in where.notes)


def test_a_former_province_alone_is_mapped_and_2025_names_need_no_note():
    assert places.locate("Tỉnh Hải Dương", None) == places.Located(
        places.province(31), None, ("'Tỉnh Hải Dương' (before 2025) is now Thành phố Hải Phòng",))
    assert places.locate("Hà Nội", "Hoàn Kiếm") == places.Located(places.province(1), places.ward(70), ())


@pytest.mark.parametrize(("province", "ward", "field", "message"), [
    ("HCM", "Phường 1", "ward", "several wards had this name (Phường 1, Quận 10; "),
    ("Hải Dương", "Trần Phú", "ward", "Phường Trần Phú, Thành phố Hải Dương; Xã Trần Phú, Huyện Nam Sách"),
    ("Hà Nội", "Hàng Bạc, Ba Đình", "ward", "no ward of this name was in that district (it was in Quận Hoàn Kiếm)"),
    ("Hà Nội", "Atlantis", "ward", "in the 2025 units or before them"),
    ("Hà Nội", "26743", "ward", "not in the given province"),
    ("Atlantis", "Hàng Bạc", "province", "not one of the 34 provinces"),
])
def test_what_cannot_be_mapped_says_why(province, ward, field, message):
    with pytest.raises(places.PlaceError, match=re.escape(message)) as e:
        places.locate(province, ward)
    assert e.value.field == field
