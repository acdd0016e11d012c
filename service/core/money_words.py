"""Amounts written out in Chinese capital numerals.

Capital numerals (人民币大写, the 大写金额 of the PBoC payment rules) are what a certificate or a
cheque carries so that the amount cannot be altered by adding a stroke to a digit.
"""

from __future__ import annotations

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
# Each group of four digits takes one of these; a larger amount than 万亿 yuan is not money a
# county pays, so it is refused rather than given an unusual unit.
_GROUP_UNITS = ("", "万", "亿", "万亿")


def _whole_yuan_in_capitals(yuan: int) -> str:
    digits = str(yuan)
    groups = []
    while digits:
        groups.append(digits[-4:])
        digits = digits[:-4]
    if len(groups) > len(_GROUP_UNITS):
        raise ValueError(f"amount too large for capital numerals: {yuan} yuan")

    out: list[str] = []
    # A run of zeros between two written digits is read as a single 零, whether it lies inside a
    # group or spans the boundary between groups; zeros at the end are not read at all.
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index].rjust(4, "0") if out else groups[index]
        group_written = False
        for position, char in enumerate(group):
            place = len(group) - 1 - position
            if char == "0":
                zero_pending = bool(out)
                continue
            if zero_pending:
                out.append("零")
                zero_pending = False
            out.append(_DIGITS[int(char)] + _PLACES[place])
            group_written = True
        if group_written:
            out.append(_GROUP_UNITS[index])
    return "".join(out)


def yuan_in_capitals(fen: int) -> str:
    """The amount in 人民币大写, e.g. 30000 -> '叁佰元整', 100105 -> '壹仟零壹元零伍分'.

    Follows the usual bank style: 壹拾 rather than 拾 for a leading ten, one 零 for a run of
    zeros, 整 after 元 or 角 when there are no 分, nothing after 分. A negative amount is
    prefixed with 负. The caller adds the 人民币 prefix where the form wants it.
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amount must be an integer number of fen")
    if fen < 0:
        return "负" + yuan_in_capitals(-fen)
    if fen == 0:
        return "零元整"
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)

    text = ""
    if yuan:
        text = _whole_yuan_in_capitals(yuan) + "元"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif fen_digit and yuan:
        text += "零"
    if fen_digit:
        text += _DIGITS[fen_digit] + "分"
    else:
        text += "整"
    return text
