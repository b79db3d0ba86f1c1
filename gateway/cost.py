"""What a GraphQL operation costs, and the range of every size argument — one walk over the
operation with the schema's types, used twice:

- while the document is validated (before any resolver runs): literal size arguments are
  range-checked and the cost is added up, a variable counting as the largest value it may have;
- before execution, with the request's variables: size arguments given by variables are
  range-checked (`check_variable_sizes`).

Size arguments are found in the schema, not listed per field: every `Int` argument named
`first`, `last`, `limit`, `size`, `k` or `top` (`SIZE_LIMITS`), with its maximum, on every field
of every type. Costs (docs/graphql.md): every field costs 1; a field's selection is counted once
per item it may return (its size argument, its default when left out); fields that embed text
(`EXPENSIVE_TEXT`) add `EMBED_COST` plus `TEXT_COST` per started `TEXT_UNIT` characters of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    value_from_ast,
)

# Every Int argument with one of these names is a size: 1 to this maximum.
SIZE_LIMITS = {"first": 100, "last": 100, "limit": 100, "size": 100, "top": 100, "k": 50}
# Where a service allows less than the name's maximum (ideas: similar ideas 1-20).
FIELD_SIZE_LIMITS = {("Query", "similarIdeas", "first"): 20}
# Fields that embed caller text (an embedding per call, seconds for long texts): the text
# argument (a dotted path into an input object) and the longest text the service accepts.
EXPENSIVE_TEXT: dict[tuple[str, str], tuple[str, int]] = {
    ("Query", "search"): ("query", 2000),
    ("Query", "similarIdeas"): ("text", 5000),
    ("Mutation", "startReflection"): ("input.experience", 4000),
    ("Mutation", "answerReflection"): ("answer", 4000),
    ("Subscription", "startReflectionStream"): ("input.experience", 4000),
    ("Subscription", "answerReflectionStream"): ("answer", 4000),
}
EMBED_COST = 10
TEXT_UNIT = 100
TEXT_COST = 20


def size_limit(parent: str, name: str, argument: str, definition: Any) -> int | None:
    """The maximum of a size argument, or None when the argument is not a size."""
    if argument not in SIZE_LIMITS or get_nullable_type(definition.type) is not GraphQLInt:
        return None
    return FIELD_SIZE_LIMITS.get((parent, name, argument), SIZE_LIMITS[argument])


def size_error(argument: str, maximum: int, node: Any) -> GraphQLError:
    """The BAD_USER_INPUT error for a size out of range."""
    return GraphQLError(
        f"`{argument}` must be between 1 and {maximum}",
        node,
        extensions={"code": "BAD_USER_INPUT", "argument": argument, "min": 1, "max": maximum},
    )


def _text_length(node: ValueNode | None, path: list[str], longest: int) -> int:
    """Characters of the text at `path` in an argument value; a variable counts as `longest`."""
    if node is None:
        return 0
    if isinstance(node, VariableNode):
        return longest
    if not path:
        return len(node.value) if isinstance(node, StringValueNode) else 0
    if isinstance(node, ObjectValueNode):
        for item in node.fields:
            if item.name.value == path[0]:
                return _text_length(item.value, path[1:], longest)
    return 0


@dataclass
class OperationWalk:
    """Walks one operation; `variables` None while validating (the document alone)."""

    schema: GraphQLSchema
    fragment: Callable[[str], FragmentDefinitionNode | None]
    variables: Mapping[str, Any] | None = None
    defaults: Mapping[str, ValueNode] = field(default_factory=dict)
    errors: list[GraphQLError] = field(default_factory=list)
    _reported: set[int] = field(default_factory=set)

    def operation_cost(self, operation: OperationDefinitionNode) -> int:
        """The cost of `operation`; size errors are collected in `errors`."""
        root = self.schema.get_root_type(operation.operation)
        return self._cost(operation.selection_set, root, frozenset()) if root else 0

    def _cost(
        self,
        selections: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        seen: frozenset[str],
    ) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self._cost(selection.selection_set, inner, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragment(name)
                if fragment is not None and name not in seen:
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._cost(fragment.selection_set, inner, seen | {name})
        return total

    def _field_cost(
        self, node: FieldNode, parent: GraphQLNamedType | None, seen: frozenset[str]
    ) -> int:
        definition: GraphQLField | None = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        if definition is None or parent is None:  # unknown field: another rule reports it
            return 1 + self._cost(node.selection_set, None, seen)
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        pages = 1
        for name, argument in definition.args.items():
            maximum = size_limit(parent.name, node.name.value, name, argument)
            if maximum is not None:
                pages = max(pages, self._size(name, maximum, given.get(name), argument))
        extra = 0
        expensive = EXPENSIVE_TEXT.get((parent.name, node.name.value))
        if expensive is not None:
            path, longest = expensive
            head, *rest = path.split(".")
            length = _text_length(given.get(head), rest, longest)
            extra = EMBED_COST + TEXT_COST * math.ceil(length / TEXT_UNIT)
        child = get_named_type(definition.type)
        return 1 + extra + pages * self._cost(node.selection_set, child, seen)

    def _size(self, name: str, maximum: int, value: ValueNode | None, argument: Any) -> int:
        """The pages a size argument asks for; out of range → an error, counted as `maximum`."""
        if value is None:
            default = argument.default_value
            return default if isinstance(default, int) and 1 <= default <= maximum else maximum
        node: ValueNode = value
        if isinstance(value, IntValueNode):
            if len(value.value.lstrip("-")) > 18:
                # Past Python's int() limit at 4,300 digits, and out of every range anyway:
                # graphql-core's own literal check reports it (BAD_USER_INPUT).
                return maximum
            number = int(value.value)
        elif isinstance(value, VariableNode) and self.variables is not None:
            variable = value.name.value
            raw = self.variables.get(variable)
            if variable not in self.variables and variable in self.defaults:
                raw = value_from_ast(self.defaults[variable], GraphQLInt)
            if not isinstance(raw, int) or isinstance(raw, bool):
                return maximum  # missing or not an Int: variable coercion reports it
            number = raw
        else:
            return maximum  # a variable while validating: the largest it may be
        if not 1 <= number <= maximum:
            if id(node) not in self._reported:
                self._reported.add(id(node))
                self.errors.append(size_error(name, maximum, node))
            return maximum
        return number


def check_variable_sizes(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> list[GraphQLError]:
    """BAD_USER_INPUT errors for size arguments whose variables are out of range."""
    defaults = {
        definition.variable.name.value: definition.default_value
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    walk = OperationWalk(schema, fragments.get, dict(variables or {}), defaults)
    walk.operation_cost(operation)
    return walk.errors
