from datetime import date

import pytest

from service.awards.rules import (
    CrossCheckHit,
    EarlierAward,
    EligibilityFacts,
    StatusEvent,
    check_eligibility,
)

REGISTERED_2014 = StatusEvent("registered", 2014, date(2014, 6, 1))
EXITED_2024 = StatusEvent("exited", 2024, date(2024, 11, 20))


def facts(**changes) -> EligibilityFacts:
    base = dict(
        kind="exit",
        year=2024,
        status_events=(REGISTERED_2014, EXITED_2024),
        declared_income_fen=520_000,  # 5,200.00 yuan per person
        poverty_line_fen=400_000,  # 4,000.00
        xiaokang_line_fen=1_000_000,
    )
    base.update(changes)
    return EligibilityFacts(**base)


def by_name(result):
    return {check.name: check for check in result.checks}


def test_clean_exit_application_is_eligible():
    result = check_eligibility(facts())
    assert result.outcome == "eligible"
    assert list(by_name(result)) == [
        "registered_poor_at_year_start",
        "exit_recorded",
        "income_at_or_above_line",
        "no_earlier_exit_award",
        "no_cross_check_hit",
        "split_after_registration",
    ]
    assert all(check.passed for check in result.checks)
    assert "5200.00" in by_name(result)["income_at_or_above_line"].detail


def test_income_exactly_at_the_line_passes_and_one_fen_below_fails():
    assert check_eligibility(facts(declared_income_fen=400_000)).outcome == "eligible"
    result = check_eligibility(facts(declared_income_fen=399_999))
    assert result.outcome == "ineligible"
    assert by_name(result)["income_at_or_above_line"].detail.startswith("申报人均纯收入 3999.99 元，低于")


def test_split_household_with_earlier_exit_award_is_ineligible():
    result = check_eligibility(
        facts(
            earlier_exit_awards=(EarlierAward("h-parent", 2019, "split_from"),),
            split_after_registration=True,
        )
    )
    assert result.outcome == "ineligible"
    checks = by_name(result)
    assert not checks["no_earlier_exit_award"].passed
    assert "h-parent" in checks["no_earlier_exit_award"].detail
    assert not checks["split_after_registration"].passed


def test_split_without_earlier_award_is_held_not_rejected():
    result = check_eligibility(facts(split_after_registration=True))
    assert result.outcome == "held"
    assert [c.name for c in result.failed] == ["split_after_registration"]


def test_cross_check_hit_holds_the_application():
    result = check_eligibility(facts(cross_check_hits=(CrossCheckHit("vehicle", "甘A12345 小型轿车"),)))
    assert result.outcome == "held"
    check = by_name(result)["no_cross_check_hit"]
    assert not check.passed and check.effect == "hold"
    assert "车辆登记" in check.detail and "甘A12345" in check.detail


def test_plain_tuples_are_accepted_for_events_and_hits():
    result = check_eligibility(
        facts(
            status_events=(("registered", 2014, date(2014, 6, 1)), ("exited", 2024, date(2024, 11, 20))),
            cross_check_hits=(("public_payroll", "县教育局"),),
        )
    )
    assert result.outcome == "held"


def test_not_registered_at_year_start():
    # Registered in March 2024: not a registered poor household on 1 January 2024.
    result = check_eligibility(facts(status_events=(StatusEvent("registered", 2024, date(2024, 3, 1)), EXITED_2024)))
    assert result.outcome == "ineligible"
    assert [c.name for c in result.failed] == ["registered_poor_at_year_start"]


def test_exit_of_another_year_or_returned_to_poverty():
    no_exit_this_year = check_eligibility(
        facts(status_events=(REGISTERED_2014, StatusEvent("exited", 2023, date(2023, 11, 1))))
    )
    assert no_exit_this_year.outcome == "ineligible"
    assert {c.name for c in no_exit_this_year.failed} == {"registered_poor_at_year_start", "exit_recorded"}

    returned = check_eligibility(
        facts(status_events=(REGISTERED_2014, EXITED_2024, StatusEvent("returned", 2024, date(2024, 12, 10))))
    )
    assert [c.name for c in returned.failed] == ["exit_recorded"]
    assert "返贫" in returned.failed[0].detail


def test_returned_household_counts_as_registered_at_year_start():
    events = (
        REGISTERED_2014,
        StatusEvent("exited", 2020, date(2020, 11, 1)),
        StatusEvent("returned", 2021, date(2021, 5, 1)),
        EXITED_2024,
    )
    assert check_eligibility(facts(status_events=events)).outcome == "eligible"


def test_xiaokang_award_uses_the_xiaokang_line():
    result = check_eligibility(facts(kind="xiaokang", declared_income_fen=1_000_000, status_events=()))
    assert result.outcome == "eligible"
    assert [c.name for c in result.checks] == ["income_at_or_above_line", "no_cross_check_hit"]
    assert "小康标准 10000.00 元" in result.checks[0].detail
    assert check_eligibility(facts(kind="xiaokang", declared_income_fen=999_999)).outcome == "ineligible"


def test_bad_facts_are_refused():
    with pytest.raises(ValueError):
        check_eligibility(facts(kind="other"))
    with pytest.raises(ValueError):
        check_eligibility(facts(status_events=(("moved", 2024, date(2024, 1, 1)),)))
