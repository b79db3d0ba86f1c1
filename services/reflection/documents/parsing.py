"""Uploaded bytes → a document's text as sections with their heading path.

Markdown and HTML keep their heading structure; PDF pages become sections; plain text is one
section. What a file is is read from its bytes, never from its name or declared type
(`media_type`): what is none of these raises `Unsupported` (the API answers 415). A file that
cannot be read raises `Unreadable` with the parser's own reason (422): `parse` turns whatever a
parser library raises on a malformed or unsupported file (pypdf's PdfReadError,
NotImplementedError for an unknown encryption handler, RecursionError, BeautifulSoup's errors...)
into `Unreadable`, so no parser fault is ever a 500. Either way nothing is stored or indexed.
"""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any

from kit.text import is_visible, safe_for_output

MEDIA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}
SUPPORTED = frozenset(MEDIA_TYPES.values())
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


class Unsupported(Exception):
    """The bytes are not a kind we parse (Markdown, text, HTML, PDF); the message says why."""


class Unreadable(Exception):
    """The bytes are of a kind we parse, but the parser failed on them."""


@dataclass(frozen=True)
class Section:
    """A part of a document under one heading path, with its text."""

    path: list[str]
    text: str
    offset: int  # where this section starts in the document's full text

    def as_dict(self) -> dict[str, Any]:
        """The section as a JSON-able dict (`text`, `path`, `offset`), as versions store it."""
        return asdict(self)


def media_type(data: bytes, filename: str, declared: str | None) -> str:
    """What the bytes are, whatever the name and the declared type claim (issue 12, items 13, 22).

    A PDF is a PDF even when named `notes.txt`: a file that starts with `%PDF-` (after only
    whitespace or a BOM), or one with a few junk bytes before a `%PDF-` header in its first
    1,024 bytes (the PDF spec's allowance) that is not text and that puremagic calls a PDF or
    pypdf can open. Anything else must be text: UTF-8 (a BOM allowed) without control characters
    other than tab, line feed, carriage return and form feed. Text that mentions `%PDF-` stays
    text, but text holding a PDF (a `%PDF-` header and `obj`/`endobj` structure, e.g. a PDF
    behind a kilobyte of text) is refused rather than indexed as PDF syntax. Text that is
    recognisably a format of its own we cannot parse (RTF, PostScript, SVG/XML...) is refused;
    HTML is parsed as HTML when its bytes say so; among text, the name or declared type picks
    Markdown or HTML, else plain text. Raises `Unsupported` (→ 415) naming what the bytes
    look like."""
    text = _as_text(data)
    if _is_pdf(data, text):
        return "application/pdf"
    if text is None:
        raise Unsupported(f"not a supported type ({_looks_like(data)}): {_ACCEPTED}")
    if _PDF_HEADER.search(text) and _PDF_OBJECT.search(text) and "endobj" in text:
        raise Unsupported(
            "not a supported type (text holding a PDF: a %PDF- header and PDF objects): "
            "upload the PDF on its own"
        )
    recognised = _recognised_text_format(data)
    if recognised == "text/html":
        return "text/html"
    if recognised is not None:
        raise Unsupported(f"not a supported type ({recognised}): {_ACCEPTED}")
    declared = (declared or "").split(";")[0].strip().lower()
    by_name = MEDIA_TYPES.get(PurePath(filename).suffix.lower())
    for claim in (declared, by_name):
        if claim in ("text/markdown", "text/html"):
            return claim
    return "text/plain"


_ACCEPTED = "upload Markdown, plain text (UTF-8), HTML or PDF"
_PDF_HEADER = re.compile(r"%PDF-\d")
_PDF_OBJECT = re.compile(r"\b\d+\s+\d+\s+obj\b")
_LEADING = b" \t\r\n\x0c\x00"


def _is_pdf(data: bytes, text: str | None) -> bool:
    """Whether `data` is a PDF by its header (see media_type)."""
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip(_LEADING)
    if head.startswith(b"%PDF-"):
        return True
    at = data.find(b"%PDF-", 0, 1024)
    if at <= 0 or text is not None:
        return False
    if any("pdf" in str(m.mime_type).lower() for m in _magic(data)):
        return True
    return _pypdf_opens(data[at:])


def _pypdf_opens(data: bytes) -> bool:
    from pypdf import PdfReader

    try:
        return len(PdfReader(io.BytesIO(data), strict=False).pages) > 0
    except Exception:
        return False


