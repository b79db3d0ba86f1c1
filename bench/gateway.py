"""What the gateway costs: the same read (a page of 20 ideas) through GraphQL and directly over
REST, in one run, each in its own process; and how many calls to each service the page of 50
ideas with their linked documents makes (read from the gateway's own /metrics)."""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.servers import database, service
from kit.auth import dev_secret, issue_dev_token

ROUNDS = 400
GRAPHQL = "{ ideas(first: 20) { edges { node { id title status supportCount } } } }"
PAGE_50 = "{ ideas(first: 50) { edges { node { title linkedDocuments { id title } } } } }"


def _latencies(call: object, rounds: int = ROUNDS) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def _upstream_calls(metrics: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for name, value in re.findall(
        r'werkvloer_gateway_upstream_requests_total\{outcome="ok",service="(\w+)"\} ([\d.e+]+)',
        metrics,
    ):
        found[name] = float(value)
    return found


def run() -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        shared = {"WERKVLOER_VAR_DIR": folder}
        with (
            database("sqlite", Path(folder) / "i") as ideas_db,
            database("sqlite", Path(folder) / "r") as reflection_db,
        ):
            Path(folder, "i").mkdir(exist_ok=True)
            Path(folder, "r").mkdir(exist_ok=True)
            with (
                service("services.ideas", "IDEAS", ideas_db, {**shared, "IDEAS_RELAY_ENABLED": "false"}) as ideas,
                service(
                    "services.reflection", "REFLECTION", reflection_db,
                    {**shared, "REFLECTION_RELAY_ENABLED": "false", "REFLECTION_INGEST_POLL_SECONDS": "0.2"},
                ) as reflection,
                service(
                    "gateway", "GATEWAY", "unused",
                    {**shared, "GATEWAY_IDEAS_URL": ideas.url, "GATEWAY_REFLECTION_URL": reflection.url,
                     "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000"},
                    migrate=False,
                ) as gateway,
            ):  # fmt: skip
                return _measure(Path(folder), ideas.url, reflection.url, gateway.url)
    return []


def _measure(var_dir: Path, ideas: str, reflection: str, gateway: str) -> list[str]:
    secret = dev_secret(var_dir)

    def bearer(subject: str, roles: list[str], teams: list[str]) -> dict[str, str]:
        token = issue_dev_token(secret, subject=subject, roles=roles, teams=teams)
        return {"Authorization": f"Bearer {token}"}

    admin, worker = bearer("root", ["admin"], []), bearer("w1", ["worker"], ["packaging"])
    with httpx.Client(timeout=60) as client:
        assert (
            client.put(
                f"{ideas}/v1/teams/packaging", json={"name": "Inpak"}, headers=admin
            ).status_code
            == 200
        )
        documents = []
        for title in ("Storingsprocedure", "Omstellen"):
            made = client.post(
                f"{reflection}/v1/documents",
                files={"file": ("d.md", f"# {title}\n\nTekst over {title}.".encode(), "text/markdown")},
                data={"title": title}, headers=admin,
            )  # fmt: skip
            documents.append(made.json()["document"]["id"])
        for document in documents:
            deadline = time.monotonic() + 120
            while (
                client.get(f"{reflection}/v1/documents/{document}", headers=admin).json()["version"]
                is None
            ):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        for i in range(50):
            body = {"title": f"Idee {i}", "problem": "Omstellen duurt lang.", "team": "packaging",
                    "document_ids": documents, "submit": True}  # fmt: skip
            assert client.post(f"{ideas}/v1/ideas", json=body, headers=worker).status_code == 201

        def rest() -> None:
            assert client.get(f"{ideas}/v1/ideas?limit=20", headers=worker).status_code == 200

        def graphql() -> None:
            reply = client.post(f"{gateway}/graphql", json={"query": GRAPHQL}, headers=worker)
            assert reply.status_code == 200 and "errors" not in reply.json()

        for warm in (rest, graphql):
            _latencies(warm, 30)
        direct, through = _latencies(rest), _latencies(graphql)
        before = _upstream_calls(client.get(f"{gateway}/metrics").text)
        page = client.post(f"{gateway}/graphql", json={"query": PAGE_50}, headers=worker).json()
        assert "errors" not in page and len(page["data"]["ideas"]["edges"]) == 50
        after = _upstream_calls(client.get(f"{gateway}/metrics").text)
    calls = {s: int(after.get(s, 0) - before.get(s, 0)) for s in sorted(after)}
    rows = [
        f"Same read (20 ideas), {ROUNDS} sequential requests each, after 30 to warm up.",
        "",
        "| path | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| REST `GET /v1/ideas?limit=20` (ideas service) | {_p(direct, 50):.2f} | {_p(direct, 95):.2f} |",
        f"| GraphQL `ideas(first: 20)` (gateway → ideas) | {_p(through, 50):.2f} | {_p(through, 95):.2f} |",
        f"| **added by the gateway** | **{_p(through, 50) - _p(direct, 50):.2f}** | "
        f"{_p(through, 95) - _p(direct, 95):.2f} |",
        "",
        f"Upstream calls for 50 ideas with their linked documents: {calls} (goal: at most 1 per service).",
    ]
    return rows


if __name__ == "__main__":
    print("\n".join(run()))
