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

**Code epochs.** Each patch marker costs a run two history events (the marker, and core's
upsert of ``TemporalChangeVersion`` with every patch so far), and a new run asked about about
twelve. Since ``code-epoch-1-2026-12`` a new run records one marker: the newest **code epoch**,
which names the set of patches that code has on (:data:`CODE_EPOCHS`). Every question about a
patch is then answered from that set (:meth:`Patches.on`), and records nothing. A run that
recorded an older epoch keeps that epoch's set; a run from before the epochs asks each patch as
it did. So an epoch's set never changes once released: a new patch adds a new epoch (the old
set plus it) at the end of :data:`CODE_EPOCHS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from temporalio import workflow

from workflows.alarm import SERIAL_OPENING_PATCH
from workflows.arrivals import ARRIVAL_ORDER_PATCH, ArrivalOrder

PATCHES_FIRST_PATCH = "patches-first-2026-12"

_EPOCH_1 = frozenset(
    {
        "calendar-horizon-2026-11",
        "strict-start-input-2026-12",
        "rules-revision-2-2026-12",
        "party-record-2026-12",
        "signed-senders-2026-12",
        "ui-identity-2026-12",
        "regular-steps-2026-12",
        "steady-alarm-2026-12",
        "serial-opening-2026-12",
        "patches-first-2026-12",
        "counted-rollover-2026-12",
        "regular-sender-check-2026-12",
        "arrival-order-2026-12",
    }
)
_EPOCH_2 = _EPOCH_1 | {"batched-notices-2026-12", "record-attributes-on-change-2026-12"}
_EPOCH_3 = _EPOCH_2 | {"store-reads-2026-12", "told-on-news-2026-12"}
CODE_EPOCHS: tuple[tuple[str, frozenset[str]], ...] = (
    ("code-epoch-1-2026-12", _EPOCH_1),
    ("code-epoch-2-2026-12", _EPOCH_2),
    ("code-epoch-3-2026-12", _EPOCH_3),
)
"""Each code epoch and the patches it has on, oldest first, spelled out (a released set must not
follow a renamed constant). Never change a released entry;
a new patch means a new epoch appended here with it (its set: the last one plus the patch)."""
WITHDRAWN_PATCHES = frozenset({"local-steps-2026-12"})
"""Patches no new run has on (the local steps, withdrawn by ``regular-steps-2026-12``)."""


@dataclass(frozen=True)
class Patches:
    """Which patches a run has on: its code epoch's set, or (a run from before the epochs)
    whatever ``workflow.patched`` answers, as it always did."""

    epoch: str | None = None
    enabled: frozenset[str] = field(default_factory=frozenset)

    def on(self, patch_id: str) -> bool:
        """Whether this run takes the path behind ``patch_id`` (records nothing in an epoch)."""
        if self.epoch is None:
            return workflow.patched(patch_id)
        return patch_id in self.enabled


def decide_epoch() -> Patches:
    """First thing in a workflow's ``__init__``: the newest code epoch for a new run (one
    marker); the epoch a recorded run has; or none for a run from before the epochs (asking
    about an absent marker on replay records nothing, so those histories replay as they ran)."""
    for epoch, enabled in reversed(CODE_EPOCHS):
        if workflow.patched(epoch):
            return Patches(epoch, enabled)
    return Patches()


def patched(patch_id: str) -> bool:
    """``workflow.patched`` as the running workflow's :class:`Patches` answers it, for code
    outside the workflow class (sender checks, steps). Only once ``__init__`` has returned:
    inside it, ask the run's ``patches`` directly."""
    patches = getattr(workflow.instance(), "patches", None)
    if not isinstance(patches, Patches):
        raise RuntimeError(f"{patch_id}: asked before the run decided its code epoch")
    return patches.on(patch_id)


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


def decide_run_start(later_patches: Sequence[str], patches: Patches) -> RunStart:
    """In a workflow's ``__init__``, before any handler runs. In a code epoch, from its set
    (no marker). Before the epochs: ``serial-opening``, then every patch the run asks about
    later (``later_patches``, in the order that workflow's histories recorded them - the order
    is part of history), then ``arrival-order``."""
    if patches.epoch is not None:
        order = ArrivalOrder(patches.on(ARRIVAL_ORDER_PATCH))
        return RunStart(patches.on(SERIAL_OPENING_PATCH), order)
    serial_opening = workflow.patched(SERIAL_OPENING_PATCH)
    decide_patches_first(*later_patches)
    return RunStart(serial_opening, ArrivalOrder(workflow.patched(ARRIVAL_ORDER_PATCH)))
