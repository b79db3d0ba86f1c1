"""The production shape on one machine (`make e2e-topology`): the four processes as separate OS
processes, configured by the variables of the Kubernetes ConfigMaps, each service with its own
database on a PostgreSQL server of the test's own — which is restarted mid-run while the
services keep running. Vectors use the embedded Qdrant Edge adapter: no Qdrant server runs on
this machine (the server adapter is tested against qdrant-client's local mode)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import mint
from tests.e2e.test_ideas_graphql import MOVE, SUBMIT, Client
from tests.e2e.test_reflection_graphql import ANSWER, ANSWERS, FINISH, START, _data
from tests.support import http
from tests.support.platform import MODULES, running_platform
from tests.support.private_postgres import private_postgres
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ideas", "reflection", "analytics")
METRICS = """query($from: Date!) { learningMetrics(period: WEEK, filter: {fromDate: $from}) {
  minGroupSize rows { periodStart suppressed activeLearners formalCompleted } csv } }"""


CLUSTER_ADDRESSES = {
    "gateway": "http://gateway:8000",
    "ideas": "http://ideas:8001",
    "reflection": "http://reflection:8002",
    "analytics": "http://analytics:8003",
}


def configmap_env(urls: dict[str, str]) -> dict[str, str]:
    """The ConfigMaps' variables, with the cluster's service addresses turned into this
    machine's ports."""
    env: dict[str, str] = {}
    for path in (ROOT / "deploy" / "k8s" / "base").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] == "ConfigMap":
                env.update({k: str(v) for k, v in doc["data"].items()})
    for key, value in env.items():
        for name, address in CLUSTER_ADDRESSES.items():
            value = value.replace(address, urls[name])
        env[key] = value
    for name, url in urls.items():
        env[f"{name.upper()}_HOST"], env[f"{name.upper()}_PORT"] = (
            "127.0.0.1",
            url.rsplit(":", 1)[1],
        )
    # No identity provider and no Qdrant server run here: development tokens, Qdrant Edge.
    for key in ("REFLECTION_QDRANT_URL", "REFLECTION_QDRANT_SHARDS", "REFLECTION_QDRANT_REPLICAS",
                "WERKVLOER_AUTH_ISSUER", "WERKVLOER_AUTH_AUDIENCE", "WERKVLOER_AUTH_JWKS_URL",
                "WERKVLOER_VAR_DIR", "WERKVLOER_PUBLIC_URL", "PG_HOST"):  # fmt: skip
        env.pop(key, None)
    env["WERKVLOER_ENVIRONMENT"] = "development"
    # A batch sent just as the database went away is resent when its lease ends: keep it short.
    env["IDEAS_RELAY_LEASE_SECONDS"] = env["REFLECTION_RELAY_LEASE_SECONDS"] = "3"
    return env


def test_the_journey_survives_a_postgresql_restart(tmp_path: Path) -> None:
    with private_postgres() as postgres:
        postgres.create(*SERVICES)
        urls = {s: postgres.url(s) for s in SERVICES}
        with running_platform(tmp_path / "platform", urls, configure=configmap_env) as platform:
            pids = {name: p.pid for name, p in platform.processes.items()}
            assert set(pids) == set(MODULES)
            _journey(platform, postgres)
            assert {name: p.pid for name, p in platform.processes.items()} == pids
            assert all(p.poll() is None for p in platform.processes.values()), "none restarted"


def _journey(platform: Any, postgres: Any) -> None:
    root = Client(platform, "root", "admin", "")
    team = http.put(
        f"{platform.urls['ideas']}/v1/teams/packaging", json={"name": "Inpak"}, headers=root.headers
    )
    assert team.status_code == 200, team.text
    worker = Client(platform, "wim", "worker", "packaging")
    coach = Client(platform, "carla", "coach", "packaging")
    analyst = Client(platform, "ana", "analyst", "")

    idea = _data(
        worker(
            SUBMIT,
            input={
                "title": "Mallen op een kar",
                "problem": "Zoeken kost tijd.",
                "team": "packaging",
            },
        ),
        "submitIdea",
    )
    assert (
        _data(coach(MOVE, id=idea["id"], to="IN_REVIEW", v=idea["version"]), "transitionIdea")[
            "status"
        ]
        == "IN_REVIEW"
    )
    rid = _data(
        worker(
            START, input={"experience": "De inpaklijn liep vast en ik wist niet wat ik mocht doen."}
        ),
        "startReflection",
    )["id"]
    for stage in ("what", "so-what", "now-what"):
        _data(worker(ANSWER, id=rid, stage=stage, answer=ANSWERS[stage]), "answerReflection")
    assert _data(worker(FINISH, id=rid), "finishReflection")["status"] == "FINISHED"

    # An LMS reports six people's course completions of last month, through the gateway. (Last
    # month: this month's weeks include the journey's own small week, and a week beside a lone
    # hidden week of the same month is hidden too, against differencing.)
    lms = {
        "Authorization": f"Bearer {mint(platform, 'lms', 'lrs-client')}",
        "X-Experience-API-Version": "1.0.3",
    }
    last_month = datetime.now(UTC).replace(day=1, hour=9) - timedelta(days=10)
    when = last_month.isoformat()
    statements = [
        {"actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": f"p{i}"}},
         "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
         "object": {"objectType": "Activity", "id": "https://lms.example/courses/vca"}, "timestamp": when}
        for i in range(6)
    ]  # fmt: skip
    assert (
        http.post(
            f"{platform.urls['gateway']}/xapi/statements", json=statements, headers=lms
        ).status_code
        == 200
    )

    postgres.restart()  # the services are not told, and not restarted

    accepted = _data(
        coach(MOVE, id=idea["id"], to="ACCEPTED", v=idea["version"] + 1), "transitionIdea"
    )
    assert accepted["status"] == "ACCEPTED", "a write after the restart"
    since = (last_month - timedelta(days=7)).date().isoformat()
    table = _data(analyst(METRICS, **{"from": since}), "learningMetrics")
    rows = table["rows"]
    assert table["csv"].startswith("period_start,period_end,team,process,suppressed")
    assert sum(r["formalCompleted"] or 0 for r in rows) == 6, rows
    # The outboxes of ideas and reflection reach analytics after the restart too.
    for service in ("ideas", "reflection"):

        def relayed(service: str = service) -> dict[str, Any]:  # empty while messages wait
            outbox = http.get(f"{platform.urls[service]}/readyz").json()["checks"]["outbox"]
            return dict(outbox["details"]) if outbox["details"]["pending"] == 0 else {}

        details = wait_until(relayed, f"{service}'s outbox relayed", interval=0.5)
        assert details == {"pending": 0, "dead_letters": 0}, service
