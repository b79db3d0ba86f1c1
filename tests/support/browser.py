"""A real Chromium (Debian's `chromium`, installed by `make tools`) that loads a page with every
host but 127.0.0.1 unreachable, and reports the DOM it rendered and the requests the page made."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.waiting import DEADLINE_SECONDS


@dataclass
class Rendered:
    dom: str
    page_requests: list[str]  # every URL the page itself asked for (not the browser's own)


def chromium() -> str:
    """The path of Chromium; fails with how to install it when it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: `make tools` installs it (apt-get install chromium)"
    return found


def render_offline(url: str, virtual_time_ms: int = 10_000) -> Rendered:
    """Load `url` headless with only 127.0.0.1 reachable (any other host name resolves to
    nothing), let its scripts run for `virtual_time_ms` of virtual time, and return the DOM and
    the URLs of the requests the page initiated (from Chromium's network log)."""
    with tempfile.TemporaryDirectory(prefix="werkvloer-chromium-") as folder:
        netlog = Path(folder) / "net.json"
        completed = subprocess.run(
            [
                chromium(),
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                f"--user-data-dir={folder}/profile",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                f"--log-net-log={netlog}",
                f"--virtual-time-budget={virtual_time_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
            check=True,
        )
        return Rendered(completed.stdout, _page_requests(netlog, url))


def _page_requests(netlog: Path, url: str) -> list[str]:
    """URLs of requests whose initiator is the page's origin, or the page itself."""
    origin = "/".join(url.split("/", 3)[:3])
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = []
    for event in log["events"]:
        params = event.get("params", {})
        if event["type"] == start and (
            params.get("initiator") == origin or params.get("url") == url
        ):
            requests.append(str(params.get("url")))
    return requests
