"""The import-linter contracts in pyproject.toml hold, and a broken arrow breaks them.

`make test` runs `lint-imports` on the tree itself; this test runs it on a copy of the tree, once
as it is (kept) and once with one arrow pointing the wrong way (broken), so the contracts are
shown to catch what they are there to catch.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "eventstore", "activities", "projections", "workflows", "uep")
LINT = Path(sys.executable).parent / "lint-imports"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and the contracts (no caches, no tests)."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the copy, importing the copy (not the installed tree)."""
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": str(LINT.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def add_import(module: Path, line: str) -> None:
    """Add an import after the module's ``from __future__`` line."""
    text = module.read_text()
    module.write_text(
        text.replace(
            "from __future__ import annotations\n",
            f"from __future__ import annotations\n{line}\n",
            1,
        )
    )


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/roles.py", "import eventstore.models", "Layers"),
        ("eventstore/memory.py", "import projections.projector", "Layers"),
        ("domain/calendar.py", "import asyncpg", "The domain is pure"),
        ("workflows/io.py", "import eventstore.postgres", "Workflow code reaches no database"),
    ],
)
def test_an_arrow_the_wrong_way_breaks_a_contract(
    tree: Path, module: str, line: str, contract: str
) -> None:
    add_import(tree / module, line)

    result = lint(tree)

    assert result.returncode == 1, result.stdout + result.stderr
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout
