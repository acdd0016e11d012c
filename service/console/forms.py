"""Console forms: what a person types, read exactly (yuan to the fen without a float, dates as
people write them), and every refusal named in Chinese next to its field.

A form that refuses changes nothing: the page parses every field first and calls the workflow
only when all are good; a workflow's own refusal (its typed error naming a field) lands next to
that field too, and the workflow's transaction has rolled back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from service.console.words import FIELD_WORDS
from service.core.errors import DomainError

_YUAN = re.compile(r"^(-?)([0-9]{1,13})(?:\.([0-9]{1,2}))?$")
_KG = re.compile(r"^([0-9]{1,12})(?:\.([0-9]{1,3}))?$")
_PERCENT = re.compile(r"^([0-9]{1,3})(?:\.([0-9]{1,2}))?$")
_DATE = re.compile(r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?$")
_INTEGER = re.compile(r"^-?[0-9]{1,15}$")
_AT_FIELD = re.compile(r" - at `\$\.([A-Za-z_]+)")
T = TypeVar("T")


def _plain(text: str) -> str:
    """Separators people type in figures: thousands commas (also the full-width one), spaces, 元, ¥."""
    return re.sub(r"[,，\s元¥￥]", "", text)


def parse_date(text: str) -> dt.date | None:
    """2025-06-01, 2025/6/1, 2025.6.1 and 2025年6月1日 all read as 1 June 2025."""
    found = _DATE.match(text.strip())
    if not found:
        return None
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def parse_fen(text: str) -> int | None:
    """Yuan with at most two decimals, exactly, as fen: '12,345.6' → 1234560."""
    found = _YUAN.match(_plain(text))
    if not found:
        return None
    fen = int(found[2]) * 100 + int((found[3] or "").ljust(2, "0"))
    return -fen if found[1] else fen


def fen_text(fen: int | None) -> str:
    """Fen as the plain yuan a form field shows again: 1234560 → '12345.60'."""
    if fen is None:
        return ""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


class Form:
    """The fields of one posted form, read one by one; errors by field name, in Chinese."""

    def __init__(self, data: Mapping[str, Any] | None = None, labels: Mapping[str, str] | None = None) -> None:
        raw = dict(data or {})
        self.values: dict[str, str] = {k: str(v) for k, v in raw.items() if k != "csrf" and isinstance(v, str)}
        self.errors: dict[str, str] = {}
        self.general: str | None = None
        self.labels = dict(labels or {})

    def label(self, name: str) -> str:
        return self.labels.get(name) or FIELD_WORDS.get(name, name)

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def _missing(self, name: str, required: bool) -> bool:
        if self.get(name):
            return False
        if required:
            self.errors[name] = f"请填写{self.label(name)}"
        return True

    def text(self, name: str, *, required: bool = True, max_length: int = 200) -> str | None:
        if self._missing(name, required):
            return None
        value = self.get(name)
        if len(value) > max_length:
            self.errors[name] = f"{self.label(name)}不能超过 {max_length} 个字"
            return None
        return value

    def yuan(self, name: str, *, required: bool = True, negative: bool = False) -> int | None:
        """An amount in yuan (two decimals at most) as fen."""
        if self._missing(name, required):
            return None
        fen = parse_fen(self.get(name))
        if fen is None or (fen < 0 and not negative):
            sign = "" if negative else "不为负数的"
            self.errors[name] = f"{self.label(name)}应为{sign}金额（元），最多两位小数，例如 12,345.60"
            return None
        return fen

    def date(self, name: str, *, required: bool = True) -> dt.date | None:
        if self._missing(name, required):
            return None
        day = parse_date(self.get(name))
        if day is None:
            self.errors[name] = f"{self.label(name)}不是有效日期，请写成 2025-06-01 或 2025年6月1日"
        return day

    def integer(
        self, name: str, *, required: bool = True, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        if self._missing(name, required):
            return None
        text = _plain(self.get(name))
        value = int(text) if _INTEGER.match(text) else None
        if value is None or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = (
                f"（{minimum} 至 {maximum}）"
                if minimum is not None and maximum is not None
                else (f"（不小于 {minimum}）" if minimum is not None else "")
            )
            self.errors[name] = f"{self.label(name)}应为整数{bounds}"
            return None
        return value

    def percent(self, name: str, *, required: bool = True, maximum_bp: int = 10_000) -> int | None:
        """A rate typed as a percentage ('10', '12.5%') as basis points."""
        if self._missing(name, required):
            return None
        found = _PERCENT.match(self.get(name).rstrip("%％").strip())
        bp = int(found[1]) * 100 + int((found[2] or "").ljust(2, "0")) if found else None
        if bp is None or bp > maximum_bp:
            self.errors[name] = f"{self.label(name)}应为 0 至 {maximum_bp // 100} 之间的百分数，最多两位小数"
            return None
        return bp

    def kilograms(self, name: str, *, required: bool = True) -> int | None:
        """A weight typed in kilograms (three decimals at most) as grams."""
        if self._missing(name, required):
            return None
        found = _KG.match(_plain(self.get(name)).removesuffix("公斤").removesuffix("kg"))
        if not found:
            self.errors[name] = f"{self.label(name)}应为公斤数，最多三位小数"
            return None
        return int(found[1]) * 1000 + int((found[2] or "").ljust(3, "0"))

    def choice(self, name: str, options: Mapping[str, str], *, required: bool = True) -> str | None:
        if self._missing(name, required):
            return None
        value = self.get(name)
        if value not in options:
            self.errors[name] = f"请从列表中选择{self.label(name)}"
            return None
        return value

    def flag(self, name: str) -> bool:
        return self.get(name) in ("1", "on", "true", "yes")

    @property
    def ok(self) -> bool:
        return not self.errors and self.general is None

    def build(self, body: type[T], /, **values: Any) -> T | None:
        """The request `body` of the values read, its limits checked as the API checks them
        (building a Struct directly skips its msgspec.Meta bounds: a weight the API refuses was
        saved, and the season's settlement overflowed later). None, with the field's error, when
        a value is out of bounds."""
        try:
            return msgspec.convert(values, body)
        except msgspec.ValidationError as exc:
            found = _AT_FIELD.search(str(exc))
            field = found[1] if found else ""
            message = "超出允许的范围，请核对" if "<" in str(exc) or ">" in str(exc) else "不符合要求，请核对"
            if field in self.values:
                self.errors[field] = message
            else:
                self.general = f"{self.label(field)}{message}"
            return None

    def take(self, problem: DomainError, aliases: Mapping[str, str] | None = None) -> None:
        """A workflow's refusal: each field it names next to that field of the form (through
        `aliases` where the form calls it otherwise), anything else above the form."""
        aliases = aliases or {}
        unplaced = []
        for error in problem.errors or []:
            field = aliases.get(error["field"], error["field"])
            if field in self.values or field in aliases.values():
                self.errors.setdefault(field, error["message"])
            else:
                unplaced.append(error["message"])
        if not problem.errors or unplaced:
            self.general = "；".join(unplaced) or problem.detail
