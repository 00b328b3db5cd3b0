"""Merkle checkpoint benchmark (a script, not a test): how long a signed tree head takes.

    .venv/bin/python bench/merkle.py                      # 100,000 and 1,000,000 leaves
    .venv/bin/python bench/merkle.py --sizes 10000 100000 --rounds 5

Each leaf stands for one event: 32 random bytes, the size of an event's chain hash. A tree head
is leaf hashing + the root + one Ed25519 signature; "events/s" divides the leaf count by that.
The streaming column is the same root through CompactRange, one leaf at a time, as a
checkpointer following the log would compute it. Proof columns use a MerkleTree built once
(its build time is shown) and are per proof. Every cell is the median of ``--rounds`` runs, since
shared machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventstore.merkle import (
    CompactRange,
    MerkleTree,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from eventstore.signing import generate_key, sign_tree_head, verify_tree_head

T = TypeVar("T")

HEADER = [
    "leaves",
    "tree head",
    "events/s",
    "leaf hashes",
    "root",
    "sign",
    "streamed",
    "MerkleTree",
    "incl. proof",
    "cons. proof",
    "verify incl/cons",
]
WIDTHS = [max(len(h), 9) + 1 for h in HEADER]


def row(cells: list[str]) -> str:
    """One table line, cells right-aligned under the header."""
    return " ".join(cell.rjust(width) for cell, width in zip(cells, WIDTHS, strict=True))


def timed(rounds: int, work: Callable[[], T]) -> tuple[float, T]:
    """Median wall time of ``rounds`` runs of ``work`` and its last result."""
    times: list[float] = []
    result: T | None = None
    for _ in range(rounds):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def streamed_root(hashes: list[bytes]) -> bytes:
    """The root through the streaming accumulator."""
    stream = CompactRange()
    stream.extend(hashes)
    return stream.root()


def bench(size: int, rounds: int) -> None:
    """Measure and print one row of figures for ``size`` leaves."""
    leaves = [os.urandom(32) for _ in range(size)]
    key = generate_key()
    now = datetime.now(UTC)

    t_leaves, hashes = timed(rounds, lambda: [leaf_hash(leaf) for leaf in leaves])
    t_root, head_root = timed(rounds, lambda: root(hashes))
    t_sign, head = timed(rounds, lambda: sign_tree_head(size, head_root, key, timestamp=now))
    t_stream, streamed = timed(rounds, lambda: streamed_root(hashes))
    t_tree, tree = timed(rounds, lambda: MerkleTree(hashes))
    assert streamed == head_root == tree.root() and verify_tree_head(head, key.public_key())

    index, old = size // 3, size // 2 + 1
    t_incl, proof = timed(rounds, lambda: tree.inclusion_proof(index))
    t_cons, cproof = timed(rounds, lambda: tree.consistency_proof(old))
    t_vincl, ok_i = timed(
        rounds, lambda: verify_inclusion(index, size, hashes[index], proof, head_root)
    )
    old_root = tree.root(old)
    t_vcons, ok_c = timed(
        rounds, lambda: verify_consistency(old, size, old_root, head_root, cproof)
    )
    assert ok_i and ok_c

    t_head = t_leaves + t_root + t_sign
    cells = [
        f"{size:,}",
        f"{t_head:.3f} s",
        f"{size / t_head:,.0f}",
        f"{t_leaves:.3f} s",
        f"{t_root:.3f} s",
        f"{t_sign * 1e3:.2f} ms",
        f"{t_stream:.3f} s",
        f"{t_tree:.3f} s",
        f"{t_incl * 1e6:.0f} us",
        f"{t_cons * 1e6:.0f} us",
        f"{t_vincl * 1e6:.0f} / {t_vcons * 1e6:.0f} us",
    ]
    print(row(cells))


def main() -> None:
    """Parse the arguments and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"median of {args.rounds} rounds; tree head = leaf hashes + root + Ed25519 signature\n")
    print(row(HEADER))
    print(row(["-" * w for w in WIDTHS]))
    for size in args.sizes:
        bench(size, args.rounds)


if __name__ == "__main__":
    main()
