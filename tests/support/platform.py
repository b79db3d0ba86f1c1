"""The whole platform as real OS processes on free ports, configured only by environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.servers import free_port
from tests.support.waiting import DEADLINE_SECONDS, wait_until

MODULES = {
    "gateway": "gateway",
    "ideas": "services.ideas",
    "reflection": "services.reflection",
    "analytics": "services.analytics",
}


@dataclass
class Platform:
    urls: dict[str, str]
    env: dict[str, str]
    workdir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str) -> None:
        self.spawn(name)
        self.wait_live(name)

    def spawn(self, name: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", MODULES[name]],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.terminate()
        try:
            process.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def wait_live(self, name: str, deadline: float = DEADLINE_SECONDS) -> None:
        """Poll `/healthz` until it answers 200; fail at once, with the process's log, if the
        process exits, and after `deadline` seconds (a busy machine takes long to import)."""

        def live() -> bool:
            process = self.processes[name]
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}"
                )
            try:
                return httpx.get(f"{self.urls[name]}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(
            live, f"{name} coming up (log: {self.workdir / f'{name}.log'})", deadline=deadline
        )

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text()


def platform_env(workdir: Path, database_urls: dict[str, str] | None = None) -> dict[str, str]:
    ports = {name: free_port() for name in MODULES}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WERKVLOER_", "IDEAS_", "REFLECTION_"))
    }
    env.update(
        {
            "WERKVLOER_VAR_DIR": str(workdir / "var"),
            "WERKVLOER_ENVIRONMENT": "development",
            "GATEWAY_PORT": str(ports["gateway"]),
            "IDEAS_PORT": str(ports["ideas"]),
            "REFLECTION_PORT": str(ports["reflection"]),
            "ANALYTICS_PORT": str(ports["analytics"]),
            "GATEWAY_IDEAS_URL": f"http://127.0.0.1:{ports['ideas']}",
            "GATEWAY_REFLECTION_URL": f"http://127.0.0.1:{ports['reflection']}",
            "GATEWAY_ANALYTICS_URL": f"http://127.0.0.1:{ports['analytics']}",
            "IDEAS_REFLECTION_URL": f"http://127.0.0.1:{ports['reflection']}",
            "IDEAS_ANALYTICS_URL": f"http://127.0.0.1:{ports['analytics']}",
            "REFLECTION_IDEAS_URL": f"http://127.0.0.1:{ports['ideas']}",
            "REFLECTION_ANALYTICS_URL": f"http://127.0.0.1:{ports['analytics']}",
            # A busy machine answers slowly, not wrongly: calls between the processes wait as
            # long as the tests do (the defaults are for production).
            "GATEWAY_UPSTREAM_TIMEOUT_SECONDS": str(DEADLINE_SECONDS),
            "GATEWAY_HEALTH_TIMEOUT_SECONDS": str(DEADLINE_SECONDS),
            "GATEWAY_GUIDE_TIMEOUT_SECONDS": str(DEADLINE_SECONDS),
            "IDEAS_EMBEDDING_TIMEOUT_SECONDS": str(DEADLINE_SECONDS),
        }
    )
    for service, url in (database_urls or {}).items():
        env[f"{service.upper()}_DATABASE_URL"] = url
    env["_PORTS"] = ",".join(f"{name}={port}" for name, port in ports.items())
    return env


@contextmanager
def running_platform(
    workdir: Path,
    database_urls: dict[str, str] | None = None,
    configure: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> Iterator[Platform]:
    """`configure(urls)` may add variables (e.g. those of the Kubernetes ConfigMaps)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = platform_env(workdir, database_urls)
    ports = dict(item.split("=") for item in env.pop("_PORTS").split(","))
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    if configure is not None:
        env.update(configure(urls))
    subprocess.run(
        [sys.executable, "-m", "services.manage", "migrate"], env=env, cwd=workdir, check=True
    )
    platform = Platform(urls=urls, env=env, workdir=workdir)
    try:
        for name in MODULES:  # in parallel: each process takes seconds to import on 2 cores
            platform.spawn(name)
        for name in MODULES:
            platform.wait_live(name)
        yield platform
    finally:
        for name in list(platform.processes):
            platform.stop(name)
