"""Issue 12 item 3 (OWASP API1): an LRS client reads, voids and learns about only its own
statements; another client's statements answer as if they did not exist. The rule lives in
services/analytics/statements/scope.py and is asked by every xAPI operation tested here."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from kit.settings import PlatformSettings
from tests.analytics.support import V
from tests.analytics.test_attachments import CERTIFICATE, SHA, post, split, with_attachment
from tests.analytics.test_lrs_statements import statement
from tests.support.apps import bearer

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def voiding(target_id: str) -> dict[str, Any]:
    return statement(verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target_id})


def client_b(platform: PlatformSettings) -> dict[str, str]:
    return {**bearer(platform, "hr-system", "lrs-client"), **V}


def answer(response: httpx.Response) -> tuple[int, Any]:
    """What a caller can observe of a refusal (the status and the body)."""
    return response.status_code, response.json()


async def test_another_client_cannot_void_my_statement(
    lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    mine = statement()
    assert (await lrs.post("/xapi/statements", json=mine)).status_code == 200
    b = client_b(platform)
    attempt = await lrs.post("/xapi/statements", json=voiding(mine["id"]), headers=b)
    unknown = await lrs.post("/xapi/statements", json=voiding(str(uuid.uuid4())), headers=b)
    assert attempt.status_code == 400
    # Voiding another client's statement and voiding a statement nobody holds look the same.
    assert attempt.json() == unknown.json()
    assert attempt.json()["error"]["code"] == "void_target_unknown"
    still = await lrs.get("/xapi/statements", params={"statementId": mine["id"]})
    assert still.status_code == 200 and still.json()["id"] == mine["id"]
    # The refused batch left nothing behind either.
    assert (await lrs.get("/xapi/statements", headers=b)).json()["statements"] == []


async def test_a_taken_id_does_not_say_whose_it_is(
    lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    """Ids are global (xAPI Data 2.4.1): an id another client holds cannot be stored again, and
    the refusal is the one a client gets for reusing its own id with other content."""
    b = client_b(platform)
    theirs = statement()
    assert (await lrs.post("/xapi/statements", json=theirs, headers=b)).status_code == 200
    own = statement()
    assert (await lrs.post("/xapi/statements", json=own)).status_code == 200

    def replacing(s: dict[str, Any]) -> dict[str, Any]:
        return {**s, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}}

    for method in ("put", "post"):
        results = []
        for target in (theirs, own):
            changed = replacing(target)
            if method == "put":
                changed.pop("id")
                sent = await lrs.put(
                    "/xapi/statements", params={"statementId": target["id"]}, json=changed
                )
            else:
                sent = await lrs.post("/xapi/statements", json=changed)
            results.append(sent)
        foreign, reused = results
        assert foreign.status_code == reused.status_code == 409
        # Word for word the same, apart from the id the caller itself sent.
        assert foreign.json()["error"]["code"] == reused.json()["error"]["code"]
        assert foreign.json()["error"]["message"].replace(theirs["id"], "ID") == reused.json()[
            "error"
        ]["message"].replace(own["id"], "ID")
    # Even sending the other client's exact content is refused: it is not the caller's to repeat.
    exact = await lrs.put("/xapi/statements", params={"statementId": theirs["id"]}, json=theirs)
    assert exact.status_code == 409
    # And nothing of theirs became readable to the caller.
    got = await lrs.get("/xapi/statements", params={"statementId": theirs["id"]})
    assert got.status_code == 404
    assert (
        await lrs.get("/xapi/statements", params={"statementId": theirs["id"]}, headers=b)
    ).json()["verb"] == theirs["verb"]


async def test_reads_of_other_clients_statements_look_like_missing_ones(
    lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    b = client_b(platform)
    theirs, voided_theirs = statement(), statement()
    await lrs.post("/xapi/statements", json=[theirs, voided_theirs], headers=b)
    await lrs.post("/xapi/statements", json=voiding(voided_theirs["id"]), headers=b)
    nobody = str(uuid.uuid4())
    for param, held in (("statementId", theirs["id"]), ("voidedStatementId", voided_theirs["id"])):
        foreign = await lrs.get("/xapi/statements", params={param: held})
        missing = await lrs.get("/xapi/statements", params={param: nobody})
        assert answer(foreign) == answer(missing) and foreign.status_code == 404
        with_content = await lrs.get(
            "/xapi/statements", params={param: held, "attachments": "true"}
        )
        assert with_content.status_code == 404
    listed = await lrs.get("/xapi/statements", params={"limit": 1})
    assert listed.json() == {"statements": [], "more": ""}


async def test_more_links_stay_within_the_callers_scope(
    lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    b = client_b(platform)
    await lrs.post("/xapi/statements", json=[statement() for _ in range(3)], headers=b)
    mine = [statement() for _ in range(3)]
    await lrs.post("/xapi/statements", json=mine)
    page = await lrs.get("/xapi/statements", params={"limit": 2}, headers=b)
    more = page.json()["more"]
    assert more
    # B's `more` link used by A (or leaked to A) shows A's statements only.
    seen = [s["id"] for s in (await lrs.get(more)).json()["statements"]]
    assert set(seen) <= {s["id"] for s in mine}


async def test_attachment_content_is_reached_only_through_readable_statements(
    lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    b = client_b(platform)
    theirs = with_attachment()
    assert (await post(lrs, theirs, [(CERTIFICATE, SHA)])).status_code == 200  # client A
    # B declares the same hash without sending the content: not "stored already" for B.
    claim = with_attachment()
    refused = await lrs.post("/xapi/statements", json=claim, headers=b)
    fresh = with_attachment(content=b"nobody has this")
    unknown = await lrs.post("/xapi/statements", json=fresh, headers=b)
    assert refused.status_code == unknown.status_code == 400
    assert refused.json()["error"]["message"].replace(SHA, "H") == unknown.json()["error"][
        "message"
    ].replace(fresh["attachments"][0]["sha2"], "H")
    # B declares it with a fileUrl (accepted, nothing to check) and asks for the content back.
    by_url = with_attachment()
    by_url["attachments"][0]["fileUrl"] = "https://lms.example/cert.pdf"
    assert (await lrs.post("/xapi/statements", json=by_url, headers=b)).status_code == 200
    back = await lrs.get(
        "/xapi/statements", params={"statementId": by_url["id"], "attachments": "true"}, headers=b
    )
    assert back.status_code == 200
    assert [content for _, content in split(back)[1:]] == []
    # A still gets its own content.
    own = await lrs.get(
        "/xapi/statements", params={"statementId": theirs["id"], "attachments": "true"}
    )
    assert [content for _, content in split(own)[1:]] == [CERTIFICATE]


async def test_an_admin_granted_read_all_client_reads_everything_but_voids_only_its_own(
    lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    admin = bearer(platform, "root", "admin")
    made = await lrs.post(
        "/v1/lrs-clients", json={"name": "Central LRS", "scope": "read_all"}, headers=admin
    )
    assert made.status_code == 201 and made.json()["scope"] == "read_all"
    central = httpx.BasicAuth(made.json()["key"], made.json()["secret"])
    mine = statement()
    await lrs.post("/xapi/statements", json=mine)
    read = await lrs.get(
        "/xapi/statements",
        params={"statementId": mine["id"]},
        headers={"Authorization": ""},
        auth=central,
    )
    assert read.status_code == 200
    void = await lrs.post(
        "/xapi/statements", json=voiding(mine["id"]), headers={"Authorization": ""}, auth=central
    )
    assert (void.status_code, void.json()["error"]["code"]) == (400, "void_target_unknown")
    # An admin (bearer token) may void anything.
    by_admin = await lrs.post("/xapi/statements", json=voiding(mine["id"]), headers={**admin, **V})
    assert by_admin.status_code == 200
    bad_scope = await lrs.post(
        "/v1/lrs-clients", json={"name": "x", "scope": "everything"}, headers=admin
    )
    assert bad_scope.status_code == 422
