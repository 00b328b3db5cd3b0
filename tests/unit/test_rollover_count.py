"""When a run hands over: estimated from what it took, the same on every replay."""

from __future__ import annotations

from workflows import limits


def test_a_run_hands_over_once_its_estimate_reaches_the_limit() -> None:
    per = limits.EVENTS_PER_MESSAGE
    enough = (2_000 - limits.OPENING_EVENTS + per - 1) // per
    assert not limits.run_is_full(2_000, enough - 1, 0, continued=False)
    assert limits.run_is_full(2_000, enough, 0, continued=False)


def test_fired_timers_count_too() -> None:
    limit = limits.OPENING_EVENTS + 5 * limits.EVENTS_PER_MESSAGE + 5 * limits.EVENTS_PER_RING
    assert limits.run_is_full(limit, 5, 5, continued=False)
    assert not limits.run_is_full(limit, 5, 4, continued=False)


def test_a_continued_run_takes_a_few_messages_before_it_hands_over_again() -> None:
    """Even under the lowest memo limit, what a continued run is told at its start (the Party
    record's poke) never hands it over again: no run ends without taking ten messages."""
    for taken in range(limits.MIN_TAKEN_PER_RUN):
        assert not limits.run_is_full(limits.MEMO_EVENTS_FLOOR, taken, 0, continued=True)
    assert limits.run_is_full(limits.MEMO_EVENTS_FLOOR, limits.MIN_TAKEN_PER_RUN, 0, continued=True)
