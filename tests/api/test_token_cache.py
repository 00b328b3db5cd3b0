"""The API's memory of live tokens (eventstore.tokens.TokenCache) on a real PostgreSQL: one
lookup per token per cache time, never a memory of an unknown or revoked token, revocation
honoured once the memory is older than the cache time, and a bounded size."""

from __future__ import annotations

from dataclasses import dataclass

from eventstore.tokens import TokenCache, TokenRecord, TokenStore
from tests.api.conftest import ApiStack


class CountingStore(TokenStore):
    """The real store, counting the lookups that reach PostgreSQL."""

    lookups = 0

    async def find_hash(self, hashed: bytes) -> TokenRecord | None:
        self.lookups += 1
        return await super().find_hash(hashed)


@dataclass
class Clock:
    """A clock the test moves (no sleeping)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def cache(api: ApiStack, ttl: float = 10.0, max_entries: int = 100) -> tuple[TokenCache, Clock]:
    clock = Clock()
    return TokenCache(CountingStore(api.pool), ttl, max_entries, clock), clock


def lookups(tokens: TokenCache) -> int:
    assert isinstance(tokens.store, CountingStore)
    return tokens.store.lookups


async def revoke(api: ApiStack, token: str) -> None:
    await TokenStore(api.pool).revoke(token.split("_")[1])


async def test_a_live_token_is_looked_up_once_per_cache_time(api: ApiStack) -> None:
    tokens, clock = cache(api)
    token = await api.token("dcc", "dcc")
    for _ in range(5):
        record = await tokens.find(token)
        assert record is not None and record.kind == "dcc"
    assert lookups(tokens) == 1
    clock.now += 9.9
    assert await tokens.find(token) is not None
    assert lookups(tokens) == 1
    clock.now += 0.1
    assert await tokens.find(token) is not None
    assert lookups(tokens) == 2


async def test_revocation_is_honoured_once_the_cache_time_is_over(api: ApiStack) -> None:
    tokens, clock = cache(api)
    token = await api.token("secas", "secas")
    assert await tokens.find(token) is not None
    await revoke(api, token)
    assert await tokens.find(token) is not None  # remembered, for at most the cache time
    clock.now += tokens.ttl
    assert await tokens.find(token) is None
    assert len(tokens) == 0
    clock.now += 0.001
    assert await tokens.find(token) is None
    assert lookups(tokens) == 3  # a refused token is asked about every time


async def test_an_unknown_token_is_never_remembered_and_a_new_one_works_at_once(
    api: ApiStack,
) -> None:
    tokens, _ = cache(api)
    assert await tokens.find("uep_nothing_here") is None
    assert await tokens.find("not-a-token") is None  # not even looked up
    assert lookups(tokens) == 1
    assert len(tokens) == 0
    token = await api.token("panel", "panel")
    assert await tokens.find(token) is not None


async def test_no_cache_time_asks_postgresql_every_time(api: ApiStack) -> None:
    tokens, _ = cache(api, ttl=0)
    token = await api.token("dcc", "dcc")
    for _ in range(3):
        assert await tokens.find(token) is not None
    assert lookups(tokens) == 3
    assert len(tokens) == 0


async def test_the_memory_is_bounded(api: ApiStack) -> None:
    tokens, clock = cache(api, max_entries=3)
    made = [await api.token("dcc", "dcc") for _ in range(5)]
    for token in made:
        clock.now += 1
        assert await tokens.find(token) is not None
    assert len(tokens) == 3
    before = lookups(tokens)
    assert await tokens.find(made[-1]) is not None  # the newest are kept
    assert await tokens.find(made[0]) is not None  # the oldest went first: asked again
    assert lookups(tokens) == before + 1
