"""信访维稳 in the leader reports: the four rates of task 25, and whether each rose above last year's.

The rates are those of `duban_contracts.casework` (办结率, 按期办结率, 满意度, 化解率), over the case
summaries the alerts service publishes (`case.summarised`: each case's dates and the due date its
clock gave). A report shows them for its own period and for the year to date, each beside the
previous year's figure (`casework_targets.yaml`) with `improved` deciding whether "进一步提高" is met
so far. Pure: the summaries and the instant are inputs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from duban_contracts.casework import RATE_NAMES, CaseChannel, CaseSummary, Period, RateName, case_rates, improved

BUNDLED_TARGETS = "casework_targets.yaml"
#: How a report names a channel where its code alone would run into a count (12345 → 12345热线).
_CHANNEL_ZH = {CaseChannel.HOTLINE: "12345热线"}


class CaseworkTargets(BaseModel):
    """Last year's rates and the gain task 25 asks for (configurable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    baseline_year: int
    baseline_source: str
    baseline: dict[RateName, float] = Field(default_factory=dict)
    min_gain: float = Field(default=0.0, ge=0, le=1)


def load_casework_targets(path: str | Path | None = None) -> CaseworkTargets:
    if path is None:
        text = resources.files(__package__).joinpath(BUNDLED_TARGETS).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return CaseworkTargets.model_validate(yaml.safe_load(text))


@dataclass(frozen=True)
class RateLine:
    """One rate: this period's and the year's to date, against last year's figure."""

    name: RateName
    period_numerator: int
    period_denominator: int
    year_numerator: int
    year_denominator: int
    baseline: float | None
    met: bool | None  # the year to date against the baseline; None while nothing counts

    @property
    def period_value(self) -> float | None:
        return self.period_numerator / self.period_denominator if self.period_denominator else None

    @property
    def year_value(self) -> float | None:
        return self.year_numerator / self.year_denominator if self.year_denominator else None

    @property
    def verdict_zh(self) -> str:
        return {True: "高于上年", False: "未高于上年", None: "暂无数据"}[self.met]


@dataclass(frozen=True)
class CaseworkSection:
    """What the 信访维稳 section shows."""

    rates: tuple[RateLine, ...]
    received: int  # cases received in the period
    by_channel: tuple[tuple[str, int], ...]  # the period's receipts by channel, in the vocabulary's order
    open_at_end: int  # still being handled at the report's instant
    overdue_at_end: int  # of those, past their due date
    baseline_year: int
    source: str

    @property
    def has_cases(self) -> bool:
        return any(line.year_denominator or line.period_denominator for line in self.rates) or self.received > 0


def casework_section(
    cases: Sequence[CaseSummary], first: date, last: date, as_of: date, targets: CaseworkTargets
) -> CaseworkSection:
    """The section for the report period [first, last] with figures as of the local day `as_of`."""
    period = Period(f"{first}–{last}", first, last)
    year = Period.year(last.year)
    in_period = case_rates(cases, period, as_of)
    to_date = case_rates(cases, year, as_of)
    lines = []
    for name in RATE_NAMES:
        now, whole = in_period[name], to_date[name]
        baseline = targets.baseline.get(name)
        lines.append(
            RateLine(
                name=name,
                period_numerator=now.numerator,
                period_denominator=now.denominator,
                year_numerator=whole.numerator,
                year_denominator=whole.denominator,
                baseline=baseline,
                met=improved(whole.value, baseline, targets.min_gain),
            )
        )
    received = [case for case in cases if first <= case.received_on <= min(last, as_of)]
    channels = Counter(case.channel for case in received)
    still_open = [
        case
        for case in cases
        if case.received_on <= as_of and not case.concluded_by(as_of) and not case.forwarded_by(as_of)
    ]
    return CaseworkSection(
        rates=tuple(lines),
        received=len(received),
        by_channel=tuple(
            (_CHANNEL_ZH.get(channel, channel.value), channels[channel]) for channel in CaseChannel if channels[channel]
        ),
        open_at_end=len(still_open),
        overdue_at_end=sum(1 for case in still_open if case.due is not None and case.due < as_of),
        baseline_year=targets.baseline_year,
        source=targets.source,
    )
