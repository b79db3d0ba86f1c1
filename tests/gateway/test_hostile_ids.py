"""Caller text never reaches an upstream URL (issue 12, item 2).

The table is generated from the schema: every query, mutation and subscription field with an
`ID` argument, or an argument whose input type holds `ID` fields (at any depth, in lists too),
gets each hostile value below. A malformed id must be refused by the gateway itself — a
`ValidationError` (`invalid_id`) for mutations, `BAD_USER_INPUT` for queries and subscriptions —
with no 5xx, no `INTERNAL_ERROR` and no request to any service; and the caller's draft idea,
which `unsupportIdea(id: "../my-data?x=")` used to erase, is still there afterwards.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.schema.root import build_schema
from gateway.settings import GatewaySettings
from kit.settings import PlatformSettings
from tests.gateway.conftest import DEAD, Stack
from tests.support.apps import bearer
from tests.support.graphql_inputs import sample_input

HOSTILE = [
    "../",
    "../my-data?x=",
    "%2e%2e%2f",
    "?",
    "#",
    "a\u0001",
    "..%2fmetrics",
    "..",
    "",
    "00000000-0000-0000-0000-000000000000/../../my-data",
    "f" * 5000,  # over-long
]
SCHEMA: GraphQLSchema = build_schema(production=False)._schema


@dataclass(frozen=True)
class Case:
    """One place a caller sends an id: `root.field(arg: …path…)`."""

    root: str  # query, mutation or subscription
    field: str
    arg: str
    path: tuple[str, ...]  # input fields below the argument; () when the argument is the id

    def __str__(self) -> str:
        return ".".join((self.root, self.field, self.arg, *self.path))


def _id_paths(type_: GraphQLInputType, seen: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType):
        return [()] if named.name == "ID" else []
    if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        return [
            (name, *rest)
            for name, field in named.fields.items()
            for rest in _id_paths(field.type, seen | {named.name})
        ]
    return []


def _cases() -> list[Case]:
    roots = {
        "query": SCHEMA.query_type,
        "mutation": SCHEMA.mutation_type,
        "subscription": SCHEMA.subscription_type,
    }
    return [
        Case(root, name, arg_name, path)
        for root, type_ in roots.items()
        if type_ is not None
        for name, field in type_.fields.items()
        for arg_name, arg in field.args.items()
        for path in _id_paths(arg.type)
    ]


CASES = _cases()


def _required(type_: GraphQLInputType, default: Any) -> bool:
    return isinstance(type_, GraphQLNonNull) and default is Undefined


def _sample(type_: GraphQLInputType) -> Any:
    """A well-formed value of the type (required input fields only), to fill other arguments."""
    return sample_input(type_, _sample_scalar, fill_defaulted=False)


def _sample_scalar(name: str) -> Any:
    samples = {"ID": str(uuid.uuid4()), "Int": 0, "Float": 0.0, "Boolean": False}
    return samples.get(name, "x")


def _put(value: Any, type_: GraphQLInputType, path: tuple[str, ...], hostile: str) -> Any:
    """`value` with the id at `path` replaced by `hostile` (lists hold just the hostile one)."""
    if isinstance(type_, GraphQLNonNull):
        return _put(value, type_.of_type, path, hostile)
    if isinstance(type_, GraphQLList):
        return [_put(None, type_.of_type, path, hostile)]
    if not path:
        return hostile
    assert isinstance(type_, GraphQLInputObjectType)
    out = dict(value or _sample(type_))
    out[path[0]] = _put(out.get(path[0]), type_.fields[path[0]].type, path[1:], hostile)
    return out


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLUnionType):  # the error members' codes
        coded = " ".join(f"... on {t.name} {{ code }}" for t in named.types if "code" in t.fields)
        return f"{{ __typename {coded} }}"
    assert isinstance(named, GraphQLObjectType)
    return "{ __typename }"


def _operation(case: Case, values: list[str]) -> tuple[str, dict[str, Any]]:
    """One document asking the field once per value (aliases), every argument a variable."""
    root = getattr(SCHEMA, f"{case.root}_type")
    field = root.fields[case.field]
    declared, aliases, variables = [], [], {}
    for i, hostile in enumerate(values):
        given = []
        for name, arg in field.args.items():
            if name == case.arg:
                value = _put(None, arg.type, case.path, hostile)
            elif _required(arg.type, arg.default_value):
                value = _sample(arg.type)
            else:
                continue
            variables[f"{name}{i}"] = value
            declared.append(f"${name}{i}: {arg.type}")
            given.append(f"{name}: ${name}{i}")
        aliases.append(f"a{i}: {case.field}({', '.join(given)}) {_selection(field)}")
    return f"{case.root}({', '.join(declared)}) {{ {' '.join(aliases)} }}", variables


def _record(client: httpx.AsyncClient, into: list[str]) -> None:
    """Every request the gateway sends to a service, as METHOD and raw path with query."""

    async def hook(request: httpx.Request) -> None:
        into.append(f"{request.method} {request.url.raw_path.decode()}")

    client.event_hooks["request"].append(hook)


def _draft(urls: dict[str, str], headers: dict[str, str]) -> str:
    body = {"title": "Mallen ophangen", "problem": "Zoeken kost tijd.", "team": "packaging"}
    created = httpx.post(
        f"{urls['ideas']}/v1/ideas", json={**body, "submit": False}, headers=headers
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _draft_survived(urls: dict[str, str], headers: dict[str, str], idea_id: str) -> None:
    found = httpx.get(f"{urls['ideas']}/v1/ideas/{idea_id}", headers=headers)
    assert found.status_code == 200 and found.json()["status"] == "draft", found.text


def test_the_table_covers_every_kind_of_id_argument() -> None:
    names = {str(case) for case in CASES}
    assert {
        "query.idea.id",
        "query.search.filter.documentIds",
        "mutation.unsupportIdea.id",
        "mutation.submitIdea.input.documentIds",
        "mutation.commentOnIdea.parentId",
        "mutation.deleteReflection.id",
        "subscription.ideaChanged.id",
    } <= names
    assert len(HOSTILE) <= 15  # one request per case: the aliases stay under the limit


async def _ask(stack: Stack, case: Case, headers: dict[str, str]) -> list[httpx.Response]:
    """All hostile values in one request (aliases); one request each when that costs too much
    (the query limits price some fields, e.g. a guided-reflection step, highly)."""

    async def post(values: list[str]) -> httpx.Response:
        query, variables = _operation(case, values)
        payload = {"query": query, "variables": variables}
        return await stack.gateway.post("/graphql", json=payload, headers=headers)

    together = await post(HOSTILE)
    codes = {e.get("extensions", {}).get("code") for e in together.json().get("errors") or []}
    if not codes & {"QUERY_TOO_COSTLY", "TOO_MANY_ALIASES"}:
        return [together]
    return [await post([value]) for value in HOSTILE]


def _refusal_problems(case: Case, response: httpx.Response) -> list[str]:
    """What is wrong with the gateway's answer to malformed ids (nothing: an empty list)."""
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    if response.status_code >= 500 or "INTERNAL_ERROR" in codes:
        return [f"{case}: HTTP {response.status_code} {body}"]
    if case.root == "query" and set(codes) != {"BAD_USER_INPUT"}:
        # (one error may stand for all: a non-null field's error nulls the whole data)
        return [f"{case}: {body}"]
    if case.root == "mutation":
        results = (body.get("data") or {}).values()
        if codes or any(r.get("code") != "invalid_id" for r in results):
            return [f"{case}: {body}"]
    return []


