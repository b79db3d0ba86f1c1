"""`make bench`: run every benchmark and rewrite bench/RESULTS.md with what it printed."""

from __future__ import annotations

import asyncio
import platform
from datetime import UTC, datetime
from pathlib import Path

from bench import auth_overhead, ideas, retrieval_quality, retrieval_speed

RESULTS = Path(__file__).parent / "RESULTS.md"


def main() -> None:
    sections = [
        ("Authentication overhead (in process)", asyncio.run(auth_overhead.run())),
        ("Ideas service over HTTP (`bench/ideas.py`, wrk, 16 connections, 5 s)", ideas.run()),
        ("Retrieval quality (`bench/retrieval_quality.py`)", retrieval_quality.run()),
        ("Retrieval speed (`bench/retrieval_speed.py`)", retrieval_speed.run()),
    ]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`). Figures are ratios against a baseline",
        "measured in the same run; absolute rates depend on the machine.",
        "",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()},"
        f" {platform.machine()}.",
    ]
    for title, table in sections:
        lines += ["", f"## {title}", "", *table]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
