from __future__ import annotations

from dataclasses import replace

from duban_reports.domain.content import ReportData
from duban_reports.rendering import render
from duban_reports.rendering.markdown import MAX_LATE_IN_MESSAGE
from tests.reports.report_goldens import assert_matches_golden
from tests.reports.report_samples import sample_report


def _markdown(data: ReportData | None = None) -> str:
    return render(data or sample_report(), "md").decode("utf-8")


def test_markdown_matches_its_golden_file() -> None:
    assert_matches_golden("2023-Q2_quarterly.md", render(sample_report(), "md"))


def test_markdown_is_byte_identical_when_rendered_twice() -> None:
    assert render(sample_report(), "md") == render(sample_report(), "md")


def test_markdown_fits_a_chat_message() -> None:
    # WeCom and DingTalk robots take Markdown messages of up to 4096 bytes.
    assert len(render(sample_report(), "md")) <= 4096


def test_markdown_carries_the_headline_safety_and_late_list() -> None:
    text = _markdown()

    assert text.startswith("**巴州区教育科技和体育局 2023年第二季度工作计划执行情况报告（季报）**")
    assert "计划总体完成率53.8%，序时进度54.4%，落后序时进度0.6个百分点" in text
    assert "本期发生校园安全事件9起，造成死亡1人、受伤5人" in text
    assert "【持续中】江北幼儿园 诺如病毒 11例" in text
    assert "1. 【逾期未开展】优质均衡发展工作方案：6月15日节点，逾期未开展；— 督导室" in text
    assert "【未达标】新产生大班额（班额上限）：3个班超过55人：" in text
    assert "【严重滞后】新增义务教育学位：1300个 / 2780个（完成46.8%，序时73.8%）" in text
    assert "督导室" in text


def test_markdown_lists_at_most_ten_late_targets_and_says_how_many_more() -> None:
    data = sample_report()
    late = len(data.late_targets)

    text = _markdown(data)

    assert late > MAX_LATE_IN_MESSAGE
    assert f"{MAX_LATE_IN_MESSAGE}. 【" in text
    assert f"{MAX_LATE_IN_MESSAGE + 1}. 【" not in text
    assert f"其余{late - MAX_LATE_IN_MESSAGE}项见完整报告" in text


def test_markdown_escapes_markup_in_names() -> None:
    data = sample_report()
    first_late = data.late_targets[0]
    starred = replace(first_late, metric="*重点*_任务_")
    targets = tuple(starred if row is first_late else row for row in data.targets)

    text = _markdown(replace(data, targets=targets))

    assert r"\*重点\*\_任务\_" in text
