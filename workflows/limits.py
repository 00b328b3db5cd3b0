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
