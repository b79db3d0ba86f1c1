"""Issue 12 item 1, end to end: 200 MB bodies sent to the gateway's `/xapi` pass-through and to
the analytics service (real OS processes, real HTTP) — with a Content-Length and chunked,
without credentials, with wrong ones and with right ones — are all refused with 401 or 413, and
neither process's peak resident memory (VmHWM in /proc/<pid>/status) grows by more than 40 MB.
The bodies are generated lazily by the client, never held in its memory either."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kit.auth import dev_secret, issue_dev_token
from tests.analytics.test_lrs_statements import statement
from tests.support.platform import Platform, platform_env
from tests.support.waiting import HTTP_TIMEOUT

MB = 1024 * 1024
SIZE = 200 * MB
GROWTH_LIMIT_KB = 40 * 1024
V = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Only the two processes under test: the gateway and the analytics service."""
    workdir = tmp_path_factory.mktemp("inbound")
    env = platform_env(workdir)
    ports = dict(item.split("=") for item in env.pop("_PORTS").split(","))
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    subprocess.run(
        [sys.executable, "-m", "services.manage", "migrate"], env=env, cwd=workdir, check=True
    )
    platform = Platform(urls=urls, env=env, workdir=workdir)
    try:
        for name in ("gateway", "analytics"):
            platform.spawn(name)
        for name in ("gateway", "analytics"):
            platform.wait_live(name)
        yield platform
    finally:
        for name in list(platform.processes):
            platform.stop(name)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def _body() -> Iterator[bytes]:
    """200 MB of a JSON array, made one chunk at a time."""
    yield b"["
    chunk = b'"' + b"x" * (MB - 3) + b'",'
    for _ in range(SIZE // MB):
        yield chunk
    yield b'"end"]'


def _send(url: str, headers: dict[str, str], declared: bool) -> int | str:
    """The status of one 200 MB POST, or the name of the error if the server hung up before
    the client could read an answer (a refusal too: nothing was taken in)."""
    sent = dict(headers)
    if declared:
        sent["Content-Length"] = str(SIZE + 1 + 6)
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT) as client:
            return client.post(url, content=_body(), headers=sent).status_code
    except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError) as exc:
        return type(exc).__name__


def _token(platform: Platform, roles: str) -> str:
    secret = dev_secret(Path(platform.env["WERKVLOER_VAR_DIR"]))
    return issue_dev_token(secret, subject="lms-1", roles=roles.split(","), teams=[])


def test_large_bodies_are_refused_without_growing_either_process(processes: Platform) -> None:
    pids = {name: processes.processes[name].pid for name in ("gateway", "analytics")}
    good = {**V, "Authorization": f"Bearer {_token(processes, 'lrs-client')}"}
    # Warm up both the pass-through and the LRS with one good statement, then take the baseline.
    for base in (processes.urls["gateway"], processes.urls["analytics"]):
        warm = httpx.post(
            f"{base}/xapi/statements", json=statement(), headers=good, timeout=HTTP_TIMEOUT
        )
        assert warm.status_code == 200, warm.text
    # A wrong LRS secret costs one scrypt check (16 MB, by design): in the baseline too.
    wrong_basic = "Basic " + base64.b64encode(b"lrs_unknown:not-the-secret").decode()
    checked = httpx.get(
        f"{processes.urls['analytics']}/xapi/statements",
        headers={**V, "Authorization": wrong_basic},
        timeout=HTTP_TIMEOUT,
    )
    assert checked.status_code == 401
    baseline = {name: _status_kb(pid, "VmHWM") for name, pid in pids.items()}

    forged = good["Authorization"][:-3] + "abc"
    callers = {
        "no credentials": V,
        "forged token": {**V, "Authorization": forged},
        "wrong LRS secret": {**V, "Authorization": wrong_basic},
        "right token": good,
    }
    answers: dict[tuple[str, str, str], int | str] = {}
    for target in ("gateway", "analytics"):
        url = f"{processes.urls[target]}/xapi/statements"
        for who, headers in callers.items():
            for declared in (True, False):
                how = "Content-Length" if declared else "chunked"
                answers[(target, who, how)] = _send(url, headers, declared)

    for (target, who, how), answer in answers.items():
        allowed: set[int | str] = {401, 413} if who != "right token" else {413}
        if how == "Content-Length" or who == "wrong LRS secret":
            allowed |= {"RemoteProtocolError", "WriteError", "ReadError"}
        assert answer in allowed, (target, who, how, answer)
    for name, pid in pids.items():
        grown = _status_kb(pid, "VmHWM") - baseline[name]
        assert grown <= GROWTH_LIMIT_KB, f"{name} peak memory grew by {grown} kB"

    # Both still serve: the pass-through streams a normal statement on and its answer back.
    s = statement(id=str(uuid.uuid4()))
    after = httpx.post(
        f"{processes.urls['gateway']}/xapi/statements", json=s, headers=good, timeout=HTTP_TIMEOUT
    )
    assert (after.status_code, after.json()) == (200, [s["id"]])
    read = httpx.get(
        f"{processes.urls['gateway']}/xapi/statements",
        params={"statementId": s["id"]},
        headers=good,
        timeout=HTTP_TIMEOUT,
    )
    assert read.status_code == 200 and read.json()["id"] == s["id"]
    assert "X-Experience-API-Version" in read.headers
