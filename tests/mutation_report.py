"""Per-module summary of a mutmut run (``make mutation``), read from ``mutants/**/*.py.meta``.

mutmut records one exit code per mutant; this prints, for each mutated module, how many mutants
were killed, survived, had no test reaching them, or were not checked, and the overall score
(killed / mutants checked). ``--survivors`` lists the surviving mutants' names as well.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

KILLED = {1, 3, 37}
"""Exit codes mutmut counts as killed (a test failed, pytest errored, the type check caught it)."""
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {36, 24, -24, 152, 255}


def _verdict(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in TIMEOUT:
        return "timeout"
    return "other"


def _module(meta: Path, root: Path) -> str:
    relative = meta.relative_to(root).with_suffix("").with_suffix("")
    return ".".join(relative.parts)


def summarise(root: Path, prefixes: list[str]) -> tuple[dict[str, Counter[str]], list[str]]:
    """Verdict counts per module and the names of surviving mutants, for modules under prefixes."""
    by_module: dict[str, Counter[str]] = {}
    survivors: list[str] = []
    for meta in sorted(root.rglob("*.py.meta")):
        module = _module(meta, root)
        if prefixes and not any(module.startswith(p) for p in prefixes):
            continue
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        counts: Counter[str] = Counter(_verdict(code) for code in codes.values())
        if counts:
            by_module[module] = counts
        survivors += sorted(k for k, c in codes.items() if _verdict(c) in {"survived", "no tests"})
    return by_module, survivors


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 1 when there are no results to read."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("prefixes", nargs="*", help="module prefixes to include (default: all)")
    parser.add_argument("--root", type=Path, default=Path("mutants"))
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    args = parser.parse_args(argv)
    by_module, survivors = summarise(args.root, args.prefixes)
    if not by_module:
        print(f"no mutmut results under {args.root}; run `make mutation` first", file=sys.stderr)
        return 1
    columns = ["killed", "survived", "no tests", "timeout", "other", "not checked"]
    print(f"{'module':40} {'mutants':>7} " + " ".join(f"{c:>11}" for c in columns) + "   score")
    total: Counter[str] = Counter()
    for module, counts in sorted(by_module.items()):
        total.update(counts)
        print(_row(module, counts, columns))
    print(_row("TOTAL", total, columns))
    if args.survivors:
        print("\nsurviving (or unreached) mutants:")
        for name in survivors:
            print(f"  {name}")
    return 0


def _row(name: str, counts: Counter[str], columns: list[str]) -> str:
    checked = sum(counts[c] for c in columns if c != "not checked")
    score = f"{100 * counts['killed'] / checked:6.1f}%" if checked else "     -"
    cells = " ".join(f"{counts[c]:>11}" for c in columns)
    return f"{name:40} {sum(counts.values()):>7} {cells}  {score}"


if __name__ == "__main__":
    sys.exit(main())
