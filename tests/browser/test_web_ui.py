"""The operator's path through the Temporal Web UI, in a real Chromium.

Start a case with the Start Workflow form and the input documented in docs/operator-guide.md,
find it with a search-attribute filter, send valid updates and see the stage change, send an
invalid one and see the validator's message. Screenshots go to docs/screenshots/ for the guide.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, async_playwright, expect
from temporalio.api.history.v1 import HistoryEvent

from tests.browser.conftest import CHROMIUM_ARGS, UiStack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

GUIDE_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The guide's screenshots are refreshed on request; a normal run keeps its own under .uep/ so
# that `make test` leaves the working tree clean.
SHOTS = (
    GUIDE_SHOTS
    if os.environ.get("UEP_UPDATE_SCREENSHOTS")
    else Path(__file__).resolve().parents[2] / ".uep" / "screenshots"
)
NAMESPACE = "default"
CASE_ID = "uep-acme-gas_supplier"
RECORD_ID = "uep-party-acme"
START_INPUT = {
    "party": {
        "party_id": "acme",
        "party_name": "Acme Energy",
        "category": "small_supplier",
        "licences": ["gas_supply"],
    },
    "role": "gas_supplier",
}
USER_ID = "90-B3-D5-1F-30-01-00-00"
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
async def page(chromium: Path) -> AsyncIterator[Page]:
    """A fresh browser page, 1400 px wide."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            await browser.close()


async def shot(page: Page, name: str, full_page: bool = False) -> None:
    """Save a screenshot for the operator guide."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / name), full_page=full_page)


async def type_json(page: Page, editor: Locator, payload: object) -> None:
    """Replace the content of a CodeMirror editor (inserting text avoids auto-closed brackets)."""
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(json.dumps(payload))


async def send_update(
    page: Page, ui: UiStack, name: str, payload: object, workflow_id: str = CASE_ID
) -> Locator:
    """Open a workflow's "Send an Update" dialog, fill it and submit; return the dialog."""
    await page.goto(f"{ui.ui_url}/namespaces/{NAMESPACE}/workflows/{workflow_id}")
    await page.locator("button:visible", has_text="More Actions").first.click()
    await page.locator("[data-testid=update-button]:visible").click()
    dialog = page.locator("dialog[open]")
    await dialog.get_by_test_id("update-select-button").click()
    await dialog.get_by_role("option").filter(has_text=name).first.click()
    editor = dialog.locator(".cm-content")
    await type_json(page, editor, payload)
    # Blur the editor first: it reformats the JSON and the dialog grows under the pointer.
    await dialog.get_by_text("Single JSON payload supported.").click()
    await dialog.get_by_test_id("confirm-modal-button").click()
    return dialog


async def follow_history(
    ui: UiStack, matches: Callable[[HistoryEvent], bool], within: float = 20.0
) -> None:
    """Follow the case's history on the server's long poll until an event matches."""
    handle = ui.client.get_workflow_handle(CASE_ID)

    async def follow() -> None:
        async for event in handle.fetch_history_events(wait_new_event=True):
            if matches(event):
                return

    await asyncio.wait_for(follow(), within)


UPSERTED = "upsert_workflow_search_attributes_event_attributes"


def nth_update_completed(n: int) -> Callable[[HistoryEvent], bool]:
    """Matches the n-th completed update of the history (its effects are in the state then)."""
    seen = 0

    def matches(event: HistoryEvent) -> bool:
        nonlocal seen
        seen += event.HasField("workflow_execution_update_completed_event_attributes")
        return seen >= n

    return matches


async def case_holds_range(ui: UiStack, attempts: int = 2_000) -> None:
    """Ask the case until it holds its Party record's User ID range (each query a round trip)."""
    handle = ui.client.get_workflow_handle(CASE_ID)
    for _ in range(attempts):
        terms = (await handle.query("state")).get("party_record") or {}
        if terms.get("user_id_ranges"):
            return
    raise AssertionError("the Party's User ID range never reached the case")


async def stage_of(ui: UiStack) -> str:
    """The case's stage, from the `state` query (the one the UI runs)."""
    state = await ui.client.get_workflow_handle(CASE_ID).query("state")
    return str(state.get("stage"))


async def filter_list(page: Page, ui: UiStack, query: str) -> None:
    """Type a visibility query into the workflow list's manual filter and run it."""
    await page.goto(f"{ui.ui_url}/namespaces/{NAMESPACE}/workflows")
    await page.get_by_test_id("toggle-manual-query").click()
    box = page.get_by_test_id("workflow-manual-search-input")
    await box.fill(query)
    await box.press("Enter")


