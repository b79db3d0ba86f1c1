"""Tables of the learning metrics — learning facts, each person's last team, the months to
rebuild and the published-or-suppressed cells — and the shapes `/v1/metrics` answers with."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel
from pydantic import Field as Described
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

GroupBy = Literal["none", "team", "process", "team,process"]


class LearningFact(SQLModel, table=True):
    """What a statement means for the metrics, keyed by a pseudonym instead of the person.

    Made when a statement is stored (and removed when it is voided or its person erased), so
    metrics never read statement bodies."""

    __tablename__ = "learning_facts"

    statement_id: uuid.UUID = Field(primary_key=True)
    person: str = Field(max_length=64, index=True)  # HMAC of the actor, see kit/pseudonyms.py
    team: str = Field(max_length=64)  # "" when unknown
    process: str = Field(max_length=100)  # "" when none
    week: str = Field(max_length=10)  # the ISO week's Monday, YYYY-MM-DD
    month: str = Field(max_length=7, index=True)  # YYYY-MM of the week's Thursday
    kind: str = Field(max_length=30)
    informal: bool = True  # False: formal learning reported by an LMS
    decision_days: float | None = None
    hours_saved: float | None = None
    work_pressure: float | None = None
    wellbeing: float | None = None


class PersonTeam(SQLModel, table=True):
    """A pseudonymous person's last known team, for statements (from an LMS) that carry none."""

    __tablename__ = "person_teams"

    person: str = Field(primary_key=True, max_length=64)
    team: str = Field(max_length=64)


class MetricMonth(SQLModel, table=True):
    """A month whose cells must be rebuilt before they are read (new, voided or erased facts)."""

    __tablename__ = "metric_months"

    month: str = Field(primary_key=True, max_length=7)
    dirty: bool = True


class MetricCell(SQLModel, table=True):
    """One published-or-suppressed number set: a period (week or month), a team and a process, where
    "*" means all. Built per month with the small-group and differencing rules applied."""

    __tablename__ = "metric_cells"

    period: str = Field(primary_key=True, max_length=12)  # W2026-11-16 or M2026-11
    team: str = Field(primary_key=True, max_length=64)
    process: str = Field(primary_key=True, max_length=100)
    month: str = Field(max_length=7, index=True)
    people: int
    suppressed: bool
    values: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class MetricRow(BaseModel):
    """One row of a metrics table: a closed week or month, a team and a process."""

    period_start: date
    period_end: date = Described(description="The last day of the period (a Sunday).")
    team: str | None = Described(
        description='Null: all teams (for a coach: all of their own teams). "" is people with '
        "no known team."
    )
    process: str | None = Described(description='Null: all processes. "" is "no process named".')
    suppressed: bool = Described(description="Too few people: every number of the row is hidden.")
    metrics: dict[str, float | int | None] = Described(
        description="Null where the number rests on too few people, could be derived by "
        "differencing, or is computed from a hidden number (docs/privacy.md)."
    )


class MetricTable(BaseModel):
    """The answer of `/v1/metrics`: rows in period order, and the minimum group applied."""

    period: Literal["week", "month"]
    group_by: GroupBy
    min_group_size: int
    rows: list[MetricRow]
