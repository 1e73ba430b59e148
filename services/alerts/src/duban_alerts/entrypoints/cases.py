"""`<ns>.v1.alerts.cases`: the cases with their state and due date, for `duban cases list` and the API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from duban_contracts.rpc import CasesQuery

from ..domain.casework import CaseRow
from ..usecases.desk import AlertDesk


def case_view(row: CaseRow) -> dict[str, Any]:
    return {
        "case_id": row.case_id,
        "channel": row.channel,
        "category": row.category,
        "unit_name": row.unit_name,
        "state": row.state,
        "open": row.is_open,
        "clock": row.clock,
        "due": row.due.isoformat() if row.due else None,
        "overdue": row.overdue,
        "stage": row.stage,
    }


async def list_cases(desk: AlertDesk, query: CasesQuery) -> dict[str, Any]:
    book, now = await desk.case_book()
    today = query.as_of or _local_day(now or datetime.now(UTC), desk)
    rows = book.case_ledger.rows(today, open_only=query.open_only)[: query.limit]
    return {"as_of": today.isoformat(), "cases": [case_view(row) for row in rows]}


def _local_day(moment: datetime, desk: AlertDesk) -> date:
    return moment.astimezone(desk.rules.zone).date()
