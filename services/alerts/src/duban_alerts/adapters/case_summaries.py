"""A case's summary (the alerts domain's reading of its clock) as the `case.summarised` event."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from duban_contracts.casework import CaseFile, CaseStep, CaseSummary
from duban_contracts.events import CaseSummarised, UnitRef, derived_event_id


def case_summarised(step: CaseStep, case: CaseFile, summary: CaseSummary, recorded_at: datetime) -> CaseSummarised:
    """The case once `step` is known: one event per action (its id derived from the action's), at the time of
    the case's latest action (an action that arrives late does not move the case back in time)."""
    return CaseSummarised(
        event_id=derived_event_id(step.event_id, "case.summarised"),
        occurred_at=max(known.at for known in case.steps),
        actions=len(case.steps),
        recorded_at=recorded_at,
        source="alerts",
        unit=UnitRef(
            id=case.unit_id, name=case.unit_name, kind="section" if case.unit_id.startswith("sec-") else "school"
        ),
        case_id=case.case_id,
        channel=case.channel,
        category=case.category,
        received_on=summary.received_on,
        accepted_on=summary.accepted_on,
        concluded_on=summary.concluded_on,
        due=summary.due,
        forwarded_on=summary.forwarded_on,
        rated_on=summary.rated_on,
        satisfaction=summary.satisfaction,
        resolved_on=summary.resolved_on,
    )


def _kind_of(unit_id: str) -> Literal["school", "section"]:
    """The registry's convention: sections' ids start `sec-` (the step carries the unit's id and name only)."""
    return "section" if unit_id.startswith("sec-") else "school"
