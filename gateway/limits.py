"""What one GraphQL request may ask for, checked while the document is validated — before any
resolver runs, so a refused request never reaches a service — and what a refused request looks
like: every error carries `extensions.code`, and a request refused before execution answers
HTTP 400.

Depth, aliases and tokens use Strawberry's own extensions; the cost estimate and the range of
size arguments are ours (gateway/cost.py): every field costs 1, and a list field's selection
costs as often as the page it asks for, so `ideas(first: 100) { edges { node { comments(first:
100) { … } } } }` costs ten thousand times its innermost selection.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    ValidationContext,
    ValidationRule,
    Visitor,
    get_operation_ast,
    visit,
)
from prometheus_client import Counter, Histogram
from starlette.responses import Response
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

from gateway.cost import OperationWalk, check_variable_sizes
from kit.logging import current_request_id


def cost_rule(max_cost: int) -> type[ValidationRule]:
    """A validation rule class: size arguments in range (BAD_USER_INPUT), and the operation's
    cost within `max_cost` (QUERY_TOO_COSTLY with `cost` and `limit`), reported before any
    resolver runs."""

    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            walk = OperationWalk(self.context.schema, self.context.get_fragment)
            cost = walk.operation_cost(node)
            for error in walk.errors:
                self.report_error(error)
            if not walk.errors and cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"the query would cost {cost}, the limit is {max_cost}: ask for smaller "
                        "pages, fewer nested lists or shorter texts",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": max_cost},
                    )
                )

    return CostLimit


class _FragmentNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.defined: set[str] = set()
        self.spread: set[str] = set()

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
        self.defined.add(node.name.value)

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.spread.add(node.name.value)


class SafeQueryDepthLimiter(QueryDepthLimiter):
    """Strawberry's depth limit, skipped for a document that spreads an unknown fragment (it
    fails there with a KeyError; graphql-core's own rule reports the unknown fragment)."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(max_depth=max_depth)
        (depth_rule,) = self.validation_rules

        class KnownFragmentsOnly(ValidationRule):
            def __init__(self, context: ValidationContext) -> None:
                super().__init__(context)
                names = _FragmentNames()
                visit(context.document, names)
                if names.spread <= names.defined:
                    self.inner = depth_rule(context)

        self.validation_rules = [KnownFragmentsOnly]


# Strawberry's own limit errors carry no code; clients should not have to parse messages.
LIMIT_CODES = (
    ("maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found", "TOO_MANY_ALIASES"),
    ("tokens", "TOO_MANY_TOKENS"),
)


def _code(error: GraphQLError, code: str) -> None:
    if error.extensions is None or "code" not in error.extensions:
        error.extensions = {**(error.extensions or {}), "code": code}


def _tag(error: GraphQLError, default: str) -> None:
    """A limit's own code when the message names one, else `default`."""
    for fragment, code in LIMIT_CODES:
        if fragment in error.message:
            _code(error, code)
    _code(error, default)


def _is_bug(error: GraphQLError) -> bool:
    original = error.original_error
    # Errors we raise ourselves are GraphQLErrors; permission refusals are PermissionError-like
    # exceptions Strawberry raises with their own message. Anything else is a bug.
    return original is not None and not isinstance(original, GraphQLError | PermissionError)


