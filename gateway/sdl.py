"""The published schema.

`python -m gateway.sdl` prints the schema as SDL (`make schema` writes gateway/schema.graphql).
`python -m gateway.sdl --check` fails when the committed SDL differs from the code, and lists
the breaking and dangerous changes of the code's schema against an earlier one (by default the
previous commit's gateway/schema.graphql), so a reviewer sees what integrators would feel.
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
from pathlib import Path

from graphql import build_schema as parse_sdl
from graphql import find_breaking_changes, find_dangerous_changes

from gateway.schema.root import build_schema

COMMITTED = Path("gateway") / "schema.graphql"


def sdl() -> str:
    """The code's schema as SDL text, ending in a newline."""
    return build_schema(production=False).as_str() + "\n"


def _earlier(ref: str) -> str | None:
    found = subprocess.run(  # noqa: S603 - fixed arguments, a ref from the command line
        ["git", "show", f"{ref}:{COMMITTED.as_posix()}"],  # noqa: S607 - git from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout if found.returncode == 0 else None


def changes(old: str, new: str) -> tuple[list[str], list[str]]:
    """(breaking, dangerous) changes from SDL `old` to SDL `new`, each as "Type: description"
    lines (graphql-core's find_breaking_changes and find_dangerous_changes). Raises GraphQLError
    when either does not parse."""
    before, after = parse_sdl(old), parse_sdl(new)
    breaking = [f"{c.type.name}: {c.description}" for c in find_breaking_changes(before, after)]
    dangerous = [f"{c.type.name}: {c.description}" for c in find_dangerous_changes(before, after)]
    return breaking, dangerous


def check(against: str, fail_on_breaking: bool) -> int:
    """The exit status of `--check`: 1 when the committed SDL differs from the code, or (with
    `fail_on_breaking`) when a change against the SDL at git ref `against` breaks clients; 0
    otherwise. Prints what differs."""
    current = sdl()
    status = 0
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if committed != current:
        print("gateway/schema.graphql differs from the code: run `make schema` and commit it.")
        diff = difflib.unified_diff(
            committed.splitlines(), current.splitlines(), "committed", "code", lineterm=""
        )
        print("\n".join(list(diff)[:80]))
        status = 1
    earlier = _earlier(against)
    if earlier is None:
        print(f"no gateway/schema.graphql at {against}: nothing to compare with")
        return status
    breaking, dangerous = changes(earlier, current)
    for title, found in (("breaking", breaking), ("dangerous", dangerous)):
        print(f"{len(found)} {title} change(s) against {against}")
        for line in found:
            print(f"  - {line}")
    if breaking and fail_on_breaking:
        status = 1
    return status


def main(argv: list[str]) -> int:
    """The exit status of `python -m gateway.sdl` with `argv`: 0 after printing the SDL, or
    check's status with `--check`."""
    parser = argparse.ArgumentParser(prog="python -m gateway.sdl")
    parser.add_argument("--check", action="store_true", help="compare instead of printing")
    parser.add_argument("--against", default="HEAD~1", help="git ref of the earlier schema")
    parser.add_argument("--fail-on-breaking", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.against, args.fail_on_breaking)
    print(sdl(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
