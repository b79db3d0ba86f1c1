"""The journal's pure rules without HTTP or a database: which stage may be answered and when a
reflection may be finished, with whom it may be shared, who may read it, which citations a guide
may keep, and how a passage the reader may not open is withheld. The HTTP tests beside this file
(test_journal.py, test_passage_visibility.py) check the same rules end to end."""

from __future__ import annotations

import uuid

import pytest

from kit.auth import Principal
from kit.errors import Conflict, Unprocessable
from services.reflection.access import can_read_reflection
from services.reflection.guide.base import GuideSummary, Passage, Point, cited_ids
from services.reflection.guide.base import keep_known_citations as keep
from services.reflection.guide.catalogue import load_catalogue
from services.reflection.journal import records
from services.reflection.journal.idea_drafts import idea_draft_key, title_of
from services.reflection.journal.models import Reflection, ReflectionStatus, ReflectionTurn
from services.reflection.journal.presenting import WITHHELD, citation, public
from services.reflection.journal.service import (
    check_answerable,
    check_finishable,
    teams_to_share_with,
)

MODEL = load_catalogue()["what-so-what-now-what"]  # stages what, so-what, now-what
DOCUMENT = str(uuid.uuid4())
PASSAGE = Passage("c1", "chunk-7", DOCUMENT, "Storingsprocedure", ["Melden"], "Meld elke storing.")


def person(subject: str, *teams: str, roles: str = "worker") -> Principal:
    return Principal(subject, subject, frozenset(teams), frozenset(roles.split()))


def reflection(
    stage_index: int = 0, status: ReflectionStatus = ReflectionStatus.open
) -> Reflection:
    return Reflection(
        author_id="ann",
        model_key=MODEL.key,
        language="nl",
        experience="De lijn stond stil.",
        stage_index=stage_index,
        status=status.value,
    )


def code_of(error: pytest.ExceptionInfo[Exception]) -> str:
    return str(getattr(error.value, "code", ""))


# ---- stage progression ----------------------------------------------------------------------


def test_only_the_waiting_stage_may_be_answered_in_the_models_order() -> None:
    check_answerable(reflection(0), MODEL, "what")
    check_answerable(reflection(2), MODEL, "now-what")
    with pytest.raises(Conflict) as skipped:
        check_answerable(reflection(0), MODEL, "so-what")
    assert code_of(skipped) == "stage_out_of_order"
    assert skipped.value.details == {"expected": "what"}


def test_no_answer_once_every_stage_is_answered_or_the_reflection_is_finished() -> None:
    with pytest.raises(Conflict) as complete:
        check_answerable(reflection(3), MODEL, "now-what")
    assert code_of(complete) == "stages_complete"
    with pytest.raises(Conflict) as finished:
        check_answerable(reflection(3, ReflectionStatus.finished), MODEL, "now-what")
    assert code_of(finished) == "reflection_finished"


def test_finishing_needs_every_stage_answered_and_happens_once() -> None:
    check_finishable(reflection(3), MODEL)
    with pytest.raises(Conflict) as early:
        check_finishable(reflection(1), MODEL)
    assert code_of(early) == "stages_unanswered"
    assert early.value.details == {"remaining": ["so-what", "now-what"]}
    with pytest.raises(Conflict) as again:
        check_finishable(reflection(3, ReflectionStatus.finished), MODEL)
    assert code_of(again) == "reflection_finished"


# ---- sharing and reading --------------------------------------------------------------------


def test_a_share_goes_to_the_authors_own_teams_only() -> None:
    ann = person("ann", "packaging", "night-shift")
    assert teams_to_share_with(None, ann) == ["night-shift", "packaging"]
    assert teams_to_share_with(["packaging", "packaging"], ann) == ["packaging"]
    with pytest.raises(Unprocessable) as foreign:
        teams_to_share_with(["logistics", "packaging"], ann)
    assert code_of(foreign) == "not_your_team" and foreign.value.details == {"teams": ["logistics"]}
    with pytest.raises(Unprocessable) as none:
        teams_to_share_with(None, person("eve"))
    assert code_of(none) == "no_team"
    with pytest.raises(Unprocessable) as empty:
        teams_to_share_with([], ann)
    assert code_of(empty) == "no_team"


