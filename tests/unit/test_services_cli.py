"""The commands the containers run parse, and `uep migrate` refuses to guess a database."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from uep.cli import build_parser
from uep.cli import services as services_cli


@pytest.mark.parametrize(
    "args",
    [
        ["migrate"],
        ["worker"],
        ["projector"],
        ["archiver"],
        ["probe", "worker"],
        ["probe", "projector"],
        ["probe", "api"],
        ["probe", "archiver"],
    ],
)
def test_the_container_commands_parse(args: list[str]) -> None:
    parsed = build_parser().parse_args(args)
    assert callable(parsed.func)


@pytest.mark.parametrize("command", ["migrate", "worker", "projector", "archiver", "probe"])
def test_help_of_each_container_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: uep {command}" in capsys.readouterr().out


def test_probe_takes_only_services_it_knows() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["probe", "temporal"])
    assert build_parser().parse_args(["probe", "projector"]).service == "projector"
    assert build_parser().parse_args(["probe", "api"]).service == "api"


def test_migrate_without_a_database_says_so_and_starts_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("UEP_DATABASE_URL", raising=False)
    monkeypatch.setenv("UEP_STATE_DIR", str(tmp_path))  # no `uep dev` stack file there
    code = services_cli._migrate(argparse.Namespace())
    assert code == services_cli.EXIT_USAGE
    assert "UEP_DATABASE_URL is not set" in capsys.readouterr().err
    assert not (tmp_path / "postgres").exists()
