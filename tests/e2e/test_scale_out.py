"""Scale-out: two replicas of tasks and of alerts share each durable consumer and split the work, and
the system ends where one replica of each leaves it — no event applied twice, none skipped.

The same ~200 submissions (progress from eight schools on three targets and cumulative figures from
three sections, an influenza outbreak and a smaller cluster, a drowning, a fire, class sizes and
exercise times, the plan's activities, rejections, duplicates by content and by id) and then a month
of daily clock ticks go through the stack twice on PostgreSQL, each time in a fresh namespace: once
with one process per service, once with a second process of tasks and of alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import psycopg
import pytest
from nats.aio.client import Client
from prometheus_client.parser import text_string_to_metric_families

from duban.bus import publish_tick, wait_quiet
from duban.isolated import free_port, isolated_stack
from duban.runtime import Stack
from duban_contracts.plan import TargetKind, load_plan
from duban_contracts.rpc import AggregateQuery, AlertsQuery, StatusQuery
from duban_contracts.subjects import Subjects
from duban_contracts.topology import TOPOLOGY, consumer_name

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]

SCALED = ("tasks", "alerts")
#: Scheduled reports are the reports service's business, not what is scaled here; they would only add time.
ENVIRONMENT = {f"DUBAN_REPORTS_SCHEDULE_{kind}": "" for kind in ("WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL")}

SCHOOLS = (
    "巴中市第二中学",
    "巴州区第七小学",
    "巴州区江北实验小学",
    "巴州区东城初级中学",
    "巴州区西城小学",
    "巴州区回风中学",
    "巴州区时新小学",
    "巴州区清江中学",
)
#: Indicators schools add to, with a typical report (in the target's unit).
INCREMENTS = (("新建中小学校舍", 400), ("新增运动场地", 250), ("培训信息技术骨干教师", 4))
#: Sections that report a running total, with its monthly growth.
CUMULATIVE = (("组织人事股", "补充教师", 30), ("资助中心", "学生资助", 6000), ("体育股", "体彩销售额", 8_000_000))
ACTIVITIES = (
    ("ideology-1", "办公室", "意识形态分析研判专题会", "2023-03-28"),
    ("ideology-2", "办公室", "意识形态分析研判专题会", "2023-06-27"),
    ("ideology-3", "办公室", "意识形态分析研判专题会", "2023-09-26"),
    ("security-day", "安全稳定股", "全民国家安全教育日宣传教育", "2023-04-15"),
    ("disaster-day", "安全稳定股", "全国防灾减灾日宣传教育", "2023-05-12"),
    ("teachers-day", "组织人事股", "教师节系列庆祝活动", "2023-09-10"),
    ("fire-day", "安全稳定股", "全国消防日宣传教育", "2023-11-09"),
)
TICKS_FROM, TICKS_UNTIL = date(2023, 11, 29), date(2024, 1, 2)
#: Alerts raised from incidents and measurements alone; the others follow tasks' status changes.
FACT_RULES = frozenset({"safety_incident", "late_report", "infectious_cluster", "class_size", "daily_exercise"})
#: Statuses that keep a target_lagging alert open (rules.yaml, lag.yellow) ...
BEHIND = frozenset({"lagging", "critical", "overdue"})
#: ... except for the kinds that raise none (rules.yaml, lag.exempt_kinds): a constraint's breaches are limit alerts.
LAG_EXEMPT = frozenset(p.target.id for p in load_plan().placed_targets() if p.target.kind is TargetKind.CONSTRAINT)
SAME_INSTANT = (
    "status changes of one target made at the same event time must be taken in the order tasks made them "
    "(their revision) by alerts (StatusRecord.is_older_than) and reports (Aggregates.latest_status)"
)

Body = dict[str, object]


def flu_case(submission_id: str, school: str, class_name: str, occurred: datetime) -> tuple[str, Body]:
    return submission_id, {
        "kind": "incident",
        "source": school,
        "category": "传染病",
        "disease": "流感",
        "cases": 1,
        "class": class_name,
        "grade": "一般",
        "deaths": 0,
        "injuries": 0,
        "occurred_at": f"{occurred:%Y-%m-%d %H:%M}",
        "reported_at": f"{occurred + timedelta(minutes=30):%Y-%m-%d %H:%M}",
        "summary": "发热、咳嗽",
    }


def progress() -> list[tuple[str, Body]]:
    reports: list[tuple[str, Body]] = []
    for s, school in enumerate(SCHOOLS):
        for t, (indicator, typical) in enumerate(INCREMENTS):
            for month in (3, 6, 9, 11):
                body: Body = {
                    "kind": "progress",
                    "source": school,
                    "indicator": indicator,
                    "value": typical + 10 * s + t,
                    "mode": "increment",
                    "date": f"2023-{month:02d}-{10 + s:02d}",
                }
                reports.append((f"inc-{s}-{t}-{month}", body))
    for c, (section, indicator, growth) in enumerate(CUMULATIVE):
        for month in range(2, 12):
            body = {
                "kind": "progress",
                "source": section,
                "indicator": indicator,
                "value": growth * (month - 1),
                "mode": "cumulative",
                "date": f"2023-{month:02d}-28",
            }
            reports.append((f"cum-{c}-{month}", body))
    return reports


def incidents() -> list[tuple[str, Body]]:
    # Twelve influenza cases at one school within three days (an outbreak: 10 in 7 days), four at another.
    start = datetime(2023, 3, 6, 8, 15)
    reports = [
        flu_case(f"flu-a-{n}", "巴州区第七小学", f"{1 + n % 3}年级1班", start + timedelta(days=n // 5, hours=n % 5))
        for n in range(12)
    ]
    reports += [flu_case(f"flu-b-{n}", "巴州区西城小学", "五年级2班", datetime(2023, 4, 10 + n, 9)) for n in range(4)]
    drowning: Body = {
        "kind": "incident",
        "source": "巴州区清江中学",
        "category": "溺水",
        "grade": "一般",
        "deaths": 1,
        "injuries": 0,
        "occurred_at": "2023-07-15 17:10",
        "reported_at": "2023-07-15 19:40",
        "summary": "学生课后在河边溺水",
    }
    fire: Body = {
        "kind": "incident",
        "source": "巴州区回风中学",
        "category": "火灾",
        "grade": "一般",
        "deaths": 0,
        "injuries": 2,
        "occurred_at": "2023-11-09 10:00",
        "reported_at": "2023-11-09 10:30",
        "summary": "食堂厨房起火",
    }
    return [*reports, ("drowning", drowning), ("fire", fire)]


def measurements() -> list[tuple[str, Body]]:
    reports: list[tuple[str, Body]] = []
    for s, school in enumerate(SCHOOLS):
        for k in range(3):
            body: Body = {
                "kind": "measurement",
                "source": school,
                "metric": "班额",
                "class": f"七年级{k + 1}班",
                "value": 50 + (s * 3 + k * 5) % 20,
                "date": "2023-09-01",
            }
            reports.append((f"class-{s}-{k}", body))
    for s in range(0, len(SCHOOLS), 2):  # a later count of the same class: smaller for some, larger for others
        body = {
            "kind": "measurement",
            "source": SCHOOLS[s],
            "metric": "班额",
            "class": "七年级1班",
            "value": 52 if s % 4 == 0 else 67,
            "date": "2023-10-08",
        }
        reports.append((f"class-later-{s}", body))
    for s, school in enumerate(SCHOOLS[:5]):
        body = {"kind": "measurement", "source": school, "metric": "学生每天运动时间", "value": 45 + 5 * s}
        reports.append((f"exercise-{s}", {**body, "date": "2023-05-20"}))
    return reports


def activities() -> list[tuple[str, Body]]:
    return [
        (sid, {"kind": "activity", "source": who, "activity": what, "date": day}) for sid, who, what, day in ACTIVITIES
    ]


def rejected() -> list[tuple[str, Body]]:
    progress_: Body = {"kind": "progress", "indicator": "新建中小学校舍", "date": "2023-05-01"}
    return [
        ("bad-school", {**progress_, "source": "不存在的学校", "value": 100}),
        ("bad-value", {**progress_, "source": "巴中市第二中学", "value": "很多"}),
        ("bad-class", {"kind": "measurement", "source": "巴中市第二中学", "metric": "班额", "value": 900}),
    ]


def valid() -> list[tuple[str, Body]]:
    return [*progress(), *incidents(), *measurements(), *activities()]


def same_content() -> list[tuple[str, Body]]:
    """Sent again under a new id: ingest rejects them as duplicate_content."""
    return [(f"{sid}-again", body) for sid, body in valid()[:40:8]]


def same_id() -> list[tuple[str, Body]]:
    """Sent again under the same id: JetStream drops them within its duplicate window."""
    return valid()[1:50:10]


def workload() -> list[tuple[str, Body]]:
    """The submissions in the order they are published."""
    return [*valid(), *rejected(), *same_content(), *same_id()]


@dataclass(frozen=True)
class Outcome:
    plan: dict[str, Any]
    alerts: dict[str, Any]
    summary: dict[str, Any]
    inbox_rows: dict[str, dict[str, int]]
    events_consumed: dict[str, dict[str, int]]
    progress_rows: int
    consumed_per_replica: dict[str, list[float]]


async def publish_workload(nc: Client, subjects: Subjects) -> None:
    js = nc.jetstream()
    for submission_id, body in workload():
        payload = json.dumps(body, ensure_ascii=False).encode()
        await js.publish(subjects.inbound_submission, payload, headers={"Nats-Msg-Id": submission_id})


async def publish_ticks(nc: Client, subjects: Subjects) -> None:
    """Daily ticks at 09:00 in Shanghai, as a replay would send them: all at once."""
    day = TICKS_FROM
    while day <= TICKS_UNTIL:
        await publish_tick(nc, subjects, datetime(day.year, day.month, day.day, 1, tzinfo=UTC), mode="replay")
        day += timedelta(days=1)


async def ask(nc: Client, subject: str, body: str) -> Any:
    reply = await nc.request(subject, body.encode(), timeout=15)
    return json.loads(reply.data)


def flatten(view: dict[str, Any]) -> dict[str, Any]:
    """Every node of the plan's status tree: status, completion and actual by level and ref."""
    nodes = {f"{view['level']}:{view['ref']}": (view["status"], round(view["completion"], 6), view.get("actual"))}
    for child in view.get("children", []):
        nodes |= flatten(child)
    return nodes


