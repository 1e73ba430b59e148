"""Realistic, valid submissions for the pipeline benchmarks, and the events they become.

Progress reports on the plan's cumulative targets from units of the shared registry (schools and
the responsible sections), and drownings with a death (a safety incident that always raises a
critical alert at once). Every submission is checked with ingest's own `normalise` before it is
used, so the load carries no rejections unless asked to; each has different content, so none is
refused as a duplicate.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from duban_contracts.events import Provenance, derived_event_id
from duban_contracts.plan import TargetKind, load_plan
from duban_ingest.adapters.translate import accepted_event
from duban_ingest.domain.model import Incident, Progress
from duban_ingest.domain.normalise import NormalisationContext, Rejection, UnitRegistry, normalise

#: Cumulative targets schools and sections report on, with a typical single report (in the target's unit).
PROGRESS_TARGETS: dict[str, tuple[str, tuple[float, float]]] = {
    "t07_school_building_new": ("school", (20, 400)),
    "t07_school_building_repair": ("school", (20, 400)),
    "t07_sports_ground_new": ("school", (20, 300)),
    "t07_compulsory_places_new": ("school", (1, 40)),
    "t08_it_teacher_training": ("school", (1, 10)),
    "t21_staff_training": ("school", (1, 30)),
    "t26_student_aid": ("school", (1, 200)),
    "t34_fitness_events": ("section", (1, 2)),
    "t33_online_consultations": ("section", (1, 20)),
    "t36_lottery_sales": ("section", (1000, 50000)),
}
PLAN_YEAR_START = date(2023, 1, 1)
RECEIVED_AT = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Submission:
    submission_id: str
    kind: str
    body: bytes

    @property
    def incident_event_id(self) -> str:
        """The id of the `incident.reported` event ingest derives from this submission."""
        return derived_event_id(self.submission_id, "incident.reported")


class Workload:
    """Deterministic stream of valid submissions: `progress_share` of them progress, the rest incidents.

    Each body names the workload's prefix: two workloads with the same seed on one stack would
    otherwise send the same content, which ingest rightly refuses as a duplicate (`duplicate_content`),
    and an incident so refused raises no alert (it counted as infinitely late).
    """

    def __init__(self, prefix: str, *, progress_share: float = 0.8, seed: int = 2023) -> None:
        self.prefix = prefix
        self.progress_share = progress_share
        self.plan = load_plan()
        self.registry = UnitRegistry.load()
        self.context = NormalisationContext(self.plan, self.registry, RECEIVED_AT)
        self._rng = random.Random(seed)
        self._count = 0
        schools = [u for u in self.registry.all() if u.kind == "school"]
        sections = {u.name: u for u in self.registry.all() if u.kind == "section"}
        placed = {p.target.id: p for p in self.plan.placed_targets()}
        self._targets: list[tuple[str, str, list[str], tuple[float, float]]] = []
        for target_id, (who, spread) in PROGRESS_TARGETS.items():
            target = placed[target_id].target
            if target.kind is not TargetKind.CUMULATIVE_COUNT:
                raise ValueError(f"{target_id} is not a cumulative target")
            responsible = target.responsible or placed[target_id].task.responsible
            units = [u.name for u in schools] if who == "school" else [n for n in responsible if n in sections]
            self._targets.append((target_id, target.metric, units, spread))
        self._schools = [u.name for u in schools]

    def __iter__(self) -> Iterator[Submission]:
        while True:
            yield self.next()

    def take(self, count: int) -> list[Submission]:
        return [self.next() for _ in range(count)]

    def next(self, kind: str | None = None) -> Submission:
        self._count += 1
        if kind is None:
            kind = "progress" if self._rng.random() < self.progress_share else "incident"
        body = self._progress() if kind == "progress" else self._incident()
        return Submission(
            f"{self.prefix}-{self._count}", kind, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        )

    def _day(self) -> date:
        return PLAN_YEAR_START + timedelta(days=self._rng.randrange(0, 330))

    def _progress(self) -> dict[str, object]:
        _target_id, metric, units, (low, high) = self._rng.choice(self._targets)
        value = round(self._rng.uniform(low, high)) if high >= 10 else self._rng.randint(int(low), int(high))
        return {
            "kind": "progress",
            "source": self._rng.choice(units),
            "indicator": metric,
            "value": value,
            "mode": "increment",
            "date": self._day().isoformat(),
            "note": f"第{self._count}次报送（{self.prefix}）",
        }

    def _incident(self) -> dict[str, object]:
        occurred = datetime.combine(self._day(), datetime.min.time()) + timedelta(
            hours=self._rng.randint(7, 18), minutes=self._rng.randint(0, 59)
        )
        return {
            "kind": "incident",
            "source": self._rng.choice(self._schools),
            "category": "溺水",
            "grade": "一般",
            "deaths": 1,
            "injuries": 0,
            "occurred_at": occurred.strftime("%Y-%m-%d %H:%M"),
            "reported_at": (occurred + timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M"),
            "summary": f"学生课后在河边溺水（{self.prefix}第{self._count}号报告）",
        }

    def check(self, submissions: list[Submission]) -> None:
        """Every submission is accepted by ingest's normalisation (fails loudly if the plan changed)."""
        for submission in submissions:
            verdict = normalise(json.loads(submission.body), self.context)
            if isinstance(verdict, Rejection):
                problems = "; ".join(p.message_en for p in verdict.problems)
                raise ValueError(f"benchmark submission would be rejected: {submission.body.decode()}: {problems}")


def sample_payloads() -> tuple[bytes, bytes]:
    """One inbound submission and the canonical event it becomes, as the bytes on the wire."""
    workload = Workload("payload")
    submission = workload.next("progress")
    verdict = normalise(json.loads(submission.body), workload.context)
    if not isinstance(verdict, Progress | Incident):
        raise TypeError(f"unexpected verdict {verdict!r}")
    event = accepted_event(verdict, submission.submission_id, RECEIVED_AT, Provenance())
    return submission.body, event.model_dump_json().encode()


#: The workload mixes: `stress` (a fifth of the submissions incidents that raise a critical alert at
#: once), `realistic` (incidents as often as in the simulated year, the rest progress) and `incidents`.
MIXES = ("stress", "realistic", "incidents")


@cache
def year_incident_share(seed: int = 2023) -> float:
    """Of the simulated year's accepted submissions, the share that are incidents (about 2 %)."""
    from duban.simulate import simulate_year
    from duban_contracts.reporting_units import load_reporting_units

    year = simulate_year(seed, plan=load_plan(), units=load_reporting_units().units)
    kinds = [s.expected.kind for s in year.submissions if s.expected is not None]
    return sum(1 for kind in kinds if kind == "incident") / len(kinds)


def workload(prefix: str, mix: str) -> Workload:
    if mix == "stress":
        return Workload(prefix)
    if mix == "realistic":
        return Workload(prefix, progress_share=1 - year_incident_share())
    if mix == "incidents":
        return Workload(prefix, progress_share=0.0)
    raise ValueError(f"unknown mix {mix!r}: one of {', '.join(MIXES)}")
