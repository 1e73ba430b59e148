"""The simulated year: deterministic, plausible, and written the way ingest is documented to read."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest

from duban.simulate import DUPLICATE_CONTENT, DUPLICATE_ID, VALID, FileUpload, Submission, simulate_year
from duban.simulate.model import SHANGHAI
from duban_contracts.events import (
    ActivityRecorded,
    CaseRecorded,
    Event,
    IncidentReported,
    MeasurementRecorded,
    ProgressRecorded,
)
from duban_contracts.plan import TargetKind
from duban_contracts.reporting_units import load_reporting_units
from duban_ingest.domain.dates import Moment, parse_moment
from duban_ingest.domain.spreadsheets import FileRejection, read_table
from duban_ingest.usecases.intake import SUBMITTED_AT_KEYS
from tests.simulate.pipeline import bundled_plan, bundled_year, ingest

YEAR = 2023
SUMMER = (6, 7, 8)
WINTER_AND_SPRING = (12, 1, 2, 3, 4, 5)


def year_of(seed: int, until: date | None = None) -> tuple[Submission | FileUpload, ...]:
    return simulate_year(seed, plan=bundled_plan(), units=load_reporting_units().units, until=until).deliveries


def accepted(kind: type) -> list:  # type: ignore[type-arg]
    return [v.event for v in ingest(bundled_year(), bundled_plan()) if isinstance(v.event, kind)]


# --- determinism --------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_deliveries_byte_for_byte() -> None:
    first, second = year_of(11), year_of(11)

    assert first == second
    assert [d.body if isinstance(d, Submission) else d.data for d in first] == [
        d.body if isinstance(d, Submission) else d.data for d in second
    ]


def test_a_different_seed_gives_a_different_year() -> None:
    first = {d.body for d in year_of(11) if isinstance(d, Submission)}
    second = {d.body for d in year_of(12) if isinstance(d, Submission)}

    assert len(first & second) < len(first) / 10


def test_a_year_cut_short_is_the_same_year_up_to_that_day() -> None:
    until = date(YEAR, 3, 31)

    short = year_of(2023, until)

    assert short == tuple(d for d in bundled_year().deliveries if d.local_day <= until)
    assert len(short) < len(bundled_year().deliveries)


# --- how it is sent -----------------------------------------------------------------------------------


def test_deliveries_come_in_the_order_they_are_sent_each_stamped_with_its_sending_time() -> None:
    """A retry (the same id again) re-sends the very same message, first stamp included."""
    deliveries = bundled_year().deliveries
    stamps = []
    for submission in (d for d in deliveries if isinstance(d, Submission) and d.intent != DUPLICATE_ID and d.payload):
        payload = submission.payload
        assert payload is not None
        written = next(payload[k] for k in SUBMITTED_AT_KEYS if k in payload)
        moment = parse_moment(str(written), YEAR, SHANGHAI)
        assert isinstance(moment, Moment)
        stamps.append(moment.at == submission.at)

    assert [d.at for d in deliveries] == sorted(d.at for d in deliveries)
    assert all(stamps)


def test_every_valid_submission_is_read_by_ingest_as_the_simulator_meant() -> None:
    year = bundled_year()
    meant = {s.submission_id: s.expected for s in year.submissions if s.intent == VALID}
    read = {}
    for verdict in ingest(year, bundled_plan()):
        if verdict.submission_id not in meant:
            continue
        event = verdict.event
        assert event is not None, f"{verdict.submission_id} was refused: {verdict.code}"
        read[verdict.submission_id] = (event.event_type.split(".")[0], event.source, *subject_and_value(event))

    expected = {
        sid: (e.kind, e.unit_id, str(e.subject), e.value if e.kind in ("progress", "measurement", "incident") else None)
        for sid, e in meant.items()
        if e is not None
    }
    for sid, (kind, unit_id, subject, value) in expected.items():
        assert read[sid][:3] == (kind, unit_id, subject), sid
        if value is not None:
            assert read[sid][3] == pytest.approx(value), sid


def test_every_malformed_submission_is_refused_with_the_code_it_was_written_to_get() -> None:
    verdicts = [v for v in ingest(bundled_year(), bundled_plan()) if v.intent.startswith("malformed:")]

    assert verdicts
    assert [(v.intent, v.code) for v in verdicts] == [(v.intent, v.intent.split(":", 1)[1]) for v in verdicts]


def test_a_few_percent_is_malformed_and_some_reports_are_sent_twice() -> None:
    intents = Counter(d.intent.split(":")[0] for d in bundled_year().submissions)
    total = sum(intents.values())
    kinds_of_mistake = {d.intent for d in bundled_year().submissions if d.intent.startswith("malformed:")}

    assert 0.02 <= intents["malformed"] / total <= 0.06
    assert intents[DUPLICATE_ID] >= 5
    assert intents[DUPLICATE_CONTENT] >= 5
    assert {"malformed:unknown_unit", "malformed:invalid_json", "malformed:invalid_date"} <= kinds_of_mistake


def test_spreadsheets_come_the_way_schools_keep_them() -> None:
    uploads = bundled_year().uploads
    tables = {u.name: read_table(u.data, u.name, default_kind=u.kind, default_source=u.source) for u in uploads}

    assert all(not isinstance(t, FileRejection) for t in tables.values())
    encodings = {t.encoding for t in tables.values() if not isinstance(t, FileRejection)}
    assert {"gb18030", "utf-8-sig", None} <= encodings  # None: XLSX
    class_tables = [t for name, t in tables.items() if "班额" in name and not isinstance(t, FileRejection)]
    assert class_tables
    for table in class_tables:
        assert table.header_row == 3  # below the title and the 填报单位 line
        assert [s.reason for s in table.skipped] == ["total"]  # the 合计 row
        assert all("填报时间" in row.values for row in table.rows)
    assert any(u.intent == DUPLICATE_ID for u in uploads)  # one school uploads its sheet twice


# --- what happens in the year -----------------------------------------------------------------------


def test_incidents_follow_the_seasons() -> None:
    incidents: list[IncidentReported] = accepted(IncidentReported)
    by_category: dict[str, list[IncidentReported]] = defaultdict(list)
    for incident in incidents:
        by_category[incident.category.value].append(incident)

    assert {local(i.occurred_at).month for i in by_category["溺水"]} <= set(SUMMER)
    assert any(i.deaths for i in by_category["溺水"] if local(i.occurred_at).month == 7)
    outbreaks = [i for i in by_category["传染病"] if i.disease in ("流感", "诺如病毒")]
    assert {local(i.occurred_at).month for i in outbreaks} <= set(WINTER_AND_SPRING)
    assert by_category["交通"]
    assert any(i.cases >= 5 for i in by_category["食品安全"])


def test_at_least_one_class_has_an_outbreak_by_the_national_rule() -> None:
    """学校和托幼机构传染病疫情报告工作规范: 3 or more cases of one disease in one class within a day."""
    cases: dict[tuple[str, str, str], list[IncidentReported]] = defaultdict(list)
    for incident in accepted(IncidentReported):
        if incident.disease and incident.class_name:
            cases[(incident.unit.id, incident.disease, incident.class_name)].append(incident)

    def within_a_day(group: list[IncidentReported]) -> int:
        times = sorted(group, key=lambda i: i.occurred_at)
        return max(
            sum(j.cases for j in times if timedelta(0) <= j.occurred_at - i.occurred_at < timedelta(days=1))
            for i in times
        )

    assert max(within_a_day(group) for group in cases.values()) >= 3


def test_some_incidents_are_reported_after_the_time_limit() -> None:
    incidents: list[IncidentReported] = accepted(IncidentReported)

    def limit(incident: IncidentReported) -> timedelta:
        if incident.deaths:
            return timedelta(hours=1)
        if incident.category.value in ("传染病", "食品安全"):
            return timedelta(hours=2)
        return timedelta(hours=24)

    assert any(i.reported_at - i.occurred_at > limit(i) for i in incidents)


def test_every_target_gets_progress_or_activity_except_those_never_reported() -> None:
    year = bundled_year()
    reached = {
        target_id
        for verdict in ingest(year, bundled_plan())
        if (target_id := getattr(verdict.event, "target_id", None)) is not None
    }
    never = {target for target, fate in year.fates.items() if fate in ("silent", "missed")}
    measured_not_reported = {
        p.target.id for p in bundled_plan().placed_targets() if p.target.kind is TargetKind.CONSTRAINT
    }
    every = {p.target.id for p in bundled_plan().placed_targets()}

    assert len(never) == 3  # two figures nobody reports, one dated duty nobody holds
    assert reached == every - never
    assert measured_not_reported <= reached  # class sizes and exercise minutes count as the constraints' facts


def test_class_sizes_counted_in_september_include_a_few_crowded_classes() -> None:
    sizes = [
        m.value for m in accepted(MeasurementRecorded) if m.metric == "class_size" and local(m.occurred_at).month == 9
    ]

    assert len(sizes) > 100
    crowded = [size for size in sizes if size > 55]
    assert 3 <= len(crowded) <= 10
    assert max(crowded) >= 66  # one 超大班额
    assert all(size <= 70 for size in sizes)


def test_some_schools_fall_short_of_an_hour_of_exercise_in_some_months() -> None:
    minutes = [m.value for m in accepted(MeasurementRecorded) if m.metric == "daily_exercise_minutes"]

    assert len(minutes) > 400
    assert 0 < sum(1 for m in minutes if m < 60) < len(minutes) / 20


def test_most_monthly_reports_are_on_time_some_late_and_two_schools_never_report() -> None:
    filed: dict[tuple[str, int], datetime] = {}
    for verdict in ingest(bundled_year(), bundled_plan()):
        event = verdict.event
        if event is None or event.source == "ingest" or isinstance(event, IncidentReported):
            continue
        month = local(event.occurred_at).month
        key = (event.source, month)
        filed[key] = min(filed.get(key, verdict.at), verdict.at)
    on_time = [at <= deadline(month) for (_, month), at in filed.items() if month < 12]
    units = {u.id for u in load_reporting_units().units if u.kind != "external"}
    silent = units - {source for source, _ in filed}

    assert 0.75 <= sum(on_time) / len(on_time) < 0.98
    assert len(silent) == 2


def test_dated_duties_are_held_near_their_day_but_one_is_missed_and_one_quarterly_meeting_forgotten() -> None:
    fates = bundled_year().fates
    dated = [p.target.id for p in bundled_plan().placed_targets() if p.target.kind is TargetKind.DATED_EVENT]

    assert Counter(fates[t] for t in dated) == {"held": len(dated) - 2, "late": 1, "missed": 1}
    assert fates["t04_ideology_meeting_quarterly"].startswith("missed:")


def test_most_targets_are_done_by_december_some_behind_and_two_never_reported() -> None:
    fates = Counter(bundled_year().fates.values())

    assert fates["done"] > sum(fates[f] for f in ("on_track", "lagging", "critical", "silent"))
    assert fates["lagging"] >= 2
    assert fates["critical"] >= 2
    assert fates["silent"] == 2


def subject_and_value(event: Event) -> tuple[str, float | None]:
    """What a valid submission is about (target, metric or category) and its figure."""
    match event:
        case ProgressRecorded():
            return event.target_id, event.value
        case MeasurementRecorded():
            return event.metric, event.value
        case IncidentReported():
            return event.category.value, float(event.cases)
        case ActivityRecorded():
            return str(event.target_id), None
        case CaseRecorded():
            return event.case_id, None
    raise TypeError(event)


def local(at: datetime) -> datetime:
    return at.astimezone(SHANGHAI)


def deadline(month: int) -> datetime:
    """A month's report is on time by the end of the 5th of the next month (the reports' rule)."""
    return datetime(YEAR, month + 1, 6, tzinfo=SHANGHAI)
