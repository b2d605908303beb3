import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from onewindow.core.choices import RegionLevel
from onewindow.core.identifiers import (
    ID_PROVINCES,
    USCC_ALPHABET,
    id_number_check_char,
    make_id_number,
    make_uscc,
    normalise_region_code,
    organisation_code_check_char,
    parent_region_code,
    parse_id_number,
    parse_uscc,
    region_level_for_code,
    upgrade_id_number_15,
    uscc_check_char,
    validate_id_number,
    validate_region_code,
    validate_uscc_field,
)

# No deadline: tests never depend on timings.
quick = settings(deadline=None, max_examples=300)


def error_of(func, value) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(value)
    return info.value


# --- resident ID numbers -----------------------------------------------------------


def test_reference_id_number():
    assert id_number_check_char("11010519491231002") == "X"
    parsed = parse_id_number("11010519491231002X")
    assert parsed.number == "11010519491231002X"
    assert parsed.region_code == "110105"
    assert parsed.birth_date == datetime.date(1949, 12, 31)
    assert parsed.sequence == 2
    assert parsed.sex == "F"


def test_id_number_is_normalised():
    assert parse_id_number(" 11010519491231002x ").number == "11010519491231002X"
    # Full-width characters from a Chinese input method, and inner spaces.
    assert parse_id_number("１１０１０５ 19491231 002ｘ").number == "11010519491231002X"
    validate_id_number("11010519491231002X")


def test_odd_sequence_is_male():
    number = make_id_number("520302", datetime.date(1990, 5, 17), 13)
    assert parse_id_number(number).sex == "M"


@pytest.mark.parametrize(
    "value, code, fragment",
    [
        ("1101051949123100", "id_length", "18位"),
        ("11010519491231002Y", "id_length", "18位"),
        ("", "id_length", "18位"),
        ("110105491231002", "id_legacy_15", "15位"),
        ("99010519491231002X", "id_province", "99"),
        ("16010519491231002X", "id_province", "16"),
        ("11010519490231002X", "id_birth_date", "19490231"),
        ("11010518991231002X", "id_birth_too_early", "1900"),
        ("110105194912310021", "id_check", "校验位"),
    ],
)
def test_invalid_id_numbers(value, code, fragment):
    exc = error_of(parse_id_number, value)
    assert exc.code == code
    assert fragment in exc.messages[0]
    assert error_of(validate_id_number, value).code == code


def test_id_birth_date_in_future_is_refused():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    first17 = f"110105{tomorrow:%Y%m%d}002"
    exc = error_of(parse_id_number, first17 + id_number_check_char(first17))
    assert exc.code == "id_birth_future"
    assert "晚于今天" in exc.messages[0]


def test_non_string_input_is_a_validation_error():
    assert error_of(parse_id_number, None).code == "id_length"
    assert error_of(parse_uscc, 12345).code == "uscc_length"


def test_residence_permit_prefixes_are_accepted():
    for prefix in ("81", "82", "83"):
        number = make_id_number(prefix + "0000", datetime.date(1985, 1, 1), 1)
        assert parse_id_number(number).region_code == prefix + "0000"


def test_upgrade_15_digit_number():
    assert upgrade_id_number_15("110105491231002") == "11010519491231002X"
    assert error_of(upgrade_id_number_15, "11010549123100").code == "id_length"
    assert error_of(upgrade_id_number_15, "990105491231002").code == "id_province"
    assert error_of(upgrade_id_number_15, "110105490230002").code == "id_birth_date"


def test_make_id_number_refuses_impossible_input():
    assert error_of(lambda v: make_id_number(v, datetime.date(1990, 1, 1), 1), "52030").code == "id_length"
    with pytest.raises(ValidationError):
        make_id_number("520302", datetime.date(1990, 1, 1), 1000)
    with pytest.raises(ValidationError):
        make_id_number("520302", datetime.date(1899, 12, 31), 1)


provinces = st.sampled_from(sorted(ID_PROVINCES))
birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2020, 12, 31))


@st.composite
def id_numbers(draw, dates=birth_dates):
    region = draw(provinces) + draw(st.text("0123456789", min_size=4, max_size=4))
    return make_id_number(region, draw(dates), draw(st.integers(0, 999)))


@quick
@given(id_numbers())
def test_generated_id_numbers_validate(number):
    parsed = parse_id_number(number)
    assert parsed.number == number
    assert parsed.sex == ("M" if int(number[14:17]) % 2 else "F")


@quick
@given(id_numbers(), st.integers(0, 17), st.data())
def test_any_single_substitution_in_an_id_number_is_detected(number, position, data):
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    mutated = number[:position] + replacement + number[position + 1 :]
    # MOD 11-2 alone catches it, whatever else might also be wrong with the mutated number.
    assert id_number_check_char(mutated[:17]) != mutated[17]
    with pytest.raises(ValidationError):
        parse_id_number(mutated)


@quick
@given(id_numbers(dates=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1999, 12, 31))))
def test_15_to_18_round_trip(number):
    old = number[:6] + number[8:17]
    assert upgrade_id_number_15(old) == number


# --- unified social credit codes ---------------------------------------------------------


