"""A PostgreSQL server of the test's own: initdb into a temporary folder, a free port, and
stop/restart at will — restarting it disturbs nothing else on the machine."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.support.servers import free_port


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        found = [p for p in [shutil.which("initdb")] if p]
    assert found, "initdb not found (Debian package postgresql)"
    return Path(found[-1]).parent


@dataclass
class PrivatePostgres:
    bin: Path
    data: Path
    port: int
    as_user: list[str]

    def _ctl(self, *args: str) -> None:
        # No pipes: the server pg_ctl starts would inherit them, and waiting for their end
        # would wait for the server to stop. Its output goes to the log in its folder.
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create(self, *databases: str) -> None:
        async def run() -> None:
            connection = await asyncpg.connect(
                f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
            )
            try:
                for name in databases:
                    await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        asyncio.run(run())

    def restart(self) -> None:
        self._ctl(
            "restart",
            "-m",
            "fast",
            "-w",
            "-l",
            str(self.data / "server.log"),
            "-o",
            self._options(),
        )

    def _options(self) -> str:
        return f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    # Its own folder directly under the system's temporary folder: when the tests run as root,
    # the server runs as `postgres` (it refuses root), which must reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="werkvloer-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    server = PrivatePostgres(_binaries(), folder / "data", free_port(), as_user)
    subprocess.run(
        [
            *as_user,
            str(server.bin / "initdb"),
            "-D",
            str(server.data),
            "-A",
            "trust",
            "-U",
            "postgres",
        ],
        check=True,
        capture_output=True,
    )
    server._ctl("start", "-w", "-l", str(server.data / "server.log"), "-o", server._options())
    try:
        yield server
    finally:
        subprocess.run(
            [
                *as_user,
                str(server.bin / "pg_ctl"),
                "-D",
                str(server.data),
                "stop",
                "-m",
                "immediate",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
