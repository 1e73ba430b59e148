"""The tasks service's edge: the events it consumes (kit's unit of work, table in `Tracker.consumes`), its queries."""

from __future__ import annotations

from duban_contracts.rpc import Failure, StatusQuery, StatusReply
from duban_kit.service import ServiceRuntime

from ..usecases.tracking import Tracker
from .views import UnknownRef, as_of_instant, reply


def register(runtime: ServiceRuntime, tracker: Tracker) -> None:
    runtime.consume(tracker.units)

    @runtime.rpc("query")
    async def on_query(query: StatusQuery) -> StatusReply | Failure:
        try:
            judgement = await tracker.judge(as_of_instant(query.as_of))
            return reply(tracker.plan, judgement, query)
        except UnknownRef as error:
            return Failure(error="unknown_ref", message=str(error))