async def final_state(nc: Client, subjects: Subjects) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    status = await ask(nc, subjects.rpc("tasks", "query"), StatusQuery(level="plan").model_dump_json())
    alerts = await ask(nc, subjects.rpc("alerts", "query"), AlertsQuery(state="all", limit=10_000).model_dump_json())
    summary = await ask(nc, subjects.rpc("reports", "query"), AggregateQuery(name="summary").model_dump_json())
    plan = {"as_of": status["as_of"], **flatten(status["view"])}
    book = {
        a["id"]: {k: a[k] for k in ("rule", "severity", "state", "count", "labels", "first_seen", "escalation_level")}
        for a in alerts["alerts"]
    }
    return plan, book, summary


async def distinct_events(nc: Client, stream: str, subjects: Subjects) -> dict[str, int]:
    """Distinct event ids in the events stream, by event type."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    ids: dict[str, set[str]] = {}
    prefix = f"{subjects.namespace}.v1."
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(stream, sequence)
        assert message.subject is not None and message.data is not None
        ids.setdefault(message.subject.removeprefix(prefix), set()).add(json.loads(message.data)["event_id"])
    return {event_type: len(found) for event_type, found in ids.items()}


def inbox_rows(postgres_url: str, namespace: str, service: str) -> dict[str, int]:
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(f'SELECT consumer, count(*) FROM "{namespace}_{service}".inbox GROUP BY consumer')
        return {consumer: int(count) for consumer, count in rows}


def table_rows(postgres_url: str, schema: str, table: str) -> int:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{schema}".{table}').fetchone()
        return int(row[0]) if row else 0


async def consumed(port: int) -> float:
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "duban_messages_consumed"
        for sample in family.samples
        if sample.name == "duban_messages_consumed_total"
    )


async def wait_ready(process: asyncio.subprocess.Process, port: int, log: Path, timeout: float = 90.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            if process.returncode is not None or loop.time() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"replica on port {port} not ready (exit code {process.returncode}):\n{tail}")
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def second_replicas(stack: Stack, services: tuple[str, ...], home: Path) -> AsyncIterator[dict[str, int]]:
    """One more process of each service, configured as the stack's own but on another HTTP port."""
    assert stack.supervisor is not None
    started: dict[str, asyncio.subprocess.Process] = {}
    ports: dict[str, int] = {}
    logs = {name: home / "var" / "log" / f"{name}-replica-2.log" for name in services}
    try:
        for name in services:
            ports[name] = free_port()
            env = {
                **os.environ,
                **stack.supervisor.services[name].env,
                f"DUBAN_{name.upper()}_HTTP_PORT": str(ports[name]),
            }
            with logs[name].open("ab") as out:
                started[name] = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", f"duban_{name}", env=env, stdout=out, stderr=out
                )
        for name, process in started.items():
            await wait_ready(process, ports[name], logs[name])
        yield ports
    finally:
        for process in started.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in started.values():
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def run(nc: Client, nats_url: str, postgres_url: str, namespace: str, home: Path, *, replicas: int) -> Outcome:
    subjects = Subjects(namespace)
    async with (
        isolated_stack(
            nats_url=nats_url, namespace=namespace, home=home, database_url=postgres_url, extra_env=ENVIRONMENT
        ) as stack,
        second_replicas(stack, SCALED if replicas == 2 else (), home) as extra_ports,
    ):
        topology = stack.settings.topology
        await publish_workload(nc, subjects)
        await wait_quiet(nc, topology, timeout=180)
        await publish_ticks(nc, subjects)
        await wait_quiet(nc, topology, timeout=180)
        plan, book, summary = await final_state(nc, subjects)
        events = await distinct_events(nc, topology.streams["events"].name, subjects)
        replica_ports = {
            name: [stack.ports[name], *([extra_ports[name]] if name in extra_ports else [])] for name in SCALED
        }
        per_replica = {name: [await consumed(port) for port in ports] for name, ports in replica_ports.items()}
        rows = {name: inbox_rows(postgres_url, namespace, name) for name in SCALED}
        progress_rows = table_rows(postgres_url, f"{namespace}_tasks", "progress")
    expected = {
        # A consumer that had nothing to apply (no cases in this workload) has no inbox rows to count.
        name: {
            consumer_name(name, event_type): events[event_type]
            for event_type in TOPOLOGY[name].consumes
            if events.get(event_type)
        }
        for name in SCALED
    }
    return Outcome(plan, book, summary, rows, expected, progress_rows, per_replica)


