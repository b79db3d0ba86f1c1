"""Descriptions of arguments and enum values, by name, applied to the built schema so that every
argument and value integrators see is described without repeating the text at each resolver."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

ARGUMENTS = {
    "id": "The object's id (a UUID).",
    "ideaId": "The idea's id.",
    "parentId": "The comment this one answers (one level of replies).",
    "first": "Page size: how many items to return (1-100).",
    "after": "Cursor: pass `pageInfo.endCursor` of the previous page.",
    "filter": "Narrow the result; all given conditions must hold.",
    "sort": "Order of the items.",
    "input": "The fields to write.",
    "expectedVersion": "The `version` you read; a stale one is refused (someone changed it).",
    "to": "The status to move to.",
    "reason": "Why, shown with the move (required for some moves).",
    "body": "The text.",
    "text": "Text to compare with existing ideas.",
    "team": "A team key.",
    "process": "A process key.",
    "query": "What to search for, in your own words (Dutch or English).",
    "k": "How many passages to return (1-50).",
    "scope": "Whose items: yours, or those shared with your teams.",
    "stage": "The key of the stage you answer (see `currentStage`).",
    "answer": "Your answer, 1-4,000 characters.",
    "teams": "Your teams to share with; all of them when left out.",
    "action": "Index of the action in the reflection's summary.",
    "title": "A title; made from the action when left out.",
    "groupBy": "Which breakdown: none, team, process, or both.",
    "period": "Closed ISO weeks or months of whole weeks.",
}
ENUM_VALUES = {
    "ServiceStatus.UP": "Ready: reachable and its database at the code's schema.",
    "ServiceStatus.DOWN": "Not ready or not reachable.",
    "IdeaStatus.DRAFT": "Being written; visible to its author only.",
    "IdeaStatus.SUBMITTED": "Proposed; waiting for review.",
    "IdeaStatus.IN_REVIEW": "A coach is looking at it.",
    "IdeaStatus.ACCEPTED": "Adopted: it will be tried.",
    "IdeaStatus.PILOTING": "Being tried out.",
    "IdeaStatus.IMPLEMENTED": "Part of how the work is done now.",
    "IdeaStatus.REJECTED": "Not adopted (with a reason).",
    "IdeaStatus.PARKED": "Put aside for later (with a reason).",
    "IdeaStatus.WITHDRAWN": "Taken back by its author.",
    "ReflectionStatus.OPEN": "Stages still to answer; can be resumed any time.",
    "ReflectionStatus.FINISHED": "Summarised; answers can no longer change.",
    "IdeaSort.NEWEST": "Most recently captured first.",
    "IdeaSort.MOST_SUPPORTED": "Most supported first.",
    "IdeaSort.RECENTLY_UPDATED": "Most recently changed first.",
    "ReflectionScope.MINE": "Your own reflections.",
    "ReflectionScope.SHARED": "Colleagues' reflections shared with one of your teams.",
    "MetricPeriod.WEEK": "Closed ISO weeks, Monday to Sunday.",
    "MetricPeriod.MONTH": "Closed months made of whole ISO weeks (the week's Thursday decides).",
    "MetricGrouping.NONE": "One row per period: the whole organisation.",
    "MetricGrouping.TEAM": "One row per team and period.",
    "MetricGrouping.PROCESS": "One row per process and period.",
    "MetricGrouping.TEAM_AND_PROCESS": "One row per team, process and period.",
}
ROOTS = {
    "Subscription": "Live updates over WebSocket (graphql-transport-ws).",
}


def describe(schema: GraphQLSchema) -> GraphQLSchema:
    """`schema`, changed in place and returned: arguments and enum values without a description
    get the one their name has here (ARGUMENTS, ENUM_VALUES), root types ROOTS."""
    for name, graphql_type in schema.type_map.items():
        if name in ROOTS and not graphql_type.description:
            graphql_type.description = ROOTS[name]
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field in graphql_type.fields.values():
                for argument_name, argument in field.args.items():
                    if not argument.description:
                        argument.description = ARGUMENTS.get(argument_name)
        elif isinstance(graphql_type, GraphQLEnumType):
            for value_name, value in graphql_type.values.items():
                if not value.description:
                    value.description = ENUM_VALUES.get(f"{name}.{value_name}")
        elif isinstance(graphql_type, GraphQLInputObjectType):
            continue
    return schema
