"""kit/breaker.py alone, with an injected clock: no HTTP, no sleeping.

closed → open (at `threshold` counted failures: DOWN counts every time, a caller's failures once
per caller, 4xx answers and abandoned calls never; a success ends the streak), open fails at
once, half-open lets exactly one trial through, and the trial decides: ok → closed, failure →
open for a full period, abandoned → the next call is the trial."""

from __future__ import annotations

import httpx
import pytest

from kit.breaker import CLOSED, HALF_OPEN, OPEN, Breaker, Outcome, outcome_of


class Clock:
    """A clock the test moves by hand: no test waits for real seconds."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def opened_breaker(clock: Clock) -> Breaker:
    breaker = Breaker(threshold=2, open_seconds=10, clock=clock)
    for _ in range(2):
        ticket = breaker.acquire()
        assert ticket is not None
        breaker.release(ticket, Outcome.DOWN, "wim")
    assert breaker.current_state() == OPEN and breaker.acquire() is None
    return breaker


def test_after_the_open_period_exactly_one_trial_passes_and_its_success_closes() -> None:
    clock = Clock()
    breaker = opened_breaker(clock)
    clock.now += 9.9
    assert breaker.acquire() is None, "still open"
    clock.now += 0.2
    assert breaker.current_state() == HALF_OPEN
    trial = breaker.acquire()
    assert trial is not None and trial.trial
    assert breaker.acquire() is None, "only one trial while it runs"
    breaker.release(trial, Outcome.OK, "kees")
    assert breaker.current_state() == CLOSED
    assert breaker.acquire() is not None and breaker.acquire() is not None


def test_a_failed_trial_opens_the_breaker_again_for_a_full_period() -> None:
    clock = Clock()
    breaker = opened_breaker(clock)
    clock.now += 10.5
    trial = breaker.acquire()
    assert trial is not None and trial.trial
    breaker.release(trial, Outcome.CALLER_FAILURE, "kees")
    assert breaker.current_state() == OPEN and breaker.acquire() is None
    clock.now += 9.9
    assert breaker.acquire() is None, "a new open period started at the failed trial"
    clock.now += 0.2
    assert breaker.acquire() is not None


def test_an_abandoned_trial_lets_the_next_call_try() -> None:
    clock = Clock()
    breaker = opened_breaker(clock)
    clock.now += 11
    trial = breaker.acquire()
    assert trial is not None
    breaker.release(trial, Outcome.ABANDONED, "wim")
    assert breaker.current_state() == HALF_OPEN
    assert (retry := breaker.acquire()) is not None and retry.trial


def test_one_callers_time_outs_count_once_and_a_sick_service_counts_every_failure() -> None:
    breaker = Breaker(threshold=3, open_seconds=10, clock=Clock())
    for _ in range(20):
        ticket = breaker.acquire()
        assert ticket is not None, "one caller's slow queries never open it"
        breaker.release(ticket, Outcome.CALLER_FAILURE, "sub:wim")
    for caller in ("sub:kees", "sub:anna"):
        ticket = breaker.acquire()
        assert ticket is not None
        breaker.release(ticket, Outcome.CALLER_FAILURE, caller)
    assert breaker.current_state() == OPEN, "three callers failing: the service is sick"
    down = Breaker(threshold=3, open_seconds=10, clock=Clock())
    for _ in range(3):
        ticket = down.acquire()
        assert ticket is not None
        down.release(ticket, Outcome.DOWN, "sub:wim")
    assert down.current_state() == OPEN, "unreachable counts every time, whoever asks"


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (200, None, Outcome.OK),
        (404, None, Outcome.OK),
        (500, None, Outcome.CALLER_FAILURE),
        (503, None, Outcome.DOWN),
        (None, httpx.ReadTimeout("slow"), Outcome.CALLER_FAILURE),
        (None, httpx.ConnectTimeout("no route"), Outcome.DOWN),
        (None, httpx.ConnectError("refused"), Outcome.DOWN),
    ],
)
def test_what_counts_as_a_failure(
    status: int | None, error: BaseException | None, outcome: Outcome
) -> None:
    assert outcome_of(status, error) is outcome


def call(breaker: Breaker, outcome: Outcome, caller: str = "sub:wim") -> None:
    ticket = breaker.acquire()
    assert ticket is not None, "the breaker let the call through"
    breaker.release(ticket, outcome, caller)


def test_closed_until_threshold_failures_are_counted() -> None:
    breaker = Breaker(threshold=3, open_seconds=10, clock=Clock())
    call(breaker, Outcome.DOWN)
    call(breaker, Outcome.DOWN)
    assert breaker.current_state() == CLOSED and breaker.counted == 2
    call(breaker, Outcome.DOWN)
    assert breaker.current_state() == OPEN


def test_answers_below_500_and_abandoned_calls_count_nothing() -> None:
    breaker = Breaker(threshold=2, open_seconds=10, clock=Clock())
    for status in (200, 201, 204, 400, 404, 409, 422, 429):
        call(breaker, outcome_of(status=status), caller=f"sub:{status}")
    for n in range(10):
        call(breaker, Outcome.ABANDONED, caller=f"sub:gone{n}")
    assert breaker.current_state() == CLOSED and breaker.counted == 0


def test_a_success_ends_the_streak() -> None:
    breaker = Breaker(threshold=3, open_seconds=10, clock=Clock())
    call(breaker, Outcome.DOWN)
    call(breaker, Outcome.CALLER_FAILURE, "sub:kees")
    call(breaker, Outcome.OK)
    assert breaker.counted == 0
    call(breaker, Outcome.DOWN)
    call(breaker, Outcome.DOWN)
    assert breaker.current_state() == CLOSED


def test_open_fails_every_call_at_once_for_the_whole_period() -> None:
    clock = Clock()
    breaker = opened_breaker(clock)
    for step in range(99):
        clock.now = 1000.0 + step * 0.1
        assert breaker.acquire() is None
    assert breaker.current_state() == OPEN


def test_calls_let_through_before_it_opened_do_not_decide() -> None:
    clock = Clock()
    breaker = Breaker(threshold=1, open_seconds=10, clock=clock)
    early = breaker.acquire()
    assert early is not None
    call(breaker, Outcome.DOWN)
    assert breaker.current_state() == OPEN
    breaker.release(early, Outcome.OK, "sub:kees")
    assert breaker.current_state() == OPEN, "only the trial closes an open breaker"
