"""When a run hands over to a new one (continue-as-new): its history's length and size.

Well under Temporal's own limits (50,000 events, 50 MB), so that a flood of messages, even
refused ones, rolls a case over instead of getting it terminated. The values are code: changing
them changes where runs end, so a change goes behind ``workflow.patched`` like any other. A
lower event limit for one case can be set at its start in its memo (recorded in its history, so
its replay agrees): testers use it to see a case roll over; it can only make a run end sooner.
"""

from __future__ import annotations

HISTORY_EVENTS_LIMIT = 2_000
HISTORY_BYTES_LIMIT = 8 * 1024 * 1024
MEMO_EVENTS_LIMIT = "uep.history_events_limit"
"""Memo key of a lower event limit for one case (at least :data:`MEMO_EVENTS_FLOOR`)."""
MEMO_EVENTS_FLOOR = 100
"""A run's opening costs about 40 history events in revision 3 (calendar, stream version, the
append, telling the Party record and reading its position): below this a case would roll over
before it had done anything, again and again."""

COUNTED_ROLLOVER_PATCH = "counted-rollover-2026-12"
"""A run estimates its history's length from what it took (below) instead of asking Temporal."""
OPENING_EVENTS = 60
"""History events of a new case's opening, its patch markers included (about 60 in revision 3)."""
CONTINUED_OPENING_EVENTS = 30
"""History events of a continued run's opening (its start, its patch markers, a task)."""
EVENTS_PER_MESSAGE = 20
"""History events one message brings at most in practice: the signal or the update's two
events, the sender check, the identity lookup, the append, the workflow tasks around them, the
Party record's poke and the read back (a refused signal brings about 8, an update about 15)."""
EVENTS_PER_RING = 10
"""History events a timer that fires brings: its own, a workflow task, an append, a new timer."""
MIN_TAKEN_PER_RUN = 10
"""A run takes at least this many messages and timers before the estimate hands it over: a
continued run is told things at its start (the Party record's poke), and must not hand over
again for those alone."""


def run_is_full(limit: int, messages: int, rings: int, continued: bool) -> bool:
    """Whether a run's history has reached ``limit`` events, estimated from what it took: the
    messages its handlers ran for (signals, refused ones included, and accepted updates) and the
    timers that fired.

    ``workflow.info().get_current_history_length()`` is not the same on every replay: a
    workflow task that ended with no command, followed by another such task (a refused update's
    task the server kept), is replayed as one, and the run then reads a longer history than it
    read when it ran. A run that decided on it could hand over one turn sooner on replay - a
    nondeterminism error (the memo-limit test hit it in 3 runs of 16). Messages and timers are
    events in history, one for one, so this count replays exactly; Temporal's own suggestion and
    the history's size stay as a safety net."""
    opening = CONTINUED_OPENING_EVENTS if continued else OPENING_EVENTS
    estimate = opening + EVENTS_PER_MESSAGE * messages + EVENTS_PER_RING * rings
    return messages + rings >= MIN_TAKEN_PER_RUN and estimate >= limit
