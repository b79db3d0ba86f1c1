"""Portable text matching for search and duplicates: the same rules on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[a-z0-9]+")
# Words that say nothing about which idea is meant (Dutch and English).
_STOPWORDS = """
de het een en of van in op te voor met dat die dit is zijn wordt worden bij aan als om
naar door maar ook niet geen er we wij ik je jij u ze zij hun ons onze mijn meer minder
kan kunnen moet moeten zou zouden nog dan wel al heel veel
the a an and or of in on to for with that this these those is are be been was were by at as
it its we our you your they their not no more less can could should would will just very
"""
STOPWORDS = frozenset(_STOPWORDS.split())


def normalize(text: str) -> str:
    """Lower case, accents folded (é → e), whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(folded.lower().split())


def terms(text: str) -> list[str]:
    """Meaningful search terms, in order, without repeats."""
    seen: dict[str, None] = {}
    for token in _TOKEN.findall(normalize(text)):
        if len(token) >= 2 and token not in STOPWORDS:
            seen.setdefault(token, None)
    return list(seen)


def stem(term: str) -> str:
    """A crude, language-neutral stem: the first six letters. It joins Dutch and English
    inflections (`wachttijd`/`wachttijden`, `label`/`labels`) at the cost of some false hits,
    which the ranking tolerates."""
    return term[:6]


def like_escape(term: str) -> str:
    """`term` with LIKE's wildcards (and the escape character) escaped with a backslash."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_text(title: str, problem: str, proposal: str) -> str:
    """What the list's word search matches an idea against: its texts, normalized."""
    return normalize(f"{title} {problem} {proposal}")


def tag_index(tags: list[str]) -> str:
    """`|tag-a|tag-b|`: lets SQLite and PostgreSQL filter by one tag with one portable LIKE."""
    return "|" + "|".join(sorted(set(tags))) + "|"
