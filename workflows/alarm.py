"""One durable timer a workflow's main loop keeps across its turns.

``workflow.wait_condition(..., timeout=...)`` starts a timer on every call and cancels it when the
condition wins: two commands and two history events on every message a case takes, although the
moment it waits for (the next DCC deadline, the calendar horizon, a guarantee's last day) hardly
ever moves. An :class:`Alarm` starts its timer once and keeps it while the moment stays the
same; the loop waits on a plain condition that includes :attr:`Alarm.rang`. Behind a patch in
each workflow, so histories recorded with the per-turn timer replay as they ran.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow

SERIAL_OPENING_PATCH = "serial-opening-2026-12"
"""Messages arriving while a workflow opens wait until it has opened (decided at init); older
histories ran their sender checks alongside the opening, which did not always replay."""
STEADY_ALARM_PATCH = "steady-alarm-2026-12"
"""A main loop keeps one timer while its moment stays the same; older histories start and
cancel one on every turn."""


class Alarm:
    """A timer for one moment at a time: set again to move it, ``None`` to switch it off."""

    def __init__(self) -> None:
        self._at: datetime | None = None
        self._timer: asyncio.Task[None] | None = None
        self._passed = False
        self.rings = 0
        """Timers of this alarm that fired in this run (each one an event in history)."""

    def set(self, at: datetime | None, summary: str | None = None) -> None:
        """Ring at ``at`` (now, if it has passed). A pending timer for the same moment is kept;
        one for another moment is cancelled first."""
        pending = self._timer is not None and not self._timer.done()
        if pending and at == self._at:
            return
        if pending:
            assert self._timer is not None
            self._timer.cancel()
        self._at = at
        self._timer = None
        self._passed = at is not None and at <= workflow.now()
        if at is not None and not self._passed:
            self._timer = asyncio.create_task(workflow.sleep(at - workflow.now(), summary=summary))
            self._timer.add_done_callback(self._count)

    def _count(self, timer: asyncio.Task[None]) -> None:
        if not timer.cancelled() and timer.exception() is None:
            self.rings += 1

    @property
    def rang(self) -> bool:
        """Whether the moment has come: the timer fired, or the moment had passed when set (no
        timer then, as a zero timeout started none)."""
        return self._passed or (self._timer is not None and self._timer.done())
