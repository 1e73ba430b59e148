"""The NATS users of deploy/nats/accounts.conf may do what their role needs and nothing else.

Each test starts its own nats-server from deploy/nats/compose.conf (JetStream, `sync_interval:
always`, the generated accounts; random loopback ports, a private store), provisions the streams and
consumers as the `provisioner` user, and then acts as other users. A refusal is proved by the
server's "Permissions Violation" error reaching the client's error callback, and by its effect not
happening (checked as `admin`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.js.api import ConsumerConfig

from duban.isolated import free_port
from duban_contracts.events import ClockTicked, ProgressMode, ProgressRecorded, UnitRef, derived_event_id
from duban_contracts.subjects import Subjects
from duban_contracts.topology import Topology
from duban_kit.provision import provision
from duban_tasks.app import create_app
from duban_tasks.config import TasksSettings
from tests.support.bus import running

from .nats_auth import NatsNode, Session, password_of, secured_server, session
from .tools import DEPLOY

TOPOLOGY = Topology(Subjects("duban"))
EVENTS = TOPOLOGY.streams["events"].name
INBOUND = TOPOLOGY.streams["inbound"].name
DLQ = TOPOLOGY.streams["dlq"].name
CLOCK = DEPLOY / "docker" / "clock.py"
#: Integrations of deploy/integrations.yaml: a school's system (its own unit) and the district platform ("*").
SCHOOL_SYSTEM = "integration-bz-ez-campus"
PLATFORM = "integration-district-platform"
QUICK = 1.0  # seconds before a refused request gives up: the server drops it, nothing answers


@dataclass
class SecuredNats:
    node: NatsNode
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return self.node.url

    def password(self, user: str) -> str:
        return password_of(user, self.passwords)

    def login(self, user: str) -> contextlib.AbstractAsyncContextManager[Session]:
        # admin is unrestricted and keeps nats-py's default inbox prefix
        return session(self.url, user, self.password(user), own_inbox=user != "admin")


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[SecuredNats]:
    with secured_server(tmp_path) as (node, passwords):
        yield SecuredNats(node, passwords)


@pytest.fixture
async def nats_with_topology(secured: SecuredNats) -> SecuredNats:
    async with secured.login("provisioner") as provisioner:
        report = await provision(provisioner.nc, TOPOLOGY)
        await provisioner.no_violation()
    assert len(report.created) == len(TOPOLOGY.streams) + len(TOPOLOGY.consumers)
    return secured


class Seen(list[Msg]):
    """Messages a watcher received; `caught_up()` before asserting that one did NOT arrive."""

    def __init__(self, nc: Client) -> None:
        super().__init__()
        self.nc = nc
        self.subscription: Subscription | None = None

    async def caught_up(self) -> None:
        """Every message the server routed to the watcher before now is in the list.

        A flush's PONG comes after every message the server sent before it; then the subscription's
        queue is emptied into the list.
        """
        await self.nc.flush()
        while self.subscription is not None and self.subscription.pending_msgs:  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)

    async def at_least(self, count: int, within: float = 5.0) -> None:
        """Until `count` messages arrived, or `within` seconds passed (a permitted message may still be
        on its way through the server when the publisher's own round trip ends)."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self) < count and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def watching(secured: SecuredNats, subject: str) -> AsyncIterator[Seen]:
    """What reaches `subject`, seen by admin (core subscription)."""
    async with secured.login("admin") as admin:
        seen = Seen(admin.nc)

        async def collect(msg: Msg) -> None:
            seen.append(msg)

        seen.subscription = await admin.nc.subscribe(subject, cb=collect)
        await admin.nc.flush()
        yield seen


def progress_event(number: int) -> ProgressRecorded:
    at = datetime(2023, 6, 5, 2, 0, tzinfo=UTC)
    return ProgressRecorded(
        event_id=derived_event_id("ops-permissions", number),
        occurred_at=at,
        recorded_at=at,
        source="bz-ez",
        submission_id=f"sub-{number}",
        unit=UnitRef(id="bz-ez", name="巴中市第二中学"),
        target_id="t07_school_building_new",
        value=12000,
        measure_unit="平方米",
        mode=ProgressMode.INCREMENT,
    )


# --- the integration users ---------------------------------------------------------------------


async def test_integration_submission_is_stored_and_acknowledged_by_jetstream(
    nats_with_topology: SecuredNats,
) -> None:
    async with nats_with_topology.login(SCHOOL_SYSTEM) as integration:
        ack = await integration.nc.jetstream(timeout=5).publish(
            TOPOLOGY.subjects.integration_submission("bz-ez-campus"),
            json.dumps({"kind": "activity", "activity": "意识形态分析研判专题会", "date": "2023-03-28"}).encode(),
            headers={"Nats-Msg-Id": "school-system-42"},
        )
        await integration.no_violation()
    assert (ack.stream, ack.seq) == (INBOUND, 1)


async def test_integration_may_not_publish_canonical_events(nats_with_topology: SecuredNats) -> None:
    async with nats_with_topology.login(SCHOOL_SYSTEM) as integration:
        await integration.nc.publish("duban.v1.progress.recorded", progress_event(1).model_dump_json().encode())
        await integration.violation('publish to "duban.v1.progress.recorded"')
    async with nats_with_topology.login("admin") as admin:
        assert (await admin.nc.jetstream().stream_info(EVENTS)).state.messages == 0


async def test_integration_may_not_read_alerts(nats_with_topology: SecuredNats) -> None:
    received: list[Msg] = []

    async def collect(msg: Msg) -> None:
        received.append(msg)

    async with nats_with_topology.login(SCHOOL_SYSTEM) as integration:
        await integration.nc.subscribe("duban.v1.alert.>", cb=collect)
        await integration.violation('subscription to "duban.v1.alert.>"')
        async with nats_with_topology.login("svc-alerts") as alerts:
            # Acknowledged: stored, and routed to every subscriber there is before the ack was sent.
            await alerts.nc.jetstream().publish("duban.v1.alert.raised", b"{}", headers={"Nats-Msg-Id": "a1"})
        await integration.nc.flush()  # whatever was routed to the integration is in before the PONG
        await asyncio.sleep(0)
    assert received == []


async def test_integration_may_not_delete_a_stream(nats_with_topology: SecuredNats) -> None:
    async with nats_with_topology.login(SCHOOL_SYSTEM) as integration:
        with pytest.raises(nats.errors.TimeoutError):
            await integration.nc.jetstream(timeout=QUICK).delete_stream(EVENTS)
        await integration.violation(f'publish to "$JS.API.STREAM.DELETE.{EVENTS}"')
    async with nats_with_topology.login("admin") as admin:
        assert (await admin.nc.jetstream().stream_info(EVENTS)).config.name == EVENTS


# --- who may publish what ----------------------------------------------------------------------

PUBLISH_RIGHTS = [
    ("svc-ingest", "duban.v1.progress.recorded", True),
    ("svc-ingest", "duban.v1.submission.rejected", True),
    ("svc-ingest", "duban.in.submission", True),  # the HTTP upload endpoint: staff's uploads
    ("svc-ingest", "duban.in.submission.bz-ez-campus", True),  # … and an integration's, on its own subject
    ("svc-ingest", "duban.v1.task.status_changed", False),
    ("svc-tasks", "duban.v1.task.status_changed", True),
    ("svc-tasks", "duban.v1.alert.raised", False),
    ("svc-tasks", "duban.v1.progress.recorded", False),
    ("svc-tasks", "duban.dlq.tasks", True),
    ("svc-tasks", "duban.dlq.alerts", False),
    ("svc-alerts", "duban.v1.alert.resolved", True),
    ("svc-alerts", "duban.v1.clock.ticked", False),
    ("svc-reports", "duban.v1.report.generated", True),
    ("svc-reports", "duban.in.submission", False),
    ("runtime", "duban.v1.clock.ticked", True),
    ("runtime", "duban.v1.progress.recorded", False),
    ("operator", "duban.in.submission", False),
    ("operator", "duban.v1.alert.resolved", False),
    ("provisioner", "duban.v1.clock.ticked", False),
    (SCHOOL_SYSTEM, "duban.dlq.ingest", False),
    (SCHOOL_SYSTEM, "duban.in.submission.bz-ez-campus", True),
    (SCHOOL_SYSTEM, "duban.in.submission.zengkou-office", False),  # another integration's subject
    (SCHOOL_SYSTEM, "duban.in.submission", False),  # the shared subject is for "*" integrations
    (SCHOOL_SYSTEM, "duban.in.other", False),
    ("integration-zengkou-office", "duban.in.submission.bz-ez-campus", False),
    (PLATFORM, "duban.in.submission.district-platform", True),
    (PLATFORM, "duban.in.submission", True),
    (PLATFORM, "duban.in.submission.bz-ez-campus", False),
]


@pytest.mark.parametrize(("user", "subject", "allowed"), PUBLISH_RIGHTS)
async def test_users_publish_only_their_own_subjects(
    nats_with_topology: SecuredNats, user: str, subject: str, allowed: bool
) -> None:
    async with watching(nats_with_topology, subject) as seen, nats_with_topology.login(user) as client:
        await client.nc.publish(subject, b"{}")
        if allowed:
            await client.no_violation()
            await seen.at_least(1)
        else:
            await client.violation(f'publish to "{subject}"')  # the server has refused it: nothing to route
        await seen.caught_up()
    assert len(seen) == (1 if allowed else 0)


async def test_tasks_service_publishes_status_changes_as_the_outbox_relay_does(
    nats_with_topology: SecuredNats,
) -> None:
    async with nats_with_topology.login("svc-tasks") as tasks:
        future = await tasks.nc.jetstream().publish_async(
            "duban.v1.task.status_changed", b"{}", headers={"Nats-Msg-Id": "status-1"}
        )
        ack = await asyncio.wait_for(future, timeout=5)
        await tasks.no_violation()
    assert ack.stream == EVENTS


# --- durable consumers ---------------------------------------------------------------------------


async def test_tasks_service_fetches_and_acknowledges_from_its_own_durable_consumer(
    nats_with_topology: SecuredNats,
) -> None:
    event = progress_event(2)
    async with nats_with_topology.login("svc-ingest") as ingest:
        await ingest.nc.jetstream().publish(
            "duban.v1.progress.recorded", event.model_dump_json().encode(), headers={"Nats-Msg-Id": event.event_id}
        )
    async with nats_with_topology.login("svc-tasks") as tasks:
        subscription = await tasks.nc.jetstream().pull_subscribe(
            "duban.v1.progress.recorded", durable="tasks-progress-recorded", stream=EVENTS
        )
        [message] = await subscription.fetch(1, timeout=5)
        await message.in_progress()
        await message.ack_sync(timeout=5)
        await tasks.no_violation()
    async with nats_with_topology.login("operator") as operator:
        info = await operator.nc.jetstream().consumer_info(EVENTS, "tasks-progress-recorded")
    assert ProgressRecorded.model_validate_json(message.data).event_id == event.event_id
    assert (info.num_pending, info.num_ack_pending, info.ack_floor.stream_seq) == (0, 0, 1)


async def test_tasks_service_may_not_fetch_from_the_alerts_service_consumer(nats_with_topology: SecuredNats) -> None:
    durable = "alerts-incident-reported"
    async with nats_with_topology.login("svc-ingest") as ingest:
        await ingest.nc.jetstream().publish("duban.v1.incident.reported", b"{}", headers={"Nats-Msg-Id": "i1"})
    async with nats_with_topology.login("svc-tasks") as tasks:
        with pytest.raises(nats.errors.TimeoutError):
            await tasks.nc.jetstream(timeout=QUICK).pull_subscribe(
                "duban.v1.incident.reported", durable=durable, stream=EVENTS
            )
        await tasks.violation(f'publish to "$JS.API.CONSUMER.INFO.{EVENTS}.{durable}"')
        # Skipping the consumer lookup does not help: the pull request itself is refused.
        await tasks.nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS}.{durable}", b'{"batch": 1}', reply=tasks.nc.new_inbox()
        )
        await tasks.violation(f'publish to "$JS.API.CONSUMER.MSG.NEXT.{EVENTS}.{durable}"')
    async with nats_with_topology.login("admin") as admin:
        info = await admin.nc.jetstream().consumer_info(EVENTS, durable)
    assert (info.num_pending, info.delivered.stream_seq) == (1, 0)