def test_a_reflection_is_read_by_its_author_and_the_teams_it_is_shared_with_not_admins() -> None:
    assert can_read_reflection("ann", [], person("ann"))
    assert not can_read_reflection("ann", [], person("bob", "packaging"))
    assert can_read_reflection("ann", ["packaging"], person("bob", "packaging"))
    assert not can_read_reflection("ann", ["packaging"], person("dirk", "logistics", roles="coach"))
    assert not can_read_reflection("ann", [], person("root", roles="admin"))


# ---- citations ------------------------------------------------------------------------------


def test_cited_ids_are_read_once_each_in_order() -> None:
    text = "Zie [c2] en [a1, c2] maar niet [x9] of [c1234]; wel [c1,a3]."
    assert cited_ids(text) == ["c2", "a1", "c1", "a3"]


def test_a_guide_keeps_only_citations_it_was_given() -> None:
    cleaned, stripped = keep("Volgens de kaart [c1, c7] moet je melden [c9].", {"c1", "a1"})
    assert cleaned == "Volgens de kaart [c1] moet je melden."
    assert stripped == ["c7", "c9"]


def test_stored_records_read_back_as_the_guides_objects() -> None:
    assert records.passage_of(records.passage_record(PASSAGE)) == PASSAGE
    summary = GuideSummary("Stil.", [Point("Kaart lezen.", ["a2"])], [], engine="guided")
    stored = records.summary_record(summary)
    assert stored["learning_points"] == [{"text": "Kaart lezen.", "citations": ["a2"]}]
    assert stored["stripped_citations"] == [] and stored["notice"] is None


def test_a_passage_the_reader_may_not_open_shows_its_id_only() -> None:
    record = records.passage_record(PASSAGE)
    assert citation(record, frozenset({DOCUMENT})).text == "Meld elke storing."
    hidden = citation(record, frozenset())
    assert hidden.id == "c1" and not hidden.readable
    assert (hidden.text, hidden.document_id, hidden.section) == (None, None, [])


def test_a_question_and_a_summary_point_resting_on_an_unreadable_passage_are_withheld() -> None:
    row = reflection(3, ReflectionStatus.finished)
    row.summary = records.summary_record(
        GuideSummary("Stil [c1].", [Point("Melden [c1].", ["c1"])], [], engine="guided")
    )
    turn = ReflectionTurn(
        reflection_id=row.id,
        stage_index=0,
        stage_key="what",
        question="Volgens de kaart: “Meld elke storing.” [c1]. Wat gebeurde er?",
        passages=[records.passage_record(PASSAGE)],
        engine="guided",
    )
    seen = public(row, [turn], MODEL, ["packaging"], person("bob", "packaging"), frozenset())
    assert seen.stages[0].question == MODEL.stages[0].question.get("nl")
    assert seen.summary is not None
    assert seen.summary.what_happened == WITHHELD["nl"]
    assert seen.summary.learning_points[0].text == WITHHELD["nl"]
    assert not seen.is_mine and seen.shared_with == ["packaging"]
    mine = public(row, [turn], MODEL, [], person("ann"), frozenset({DOCUMENT}))
    assert mine.stages[0].question == turn.question and mine.is_mine


# ---- ideas from actions ---------------------------------------------------------------------


def test_an_idea_title_is_the_action_cut_at_a_word_within_150_characters() -> None:
    assert title_of("  Ik ga  voortaan melden. ") == "Ik ga voortaan melden"
    long = title_of("woord " * 60)
    assert len(long) <= 150 and long.endswith("…") and "  " not in long


def test_one_action_of_one_reflection_is_one_idempotency_key() -> None:
    rid = uuid.uuid4()
    assert idea_draft_key(rid, 0) == idea_draft_key(rid, 0) != idea_draft_key(rid, 1)
