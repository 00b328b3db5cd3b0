"""A run decides its patches in its first workflow task, before any local activity.

On replay, ``workflow.patched`` answers True only for a marker core has announced for the
workflow task being replayed, and the first answer holds for the whole run. A patch first asked
about when a local activity's result arrived can be recorded in a later task than the one that
task's replay is in when that result is handed back: a query or a heartbeat can complete the
task between the two. The replay then answers False, issues no marker, and fails with "patch
marker encountered ... but there is no corresponding change command" - and a case whose history
does not replay is wedged once its worker evicts it. ``bench/signal_flood.py --when open`` failed
so in 6 cases of 40, always on the identity lookup asked after the sender check.

Since ``patches-first-2026-12`` a new run asks about every patch it will use in ``__init__``,
before any handler or activity runs, so each marker lies in the first task. Histories recorded
before it replay as they ran: they hold no ``patches-first`` marker, so nothing is asked early.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio import workflow

from workflows.alarm import SERIAL_OPENING_PATCH
from workflows.arrivals import ARRIVAL_ORDER_PATCH, ArrivalOrder

PATCHES_FIRST_PATCH = "patches-first-2026-12"


def decide_patches_first(*patch_ids: str) -> bool:
    """In a workflow's ``__init__``: for a new run, record ``patch_ids`` now (later calls get the
    remembered answer and record nothing); for an older history, nothing. Whether it did."""
    if not workflow.patched(PATCHES_FIRST_PATCH):
        return False
    for patch_id in patch_ids:
        workflow.patched(patch_id)
    return True


@dataclass(frozen=True)
class RunStart:
    """What a workflow's ``__init__`` decides about how its run handles messages."""

    serial_opening: bool
    """Messages arriving while the workflow opens wait until it has opened before they run
    anything that becomes a command (a patch, the sender check, the identity lookup): run
    alongside the opening, their order could differ on replay."""
    order: ArrivalOrder
    """Messages change the state in the order they arrived (workflows/arrivals.py)."""


def decide_run_start(later_patches: Sequence[str]) -> RunStart:
    """In a workflow's ``__init__``, before any handler runs: ``serial-opening``, then every
    patch the run asks about later (``later_patches``, in the order that workflow's histories
    recorded them - the order is part of history), then ``arrival-order``."""
    serial_opening = workflow.patched(SERIAL_OPENING_PATCH)
    decide_patches_first(*later_patches)
    return RunStart(serial_opening, ArrivalOrder(workflow.patched(ARRIVAL_ORDER_PATCH)))
