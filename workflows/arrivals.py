"""Messages change a workflow's state in the order they arrived.

A signal's handler waits for its sender check (an activity) before it takes the state; an
update's handler usually does not. Without an order, an update sent after a signal could take
the state first - "accept the User ID, then record the SREPT" would see the User ID not yet
accepted. Each message takes a ticket when its handler starts (in the order history delivers
them, the same on every replay) and waits, just before it takes the state, until every message
that arrived before it is done. Behind ``arrival-order-2026-12``: older histories ran without.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio import workflow

T = TypeVar("T")

ARRIVAL_ORDER_PATCH = "arrival-order-2026-12"


class ArrivalOrder:
    """Tickets in arrival order; a message's turn comes when it holds the oldest open ticket."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._next = 0
        self._open: list[int] = []

    async def serve(self, work: Callable[[int | None], Awaitable[T]]) -> T:
        """Run a message's handler ``work(ticket)``: the ticket is taken now, before any await,
        and given back when the handler ends, however it ends."""
        ticket = self.arrive()
        try:
            return await work(ticket)
        finally:
            self.leave(ticket)

    def arrive(self) -> int | None:
        """At a handler's start, before any await: its ticket (None when the run is unordered)."""
        if not self._enabled:
            return None
        ticket = self._next
        self._next += 1
        self._open.append(ticket)
        return ticket

    async def turn(self, ticket: int | None) -> None:
        """Until every message that arrived before this one is done."""
        if ticket is not None:
            await workflow.wait_condition(lambda: self._open[0] == ticket)

    def leave(self, ticket: int | None) -> None:
        """The message is done (applied, refused or listed): later ones may go on."""
        if ticket is not None and ticket in self._open:
            self._open.remove(ticket)
