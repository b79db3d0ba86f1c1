"""What one caller of the learning record store may read, void and learn about: the one place
every xAPI operation asks (docs/analytics.md, "Who sees which statements").

An LRS client sees the statements it stored itself (their `authority`), and nothing else: not
their content, not whether they exist. An admin may grant a client `read_all` (an HR system or
a central LRS that collects everything); voiding stays limited to its own statements. A bearer
token with the `admin` role reads and voids the whole store.

Statement ids are global (xAPI 1.0.3, Data 2.4.1), so storing under an id another client holds
cannot succeed; that refusal is word for word the one for reusing one's own id with other
content (409 `statement_conflict`), so the caller cannot tell whose id it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from kit.auth import Principal
from services.analytics.statements.models import Statement

OWN = "own"
READ_ALL = "read_all"


@dataclass(frozen=True)
class Scope:
    """The statements one caller may see (`reads_all`) and void (`voids_all`), besides its own.

    `authority` is what the caller's own statements are stamped with (its subject)."""

    authority: str
    reads_all: bool = False
    voids_all: bool = False

    @classmethod
    def of(cls, principal: Principal, granted: str = OWN) -> Scope:
        """The scope of a caller: admins everything; an LRS client its own, or every statement
        to read when an admin granted it `read_all` (`granted` is `LrsClient.scope`)."""
        if principal.is_admin:
            return cls(principal.subject, reads_all=True, voids_all=True)
        return cls(principal.subject, reads_all=granted == READ_ALL)

    def may_read(self, row: Statement) -> bool:
        """True when the caller may read `row` (or learn that it exists)."""
        return self.reads_all or row.authority == self.authority

    def may_void(self, row: Statement) -> bool:
        """True when the caller may void `row`."""
        return self.voids_all or row.authority == self.authority

    def owns(self, row: Statement) -> bool:
        """True when `row` was stored by this caller (a repeat of it is a no-op)."""
        return row.authority == self.authority

    def readable(self, query: SelectOfScalar[Any]) -> SelectOfScalar[Any]:
        """`query` (over `Statement`) limited to the statements the caller may read."""
        if self.reads_all:
            return query
        return query.where(col(Statement.authority) == self.authority)
