"""Replaying a simulated year into a running stack, on an accelerated event-time clock.

Day by day, in the bureau's time zone: the day's deliveries are published the way integrations
send them (JSON with `Nats-Msg-Id`; spreadsheets read with ingest's `read_table` and published row
by row, as `duban submit` does), the pipeline is let go quiet, and the clock ticks at the day's last
microsecond — so that "as of a date" means the same in the reports and in `duban plan status
--as-of`. On days a report falls due (Mondays, the first of a month) the clock also ticks at 08:00,
before the deliveries sent after it, and the replay waits for the reports service to read the
facts of what fell due: reports are built from the facts known when they are read, so reading them
before the next day's facts arrive is what makes the same seed give the same reports, byte for
byte. The year ends with ticks at the plan year's end instant and at 08:00 the next morning, which
bring out the December, fourth-quarter and annual reports.

Every wait is for the pipeline's own state, never for a length of time: a day's deliveries are
published pipelined (acknowledged together), "quiet" is one consistent look at the consumers and
outboxes (`duban.bus.wait_quiet` with no settle interval), and rendering — a PDF takes seconds —
goes on in the background while the next days are replayed; only the end waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import PubAck

from duban.simulate import FileUpload, SimulatedYear, Submission
from duban.simulate.model import SHANGHAI, Delivery
from duban_contracts.inbound import SUBMISSION_ID_HEADER
from duban_contracts.rpc import AggregateQuery, AlertsQuery, StatusQuery
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_ingest.adapters.inbound import file_row, publish_submissions
from duban_ingest.domain.spreadsheets import FileRejection, read_table

from .bus import Activity, publish_tick, wait_quiet

#: When the reports service's cron entries fire (周报 Mondays, 月报/季报/年度总结 the 1st), local time.
REPORT_HOUR = 8
#: No settle interval: one consistent look at the consumers and outboxes proves the pipeline quiet
#: (`duban.bus.PipelineState.consistent`), and the replay waits for quiet some 800 times a year.
REPLAY_SETTLE_SECONDS = 0.0
#: How often the replay looks again while the pipeline is still busy (a tick's cascade takes tens of ms).
REPLAY_POLL_SECONDS = 0.005
_REPORTS_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class ReplayProgress:
    day: date
    days_done: int
    days_total: int
    sent: int  # messages published so far (JSON submissions and spreadsheet rows)
    rejected: int  # submission.rejected events seen so far


@dataclass
class ReplayOutcome:
    first_day: date
    last_day: date
    sent: int = 0
    files: int = 0
    files_refused: int = 0
    dropped_by_stream: int = 0  # the same Nats-Msg-Id within the stream's duplicate window
    rejected: int = 0
    ticks: int = 0
    reports: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    waited: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # seconds: deliveries, ticks, reports


ProgressCallback = Callable[[ReplayProgress], None]


def report_tick(day: date) -> datetime | None:
    """08:00 local on days a scheduled report falls due (Mondays, the first of a month), else None."""
    if day.weekday() == 0 or day.day == 1:
        return datetime.combine(day, clock_time(REPORT_HOUR), tzinfo=SHANGHAI)
    return None


def end_of_day(day: date) -> datetime:
    """The last microsecond of the local day: status "as of" a date is status at this instant."""
    return datetime.combine(day + timedelta(days=1), clock_time(0), tzinfo=SHANGHAI) - timedelta(microseconds=1)


def closing_ticks(last_day: date) -> tuple[datetime, datetime]:
    """The next midnight (the plan year's end instant when the replay runs to 31 December) and 08:00."""
    morning = datetime.combine(last_day + timedelta(days=1), clock_time(0), tzinfo=SHANGHAI)
    return morning, morning.replace(hour=REPORT_HOUR)


class _Rejections:
    """Counts submission.rejected events as they are published (a plain subscription on the subject)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def on_message(self, msg: Msg) -> None:
        event_id = (msg.headers or {}).get("Nats-Msg-Id") or hashlib.sha256(msg.data).hexdigest()
        self.ids.add(event_id)

    @property
    def count(self) -> int:
        return len(self.ids)


@contextlib.asynccontextmanager
async def _counting_rejections(nc: Client, subjects: Subjects) -> AsyncIterator[_Rejections]:
    rejections = _Rejections()
    subscription = await nc.subscribe(subjects.event("submission.rejected"), cb=rejections.on_message)
    try:
        yield rejections
    finally:
        await subscription.unsubscribe()


async def replay(
    nc: Client,
    subjects: Subjects,
    topology: Topology,
    year: SimulatedYear,
    *,
    last_day: date | None = None,
    progress: ProgressCallback | None = None,
    settle: float = REPLAY_SETTLE_SECONDS,
    poll: float = REPLAY_POLL_SECONDS,
    quiet_timeout: float = 300.0,
) -> ReplayOutcome:
    """Feed `year` to the stack behind `nc`, day by day from 1 January to `last_day` (default: 31 December)."""
    started = time.monotonic()
    first = date(year.year, 1, 1)
    last = last_day or date(year.year, 12, 31)
    outcome = ReplayOutcome(first, last)
    by_day = dict(year.days())
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    async with _counting_rejections(nc, subjects) as rejections, Activity.watching(nc, topology) as activity:
        driver = _Driver(
            nc, subjects, topology, outcome, settle=settle, poll=poll, quiet_timeout=quiet_timeout, activity=activity
        )
        for done, day in enumerate(days, start=1):
            await driver.day(by_day.get(day, ()), report_tick(day), end_of_day(day))
            outcome.rejected = rejections.count
            if progress is not None:
                progress(ReplayProgress(day, done, len(days), outcome.sent, rejections.count))
        for at in closing_ticks(last):
            await driver.tick(at)
        outcome.reports = await driver.reports_done()
        await driver.quiet(background=True)
        outcome.rejected = rejections.count
    outcome.seconds = time.monotonic() - started
    return outcome


class _Driver:
    def __init__(
        self,
        nc: Client,
        subjects: Subjects,
        topology: Topology,
        outcome: ReplayOutcome,
        *,
        settle: float,
        poll: float,
        quiet_timeout: float,
        activity: Activity | None = None,
    ) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.subjects = subjects
        self.topology = topology
        self.outcome = outcome
        self.settle = settle
        self.poll = poll
        self.activity = activity
        self.quiet_timeout = quiet_timeout

    async def day(self, deliveries: Sequence[Delivery], morning: datetime | None, evening: datetime) -> None:
        if morning is not None:
            await self.send([d for d in deliveries if d.at < morning])
            await self.tick(morning)
            await self.reports_done(rendered=False)
            deliveries = [d for d in deliveries if d.at >= morning]
        await self.send(deliveries)
        await self.tick(evening)

    async def send(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        started = time.monotonic()
        acks: list[asyncio.Future[PubAck]] = []
        for delivery in deliveries:  # one connection: the stream keeps the order they are sent in
            if isinstance(delivery, Submission):
                acks.append(await self._publish(delivery))
            else:
                await self._upload(delivery)
        self.outcome.dropped_by_stream += sum(bool(ack.duplicate) for ack in await asyncio.gather(*acks))
        await self.quiet()
        self.outcome.waited["deliveries"] += time.monotonic() - started

    async def _publish(self, submission: Submission) -> asyncio.Future[PubAck]:
        """Sent at once; the acknowledgement is awaited with the rest of the day's."""
        ack = await self.js.publish_async(
            self.subjects.inbound_submission, submission.body, headers={SUBMISSION_ID_HEADER: submission.submission_id}
        )
        self.outcome.sent += 1
        return ack

    async def _upload(self, upload: FileUpload) -> None:
        """As `duban submit FILE --source … --kind …` would: one submission per row, id `<sha256>:<row>`."""
        table = read_table(upload.data, upload.name, default_kind=upload.kind, default_source=upload.source)
        self.outcome.files += 1
        if isinstance(table, FileRejection):
            self.outcome.files_refused += 1
            return
        file_id = hashlib.sha256(upload.data).hexdigest()
        rows = [file_row(file_id, row.number, row.values, upload.source, upload.kind) for row in table.rows]
        summary = await publish_submissions(self.js, self.subjects, rows)
        self.outcome.sent += len(rows)
        self.outcome.dropped_by_stream += summary.duplicates

    async def tick(self, at: datetime) -> None:
        started = time.monotonic()
        await publish_tick(self.nc, self.subjects, at, mode="replay")
        self.outcome.ticks += 1
        await self.quiet()
        self.outcome.waited["ticks"] += time.monotonic() - started

    async def quiet(self, *, background: bool = False) -> None:
        """Until nothing is on its way; rendering may go on unless `background` (the year's end)."""
        await wait_quiet(
            self.nc,
            self.topology,
            timeout=self.quiet_timeout,
            settle=self.settle,
            poll=self.poll,
            background=background,
            activity=self.activity,
        )

    async def reports_done(self, timeout: float = 900.0, *, rendered: bool = True) -> list[dict[str, Any]]:
        """Wait until the reports service has rendered every report that has fallen due.

        With `rendered=False`, only until it has read their facts: the figures are fixed then, and
        rendering (a PDF takes seconds) may go on while the next day is replayed.
        """
        waiting_for = ("pending", "running", "rendering") if rendered else ("pending", "running")
        started = time.monotonic()
        deadline = started + timeout
        request = AggregateQuery(name="reports").model_dump_json().encode()
        while True:
            reply = await self.nc.request(self.subjects.rpc("reports", "query"), request, timeout=30)
            jobs: list[dict[str, Any]] = json.loads(reply.data)["reports"]
            if all(job["status"] not in waiting_for for job in jobs):
                self.outcome.waited["reports"] += time.monotonic() - started
                return jobs
            if time.monotonic() > deadline:
                waiting = Counter(job["status"] for job in jobs)
                raise TimeoutError(f"reports still being rendered after {timeout}s: {dict(waiting)}")
            await asyncio.sleep(_REPORTS_POLL_SECONDS)


# --- what the year came to ------------------------------------------------------------------------


@dataclass(frozen=True)
class YearSummary:
    as_of: date
    targets_by_status: dict[str, int]  # as of the end of `as_of`, the instant the annual report describes
    alerts_by_rule: dict[str, int]  # every alert raised, open or closed
    open_alerts: int
    rejected_by_code: dict[str, int]
    plan_status: dict[str, Any]  # the tasks service's full reply


async def year_summary(nc: Client, subjects: Subjects, as_of: date, *, timeout: float = 30.0) -> YearSummary:
    """Ask the services what the year came to: targets by status, alerts by rule, rejections by code."""

    async def ask(service: str, body: bytes) -> Any:
        reply = await nc.request(subjects.rpc(service, "query"), body, timeout=timeout)
        return json.loads(reply.data)

    status = await ask("tasks", StatusQuery(as_of=as_of).model_dump_json().encode())
    alerts = (await ask("alerts", AlertsQuery(state="all", limit=10_000).model_dump_json().encode()))["alerts"]
    rejected = (await ask("ingest", json.dumps({"what": "rejected", "limit": 10_000}).encode()))["rejected"]
    return YearSummary(
        as_of=as_of,
        targets_by_status=dict(status["view"]["counts"]),
        alerts_by_rule=dict(Counter(alert["rule"] for alert in alerts)),
        open_alerts=sum(1 for alert in alerts if alert["state"] != "resolved"),
        rejected_by_code=dict(Counter(item["code"] for item in rejected)),
        plan_status=status,
    )
