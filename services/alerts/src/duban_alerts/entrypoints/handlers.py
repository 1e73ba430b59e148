"""The alerts service's edge: facts and ticks in (kit's unit of work: `AlertDesk.consumes`), operations by request."""

from __future__ import annotations

from typing import Any

from duban_contracts.rpc import AlertCommand, AlertsQuery, CasesQuery, CommandReply
from duban_kit.service import ServiceRuntime

from ..adapters.sender import delivery_counts
from ..usecases.desk import AlertDesk
from .cases import list_cases
from .operations import alert_view, run_command


def register(runtime: ServiceRuntime, desk: AlertDesk) -> None:
    runtime.consume(desk.units)

    @runtime.rpc("query")
    async def on_query(query: AlertsQuery) -> dict[str, Any]:
        alerts = await desk.alerts(query.state, query.rule, query.limit)
        return {"alerts": [alert_view(a) for a in alerts], "deliveries": await delivery_counts(runtime.db)}

    @runtime.rpc("cases")
    async def on_cases(query: CasesQuery) -> dict[str, Any]:
        return await list_cases(desk, query)

    @runtime.rpc("command")
    async def on_command(command: AlertCommand) -> CommandReply:
        return await run_command(desk, command)
