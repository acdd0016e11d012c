import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.money_words import yuan_in_capitals


@pytest.mark.parametrize(
    ("fen", "words"),
    [
        (30000, "叁佰元整"),
        (0, "零元整"),
        (5, "伍分"),
        (50, "伍角整"),
        (55, "伍角伍分"),
        (1000, "壹拾元整"),
        (1005, "壹拾元零伍分"),
        (100050, "壹仟元伍角整"),
        (100105, "壹仟零壹元零伍分"),
        (105000, "壹仟零伍拾元整"),
        (1005000, "壹万零伍拾元整"),
        (10050000, "壹拾万零伍佰元整"),
        (101000000, "壹佰零壹万元整"),
        (10001000000, "壹亿零壹万元整"),
        (450000000, "肆佰伍拾万元整"),  # a county's 4.5 million yuan exit-award budget
        (1234567891234, "壹佰贰拾叁亿肆仟伍佰陆拾柒万捌仟玖佰壹拾贰元叁角肆分"),
        (-30000, "负叁佰元整"),
    ],
)
def test_known_amounts(fen, words):
    assert yuan_in_capitals(fen) == words


def test_refuses_non_integers():
    with pytest.raises(TypeError):
        yuan_in_capitals(300.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        yuan_in_capitals(10**18)


_VALUE = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}
_BIG = {"万": 10**4, "亿": 10**8}


def _read_back(words: str) -> int:
    """An independent reader of capital numerals, to check the writer by round trip."""
    yuan_part, _, cents_part = words.partition("元") if "元" in words else ("", "", words)
    total, section, digit = 0, 0, 0
    for char in yuan_part:
        if char in _VALUE:
            digit = _VALUE[char]
        elif char in _SMALL:
            section += digit * _SMALL[char]
            digit = 0
        elif char in _BIG:
            # Below 万亿 the groups come highest first, so each group unit just scales its group.
            total += (section + digit) * _BIG[char]
            section, digit = 0, 0
    total += section + digit
    cents = 0
    digit = 0
    for char in cents_part:
        if char in _VALUE:
            digit = _VALUE[char]
        elif char == "角":
            cents += digit * 10
        elif char == "分":
            cents += digit
    return total * 100 + cents


@settings(max_examples=500)
@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_round_trip_below_ten_yi(fen):
    words = yuan_in_capitals(fen)
    assert _read_back(words) == fen
    assert "零零" not in words
    assert not words.startswith("零") or fen == 0
