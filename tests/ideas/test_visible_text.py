"""Text a person reads needs a visible character (issue 12, #13; rule in kit/text.py).

A title of four zero-width spaces, or of three lone combining accents, used to be accepted and
showed as nothing. Every such field of the ideas service now answers 422 `validation_error`,
and nothing is written.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ideas.conftest import IdeasEnv

INVISIBLE = [
    "\u200b" * 4,
    "\u0301" * 3,
    "\u200b\u200d\u2060\ufeff",
    "\u202e\u202c\u200e",
    "\u2800" * 4,  # braille blank: a symbol that renders as nothing
    "\u3164\u115f\u1160\uffa0",  # Hangul fillers: letters that render as nothing
    "\ufffc\U0001d159",  # an object placeholder and the musical null notehead
]
BASE = {"title": "Mallen klaarleggen", "problem": "Omstellen duurt lang", "team": "packaging"}


def _cases() -> list[tuple[str, Any]]:
    cases: list[tuple[str, Any]] = []
    for text in INVISIBLE:
        cases += [
            ("title", text),
            ("problem", text),
            ("proposal", text),
            ("expected_impact", {"notes": text}),
        ]
    return cases


@pytest.mark.parametrize(("field", "value"), _cases())
async def test_invisible_idea_text_is_refused(ideas: IdeasEnv, field: str, value: Any) -> None:
    response = await ideas.client.post(
        "/v1/ideas", json={**BASE, field: value}, headers=ideas.as_("alice")
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert await ideas.scalar("SELECT count(*) FROM ideas") == 0


async def test_visible_text_with_marks_and_an_empty_proposal_pass(ideas: IdeasEnv) -> None:
    made = await ideas.create(title="Cafe\u0301 \u200bbij de lijn", proposal="")
    assert made["title"] == "Cafe\u0301 \u200bbij de lijn"


@pytest.mark.parametrize("text", INVISIBLE)
async def test_invisible_edits_reasons_comments_and_team_names_are_refused(
    ideas: IdeasEnv, text: str
) -> None:
    idea = await ideas.create(submit=True)
    url = f"/v1/ideas/{idea['id']}"
    edit = await ideas.client.patch(
        url, json={"title": text}, headers={**ideas.as_("alice"), "If-Match": '"2"'}
    )
    park = await ideas.move(str(idea["id"]), "parked", "carla", reason=text)
    comment = await ideas.client.post(
        f"{url}/comments", json={"body": text}, headers=ideas.as_("bob")
    )
    team = await ideas.client.put(
        "/v1/teams/kwaliteit", json={"name": text}, headers=ideas.as_("root")
    )
    for response in (edit, park, comment, team):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
    assert await ideas.scalar("SELECT count(*) FROM idea_transitions") == 1
    assert await ideas.scalar("SELECT count(*) FROM idea_comments") == 0
    assert await ideas.scalar("SELECT count(*) FROM teams") == 2
    stored = await ideas.client.get(url, headers=ideas.as_("alice"))
    assert (stored.json()["title"], stored.json()["status"]) == (idea["title"], "submitted")
