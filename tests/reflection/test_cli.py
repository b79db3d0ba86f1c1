"""`werkvloer ingest` against a real reflection service over HTTP: uploads, resumes, reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kit.auth import dev_secret, issue_dev_token
from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.reflection.app import MIGRATIONS, create_app
from services.reflection.cli import app
from services.reflection.settings import ReflectionSettings
from tests.reflection.conftest import FAULT_PROCEDURE
from tests.support.servers import serve_in_thread


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, str]]:
    platform = PlatformSettings(var_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    upgrade(MIGRATIONS, url)
    settings = ReflectionSettings(platform=platform, database_url=url, ingest_poll_seconds=0.1)
    token = issue_dev_token(dev_secret(platform.var_dir), subject="root", roles=["admin"], teams=[])
    with serve_in_thread(create_app(settings)) as base_url:
        yield base_url, token


def test_ingest_a_folder_then_resume_without_resending(
    service: tuple[str, str], tmp_path: Path
) -> None:
    url, token = service
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "storing.md").write_text(FAULT_PROCEDURE)
    (folder / "sub" / "notes.txt").write_text("Kort verslag van het teamoverleg over de inpaklijn.")
    (folder / "photo.png").write_bytes(b"\x89PNG")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    runner = CliRunner()
    args = ["ingest", str(folder), "--url", url, "--token", token, "--process", "storingen"]

    first = runner.invoke(app, args)
    assert first.exit_code == 1, first.output  # one file failed
    assert "2 uploaded, 0 unchanged, 1 skipped, 1 failed (4 files)" in first.output
    assert "photo.png" in first.output and "not a supported type" in first.output
    assert "broken.pdf" in first.output and "unreadable_file" in first.output

    second = runner.invoke(app, args)
    assert "unchanged since the last run" in second.output
    (folder / "storing.md").write_text(FAULT_PROCEDURE + "\n## Nazorg\nEvalueer elke storing.\n")
    third = runner.invoke(app, args)
    state = (folder / ".werkvloer-ingest.json").read_text()
    assert '"status": "completed"' in state
    assert third.output.count("unchanged since the last run") == 1  # only notes.txt


def test_a_tampered_state_file_never_reaches_a_url(tmp_path: Path) -> None:
    """The state file names document ids; one that is not a UUID fails that file, and no request
    is made (the address is a dead one: a request would fail with an HTTP error instead)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "storing.md").write_text(FAULT_PROCEDURE)
    state = {"storing.md": {"hash": "old", "document_id": "../../v1/my-data?x=", "status": "x"}}
    (folder / ".werkvloer-ingest.json").write_text(json.dumps(state))
    args = ["ingest", str(folder), "--url", "http://127.0.0.1:9", "--token", "t", "--no-wait"]

    result = CliRunner().invoke(app, args)

    assert result.exit_code == 1, result.output
    assert "malformed document id" in result.output
    assert "HTTP error" not in result.output


def test_ingest_recognises_files_by_their_bytes(service: tuple[str, str], tmp_path: Path) -> None:
    import httpx

    from tests.support.pdf import text_pdf

    url, token = service
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.txt").write_bytes(
        text_pdf(["Heftruck", "Controleer voor elke dienst de remmen en de claxon."])
    )
    (folder / "logo.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = CliRunner().invoke(app, ["ingest", str(folder), "--url", url, "--token", token])
    assert "1 uploaded, 0 unchanged, 1 skipped, 0 failed (2 files)" in result.output, result.output
    assert "logo.md" in result.output and "not a supported type" in result.output
    hits = httpx.post(
        f"{url}/v1/search",
        json={"query": "remmen controleren"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["hits"]
    assert hits[0]["section"] == ["p. 1"] and "endobj" not in hits[0]["text"]
