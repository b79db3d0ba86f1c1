"""Every argument of every query and mutation of the published GraphQL schema
(gateway/schema.graphql) gets hostile text or a value of the wrong type (Hypothesis), through the
gateway in process in front of the real ideas and reflection services: never an HTTP 5xx, never
an error without a code or with `INTERNAL_ERROR`, and a refused operation changes no row."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    build_schema,
    get_named_type,
    is_leaf_type,
)
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.hostile import hostile_settings, hostile_value, json_bytes
from tests.gateway.conftest import Stack
from tests.support.graphql_inputs import sample_input

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = build_schema((ROOT / "gateway" / "schema.graphql").read_text())
SCALARS = {
    "ID": lambda: str(uuid.uuid4()),
    "String": lambda: "Mallen op een kar",
    "Int": lambda: 1,
    "Float": lambda: 1.0,
    "Boolean": lambda: True,
    "Date": lambda: "2026-10-01",
    "DateTime": lambda: "2026-10-01T09:00:00+00:00",
}
FAILED = {None, "INTERNAL_ERROR", "INTERNAL_SERVER_ERROR"}


def fields() -> list[tuple[str, str, GraphQLField]]:
    """(operation type, field name, field) for every query and mutation field with arguments."""
    found = []
    for kind, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        found += [(kind, name, field) for name, field in root.fields.items() if field.args]
    return found


def plausible(type_: GraphQLInputType) -> Any:
    """A value of `type_` that parses: required input fields filled, optional ones left out."""
    return sample_input(type_, lambda name: SCALARS.get(name, lambda: "x")(), fill_defaulted=True)


@st.composite
def hostile_operations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A query or mutation of one field, its arguments as variables, one of them hostile (an
    argument, or a field of an input object argument)."""
    kind, name, field = draw(st.sampled_from(fields()))
    variables = {arg: plausible(a.type) for arg, a in field.args.items()}
    target = draw(st.sampled_from(sorted(field.args)))
    inner = get_named_type(field.args[target].type)
    if isinstance(inner, GraphQLInputObjectType) and isinstance(variables[target], dict):
        key = draw(st.sampled_from(sorted(inner.fields)))
        variables[target][key] = draw(hostile_value)
    else:
        variables[target] = draw(hostile_value)
    declared = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    return f"{kind}({declared}) {{ {name}({passed}){selection} }}", variables


def _rows(folder: Path) -> dict[str, int]:
    counts = {}
    for name in ("ideas", "reflection"):
        with sqlite3.connect(folder / f"{name}.db") as db:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                query = f'SELECT count(*) FROM "{table}"'  # noqa: S608 - names from sqlite_master
                counts[f"{name}.{table}"] = db.execute(query).fetchone()[0]
    return counts


@hostile_settings(60)
@given(data=st.data())
async def test_hostile_arguments_never_fail_the_gateway_nor_half_write(
    stack: Stack, tmp_path: Path, data: st.DataObject
) -> None:
    query, variables = data.draw(hostile_operations())
    role = data.draw(st.sampled_from([("root", "admin", ""), ("wim", "worker", "packaging")]))
    before = _rows(tmp_path)
    response = await stack.gateway.post(
        "/graphql",
        content=json_bytes({"query": query, "variables": variables}),
        headers={**stack.as_(*role), "Content-Type": "application/json"},
    )
    assert response.status_code < 500, (query, response.text[:500])
    body = response.json()
    codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
    assert not codes & FAILED, (query, str(variables)[:300], body["errors"][:2])
    if body.get("errors"):
        assert _rows(tmp_path) == before, (query, str(variables)[:300])
