"""Ideas service throughput over real HTTP: the service in its own process (one uvicorn worker),
wrk in another. Baseline: `/healthz` of the same process in the same run, so the ratio shows what
authentication, the database and serialisation cost on top of the bare HTTP stack."""

from __future__ import annotations

import json

import httpx

from bench.servers import on_each_backend, wrk

SEED = 200


def _seed(url: str, admin: dict[str, str], worker: dict[str, str]) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        assert (
            client.put("/v1/teams/packaging", json={"name": "Inpak"}, headers=admin).status_code
            == 200
        )
        for i in range(SEED):
            body = {
                "title": f"Verbetering {i}: kortere omsteltijd",
                "problem": "Het wisselen van doosformaat kost twintig minuten per keer.",
                "proposal": "Mallen per formaat klaarleggen op een kar.",
                "team": "packaging",
                "tags": ["omstellen"],
                "submit": True,
            }
            assert client.post("/v1/ideas", json=body, headers=worker).status_code == 201


def run() -> list[str]:
    rows = [
        "| backend | endpoint | requests/s | ratio to `/healthz` |",
        "|---|---|---|---|",
    ]
    for on in on_each_backend("services.ideas", "IDEAS", {"IDEAS_RELAY_ENABLED": "false"}):
        server, backend = on.server, on.backend
        admin = on.bearer("root", ["admin"])
        worker = on.bearer("w1", ["worker"], ["packaging"])
        _seed(server.url, admin, worker)
        script = on.folder / "create.lua"
        body = json.dumps(
            {"title": "Bench idee", "problem": "Iets", "team": "packaging", "submit": True}
        )
        script.write_text(
            f"wrk.method = 'POST'\nwrk.body = {json.dumps(body)}\n"
            "wrk.headers['Content-Type'] = 'application/json'\n"
        )
        baseline = wrk(f"{server.url}/healthz")
        listing = wrk(f"{server.url}/v1/ideas?limit=20", headers=worker)
        creating = wrk(f"{server.url}/v1/ideas", headers=worker, script=str(script), connections=8)
        for name, rate in (
            ("GET /healthz (baseline)", baseline),
            ("GET /v1/ideas?limit=20", listing),
            ("POST /v1/ideas (submit)", creating),
        ):
            rows.append(f"| {backend} | `{name}` | {rate:,.0f} | {rate / baseline:.3f} |")
    return rows


if __name__ == "__main__":
    print("\n".join(run()))
