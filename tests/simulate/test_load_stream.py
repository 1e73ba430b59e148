"""The benchmark load: as many valid submissions as asked for, spread evenly, every one distinct."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from duban.simulate import load_stream
from duban_ingest.domain.model import content_fingerprint
from duban_ingest.domain.normalise import NormalisationContext, Rejection, normalise
from tests.simulate.pipeline import bundled_plan, registry


def test_the_stream_carries_rate_times_duration_submissions_evenly_spread() -> None:
    items = list(load_stream(1, units=10, rate_per_second=50, duration_seconds=4))

    assert len(items) == 200
    offsets = [offset for offset, _, _ in items]
    assert offsets == sorted(offsets)
    assert offsets[0] == 0
    assert offsets[-1] < 4
    assert offsets[1] - offsets[0] == pytest.approx(1 / 50)


def test_every_submission_is_valid_and_distinct_from_the_others() -> None:
    items = list(load_stream(2, units=300, rate_per_second=100, duration_seconds=5))
    context = NormalisationContext(plan=bundled_plan(), registry=registry(), received_at=datetime.now(UTC))

    read = [normalise(payload, context) for _, _, payload in items]

    assert not [r for r in read if isinstance(r, Rejection)]
    assert len({(r.unit.id, content_fingerprint(r)) for r in read if not isinstance(r, Rejection)}) == len(items)
    assert len({submission_id for _, submission_id, _ in items}) == len(items)


def test_units_are_the_registrys_schools_taken_in_turn() -> None:
    sources = [payload["source"] for _, _, payload in load_stream(3, units=4, rate_per_second=10, duration_seconds=2)]

    assert len(set(sources)) == 4
    assert sources[:4] == sources[4:8]


def test_the_same_seed_gives_the_same_stream() -> None:
    def stream(seed: int) -> list[object]:
        return list(load_stream(seed, units=5, rate_per_second=20, duration_seconds=1))

    assert stream(4) == stream(4)
    assert stream(4) != stream(5)