async def test_operator_runs_a_case_in_the_web_ui(ui_stack: UiStack, page: Page) -> None:
    """Start, find, update (accepted and refused) a case, as an operator does in the UI."""
    ui = ui_stack

    # Given the Start Workflow form, when the operator pastes the documented input
    await page.goto(f"{ui.ui_url}/namespaces/{NAMESPACE}/workflows/start-workflow")
    await page.get_by_test_id("workflowId").fill(CASE_ID)
    await page.get_by_test_id("taskQueue").fill("uep")
    await page.get_by_test_id("workflowType").fill("UserEntryProcess")
    await type_json(page, page.locator(".cm-content").first, START_INPUT)
    await page.get_by_role("heading", name="Start Workflow").click()  # editor blurs, reformats
    await page.get_by_role("button", name="More options").click()
    summary = page.locator(".cm-content").nth(1)  # after Data: Summary, then Details
    await summary.click()
    await page.keyboard.insert_text("Acme Energy - Gas Supplier")
    await page.get_by_role("heading", name="Start Workflow").click()
    await shot(page, "01-start-workflow.png", full_page=True)
    await page.get_by_test_id("start-workflow-button").click()
    # then the case runs, and its current details read like a case
    await expect(
        page.get_by_text("Workflow started successfully").filter(visible=True).first
    ).to_be_visible()
    handle = ui.client.get_workflow_handle(CASE_ID)
    # the case is open once it has published its stage (a patch marker upserts its own
    # TemporalChangeVersion attribute first)
    await follow_history(
        ui,
        lambda e: (
            "UepStage"
            in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        ),
    )
    assert await stage_of(ui) == "user_id"
    await page.goto(f"{ui.ui_url}/namespaces/{NAMESPACE}/workflows/{CASE_ID}")
    await page.get_by_test_id("user-metadata-tab").first.click()
    details = page.frame_locator("iframe#user-metadata-current-details")
    await expect(details.get_by_text("Waiting for:")).to_be_visible()
    await expect(details.get_by_text("Acme Energy - Gas Supplier")).to_be_visible()
    summary_frame = page.frame_locator("iframe#user-metadata-summary")
    await expect(summary_frame.get_by_text("Acme Energy - Gas Supplier")).to_be_visible()
    await shot(page, "02-case-details.png")

    # When the operator filters the list by a search attribute, then the case is found
    await filter_list(page, ui, 'UepStage = "user_id"')
    await expect(page.get_by_role("link", name=CASE_ID)).to_be_visible()
    await shot(page, "03-filter-by-stage.png")

    # When a bad payload is sent, then the validator's message shows and nothing changes
    dialog = await send_update(page, ui, "propose_user_id", {"user_id": "90-B3-D5-1F-30-01-00"})
    await expect(
        dialog.get_by_text("has 7 octets, an EUI-64 has 8").filter(visible=True).first
    ).to_be_visible()
    await shot(page, "04-update-refused.png")
    history = [e async for e in handle.fetch_history_events()]
    assert not any(
        e.HasField("workflow_execution_update_accepted_event_attributes") for e in history
    )

    # When SECAS allocates the Party its User ID range on the Party record (opened by the case)
    dialog = await send_update(
        page,
        ui,
        "allocate_user_id_range",
        {"first": "90b3d51f30010000", "last": "90b3d51f3001ffff"},
        workflow_id=RECORD_ID,
    )
    await expect(dialog).to_be_hidden()
    await case_holds_range(ui)
    # and the Party proposes a User ID in it and the DCC accepts it, then the stage moves on
    dialog = await send_update(page, ui, "propose_user_id", {"user_id": USER_ID})
    await expect(dialog).to_be_hidden()
    dialog = await send_update(
        page, ui, "accept_user_id", {"user_id": USER_ID, "message_id": "dcc-4711"}
    )
    await expect(dialog).to_be_hidden()
    await follow_history(ui, nth_update_completed(2))  # propose, then accept
    assert await stage_of(ui) == "uept_notice"
    await filter_list(page, ui, 'UepStage = "uept_notice"')
    await expect(page.get_by_role("link", name=CASE_ID)).to_be_visible()
    await shot(page, "05-stage-changed.png")

    # And the Queries tab answers `state` with the case as readable JSON
    await page.goto(f"{ui.ui_url}/namespaces/{NAMESPACE}/workflows/{CASE_ID}")
    await page.get_by_test_id("queries-tab").first.click()
    # the list starts with the engine's internal `party_facts` (the Party record asks it)
    await page.get_by_role("button", name="party_facts").click()
    await page.get_by_text("state", exact=True).filter(visible=True).first.click()
    await expect(page.get_by_role("button", name="state", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Run Query").click()
    await expect(
        page.get_by_text('"stage": "uept_notice"').filter(visible=True).first
    ).to_be_visible()
    await shot(page, "06-state-query.png")
