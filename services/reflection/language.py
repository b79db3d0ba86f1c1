"""Dutch or English? Counted from function words, which every sentence has and no topic owns.

Good enough to pick a stemmer and a default for a document; a document's uploader can always
say the language explicitly.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-zà-ÿ]+")
_DUTCH = frozenset(
    """
    de het een en van in is op te dat die voor met zijn niet aan er ook als bij of door naar
    maar om dan wordt worden je ik we wij hoe wat wie waar moet kan deze dit heb hebben geen
    nog al uit over tot zo meer na
    """.split()
)
_ENGLISH = frozenset(
    """
    the a an and of in is on to that for with are not be at or by from as this it which you
    we how what who where must can these have has no any when then into out about up after
    your do does was were
    """.split()
)


def detect(text: str) -> str | None:
    """`nl`, `en`, or None when the text gives no clear sign."""
    words = _WORD.findall(text.lower())
    dutch = sum(w in _DUTCH for w in words)
    english = sum(w in _ENGLISH for w in words)
    if dutch == english:
        return None
    return "nl" if dutch > english else "en"


FUNCTION_WORDS = _DUTCH | _ENGLISH
