"""Run a service in a process of its own, on a fresh SQLite file or PostgreSQL database, and
load it from another process with wrk (the load generator must not share the server's GIL)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from kit.auth import dev_secret, issue_dev_token

PG_ADMIN = os.environ.get(
    "WERKVLOER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _pg(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def postgres_available() -> bool:
    try:
        asyncio.run(_pg("SELECT 1"))
    except (OSError, asyncpg.PostgresError):
        return False
    return True


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        return
    name = f"werkvloer_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            + f"/{name}"
        )
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Server:
    url: str
    env: dict[str, str]


@contextmanager
def service(
    module: str,
    prefix: str,
    database_url: str,
    extra: dict[str, str] | None = None,
    migrate: bool = True,
) -> Iterator[Server]:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {
            **os.environ,
            "WERKVLOER_VAR_DIR": folder,
            "WERKVLOER_LOG_LEVEL": "WARNING",
            f"{prefix}_PORT": str(port),
            f"{prefix}_DATABASE_URL": database_url,
            **(extra or {}),
        }
        if migrate:
            subprocess.run(
                [sys.executable, "-m", "services.manage", "migrate", module.rsplit(".", 1)[-1]],
                env=env,
                check=True,
                capture_output=True,
            )
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            if not wait_until_ready(f"{url}/readyz", process):
                raise RuntimeError(f"{module} did not become ready")
            yield Server(url=url, env=env)
        finally:
            process.terminate()
            process.wait(timeout=20)


def backends() -> list[str]:
    """The SQL back ends a benchmark measures: "sqlite", and "postgresql" when PG_ADMIN answers."""
    return ["sqlite"] + (["postgresql"] if postgres_available() else [])


@dataclass
class OnBackend:
    """One service running on a fresh database of one back end, with a scratch folder."""

    backend: str
    server: Server
    database_url: str
    folder: Path

    def bearer(
        self, subject: str, roles: list[str], teams: list[str] | None = None
    ) -> dict[str, str]:
        """An Authorization header carrying a dev token this service accepts."""
        secret = dev_secret(Path(self.server.env["WERKVLOER_VAR_DIR"]))
        token = issue_dev_token(secret, subject=subject, roles=roles, teams=teams or [])
        return {"Authorization": "Bearer " + token}


def on_each_backend(module: str, prefix: str, extra: dict[str, str]) -> Iterator[OnBackend]:
    """`module` served (see `service`) on a new database of each of `backends()` in turn; each
    is stopped and removed before the next starts."""
    for backend in backends():
        with (
            tempfile.TemporaryDirectory() as folder,
            database(backend, Path(folder)) as url,
            service(module, prefix, url, extra) as server,
        ):
            yield OnBackend(backend, server, url, Path(folder))


def wait_until_ready(
    probe: str, process: subprocess.Popen[bytes], *, seconds: float = 60, interval: float = 0.2
) -> bool:
    """True once GET `probe` answers 200; False when `process` exits or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(probe, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            return False
        time.sleep(interval)


def wrk(
    url: str,
    *,
    seconds: int = 5,
    connections: int = 16,
    headers: dict[str, str] | None = None,
    script: str | None = None,
) -> float:
    """Requests per second that answered 2xx/3xx; a run with errors counts only the good ones."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    duration = float(re.search(r"requests in ([\d.]+)s", output).group(1))  # type: ignore[union-attr]
    return (total - (int(bad.group(1)) if bad else 0)) / duration
