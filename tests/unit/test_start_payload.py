"""`uep case start` builds the workflow input from flags, with the configured calendar region."""

from __future__ import annotations

import argparse

import pytest

from uep.cli.case import start_payload


def flags(**extra: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "file": None, "party_id": "acme", "party_name": "Acme Energy",
        "category": "small_supplier", "role": "gas_supplier", "licence": ["gas_supply"],
        "mop_or_mam": False, "non_domestic": False, "rules_version": None,
        "started_on": None, "actor": None,
    }  # fmt: skip
    return argparse.Namespace(**{**base, **extra})


def test_region_defaults_to_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UEP_CALENDAR_REGION", "scotland")
    payload = start_payload(flags())
    assert payload["calendar_region"] == "scotland"
    assert payload["party"]["party_id"] == "acme" and payload["role"] == "gas_supplier"


def test_region_default_is_england_and_wales(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UEP_CALENDAR_REGION", raising=False)
    assert start_payload(flags())["calendar_region"] == "england-and-wales"
