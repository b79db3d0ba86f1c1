"""Operator commands: `python -m services.manage migrate|demo|token`.

The Makefile calls these; they are also what a Kubernetes migration Job runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

from kit.auth import Role, dev_secret, issue_dev_token
from kit.migrations import autogenerate, upgrade
from kit.settings import DatabaseServiceSettings, PlatformSettings
from services.analytics.settings import AnalyticsSettings
from services.ideas.settings import IdeasSettings
from services.reflection.settings import ReflectionSettings

SERVICES: dict[str, type[DatabaseServiceSettings]] = {
    "ideas": IdeasSettings,
    "reflection": ReflectionSettings,
    "analytics": AnalyticsSettings,
}
SERVICES_DIR = Path(__file__).parent


def migrate(names: list[str]) -> None:
    """Upgrade the named services' databases (all when `names` is empty) to their Alembic head.

    Exits with a message naming the known services when a name is unknown."""
    unknown = sorted(set(names) - set(SERVICES))
    if unknown:
        sys.exit(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    for name in names or list(SERVICES):
        url = SERVICES[name]().database
        upgrade(SERVICES_DIR / name / "migrations", url)
        print(f"{name}: migrated to head")


def revision(service: str, revision_id: str, message: str) -> None:
    """Diff the models against a scratch database migrated to head, never a real one."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/scratch.db"
        folder = SERVICES_DIR / service / "migrations"
        upgrade(folder, url)
        autogenerate(folder, url, message, revision_id)


def demo() -> None:
    """Demo content is loaded once; the marker under `var/` keeps `make run` from doubling it."""
    platform = PlatformSettings()
    marker = platform.var_dir / "demo-loaded"
    if marker.exists():
        print("demo content: already loaded")
        return
    # Imported here: each service's image holds only its own extra, and a migration Job in the
    # ideas image must not need the reflection service's embedding model.
    for name in ("ideas", "reflection", "analytics"):
        importlib.import_module(f"services.{name}.demo").load()
        print(f"{name}: demo content loaded")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("loaded\n")


def token(subject: str, roles: list[str], teams: list[str], name: str | None, hours: int) -> None:
    """Print a development bearer token signed with the secret under `var/`, valid `hours` hours.

    Exits with a message in production (tokens come from the identity provider there) and when a
    role is not one of the platform's roles."""
    platform = PlatformSettings()
    if platform.is_production:
        sys.exit("development tokens are refused in production: use your identity provider")
    unknown = sorted(set(roles) - {role.value for role in Role})
    if unknown:
        sys.exit(
            f"unknown role(s): {', '.join(unknown)}; known: {', '.join(r.value for r in Role)}"
        )
    secret = dev_secret(platform.var_dir)
    print(
        issue_dev_token(
            secret, subject=subject, roles=roles, teams=teams, name=name, ttl_seconds=hours * 3600
        )
    )


def _split(value: str) -> list[str]:
    return [part for part in value.replace(" ", ",").split(",") if part]


def main(argv: list[str] | None = None) -> None:
    """The `python -m services.manage` command line: migrate, demo, revision, token."""
    parser = argparse.ArgumentParser(prog="python -m services.manage")
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_cmd = commands.add_parser(
        "migrate", help="bring service databases to the newest schema"
    )
    migrate_cmd.add_argument("services", nargs="*", help=f"any of {', '.join(SERVICES)}")
    commands.add_parser("demo", help="load the demo content once")
    revision_cmd = commands.add_parser("revision", help="autogenerate a migration (developers)")
    revision_cmd.add_argument("service", choices=list(SERVICES))
    revision_cmd.add_argument("--id", required=True, help="revision id, e.g. 0002")
    revision_cmd.add_argument("-m", "--message", required=True)
    token_cmd = commands.add_parser("token", help="print a development bearer token")
    token_cmd.add_argument("--sub", required=True)
    token_cmd.add_argument("--roles", default="worker")
    token_cmd.add_argument("--teams", default="")
    token_cmd.add_argument("--name")
    token_cmd.add_argument("--hours", type=int, default=8)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        migrate(args.services)
    elif args.command == "revision":
        revision(args.service, args.id, args.message)
    elif args.command == "demo":
        demo()
    elif args.command == "token":
        token(args.sub, _split(args.roles), _split(args.teams), args.name, args.hours)


if __name__ == "__main__":
    main()
