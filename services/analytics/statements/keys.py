"""What a stored statement is found by (pure): the actor's key, the agents and activities it
names for `related_agents` / `related_activities` (xAPI 1.0.3, Communication 2.1.3), and the
fingerprint that decides whether a repeated id carries the same statement."""

from __future__ import annotations

import hashlib
import json
from typing import Any

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def actor_key(actor: dict[str, Any]) -> str:
    """The text an Agent or Group is stored and matched by: `account:<homePage>|<name>`,
    `<ifi>:<value>` for mbox / mbox_sha1sum / openid, or `group:<sha256>` of an anonymous
    Group's JSON. Raises nothing; `actor` has passed validation.py."""
    account = actor.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    for ifi in ("mbox", "mbox_sha1sum", "openid"):
        if actor.get(ifi):
            return f"{ifi}:{actor[ifi]}"
    return "group:" + hashlib.sha256(json.dumps(actor, sort_keys=True).encode()).hexdigest()


def account_key(public_url: str, subject: str) -> str:
    """The actor key of a person's platform account `{public_url}|{subject}`: the actor every
    Werkvloer service writes for them."""
    return f"account:{public_url.rstrip('/')}|{subject}"


def fingerprint_of(statement: dict[str, Any]) -> str:
    """SHA-256 hex of the statement without the LRS's own stamps (`stored`, `authority`,
    `version`): equal fingerprints are "the same statement" (xAPI 1.0.3, Data 2.4.1)."""
    comparable = {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}
    return hashlib.sha256(json.dumps(comparable, sort_keys=True).encode()).hexdigest()


def joined(keys: set[str]) -> str:
    """`keys` as the stored `|key|key|` list (sorted, `|` removed from each key)."""
    return "|" + "|".join(sorted(k.replace("|", "") for k in keys)) + "|"


def like_key(key: str) -> str:
    """The LIKE pattern (escape character `\\`) that finds `key` in a `|key|key|` list."""
    escaped = key.replace("|", "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%|{escaped}|%"


def agents_in(statement: dict[str, Any]) -> set[str]:
    """The keys of the actor, an Agent/Group object, the instructor, the team and their members,
    also inside a SubStatement (what `related_agents` matches)."""
    found: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, dict) and value.get("objectType", "Agent") in ("Agent", "Group"):
            if any(k in value for k in IFIS):
                found.add(actor_key(value))
            for member in value.get("member") or []:
                add(member)

    add(statement.get("actor"))
    target = statement.get("object") or {}
    if target.get("objectType") in ("Agent", "Group"):
        add(target)
    if target.get("objectType") == "SubStatement":
        found |= agents_in(target)
    context = statement.get("context") or {}
    add(context.get("instructor"))
    add(context.get("team"))
    return found


def activities_in(statement: dict[str, Any]) -> set[str]:
    """The ids of the object activity and every context activity, also inside a SubStatement
    (what `related_activities` matches)."""
    found: set[str] = set()
    target = statement.get("object") or {}
    if target.get("objectType", "Activity") == "Activity" and target.get("id"):
        found.add(str(target["id"]))
    if target.get("objectType") == "SubStatement":
        found |= activities_in(target)
    activities = (statement.get("context") or {}).get("contextActivities") or {}
    for entries in activities.values():
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, dict) and entry.get("id"):
                found.add(str(entry["id"]))
    return found