async def test_services_may_not_create_or_delete_consumers(nats_with_topology: SecuredNats) -> None:
    async with nats_with_topology.login("svc-tasks") as tasks:
        js = tasks.nc.jetstream(timeout=QUICK)
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_consumer(
                EVENTS, ConsumerConfig(durable_name="tasks-peek", name="tasks-peek", filter_subject="duban.v1.alert.>")
            )
        await tasks.violation(f"$JS.API.CONSUMER.CREATE.{EVENTS}.tasks-peek")
        with pytest.raises(nats.errors.TimeoutError):
            await js.delete_consumer(EVENTS, "tasks-progress-recorded")
        await tasks.violation(f"$JS.API.CONSUMER.DELETE.{EVENTS}.tasks-progress-recorded")
    async with nats_with_topology.login("admin") as admin:
        names = {c.name for c in await admin.nc.jetstream().consumers_info(EVENTS)}
    assert "tasks-progress-recorded" in names
    assert "tasks-peek" not in names


# --- replies and request subjects ----------------------------------------------------------------


@pytest.mark.parametrize("inbox", [f"_INBOX_{SCHOOL_SYSTEM}.>", "_INBOX.>", ">"])
async def test_a_service_may_not_read_other_users_replies(nats_with_topology: SecuredNats, inbox: str) -> None:
    async with nats_with_topology.login("svc-tasks") as tasks:
        await tasks.nc.subscribe(inbox)
        await tasks.violation(f'subscription to "{inbox}"')


