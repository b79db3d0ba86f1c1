"""Uploaded bytes → a document's text as sections with their heading path.

Markdown and HTML keep their heading structure; PDF pages become sections; plain text is one
section. A file that cannot be read raises `Unreadable` with the parser's own reason, which the
API returns as 422 before anything is stored or indexed.
"""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any

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
    pass


class Unreadable(Exception):
    pass


@dataclass(frozen=True)
class Section:
    path: list[str]
    text: str
    offset: int  # where this section starts in the document's full text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def media_type(filename: str, declared: str | None) -> str:
    declared = (declared or "").split(";")[0].strip().lower()
    if declared in SUPPORTED:
        return declared
    by_name = MEDIA_TYPES.get(PurePath(filename).suffix.lower())
    if by_name and declared in ("", "application/octet-stream", "text/x-markdown"):
        return by_name
    raise Unsupported(
        f"{declared or 'this file type'} is not supported: upload Markdown, plain text, HTML or PDF"
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


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
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise Unreadable(f"the PDF cannot be read: {exc}") from exc
    sections = []
    offset = 0
    for number, text in enumerate(pages, start=1):
        if text.strip():
            sections.append(Section([f"p. {number}"], text, offset))
        offset += len(text) + 1
    return sections


def parse(data: bytes, kind: str) -> list[Section]:
    if kind == "application/pdf":
        sections = pdf_sections(data)
    elif kind == "text/html":
        sections = markdown_sections(html_to_markdown(_decode(data)))
    elif kind == "text/markdown":
        sections = markdown_sections(_decode(data))
    else:
        text = _decode(data)
        sections = [Section([], text, 0)] if text.strip() else []
    if not sections:
        raise Unreadable("the file holds no text to index")
    return sections
