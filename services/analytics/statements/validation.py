"""The xAPI 1.0.3 statement rules (section 2.4), checked one by one so that a refusal names the
rule that was broken. Returns nothing; raises `Invalid(rule, message)` at the first violation."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from kit.errors import AppError
from kit.text import find_invalid_text

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
)
STATEMENT_KEYS = {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored",
                  "authority", "version", "attachments"}  # fmt: skip
RESULT_KEYS = {"score", "success", "completion", "response", "duration", "extensions"}
CONTEXT_KEYS = {"registration", "instructor", "team", "contextActivities", "revision", "platform",
                "language", "statement", "extensions"}  # fmt: skip
OBJECT_TYPES = {"Activity", "Agent", "Group", "SubStatement", "StatementRef"}
IRI_MAX = 2000  # the verb and activity id columns hold this many characters
IDENTIFIER_MAX = 400  # an agent's identifier (mbox, openid, account homePage + name) at most


class StatementRejected(AppError):
    """400 `invalid_statement` (or the code given): a statement, a batch or its attachment
    parts break an xAPI rule; nothing of the request is stored."""

    status_code = 400
    code = "invalid_statement"


class Invalid(Exception):
    """The first xAPI rule a statement breaks: `rule` names it (e.g. `ifi`, `timestamp`,
    `invalid_text`), `message` says where. service.check turns it into StatementRejected."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def _require(condition: bool, rule: str, message: str) -> None:
    if not condition:
        raise Invalid(rule, message)


def _matches(value: Any, pattern: re.Pattern[str]) -> bool:
    """True when `value` is a string that `pattern` matches."""
    return isinstance(value, str) and bool(pattern.match(value))


def iri(value: Any, where: str) -> None:
    """Raises `Invalid` unless `value` is an absolute IRI of at most `IRI_MAX` characters."""
    _require(
        isinstance(value, str) and len(value) <= IRI_MAX and _matches(value, _IRI),
        "iri",
        f"{where} must be an absolute IRI",
    )


def _uuid(value: Any, where: str) -> None:
    try:
        uuid.UUID(str(value))
    except ValueError:
        raise Invalid("uuid", f"{where} must be a UUID") from None
    _require(isinstance(value, str), "uuid", f"{where} must be a UUID string")


def _language_map(value: Any, where: str) -> None:
    _require(isinstance(value, dict), "language-map", f"{where} must be a language map")
    for tag, text in value.items():
        _require(
            tag == "und" or bool(_LANGUAGE.match(tag)),
            "language-map",
            f"{where}: {tag!r} is not a language tag",
        )
        _require(isinstance(text, str), "language-map", f"{where}.{tag} must be a string")


def _extensions(value: Any, where: str) -> None:
    _require(isinstance(value, dict), "extensions", f"{where} must be an object")
    for key in value:
        iri(key, f"{where} key {key!r}")


def _only(value: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(value) - allowed)
    _require(
        not unknown, "unknown-property", f"{where} has unknown properties: {', '.join(unknown)}"
    )


def agent(value: Any, where: str, *, allow_group: bool = True) -> None:
    """Raises `Invalid` unless `value` is an xAPI Agent (or Group, with `allow_group`)."""
    _require(isinstance(value, dict), "agent", f"{where} must be an object")
    kind = value.get("objectType", "Agent")
    _require(kind in ("Agent", "Group"), "agent", f"{where}.objectType must be Agent or Group")
    _require(
        allow_group or kind == "Agent", "group-member", f"{where}: a Group cannot be a Group member"
    )
    ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in value]
    if kind == "Agent":
        _require(
            len(ifis) == 1,
            "ifi",
            f"{where}: an Agent has exactly one inverse functional identifier",
        )
    else:
        _require(
            len(ifis) <= 1, "ifi", f"{where}: a Group has at most one inverse functional identifier"
        )
        members = value.get("member")
        if not ifis:
            _require(
                isinstance(members, list) and bool(members),
                "anonymous-group",
                f"{where}: an anonymous Group lists its members",
            )
        for i, member in enumerate(members or []):
            agent(member, f"{where}.member[{i}]", allow_group=False)
    if "name" in value:
        _require(isinstance(value["name"], str), "agent", f"{where}.name must be a string")
    if "mbox" in value:
        _require(
            isinstance(value["mbox"], str) and value["mbox"].startswith("mailto:"),
            "mbox",
            f"{where}.mbox must be a mailto: IRI",
        )
    if "mbox_sha1sum" in value:
        _require(
            _matches(value["mbox_sha1sum"], _SHA1),
            "mbox_sha1sum",
            f"{where}.mbox_sha1sum must be 40 hex digits",
        )
    if "openid" in value:
        iri(value["openid"], f"{where}.openid")
    if "account" in value:
        account = value["account"]
        _require(
            isinstance(account, dict) and "homePage" in account and "name" in account,
            "account",
            f"{where}.account needs homePage and name",
        )
        iri(account["homePage"], f"{where}.account.homePage")
        _require(
            isinstance(account["name"], str) and bool(account["name"]),
            "account",
            f"{where}.account.name must be a string",
        )
    parts = [value.get(k) for k in ("mbox", "mbox_sha1sum", "openid")]
    if isinstance(value.get("account"), dict):
        parts += [value["account"].get("homePage"), value["account"].get("name")]
    _require(
        sum(len(p) for p in parts if isinstance(p, str)) <= IDENTIFIER_MAX,
        "ifi",
        f"{where}: its identifier is longer than {IDENTIFIER_MAX} characters",
    )


