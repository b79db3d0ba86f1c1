"""Statement → learning fact, without HTTP (services/analytics/metrics/facts.py): which kind of
learning a statement is, whose (a pseudonym), which team, process and ISO week, and the month a
week belongs to (the month of its Thursday, so a month is exactly the sum of its weeks)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from kit.pseudonyms import pseudonym
from services.analytics.metrics.facts import (
    ACTIVITY_IDEA,
    ACTIVITY_REFLECTION,
    EXT_PROCESS,
    EXT_REALIZED_IMPACT,
    EXT_SUBMITTED_AT,
    EXT_TAGS,
    EXT_TEAM,
    derive,
    month_of,
    week_of,
    weeks_of,
)

KEY = b"k" * 32
ACTOR = "account:https://werkvloer.example|alice"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def made(
    verb: str,
    activity_type: str | None = None,
    extensions: dict[str, Any] | None = None,
    at: str = "2026-10-08T09:00:00+00:00",
) -> dict[str, Any]:
    target: dict[str, Any] = {"objectType": "Activity", "id": "https://x.example/a/1"}
    if activity_type is not None:
        target["definition"] = {"type": activity_type}
    statement: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "verb": {"id": verb},
        "object": target,
        "timestamp": at,
    }
    if extensions is not None:
        statement["context"] = {"extensions": extensions}
    return statement


@pytest.mark.parametrize(
    ("moment", "monday", "month"),
    [
        ("2026-10-08T09:00:00+00:00", date(2026, 10, 5), "2026-10"),  # a Thursday
        ("2026-10-04T23:59:00+00:00", date(2026, 9, 28), "2026-10"),  # Sunday; Thursday 1 Oct
        ("2026-09-30T08:00:00+00:00", date(2026, 9, 28), "2026-10"),  # September, October's week
        ("2026-11-01T08:00:00+00:00", date(2026, 10, 26), "2026-10"),  # November, October's week
        ("2026-01-01T08:00:00+00:00", date(2025, 12, 29), "2026-01"),  # ISO week 1 of 2026
        ("2027-01-01T08:00:00+00:00", date(2026, 12, 28), "2026-12"),  # ISO week 53 of 2026
    ],
)
def test_a_moment_falls_in_its_iso_week_and_the_week_in_the_month_of_its_thursday(
    moment: str, monday: date, month: str
) -> None:
    week = week_of(datetime.fromisoformat(moment))
    assert week == monday and week.isoweekday() == 1
    assert month_of(week) == month


def test_a_month_is_exactly_its_weeks() -> None:
    assert weeks_of("2026-10") == [date(2026, 9, 28) + timedelta(weeks=n) for n in range(5)]
    # Over two years, the weeks of the days assigned to a month are exactly `weeks_of` it: a
    # month is the sum of whole weeks, and no week is in two months.
    day, month_of_week = date(2025, 1, 1), {}
    while day < date(2027, 1, 1):
        week = week_of(datetime(day.year, day.month, day.day, tzinfo=UTC))
        month_of_week[week] = month_of(week)
        day += timedelta(days=1)
    for month in set(month_of_week.values()) - {"2024-12", "2027-01"}:  # partly seen
        assert sorted(w for w, m in month_of_week.items() if m == month) == weeks_of(month)


def test_a_completed_reflection_is_informal_learning_of_its_team_and_process() -> None:
    statement = made(COMPLETED, ACTIVITY_REFLECTION, {EXT_TEAM: "packaging", EXT_PROCESS: "x"})
    fact = derive(statement, ACTOR, KEY)
    assert fact is not None
    assert (fact.kind, fact.informal, fact.team, fact.process) == (
        "reflection", True, "packaging", "x",
    )  # fmt: skip
    assert fact.person == pseudonym(KEY, ACTOR) and ACTOR not in fact.person
    assert (fact.week, fact.month) == ("2026-10-05", "2026-10")
    assert fact.statement_id == uuid.UUID(statement["id"])


def test_lms_completions_and_passes_are_formal_learning_without_a_team() -> None:
    completed = derive(made(COMPLETED), ACTOR, KEY)
    passed = derive(made("http://adlnet.gov/expapi/verbs/passed"), ACTOR, KEY)
    assert completed is not None and passed is not None
    assert (completed.kind, completed.informal, completed.team) == ("formal_completed", False, "")
    assert (passed.kind, passed.informal) == ("formal_passed", False)


def test_statements_the_profile_does_not_describe_make_no_fact() -> None:
    assert derive(made("http://adlnet.gov/expapi/verbs/experienced"), ACTOR, KEY) is None
    # A reflection counts only when completed.
    assert derive(made("http://x.example/started", ACTIVITY_REFLECTION), ACTOR, KEY) is None


def test_the_shared_anonymous_account_counts_for_no_one() -> None:
    submitted = made("http://activitystrea.ms/schema/1.0/submit", ACTIVITY_IDEA)
    assert derive(submitted, "account:https://werkvloer.example|anonymous", KEY) is None
    assert derive(submitted, ACTOR, KEY) is not None


def test_a_decision_counts_its_days_and_an_implementation_its_impact() -> None:
    accepted = made(
        "http://activitystrea.ms/schema/1.0/accept",
        ACTIVITY_IDEA,
        {EXT_SUBMITTED_AT: "2026-10-06T09:00:00+00:00"},
    )
    decided = derive(accepted, ACTOR, KEY)
    assert decided is not None and decided.kind == "idea_adopted"
    assert decided.decision_days == 2.0
    impact = {"hours_saved_per_week": 1.5, "work_pressure": -1, "wellbeing": True}
    implemented = made(
        "https://werkvloer.org/xapi/verbs/implemented",
        ACTIVITY_IDEA,
        {EXT_REALIZED_IMPACT: impact},
    )
    done = derive(implemented, ACTOR, KEY)
    assert done is not None and done.kind == "idea_implemented"
    # A boolean is not a number: it is left out rather than counted as 1.
    assert (done.hours_saved, done.work_pressure, done.wellbeing) == (1.5, -1.0, None)


def test_a_process_comes_from_the_first_tag_and_a_team_called_all_stays_apart() -> None:
    tagged = made(COMPLETED, ACTIVITY_REFLECTION, {EXT_TEAM: "*", EXT_TAGS: ["onboarding", "x"]})
    fact = derive(tagged, ACTOR, KEY)
    assert fact is not None
    # "*" means "all" in a cell key; a team named so must never merge into a total.
    assert (fact.team, fact.process) == ("(*)", "onboarding")
