"""Rule 7: the clocks of 信访 cases and 12345 work orders, and the alerts they raise."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from duban_alerts.domain import load_rules, parse_rules
from duban_alerts.domain.alert import Alert, Change, Cleared, Firing, reconcile
from duban_alerts.domain.casework import (
    CASE_ACCEPTANCE,
    CASE_HANDLING,
    CASE_REVISIT,
    DONE,
    DONE_LATE,
    FORWARDED,
    Clock,
    case_row,
    case_signals,
    case_summary,
    clocks_of,
    stage_on,
)
from duban_alerts.domain.config import CaseworkConfig, Span
from duban_alerts.domain.workdays import WorkCalendar
from duban_contracts.casework import CaseAction, CaseChannel, CaseFile, CaseStep, Period, fold_case, on_time_rate
from duban_contracts.events import Severity
from tests.alerts.alerts_support import SHANGHAI, at
from tests.alerts.test_domain_config import bundled

RULES = load_rules()
CONFIG = RULES.casework
CALENDAR = CONFIG.calendar.calendar()
LADDER = RULES.escalation.ladder
A = CaseAction


def step(
    action: CaseAction,
    when: str,
    *,
    channel: CaseChannel = CaseChannel.LETTER,
    category: str = "教育收费",
    case_id: str = "XF2023-0917",
    limit_working_days: int | None = None,
    extension_days: int | None = None,
    reason: str | None = None,
) -> CaseStep:
    return CaseStep(
        event_id=f"{case_id}/{action}/{when}",
        case_id=case_id,
        action=action,
        at=at(when),
        channel=channel,
        unit_id="bz-jkj-aqwd",
        unit_name="安全稳定股",
        category=category,
        limit_working_days=limit_working_days,
        extension_days=extension_days,
        reason=reason,
    )


def hotline(*steps: tuple[CaseAction, str], category: str = "咨询", limit: int | None = None) -> CaseFile:
    return fold_case(
        step(action, when, channel=CaseChannel.HOTLINE, category=category, limit_working_days=limit)
        for action, when in steps
    )


def letter(*steps: CaseStep | tuple[CaseAction, str]) -> CaseFile:
    return fold_case(item if isinstance(item, CaseStep) else step(*item) for item in steps)


def clock(case: CaseFile, rule: str, config: CaseworkConfig = CONFIG) -> Clock:
    found = [c for c in clocks_of(case, config, CALENDAR, SHANGHAI) if c.rule == rule]
    assert len(found) == 1, [c.rule for c in clocks_of(case, config, CALENDAR, SHANGHAI)]
    return found[0]


# --- due dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2023-09-28 16:00", date(2023, 10, 13)),  # just before the National Day holiday: a Friday
        ("2024-01-27 10:00", date(2024, 2, 18)),  # 2-11 is the Spring Festival: next working day (调休 Sunday)
        ("2023-06-02 10:00", date(2023, 6, 19)),  # 6-17 is a Saturday: Monday
    ],
)
def test_acceptance_must_be_told_within_15_days_counted_from_the_day_after_receipt(received: str, due: date) -> None:
    case = letter((A.RECEIVED, received))

    acceptance = clock(case, CASE_ACCEPTANCE)

    assert acceptance.due == due
    assert acceptance.is_running
    assert "第二十三条" in acceptance.source


@pytest.mark.parametrize(
    ("category", "limit", "due", "basis"),
    [
        ("咨询", None, date(2023, 10, 9), "咨询类自收到工单次日起3个工作日"),
        ("求助", None, date(2023, 10, 13), "求助类"),
        ("建议", None, date(2023, 10, 13), "意见建议类"),
        ("投诉", None, date(2023, 10, 25), "投诉举报类"),
        ("举报类", None, date(2023, 10, 13), "未识别"),  # not an alias: the default 7 working days
        ("投诉", 10, date(2023, 10, 18), "工单自带时限"),  # the work order's own limit wins
    ],
)
def test_a_work_order_received_just_before_the_national_day_holiday_counts_working_days_only(
    category: str, limit: int | None, due: date, basis: str
) -> None:
    # Thursday 2023-09-28: 9-29 … 10-6 are off, Saturday 10-7 and Sunday 10-8 are 调休 working days.
    case = hotline((A.RECEIVED, "2023-09-28 16:00"), category=category, limit=limit)

    handling = clock(case, CASE_HANDLING)

    assert handling.due == due
    assert basis in handling.basis_zh
    assert [c.rule for c in clocks_of(case, CONFIG, CALENDAR, SHANGHAI)] == [CASE_HANDLING]  # no acceptance step


@pytest.mark.parametrize(
    ("category", "due"),
    [("咨询", date(2024, 2, 19)), ("求助", date(2024, 2, 23)), ("投诉举报", date(2024, 3, 6))],
)
def test_a_work_order_received_before_the_spring_festival_skips_the_holiday(category: str, due: date) -> None:
    # 2024-02-10 … 02-17 are off; Sunday 02-18 is worked.
    case = hotline((A.RECEIVED, "2024-02-08 11:00"), category=category)

    assert clock(case, CASE_HANDLING).due == due


def test_a_letter_is_handled_within_60_days_of_acceptance_rolled_off_the_holiday() -> None:
    case = letter((A.RECEIVED, "2023-07-25 09:00"), (A.ACCEPTED, "2023-08-01 10:00"))

    handling = clock(case, CASE_HANDLING)

    assert handling.starts_on == date(2023, 8, 1)
    assert handling.due == date(2023, 10, 7)  # 60 days → 9-30, in the holiday → 10-7 (worked Saturday)
    assert clock(case, CASE_ACCEPTANCE).stop_reason == DONE


def test_a_letter_waiting_for_acceptance_has_no_handling_clock_yet() -> None:
    case = letter((A.RECEIVED, "2023-07-25 09:00"))

    assert [c.rule for c in clocks_of(case, CONFIG, CALENDAR, SHANGHAI)] == [CASE_ACCEPTANCE]


@pytest.mark.parametrize(
    ("extensions", "due", "counted", "ignored"),
    [
        ([("2023-09-20 10:00", None)], date(2023, 10, 30), 1, []),  # 90 days from 8-1
        ([("2023-09-20 10:00", 20)], date(2023, 10, 20), 1, []),  # 80 days
        ([("2023-09-20 10:00", 45)], date(2023, 10, 30), 1, []),  # capped at 30 days
        ([("2023-09-20 10:00", None), ("2023-10-25 10:00", None)], date(2023, 10, 30), 1, ["延期限1次"]),
        ([("2023-10-08 10:00", None)], date(2023, 10, 7), 0, ["期限届满后"]),  # asked after the limit
        ([("2023-10-07 18:00", None)], date(2023, 10, 30), 1, []),  # on the due day itself: in time
    ],
)
def test_a_letters_handling_limit_extends_once_by_at_most_30_days_if_asked_in_time(
    extensions: list[tuple[str, int | None]], due: date, counted: int, ignored: list[str]
) -> None:
    case = letter(
        (A.RECEIVED, "2023-07-25 09:00"),
        (A.ACCEPTED, "2023-08-01 10:00"),
        *(step(A.EXTENDED, when, extension_days=days, reason="涉及多部门核查") for when, days in extensions),
    )

    handling = clock(case, CASE_HANDLING)

    assert handling.due == due
    assert len(handling.extensions) == counted
    assert len(handling.ignored_extensions) == len(ignored)
    assert all(why in item.why_zh for why, item in zip(ignored, handling.ignored_extensions, strict=True))


def test_a_work_order_extends_in_working_days() -> None:
    case = fold_case(
        [
            step(A.RECEIVED, "2023-09-28 16:00", channel=CaseChannel.HOTLINE, category="咨询"),
            step(A.EXTENDED, "2023-10-08 09:00", channel=CaseChannel.HOTLINE, category="咨询", extension_days=2),
        ]
    )

    handling = clock(case, CASE_HANDLING)

    assert handling.due == date(2023, 10, 11)  # 3 + 2 working days from 9-28
    assert handling.extensions[0].added == Span(working_days=2)


@pytest.mark.parametrize(
    ("final", "rule", "reason"),
    [
        ((A.CONCLUDED, "2023-10-07 17:00"), CASE_HANDLING, DONE),
        ((A.CONCLUDED, "2023-10-08 09:00"), CASE_HANDLING, DONE_LATE),
        ((A.FORWARDED, "2023-09-01 09:00"), CASE_HANDLING, FORWARDED),
    ],
)
def test_a_clock_stops_when_what_it_waits_for_happens(final: tuple[CaseAction, str], rule: str, reason: str) -> None:
    case = letter((A.RECEIVED, "2023-07-25 09:00"), (A.ACCEPTED, "2023-08-01 10:00"), final)

    stopped = clock(case, rule)

    assert stopped.stop_reason == reason
    assert stopped.stopped_at == at(final[1])
    assert stopped.on_time is {DONE: True, DONE_LATE: False, FORWARDED: None}[reason]


def test_forwarding_is_the_acceptance_decision_and_no_handling_clock_starts() -> None:
    case = letter((A.RECEIVED, "2023-07-25 09:00"), (A.FORWARDED, "2023-07-27 09:00"))

    assert clock(case, CASE_ACCEPTANCE).stop_reason == DONE
    assert [c.rule for c in clocks_of(case, CONFIG, CALENDAR, SHANGHAI)] == [CASE_ACCEPTANCE]


def test_a_concluded_letter_is_to_be_revisited_and_a_revisit_stops_that_clock() -> None:
    concluded = letter(
        (A.RECEIVED, "2023-07-25 09:00"), (A.ACCEPTED, "2023-08-01 10:00"), (A.CONCLUDED, "2023-09-01 10:00")
    )
    revisited = letter(
        (A.RECEIVED, "2023-07-25 09:00"),
        (A.ACCEPTED, "2023-08-01 10:00"),
        (A.CONCLUDED, "2023-09-01 10:00"),
        (A.REVISITED, "2023-09-20 10:00"),
    )

    assert clock(concluded, CASE_REVISIT).due == date(2023, 9, 18)  # 15 days → 9-16 (Saturday) → Monday
    assert clock(concluded, CASE_REVISIT).is_running
    assert clock(revisited, CASE_REVISIT).stop_reason == DONE_LATE


# --- stages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2023, 9, 21), None),
        (date(2023, 9, 22), ("T-15", Severity.INFO, date(2023, 9, 22), 0)),
        (date(2023, 9, 30), ("T-7", Severity.WARNING, date(2023, 9, 30), 0)),
        (date(2023, 10, 4), ("T-3", Severity.WARNING, date(2023, 10, 4), 0)),
        (date(2023, 10, 7), ("T-3", Severity.WARNING, date(2023, 10, 4), 0)),  # the due day is still on time
        (date(2023, 10, 8), ("overdue", Severity.MAJOR, date(2023, 10, 8), 1)),
        (date(2023, 10, 12), ("overdue", Severity.MAJOR, date(2023, 10, 8), 1)),
        # 5 working days after 10-7 is 10-12: seriously overdue from 10-13.
        (date(2023, 10, 13), ("seriously_overdue", Severity.CRITICAL, date(2023, 10, 13), 2)),
    ],
)
def test_a_letters_handling_clock_reminds_then_is_overdue_then_seriously_overdue(
    today: date, expected: tuple[str, Severity, date, int] | None
) -> None:
    case = letter((A.RECEIVED, "2023-07-25 09:00"), (A.ACCEPTED, "2023-08-01 10:00"))

    stage = stage_on(today, clock(case, CASE_HANDLING), CONFIG, CALENDAR, SHANGHAI)

    if expected is None:
        assert stage is None
    else:
        assert stage is not None
        assert (stage.name, stage.severity, stage.since.date(), stage.step) == expected
        assert stage.since == at(f"{expected[2].isoformat()} 00:00")


@pytest.mark.parametrize(
    ("today", "stage_name"),
    [
        (date(2023, 10, 6), None),  # the holiday: a working-day reminder waits for a working day
        (date(2023, 10, 8), "T-1wd"),  # the worked Sunday is one working day before Monday's due date
        (date(2023, 10, 9), "T-1wd"),
        (date(2023, 10, 10), "overdue"),
    ],
)
def test_a_work_order_is_reminded_one_working_day_before_its_due_date(today: date, stage_name: str | None) -> None:
    case = hotline((A.RECEIVED, "2023-09-28 16:00"))

    stage = stage_on(today, clock(case, CASE_HANDLING), CONFIG, CALENDAR, SHANGHAI)

    assert (stage.name if stage else None) == stage_name


def test_a_reminder_that_would_start_on_the_day_of_receipt_is_skipped() -> None:
    case = hotline((A.RECEIVED, "2023-10-09 09:00"), limit=1)

    handling = clock(case, CASE_HANDLING)

    assert handling.due == date(2023, 10, 10)
    assert stage_on(date(2023, 10, 9), handling, CONFIG, CALENDAR, SHANGHAI) is None
    assert stage_on(date(2023, 10, 10), handling, CONFIG, CALENDAR, SHANGHAI) is None


# --- the alerts ----------------------------------------------------------------------------------


def replay(steps: list[CaseStep], days: list[date]) -> list[Change]:
    """Tick once a day at 23:59, with the case as its actions stood then; apply the signals."""
    latest: dict[str, Alert] = {}
    changes = []
    for day in days:
        now = datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=23, minutes=59)
        case = fold_case(steps, as_of=now)
        for signal in case_signals(
            case, today=day, latest=latest, config=CONFIG, calendar=CALENDAR, ladder=LADDER, zone=SHANGHAI
        ):
            change = reconcile(latest.get(signal.fingerprint), signal)
            if change is not None:
                latest[change.alert.fingerprint] = change.alert
                changes.append(change)
    return changes


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_an_overdue_work_order_climbs_the_ladder_and_resolves_late_when_concluded() -> None:
    steps = [
        step(A.RECEIVED, "2023-09-28 16:00", channel=CaseChannel.HOTLINE, category="咨询"),
        step(A.CONCLUDED, "2023-10-20 15:00", channel=CaseChannel.HOTLINE, category="咨询"),
    ]

    changes = replay(steps, days(date(2023, 9, 28), date(2023, 10, 21)))

    assert [(c.kind, c.alert.stage, c.alert.severity) for c in changes] == [
        ("raised", "T-1wd", Severity.WARNING),
        ("updated", "overdue", Severity.MAJOR),
        ("updated", "seriously_overdue", Severity.CRITICAL),
        ("resolved", "seriously_overdue", Severity.CRITICAL),
    ]
    assert [c.at for c in changes] == [
        at("2023-10-08 00:00"),
        at("2023-10-10 00:00"),
        at("2023-10-17 00:00"),  # 5 working days after 10-9 is 10-16
        at("2023-10-20 15:00"),
    ]
    assert changes[-1].reason == DONE_LATE
    assert [c.alert.title_zh[:4] for c in changes[:3]] == ["【提醒】", "【催办】", "【督办】"]
    assert changes[0].alert.labels == {"rule": CASE_HANDLING, "case_id": "XF2023-0917", "channel": "12345"}
    assert changes[1].alert.annotations["due"] == "2023-10-09"
    assert "四川省12345" in changes[1].alert.summary_zh


def test_a_letter_concluded_in_time_resolves_its_reminder_as_done() -> None:
    steps = [
        step(A.RECEIVED, "2023-09-28 16:00"),
        step(A.ACCEPTED, "2023-10-12 09:00"),
    ]

    changes = replay(steps, days(date(2023, 9, 28), date(2023, 10, 13)))

    assert [(c.kind, c.alert.labels["rule"], c.alert.stage, c.reason) for c in changes] == [
        ("raised", CASE_ACCEPTANCE, "T-3", None),  # due 10-13: reminded from 10-10
        ("resolved", CASE_ACCEPTANCE, "T-3", DONE),
    ]


def test_an_extension_recorded_in_time_moves_the_due_date_in_the_alert_text() -> None:
    case = letter(
        (A.RECEIVED, "2023-07-25 09:00"),
        (A.ACCEPTED, "2023-08-01 10:00"),
        step(A.EXTENDED, "2023-09-20 10:00", reason="涉及多部门核查"),
        step(A.EXTENDED, "2023-10-25 10:00", reason="再次延期"),
    )

    signals = case_signals(
        case, today=date(2023, 10, 31), config=CONFIG, calendar=CALENDAR, ladder=LADDER, zone=SHANGHAI
    )

    handling = next(s for s in signals if isinstance(s, Firing) and s.rule == CASE_HANDLING)
    assert handling.stage == "overdue"
    assert "已延期30日，理由：涉及多部门核查" in handling.summary_zh
    assert "延期限1次" in handling.summary_zh
    assert "10月30日" in handling.title_zh


def test_a_stopped_clock_clears_and_a_running_one_before_its_reminders_says_nothing() -> None:
    case = letter((A.RECEIVED, "2023-07-25 09:00"), (A.ACCEPTED, "2023-07-26 10:00"))

    signals = case_signals(
        case, today=date(2023, 7, 27), config=CONFIG, calendar=CALENDAR, ladder=LADDER, zone=SHANGHAI
    )

    assert len(signals) == 1
    assert isinstance(signals[0], Cleared)
    assert signals[0].reason == DONE


# --- lists and rates --------------------------------------------------------------------------------


def test_a_case_row_shows_the_running_clocks_due_date_and_whether_it_is_overdue() -> None:
    waiting = letter((A.RECEIVED, "2023-09-28 16:00"))
    late = hotline((A.RECEIVED, "2023-09-28 16:00"))
    done = letter((A.RECEIVED, "2023-07-25 09:00"), (A.ACCEPTED, "2023-08-01 10:00"), (A.CONCLUDED, "2023-09-01 10:00"))

    rows = [case_row(case, CONFIG, CALENDAR, SHANGHAI, date(2023, 10, 10)) for case in (waiting, late, done)]

    assert [(r.state, r.clock, r.due, r.overdue, r.is_open) for r in rows] == [
        ("待受理", "受理告知期限", date(2023, 10, 13), False, True),
        ("待受理", "工单办理时限", date(2023, 10, 9), True, True),
        ("已办结", "回访", date(2023, 9, 18), True, False),
    ]


def test_the_rates_count_work_orders_with_their_working_day_due_dates() -> None:
    on_time = hotline((A.RECEIVED, "2023-09-28 16:00"), (A.CONCLUDED, "2023-10-09 17:00"))
    late = hotline((A.RECEIVED, "2023-09-28 16:00"), (A.CONCLUDED, "2023-10-10 09:00"))
    forwarded = letter(
        (A.RECEIVED, "2023-09-01 09:00"), (A.ACCEPTED, "2023-09-02 09:00"), (A.FORWARDED, "2023-09-05 09:00")
    )

    summaries = [case_summary(case, CONFIG, CALENDAR, SHANGHAI) for case in (on_time, late, forwarded)]
    rate = on_time_rate(summaries, Period.month(2023, 10))

    assert [s.due for s in summaries] == [date(2023, 10, 9), date(2023, 10, 9), None]
    assert (rate.numerator, rate.denominator) == (1, 2)


# --- configuration -----------------------------------------------------------------------------------


def test_every_casework_clock_names_its_source() -> None:
    rules = [CONFIG.acceptance, *CONFIG.handling.values(), CONFIG.revisit]
    assert all(rule is not None and rule.source.strip() for rule in rules)
    assert "第三十四条" in CONFIG.handling["信访"].source
    assert "第二百零三条" in CONFIG.counting_source


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = bundled()
    node = data["casework"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("handling", "12345热线", "channels"), ["12345", "来信"]),  # 来信 under two rules
        (("handling", "信访", "channels"), ["来信", "来访"]),  # 网上信访 and 上级交办 without a rule
        (("handling", "12345热线", "category_aliases"), {"投诉": "投诉类"}),  # alias to nothing
        (("acceptance", "limit"), {"days": 15, "working_days": 10}),
        (("acceptance", "limit"), {}),
    ],
)
def test_a_broken_casework_configuration_is_refused(path: tuple[Any, ...], value: Any) -> None:
    data = _broken(path, value)

    with pytest.raises((ValidationError, ValueError)):
        parse_rules(yaml.safe_dump(data, allow_unicode=True))


def test_a_day_listed_as_both_a_local_holiday_and_a_local_workday_is_refused() -> None:
    data = _broken(("calendar", "extra_holidays"), ["2023-06-12"])
    data["casework"]["calendar"]["extra_workdays"] = ["2023-06-12"]

    with pytest.raises(ValidationError, match="2023-06-12"):
        parse_rules(yaml.safe_dump(data, allow_unicode=True))


def test_a_county_day_off_moves_due_dates() -> None:
    data = _broken(("calendar", "extra_holidays"), ["2023-10-09"])
    config = parse_rules(yaml.safe_dump(data, allow_unicode=True)).casework
    case = hotline((A.RECEIVED, "2023-09-28 16:00"))

    calendar: WorkCalendar = config.calendar.calendar()
    handling = next(c for c in clocks_of(case, config, calendar, SHANGHAI) if c.rule == CASE_HANDLING)

    assert handling.due == date(2023, 10, 10)
