"""Reflection inputs of the wrong JSON type are refused (make fuzz, issue 12): a preference of
`0` is not `false`; the upload form's `teams` is text whose declared grammar (OpenAPI) is the
one parse_teams enforces. Every service and body is covered by tests/fuzz/test_json_types.py."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.errors import Unprocessable
from services.reflection.documents.service import TEAMS_PATTERN, parse_teams
from tests.fuzz.hostile import row_counts
from tests.reflection.conftest import ReflectionEnv


async def test_reflection_preference_0_is_not_false(reflection: ReflectionEnv) -> None:
    """`{"share_with_analytics": 0}` (make fuzz, issue 12) → 422; the choice stays as it was."""
    ann = reflection.as_("ann", teams="packaging")
    client = reflection.client
    url = "/v1/reflection-preferences"
    assert (
        await client.put(url, json={"share_with_analytics": True}, headers=ann)
    ).status_code == 200
    for wrong in (0, 1, "false", "no", None):
        response = await client.put(url, json={"share_with_analytics": wrong}, headers=ann)
        assert response.status_code == 422, (wrong, response.text)
        assert response.json()["error"]["code"] == "validation_error"
        assert (await client.get(url, headers=ann)).json() == {"share_with_analytics": True}
    response = await client.put(url, json={"share_with_analytics": False}, headers=ann)
    assert response.status_code == 200
    assert (await client.get(url, headers=ann)).json() == {"share_with_analytics": False}


async def test_upload_teams_field_declares_the_grammar_it_enforces(
    reflection: ReflectionEnv,
) -> None:
    """The upload form's `teams` is text (a form has no JSON types): its OpenAPI schema declares
    the grammar parse_teams enforces, so a value outside it is documented as refused and is
    refused (422 `invalid_teams`, nothing stored); `false` is a well-formed team key."""
    document = reflection.app.openapi()
    ref = document["paths"]["/v1/documents"]["post"]["requestBody"]["content"]
    form = ref["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert (
        document["components"]["schemas"][form]["properties"]["teams"]["pattern"] == TEAMS_PATTERN
    )
    admin = reflection.as_("root", roles="admin")
    engine = reflection.app.state.database.engine
    before = await row_counts(engine)
    for bad in ("a b", "*,packaging", "Packaging", ",", "packaging;hr"):
        assert not re.fullmatch(TEAMS_PATTERN, bad)
        response = await reflection.client.post(
            "/v1/documents",
            files={"file": ("n.md", b"# Kop\n\nTekst over het werk.", "text/markdown")},
            data={"title": "Notitie", "teams": bad},
            headers=admin,
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "invalid_teams"
    assert await row_counts(engine) == before
    assert parse_teams("false") == ["false"]


@given(st.from_regex(TEAMS_PATTERN, fullmatch=True))
def test_teams_the_pattern_admits_are_accepted(value: str) -> None:
    assert parse_teams(value)


@given(st.text(alphabet="ab-*, \t\n;A_", max_size=12))
def test_teams_the_pattern_refuses_are_refused(value: str) -> None:
    if re.fullmatch(TEAMS_PATTERN, value):
        assert parse_teams(value)
    else:
        with pytest.raises(Unprocessable):
            parse_teams(value)
