"""transitionIdea carries the version the caller decided on; create mutations pass a client's
idempotency key through (issue 12, #14 and #15), against a real ideas service over HTTP."""

from __future__ import annotations

from typing import Any

from tests.gateway.conftest import Stack

IDEA = "... on Idea { id status version } ... on UserError { code } "
SUBMIT = f"""mutation($input: SubmitIdeaInput!, $key: String) {{
  submitIdea(input: $input, idempotencyKey: $key) {{ __typename {IDEA} }} }}"""
MOVE = f"""mutation($id: ID!, $to: IdeaStatus!, $reason: String, $v: Int) {{
  transitionIdea(id: $id, to: $to, reason: $reason, expectedVersion: $v) {{ __typename {IDEA} }}
}}"""
COMMENT = """mutation($id: ID!, $body: String!, $key: String) {
  commentOnIdea(ideaId: $id, body: $body, idempotencyKey: $key) {
    __typename ... on Comment { id } ... on UserError { code } } }"""
INPUT = {"title": "Mallen op een kar", "problem": "Zoeken kost tijd.", "team": "packaging"}
COACH = ("carla", "coach", "packaging")


async def _submit(stack: Stack, key: str | None = None, **fields: Any) -> dict[str, Any]:
    reply = await stack.ask(SUBMIT, stack.as_("alice"), input={**INPUT, **fields}, key=key)
    return dict(reply["data"]["submitIdea"])


async def test_transition_idea_needs_and_checks_the_expected_version(stack: Stack) -> None:
    idea = await _submit(stack)
    coach = stack.as_(*COACH)
    before = stack.calls["ideas"]
    missing = (await stack.ask(MOVE, coach, id=idea["id"], to="IN_REVIEW"))["data"]
    assert missing["transitionIdea"] == {
        "__typename": "ValidationError",
        "code": "expected_version_required",
    }
    assert stack.calls["ideas"] == before  # refused before any call
    seen = idea["version"]
    moved = (await stack.ask(MOVE, coach, id=idea["id"], to="IN_REVIEW", v=seen))["data"]
    assert moved["transitionIdea"]["status"] == "IN_REVIEW"
    accepted = await stack.ask(MOVE, coach, id=idea["id"], to="ACCEPTED", v=seen + 1)
    assert accepted["data"]["transitionIdea"]["status"] == "ACCEPTED"
    # A second coach decided on the in_review version: refused, the adoption stands.
    late = await stack.ask(
        MOVE, stack.as_("root", "admin", ""), id=idea["id"], to="PARKED", reason="Nee", v=seen + 1
    )
    assert late["data"]["transitionIdea"] == {
        "__typename": "ConflictError",
        "code": "transition_conflict",
    }
    # The second writer is told what stands now, so the client can show it.
    state = await stack.ask(
        'mutation($id: ID!, $v: Int) { transitionIdea(id: $id, to: PARKED, reason: "Nee",'
        " expectedVersion: $v) { ... on ConflictError { currentVersion currentStatus } } }",
        stack.as_("root", "admin", ""),
        id=idea["id"],
        v=seen + 1,
    )
    assert state["data"]["transitionIdea"] == {
        "currentVersion": seen + 2,
        "currentStatus": "accepted",
    }


async def test_submit_idea_passes_the_idempotency_key_through(stack: Stack) -> None:
    first = await _submit(stack, key="intranet-form-7")
    again = await _submit(stack, key="intranet-form-7")
    assert first["__typename"] == again["__typename"] == "Idea"
    assert again["id"] == first["id"]
    other = await _submit(stack, key="intranet-form-7", title="Iets heel anders")
    assert other == {"__typename": "ValidationError", "code": "idempotency_key_reused"}
    detailed = await stack.ask(
        "mutation($input: SubmitIdeaInput!, $key: String) { submitIdea(input: $input,"
        " idempotencyKey: $key) { ... on ValidationError { details } } }",
        stack.as_("alice"),
        input={**INPUT, "title": "Iets heel anders"},
        key="intranet-form-7",
    )
    assert detailed["data"]["submitIdea"]["details"]["id"] == first["id"]  # what the key made
    fresh = await _submit(stack)
    assert fresh["id"] != first["id"]


async def test_comment_on_idea_passes_the_idempotency_key_through(stack: Stack) -> None:
    idea = await _submit(stack)
    bob = stack.as_("bob")
    first = await stack.ask(COMMENT, bob, id=idea["id"], body="Goed plan", key="c-1")
    again = await stack.ask(COMMENT, bob, id=idea["id"], body="Goed plan", key="c-1")
    assert again["data"]["commentOnIdea"]["id"] == first["data"]["commentOnIdea"]["id"]


async def test_a_key_that_cannot_travel_in_a_header_is_refused_here(stack: Stack) -> None:
    await _submit(stack)
    before = stack.calls["ideas"]
    for key in ("", "met spatie", "regel\nbreuk", "caf\u00e9", "x" * 201):
        refused = await _submit(stack, key=key)
        assert refused == {"__typename": "ValidationError", "code": "invalid_idempotency_key"}
    assert stack.calls["ideas"] == before
