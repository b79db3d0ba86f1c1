"""The one GraphQL schema, composed from one module per domain."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension

from gateway.limits import limit_extensions
from gateway.schema.documents import DocumentsQuery
from gateway.schema.glossary import describe
from gateway.schema.health import HealthQuery
from gateway.schema.ideas.mutations import IdeasMutation
from gateway.schema.ideas.queries import IdeasQuery
from gateway.schema.ideas.subscriptions import IdeasSubscription
from gateway.schema.identity import IdentityQuery
from gateway.schema.learning import LearningMutation, LearningQuery
from gateway.schema.reflections.mutations import ReflectionsMutation
from gateway.schema.reflections.queries import ReflectionsQuery
from gateway.schema.reflections.subscriptions import ReflectionsSubscription
from gateway.settings import GatewaySettings


@strawberry.type(description="Everything a front end, intranet widget or LMS plugin can read.")
class Query(
    HealthQuery, IdentityQuery, IdeasQuery, DocumentsQuery, ReflectionsQuery, LearningQuery
):
    """The query root: the fields of every domain's query class, in this order."""


@strawberry.type(description="Everything a front end, intranet widget or LMS plugin can change.")
class Mutation(IdeasMutation, ReflectionsMutation, LearningMutation):
    """The mutation root: the fields of every domain's mutation class."""


@strawberry.type
class Subscription(IdeasSubscription, ReflectionsSubscription):
    """The subscription root: ideaChanged, then the reflection streams."""


def build_schema(*, production: bool, settings: GatewaySettings | None = None) -> strawberry.Schema:
    """The Strawberry schema with the limits of `settings` (GatewaySettings() when None),
    argument and value descriptions (glossary.py), and no introspection when `production`."""
    settings = settings or GatewaySettings()
    extensions: list[Callable[[], SchemaExtension]] = limit_extensions(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_cost=settings.max_cost,
    )
    if production:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    schema = strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
    describe(schema._schema)  # the graphql-core schema that introspection and the SDL read
    return schema
