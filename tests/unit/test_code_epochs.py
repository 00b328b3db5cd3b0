"""Code epochs (workflows/patches.py): one marker per run names the patches it has on.

A released epoch's set is part of every history that recorded it, so it must never change, and
the newest epoch must hold every patch a new run takes - else a new patch would be off for new
runs and nobody would notice.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil

import workflows
from workflows.patches import CODE_EPOCHS, WITHDRAWN_PATCHES

RELEASED = {
    "code-epoch-1-2026-12": {
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
    },
    "code-epoch-2-2026-12": {"batched-notices-2026-12", "record-attributes-on-change-2026-12"},
    "code-epoch-3-2026-12": {"store-reads-2026-12", "told-on-news-2026-12"},
}
"""Every released epoch, as it was released, by the patches it added to the one before: add the
next one here when you add it there."""


def _patch_constants() -> dict[str, str]:
    """Every ``*_PATCH`` string constant of the workflows package, by module.name."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(workflows.__path__):
        module = importlib.import_module(f"workflows.{info.name}")
        for name, value in vars(module).items():
            if name.endswith("_PATCH") and isinstance(value, str):
                found[f"{info.name}.{name}"] = value
    return found


def test_released_epochs_never_change() -> None:
    epochs = dict(CODE_EPOCHS)
    assert len(epochs) == len(CODE_EPOCHS), "an epoch name is used twice"
    expected: set[str] = set()
    for name, added in RELEASED.items():
        expected |= added
        assert set(epochs[name]) == expected, f"{name} changed after its release"
    assert set(epochs) == set(RELEASED), "a new epoch must be added to RELEASED as well"


def test_the_newest_epoch_has_every_patch_on_but_the_withdrawn() -> None:
    constants = _patch_constants()
    assert len(constants) >= 12  # the scan finds the patches where they are defined
    newest = CODE_EPOCHS[-1][1]
    missing = {k: v for k, v in constants.items() if v not in newest | WITHDRAWN_PATCHES}
    assert missing == {}, "a new patch needs a new code epoch (workflows/patches.py)"
    assert not newest & WITHDRAWN_PATCHES


def test_each_epoch_keeps_what_the_one_before_had() -> None:
    for (_, before), (name, after) in itertools.pairwise(CODE_EPOCHS):
        assert before <= after, f"{name} drops a patch the epoch before had on"
