"""decode_cursor reads each part of a key as the list says, or refuses the cursor in words."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from service.core.errors import DomainError
from service.core.pagination import decode_cursor, encode_cursor

MOMENT = dt.datetime(2026, 1, 10, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
KEY = uuid.UUID("3f1c2d4e-0000-4000-8000-000000000001")


def test_a_cursor_the_service_made_reads_back_as_its_key():
    assert decode_cursor(encode_cursor([41]), int) == [41]
    assert decode_cursor(encode_cursor(["621223100201-001"]), str) == ["621223100201-001"]
    made = encode_cursor([MOMENT.isoformat(), str(KEY)])
    assert decode_cursor(made, dt.datetime, uuid.UUID) == [MOMENT, KEY]
    assert decode_cursor(encode_cursor(["2025-06-01", "x"]), dt.date, str) == [dt.date(2025, 6, 1), "x"]
    assert decode_cursor(None, int) is None and decode_cursor("", int) is None


@pytest.mark.parametrize(
    "key, kinds",
    [
        (["1"], (int,)),
        ([True], (int,)),
        ([2**63], (int,)),
        ([1.5], (int,)),
        ([1], (str,)),
        (["a\u0000b"], (str,)),
        (["x" * 201], (str,)),
        (["2025-02-30"], (dt.date,)),
        (["yesterday", str(KEY)], (dt.datetime, uuid.UUID)),
        ([MOMENT.isoformat(), "3f1c"], (dt.datetime, uuid.UUID)),
        ([1, 2], (int,)),
    ],
)
def test_a_hand_made_cursor_is_refused_naming_the_cursor(key, kinds):
    with pytest.raises(DomainError) as refused:
        decode_cursor(encode_cursor(key), *kinds)
    assert "cursor" in str(refused.value.__dict__) and "分页游标无效" in refused.value.detail
