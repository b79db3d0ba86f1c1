"""The published schema documents itself: every type, field, argument and enum value has a
description, as integrators see it through introspection."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from gateway.schema.root import build_schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def test_everything_integrators_see_has_a_description() -> None:
    schema = build_schema(production=False)._schema
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not graphql_type.description:
            missing.append(f"type {name}")
        if isinstance(
            graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"field {name}.{field_name}")
                for argument_name, argument in getattr(field, "args", {}).items():
                    if not argument.description:
                        missing.append(f"argument {name}.{field_name}({argument_name})")
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [
                f"value {name}.{value_name}"
                for value_name, value in graphql_type.values.items()
                if not value.description
            ]
    assert missing == []
