"""Limits that keep callers apart: the rate limit counts the verified caller (a forged token
spends only its sender's budget), every size argument is range-checked before costing and before
any call, and fields that embed text cost by its length and by the hits they return."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from graphql import GraphQLNonNull, GraphQLObjectType, Undefined, get_named_type

from gateway.callers import VerifiedCallers
from gateway.cost import size_limit
from gateway.schema.root import build_schema
from kit.auth import DEV_AUDIENCE, DEV_ISSUER, SharedSecretVerifier, dev_secret, issue_dev_token
from kit.settings import PlatformSettings
from tests.support.apps import bearer

ME = "{ me { subject } }"


@pytest.fixture
def gateway(
    lone_gateway: tuple[httpx.AsyncClient, FastAPI],
) -> tuple[httpx.AsyncClient, FastAPI]:
    return lone_gateway


def forged(subject: str) -> dict[str, str]:
    """A well-formed token naming `subject`, signed with a key the gateway does not know."""
    claims = {"sub": subject, "iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "exp": 4_000_000_000}
    return {"Authorization": f"Bearer {jwt.encode(claims, 'not-the-secret' * 4, 'HS256')}"}


@pytest.mark.parametrize("guard_settings", [{"rate_limit_per_minute": 3}])
async def test_forged_tokens_with_a_colleagues_sub_do_not_spend_the_colleagues_budget(
    gateway: tuple[httpx.AsyncClient, FastAPI], platform: PlatformSettings
) -> None:
    client, _ = gateway
    for _ in range(10):
        response = await client.post("/graphql", json={"query": ME}, headers=forged("kees"))
        assert response.status_code in (401, 429)
    kees = bearer(platform, "kees", "worker", "packaging")
    statuses = [
        (await client.post("/graphql", json={"query": ME}, headers=kees)).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 200], "kees's own budget is untouched"
    assert (await client.post("/graphql", json={"query": ME}, headers=kees)).status_code == 429


class CountingVerifier:
    def __init__(self, inner: SharedSecretVerifier) -> None:
        self.inner, self.calls = inner, 0

    async def verify(self, token: str) -> dict[str, Any]:
        self.calls += 1
        return await self.inner.verify(token)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_verification_is_cached_by_token_briefly_and_never_past_its_expiry(
    platform: PlatformSettings,
) -> None:
    secret = dev_secret(platform.var_dir)
    verifier = CountingVerifier(SharedSecretVerifier(secret))
    token = issue_dev_token(secret, subject="wim", roles=["worker"], teams=[], ttl_seconds=3600)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    clock = Clock(exp - 3600.0)
    callers = VerifiedCallers(ttl_seconds=60, clock=clock)
    assert [await callers.subject(token, verifier) for _ in range(5)] == ["wim"] * 5
    assert verifier.calls == 1
    bad = forged("kees")["Authorization"].split()[1]
    assert [await callers.subject(bad, verifier) for _ in range(5)] == [None] * 5
    assert verifier.calls == 2, "a forged token is checked once, then known as forged"
    clock.now += 61
    await callers.subject(token, verifier)
    assert verifier.calls == 3, "remembered for the cache period only"
    short = VerifiedCallers(ttl_seconds=10_000, clock=clock)
    await short.subject(token, verifier)
    assert verifier.calls == 4
    clock.now = exp + 1
    await short.subject(token, verifier)
    assert verifier.calls == 5, "never remembered past the token's own expiry"


SEARCH = 'search(query: "{text}", k: 50) {{ text snippet score documentTitle }}'


async def test_fifteen_aliased_long_searches_are_refused_before_any_call(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, app = gateway
    text = ("vorkheftruck laadklep " * 90)[:1900]
    query = "{ " + " ".join(f"s{i}: " + SEARCH.format(text=text) for i in range(15)) + " }"
    response = await client.post("/graphql", json={"query": query})
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["QUERY_TOO_COSTLY"]
    assert response.status_code == 400
    assert dict(app.state.upstreams.calls) == {}
    short = "{ " + SEARCH.format(text="vorkheftruck") + " }"
    answer = (await client.post("/graphql", json={"query": short})).json()
    assert answer["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", "one is allowed"


async def test_a_negative_page_does_not_buy_room_for_over_budget_aliases(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    client, app = gateway
    page = "ideas(first: 100) { edges { node { id title status team tags } } }"
    aliases = " ".join(f"p{i}: {page}" for i in range(5))
    query = "{ " + aliases + " n: ideas(first: -1000000) { edges { node { id } } } }"
    response = await client.post("/graphql", json={"query": query})
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    assert codes == ["BAD_USER_INPUT"] and response.status_code == 400
    assert dict(app.state.upstreams.calls) == {}


def _size_arguments() -> list[tuple[str, str, str, int]]:
    """Every size argument of the schema's root fields: (type, field, argument, maximum)."""
    schema = build_schema(production=False)._schema
    found = []
    for root in (schema.query_type, schema.mutation_type):
        assert isinstance(root, GraphQLObjectType)
        for name, field in root.fields.items():
            for argument, definition in field.args.items():
                maximum = size_limit(root.name, name, argument, definition)
                if maximum is not None:
                    found.append((root.name, name, argument, maximum))
    return found


def _call(type_name: str, field: str, size: str, value: str) -> str:
    """A minimal operation asking `field` with `size` set to `value` (a literal or `$n`)."""
    schema = build_schema(production=False)._schema
    root = schema.get_type(type_name)
    assert isinstance(root, GraphQLObjectType)
    definition = root.fields[field]
    arguments = [f"{size}: {value}"]
    for name, argument in definition.args.items():
        required = isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined
        if required and name != size:
            named = get_named_type(argument.type).name
            arguments.append(f'{name}: "{uuid.uuid4()}"' if named == "ID" else f'{name}: "x y z"')
    selection = (
        "" if get_named_type(definition.type).name in ("String", "JSON") else " { __typename }"
    )
    keyword = "query" if type_name == "Query" else "mutation"
    declared = "($n: Int = 5)" if value == "$n" else ""
    return f"{keyword}{declared} {{ {field}({', '.join(arguments)}){selection} }}"


SIZES = _size_arguments()


def test_the_schema_has_size_arguments_and_k_is_one_of_them() -> None:
    assert ("Query", "search", "k", 50) in SIZES
    assert ("Query", "ideas", "first", 100) in SIZES


@pytest.mark.parametrize(("type_name", "field", "size", "maximum"), SIZES)
@pytest.mark.parametrize("delta", ["zero", "negative", "over"])
@pytest.mark.parametrize("as_variable", [False, True], ids=["literal", "variable"])
async def test_every_size_argument_is_range_checked_before_any_call(
    gateway: tuple[httpx.AsyncClient, FastAPI],
    type_name: str,
    field: str,
    size: str,
    maximum: int,
    delta: str,
    as_variable: bool,
) -> None:
    client, app = gateway
    value = {"zero": 0, "negative": -1_000_000, "over": maximum + 1}[delta]
    if as_variable:
        body = {"query": _call(type_name, field, size, "$n"), "variables": {"n": value}}
    else:
        body = {"query": _call(type_name, field, size, str(value))}
    response = await client.post("/graphql", json=body)
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], errors
    assert errors[0]["extensions"]["max"] == maximum
    assert response.status_code == 400
    assert dict(app.state.upstreams.calls) == {}, "refused before any service is called"