@pytest.fixture(scope="module")
async def runs(nats_url: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Outcome, Outcome]:
    """The workload through one process per service, then with two of tasks and of alerts (read-only results)."""
    namespace = f"t{uuid.uuid4().hex[:10]}"
    home = tmp_path_factory.mktemp("scale-out")
    nc = await nats.connect(nats_url)
    try:
        one = await run(nc, nats_url, postgres_url, f"{namespace}r1", home / "one", replicas=1)
        two = await run(nc, nats_url, postgres_url, f"{namespace}r2", home / "two", replicas=2)
    finally:
        await nc.drain()
    return one, two


def alerts_of(outcome: Outcome, rules: Callable[[str], bool]) -> dict[str, Any]:
    return {alert_id: alert for alert_id, alert in outcome.alerts.items() if rules(alert["rule"])}


def open_by_labels(outcome: Outcome, rules: Callable[[str], bool]) -> set[tuple[str, str]]:
    """Open alerts by what they are about (labels) and how bad — not by episode or occurrence count."""
    return {
        (json.dumps(alert["labels"], ensure_ascii=False, sort_keys=True), alert["severity"])
        for alert in alerts_of(outcome, rules).values()
        if alert["state"] != "resolved"
    }


def target_statuses(outcome: Outcome) -> dict[str, str]:
    return {node[len("target:") :]: value[0] for node, value in outcome.plan.items() if node.startswith("target:")}


