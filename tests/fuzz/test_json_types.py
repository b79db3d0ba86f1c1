"""Inputs are strictly typed JSON (docs/architecture.md): every property of every JSON request
body of the three services' /v1 routes, as their own OpenAPI documents declare them (boolean,
integer, number, string, also inside nested objects and as array items), refuses a value of
another JSON type with 422 `validation_error` naming the property, and changes no row. Pydantic's
lax mode would take `0` as false, `"5"` or `5.0` as 5 and `true` as 1.
The two faults `make fuzz` found are plain tests in tests/reflection/test_typed_inputs.py."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.fuzz import test_hostile_rest as hostile_rest
from tests.fuzz.hostile import json_bytes, row_counts
from tests.support.apps import bearer

service = hostile_rest.service  # one app per service, on SQLite and PostgreSQL
Service = hostile_rest.Service

ROLES = "worker,coach,analyst,admin,service"
SCALARS = {"boolean", "integer", "number", "string"}
Path = tuple[str | int, ...]


def _wrong(kind: str, valid: Any) -> list[Any]:
    """Values of other JSON types that lax parsing would turn into a `kind`."""
    if kind == "boolean":
        return [0, 1, "true", "yes"]
    if kind == "integer":
        return [str(valid), float(valid), True]
    if kind == "number":
        return [str(valid), True]
    return [5, 1.5, True]


class Schema:
    """Valid values and the typed properties of one OpenAPI document's request bodies."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.schemas = document.get("components", {}).get("schemas", {})

    def plain(self, schema: dict[str, Any]) -> dict[str, Any]:
        """`schema` with its `$ref` followed and a nullable `anyOf` reduced to its other branch."""
        if "$ref" in schema:
            return self.plain(self.schemas[schema["$ref"].rsplit("/", 1)[1]])
        branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1:
            return self.plain(branches[0])
        return schema

    def valid(self, schema: dict[str, Any]) -> Any:
        """A value the schema accepts: required properties only, shortest allowed text."""
        s = self.plain(schema)
        if "enum" in s:
            return s["enum"][0]
        kind = s.get("type")
        if kind == "object":
            return {
                k: self.valid(v) for k, v in s["properties"].items() if k in s.get("required", [])
            }
        if kind == "array":
            return [self.valid(s["items"]) for _ in range(s.get("minItems", 0))]
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            number = max(int(s.get("minimum", 1)), 1) if "maximum" not in s else int(s["maximum"])
            return number if kind == "integer" else float(number)
        if s.get("format") == "uuid":
            return str(uuid.uuid4())
        return "x" * max(s.get("minLength", 0), 8 if s.get("maxLength", 8) >= 8 else 1)

    def typed(self, schema: dict[str, Any], path: Path = ()) -> list[tuple[Path, dict[str, Any]]]:
        """Every scalar property under `schema` (array items as index 0), with its schema."""
        s = self.plain(schema)
        found: list[tuple[Path, dict[str, Any]]] = []
        for name, child in s.get("properties", {}).items():
            c = self.plain(child)
            if c.get("type") in SCALARS:
                found.append(((*path, name), c))
            elif c.get("type") == "object":
                found += self.typed(c, (*path, name))
            elif c.get("type") == "array" and self.plain(c["items"]).get("type") in SCALARS:
                found.append(((*path, name, 0), self.plain(c["items"])))
        return found

    def with_value(self, schema: dict[str, Any], path: Path, value: Any) -> Any:
        """A valid body for `schema` whose property at `path` holds `value`."""
        if not path:
            return value
        s = self.plain(schema)
        head, rest = path[0], path[1:]
        if isinstance(head, int):
            return [self.with_value(s["items"], rest, value)]
        body = self.valid(s)
        body[head] = self.with_value(s["properties"][head], rest, value)
        return body


def json_bodies(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path with ids filled in, body schema) of every /v1 route with a JSON body."""
    document = app.openapi()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if not path.startswith("/v1/") or "application/json" not in content:
                continue
            params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}

            def fill(match: re.Match[str], params: dict[str, Any] = params) -> str:
                fmt = params[match.group(1)]["schema"].get("format")
                return str(uuid.uuid4()) if fmt == "uuid" else "packaging"

            url = re.sub(r"{([^}]+)}", fill, path)
            found.append((method.upper(), url, content["application/json"]["schema"]))
    return found


async def test_every_json_property_refuses_other_json_types(service: Service) -> None:
    schema = Schema(service.app.openapi())
    routes = json_bodies(service.app)
    assert routes, "every service has JSON bodies"
    headers = {
        **bearer(service.platform, "typed", ROLES, "packaging"),
        "Content-Type": "application/json",
        "If-Match": '"1"',
    }
    engine = service.app.state.database.engine
    tried = 0
    for method, url, body_schema in routes:
        for path, declared in schema.typed(body_schema):
            right = schema.valid(declared)
            for wrong in _wrong(declared["type"], right):
                body = schema.with_value(body_schema, path, wrong)
                before = await row_counts(engine)
                response = await service.client.request(
                    method, url, content=json_bytes(body), headers=headers
                )
                seen = (method, url, body, response.text[:300])
                assert response.status_code == 422, seen
                error = response.json()["error"]
                assert error["code"] == "validation_error", seen
                where = ["body", *path]
                assert any(d["location"][: len(where)] == where for d in error["details"]), seen
                assert await row_counts(engine) == before, seen
                tried += 1
            # The control: the same body with a value of the declared type passes validation
            # (the route may still refuse it for a domain reason, with its own code).
            body = schema.with_value(body_schema, path, right)
            response = await service.client.request(
                method, url, content=json_bytes(body), headers=headers
            )
            seen = (method, url, body, response.text[:300])
            assert response.status_code < 500, seen
            if response.status_code >= 400:
                assert response.json()["error"]["code"] != "validation_error", seen
    assert tried >= len(routes)
