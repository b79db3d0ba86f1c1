"""`werkvloer ingest PATH`: bulk-upload process documents to a running reflection service.

It talks to the service's HTTP API like any other client, remembers what it sent in a state
file next to the documents (so a second run skips what is already there and resumes what was
interrupted), shows progress, and ends with a list of every skipped or failed file and why.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kit.http import url_path
from services.reflection.documents.parsing import MEDIA_TYPES, Unsupported, media_type

app = typer.Typer(help="Werkvloer command line tools.", no_args_is_help=True)
STATE_FILE = ".werkvloer-ingest.json"
UNCHANGED = "unchanged since the last run"
console = Console(stderr=True)
COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


@app.callback()
def main() -> None:
    """Werkvloer command line tools."""


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name != STATE_FILE)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wait(client: httpx.Client, job_id: str, timeout: float) -> dict[str, Any]:
    try:
        path = url_path("/v1/jobs/{job}", job=uuid.UUID(str(job_id)))
    except ValueError:
        return {"status": "failed", "error": "the service answered a malformed job id"}
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(path).raise_for_status().json()
        if job["status"] in ("completed", "unchanged", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


@app.command()
def ingest(
    path: Annotated[
        Path, typer.Argument(exists=True, help="A file or a folder (searched recursively).")
    ],
    process: Annotated[str | None, typer.Option(help="Process the documents belong to.")] = None,
    teams: Annotated[str, typer.Option(help="`*` for everyone, or team keys a,b.")] = "*",
    language: Annotated[str | None, typer.Option(help="nl or en; detected when left out.")] = None,
    url: Annotated[str, typer.Option(envvar="WERKVLOER_REFLECTION_URL")] = "http://127.0.0.1:8002",
    token: Annotated[
        str | None, typer.Option(envvar="WERKVLOER_TOKEN", help="An admin bearer token.")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait for each ingestion job to finish.")] = True,
    job_timeout: Annotated[float, typer.Option(help="Seconds to wait for one job.")] = 600,
) -> None:
    """Upload every Markdown, text, HTML and PDF file under PATH (recognised by its bytes)."""
    if not token:
        raise typer.BadParameter("give an admin token with --token or WERKVLOER_TOKEN")
    root = path if path.is_dir() else path.parent
    state_path = root / STATE_FILE
    state: dict[str, dict[str, Any]] = (
        json.loads(state_path.read_text()) if state_path.exists() else {}
    )
    problems: list[tuple[str, str, str]] = []
    files = _files(path)
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=url, headers=headers, timeout=120) as client,
        Progress(*COLUMNS, console=console) as progress,
    ):
        task = progress.add_task("ingesting", total=len(files))
        for file in files:
            key = os.path.relpath(file, root)
            progress.update(task, description=key[:40])
            try:
                problem = _one(
                    client, file, key, state, process, teams, language, wait, job_timeout
                )
            except httpx.HTTPError as exc:
                problem = ("failed", f"HTTP error: {exc}")
            if problem:
                problems.append((key, *problem))
            state_path.write_text(json.dumps(state, indent=1, sort_keys=True))
            progress.advance(task)
    unchanged = sum(1 for _, _, reason in problems if reason == UNCHANGED)
    failed = sum(1 for _, kind, _ in problems if kind == "failed")
    skipped = len(problems) - unchanged - failed
    uploaded = len(files) - len(problems)
    console.print(
        f"{uploaded} uploaded, {unchanged} unchanged, {skipped} skipped, {failed} failed"
        f" ({len(files)} files)."
    )
    if problems:
        table = Table("file", "outcome", "reason")
        for row in problems:
            table.add_row(*row)
        console.print(table)
    if any(kind == "failed" for _, kind, _ in problems):
        raise typer.Exit(code=1)


def _one(
    client: httpx.Client,
    file: Path,
    key: str,
    state: dict[str, dict[str, Any]],
    process: str | None,
    teams: str,
    language: str | None,
    wait: bool,
    job_timeout: float,
) -> tuple[str, str] | None:
    data = file.read_bytes()
    try:  # by the bytes, as the service decides: a PDF named .txt is a PDF, a PNG is skipped
        kind = media_type(data, file.name, MEDIA_TYPES.get(file.suffix.lower()))
    except Unsupported as exc:
        return ("skipped", str(exc))
    digest = _digest(file)
    known = state.get(key, {})
    if known.get("hash") == digest and known.get("status") in ("completed", "unchanged"):
        return ("skipped", UNCHANGED)
    files = {"file": (file.name, data, kind)}
    if known.get("document_id"):
        try:  # the state file is only a file: what it names is parsed, never pasted
            document = uuid.UUID(str(known["document_id"]))
        except ValueError:
            return ("failed", f"{STATE_FILE} names a malformed document id; remove its entry")
        path = url_path("/v1/documents/{document}/versions", document=document)
        response = client.post(path, files=files)
    else:
        form = {"title": file.stem.replace("-", " ").replace("_", " ").capitalize(), "teams": teams}
        if process:
            form["process"] = process
        if language:
            form["language"] = language
        response = client.post("/v1/documents", files=files, data=form)
    if response.status_code != 202:
        error = response.json().get("error", {}) if response.content else {}
        return (
            "failed",
            f"{response.status_code} {error.get('code', '')}: {error.get('message', '')}",
        )
    accepted = response.json()
    entry = {
        "hash": digest,
        "document_id": accepted["document"]["id"],
        "job_id": accepted["job"]["id"],
    }
    entry["status"] = accepted["job"]["status"]
    state[key] = entry
    if wait:
        job = _wait(client, entry["job_id"], job_timeout)
        entry["status"] = job["status"]
        if job["status"] == "failed":
            return ("failed", str(job.get("error")))
    return None
