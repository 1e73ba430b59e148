"""Label matchers, as Alertmanager reads them."""

from __future__ import annotations

import pytest

from duban_alerts.domain import MatchOp, parse_matcher

LABELS = {"rule": "infectious_cluster", "unit_id": "bz-ez", "disease": "手足口病", "note": 'say "hi"'}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ('rule="infectious_cluster"', True),
        ("rule=infectious_cluster", True),  # unquoted values are accepted
        ('rule!="infectious_cluster"', False),
        ('unit_id=~"bz-.*"', True),
        ('unit_id=~"bz"', False),  # anchored at both ends
        ('unit_id!~"bz-s.*"', True),
        ('disease=~"手足口病|麻疹"', True),
        ('class_name=""', True),  # a missing label is the empty string
        ('class_name!=""', False),
        (r'note="say \"hi\""', True),  # escaped quotes
    ],
)
def test_a_matcher_selects_labels_like_alertmanager(text: str, matches: bool) -> None:
    assert parse_matcher(text).matches(LABELS) is matches


@pytest.mark.parametrize("text", ["rule", 'rule=="x"', '9rule="x"', 'rule=~"("'])
def test_a_malformed_matcher_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"matcher|regular expression"):
        parse_matcher(text)


def test_a_matcher_prints_as_it_is_written() -> None:
    matcher = parse_matcher('severity=~"critical|major"')

    assert (matcher.name, matcher.op, matcher.value) == ("severity", MatchOp.REGEX, "critical|major")
    assert str(matcher) == 'severity=~"critical|major"'
