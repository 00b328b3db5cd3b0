"""Delivery channels for completion notices: where a notice taken from the outbox goes.

A channel either delivers (and says where: its reference) or raises, in which case the notice
is marked failed and Temporal tries again. With no channel configured nothing is delivered:
the notices wait in the outbox, visible in `uep notices`, rather than being called sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Protocol

from eventstore.outbox import Notice


class DeliveryChannel(Protocol):
    """Takes one notice to its recipient; must tolerate the same notice twice."""

    @property
    def name(self) -> str:
        """The channel's name, recorded with the delivery."""
        ...

    async def deliver(self, notice: Notice) -> str:
        """Deliver the notice; a reference to where it went."""
        ...


class NoChannel:
    """No channel configured: delivery fails, so notices stay queued and visible."""

    name = "none"

    async def deliver(self, notice: Notice) -> str:
        """Refuse: there is nowhere to deliver to."""
        raise RuntimeError(
            "no delivery channel is configured (set UEP_NOTICE_DIR); the notice stays queued"
        )


class FileChannel:
    """Writes each notice as a JSON file in a folder (the `uep dev` default)."""

    name = "file"

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    async def deliver(self, notice: Notice) -> str:
        """Write ``<folder>/<notice_id>.json`` atomically; its path is the reference."""
        return await asyncio.to_thread(self._write, notice)

    def _write(self, notice: Notice) -> str:
        self._folder.mkdir(parents=True, exist_ok=True)
        target = self._folder / f"{notice.notice_id}.json"
        content = {
            "notice_id": notice.notice_id,
            "case_id": notice.case_id,
            "recipient": notice.recipient,
            **notice.body,
        }
        # write-then-rename: a reader never sees half a notice, a retry replaces it whole
        fd, tmp = tempfile.mkstemp(dir=self._folder, prefix=".notice-")
        with os.fdopen(fd, "w") as out:
            json.dump(content, out, indent=2, sort_keys=True, default=str)
        os.replace(tmp, target)
        return str(target)


class MemoryChannel:
    """Keeps delivered notices in a list (tests, and the dev stack's in-memory runs)."""

    name = "memory"

    def __init__(self) -> None:
        self.delivered: list[Notice] = []

    async def deliver(self, notice: Notice) -> str:
        """Keep the notice; its position in the list is the reference."""
        self.delivered.append(notice)
        return f"memory:{len(self.delivered)}"
