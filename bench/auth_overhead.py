"""What authentication costs per request: `/v1/me` (token verified) against `/healthz` (none).

Both run in the same process through the same middleware stack, so the ratio isolates token
verification and principal building from the machine's speed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from kit.app import create_service_app
from kit.auth import dev_secret, issue_dev_token
from kit.settings import PlatformSettings, ServiceSettings

REQUESTS = 2000


async def _rate(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> float:
    for _ in range(50):  # warm-up
        await client.get(path, headers=headers)
    started = time.perf_counter()
    for _ in range(REQUESTS):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200
    return REQUESTS / (time.perf_counter() - started)


async def run() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        platform = PlatformSettings(var_dir=Path(folder), log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
        app = create_service_app(
            service="bench",
            settings=ServiceSettings(platform=platform),
            database_url=None,
            routers=[],
            description="bench",
        )
        token = issue_dev_token(dev_secret(platform.var_dir), subject="a", roles=[], teams=[])
        auth = {"Authorization": f"Bearer {token}"}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                baseline = await _rate(client, "/healthz", {})
                authed = await _rate(client, "/v1/me", auth)
    return [
        "| auth overhead | requests/s | ratio to baseline |",
        "|---|---|---|",
        f"| `/healthz`, no token (baseline) | {baseline:,.0f} | 1.00 |",
        f"| `/v1/me`, HS256 token verified | {authed:,.0f} | {authed / baseline:.2f} |",
    ]


if __name__ == "__main__":
    print("\n".join(asyncio.run(run())))
