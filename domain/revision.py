"""The engine's reading of the rules, recorded on every case when it opens.

The rules themselves are versioned by the SEC (:mod:`domain.assurance`, ``rules_version``). This
is different: how the engine reads them. When a reading is corrected, the cases already running
keep the reading their recorded decisions were made under - replaying their history must decide
the same events - and new cases get the corrected one. ``CaseStarted.revision`` records which
(events written before revisions existed read as 1); the workflow chooses it behind
``workflow.patched`` so that an old history replays as it ran.

Revision 2 (December 2026):

- a new case runs under the rules version in force on its start date (``rules_in_force``);
- privacy 'Approved, subject to' completes the step under guidance-2018 too;
- a dispute is raised only against a recorded adverse outcome, and a determination in the
  Party's favour applies the outcome it determines;
- the DCC's clock stops while a UEPT dispute is with the Panel or Ofgem, and the paused Working
  Days extend its open deadline (never a refused answer counted against the DCC);
- the DCC's 5 Working-Day review counts from its receipt of the report (the day the Party
  submitted it), per the rules version's review anchor;
- mandates: not for Export Supplier; the later Electricity DNO date; from a licence granted
  after the category's date; from the Controlled Market Entry exit date;
- completion notices go through a durable outbox and are recorded queued, then delivered;
- SREPT, assessments and a User ID acceptance may carry a true date before the case started
  (not before accession), recorded as reported after the fact;
- the 12 weeks' notice refuses only the initial Full Privacy Assessment booking (a warning
  elsewhere); notice given on a non-Working Day counts from the next Working Day; a calendar
  correction moves the UEPT earliest start too.

Revision 3 (December 2026): the Party record (:mod:`domain.party`).

- Credit Support and the security assessment belong to the Party: the case takes its credit and
  security positions from the Party record (``PartyPositionRecorded``) and refuses the case-level
  credit and security messages, naming the record's message instead;
- credit is re-checked on the day the case would complete (a Bank Guarantee needs a month to
  run on that day);
- a role may hold several accepted User IDs (the first meets H1.10(a)); each proposed id must be
  an individual (not group) EUI-64 inside a range SECAS allocated to the Party;
- disputes about credit or security are refused on the case (the record holds those facts).
"""

from __future__ import annotations

PARTY_RECORD = 3
"""The first revision whose cases take credit and security from the Party record."""

CURRENT = 3
"""The reading a case opened today gets."""

LEGACY = 1
"""The reading of cases opened before revisions were recorded."""
