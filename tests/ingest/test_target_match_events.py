"""How an indicator or metric was matched travels from normalisation into the canonical event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nats.aio.client import Client
from pydantic import ValidationError

from duban_contracts.events import MeasurementRecorded, ProgressRecorded, Provenance, TargetMatch
from duban_contracts.plan import load_plan
from duban_contracts.topology import Topology
from duban_ingest.adapters.translate import accepted_event
from duban_ingest.app import create_app
from duban_ingest.config import IngestSettings
from duban_ingest.domain.normalise import (
    Measurement,
    NormalisationContext,
    Progress,
    Rejection,
    UnitRegistry,
    content_fingerprint,
    normalise,
)
from tests.support.bus import collecting, running

RECEIVED_AT = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
PROGRESS = {"kind": "progress", "source": "巴中二中", "value": "1000平方米", "date": "2023-06-05"}
MEASUREMENT = {"kind": "measurement", "source": "区七小", "value": "65分钟", "date": "2023-09-01"}


@pytest.fixture(scope="module")
def context() -> NormalisationContext:
    return NormalisationContext(plan=load_plan(), registry=UnitRegistry.load(), received_at=RECEIVED_AT)


def test_a_clerk_s_indicator_is_accepted_and_says_it_was_matched_by_score(context: NormalisationContext) -> None:
    progress = normalise({**PROGRESS, "indicator": "全区新建校舍1.2万平方米"}, context)
    assert isinstance(progress, Progress), progress
    assert progress.target_id == "t07_school_building_new"
    assert progress.target_match is not None
    assert progress.target_match.method == "fuzzy"
    assert progress.target_match.phrase == "全区新建校舍1.2万平方米"
    assert 0 < progress.target_match.score <= 1


def test_an_ambiguous_indicator_is_rejected_naming_each_candidate_by_phrase_and_id(
    context: NormalisationContext,
) -> None:
    rejection = normalise({**PROGRESS, "indicator": "示范幼儿园", "value": "1所"}, context)
    assert isinstance(rejection, Rejection)
    (problem,) = rejection.problems
    assert problem.code == "ambiguous_target"
    assert "申报创建省级示范幼儿园（t12_kindergarten_provincial）" in problem.candidates
    assert "t12_kindergarten_district" in problem.message_zh


def test_a_clerk_s_metric_is_accepted_and_says_how_it_was_matched(context: NormalisationContext) -> None:
    measurement = normalise({**MEASUREMENT, "metric": "每日运动时长（分钟）"}, context)
    assert isinstance(measurement, Measurement), measurement
    assert measurement.metric == "daily_exercise_minutes"
    assert measurement.target_match is not None
    assert (measurement.target_match.method, measurement.target_match.phrase) == ("fuzzy", "每日运动时长（分钟）")


def test_how_an_indicator_was_matched_is_not_part_of_the_content(context: NormalisationContext) -> None:
    by_alias = normalise({**PROGRESS, "indicator": "新建校舍"}, context)
    by_wording = normalise({**PROGRESS, "indicator": "全区新建校舍"}, context)
    assert isinstance(by_alias, Progress)
    assert isinstance(by_wording, Progress)
    assert by_alias.target_match != by_wording.target_match
    assert content_fingerprint(by_alias) == content_fingerprint(by_wording)


def test_the_events_carry_the_match(context: NormalisationContext) -> None:
    progress = normalise({**PROGRESS, "indicator": "新建校舍"}, context)
    measurement = normalise({**MEASUREMENT, "metric": "班额（人）", "value": 45}, context)
    assert isinstance(progress, Progress)
    assert isinstance(measurement, Measurement)
    progress_event = accepted_event(progress, "s-1", RECEIVED_AT, Provenance())
    measurement_event = accepted_event(measurement, "s-2", RECEIVED_AT, Provenance())
    assert isinstance(progress_event, ProgressRecorded)
    assert isinstance(measurement_event, MeasurementRecorded)
    assert progress_event.target_match == TargetMatch(method="alias", score=1.0, phrase="新建校舍")
    assert measurement_event.target_match is not None
    assert (measurement_event.target_match.method, measurement_event.target_match.phrase) == ("fuzzy", "班额（人）")
    wire = json.loads(progress_event.model_dump_json())
    assert wire["target_match"] == {"method": "alias", "score": 1.0, "phrase": "新建校舍"}


def test_an_event_without_a_match_is_still_read_and_a_match_outside_its_range_is_not(
    context: NormalisationContext,
) -> None:
    progress = normalise({**PROGRESS, "indicator": "新建校舍"}, context)
    assert isinstance(progress, Progress)
    wire = json.loads(accepted_event(progress, "s-1", RECEIVED_AT, Provenance()).model_dump_json())
    older = {key: value for key, value in wire.items() if key != "target_match"}
    assert ProgressRecorded.model_validate(older).target_match is None
    with pytest.raises(ValidationError):
        ProgressRecorded.model_validate({**wire, "target_match": {"method": "fuzzy", "score": 1.5, "phrase": "x"}})


async def test_a_clerk_s_phrase_travels_over_the_bus_as_a_matched_event(
    nc: Client, nats_url: str, namespace: str, topology: Topology, tmp_path: Path
) -> None:
    settings = IngestSettings(
        nats_url=nats_url, namespace=namespace, database_url=f"sqlite:///{tmp_path / 'ingest.db'}", home=tmp_path
    )
    runtime = create_app(settings)
    submissions = {
        "p-1": {**PROGRESS, "indicator": "全区新建校舍1.2万平方米"},
        "p-2": {**PROGRESS, "indicator": "示范幼儿园", "value": "1所"},
    }
    async with collecting(nc, topology.subjects) as out, running(runtime):
        for submission_id, body in submissions.items():
            payload = json.dumps(body, ensure_ascii=False).encode()
            await nc.jetstream().publish(
                topology.subjects.inbound_submission, payload, headers={"Nats-Msg-Id": submission_id}
            )
        await out.wait_for(lambda c: len(c.of("progress.recorded")) + len(c.of("submission.rejected")) >= 2)

    (progress,) = out.of("progress.recorded")
    assert (progress.submission_id, progress.target_id) == ("p-1", "t07_school_building_new")
    assert progress.target_match.method == "fuzzy"
    assert progress.target_match.phrase == "全区新建校舍1.2万平方米"
    (rejected,) = out.of("submission.rejected")
    assert (rejected.submission_id, rejected.code) == ("p-2", "ambiguous_target")
    assert "申报创建市级示范幼儿园（t12_kindergarten_municipal）" in rejected.reasons[0].candidates