async def test_operator_query_is_answered_by_the_service_queue_group(nats_with_topology: SecuredNats) -> None:
    async def answer(msg: Msg) -> None:
        await msg.respond(b'{"status": "pong"}')

    async with nats_with_topology.login("svc-tasks") as tasks, nats_with_topology.login("operator") as operator:
        await tasks.nc.subscribe("duban.v1.tasks.query", queue="tasks-rpc", cb=answer)
        await tasks.nc.flush()
        reply = await request_answered(operator.nc, "duban.v1.tasks.query")
        await tasks.no_violation()
        await operator.no_violation()
    assert json.loads(reply.data) == {"status": "pong"}


async def request_answered(nc: Client, subject: str, within: float = 5.0) -> Msg:
    """The reply to a request. Under load the server has been seen to answer "no responders" to a request sent
    just after the responder's subscription was flushed (1 run in many, never alone): asked again, briefly."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await nc.request(subject, b"{}", timeout=within)
        except NoRespondersError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    ("subject", "queue"),
    [("duban.v1.tasks.query", ""), ("duban.v1.tasks.query", "other"), ("duban.v1.alerts.query", "alerts-rpc")],
)
async def test_a_service_answers_only_its_own_requests_in_its_queue_group(
    nats_with_topology: SecuredNats, subject: str, queue: str
) -> None:
    async with nats_with_topology.login("svc-tasks") as tasks:
        await tasks.nc.subscribe(subject, queue=queue)
        await tasks.violation(f'subscription to "{subject}"')


# --- dead letters, raw submissions, stream management ---------------------------------------------


async def test_operator_reads_dead_letters_but_may_not_remove_or_replay_them(nats_with_topology: SecuredNats) -> None:
    async with nats_with_topology.login("svc-tasks") as tasks:
        await tasks.nc.jetstream().publish("duban.dlq.tasks", b"poison", headers={"Duban-Error": "boom"})
    async with nats_with_topology.login("operator") as operator:
        js = operator.nc.jetstream(timeout=QUICK)
        letter = await js.get_msg(DLQ, 1)
        await operator.no_violation()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(js.delete_msg(DLQ, 1), QUICK)
        await operator.violation(f"$JS.API.STREAM.MSG.DELETE.{DLQ}")
        await operator.nc.publish("duban.v1.progress.recorded", letter.data or b"")
        await operator.violation('publish to "duban.v1.progress.recorded"')
    async with nats_with_topology.login("admin") as admin:
        assert (await admin.nc.jetstream().stream_info(DLQ)).state.messages == 1
    assert letter.data == b"poison"


@pytest.mark.parametrize(("user", "allowed"), [("svc-ingest", True), ("svc-tasks", False), ("operator", False)])
async def test_only_ingest_reads_raw_submissions_back(
    nats_with_topology: SecuredNats, user: str, allowed: bool
) -> None:
    async with nats_with_topology.login(PLATFORM) as integration:
        await integration.nc.jetstream().publish("duban.in.submission", b'{"kind": "progress"}')
    async with nats_with_topology.login(user) as client:
        if allowed:
            raw = await client.nc.jetstream().get_msg(INBOUND, 1)
            assert raw.data == b'{"kind": "progress"}'
            await client.no_violation()
        else:
            with pytest.raises(nats.errors.TimeoutError):
                await client.nc.jetstream(timeout=QUICK).get_msg(INBOUND, 1)
            await client.violation(f"$JS.API.STREAM.MSG.GET.{INBOUND}")


async def test_provisioner_updates_streams_but_may_not_delete_them(nats_with_topology: SecuredNats) -> None:
    async with nats_with_topology.login("provisioner") as provisioner:
        again = await provision(provisioner.nc, TOPOLOGY)
        with pytest.raises(nats.errors.TimeoutError):
            await provisioner.nc.jetstream(timeout=QUICK).delete_stream(INBOUND)
        await provisioner.violation(f"$JS.API.STREAM.DELETE.{INBOUND}")
    assert again.created == []
    assert again.updated == []


@pytest.mark.parametrize(
    ("user", "password"),
    [(SCHOOL_SYSTEM, "not-the-password"), ("integration", "the-shared-user-is-gone"), ("nobody", "whatever")],
)
async def test_unknown_users_and_wrong_passwords_are_refused(secured: SecuredNats, user: str, password: str) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        async with session(secured.url, user, password):
            pass


# --- a real service under its own user ---------------------------------------------------------------


@pytest.mark.slow
async def test_tasks_service_runs_end_to_end_as_its_least_privileged_user(
    nats_with_topology: SecuredNats, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = TasksSettings(
        nats_url=nats_with_topology.url,
        nats_user="svc-tasks",
        nats_password=nats_with_topology.password("svc-tasks"),
        nats_inbox_prefix="_INBOX_svc-tasks",
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        home=tmp_path,
        http_port=0,
        consumer_info_interval_seconds=0.2,
    )
    event = progress_event(3)
    caplog.set_level(logging.DEBUG)
    async with (
        watching(nats_with_topology, "duban.v1.task.status_changed") as changes,
        running(create_app(settings)),
    ):
        async with nats_with_topology.login("svc-ingest") as ingest:
            await ingest.nc.jetstream().publish(
                "duban.v1.progress.recorded",
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": event.event_id},
            )
        for _ in range(50):
            if changes:
                break
            await asyncio.sleep(0.1)
        async with nats_with_topology.login("operator") as operator:
            reply = await operator.nc.request("duban.v1.tasks.query", b"{}", timeout=10)
    refusals = [r.getMessage() for r in caplog.records if "permissions violation" in r.getMessage().lower()]
    assert refusals == []
    assert changes, "the tasks service published no task.status_changed"
    assert "error" not in json.loads(reply.data)


async def test_clock_publishes_ticks_as_the_runtime_user(nats_with_topology: SecuredNats, tmp_path: Path) -> None:
    metrics_port = free_port()
    env = {
        **os.environ,
        "DUBAN_NATS_URL": nats_with_topology.url,
        "DUBAN_NATS_USER": "runtime",
        "DUBAN_NATS_PASSWORD": nats_with_topology.password("runtime"),
        "DUBAN_NATS_INBOX_PREFIX": "_INBOX_runtime",
        "DUBAN_CLOCK_INTERVAL_SECONDS": "0.2",
        "DUBAN_RUNTIME_PORT": str(metrics_port),
    }
    log = tmp_path / "clock.log"
    with log.open("wb") as sink:
        clock = await asyncio.create_subprocess_exec(
            sys.executable, str(CLOCK), env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        async with nats_with_topology.login("admin") as admin:
            js = admin.nc.jetstream()
            for _ in range(100):
                if (await js.stream_info(EVENTS)).state.messages:
                    break
                await asyncio.sleep(0.1)
            tick = await js.get_msg(EVENTS, 1)
        async with httpx.AsyncClient(timeout=5) as http:
            metrics = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    finally:
        clock.terminate()
        await asyncio.wait_for(clock.wait(), timeout=10)
    output = log.read_text(errors="replace")
    assert tick.subject == "duban.v1.clock.ticked", output
    assert ClockTicked.model_validate_json(tick.data or b"").source == "runtime"
    assert "duban_clock_ticks_total" in metrics
    assert "permission" not in output.lower()


# --- the console (督办台) ---------------------------------------------------------------------------


async def test_the_console_asks_the_services_and_hears_their_events_as_its_live_feed_subscribes(
    nats_with_topology: SecuredNats,
) -> None:
    from duban_console.live import LiveFeed

    async def answer(msg: Msg) -> None:
        await msg.respond(b'{"ok": true}')

    async with nats_with_topology.login("svc-alerts") as alerts, nats_with_topology.login("svc-console") as console:
        await alerts.nc.subscribe("duban.v1.alerts.command", queue="alerts-rpc", cb=answer)
        await alerts.nc.flush()
        feed = LiveFeed(Subjects())
        await feed.start(console.nc)
        async with feed.listen() as heard:
            await console.nc.flush()
            reply = await console.nc.request("duban.v1.alerts.command", b"{}", timeout=5)
            await alerts.nc.publish("duban.v1.alert.raised", b'{"alert_id": "al-1", "state": "firing"}')
            notice = await asyncio.wait_for(heard.get(), 5)
        await feed.stop()
        await console.no_violation()
    assert json.loads(reply.data) == {"ok": True}
    assert notice["type"] == "alert.raised"


@pytest.mark.parametrize(
    ("action", "fragment"),
    [
        ("replay", 'publish to "duban.v1.ingest.replay"'),
        ("inbound", 'subscription to "duban.in.>"'),
        ("publish_event", 'publish to "duban.v1.progress.recorded"'),
    ],
)
async def test_the_console_may_not_replay_read_raw_submissions_or_publish_events(
    nats_with_topology: SecuredNats, action: str, fragment: str
) -> None:
    async with nats_with_topology.login("svc-console") as console:
        if action == "replay":
            await console.nc.publish("duban.v1.ingest.replay", b"{}")
        elif action == "inbound":
            await console.nc.subscribe("duban.in.>")
        else:
            await console.nc.publish("duban.v1.progress.recorded", b"{}")
        await console.violation(fragment)
