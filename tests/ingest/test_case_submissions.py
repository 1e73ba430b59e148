"""Casework submissions (kind `case`): read, validated, masked and turned into `case.recorded`."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from duban_contracts.casework import CaseAction, CaseChannel, Satisfaction
from duban_contracts.events import CaseRecorded, Provenance
from duban_contracts.plan import load_plan
from duban_ingest.adapters.translate import applicable_event
from duban_ingest.domain.normalise import Case, NormalisationContext, Rejection, UnitRegistry, normalise

RECEIVED_AT = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
HOTLINE = {
    "kind": "case",
    "source": "巴中二中",
    "case_id": "GD-2023-0928-017",
    "channel": "12345",
    "action": "received",
    "at": "2023-09-28 16:30",
    "category": "投诉举报",
    "limit_working_days": 3,
}


@pytest.fixture(scope="module")
def context() -> NormalisationContext:
    return NormalisationContext(plan=load_plan(), registry=UnitRegistry.load(), received_at=RECEIVED_AT)


def test_a_hotline_work_order_is_read_with_its_own_time_limit(context: NormalisationContext) -> None:
    case = normalise(HOTLINE, context)
    assert isinstance(case, Case)
    assert (case.case_id, case.channel, case.action, case.category) == (
        "GD-2023-0928-017",
        "12345",
        "received",
        "投诉举报",
    )
    assert case.limit_working_days == 3
    assert case.occurred_at == datetime(2023, 9, 28, 16, 30, tzinfo=SHANGHAI)
    assert case.unit.name == "巴中市第二中学"


def test_chinese_keys_and_spellings_are_read(context: NormalisationContext) -> None:
    written = {
        "类型": "信访件",
        "单位": "巴中二中",
        "信访件编号": "XF-017",
        "信访渠道": "走访",
        "办理环节": "回访",
        "办理时间": "2023年10月20日",
        "满意度": "基本满意",
    }
    case = normalise(written, context)
    assert isinstance(case, Case)
    assert (case.channel, case.action, case.satisfaction) == ("来访", "revisited", "基本满意")


def test_a_case_number_tells_the_kind_even_beside_a_category(context: NormalisationContext) -> None:
    written = {key: value for key, value in HOTLINE.items() if key != "kind"}
    assert isinstance(normalise(written, context), Case)


def test_an_unknown_channel_action_or_rating_is_refused_with_the_accepted_ones(context: NormalisationContext) -> None:
    written = HOTLINE | {"channel": "微信", "action": "搁置", "satisfaction": "一般般"}
    rejection = normalise(written, context)
    assert isinstance(rejection, Rejection)
    assert rejection.codes == ("invalid_choice", "invalid_choice", "invalid_choice")
    assert rejection.kind == "case"
    assert "12345" in rejection.problems[0].candidates


@pytest.mark.parametrize(
    ("days", "code"), [(0, "implausible_value"), (400, "implausible_value"), ("2.5", "not_integer")]
)
def test_an_implausible_time_limit_is_refused(context: NormalisationContext, days: object, code: str) -> None:
    rejection = normalise(HOTLINE | {"limit_working_days": days}, context)
    assert isinstance(rejection, Rejection)
    assert rejection.codes == (code,)


def test_a_case_without_number_channel_action_or_time_is_refused(context: NormalisationContext) -> None:
    rejection = normalise({"kind": "case", "source": "巴中二中"}, context)
    assert isinstance(rejection, Rejection)
    assert rejection.codes.count("missing_field") == 4


def test_personal_data_in_free_text_is_masked(context: NormalisationContext) -> None:
    written = HOTLINE | {
        "action": "extended",
        "reason": "来电人13812345678反映情况复杂，身份证号510702198001011234，需延期",
        "note": "联系电话 0827-5261234",
    }
    case = normalise(written, context)
    assert isinstance(case, Case)
    assert case.reason is not None and case.note is not None
    assert "13812345678" not in case.reason
    assert "510702198001011234" not in case.reason
    assert "5261234" not in case.note


def test_an_accepted_case_becomes_a_case_recorded_event_that_reads_back(context: NormalisationContext) -> None:
    case = normalise(HOTLINE | {"action": "revisited", "satisfaction": "满意"}, context)
    assert isinstance(case, Case)
    event = applicable_event(case, "sub-1", RECEIVED_AT, Provenance())
    assert isinstance(event, CaseRecorded)
    assert event.channel is CaseChannel.HOTLINE
    assert event.action is CaseAction.REVISITED
    assert event.satisfaction is Satisfaction.SATISFIED
    assert event.source == event.unit.id == case.unit.id
    assert event.limit_working_days == 3