@pytest.mark.parametrize(
    "value, authority, category, region, organisation",
    [
        ("91350100M000100Y43", "9", "1", "350100", "M000100Y4"),
        ("12441500196720244T", "1", "2", "441500", "196720244"),
        ("11511301008778183N", "1", "1", "511301", "008778183"),
        ("115113010833722043", "1", "1", "511301", "083372204"),
    ],
)
def test_reference_usccs(value, authority, category, region, organisation):
    assert uscc_check_char(value[:17]) == value[17]
    parsed = parse_uscc(value)
    assert parsed.number == value
    assert parsed.registration_authority == authority
    assert parsed.institution_category == category
    assert parsed.region_code == region
    assert parsed.organisation_code == organisation
    assert parsed.warnings == ()


def test_uscc_lower_case_is_normalised():
    assert parse_uscc("91350100m000100y43").number == "91350100M000100Y43"


@pytest.mark.parametrize(
    "value, code, fragment",
    [
        ("91350100M000100Y4", "uscc_length", "18位"),
        ("91350100M000100Y433", "uscc_length", "18位"),
        ("91350100MO00100Y43", "uscc_chars", "I、O、S、V、Z"),
        ("91350100M000100I43", "uscc_chars", "I、O、S、V、Z"),
        ("91350100M000100#43", "uscc_chars", "只能由"),
        ("9135A100M000100Y43", "uscc_region", "行政区划"),
        ("91350100M000100Y44", "uscc_check", "校验位"),
    ],
)
def test_invalid_usccs(value, code, fragment):
    exc = error_of(parse_uscc, value)
    assert exc.code == code
    assert fragment in exc.messages[0]
    assert error_of(validate_uscc_field, value).code == code


def test_failing_embedded_organisation_code_is_a_warning_not_an_error():
    # Organisation code 12345678 has check digit 8 (GB 11714); put 0 there instead.
    assert organisation_code_check_char("12345678") == "8"
    first17 = "11520300" + "123456780"
    value = first17 + uscc_check_char(first17)
    parsed = parse_uscc(value)
    assert len(parsed.warnings) == 1
    assert "123456780" in parsed.warnings[0]
    validate_uscc_field(value)


def test_organisation_check_char_edge_values():
    # Σ mod 11 == 1 gives 10 → X; Σ mod 11 == 0 gives 11 → 0.
    assert organisation_code_check_char("00000006") == "X"  # Σ = 6 × 2 = 12
    assert organisation_code_check_char("00000000") == "0"


def test_make_uscc_refuses_bad_parts():
    with pytest.raises(ValidationError):
        make_uscc("1", "1", "52030", "DM000001")
    with pytest.raises(ValidationError):
        make_uscc("1", "1", "520300", "DM00000")
    with pytest.raises(ValidationError):
        make_uscc("I", "1", "520300", "DM000001")


uscc_chars = st.sampled_from(USCC_ALPHABET)


@st.composite
def usccs(draw):
    region = draw(st.text("0123456789", min_size=6, max_size=6))
    base = "".join(draw(st.lists(uscc_chars, min_size=8, max_size=8)))
    return make_uscc(draw(uscc_chars), draw(uscc_chars), region, base)


@quick
@given(usccs())
def test_generated_usccs_validate_without_warnings(value):
    parsed = parse_uscc(value)
    assert parsed.number == value
    assert parsed.warnings == ()


@quick
@given(usccs(), st.integers(0, 17), st.data())
def test_any_single_substitution_in_a_uscc_is_detected(value, position, data):
    replacement = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != value[position]]))
    mutated = value[:position] + replacement + value[position + 1 :]
    assert uscc_check_char(mutated[:17]) != mutated[17]
    with pytest.raises(ValidationError):
        parse_uscc(mutated)


# --- region codes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, level, normalised, parent",
    [
        ("520000", RegionLevel.PROVINCE, "520000", None),
        ("520300", RegionLevel.CITY, "520300", "520000"),
        ("520302", RegionLevel.COUNTY, "520302", "520300"),
        ("520302000000", RegionLevel.COUNTY, "520302", "520300"),
        ("520302001", RegionLevel.TOWN, "520302001000", "520302"),
        ("520302001000", RegionLevel.TOWN, "520302001000", "520302"),
        ("520302001002", RegionLevel.VILLAGE, "520302001002", "520302001000"),
        ("441900003000", RegionLevel.TOWN, "441900003000", "441900"),
        ("429004", RegionLevel.COUNTY, "429004", "429000"),
        ("810000", RegionLevel.PROVINCE, "810000", None),
    ],
)
def test_region_levels(code, level, normalised, parent):
    validate_region_code(code)
    assert region_level_for_code(code) == level
    assert normalise_region_code(code) == normalised
    assert parent_region_code(code) == parent


@pytest.mark.parametrize(
    "code, error",
    [
        ("52030", "region_shape"),
        ("5203021", "region_shape"),
        ("52030200100", "region_shape"),
        ("5203020010001", "region_shape"),
        ("52O302", "region_shape"),
        ("５２０３０２", "region_shape"),
        ("", "region_shape"),
        ("990000", "region_province"),
        ("830000", "region_province"),
        ("520002", "region_structure"),
        ("520000001000", "region_structure"),
        ("520302000001", "region_structure"),
    ],
)
def test_invalid_region_codes(code, error):
    exc = error_of(validate_region_code, code)
    assert exc.code == error
    assert exc.messages[0]
