from __future__ import annotations

import pytest

from duban_reports.domain.charts import (
    MAX_X_LABELS,
    bar_chart,
    line_chart,
    nice_scale,
    progress_bar,
    stacked_bar,
)


@pytest.mark.parametrize(
    ("largest", "whole", "top", "ticks"),
    [
        (4, True, 4, (0, 1, 2, 3, 4)),
        (14, True, 15, (0, 5, 10, 15)),
        (7, True, 8, (0, 2, 4, 6, 8)),
        (0, True, 4, (0, 1, 2, 3, 4)),
        (0.55, False, 0.6, (0, 0.2, 0.4, 0.6)),
        (1.0, False, 1.0, (0, 0.25, 0.5, 0.75, 1.0)),
        (123, True, 150, (0, 50, 100, 150)),
    ],
)
def test_nice_scale_holds_the_largest_value_in_round_steps(
    largest: float, whole: bool, top: float, ticks: tuple[float, ...]
) -> None:
    scale = nice_scale(largest, whole=whole)

    assert scale.top == pytest.approx(top)
    assert scale.tick_values == pytest.approx(ticks)


def test_line_chart_spans_the_plot_and_puts_zero_on_the_axis() -> None:
    chart = line_chart(["1月", "2月", "3月"], [("实际", [0.0, 0.3, 0.6])], y_label=str, width=300, height=200)
    points = chart.series[0].points
    frame = chart.frame

    assert points[0].x == frame.left
    assert points[-1].x == frame.right
    assert points[0].y == frame.bottom
    assert points[-1].y == frame.top  # 0.6 is the top of a 0…0.6 scale
    assert chart.series[0].polyline.startswith(f"{frame.left:g},{frame.bottom:g} ")


def test_line_chart_thins_out_crowded_labels_but_keeps_the_last() -> None:
    labels = [f"W{n}" for n in range(1, 53)]

    chart = line_chart(labels, [("实际", [0.01 * n for n in range(52)])], y_label=str)

    assert len(chart.x_ticks) <= MAX_X_LABELS
    assert chart.x_ticks[0].label == "W1"
    assert chart.x_ticks[-1].label == "W52"


def test_bar_chart_bars_are_proportional_to_their_counts() -> None:
    chart = bar_chart(["4月", "5月", "6月"], [1, 2, 4])
    heights = [bar.height for bar in chart.bars]

    assert heights[1] == pytest.approx(2 * heights[0], abs=0.2)
    assert heights[2] == pytest.approx(chart.frame.plot_height)
    assert [bar.value_label for bar in chart.bars] == ["1", "2", "4"]
    assert [tick.label for tick in chart.y_ticks] == ["0", "1", "2", "3", "4"]


def test_stacked_bar_fills_the_width_and_drops_empty_parts() -> None:
    segments = stacked_bar([("done", 3), ("lagging", 0), ("overdue", 1)], width=400)

    assert [s.key for s in segments] == ["done", "overdue"]
    assert segments[0].width == 300
    assert segments[1].x == 300
    assert sum(s.width for s in segments) == pytest.approx(400)
    assert stacked_bar([("done", 0)]) == ()


def test_progress_bar_clamps_to_its_width_and_marks_the_expected_share() -> None:
    assert progress_bar(1.4, 0.5, width=100).fill == 100
    assert progress_bar(0.25, 0.5, width=100).marker == 50
    assert progress_bar(None, None, width=100).fill == 0
    assert progress_bar(None, None, width=100).marker is None
