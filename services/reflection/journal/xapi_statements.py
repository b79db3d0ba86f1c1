"""What analytics learns of a reflection: that it was completed, with its model and process.
Never its content; nothing at all when the worker opted out (checked by the caller)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kit import xapi
from kit.auth import Principal
from kit.outbox import enqueue
from services.reflection.journal.models import Reflection

ACTIVITY_REFLECTION = "https://werkvloer.org/xapi/activities/reflection"
VERB_COMPLETED = ("http://adlnet.gov/expapi/verbs/completed", "completed")
EXT_MODEL = "https://werkvloer.org/xapi/extensions/reflection-model"
EXT_PROCESS = "https://werkvloer.org/xapi/extensions/process"
EXT_TEAM = "https://werkvloer.org/xapi/extensions/team"


def reflection_finished(
    session: AsyncSession, public_url: str, reflection: Reflection, who: Principal, at: datetime
) -> None:
    """Put the xAPI statement "`who` completed reflection `reflection` at `at`" in the outbox,
    in `session`'s transaction: its model, process and team (the first by name), nothing it
    says (docs/xapi-profile.md)."""
    home = public_url.rstrip("/")
    extensions = {EXT_MODEL: reflection.model_key}
    if reflection.process:
        extensions[EXT_PROCESS] = reflection.process
    if who.teams:  # for team metrics; with several teams, the first by name
        extensions[EXT_TEAM] = sorted(who.teams)[0]
    statement = xapi.statement(
        actor=xapi.agent(home, who.subject),
        verb=xapi.verb(*VERB_COMPLETED),
        object=xapi.activity(f"{home}/reflections/{reflection.id}", ACTIVITY_REFLECTION),
        timestamp=at,
        context={"platform": "Werkvloer", "extensions": extensions},
        result={"completion": True},
    )
    enqueue(session, xapi.XAPI_TOPIC, uuid.UUID(statement["id"]), statement)
