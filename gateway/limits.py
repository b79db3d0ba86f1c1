"""What one GraphQL request may ask for, checked while the document is validated — before any
resolver runs, so a refused request never reaches a service.

Depth, aliases and tokens use Strawberry's own extensions; the cost estimate is ours: every field
costs 1, and a list field's selection costs as often as the page it asks for (`first`, or the
largest page when a variable decides), so `ideas(first: 100) { edges { node { comments(first:
100) { … } } } }` costs ten thousand times its innermost selection.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from prometheus_client import Counter, Histogram
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from kit.logging import current_request_id

PAGE_ARGUMENTS = ("first", "last", "limit")
LARGEST_PAGE = 100


def cost_rule(max_cost: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def _cost(self, selections: SelectionSetNode | None, seen: frozenset[str]) -> int:
            if selections is None:
                return 0
            total = 0
            for selection in selections.selections:
                if isinstance(selection, FieldNode):
                    pages = 1
                    for argument in selection.arguments or ():
                        if argument.name.value in PAGE_ARGUMENTS:
                            value = argument.value
                            pages = (
                                int(value.value)
                                if isinstance(value, IntValueNode)
                                else LARGEST_PAGE
                            )
                    total += 1 + pages * self._cost(selection.selection_set, seen)
                elif isinstance(selection, InlineFragmentNode):
                    total += self._cost(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.context.get_fragment(name)
                    if fragment is not None and name not in seen:
                        total += self._cost(fragment.selection_set, seen | {name})
            return total

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = self._cost(node.selection_set, frozenset())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"the query would cost {cost}, the limit is {max_cost}: ask for smaller "
                        "pages or fewer nested lists",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": max_cost},
                    )
                )

    return CostLimit


# Strawberry's own limit errors carry no code; clients should not have to parse messages.
LIMIT_CODES = (
    ("maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found", "TOO_MANY_ALIASES"),
    ("tokens", "TOO_MANY_TOKENS"),
)


class MaskUnexpectedErrors(MaskErrors):
    """Bugs become "internal error" with the request id; expected errors keep their message,
    and the limit errors get a code."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if error.extensions is None or "code" not in error.extensions:
                for fragment, code in LIMIT_CODES:
                    if fragment in error.message:
                        error.extensions = {**(error.extensions or {}), "code": code}
                        break
        return processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            message="an unexpected error occurred",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_ERROR", "request_id": current_request_id()},
        )


def _is_bug(error: GraphQLError) -> bool:
    original = error.original_error
    # Errors we raise ourselves are GraphQLErrors; permission refusals are PermissionError-like
    # exceptions Strawberry raises with their own message. Anything else is a bug.
    return original is not None and not isinstance(original, GraphQLError | PermissionError)


def limit_extensions(
    *, max_depth: int, max_aliases: int, max_tokens: int, max_cost: int
) -> list[Callable[[], SchemaExtension]]:
    """Factories: Strawberry makes fresh extension objects for every operation."""
    cost = cost_rule(max_cost)
    # Clients send the same few documents over and over: parse and validate each once.
    return [
        lambda: ParserCache(maxsize=1000),
        lambda: ValidationCache(maxsize=1000),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules([cost]),
        lambda: MaskUnexpectedErrors(should_mask_error=_is_bug),
        OperationMetrics,
    ]


OPERATIONS = Counter(
    "werkvloer_graphql_operations_total",
    "GraphQL operations, by name and outcome.",
    ["operation", "type", "outcome"],
)
OPERATION_LATENCY = Histogram(
    "werkvloer_graphql_operation_duration_seconds",
    "Time to answer a GraphQL operation.",
    ["operation", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_seen_names: set[str] = set()
MAX_NAMES = 200  # clients choose names: cap the time series they can create


def _label(name: str | None) -> str:
    if not name or not _NAME.match(name):
        return "anonymous"
    if name not in _seen_names and len(_seen_names) >= MAX_NAMES:
        return "other"
    _seen_names.add(name)
    return name


class OperationMetrics(SchemaExtension):
    """Counts and times each operation by its name (requests per operation for /metrics)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        name = _label(context.operation_name)
        kind = context.operation_type.value if context.operation_type else "unknown"
        result = context.result
        failed = bool(getattr(result, "errors", None)) or bool(context.pre_execution_errors)
        OPERATIONS.labels(name, kind, "error" if failed else "ok").inc()
        OPERATION_LATENCY.labels(name, kind).observe(time.perf_counter() - started)
