"""How the console shows things: labels, traffic lights, times, and the small SVG chart.

Plain functions of data (no requests, no NATS), used by the templates as filters and globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from duban_contracts.timezone import SHANGHAI


@dataclass(frozen=True)
class Light:
    """A traffic light: colour for the eye, a shape and a word for everyone else."""

    colour: str  # green, yellow, red, grey
    symbol: str
    label: str


LIGHTS = {
    "done": Light("green", "✔", "已完成"),
    "on_track": Light("green", "●", "正常推进"),
    "not_started": Light("grey", "○", "未开始"),
    "lagging": Light("yellow", "▲", "进度滞后"),
    "critical": Light("red", "■", "严重滞后"),
    "overdue": Light("red", "✖", "逾期未完成"),
}

SEVERITY_ZH = {"critical": "紧急", "major": "重要", "warning": "一般", "info": "提示"}
SEVERITY_ORDER = ("critical", "major", "warning", "info")
STATE_ZH = {"firing": "待处理", "acknowledged": "已确认", "resolved": "已解除"}
RULE_ZH = {
    "safety_incident": "安全事故",
    "late_report": "事故迟报",
    "infectious_cluster": "传染病聚集",
    "class_size": "大班额",
    "daily_exercise": "体育锻炼时长",
    "deadline": "节点到期",
    "milestone": "节点任务",
    "periodic": "定期任务",
    "coverage_shortfall": "覆盖不足",
    "target_lagging": "指标滞后",
    "target_critical": "指标严重滞后",
}
TRAIL_ZH = {
    "raised": "触发",
    "severity": "级别变为",
    "acknowledged": "确认",
    "resolved": "解除",
    "notified": "通知",
}
RESOLVE_REASON_ZH = {
    "manual": "人工解除",
    "quiet_period": "一段时间未再发生，自动解除",
    "expired": "到期自动解除",
    "done": "已按时完成",
    "done_late": "已完成（逾期）",
    "condition_cleared": "条件已消除",
}


def resolve_reason(reason: str | None) -> str:
    if reason and reason.startswith("status_"):
        return f"指标状态变为{light(reason.removeprefix('status_')).label}"
    return RESOLVE_REASON_ZH.get(reason or "", reason or "")


REPORT_KIND_ZH = {"weekly": "周报", "monthly": "月报", "quarterly": "季报", "annual": "年度总结", "adhoc": "阶段报告"}
REPORT_STATUS_ZH = {"pending": "排队中", "running": "生成中", "done": "已生成", "failed": "失败"}
FORMAT_ZH = {"html": "网页", "pdf": "PDF", "xlsx": "Excel", "md": "Markdown"}
SUBMISSION_STATUS_ZH = {"accepted": "已接收", "rejected": "已退回"}
FIELD_ZH = {
    "kind": "类别",
    "source": "报送单位",
    "indicator": "指标",
    "metric": "监测项",
    "value": "数值",
    "mode": "填报方式",
    "date": "日期",
    "note": "备注",
    "class": "班级",
    "category": "事件类别",
    "disease": "病种",
    "cases": "病例数",
    "grade": "等级",
    "deaths": "死亡人数",
    "injuries": "受伤人数",
    "occurred_at": "发生时间",
    "reported_at": "报告时间",
    "summary": "简要情况",
    "activity": "活动",
    "unit": "计量单位",
}
KIND_ZH = {"progress": "进度", "incident": "事件", "measurement": "监测", "activity": "活动"}


def light(status: str | None) -> Light:
    return LIGHTS.get(status or "", Light("grey", "○", status or "—"))


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.0f}%"


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.2f}"


def local(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time as Beijing time, e.g. 2023-06-05 08:00."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return moment.strftime(fmt)


def day(value: str | date | datetime | None) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        return local(value, "%Y-%m-%d") if "T" in value else value
    return value.strftime("%Y-%m-%d")


def counts_by(items: list[dict[str, Any]], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[str(item.get(key))] = counts.get(str(item.get(key)), 0) + 1
    return counts


@dataclass(frozen=True)
class Chart:
    """Completion against 序时进度 over time, as two SVG polylines in a 0..width × 0..height box."""

    width: int
    height: int
    actual: str
    expected: str
    first: str
    last: str
    peak: float

    @property
    def empty(self) -> bool:
        return not self.actual


def chart(points: list[dict[str, Any]], width: int = 600, height: int = 160) -> Chart:
    """One point per status change (the latest of a day wins), scaled to the year's range."""
    daily: dict[str, dict[str, Any]] = {}
    for point in points:
        daily[local(point["occurred_at"], "%Y-%m-%d")] = point
    if not daily:
        return Chart(width, height, "", "", "", "", 1.0)
    days = sorted(daily)
    start = date.fromisoformat(days[0])
    end = date.fromisoformat(days[-1])
    span = max((end - start).days, 1)
    peak = max(1.0, *(max(p["completion"], p["expected"]) for p in daily.values()))

    def line(key: str) -> str:
        coords = []
        for text in days:
            x = (date.fromisoformat(text) - start).days / span * width
            y = height - min(daily[text][key], peak) / peak * height
            coords.append(f"{x:.1f},{y:.1f}")
        if len(coords) == 1:
            coords.append(f"{width:.1f},{coords[0].split(',')[1]}")
        return " ".join(coords)

    return Chart(width, height, line("completion"), line("expected"), days[0], days[-1], peak)


def fold_trail(trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An alert's record in time order, repeated notifications to one receiver at one step told once
    with how often and until when (an unacknowledged alert is repeated every few hours)."""
    folded: list[dict[str, Any]] = []
    for item in sorted(trail, key=lambda i: i["at"]):
        last = folded[-1] if folded else None
        same = ("what", "detail", "step", "status")
        if last is not None and item["what"] == "notified" and all(last.get(k) == item.get(k) for k in same):
            last["times"] += 1
            last["until"] = item["at"]
            continue
        folded.append({**item, "times": 1, "until": item["at"]})
    return folded


def walk(view: dict[str, Any], level: str) -> list[dict[str, Any]]:
    """Every node of a status tree at `level`, in the plan's order."""
    found = [view] if view.get("level") == level else []
    for child in view.get("children", []):
        found += walk(child, level)
    return found
