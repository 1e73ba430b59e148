"""The reports service's edge: the facts it keeps (kit's unit of work, table in `FactKeeper.consumes`), its queries."""

from __future__ import annotations

from typing import Any

from duban_contracts.rpc import AggregateQuery, CommandReply, Failure, ReportRequest
from duban_kit.service import ServiceRuntime

from ..usecases.aggregates import Aggregates
from ..usecases.facts import FactKeeper
from ..usecases.publishing import ReportDesk
from .timeutil import as_of_instant


def register(runtime: ServiceRuntime, facts: FactKeeper, aggregates: Aggregates, desk: ReportDesk) -> None:
    runtime.consume(facts.units)

    @runtime.rpc("query")
    async def on_query(query: AggregateQuery) -> dict[str, Any] | Failure:
        as_of = as_of_instant(query.as_of)
        if query.name == "completion":
            return await aggregates.completion(as_of)
        if query.name == "summary":
            return {**await aggregates.summary(as_of), "reports_pending": await desk.pending()}
        if query.name == "reports":
            return {"reports": await desk.jobs()}
        return Failure(error="not_implemented", message=f"aggregate {query.name!r} is not available yet")

    @runtime.rpc("generate")
    async def on_generate(request: ReportRequest) -> CommandReply:
        try:
            report_id = await desk.request(request.period, request.formats, request.deliver, await aggregates.now())
        except ValueError as error:
            return CommandReply(ok=False, message=str(error))
        return CommandReply(ok=True, message=f"report {report_id} queued", data={"report_id": report_id})
