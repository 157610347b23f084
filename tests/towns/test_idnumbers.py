from datetime import date

import pytest
from django.core.exceptions import ValidationError

from core import idnumbers
from core.phones import normalize_phone
from towns.pinyin import initials


def test_the_product_brief_example_is_valid_and_female():
    parsed = idnumbers.parse("11010519491231002x")
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "F"
    assert parsed.masked == "110105**********2X"


def test_wrong_check_digit_is_refused_in_chinese():
    with pytest.raises(ValidationError) as error:
        idnumbers.parse("110105194912310021")
    assert "校验位不正确" in error.value.messages[0]


@pytest.mark.parametrize("raw", ["12345", "11010519491331002X", "1101051949123100AX", ""])
def test_malformed_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        idnumbers.parse(raw)


def test_fifteen_digit_number_upgrades_to_eighteen():
    # 15-digit form of 110105491231002: insert 19, compute the check character.
    assert idnumbers.parse("110105491231002").number == "11010519491231002X"


def test_full_width_input_is_normalised():
    assert idnumbers.parse("１１０１０５１９４９１２３１００２ｘ").number == "11010519491231002X"


def test_encryption_round_trip_and_digest_is_stable_but_not_the_number():
    number = "11010519491231002X"
    token = idnumbers.encrypt(number)
    assert number not in token
    assert idnumbers.decrypt(token) == number
    assert idnumbers.digest(number) == idnumbers.search_digest("11010519491231002x")
    assert number not in idnumbers.digest(number)


def test_made_numbers_validate():
    number = idnumbers.make_number("341181", date(1950, 1, 2), 37)
    assert idnumbers.parse(number).gender == "M"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13855501234", "13855501234"),
        ("+86 138 5550 1234", "13855501234"),
        ("05507021234", "0550-7021234"),
        ("010-12345678", "010-12345678"),
    ],
)
def test_phone_numbers_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345678901", "1385550123", "abc"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValidationError) as error:
        normalize_phone(raw)
    assert "电话号码格式不正确" in error.value.messages[0]


def test_pinyin_initials():
    assert initials("张三") == "zs"
    assert initials("李桂英") == "lgy"
