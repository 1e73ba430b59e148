"""Micro-benchmark: how many submissions per second one core normalises.

Builds a realistic mix of 10,000 submissions (progress with 万/Chinese numerals/units, incidents,
class-size and exercise measurements, activities, Chinese and English keys, and about 8% that are
rejected), normalises them with one context (as the ingest consumer does), and prints the rate.

    .venv/bin/python -m bench.bench_normalise [--count 10000] [--repeat 5]

`python -m bench` runs it with the other benchmarks (`measure`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from duban_contracts.plan import load_plan
from duban_ingest.domain.normalise import NormalisationContext, Rejection, UnitRegistry, normalise

SCHOOLS = [
    "巴中二中",
    "巴中市第二中学",
    "区七小",
    "枣林小学",
    "水宁寺小学",
    "曾口镇中心小学",
    "江北实验小学",
    "bz-hczx",
]
SECTIONS = ["办公室", "计划财务股", "科技股", "资助中心", "体育股", "安全稳定股"]
PROGRESS: list[tuple[str, list[str | int]]] = [
    ("新建中小学校舍", ["1.2万平方米", "3000平方米", "约500㎡", "0.15万", 800]),
    ("学生资助", ["6600余人次", "1.2万人次", "三百人次", 450]),
    ("技术合同登记额", ["0.3亿元", "3000万元", "￥500000", "50万"]),
    ("补充教师", ["两名", "十二名", "26人", 8]),
    ("体育特色示范学校", ["两所", "1所", 1]),
    ("班班通", ["50套", "20台", 10]),
]
DATES = ["2023-06-05", "2023年6月5日", "6月5日", "2023/6/5", "2023-06-05 08:30", "2023-06-05T08:30:00+08:00"]
CATEGORIES = ["溺水", "交通事故", "食物中毒", "校园欺凌", "传染病", "火灾"]
ACTIVITIES = ["意识形态分析研判专题会", "第39个教师节表彰大会", "4.15国家安全教育日主题班会", "春季运动会", "宪法晨读"]


def _progress(rng: random.Random) -> dict[str, object]:
    indicator, values = rng.choice(PROGRESS)
    if rng.random() < 0.5:
        return {
            "类型": "进度",
            "单位": rng.choice(SCHOOLS + SECTIONS),
            "指标": indicator,
            "数值": rng.choice(values),
            "方式": rng.choice(["新增", "累计"]),
            "日期": rng.choice(DATES),
            "备注": "按计划推进",
        }
    return {
        "kind": "progress",
        "source": rng.choice(SCHOOLS + SECTIONS),
        "indicator": indicator,
        "value": rng.choice(values),
        "date": rng.choice(DATES),
    }


def _incident(rng: random.Random) -> dict[str, object]:
    category = rng.choice(CATEGORIES)
    incident: dict[str, object] = {
        "kind": "incident",
        "source": rng.choice(SCHOOLS),
        "category": category,
        "grade": rng.choice(["一般", "Ⅳ级", None]),
        "injuries": rng.randint(0, 3),
        "occurred_at": "2023-03-02 08:10",
        "summary": "学生张三在课间摔伤，家长电话13800138000",
    }
    if category == "传染病":
        incident |= {
            "disease": rng.choice(["流感", "甲流", "手足口"]),
            "cases": rng.randint(1, 12),
            "class": "七年级3班",
        }
    return incident


def _measurement(rng: random.Random) -> dict[str, object]:
    if rng.random() < 0.6:
        return {
            "kind": "measurement",
            "source": rng.choice(SCHOOLS),
            "metric": "班额",
            "class": f"{rng.randint(1, 9)}年级{rng.randint(1, 8)}班",
            "value": rng.randint(30, 70),
            "date": "2023-09-01",
        }
    return {
        "kind": "measurement",
        "source": rng.choice(SCHOOLS),
        "metric": "每天运动时间",
        "value": rng.choice(["1小时", "50分钟", 70]),
        "date": "2023-09-01",
    }


def _activity(rng: random.Random) -> dict[str, object]:
    return {
        "kind": "activity",
        "source": rng.choice(SECTIONS),
        "activity": rng.choice(ACTIVITIES),
        "date": "2023-09-10",
    }


def _bad(rng: random.Random) -> dict[str, object]:
    return rng.choice(
        [
            {
                "kind": "progress",
                "source": "巴中第二中学",
                "indicator": "新建校舍",
                "value": "100元",
                "date": "2023-06-05",
            },
            {"kind": "progress", "source": "区七小", "indicator": "新建教学楼", "value": "abc", "date": "2024-01-01"},
            {"kind": "incident", "source": "曾口小学", "category": "外星人", "occurred_at": "昨天"},
        ]
    )


def submissions(count: int, seed: int = 2023) -> list[dict[str, object]]:
    rng = random.Random(seed)
    makers = [_progress, _incident, _measurement, _activity, _bad]
    weights = [50, 15, 20, 7, 8]
    return [rng.choices(makers, weights)[0](rng) for _ in range(count)]


@dataclass(frozen=True)
class NormaliseResult:
    count: int
    rejected: int
    rates: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def best(self) -> float:
        return max(self.rates)


def measure(count: int = 10_000, repeat: int = 5) -> NormaliseResult:
    """Normalise `count` submissions `repeat` times on one core; the rates in messages per second."""
    context = NormalisationContext(load_plan(), UnitRegistry.load(), datetime(2023, 12, 20, 2, 0, tzinfo=UTC))
    batch = submissions(count)
    rejected = sum(isinstance(normalise(raw, context), Rejection) for raw in batch)  # also warms caches
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        for raw in batch:
            normalise(raw, context)
        rates.append(len(batch) / (time.perf_counter() - started))
    return NormaliseResult(len(batch), rejected, rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    result = measure(args.count, args.repeat)
    print(f"submissions: {result.count} ({result.rejected} rejected), repeats: {args.repeat}")
    print(f"messages/second per core: median {result.median:,.0f}, best {result.best:,.0f}")


if __name__ == "__main__":
    main()
