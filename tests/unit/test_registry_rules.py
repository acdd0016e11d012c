"""The registry's rules without a database: region codes, household rows, duplicates, status."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.errors import Invalid
from service.core.identity import check_digit
from service.registry.rules import (
    LEVEL_DEPTH,
    HouseholdDraft,
    StatusEvent,
    check_parent,
    check_poverty_line,
    check_region,
    check_row,
    check_status_event,
    derived_status,
    duplicate_errors,
    region_county,
    region_shape_problem,
)

COUNTY = "621223000000"
VILLAGE = "621223100201"
VILLAGES = {VILLAGE: COUNTY}
GROUP_WIDTHS = (2, 2, 2, 3, 3)
LEVELS = list(LEVEL_DEPTH)


def id_number(n: int) -> str:
    first17 = f"620102199001{n % 100:02d}{n % 1000:03d}"
    return first17 + check_digit(first17)


def row(**overrides: str) -> dict[str, str]:
    values = {
        "household_no": "621223100201-00001",
        "village_code": VILLAGE,
        "head_name": "张建国",
        "head_id_number": id_number(7),
        "members": "4",
        "bank_name": "甘肃省农村信用社",
        "bank_account": "6217000000000000001",
        "phone": "13900000001",
        "pin": "246810",
    }
    values.update(overrides)
    return values


def field_of(exc: pytest.ExceptionInfo[Invalid]) -> str:
    assert exc.value.errors
    return exc.value.errors[0]["field"]


# ---- regions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("620000000000", "province"),
        ("621200000000", "city"),
        ("621223000000", "county"),
        ("621223100000", "township"),
        ("621223100201", "village"),
    ],
)
def test_codes_of_the_demo_county_fit_their_levels(code, level):
    assert region_shape_problem(code, level) is None
    for other in LEVELS:
        if other != level:
            assert region_shape_problem(code, other) == f"区域代码 {code} 与级别 {other} 不符"


def test_a_zero_group_above_the_level_does_not_fit():
    # A "village" whose township digits are zero, a county without a city.
    assert region_shape_problem("621223000201", "village")
    assert region_shape_problem("620023000000", "county")


@st.composite
def region_codes(draw: st.DrawFn) -> tuple[str, int]:
    """A code filled down to a depth (each group non-zero there), zeros after it."""
    depth = draw(st.integers(1, 5))
    groups = [draw(st.integers(1, 10**width - 1)) if i < depth else 0 for i, width in enumerate(GROUP_WIDTHS)]
    return "".join(f"{g:0{w}d}" for g, w in zip(groups, GROUP_WIDTHS)), depth


@settings(max_examples=500, deadline=None)
@given(region_codes())
def test_a_code_fits_exactly_the_level_of_its_depth(drawn):
    code, depth = drawn
    fits = [level for level in LEVELS if region_shape_problem(code, level) is None]
    assert fits == [level for level, d in LEVEL_DEPTH.items() if d == depth]


def test_check_region_names_the_field():
    check_region("620000000000", "province", None)
    check_region("621223100201", "village", "621223100000")
    for args, field in (
        (("62122310020", "village", "621223100000"), "code"),
        (("62122310020x", "village", "621223100000"), "code"),
        (("621223100000", "village", "621223100000"), "level"),
        (("621223100201", "village", None), "parent_code"),
        (("621200000000", "city", ""), "parent_code"),
    ):
        with pytest.raises(Invalid) as exc:
            check_region(*args)
        assert field_of(exc) == field, args


def test_a_parent_exists_one_level_up():
    check_parent("621223100000", "township", "village")
    with pytest.raises(Invalid, match="不存在") as exc:
        check_parent("621223100000", None, "village")
    assert field_of(exc) == "parent_code"
    with pytest.raises(Invalid, match="高一级"):
        check_parent("621223000000", "county", "village")


def test_regions_at_or_below_a_county_belong_to_it():
    assert region_county("621223100201", "village") == COUNTY
    assert region_county("621223100000", "township") == COUNTY
    assert region_county(COUNTY, "county") == COUNTY
    assert region_county("621200000000", "city") is None
    assert region_county("620000000000", "province") is None


# ---- one household row ----------------------------------------------------------------------------


def test_a_good_row_becomes_a_draft_in_its_villages_county():
    draft, errors = check_row(
        2, row(head_id_number=" " + id_number(7).lower(), bank_account="6217 0000-0000 0000 001"), VILLAGES
    )
    assert errors == []
    assert draft == HouseholdDraft(
        2,
        "621223100201-00001",
        VILLAGE,
        COUNTY,
        "张建国",
        id_number(7).upper(),
        4,
        "甘肃省农村信用社",
        "6217000000000000001",
        "13900000001",
        "246810",
        None,
    )


def test_optional_fields_may_be_empty():
    draft, errors = check_row(3, row(phone="", pin=" ", split_from=""), VILLAGES)
    assert not errors and draft is not None
    assert draft.phone is None and draft.pin is None and draft.split_from is None
    split = uuid.uuid4()
    draft, _ = check_row(3, row(split_from=str(split)), VILLAGES)
    assert draft is not None and draft.split_from == split


def test_every_bad_field_of_a_row_is_named_with_the_row():
    bad = row(
        household_no="ab",
        village_code="621223100299",
        head_name="",
        head_id_number=id_number(7)[:17] + ("1" if id_number(7)[17] == "0" else "0"),
        members="31",
        bank_name="",
        bank_account="6228-12",
        phone="call me",
        pin="12ab56",
        split_from="not-a-uuid",
    )
    draft, errors = check_row(9, bad, VILLAGES)
    assert draft is None
    assert {e["field"] for e in errors} == {
        "household_no",
        "village_code",
        "head_name",
        "head_id_number",
        "members",
        "bank_name",
        "bank_account",
        "phone",
        "pin",
        "split_from",
    }
    assert all(e["row"] == 9 for e in errors)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("household_no", ""),
        ("household_no", "户号-0001"),
        ("household_no", "x" * 41),
        ("members", "0"),
        ("members", "x"),
        ("members", "-1"),
        ("head_name", "张" * 51),
        ("head_id_number", "620102199002300070"),  # 30 February
    ],
)
def test_one_bad_field_is_the_only_error(field, value):
    draft, errors = check_row(4, row(**{field: value}), VILLAGES)
    assert draft is None and [e["field"] for e in errors] == [field]


# ---- duplicates -----------------------------------------------------------------------------------


def draft(n: int, number: str, person: int, county: str = COUNTY, split_from: uuid.UUID | None = None):
    return HouseholdDraft(
        n, number, VILLAGE, county, "张三", id_number(person), 3, "银行", "6217" + "0" * 15, None, None, split_from
    )


def hashes_of(drafts):
    return {d.row: d.id_number.encode() for d in drafts}


def check(drafts, *, taken_numbers=frozenset(), taken_ids=frozenset(), split_targets=frozenset(), single=False):
    return duplicate_errors(
        drafts,
        hashes_of(drafts),
        taken_numbers=taken_numbers,
        taken_ids=taken_ids,
        split_targets=split_targets,
        single=single,
    )


def test_repeats_within_a_file_name_the_first_row():
    drafts = [draft(2, "A-0001", 1), draft(3, "A-0002", 2), draft(4, "A-0001", 3), draft(5, "A-0003", 1)]
    assert check(drafts) == [
        {"field": "household_no", "message": "户号 A-0001 与第 2 行重复", "row": 4},
        {"field": "head_id_number", "message": "身份证号与第 2 行重复", "row": 5},
    ]


def test_what_the_registry_holds_is_named_once_not_also_as_a_repeat():
    drafts = [draft(2, "A-0001", 1), draft(3, "A-0001", 1)]
    taken = {(COUNTY, id_number(1).encode())}
    errors = check(drafts, taken_numbers={"A-0001"}, taken_ids=taken)
    assert errors == [
        {"field": "household_no", "message": "户号 A-0001 已登记", "row": 2},
        {"field": "head_id_number", "message": "该身份证号已是本县另一户的户主", "row": 2},
        {"field": "household_no", "message": "户号 A-0001 已登记", "row": 3},
        {"field": "head_id_number", "message": "该身份证号已是本县另一户的户主", "row": 3},
    ]


def test_one_person_may_head_households_in_two_counties():
    assert check([draft(2, "A-0001", 1), draft(3, "A-0002", 1, county="621224000000")]) == []


def test_a_split_names_an_existing_household():
    known, unknown = uuid.uuid4(), uuid.uuid4()
    drafts = [draft(2, "A-0001", 1, split_from=known), draft(3, "A-0002", 2, split_from=unknown)]
    assert check(drafts, split_targets={known}) == [{"field": "split_from", "message": "分户来源户不存在", "row": 3}]


def test_a_form_has_no_rows_to_name():
    errors = check([draft(1, "A-0001", 1, split_from=uuid.uuid4())], taken_numbers={"A-0001"}, single=True)
    assert errors == [
        {"field": "household_no", "message": "户号 A-0001 已登记"},
        {"field": "split_from", "message": "分户来源户不存在"},
    ]


def expected_flags(drafts, key, taken):
    """(row, message) a reader expects: taken ones say so, a repeat names the row first seen."""
    first: dict[str, int] = {}
    flags = []
    for d in drafts:
        k = key(d)
        if k in taken:
            flags.append((d.row, "taken"))
        elif k in first:
            flags.append((d.row, f"与第 {first[k]} 行重复"))
        first.setdefault(k, d.row)
    return flags


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=12),
    st.sets(st.integers(0, 5), max_size=3),
    st.sets(st.integers(0, 5), max_size=3),
)
def test_each_repeat_is_flagged_once_against_its_first_row(pairs, taken_numbers, taken_people):
    drafts = [draft(i + 2, f"A-{number:04d}", person) for i, (number, person) in enumerate(pairs)]
    numbers = {f"A-{t:04d}" for t in taken_numbers}
    ids = {(COUNTY, id_number(t).encode()) for t in taken_people}
    errors = check(drafts, taken_numbers=numbers, taken_ids=ids)
    for field, key, taken, taken_message in (
        ("household_no", lambda d: d.household_no, numbers, "已登记"),
        ("head_id_number", lambda d: (d.county_code, d.id_number.encode()), ids, "已是本县另一户的户主"),
    ):
        flagged = [(e["row"], e["message"]) for e in errors if e["field"] == field]
        expected = expected_flags(drafts, key, taken)
        assert [r for r, _ in flagged] == [r for r, _ in expected]
        for (_, message), (_, want) in zip(flagged, expected):
            assert (taken_message if want == "taken" else want) in message
    # A file of distinct numbers and people, none registered, passes.
    if len({d.household_no for d in drafts}) == len({d.id_number for d in drafts}) == len(drafts):
        if not numbers and not ids:
            assert errors == []


# ---- status ---------------------------------------------------------------------------------------


def event(kind: str, day: dt.date, second: int = 0) -> StatusEvent:
    return StatusEvent(kind, day, dt.datetime(2030, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=second))


def test_no_event_is_not_registered():
    assert derived_status([]) == "not_registered"


def test_the_latest_effective_event_decides_whenever_it_was_recorded():
    events = [
        event("registered", dt.date(2016, 3, 1), 0),
        event("exited", dt.date(2024, 9, 30), 2),
        event("returned", dt.date(2023, 1, 1), 3),  # recorded later, effective earlier
    ]
    assert derived_status(events) == "exited"
    assert derived_status(events + [event("xiaokang", dt.date(2025, 1, 1), 1)]) == "xiaokang"
    assert derived_status(events + [event("returned", dt.date(2024, 9, 30), 4)]) == "poor"


KINDS = st.sampled_from(["registered", "exited", "returned", "xiaokang"])


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(KINDS, st.dates(dt.date(2016, 1, 1), dt.date(2030, 12, 31))),
        min_size=1,
        max_size=10,
    ),
    st.randoms(use_true_random=False),
)
def test_status_does_not_depend_on_the_order_events_are_read(drawn, rng):
    events = [event(kind, day, second) for second, (kind, day) in enumerate(drawn)]
    shuffled = list(events)
    rng.shuffle(shuffled)
    status = derived_status(events)
    assert derived_status(shuffled) == status
    latest = max(events, key=lambda e: (e.effective_date, e.recorded_at))
    assert status == {"registered": "poor", "returned": "poor", "exited": "exited", "xiaokang": "xiaokang"}[latest.kind]


def test_an_event_is_effective_within_its_year():
    check_status_event(2024, dt.date(2024, 12, 31))
    with pytest.raises(Invalid) as exc:
        check_status_event(2024, dt.date(2025, 1, 1))
    assert field_of(exc) == "effective_date"


# ---- poverty lines --------------------------------------------------------------------------------


def test_poverty_lines_years_and_order():
    check_poverty_line(2024, 400_000, 1_000_000)
    for args, field in (((1999, 1, 2), "year"), ((2101, 1, 2), "year"), ((2024, 5, 5), "xiaokang_line_fen")):
        with pytest.raises(Invalid) as exc:
            check_poverty_line(*args)
        assert field_of(exc) == field