def is_fact_rule(rule: str) -> bool:
    return rule in FACT_RULES


def is_status_rule(rule: str) -> bool:
    return rule not in FACT_RULES


async def test_both_replicas_of_tasks_and_of_alerts_take_part_of_the_work(runs: tuple[Outcome, Outcome]) -> None:
    _, two = runs
    assert {name: len(counts) for name, counts in two.consumed_per_replica.items()} == {"tasks": 2, "alerts": 2}
    assert all(count > 0 for counts in two.consumed_per_replica.values() for count in counts), two.consumed_per_replica


async def test_every_event_is_applied_exactly_once_with_one_replica_or_two(runs: tuple[Outcome, Outcome]) -> None:
    for outcome in runs:
        assert outcome.inbox_rows == outcome.events_consumed  # one inbox row per distinct event: none skipped
        assert outcome.progress_rows == outcome.events_consumed["tasks"]["tasks-progress-recorded"]


async def test_two_replicas_reach_the_plan_status_one_replica_reaches(runs: tuple[Outcome, Outcome]) -> None:
    one, two = runs
    assert two.plan == one.plan
    assert target_statuses(one)["t07_sports_ground_new"] == "done"  # increments from eight schools add up once


async def test_two_replicas_raise_the_same_incident_and_measurement_alerts_as_one(
    runs: tuple[Outcome, Outcome],
) -> None:
    one, two = runs
    assert alerts_of(two, is_fact_rule) == alerts_of(one, is_fact_rule)
    rules = Counter(alert["rule"] for alert in alerts_of(one, is_fact_rule).values())
    assert rules["infectious_cluster"] == 1
    assert rules["safety_incident"] >= 1
    assert rules["class_size"] >= 1


