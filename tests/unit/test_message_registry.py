"""The message registries (domain.commands.MESSAGES, domain.party.commands.PARTY_MESSAGES) are
built at import by ``_m``; these tests call it when they run, so a broken entry builder is seen
(under mutation testing an import-time result is always the unmutated one)."""

from __future__ import annotations

from domain import commands as c
from domain.party import commands as pc


def test_a_case_message_takes_its_summary_from_the_first_line_of_the_commands_docstring() -> None:
    entry = c._m("propose_user_id", c.ProposeUserId, "Party", "user_id")
    assert entry == c.Message(
        name="propose_user_id",
        model=c.ProposeUserId,
        sender="Party",
        summary=(c.ProposeUserId.__doc__ or "").strip().splitlines()[0],
        area="user_id",
        signal=False,
    )
    assert entry.summary and "\n" not in entry.summary
    assert c._m("accept_user_id", c.AcceptUserId, "DCC", "user_id", signal=True).signal


def test_a_command_without_a_docstring_is_summarised_by_its_name() -> None:
    class Undocumented(c.Command):
        pass

    assert c._m("undocumented", Undocumented, "SECAS", "case").summary == "undocumented"
    assert pc._m("undocumented", Undocumented, "SECAS").summary == "undocumented"


def test_a_party_message_is_in_the_party_area() -> None:
    entry = pc._m("lodge_instrument", pc.LodgeInstrument, "Party")
    assert (entry.name, entry.model, entry.sender, entry.area, entry.signal) == (
        "lodge_instrument",
        pc.LodgeInstrument,
        "Party",
        "party",
        False,
    )
    assert entry.summary == (pc.LodgeInstrument.__doc__ or "").strip().splitlines()[0]
    assert pc._m("x", pc.LodgeInstrument, "DCC", signal=True).signal


def test_the_registries_hold_what_the_builder_makes() -> None:
    assert c.MESSAGES["propose_user_id"] == c._m(
        "propose_user_id", c.ProposeUserId, "Party", "user_id"
    )
    assert all(m.name == name for name, m in c.MESSAGES.items())
    assert all(m.area == "party" for m in pc.PARTY_MESSAGES.values())


def test_every_message_has_its_handlers_on_the_workflows() -> None:
    """A message in the registry with no handler is answered "unknown update" (seen once)."""
    from temporalio.workflow import _Definition

    from domain.commands import MESSAGES
    from domain.party.commands import PARTY_MESSAGES
    from workflows.party_record import PartyRecord
    from workflows.user_entry import UserEntryProcess

    for workflow_class, messages in ((UserEntryProcess, MESSAGES), (PartyRecord, PARTY_MESSAGES)):
        definition = _Definition.from_class(workflow_class)
        assert definition is not None
        assert set(messages) <= set(definition.updates), workflow_class.__name__
        signals = {name for name, m in messages.items() if m.signal}
        assert signals <= set(definition.signals), workflow_class.__name__
