"""Read models that follow the event store, and the projector that keeps them."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from projections.projector import Projection


def all_projections() -> list[Projection]:
    """Every read model: the ``PROJECTION`` of each module in this package."""
    found: list[Projection] = []
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        projection = getattr(loaded, "PROJECTION", None)
        if projection is not None:
            found.append(projection)
    return found
