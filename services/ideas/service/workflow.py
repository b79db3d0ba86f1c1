"""The review workflow of an idea: which status may follow which, and who may make the move.

Pure rules, no I/O: `service/ideas.py` asks `check_transition` and acts on the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kit.errors import Conflict
from services.ideas.fields import Status


class Actor(StrEnum):
    """The capacity in which someone acts on one idea."""

    author = "author"
    coach = "coach"  # a coach of the idea's team who is not its author


@dataclass(frozen=True)
class Move:
    """One move of the table: who makes it, and whether it needs a public reason."""

    actor: Actor
    reason_required: bool = False


_A = Move(Actor.author)
_C = Move(Actor.coach)
_C_REASON = Move(Actor.coach, reason_required=True)

# The review states are submitted, in_review, accepted and piloting: from each, a coach may
# reject or park (with a public reason) and the author may withdraw.
TRANSITIONS: dict[Status, dict[Status, Move]] = {
    Status.draft: {Status.submitted: _A, Status.withdrawn: _A},
    Status.submitted: {
        Status.in_review: _C,
        Status.rejected: _C_REASON,
        Status.parked: _C_REASON,
        Status.withdrawn: _A,
    },
    Status.in_review: {
        Status.accepted: _C,
        Status.rejected: _C_REASON,
        Status.parked: _C_REASON,
        Status.withdrawn: _A,
    },
    Status.accepted: {
        Status.piloting: _C,
        Status.rejected: _C_REASON,
        Status.parked: _C_REASON,
        Status.withdrawn: _A,
    },
    Status.piloting: {
        Status.implemented: _C,
        Status.rejected: _C_REASON,
        Status.parked: _C_REASON,
        Status.withdrawn: _A,
    },
    Status.parked: {Status.in_review: _C, Status.withdrawn: _A},
    Status.implemented: {},
    Status.rejected: {},
    Status.withdrawn: {},
}

# While nobody has started reviewing, the author may still change what the idea says.
EDITABLE_CONTENT = frozenset({Status.draft, Status.submitted})
# Realised impact is known only once the change is tried.
IMPACT_RECORDABLE = frozenset({Status.piloting, Status.implemented})


class TransitionRefused(Exception):
    """A move the rules refuse: `code` (`transition_not_allowed`, `transition_forbidden`
    when `forbidden`, `reason_required`) and a message for people."""

    def __init__(self, code: str, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.forbidden = forbidden


def check_transition(
    current: Status,
    target: Status,
    *,
    is_author: bool,
    is_team_coach: bool,
    is_admin: bool,
    reason: str | None,
) -> Move:
    """Return the move, or raise `TransitionRefused` (409 when the move does not exist,
    403 when it exists but this person may not make it, 422 when the reason is missing)."""
    move = TRANSITIONS[current].get(target)
    if move is None:
        raise TransitionRefused(
            "transition_not_allowed", f"an idea cannot go from {current} to {target}"
        )
    allowed = is_admin or (
        (move.actor is Actor.author and is_author)
        or (move.actor is Actor.coach and is_team_coach and not is_author)
    )
    if not allowed:
        who = "its author" if move.actor is Actor.author else "a coach of the idea's team"
        if move.actor is Actor.coach and is_author and is_team_coach:
            who += " other than its author"
        raise TransitionRefused(
            "transition_forbidden", f"only {who} may move it to {target}", forbidden=True
        )
    if move.reason_required and not (reason and reason.strip()):
        raise TransitionRefused("reason_required", f"moving to {target} needs a public reason")
    return move


# Support is refused in these states (docs/ideas.md, "Support, follow, discuss").
NOT_SUPPORTABLE = (Status.draft, Status.withdrawn)


class IdeaNotOpen(Conflict):
    """409 `idea_not_open`: support on a draft or withdrawn idea; the request rolls back."""

    code = "idea_not_open"
