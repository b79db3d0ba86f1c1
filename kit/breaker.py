"""A circuit breaker per service that only a sick service opens, and that really half-opens.

The rule (docs/graphql.md, "Circuit breaker"):

- **What counts.** A failure that no request can cause — the service cannot be connected to,
  or answers 502/503/504 — counts every time. A failure one caller can cause by what they ask —
  a time-out (a slow query), a 500 or other 5xx — counts **once per caller** in a streak. So one
  caller's slow or failing queries count as one failure however many they send, and the
  breaker opens only when `threshold` failures are counted: several callers failing, or the
  service unreachable. 4xx answers, and calls the caller abandoned, count for nothing. Any
  success ends the streak.
- **Open.** For `open_seconds` every call fails at once, without reaching the service.
- **Half-open.** After that exactly one trial call is let through; the others still fail at
  once while it runs. The trial succeeds → closed; it fails → open again for `open_seconds`;
  it is abandoned (the caller went away) → the next call is the trial.

purgatory (kept, installed) was read and not used: its half-open state lets every concurrent
call through, it cannot tell callers apart, and it reads the wall clock, not an injectable one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"
SERVICE_STATUSES = frozenset({502, 503, 504})  # said by the service or a proxy, not by a query


class Outcome(StrEnum):
    """How one call ended, as far as the breaker is concerned."""

    OK = "ok"  # any answer below 500
    DOWN = "down"  # cannot connect, connection dropped, 502/503/504: counts every time
    CALLER_FAILURE = "caller_failure"  # time-out, 500 and other 5xx: counts once per caller
    ABANDONED = "abandoned"  # the caller went away before the answer: counts for nothing


def outcome_of(status: int | None = None, error: BaseException | None = None) -> Outcome:
    """Classify an answer's status, or the httpx error a call raised."""
    if error is not None:
        if isinstance(error, httpx.TimeoutException) and not isinstance(
            error, httpx.ConnectTimeout | httpx.PoolTimeout
        ):
            return Outcome.CALLER_FAILURE  # read/write time-out: the query may be what is slow
        return Outcome.DOWN
    assert status is not None
    if status < 500:
        return Outcome.OK
    return Outcome.DOWN if status in SERVICE_STATUSES else Outcome.CALLER_FAILURE


@dataclass
class Ticket:
    """Permission for one call; `trial` when it is the half-open state's one trial call."""

    trial: bool = False


@dataclass
class Breaker:
    """closed → open → half-open → closed or open again; see the module docstring for the rule.

    `clock` returns seconds (monotonic by default); tests inject their own.
    """

    threshold: int
    open_seconds: float
    clock: Callable[[], float] = time.monotonic
    state: str = CLOSED
    opened_at: float = 0.0
    trial_running: bool = False
    down_count: int = 0
    failing_callers: set[str] = field(default_factory=set)

    @property
    def counted(self) -> int:
        """Failures counted in the current streak."""
        return self.down_count + len(self.failing_callers)

    def current_state(self) -> str:
        """The state now: an open breaker whose period is over reads as half-open."""
        if self.state == OPEN and self.clock() >= self.opened_at + self.open_seconds:
            self.state, self.trial_running = HALF_OPEN, False
        return self.state

    def acquire(self) -> Ticket | None:
        """A ticket when the call may go ahead, None when it must fail at once."""
        state = self.current_state()
        if state == CLOSED:
            return Ticket()
        if state == HALF_OPEN and not self.trial_running:
            self.trial_running = True
            return Ticket(trial=True)
        return None

    def release(self, ticket: Ticket, outcome: Outcome, caller: str) -> None:
        """Record how the call of `ticket`, made for `caller`, ended."""
        if ticket.trial:
            self.trial_running = False
            if outcome is Outcome.OK:
                self._close()
            elif outcome is not Outcome.ABANDONED:
                self._open()
            return
        if self.state != CLOSED:
            return  # a call let through before the breaker opened: the trial decides
        if outcome is Outcome.OK:
            self._close()
        elif outcome is Outcome.DOWN:
            self.down_count += 1
        elif outcome is Outcome.CALLER_FAILURE:
            self.failing_callers.add(caller)
        if self.counted >= self.threshold:
            self._open()

    def _open(self) -> None:
        self.state, self.opened_at, self.trial_running = OPEN, self.clock(), False
        self.down_count, self.failing_callers = 0, set()

    def _close(self) -> None:
        self.state, self.trial_running = CLOSED, False
        self.down_count, self.failing_callers = 0, set()
