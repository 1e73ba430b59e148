"""Numbers, dates and durations the way Chinese official reports write them.

Large figures use 万 (10⁴) and 亿 (10⁸) with at most two decimals, rounded half up (四舍五入), as
the plan itself does ("新建中小学校舍1.54万平方米", "资助7.02万人次", "销售额达1亿元"); figures
below 10 000 are written in full without separators ("9000平方米"). Ratios travel as fractions
and print as percentages. Dates are written 2023年6月30日, in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from duban_contracts.units import RATIO

from .periods import REPORT_TZ, require_aware

#: Shown where a figure is unknown or not applicable.
MISSING = "—"

_WAN = Decimal(10_000)
_YI = Decimal(100_000_000)


def format_number(value: float, *, decimals: int = 2) -> str:
    """A figure in 万/亿 where large: 15400 → 1.54万, 1e8 → 1亿, 260 → 260, 12.5 → 12.5."""
    amount = Decimal(repr(float(value)))
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount < _WAN:
        small = _round(amount, decimals)
        if small < _WAN:
            return sign + _plain(small)
    in_wan = _round(amount / _WAN, decimals)
    if amount < _YI and in_wan < _WAN:
        return f"{sign}{_plain(in_wan)}万"
    return f"{sign}{_plain(_round(amount / _YI, decimals))}亿"


def format_quantity(value: float | None, unit: str, *, decimals: int = 2) -> str:
    """A value in its base unit: (15400, 平方米) → 1.54万平方米; (0.9, ratio) → 90%."""
    if value is None:
        return MISSING
    if unit == RATIO:
        return format_percent(value)
    return f"{format_number(value, decimals=decimals)}{unit}"


def format_percent(ratio: float | None, *, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.9 → 90%, 0.125 → 12.5%, 1/3 → 33.3%."""
    if ratio is None:
        return MISSING
    return f"{_plain(_round(Decimal(repr(float(ratio))) * 100, decimals))}%"


def format_points(difference: float, *, decimals: int = 1) -> str:
    """A difference of two ratios in percentage points: -0.052 → 5.2个百分点."""
    return f"{_plain(_round(abs(Decimal(repr(float(difference)))) * 100, decimals))}个百分点"


def format_date_zh(day: date | datetime) -> str:
    """2023年6月30日 (an instant is read in Asia/Shanghai)."""
    local = _local_day(day)
    return f"{local.year}年{local.month}月{local.day}日"


def format_month_zh(day: date) -> str:
    return f"{day.year}年{day.month}月"


def format_short_date_zh(day: date | datetime) -> str:
    """6月30日."""
    local = _local_day(day)
    return f"{local.month}月{local.day}日"


def format_datetime_zh(instant: datetime) -> str:
    """2023年6月30日 18:05, in Asia/Shanghai."""
    local = require_aware(instant).astimezone(REPORT_TZ)
    return f"{format_date_zh(local.date())} {local:%H:%M}"


def format_as_of_zh(instant: datetime) -> str:
    """Data "as of" an instant: local midnight reads as the whole day before (截至2023年6月30日)."""
    local = require_aware(instant).astimezone(REPORT_TZ)
    if local.time() == time(0):
        return format_date_zh(local.date() - timedelta(days=1))
    return format_datetime_zh(instant)


def format_duration_zh(span: timedelta | None) -> str:
    """45分钟, 3小时20分钟, 2天4小时 — to the minute, the two largest units."""
    if span is None:
        return MISSING
    minutes = max(0, round(span.total_seconds() / 60))
    days_, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days_:
        return f"{days_}天{hours}小时" if hours else f"{days_}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"


def _local_day(day: date | datetime) -> date:
    if isinstance(day, datetime):
        return require_aware(day).astimezone(REPORT_TZ).date()
    return day


def _round(amount: Decimal, decimals: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _plain(amount: Decimal) -> str:
    """1.50 → 1.5, 2.00 → 2, never scientific notation."""
    text = f"{amount:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
