"""Type of "a connection": a plain asyncpg connection or one borrowed from a pool."""

from __future__ import annotations

from typing import Any, TypeAlias, Union

import asyncpg
import asyncpg.pool

# Strings, so nothing is subscripted at runtime (asyncpg's classes are generic only in stubs).
Conn: TypeAlias = Union["asyncpg.Connection[Any]", "asyncpg.pool.PoolConnectionProxy[Any]"]