# C0 controls and DEL, but tab, line feed, form feed and carriage return; C1 controls.
_BINARY = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _as_text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if _BINARY.search(text) else text


def _magic(data: bytes) -> list[Any]:
    import puremagic

    try:
        return list(puremagic.magic_string(data[:8192]))
    except (puremagic.PureError, ValueError):
        return []


def _recognised_text_format(data: bytes) -> str | None:
    """The media type of a confidently recognised text-based format, or None for plain text."""
    for match in _magic(data):
        if match.confidence >= 0.5:
            return str(match.mime_type or match.name)
    return None


def _looks_like(data: bytes) -> str:
    matches = _magic(data)
    if matches and not str(matches[0].mime_type).startswith("text/"):
        best = matches[0]
        return f"{best.name}, {best.mime_type or best.extension}"
    return "binary data or text that is not UTF-8"


def _decode(data: bytes) -> str:
    text = _as_text(data)
    if text is None:  # media_type has already refused it; parse() may be called on its own
        raise Unreadable("the file is not UTF-8 text")
    return text


def markdown_sections(text: str) -> list[Section]:
    """Split at headings; every section knows the headings above it."""
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    start = 0
    offset = 0
    lines = text.splitlines(keepends=True)

    def close(end: int) -> None:
        body = text[start:end]
        if body.strip():
            sections.append(Section([t for _, t in trail], body, start))

    for line in lines:
        match = _HEADING.match(line.rstrip("\n"))
        if match:
            close(offset)
            level = len(match.group(1))
            trail = [(lvl, title) for lvl, title in trail if lvl < level] + [
                (level, match.group(2))
            ]
            start = offset
        offset += len(line)
    close(len(text))
    return sections


def html_to_markdown(html: str) -> str:
    """The HTML's text as Markdown, keeping its headings, so it is cut into sections alike."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines: list[str] = []
    body = soup.body or soup
    for element in body.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "th"]
    ):
        text = " ".join(element.get_text(" ", strip=True).split())
        if not text:
            continue
        if element.name and element.name[0] == "h" and element.name[1:].isdigit():
            lines.append(f"{'#' * int(element.name[1:])} {text}")
        elif element.name == "li":
            lines.append(f"- {text}")
        else:
            lines.append(text)
    return "\n\n".join(lines) + "\n"


def pdf_sections(data: bytes) -> list[Section]:
    """A section per page with text. An encrypted PDF is read when it opens with the empty
    password (the Standard handler's "no user password"); one that needs a password raises
    `Unreadable`, as does any other fault pypdf raises (wrapped by `parse`)."""
    from pypdf import PdfReader

    start = data.find(b"%PDF-", 0, 1024)  # xref offsets count from the header, not junk before it
    reader = PdfReader(io.BytesIO(data[max(start, 0) :]), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise Unreadable("the PDF is protected with a password: upload it without one")
    # Extracted text may hold NUL and other controls: they can be neither stored nor read.
    pages = [safe_for_output(_BINARY.sub(" ", page.extract_text() or "")) for page in reader.pages]
    sections = []
    offset = 0
    for number, text in enumerate(pages, start=1):
        if text.strip():
            sections.append(Section([f"p. {number}"], text, offset))
        offset += len(text) + 1
    return sections


def parse(data: bytes, kind: str) -> list[Section]:
    """The sections of `data`, read as `kind` (from media_type).

    Raises `Unreadable` (→ 422 `unreadable_file`) for a file with no visible text and for
    anything the parser libraries raise on a malformed or unsupported file: the one place
    parser faults are caught."""
    try:
        sections = _parse(data, kind)
    except Unreadable:
        raise
    except Exception as exc:
        what = "PDF" if kind == "application/pdf" else "file"
        reason = safe_for_output(str(exc))[:300] or type(exc).__name__
        raise Unreadable(f"the {what} cannot be read: {reason}") from exc
    # A file of zero-width spaces or lone accents parses into sections nobody can read.
    if not any(is_visible(section.text) for section in sections):
        raise Unreadable("the file holds no text to index")
    return sections


def _parse(data: bytes, kind: str) -> list[Section]:
    if kind == "application/pdf":
        sections = pdf_sections(data)
    elif kind == "text/html":
        sections = markdown_sections(html_to_markdown(_decode(data)))
    elif kind == "text/markdown":
        sections = markdown_sections(_decode(data))
    else:
        text = _decode(data)
        sections = [Section([], text, 0)] if text.strip() else []
    return sections
