"""`make bench`: run every benchmark and rewrite bench/RESULTS.md with what it printed.

`python -m bench lrs ideas` runs only those and replaces only their sections."""

from __future__ import annotations

import asyncio
import platform
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import auth_overhead, fuzz, gateway, ideas, lrs, retrieval_quality, retrieval_speed

RESULTS = Path(__file__).parent / "RESULTS.md"
SECTIONS: dict[str, tuple[str, Callable[[], list[str]]]] = {
    "auth": ("Authentication overhead (in process)", lambda: asyncio.run(auth_overhead.run())),
    "ideas": ("Ideas service over HTTP (`bench/ideas.py`, wrk, 16 connections, 5 s)", ideas.run),
    "retrieval-quality": (
        "Retrieval quality (`bench/retrieval_quality.py`)",
        retrieval_quality.run,
    ),
    "retrieval-speed": ("Retrieval speed (`bench/retrieval_speed.py`)", retrieval_speed.run),
    "lrs": ("Learning record store and metrics (`bench/lrs.py`)", lrs.run),
    "gateway": ("Gateway overhead and batching (`bench/gateway.py`)", gateway.run),
    "fuzz": ("Fuzzing the APIs (`make fuzz`, `bench/fuzz.py`)", fuzz.run),
}


def _previous() -> dict[str, list[str]]:
    """The sections of the last RESULTS.md, by title."""
    if not RESULTS.exists():
        return {}
    found: dict[str, list[str]] = {}
    for block in re.split(r"^## ", RESULTS.read_text(), flags=re.MULTILINE)[1:]:
        title, _, body = block.partition("\n")
        found[title.strip()] = body.strip("\n").splitlines()
    return found


def main(names: list[str]) -> None:
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {list(SECTIONS)}")
    chosen = names or list(SECTIONS)
    tables = _previous()
    for name in chosen:
        title, run = SECTIONS[name]
        tables[title] = run()
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`; `python -m bench lrs` reruns one section).",
        "Figures are ratios against a baseline measured in the same run; absolute rates depend",
        "on the machine.",
        "",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()},"
        f" {platform.machine()}; sections run: {', '.join(chosen)}"
        + ("." if not names else " (the others are kept from an earlier run)."),
    ]
    for title, _ in SECTIONS.values():
        if title in tables:
            lines += ["", f"## {title}", "", *tables[title]]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
