import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from postguard.synthetic import FAMILY, GIVEN, MIDDLE
from postguard.vault.masking import mask_address, mask_name, mask_phone

names = st.builds(
    lambda f, ms, g: " ".join([f, *ms, g]),
    st.sampled_from(FAMILY), st.lists(st.sampled_from(MIDDLE), min_size=0, max_size=2), st.sampled_from(GIVEN),
)


@given(names)
def test_mask_name_keeps_given_name_and_initials_only(full):
    masked = mask_name(full)
    words = full.split()
    assert masked.endswith(" " + words[-1])
    assert full not in masked
    initials, given = masked.rsplit(" ", 1)
    assert given == words[-1] and all(len(part) == 1 for part in initials.split(".")[:-1])
    assert masked.startswith("".join(w[0] + "." for w in words[:-1]))


@given(names)
def test_mask_name_normalises_to_nfc(full):
    decomposed = unicodedata.normalize("NFD", full)
    assert mask_name(decomposed) == mask_name(full)
    assert unicodedata.is_normalized("NFC", mask_name(decomposed))


@given(st.integers(min_value=10**8, max_value=10**10 - 1))
def test_mask_phone_shows_only_the_last_three_digits(n):
    e164 = f"+84{n}"
    masked = mask_phone(e164)
    assert masked.endswith(e164[-3:])
    assert sum(c.isdigit() for c in masked) == 3
    assert len(masked) == 10  # same length whatever the number's length


def test_mask_address_is_ward_and_province_only():
    assert mask_address(ward="Phường Bến Thành", province="Thành phố Hồ Chí Minh") == (
        "Phường Bến Thành, Thành phố Hồ Chí Minh"
    )
