"""The review workflow's rules and the list cursors, called directly: no HTTP, no database.

The expected table is written out here from docs/ideas.md ("Workflow"), independently of
services/ideas/service/workflow.py: every status, every kind of person, every target status.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from kit.cursors import InvalidCursor
from services.ideas.fields import Status
from services.ideas.models import Idea
from services.ideas.repository.ideas import Sort, decode_cursor, encode_cursor
from services.ideas.service.workflow import TransitionRefused, check_transition

S = Status
REVIEW = (S.submitted, S.in_review, S.accepted, S.piloting)
FORWARD = {
    S.submitted: S.in_review,
    S.in_review: S.accepted,
    S.accepted: S.piloting,
    S.piloting: S.implemented,
}
# (from, to) -> who makes the move; everything else does not exist.
AUTHOR, COACH = "author", "coach"
MOVES: dict[tuple[Status, Status], str] = {
    (S.draft, S.submitted): AUTHOR,
    (S.draft, S.withdrawn): AUTHOR,
    (S.parked, S.in_review): COACH,
    (S.parked, S.withdrawn): AUTHOR,
    **{(s, FORWARD[s]): COACH for s in REVIEW},
    **{(s, S.rejected): COACH for s in REVIEW},
    **{(s, S.parked): COACH for s in REVIEW},
    **{(s, S.withdrawn): AUTHOR for s in REVIEW},
}
NEEDS_REASON = {S.rejected, S.parked}
# name -> (is_author, is_team_coach, is_admin)
PEOPLE = {
    "author": (True, False, False),
    "coach of the team": (False, True, False),
    "coach who wrote it": (True, True, False),
    "colleague": (False, False, False),
    "admin": (False, False, True),
}


def expected(current: Status, target: Status, person: str, reason: str | None) -> str:
    """ "ok" or the refusal code the rules should give."""
    is_author, is_coach, is_admin = PEOPLE[person]
    kind = MOVES.get((current, target))
    if kind is None:
        return "transition_not_allowed"
    may = is_admin or (is_author if kind == AUTHOR else is_coach and not is_author)
    if not may:
        return "transition_forbidden"
    if target in NEEDS_REASON and not (reason and reason.strip()):
        return "reason_required"
    return "ok"


def outcome(current: Status, target: Status, person: str, reason: str | None) -> str:
    is_author, is_coach, is_admin = PEOPLE[person]
    try:
        check_transition(
            current,
            target,
            is_author=is_author,
            is_team_coach=is_coach,
            is_admin=is_admin,
            reason=reason,
        )
    except TransitionRefused as refused:
        assert refused.forbidden == (refused.code == "transition_forbidden")
        return refused.code
    return "ok"


@pytest.mark.parametrize("reason", [None, "  ", "Te duur voor dit jaar."])
@pytest.mark.parametrize("person", list(PEOPLE))
@pytest.mark.parametrize("current", list(Status))
def test_every_status_person_and_target(current: Status, person: str, reason: str | None) -> None:
    for target in Status:
        got = outcome(current, target, person, reason)
        assert got == expected(current, target, person, reason), (current, target, person)


def test_the_table_has_the_documented_moves_and_no_others() -> None:
    allowed = {
        (current, target)
        for current in Status
        for target in Status
        if outcome(current, target, "admin", "a reason") == "ok"
    }
    assert allowed == set(MOVES)


def test_coaches_do_not_review_their_own_ideas() -> None:
    for current in (*REVIEW, S.parked):
        for target in Status:
            if MOVES.get((current, target)) == COACH:
                got = outcome(current, target, "coach who wrote it", "a reason")
                assert got == "transition_forbidden", (current, target)


def test_drafts_have_no_reviewer_moves() -> None:
    for target in Status:
        assert outcome(S.draft, target, "coach of the team", "a reason") != "ok"
    assert {t for t in Status if outcome(S.draft, t, "author", None) == "ok"} == {
        S.submitted,
        S.withdrawn,
    }


def test_finished_ideas_move_no_more() -> None:
    for current in (S.implemented, S.rejected, S.withdrawn):
        for target in Status:
            assert outcome(current, target, "admin", "a reason") == "transition_not_allowed"


def _idea(**fields: object) -> Idea:
    moment = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "created_at": moment,
        "updated_at": moment.replace(hour=9),
        "support_count": 7,
        **fields,
    }
    return Idea(**values)


@pytest.mark.parametrize("sort", list(Sort))
def test_cursors_round_trip(sort: Sort) -> None:
    idea = _idea()
    value, last_id = decode_cursor(encode_cursor(idea, sort), sort)
    assert last_id == idea.id
    assert (
        value
        == {
            Sort.newest: idea.created_at,
            Sort.most_supported: 7,
            Sort.recently_updated: idea.updated_at,
        }[sort]
    )


@pytest.mark.parametrize(
    "token", ["%%%", "", "bm90IGpzb24", "WzEsMiwzXQ", "WyJuZXdlc3QiLCJ4IiwieSJd"]
)
def test_cursors_this_list_did_not_hand_out_are_400(token: str) -> None:
    with pytest.raises(InvalidCursor) as refused:
        decode_cursor(token, Sort.newest)
    assert (refused.value.status_code, refused.value.code) == (400, "invalid_cursor")


def test_a_cursor_of_another_sort_order_is_refused() -> None:
    token = encode_cursor(_idea(), Sort.newest)
    with pytest.raises(InvalidCursor):
        decode_cursor(token, Sort.recently_updated)
    with pytest.raises(InvalidCursor):
        decode_cursor(token, Sort.most_supported)