async def test_two_replicas_record_the_same_facts_in_reports_as_one(runs: tuple[Outcome, Outcome]) -> None:
    one, two = runs
    facts = ("submissions", "progress_events", "incidents", "deaths")
    assert {key: two.summary[key] for key in facts} == {key: one.summary[key] for key in facts}
    assert one.summary["submissions"] == {"accepted": len(valid()), "rejected": len(rejected()) + len(same_content())}
    assert one.summary["deaths"] == 1


async def test_lag_and_deadline_alerts_follow_the_final_status_of_each_target(runs: tuple[Outcome, Outcome]) -> None:
    one, two = runs
    problems = []
    if open_by_labels(two, is_status_rule) != open_by_labels(one, is_status_rule):
        problems.append("open status-driven alerts differ between one replica and two")
    for replicas, outcome in enumerate(runs, start=1):
        behind = {target for target, status in target_statuses(outcome).items() if status in BEHIND} - LAG_EXEMPT
        flagged = {
            alert["labels"]["target_id"]
            for alert in alerts_of(outcome, lambda rule: rule == "target_lagging").values()
            if alert["state"] != "resolved"
        }
        if flagged != behind:
            problems.append(
                f"{replicas} replica(s): lagging alerts open for {sorted(flagged - behind)}, "
                f"missing for {sorted(behind - flagged)}"
            )
    assert not problems, f"{SAME_INSTANT}: {'; '.join(problems)}"


async def test_reports_latest_statuses_agree_with_tasks(runs: tuple[Outcome, Outcome]) -> None:
    problems = []
    for replicas, outcome in enumerate(runs, start=1):
        by_status = dict(Counter(target_statuses(outcome).values()))
        if outcome.summary["targets_by_status"] != by_status:
            problems.append(f"{replicas} replica(s): reports {outcome.summary['targets_by_status']}, tasks {by_status}")
        plan = outcome.summary["plan"]
        assert plan is not None
        if [plan["status"], round(plan["completion"], 6)] != list(outcome.plan[f"plan:{plan['ref']}"][:2]):
            problems.append(f"{replicas} replica(s): the plan's latest status in reports is not tasks'")
    assert not problems, f"{SAME_INSTANT}: {'; '.join(problems)}"