class MaskUnexpectedErrors(MaskErrors):
    """Bugs become "internal error" with the request id; expected errors keep their message
    and get a code by the phase that found them: `GRAPHQL_PARSE_FAILED` (syntax),
    `GRAPHQL_VALIDATION_FAILED` (unknown field, fragment, argument …; the limits have their own
    codes), `BAD_USER_INPUT` (variables of the wrong type, sizes out of range). A request
    refused before execution — no data, no error tied to a field — answers HTTP 400."""

    def on_parse(self) -> Iterator[None]:
        """Hook around parsing: tags syntax errors GRAPHQL_PARSE_FAILED (yields once)."""
        yield
        for error in self.execution_context.pre_execution_errors or ():
            _tag(error, "GRAPHQL_PARSE_FAILED")

    def on_validate(self) -> Iterator[None]:
        """Hook around validation: tags refusals GRAPHQL_VALIDATION_FAILED, or
        BAD_USER_INPUT for a literal Python could not convert (yields once)."""
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error.original_error, ValueError) and error.message.startswith(
                "Expected value of type"
            ):
                # graphql-core coerced a literal and Python refused it (an integer of thousands
                # of digits): the client's input, not a bug of ours.
                error.original_error = None
                _tag(error, "BAD_USER_INPUT")
            elif not _is_bug(error):
                _tag(error, "GRAPHQL_VALIDATION_FAILED")

    def on_execute(self) -> Iterator[None]:
        """Hook before execution: size arguments given by variables out of range end the
        operation with BAD_USER_INPUT errors and no resolver runs (yields once)."""
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is not None and operation is not None:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            errors = check_variable_sizes(
                context.schema._schema, operation, fragments, context.variables
            )
            if errors:
                context.result = ExecutionResult(data=None, errors=errors)
        yield

    def on_operation(self) -> Iterator[None]:
        """Hook around the operation: errors without a path get BAD_USER_INPUT or
        BAD_REQUEST, and a request refused before execution answers HTTP 400 (yields once)."""
        yield from super().on_operation()
        result = self.execution_context.result
        errors = list(getattr(result, "errors", None) or ())
        for error in errors:
            if error.path is None:
                variable = error.message.startswith("Variable")
                _code(error, "BAD_USER_INPUT" if variable else "BAD_REQUEST")
        refused = bool(errors) and getattr(result, "data", None) is None
        if refused and all(
            e.path is None and (e.extensions or {}).get("code") != "INTERNAL_ERROR" for e in errors
        ):
            self._answer_400()

    def _answer_400(self) -> None:
        response = getattr(self.execution_context.context, "response", None)
        if isinstance(response, Response):
            response.status_code = 400

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """The masked form of a bug's error: message "an unexpected error occurred", code
        INTERNAL_ERROR and the request id."""
        return GraphQLError(
            message="an unexpected error occurred",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_ERROR", "request_id": current_request_id()},
        )


class TolerantParserCache(ParserCache):
    """Strawberry's ParserCache raises a syntax error out of its hook, past every extension and
    outside the operation (so it would reach the client without a code); it leaves a document
    that does not parse to Strawberry's own parse, which reports it as the operation's error."""

    def on_parse(self) -> Iterator[None]:
        """Hook around parsing: the cached parse when the document parses; otherwise
        nothing, so Strawberry's own parse reports the syntax error (yields once)."""
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class ClientErrorsAreNotFailures(logging.Filter):
    """Strawberry logs every GraphQL error at ERROR with its traceback. A client's mistake (a
    syntax error, an unknown field, a refused argument) is logged at INFO without one; only a
    bug keeps ERROR and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always True (keeps the record); a client's GraphQL error is lowered to INFO
        without its traceback."""
        error = record.msg
        if isinstance(error, GraphQLError) and not _is_bug(error):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


_STRAWBERRY_LOG = logging.getLogger("strawberry.execution")


def limit_extensions(
    *, max_depth: int, max_aliases: int, max_tokens: int, max_cost: int
) -> list[Callable[[], SchemaExtension]]:
    """Extension factories (Strawberry makes fresh extension objects for every operation):
    error masking and codes, parse and validation caches, depth, alias, token and cost limits
    with these maximums, and operation metrics. Also lowers client errors in Strawberry's log."""
    if not any(isinstance(f, ClientErrorsAreNotFailures) for f in _STRAWBERRY_LOG.filters):
        _STRAWBERRY_LOG.addFilter(ClientErrorsAreNotFailures())
    cost = cost_rule(max_cost)
    # Clients send the same few documents over and over: parse and validate each once.
    return [
        lambda: MaskUnexpectedErrors(should_mask_error=_is_bug),
        lambda: TolerantParserCache(maxsize=1000),
        lambda: ValidationCache(maxsize=1000),
        lambda: SafeQueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules([cost]),
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
        """Hook around the operation: counts it by name, type and outcome and observes its
        duration in seconds (yields once)."""
        started = time.perf_counter()
        yield
        context = self.execution_context
        name = _label(context.operation_name)
        try:
            kind = context.operation_type.value
        except RuntimeError:  # the document did not parse, or names no such operation
            kind = "unknown"
        result = context.result
        failed = bool(getattr(result, "errors", None)) or bool(context.pre_execution_errors)
        OPERATIONS.labels(name, kind, "error" if failed else "ok").inc()
        OPERATION_LATENCY.labels(name, kind).observe(time.perf_counter() - started)
