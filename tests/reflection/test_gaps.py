"""Knowledge gaps: questions the documents cannot answer, counted per process without naming
anyone, listed only when enough different people met them."""

from __future__ import annotations

from pathlib import Path

from services.reflection.demo import DOCUMENTS
from services.reflection.gaps.service import normalise
from tests.reflection.conftest import ReflectionEnv

DEMO = Path(__file__).resolve().parents[2] / "services" / "reflection" / "demo"
# The calibration set behind REFLECTION_GAP_THRESHOLD (docs/reflection.md).
ANSWERED = [
    "De lijn viel stil omdat een doos vastliep en ik wist niet of ik zelf mocht ingrijpen",
    "Vandaag ging de heftruck bijna tegen een collega aan bij het laden",
    "A customer called angry about a late delivery and I did not know how to respond",
    "Nieuwe collega begon op de productievloer en wist niet waar de handschoenen lagen",
    "Bij het omstellen naar een ander doosformaat klopte de maat niet",
    "storing melden logboek",
    "noodstop ingedrukt",
    "complaint handling steps",
    "Mijn eerste week: ik kreeg geen buddy toegewezen",
    "wanneer moet ik de technische dienst bellen",
]
UNANSWERED = [
    "Hoe vraag ik ouderschapsverlof aan",
    "recept voor appeltaart",
    "How do I file my expense report for travel",
    "wat is het wachtwoord van de wifi",
    "De kantine serveert te weinig vegetarische maaltijden",
    "salarisstrook klopt niet",
    "parking permit for my car",
    "Ik had ruzie met mijn partner over de vakantie",
    "De printer op de tweede verdieping is kapot",
    "kwartaalcijfers van de verkoopafdeling",
]


async def load_demo(reflection: ReflectionEnv, owner: str = "olga") -> None:
    for filename, title, process, teams, _ in DOCUMENTS:
        await reflection.upload(
            (DEMO / filename).read_text(encoding="utf-8"),
            filename=filename,
            title=title,
            process=process or "",
            teams=teams,
            owner=owner,
        )
    await reflection.ingest()


async def is_gap(reflection: ReflectionEnv, query: str, who: str = "ann", **extra: object) -> bool:
    # Both teams: the forklift instruction is for logistics only.
    headers = reflection.as_(who, teams="packaging,logistics")
    response = await reflection.client.post(
        "/v1/search", json={"query": query, **extra}, headers=headers
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["gap"])


async def test_the_gap_threshold_separates_answered_from_unanswered_questions(
    reflection: ReflectionEnv,
) -> None:
    await load_demo(reflection)
    answered = [q for q in ANSWERED if not await is_gap(reflection, q)]
    gaps = [q for q in UNANSWERED if await is_gap(reflection, q)]
    # Measured: answered 0.834-0.904, unanswered 0.787-0.834 (parental leave, the one miss).
    assert len(answered) == 10, set(ANSWERED) - set(answered)
    assert len(gaps) >= 9, set(UNANSWERED) - set(gaps)


async def test_a_gap_is_listed_once_five_different_people_met_it(
    reflection: ReflectionEnv,
) -> None:
    await load_demo(reflection)
    analyst = reflection.as_("ana", roles="analyst", teams="")

    async def listed() -> list[dict[str, object]]:
        response = await reflection.client.get("/v1/knowledge-gaps", headers=analyst)
        assert response.status_code == 200, response.text
        return list(response.json()["gaps"])

    for _ in range(3):  # one person asking often is still one person
        assert await is_gap(reflection, "Wat is het wachtwoord van de wifi?", who="p1")
    for who in ("p2", "p3", "p4"):
        assert await is_gap(reflection, "wachtwoord WIFI", who=who)
    assert await listed() == [], "four people: nothing shown"
    assert await is_gap(reflection, "wat is het wachtwoord van de wifi", who="p5")
    gaps = await listed()
    assert [(g["question"], g["people"], g["occurrences"]) for g in gaps] == [
        ("wachtwoord wifi", 5, 7)
    ]
    assert "p1" not in str(gaps)


async def test_gaps_are_kept_per_process_and_shown_to_the_owners_of_its_documents(
    reflection: ReflectionEnv,
) -> None:
    await load_demo(reflection, owner="olga")
    process = DOCUMENTS[0][2]
    for who in ("p1", "p2", "p3", "p4", "p5"):
        assert await is_gap(
            reflection, "recept voor appeltaart", who=who, filters={"process": [process]}
        )
    owner = reflection.as_("olga", teams="")
    mine = (await reflection.client.get("/v1/knowledge-gaps", headers=owner)).json()["gaps"]
    assert [(g["process"], g["question"]) for g in mine] == [(process, "recept appeltaart")]
    worker = await reflection.client.get("/v1/knowledge-gaps", headers=reflection.as_("p1"))
    assert worker.status_code == 403
    assert worker.json()["error"]["code"] == "not_document_owner"
    other = await reflection.client.get("/v1/knowledge-gaps?process=elders", headers=owner)
    assert other.status_code == 403


def test_normalising_drops_case_punctuation_and_filler_words() -> None:
    assert normalise("Wat is het wachtwoord van de WiFi?") == "wachtwoord wifi"
    assert normalise("How do I file my expense report?") == normalise(
        "how do i file my expense report"
    )
    assert normalise("de het een") == ""


async def test_a_reflection_nothing_answers_asks_plainly_and_counts_a_gap(
    reflection: ReflectionEnv,
) -> None:
    await load_demo(reflection)
    experience = (
        "De kantine serveert al weken te weinig vegetarische maaltijden bij de late dienst."
    )
    for who in ("p1", "p2", "p3", "p4", "p5"):
        response = await reflection.client.post(
            "/v1/reflections", json={"experience": experience}, headers=reflection.as_(who)
        )
        first = response.json()["stages"][0]
        assert first["citations"] == [] and "[c" not in first["question"]
    analyst = reflection.as_("ana", roles="analyst", teams="")
    gaps = (await reflection.client.get("/v1/knowledge-gaps", headers=analyst)).json()["gaps"]
    assert [(g["from_reflection"], g["people"]) for g in gaps] == [(5, 5)]