def _activity(value: Any, where: str) -> None:
    _require(
        isinstance(value, dict) and "id" in value, "activity", f"{where}: an Activity needs an id"
    )
    iri(value["id"], f"{where}.id")
    definition = value.get("definition")
    if definition is not None:
        _require(isinstance(definition, dict), "activity", f"{where}.definition must be an object")
        for key in ("name", "description"):
            if key in definition:
                _language_map(definition[key], f"{where}.definition.{key}")
        if "type" in definition:
            iri(definition["type"], f"{where}.definition.type")
        if "moreInfo" in definition:
            iri(definition["moreInfo"], f"{where}.definition.moreInfo")
        if "extensions" in definition:
            _extensions(definition["extensions"], f"{where}.definition.extensions")


def _object(value: Any, where: str, *, sub: bool = False) -> str:
    _require(isinstance(value, dict), "object", f"{where} must be an object")
    kind = value.get("objectType", "Activity")
    _require(
        kind in OBJECT_TYPES,
        "object-type",
        f"{where}.objectType must be one of {', '.join(sorted(OBJECT_TYPES))}",
    )
    if kind == "Activity":
        _activity(value, where)
    elif kind in ("Agent", "Group"):
        agent(value, where)
    elif kind == "StatementRef":
        _uuid(value.get("id"), f"{where}.id of a StatementRef")
    else:
        _require(not sub, "substatement", f"{where}: a SubStatement cannot contain a SubStatement")
        for forbidden in ("id", "stored", "version", "authority"):
            _require(
                forbidden not in value,
                "substatement",
                f"{where}: a SubStatement has no {forbidden}",
            )
        body = {k: v for k, v in value.items() if k != "objectType"}
        _body(body, where, sub=True)
    return str(kind)


def _result(value: Any) -> None:
    _require(isinstance(value, dict), "result", "result must be an object")
    _only(value, RESULT_KEYS, "result")
    score = value.get("score")
    if score is not None:
        _require(isinstance(score, dict), "score", "result.score must be an object")
        numbers = {k: score[k] for k in ("scaled", "raw", "min", "max") if k in score}
        _require(
            all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers.values()),
            "score",
            "result.score values must be numbers",
        )
        if "scaled" in numbers:
            _require(
                -1 <= numbers["scaled"] <= 1,
                "score-scaled",
                "result.score.scaled must lie between -1 and 1",
            )
        if "min" in numbers and "max" in numbers:
            _require(
                numbers["min"] < numbers["max"], "score-range", "result.score.min must be below max"
            )
        if "raw" in numbers:
            _require(
                numbers.get("min", numbers["raw"])
                <= numbers["raw"]
                <= numbers.get("max", numbers["raw"]),
                "score-raw",
                "result.score.raw must lie between min and max",
            )
    for flag in ("success", "completion"):
        if flag in value:
            _require(
                isinstance(value[flag], bool), "result", f"result.{flag} must be true or false"
            )
    if "response" in value:
        _require(isinstance(value["response"], str), "result", "result.response must be a string")
    if "duration" in value:
        message = "result.duration must be an ISO 8601 duration"
        _require(_matches(value["duration"], _DURATION), "duration", message)
    if "extensions" in value:
        _extensions(value["extensions"], "result.extensions")


