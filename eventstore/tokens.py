"""API tokens in PostgreSQL: only a token's SHA-256 is stored (migration 0042).

A token reads ``uep_<token_id>_<secret>``: the id names it in `uep token list|revoke` and logs,
the secret (256 random bits) is never stored. A lookup hashes what the caller presents and
finds the row by its hash (a unique index); a revoked token finds nothing.

The API asks on every request, so :class:`TokenCache` remembers a token found live for a few
seconds (by its hash, never the token): a revoked token is refused by every API process within
that time. An unknown or revoked token is never remembered, so a new token works at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from pydantic import BaseModel

TOKEN_PREFIX = "uep_"
USE_RECORDED_EVERY = timedelta(minutes=1)
"""A token's last use is written at most this often (a read must not cost a write)."""


class TokenRecord(BaseModel):
    """A token as stored, without its hash."""

    token_id: str
    kind: str
    principal_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def token_hash(token: str) -> bytes:
    """What is stored for a token."""
    return hashlib.sha256(token.encode()).digest()


def plausible(token: str) -> bool:
    """Whether a presented token has the shape of one (anything else is not looked up)."""
    return token.startswith(TOKEN_PREFIX) and len(token) <= 200


_COLUMNS = "token_id, kind, principal_id, name, created_at, last_used_at, revoked_at"


class TokenStore:
    """Create, find, list and revoke API tokens."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, kind: str, principal_id: str, name: str) -> tuple[str, TokenRecord]:
        """A new token (returned once, never stored) and its record."""
        token_id = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        row = await self._pool.fetchrow(
            f"INSERT INTO api_tokens (token_id, token_hash, kind, principal_id, name) "
            f"VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}",
            token_id,
            token_hash(token),
            kind,
            principal_id,
            name,
        )
        assert row is not None
        return token, TokenRecord.model_validate(dict(row))

    async def find(self, token: str) -> TokenRecord | None:
        """The live token a caller presents; None if unknown or revoked. Its last use is
        written at most once a minute (a read must not cost a write each time)."""
        if not plausible(token):
            return None
        return await self.find_hash(token_hash(token))

    async def find_hash(self, hashed: bytes) -> TokenRecord | None:
        """:meth:`find` for a token already hashed."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            hashed,
        )
        if row is None:
            return None
        record = TokenRecord.model_validate(dict(row))
        last = record.last_used_at
        if last is not None and datetime.now(UTC) - last < USE_RECORDED_EVERY:
            return record
        await self._pool.execute(
            "UPDATE api_tokens SET last_used_at = now() WHERE token_id = $1 "
            "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
            record.token_id,
        )
        return record

    async def list(self) -> list[TokenRecord]:
        """Every token, newest first."""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM api_tokens ORDER BY created_at DESC, token_id"
        )
        return [TokenRecord.model_validate(dict(r)) for r in rows]

    async def revoke(self, token_id: str) -> bool:
        """Revoke a token by its id; False when there is no live token with that id."""
        done = await self._pool.fetchval(
            "UPDATE api_tokens SET revoked_at = now() "
            "WHERE token_id = $1 AND revoked_at IS NULL RETURNING token_id",
            token_id,
        )
        return done is not None


class TokenCache:
    """Live tokens remembered for ``ttl`` seconds in one process, in front of a TokenStore.

    Bounded in time (a token revoked in PostgreSQL, by `uep token revoke` from any process, is
    refused here at most ``ttl`` seconds later; ``ttl`` 0 asks PostgreSQL every time) and in
    size (``max_entries``; the oldest go first). Only live tokens are remembered, by their
    SHA-256; a remembered entry is asked again once it is ``ttl`` old, which also keeps the last
    use recorded (once a minute, by :meth:`TokenStore.find`).
    """

    def __init__(
        self,
        store: TokenStore,
        ttl: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._live: dict[bytes, tuple[float, TokenRecord]] = {}

    async def find(self, token: str) -> TokenRecord | None:
        """The live token a caller presents (from memory while fresh); None if unknown or
        revoked."""
        if not plausible(token):
            return None
        hashed = token_hash(token)
        now = self.clock()
        remembered = self._live.get(hashed)
        if remembered is not None and now - remembered[0] < self.ttl:
            return remembered[1]
        record = await self.store.find_hash(hashed)
        if record is None:
            self._live.pop(hashed, None)
            return None
        if self.ttl > 0:
            self._remember(hashed, now, record)
        return record

    def _remember(self, hashed: bytes, now: float, record: TokenRecord) -> None:
        self._live.pop(hashed, None)
        if len(self._live) >= self.max_entries:
            self._live = {h: e for h, e in self._live.items() if now - e[0] < self.ttl}
            while len(self._live) >= self.max_entries:
                del self._live[next(iter(self._live))]
        self._live[hashed] = (now, record)

    def __len__(self) -> int:
        return len(self._live)