@pytest.mark.parametrize("root", ["query", "mutation"])
async def test_malformed_ids_are_refused_before_any_upstream_call(stack: Stack, root: str) -> None:
    worker = stack.as_("wim", "worker,coach,admin", "packaging")
    draft = _draft(stack.urls, worker)
    sent: list[str] = []
    _record(stack.app.state.upstreams.http, sent)
    failures = []
    for case in [c for c in CASES if c.root == root]:
        for response in await _ask(stack, case, worker):
            failures += _refusal_problems(case, response)
        if sent:
            failures.append(f"{case}: called {sent}")
            sent.clear()
    assert not failures, "\n".join(failures)
    assert sum(stack.calls.values()) == 0
    _draft_survived(stack.urls, worker, draft)


def test_malformed_ids_in_subscriptions_are_refused_before_any_upstream_call(
    platform: PlatformSettings, services: dict[str, str]
) -> None:
    worker = bearer(platform, "wim", "worker", "packaging")
    draft = _draft(services, worker)
    settings = GatewaySettings(
        platform=platform,
        ideas_url=services["ideas"],
        reflection_url=services["reflection"],
        analytics_url=DEAD,
    )
    sent: list[str] = []
    failures = []
    ids = itertools.count()
    with TestClient(create_app(settings)) as client:
        _record(client.app.state.upstreams.http, sent)  # type: ignore[attr-defined]
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            token = worker["Authorization"]
            ws.send_json({"type": "connection_init", "payload": {"Authorization": token}})
            assert ws.receive_json()["type"] == "connection_ack"
            for case in [c for c in CASES if c.root == "subscription"]:
                for hostile in HOSTILE:
                    query, variables = _operation(case, [hostile])
                    query = query.replace("a0: ", "")
                    number = str(next(ids))
                    payload = {"query": query, "variables": variables}
                    ws.send_json({"id": number, "type": "subscribe", "payload": payload})
                    message = ws.receive_json()
                    result = message.get("payload") or {}
                    codes = [
                        e.get("extensions", {}).get("code") for e in result.get("errors") or []
                    ]
                    event = (result.get("data") or {}).get(case.field) or {}
                    if codes != ["BAD_USER_INPUT"] and event.get("code") != "invalid_id":
                        failures.append(f"{case} {hostile[:20]!r}: {message}")
                    while message["type"] != "complete":
                        message = ws.receive_json()
    assert not failures, "\n".join(failures)
    assert not sent, sent
    _draft_survived(services, worker, draft)
