"""`make fuzz` (`python -m bench fuzz`): schemathesis against the OpenAPI document of every
service and against the gateway's GraphQL schema, with a valid development token of each role,
on the whole platform (four OS processes, SQLite, a temporary var/ folder) started the way the
end-to-end tests start it.

Every (target, role) run is bounded by `WERKVLOER_FUZZ_SECONDS` (default 8 s of generation), so
the whole run takes a few minutes. The section it writes counts, per target: operations, test
cases, server errors (goal 0) and conformance failures (goal 0, or explained in docs/).

How a failure is counted:
- server error: a 5xx (schemathesis ST101/ST102), or a GraphQL error whose code is missing or
  `INTERNAL_ERROR` (schemathesis counts every resolver error as ST113; ours carry a code);
- documented GraphQL outcome: a resolver error with one of the codes of docs/graphql.md
  (`FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT` for a rule the GraphQL type cannot express, …) —
  listed by code, not counted as a failure;
- conformance failure: any other check (undocumented status, response not matching its
  schema, invalid data accepted, …), listed by kind and operation.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.auth import dev_secret, issue_dev_token
from tests.support.platform import Platform, running_platform

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
SECONDS = int(os.environ.get("WERKVLOER_FUZZ_SECONDS", "8"))
SEED = os.environ.get("WERKVLOER_FUZZ_SEED", "20261130")
ROLES = {"worker": "packaging", "coach": "packaging", "analyst": "", "admin": "", "lrs-client": ""}
TARGETS = {
    "ideas": "/openapi.json",
    "reflection": "/openapi.json",
    "analytics": "/openapi.json",
    "gateway": "/graphql",
}
REST_CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance,negative_data_rejection"
)
SERVER_ERROR_CODES = {"ST101", "ST102"}
GRAPHQL_FAILED = {"INTERNAL_ERROR", "INTERNAL_SERVER_ERROR", None}
GRAPHQL_CHECKS = {"ST113", "ST206"}  # resolver error, valid query refused: judged by code


@dataclass
class Tally:
    """What the runs against one target found, over every role."""

    operations: int = 0
    cases: int = 0
    server_errors: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    conformance: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    documented: Counter[str] = field(default_factory=Counter)


def _token(platform: Platform, role: str, teams: str) -> str:
    secret = dev_secret(Path(platform.env["WERKVLOER_VAR_DIR"]))
    return issue_dev_token(
        secret, subject=f"fuzz-{role}", roles=[role], teams=[t for t in teams.split(",") if t]
    )


def _graphql_codes(interaction: dict[str, Any]) -> list[str | None]:
    """The `extensions.code` of each GraphQL error in a recorded response."""
    content = interaction.get("response", {}).get("content", {})
    raw = base64.b64decode(content["$base64"]) if "$base64" in content else b""
    try:
        errors = json.loads(raw).get("errors") or []
    except (ValueError, AttributeError):
        return [None]
    return [(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)]


def _sent(interaction: dict[str, Any]) -> str:
    """The request's query string and body, shortened, to show what was accepted."""
    request = interaction.get("request", {})
    query = str(request.get("uri", "")).partition("?")[2]
    body = request.get("body") or {}
    raw = base64.b64decode(body["$base64"]) if isinstance(body, dict) and "$base64" in body else b""
    sent = " ".join(part for part in (query, raw.decode("utf-8", "replace")) if part)
    sent = " ".join(sent.replace("`", "'").split())
    return f"sent `{sent[:100]}`" if sent else "no body"


def _read(ndjson: Path, report: Path, tally: Tally) -> None:
    summary = json.loads(report.read_text())
    tally.operations = max(tally.operations, summary["operations"]["tested"])
    tally.cases += summary["test_cases"]["generated"]
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                kind, operation = f"{failure['code']} {failure['title']}", failure["operation"]
                interaction = recorder.get("interactions", {}).get(case_id, {})
                status = interaction.get("response", {}).get("status_code", 0)
                if failure["code"] in SERVER_ERROR_CODES or status >= 500:
                    tally.server_errors[kind].add(operation)
                elif failure["code"] in GRAPHQL_CHECKS:
                    codes = _graphql_codes(interaction)
                    if any(code in GRAPHQL_FAILED for code in codes):
                        tally.server_errors[kind].add(operation)
                    else:
                        tally.documented.update(str(code) for code in set(codes))
                else:
                    message = failure["message"].splitlines()[0][:80]
                    tally.conformance[kind].add(f"{operation}: {message} ({_sent(interaction)})")


def _run(url: str, token: str, graphql: bool, out: Path) -> tuple[Path, Path]:
    report, ndjson = out.with_suffix(".json"), out.with_suffix(".ndjson")
    command = [
        SCHEMATHESIS, "run", url, "-H", f"Authorization: Bearer {token}",
        "--max-time", str(SECONDS), "--workers", "1", "--seed", SEED, "--no-color",
        "--request-timeout", "60", "--report", "json,ndjson",
        "--report-json-path", str(report), "--report-ndjson-path", str(ndjson),
    ]  # fmt: skip
    if not graphql:
        command += ["--checks", REST_CHECKS, "--phases", "examples,coverage,fuzzing"]
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ndjson, report


def _raise_gateway_limits(urls: dict[str, str]) -> dict[str, str]:
    # The fuzzer is one caller sending thousands of requests: not what the rate limit is for.
    return {"GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000"}


def fuzz() -> dict[str, Tally]:
    """Start the platform, run schemathesis for every target and role, and tally."""
    tallies = {target: Tally() for target in TARGETS}
    with tempfile.TemporaryDirectory(prefix="werkvloer-fuzz-") as folder:
        work = Path(folder)
        with running_platform(work / "platform", configure=_raise_gateway_limits) as platform:
            for target, path in TARGETS.items():
                for role, teams in ROLES.items():
                    token = _token(platform, role, teams)
                    url = platform.urls[target] + path
                    out = work / f"{target}-{role}"
                    ndjson, report = _run(url, token, target == "gateway", out)
                    if report.exists() and ndjson.exists():
                        _read(ndjson, report, tallies[target])
                    else:
                        tallies[target].server_errors["schema not loaded"].add(url)
    return tallies


def run() -> list[str]:
    """The RESULTS.md section: one row per target, then every failure by kind."""
    tallies = fuzz()
    lines = [
        f"Command: `make fuzz` (schemathesis, {SECONDS} s per target and role, seed {SEED};"
        f" roles {', '.join(ROLES)}; REST checks {REST_CHECKS.replace(',', ', ')}).",
        "",
        "| target | operations | cases | server errors | conformance failures |",
        "|---|---:|---:|---:|---:|",
    ]
    for target, tally in tallies.items():
        server = sum(len(ops) for ops in tally.server_errors.values())
        conformance = sum(len(ops) for ops in tally.conformance.values())
        lines.append(
            f"| {target} | {tally.operations} | {tally.cases} | {server} | {conformance} |"
        )
    for target, tally in tallies.items():
        for heading, found in (
            ("server errors", tally.server_errors),
            ("conformance", tally.conformance),
        ):
            for kind, operations in sorted(found.items()):
                lines += ["", f"{target}, {heading}, {kind}:"]
                lines += [f"- {op}" for op in sorted(operations)]
        if tally.documented:
            codes = ", ".join(f"{code} {n}" for code, n in sorted(tally.documented.items()))
            lines += ["", f"{target}: documented GraphQL outcomes (not failures): {codes}."]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
