"""The text an upload form carries besides its bytes: form fields and the file's name and type.

Form fields follow the one text rule (kit/text.py) and, on top, hold no C0/C1 control
characters other than tab, line feed and carriage return (browsers send a textarea's newlines as
CR LF). Starlette decodes a form field that is not valid UTF-8 as Latin-1, so such a field
arrives as text with C1 controls in it (`pro\\xed\\xa0\\x80` becomes `proí\\xa0\\x80`): refusing
them refuses most garbled fields with 422 `validation_error` instead of storing them.

The file's name and declared content type are stored (the name) or read (the type) as text:
NUL, an unpaired surrogate or a control character in them is 400 `invalid_text`; a name longer
than the column (`DocumentVersion.filename`, 300 characters) is cut to it.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import UploadFile
from pydantic import AfterValidator

from kit.errors import InvalidTextError
from kit.text import InvalidText, StorableText, VisibleText, text_fault

FILENAME_MAX = 300  # DocumentVersion.filename's column size
# C0 controls but tab, line feed and carriage return; DEL; C1 controls.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_fault(value: str) -> str | None:
    """Why `value` is no acceptable form text (a control character), or None when it is."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    return f"holds a control character (U+{ord(found.group()):04X})"


def _no_controls(value: str) -> str:
    reason = control_fault(value)
    if reason:
        raise ValueError(f"text {reason}")
    return value


NO_CONTROLS = AfterValidator(_no_controls)
FormText = Annotated[StorableText, NO_CONTROLS]
"""A storable form field without control characters (pydantic raises a validation error)."""
VisibleFormText = Annotated[VisibleText, NO_CONTROLS]
"""A FormText that also shows at least one visible character."""


def upload_name(file: UploadFile) -> tuple[str, str | None]:
    """The uploaded file's name (cut to FILENAME_MAX, `upload` when none) and declared type.

    Raises InvalidTextError (400 `invalid_text`, field `body.file.filename` or
    `body.file.content_type`) when either holds NUL, an unpaired surrogate or a control
    character (kit/text.py's rule plus `control_fault`)."""
    name = file.filename or "upload"
    for field, value in (("filename", name), ("content_type", file.content_type or "")):
        reason = text_fault(value) or control_fault(value)
        if reason:
            raise InvalidTextError(InvalidText(f"body.file.{field}", reason))
    return name[:FILENAME_MAX], file.content_type