def _context(value: Any, object_kind: str) -> None:
    _require(isinstance(value, dict), "context", "context must be an object")
    _only(value, CONTEXT_KEYS, "context")
    if "registration" in value:
        _uuid(value["registration"], "context.registration")
    if "instructor" in value:
        agent(value["instructor"], "context.instructor")
    if "team" in value:
        _require(
            isinstance(value["team"], dict) and value["team"].get("objectType") == "Group",
            "context",
            "context.team must be a Group",
        )
        agent(value["team"], "context.team")
    for key in ("revision", "platform"):
        if key in value:
            _require(
                object_kind == "Activity",
                "context-activity-only",
                f"context.{key} is allowed only when the object is an Activity",
            )
            _require(isinstance(value[key], str), "context", f"context.{key} must be a string")
    if "language" in value:
        message = "context.language must be a language tag"
        _require(_matches(value["language"], _LANGUAGE), "context", message)
    if "statement" in value:
        ref = value["statement"]
        _require(
            isinstance(ref, dict) and ref.get("objectType") == "StatementRef",
            "context",
            "context.statement must be a StatementRef",
        )
        _uuid(ref.get("id"), "context.statement.id")
    activities = value.get("contextActivities")
    if activities is not None:
        _require(
            isinstance(activities, dict), "context", "context.contextActivities must be an object"
        )
        for key, entries in activities.items():
            _require(
                key in ("parent", "grouping", "category", "other"),
                "context",
                f"context.contextActivities.{key} is not a context type",
            )
            for i, entry in enumerate(entries if isinstance(entries, list) else [entries]):
                _activity(entry, f"context.contextActivities.{key}[{i}]")
    if "extensions" in value:
        _extensions(value["extensions"], "context.extensions")


def _body(statement: dict[str, Any], where: str, *, sub: bool = False) -> None:
    for required in ("actor", "verb", "object"):
        _require(required in statement, "required", f"{where}: {required} is required")
    agent(statement["actor"], f"{where}.actor")
    verb = statement["verb"]
    _require(isinstance(verb, dict), "verb", f"{where}.verb must be an object")
    _only(verb, {"id", "display"}, f"{where}.verb")
    iri(verb.get("id"), f"{where}.verb.id")
    if "display" in verb:
        _language_map(verb["display"], f"{where}.verb.display")
    kind = _object(statement["object"], f"{where}.object", sub=sub)
    if "result" in statement:
        _result(statement["result"])
    if "context" in statement:
        _context(statement["context"], kind)
    if "timestamp" in statement:
        _timestamp(statement["timestamp"], f"{where}.timestamp")


def _timestamp(value: Any, where: str) -> None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("timestamp", f"{where} must be an ISO 8601 timestamp") from None
    _require(
        isinstance(value, str) and parsed.tzinfo is not None,
        "timestamp",
        f"{where} must carry a time zone (ISO 8601)",
    )


def validate(statement: Any) -> None:
    """Returns None when `statement` meets the xAPI 1.0.3 rules. Raises `Invalid` at the first
    rule it breaks; rule `invalid_text` for NUL or an unpaired surrogate anywhere in it
    (service.check answers that with the platform's `invalid_text` code)."""
    _require(isinstance(statement, dict), "statement", "a statement is a JSON object")
    fault = find_invalid_text(statement, "statement")
    if fault is not None:
        raise Invalid("invalid_text", str(fault))
    _only(statement, STATEMENT_KEYS, "statement")
    if "id" in statement:
        _uuid(statement["id"], "id")
    _body(statement, "statement")
    if "version" in statement:
        _require(
            isinstance(statement["version"], str)
            and statement["version"].startswith(("1.0.", "2.0.")),
            "version",
            "version must be 1.0.x or 2.0.x",
        )
    if "authority" in statement:
        agent(statement["authority"], "authority")
    for i, attachment in enumerate(statement.get("attachments") or []):
        _require(isinstance(attachment, dict), "attachment", f"attachments[{i}] must be an object")
        for key in ("usageType", "display", "contentType", "length", "sha2"):
            _require(key in attachment, "attachment", f"attachments[{i}] needs {key}")
        iri(attachment["usageType"], f"attachments[{i}].usageType")
        _language_map(attachment["display"], f"attachments[{i}].display")
        _require(
            isinstance(attachment["length"], int) and attachment["length"] >= 0,
            "attachment",
            f"attachments[{i}].length must be a whole number",
        )
