"""Well-formed GraphQL input values made from the schema's types, to fill the arguments a test
does not aim at (tests/fuzz/test_hostile_graphql.py, tests/gateway/test_hostile_ids.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from graphql.pyutils import Undefined


def sample_input(
    type_: GraphQLInputType, scalar: Callable[[str], Any], *, fill_defaulted: bool
) -> Any:
    """A value of `type_` that parses: a list of one item, an enum's first value, an input object
    with its required fields only (non-null ones; with `fill_defaulted` False, only those without
    a default), and `scalar(name)` for a scalar of that name."""
    if isinstance(type_, GraphQLNonNull):
        return sample_input(type_.of_type, scalar, fill_defaulted=fill_defaulted)
    if isinstance(type_, GraphQLList):
        return [sample_input(type_.of_type, scalar, fill_defaulted=fill_defaulted)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: sample_input(field.type, scalar, fill_defaulted=fill_defaulted)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull)
            and (fill_defaulted or field.default_value is Undefined)
        }
    assert isinstance(type_, GraphQLScalarType)
    return scalar(type_.name)
