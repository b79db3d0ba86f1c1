"""The configuration reference (docs/configuration.md), written from the settings classes
themselves: the variable, its default, and the comment above the field in the code.

`python -m services.config_reference` prints it; `make config-docs` writes it; a test fails
when the committed page is not what the code says.
"""

from __future__ import annotations

import inspect
import re
import sys
from typing import Any

from pydantic_settings import BaseSettings

from gateway.settings import GatewaySettings
from kit.settings import PlatformSettings
from services.analytics.settings import AnalyticsSettings
from services.ideas.settings import IdeasSettings
from services.reflection.settings import ReflectionSettings

SECTIONS: list[tuple[str, str, type[BaseSettings]]] = [
    ("Every process", "WERKVLOER_", PlatformSettings),
    ("Gateway", "GATEWAY_", GatewaySettings),
    ("Ideas service", "IDEAS_", IdeasSettings),
    ("Reflection service", "REFLECTION_", ReflectionSettings),
    ("Analytics service", "ANALYTICS_", AnalyticsSettings),
]
FALLBACK = {
    "host": "Address to listen on (`0.0.0.0` in a container).",
    "port": "Port to listen on.",
    "database_url": "The service's own database (`postgresql+asyncpg://user:password@host/db`); "
    "a SQLite file under `var/` when unset.",
    "ideas_url": "Where the ideas service answers.",
    "reflection_url": "Where the reflection service answers.",
    "analytics_url": "Where the analytics service (the LRS) answers.",
}
_FIELD = re.compile(r"^\s{4}(\w+): [^=]+?(?:=\s*(.+?))?\s*(?:#\s*(.*))?$")


def _comments(cls: type) -> dict[str, str]:
    """Comment lines above each field (or at its end), through the class's bases."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__.split(".")[0] not in ("kit", "services", "gateway"):
            continue
        pending: list[str] = []  # a comment block speaks for the fields under it, to a blank line
        after_field = False
        for line in inspect.getsource(klass).splitlines():
            stripped = line.strip()
            if stripped.startswith("#"):
                if after_field:
                    pending, after_field = [], False
                pending.append(stripped.lstrip("# ").strip())
                continue
            match = _FIELD.match(line)
            if match:
                after_field = True
                text = " ".join([*pending, match.group(3) or ""]).strip()
                found[match.group(1)] = text or FALLBACK.get(match.group(1), "")
            elif not stripped:
                pending, after_field = [], False
    return found


def _default(field: Any) -> str:
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is None:
        return "unset"
    if isinstance(value, list):
        return "`[]`" if not value else "`" + ",".join(map(str, value)) + "`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    text = str(value)
    return "*under the project folder*" if "/" in text and text.startswith("/") else f"`{text}`"


def reference() -> str:
    """docs/configuration.md as Markdown: one table per settings class, a row per variable with
    its default and the comment written above the field."""
    lines = [
        "# Configuration reference",
        "",
        "Written by `make config-docs` from the settings classes (`python -m services."
        "config_reference`); a test fails when this page and the code disagree. Every variable",
        "can also be set in a `.env` file in the working directory. Secrets (database URLs with",
        "passwords, pseudonym keys, LRS credentials) belong in Kubernetes Secrets, never here.",
    ]
    for title, prefix, cls in SECTIONS:
        notes = _comments(cls)
        lines += [
            "",
            f"## {title} (`{prefix}*`)",
            "",
            "| variable | default | meaning |",
            "|---|---|---|",
        ]
        previous = None
        for name, field in cls.model_fields.items():
            if name == "platform":
                continue
            meaning = notes.get(name, "").replace("|", "\\|")
            # Fields sharing one comment: say it once, at the first of them.
            shown = "〃" if meaning and meaning == previous else meaning
            previous = meaning
            lines.append(f"| `{prefix}{name.upper()}` | {_default(field)} | {shown} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())
