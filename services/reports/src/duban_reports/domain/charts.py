"""Chart geometry: where the lines, bars and ticks of a report's small charts go.

Pure arithmetic in SVG user units (y grows downwards); the templates only draw what this returns.
Coordinates are rounded to 0.1 so that the same figures always give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: At most this many category labels under an axis; the rest are thinned out evenly.
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Tick:
    position: float  # x for the category axis, y for the value axis
    label: str


@dataclass(frozen=True)
class Frame:
    """The SVG canvas and, inside it, the plotting area."""

    width: float
    height: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def plot_height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class LineSeries:
    name: str
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        """The `points` attribute of an SVG polyline."""
        return " ".join(f"{svg_number(p.x)},{svg_number(p.y)}" for p in self.points)


@dataclass(frozen=True)
class LineChart:
    frame: Frame
    series: tuple[LineSeries, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value_label: str


@dataclass(frozen=True)
class BarChart:
    frame: Frame
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]


@dataclass(frozen=True)
class Segment:
    key: str
    x: float
    width: float
    value: int


@dataclass(frozen=True)
class Scale:
    """A value axis from zero: `top` is a whole number of `step`s, each a round figure."""

    top: float
    step: float

    @property
    def tick_values(self) -> tuple[float, ...]:
        count = round(self.top / self.step)
        return tuple(round(self.step * i, 9) for i in range(count + 1))


def nice_scale(largest: float, *, ticks: int = 4, whole: bool = False) -> Scale:
    """An axis that holds `largest` in about `ticks` round steps (1, 2, 2.5 or 5 × 10ⁿ; whole numbers for counts)."""
    if largest <= 0:
        return Scale(top=float(ticks) if whole else 1.0, step=1.0 if whole else 0.25)
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    candidates = (1.0, 2.0, 5.0, 10.0) if whole else (1.0, 2.0, 2.5, 5.0, 10.0)
    step = next(c * magnitude for c in candidates if raw <= c * magnitude + 1e-12)
    if whole:
        step = float(max(1, round(step)))
    return Scale(top=round(step * math.ceil(largest / step - 1e-9), 9), step=step)


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    y_label: Callable[[float], str],
    y_max: float | None = None,
    width: float = 640,
    height: float = 240,
) -> LineChart:
    """Lines over evenly spaced categories; the value axis starts at zero."""
    frame = _frame(width, height)
    scale = nice_scale(max([y_max or 0.0, *(v for _, values in series for v in values)]))
    step = frame.plot_width / max(1, len(labels) - 1)

    def place(index: int, value: float) -> Point:
        return Point(_round(frame.left + index * step), _round(_y(frame, value, scale.top)))

    drawn = tuple(LineSeries(name, tuple(place(i, value) for i, value in enumerate(values))) for name, values in series)
    x_ticks = tuple(Tick(_round(frame.left + i * step), labels[i]) for i in _thinned(len(labels)))
    return LineChart(frame, drawn, x_ticks, _y_ticks(frame, scale, y_label))


def bar_chart(
    labels: Sequence[str],
    values: Sequence[int],
    *,
    width: float = 640,
    height: float = 220,
) -> BarChart:
    """Vertical bars, one per category, with the count above each."""
    frame = _frame(width, height)
    scale = nice_scale(max([1, *values]), whole=True)
    slot = frame.plot_width / max(1, len(labels))
    bar_width = slot * 0.6
    bars = tuple(
        Bar(
            x=_round(frame.left + i * slot + (slot - bar_width) / 2),
            y=_round(_y(frame, value, scale.top)),
            width=_round(bar_width),
            height=_round(frame.bottom - _y(frame, value, scale.top)),
            label=label,
            value_label=str(value),
        )
        for i, (label, value) in enumerate(zip(labels, values, strict=True))
    )
    return BarChart(frame, bars, _y_ticks(frame, scale, lambda v: str(round(v))))


def stacked_bar(parts: Sequence[tuple[str, int]], *, width: float = 640) -> tuple[Segment, ...]:
    """Segments of one horizontal bar, proportional to the parts; empty parts get no segment."""
    total = sum(value for _, value in parts)
    if total <= 0:
        return ()
    segments: list[Segment] = []
    x = 0.0
    for key, value in parts:
        if value <= 0:
            continue
        share = width * value / total
        segments.append(Segment(key, _round(x), _round(share), value))
        x += share
    return tuple(segments)


@dataclass(frozen=True)
class ProgressBar:
    """A completion bar with a tick where 序时进度 stands."""

    width: float
    fill: float
    marker: float | None


def progress_bar(completion: float | None, expected: float | None, *, width: float = 120) -> ProgressBar:
    def along(share: float) -> float:
        return _round(width * min(max(share, 0.0), 1.0))

    return ProgressBar(width, along(completion or 0.0), None if expected is None else along(expected))


def _frame(width: float, height: float) -> Frame:
    return Frame(width=width, height=height, left=48, top=12, right=width - 16, bottom=height - 28)


def _y(frame: Frame, value: float, top_value: float) -> float:
    clamped = min(max(value, 0.0), top_value)
    return frame.bottom - frame.plot_height * clamped / top_value


def _y_ticks(frame: Frame, scale: Scale, label: Callable[[float], str]) -> tuple[Tick, ...]:
    return tuple(Tick(_round(_y(frame, value, scale.top)), label(value)) for value in scale.tick_values)


def _thinned(count: int) -> list[int]:
    """Indexes of the labels to print: all of them when few, else every k-th and always the last."""
    if count <= MAX_X_LABELS:
        return list(range(count))
    stride = math.ceil(count / MAX_X_LABELS)
    kept = list(range(0, count, stride))
    if kept[-1] != count - 1:
        kept[-1] = count - 1
    return kept


def _round(value: float) -> float:
    return round(value, 1)


def svg_number(value: float) -> str:
    """A coordinate as SVG text: one decimal at most, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
