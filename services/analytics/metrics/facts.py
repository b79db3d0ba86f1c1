"""From an xAPI statement to a learning fact: which kind of learning, whose (as a pseudonym),
which team, process and ISO week. Statements the profile does not describe make no fact; they
stay in the record store for whoever reads it.

Months are made of whole ISO weeks (a week belongs to the month of its Thursday), so a month is
exactly the sum of its weeks and no two periods overlap partly: differencing a month and its
weeks can only ever give whole weeks, which are suppressed by the same rules.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kit.pseudonyms import pseudonym
from services.analytics.metrics.privacy import ALL

PROFILE = "https://werkvloer.org/xapi"
ACTIVITY_REFLECTION = f"{PROFILE}/activities/reflection"
ACTIVITY_IDEA = f"{PROFILE}/activities/idea"
ACTIVITY_DOCUMENT = f"{PROFILE}/activities/document"
ACTIVITY_COMMENT = "http://activitystrea.ms/schema/1.0/comment"
EXT_TEAM = f"{PROFILE}/extensions/team"
EXT_PROCESS = f"{PROFILE}/extensions/process"
EXT_TAGS = f"{PROFILE}/extensions/tags"
EXT_SUBMITTED_AT = f"{PROFILE}/extensions/submitted-at"
EXT_REALIZED_IMPACT = f"{PROFILE}/extensions/realized-impact"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"

# Verb → kind for the Werkvloer profile (docs/xapi-profile.md).
IDEA_VERBS = {
    "http://activitystrea.ms/schema/1.0/submit": "idea_submitted",
    "http://activitystrea.ms/schema/1.0/accept": "idea_adopted",
    "http://activitystrea.ms/schema/1.0/reject": "idea_rejected",
    f"{PROFILE}/verbs/implemented": "idea_implemented",
    "http://id.tincanapi.com/verb/voted-up": "idea_supported",
    "http://adlnet.gov/expapi/verbs/commented": "idea_commented",
}
DOCUMENT_VERBS = {
    "http://id.tincanapi.com/verb/viewed",
    "http://activitystrea.ms/schema/1.0/consume",
}
ANONYMOUS = "anonymous"


def week_of(moment: datetime) -> date:
    """The Monday of the ISO week `moment` falls in (its own date, in its own offset)."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


def month_of(week: date) -> str:
    """`YYYY-MM` of the month a week (given by its Monday) belongs to: the month of its
    Thursday, as ISO 8601 assigns weeks to years."""
    thursday = week + timedelta(days=3)
    return f"{thursday.year:04d}-{thursday.month:02d}"


def weeks_of(month: str) -> list[date]:
    """The ISO weeks whose Thursday falls in the month."""
    year, number = (int(part) for part in month.split("-"))
    day = date(year, number, 1)
    first = day - timedelta(days=day.weekday())
    if month_of(first) != month:
        first += timedelta(days=7)
    weeks = []
    while month_of(first) == month:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


@dataclass
class Fact:
    """A row of `learning_facts` (models.py), kept as a plain dataclass:
    building ORM objects cost more than the rest of storing a statement."""

    statement_id: uuid.UUID
    person: str
    team: str
    process: str
    week: str
    month: str
    kind: str
    informal: bool
    decision_days: float | None = None
    hours_saved: float | None = None
    work_pressure: float | None = None
    wellbeing: float | None = None


def _kind(statement: dict[str, Any]) -> tuple[str, bool] | None:
    verb = statement["verb"]["id"]
    target = statement.get("object") or {}
    activity_type = (target.get("definition") or {}).get("type")
    if activity_type == ACTIVITY_REFLECTION:
        return ("reflection", True) if verb == COMPLETED else None
    if verb in IDEA_VERBS and activity_type in (ACTIVITY_IDEA, ACTIVITY_COMMENT):
        return IDEA_VERBS[verb], True
    if verb in DOCUMENT_VERBS and activity_type == ACTIVITY_DOCUMENT:
        return "document_consulted", True
    if verb == COMPLETED:
        return "formal_completed", False
    if verb == PASSED:
        return "formal_passed", False
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _name(value: Any, length: int) -> str:
    """A team or process name as a cell key: "*" means "all" there (privacy.ALL), so a team
    or process a statement calls "*" is kept as "(*)" and never merges into a total."""
    name = str(value)[:length]
    return "(*)" if name == ALL else name


def derive(statement: dict[str, Any], actor: str, key: bytes) -> Fact | None:
    """The learning fact of a checked, stamped statement (docs/xapi-profile.md), or None when
    the profile does not describe it. `actor` is the LRS's actor key, made a pseudonym with
    `key`; statements by the shared anonymous account count for no one (an anonymous idea's
    author must not become a countable person). Raises ValueError for a timestamp or
    submitted-at that is not ISO 8601 (checked statements always have one)."""
    found = _kind(statement)
    if found is None or actor.endswith(f"|{ANONYMOUS}"):
        return None
    kind, informal = found
    extensions = (statement.get("context") or {}).get("extensions") or {}
    tags = extensions.get(EXT_TAGS)
    process = extensions.get(EXT_PROCESS) or (tags[0] if isinstance(tags, list) and tags else "")
    at = datetime.fromisoformat(str(statement["timestamp"]).replace("Z", "+00:00"))
    week = week_of(at)
    fact = Fact(
        statement_id=uuid.UUID(statement["id"]),
        person=pseudonym(key, actor),
        team=_name(extensions.get(EXT_TEAM) or "", 64),
        process=_name(process, 100),
        week=week.isoformat(),
        month=month_of(week),
        kind=kind,
        informal=informal,
    )
    if kind in ("idea_adopted", "idea_rejected") and extensions.get(EXT_SUBMITTED_AT):
        submitted = datetime.fromisoformat(str(extensions[EXT_SUBMITTED_AT]))
        fact.decision_days = max(0.0, (at - submitted).total_seconds() / 86400)
    impact = extensions.get(EXT_REALIZED_IMPACT)
    if kind == "idea_implemented" and isinstance(impact, dict):
        fact.hours_saved = _number(impact.get("hours_saved_per_week"))
        fact.work_pressure = _number(impact.get("work_pressure"))
        fact.wellbeing = _number(impact.get("wellbeing"))
    return fact
