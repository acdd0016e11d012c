"""GB 11643-1999 check digits and the masks people see (service/core/identity.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.identity import (
    card_number_problem,
    check_digit,
    id_number_problem,
    mask_card_number,
    mask_id_number,
    mask_name,
    mask_phone,
    normalize_card_number,
    normalize_id_number,
)
from tests.conftest import assert_no_full_numbers

# Weights 2^(18-i) mod 11 for positions 1..17: 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2.
# Check character for S = Σ digit × weight: "10X98765432"[S mod 11].
HAND_WORKED = [
    # The standard's own example, 11010519491231002X:
    #  1·7 + 1·9 + 0·10 + 1·5 + 0·8 + 5·4 + 1·2 + 9·1 + 4·6 + 9·3 + 1·7 + 2·9 + 3·10 + 1·5 + 0·8 + 0·4 + 2·2
    #  = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 → "X"
    ("11010519491231002", "X"),
    # 440524188001010014:
    #  4·7 + 4·9 + 0·10 + 5·5 + 2·8 + 4·4 + 1·2 + 8·1 + 8·6 + 0·3 + 0·7 + 1·9 + 0·10 + 1·5 + 0·8 + 0·4 + 1·2
    #  = 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8 → "4"
    ("44052418800101001", "4"),
    # 620102199001010011:
    #  6·7 + 2·9 + 0·10 + 1·5 + 0·8 + 2·4 + 1·2 + 9·1 + 9·6 + 0·3 + 0·7 + 1·9 + 0·10 + 1·5 + 0·8 + 0·4 + 1·2
    #  = 42+18+0+5+0+8+2+9+54+0+0+9+0+5+0+0+2 = 154; 154 mod 11 = 0 → "1"
    ("62010219900101001", "1"),
    # 620102199001010070: as above with 7 in the last place, 152 + 7·2 = 166; 166 mod 11 = 1 → "0"
    ("62010219900101007", "0"),
]


@pytest.mark.parametrize(("first17", "expected"), HAND_WORKED)
def test_check_digit_matches_hand_worked_examples(first17, expected):
    assert check_digit(first17) == expected
    assert id_number_problem(first17 + expected) is None


def test_lower_case_x_is_the_same_number():
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"
    assert id_number_problem("11010519491231002x") is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("110105194912310021", "校验位"),  # the check character should be X
        ("620102199001010071", "校验位"),  # should be 0
        ("620102199002300070", "出生日期"),  # 30 February
        ("620102199013010070", "出生日期"),  # month 13
        ("62010219900101007", "18位"),  # 17 characters
        ("6201021990010100700", "18位"),  # 19 characters
        ("020102199001010070", "18位"),  # no region starts with 0
        ("62010219900101007Y", "18位"),
        ("", "18位"),
    ],
)
def test_bad_id_numbers_say_what_is_wrong(value, why):
    problem = id_number_problem(value)
    assert problem is not None and why in problem


_first17 = st.from_regex(r"\A[1-9][0-9]{16}\Z")


@given(_first17, st.integers(0, 16), st.integers(1, 9))
def test_any_one_mistyped_digit_is_caught(first17, position, shift):
    wrong = first17[:position] + str((int(first17[position]) + shift) % 10) + first17[position + 1 :]
    assert check_digit(wrong) != check_digit(first17)


@given(_first17, st.integers(0, 15))
def test_any_swap_of_neighbouring_digits_is_caught(first17, position):
    a, b = first17[position], first17[position + 1]
    swapped = first17[:position] + b + a + first17[position + 2 :]
    assert (a == b) or check_digit(swapped) != check_digit(first17)


def test_masks_keep_only_what_a_public_notice_shows():
    assert mask_id_number("620102199001010070") == "620102********0070"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_card_number("6228480402564890018") == "6228 **** **** 0018"
    assert mask_card_number("6217000012345678") == "6217 **** **** 5678"
    assert mask_phone("13912345678") == "139****5678"
    for masked in ("620102********0070", "6228 **** **** 0018"):
        assert_no_full_numbers(masked)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张小三", "张*三"),
        ("张三", "张*"),
        ("欧阳小明", "欧**明"),
        ("李", "李"),
        (" 王建国 ", "王*国"),
    ],
)
def test_names_are_masked_like_zhang_star_san(name, masked):
    assert mask_name(name) == masked


def test_card_numbers_are_read_as_people_write_them():
    assert normalize_card_number("6228 4804-0256 4890 018") == "6228480402564890018"
    assert card_number_problem("6228 4804 0256 4890 018") is None
    assert card_number_problem("6228-12") is not None
    assert card_number_problem("6228 4804 0256 4890 0181") is not None  # 20 digits
    assert card_number_problem("6228abcd02564890018") is not None
